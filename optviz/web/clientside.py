"""The page's clientside callbacks (assets/optviz*.js): the rows store, the side plots,
the animation, the legend and the small read-outs, all in the browser."""
from __future__ import annotations

from dash import ALL, ClientsideFunction, Input, Output, State

from .layout import ID, ROW_FIELDS, ROW_NUMBERS

__all__ = ["register_clientside", "ROW_KEYS", "ERROR_BOXES"]

#: the row controls the rows store gathers, in its order (the main callback reads them)
ROW_KEYS = ("on",) + ROW_NUMBERS + ("constant",)
#: Every error box next to a global control (row boxes are {"type": "row-err", "row": uid}).
ERROR_BOXES = [ID.lr_err, ID.beta1_err, ID.beta2_err, ID.noise_err, ID.schedule_err,
               ID.steps_err, ID.seed_err, ID.clip_err, ID.formula_err, ID.batch_err,
               ID.status]


def _row(kind):
    return {"type": ROW_FIELDS[kind], "row": ALL}


def register_clientside(app) -> None:
    # -- clientside: the rows store, side plots, animation, legend, small read-outs -------
    # Every row control, gathered into the one store the main callback reads (Dash's
    # server-side handling of seven pattern-matched lists was a fifth of a request).
    app.clientside_callback(
        ClientsideFunction("optviz", "rowsStore"),
        Output(ID.rows_store, "data"),
        [Input(_row(k), "value") for k in ROW_KEYS])
    # The side plots arrive in a store and are drawn one callback later, so that the
    # main plot, the one a student watches, is redrawn first.
    app.clientside_callback(
        ClientsideFunction("optviz", "sidePlots"),
        Output(ID.loss, "figure"), Output(ID.lr_plot, "figure"), Output(ID.gnorm, "figure"),
        Input(ID.side, "data"))
    app.clientside_callback(
        ClientsideFunction("optviz", "control"),
        Output(ID.scrub, "value"), Output(ID.scrub, "max"), Output(ID.play, "children"),
        Input(ID.play, "n_clicks"), Input(ID.step_fwd, "n_clicks"),
        Input(ID.step_back, "n_clicks"), Input(ID.restart, "n_clicks"), Input(ID.meta, "data"),
        Input(ID.speed, "value"),
        State(ID.scrub, "value"),
    )
    app.clientside_callback(
        ClientsideFunction("optviz", "draw"),
        Output(ID.drawn, "data"),
        Input(ID.scrub, "value"), Input(ID.meta, "data"),
    )
    app.clientside_callback(
        ClientsideFunction("optviz", "showErrors"),
        [Output(slot, "children") for slot in ERROR_BOXES], Output(_row("err"), "children"),
        Input(ID.errors, "data"))
    app.clientside_callback(
        ClientsideFunction("optviz", "lrText"),
        # meta too: lr.value is also an output of the main callback, so Dash skips this
        # callback's first call until a run has arrived
        Output(ID.lr_text, "children"), Input(ID.lr, "value"), Input(ID.meta, "data"))
    app.clientside_callback(
        ClientsideFunction("optviz", "noiseText"),
        Output(ID.noise_text, "children"), Input(ID.noise, "value"))
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
    # the equations are typeset (MathJax, ~100 ms) after the new paths are on the screen
    app.clientside_callback(
        ClientsideFunction("optviz", "equationsLater"),
        Output(ID.equations, "children"), Input(ID.eq_store, "data"))
    app.clientside_callback(
        ClientsideFunction("optviz", "formulaField"),
        Output(ID.formula_box, "style"), Input(ID.surface, "value"))
    app.clientside_callback(
        ClientsideFunction("optviz", "scheduleFields"),
        Output(ID.gamma_box, "style"), Output(ID.step_size_box, "style"),
        Input(ID.schedule, "value"))


