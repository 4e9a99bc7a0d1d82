"""The page's clientside callbacks (assets/optviz*.js): the rows store, the animation and
the small read-outs, all in the browser. (A run's answer is drawn by assets/optviz.js as
it arrives, before Dash takes it: no callback of Dash's in between.)"""
from __future__ import annotations

from dash import ALL, ClientsideFunction, Input, Output, State

from .layout import ID, NET_FIELDS, ROW_FIELDS, ROW_NUMBERS

__all__ = ["register_clientside", "ROW_KEYS"]

#: the row controls the rows store gathers, in its order (the main callback reads them)
ROW_KEYS = ("on",) + ROW_NUMBERS + ("constant",)
def _row(kind):
    return {"type": ROW_FIELDS[kind], "row": ALL}


def register_clientside(app) -> None:
    # -- clientside: the rows store, the animation, small read-outs ---------------------------
    # Every row control, gathered into the one store the main callback reads (Dash's
    # server-side handling of seven pattern-matched lists was a fifth of a request).
    app.clientside_callback(
        ClientsideFunction("optviz", "rowsStore"),
        Output(ID.rows_store, "data"),
        [Input(_row(k), "value") for k in ROW_KEYS])
    app.clientside_callback(
        ClientsideFunction("optviz", "control"),
        Output(ID.scrub, "value"), Output(ID.scrub, "max"), Output(ID.play, "children"),
        Input(ID.play, "n_clicks"), Input(ID.step_fwd, "n_clicks"),
        Input(ID.step_back, "n_clicks"), Input(ID.restart, "n_clicks"),
        Input(ID.speed, "value"),
        State(ID.scrub, "value"),
        prevent_initial_call=True,
    )
    app.clientside_callback(
        ClientsideFunction("optviz", "draw"),
        Output(ID.drawn, "data"),
        Input(ID.scrub, "value"),
    )
    # α's box (α itself) -> the slider (log10 α); the slider writes the box back
    # (assets/optviz.js, lrMoved)
    app.clientside_callback(
        ClientsideFunction("optviz", "lrBox"),
        Output(ID.lr, "value", allow_duplicate=True), Input(ID.lr_box, "value"),
        State(ID.lr, "value"), prevent_initial_call=True)
    app.clientside_callback(
        ClientsideFunction("optviz", "resample"),
        Output(ID.seed, "value"), Input(ID.resample, "n_clicks"), prevent_initial_call=True)
    app.clientside_callback(
        ClientsideFunction("optviz", "pushLink"),
        Output(ID.pushed, "data"), Input(ID.query, "data"), prevent_initial_call=True)
    # (Back / Forward set ID.link from a popstate listener in assets/optviz.js)
    app.clientside_callback(
        ClientsideFunction("optviz", "linkAtLoad"),
        Output(ID.link, "data"), Input(ID.link, "id"))
    app.clientside_callback(
        ClientsideFunction("optviz", "formulaField"),
        Output(ID.formula_box, "style"), Input(ID.surface, "value"))
    # a network's panel <-> the surface's name (one callback: each sets the other)
    app.clientside_callback(
        ClientsideFunction("optvizNet", "networkBox"),
        Output(ID.surface, "value", allow_duplicate=True),
        Output(ID.surface, "options", allow_duplicate=True),
        Output(ID.net_box, "hidden"), Output(ID.net_summary, "children"),
        *[Output(i, "value") for i in NET_FIELDS.values()],
        Output(NET_FIELDS["plane"], "options"),
        Input(ID.surface, "value"),
        *[Input(i, "value") for i in NET_FIELDS.values()],
        State(ID.surface, "options"), State(ID.net_keys, "data"), prevent_initial_call=True)
    app.clientside_callback(
        ClientsideFunction("optviz", "scheduleFields"),
        Output(ID.gamma_box, "style"), Output(ID.step_size_box, "style"),
        Input(ID.schedule, "value"))


