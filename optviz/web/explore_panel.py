"""The "Explore" panel: basin maps, sweeps and random search as Dash background
callbacks (a progress bar, a cancel button), on the main page's surface, rows and start.

Long jobs never run in a web worker: they go to the background jobs (optviz.web.jobs:
where they run, how many, for how long). The job reads the main setup from its link
(``optviz.web.links``), so it trusts the request no more than the page does, is priced
before it starts and stopped at its time limit (jobs.JOB_SECONDS).
"""
from __future__ import annotations

import math
import time

import numpy as np
from dash import ClientsideFunction, Input, Output, State, dcc, html, no_update
from dash.exceptions import PreventUpdate

from .. import explore
from ..cost import Deadline
from ..optimizers import OPTIMIZERS
from ..scene import OptimizerSpec
from ..training import train
from . import explore_figures, network_view
from .controls import ControlError, run_controls, scene_from_controls
from .figures import row_color
from .jobs import JOB_PROCESSES, JOB_SECONDS, install_admission, job_slot, lower_priority
from .links import controls_from_query

__all__ = ["panel", "register", "compute", "EX"]


class EX:
    """Component ids of the panel."""

    kind, n, steps, trials = "ex-kind", "ex-n", "ex-steps", "ex-trials"
    n_box, trials_box = "ex-n-box", "ex-trials-box"
    run, cancel, progress, status = "ex-run", "ex-cancel", "ex-progress", "ex-status"
    graph, result, csv, download = "ex-graph", "ex-result", "ex-csv", "ex-download"
    shown = "ex-shown"            # which kind of map is on the screen (for clicks)
    client = "ex-client"          # this browser's random id (jobs.Admission: one job each)


KINDS = {"basin": "basin map (where each start ends)", "lr": "learning-rate sweep",
         "grid": "lr × β heatmap", "random": "random search"}


#: The result box before the first run (a bare dcc.Graph would draw empty axes from -1 to 6).
WAITING = {"data": [], "layout": {
    "xaxis": {"visible": False}, "yaxis": {"visible": False},
    "paper_bgcolor": "white", "plot_bgcolor": "white",
    "annotations": [{"text": "Choose a map above and press <b>run</b>.", "showarrow": False,
                     "xref": "paper", "yref": "paper", "x": 0.5, "y": 0.6,
                     "font": {"size": 15, "color": "#555"}}]}}


def panel() -> html.Details:
    return html.Details(className="explore", children=[
        html.Summary("Explore: basin maps, sweeps, random search"),
        html.P("Thousands of runs at once on this surface, with the optimizers that are on "
               "(a basin map compares the first two; a heatmap and random search use the "
               "first with a momentum or β₁). Click a cell to load its start or setting "
               "above.", className="hint"),
        html.Div(className="inline", children=[
            dcc.RadioItems(id=EX.kind, options=[{"label": v, "value": k}
                                                for k, v in KINDS.items()],
                           value="basin", inline=True, className="ex-kind"),
        ]),
        html.Div(className="inline", children=[
            # (each shown only for the kinds that use it: random search draws its
            # trials on a fixed 32 x 32 sweep; only it has trials)
            html.Label(["grid ", dcc.Dropdown(id=EX.n, options=[16, 32, 64, 128, 256],
                                              value=64, clearable=False,
                                              className="ex-dd")], id=EX.n_box),
            html.Label(["steps ", dcc.Input(id=EX.steps, type="number", min=10, max=2000,
                                            step=1, value=500, className="num")]),
            html.Label(["trials ", dcc.Input(id=EX.trials, type="number", min=1, max=4096,
                                             step=1, value=200, className="num")],
                       id=EX.trials_box, style={"display": "none"}),
            html.Button("run", id=EX.run, className="btn play"),
            html.Button("cancel", id=EX.cancel, className="btn", disabled=True),
            html.Progress(id=EX.progress, value="0", max="1", className="ex-progress"),
            html.Button("CSV", id=EX.csv, className="btn small",
                        title="download this result as CSV"),
            dcc.Download(id=EX.download),
        ]),
        html.Div(id=EX.status, className="hint", role="status"),
        dcc.Graph(id=EX.graph, className="ex-graph", figure=WAITING,
                  config={"displaylogo": False,      # (a short modebar: see explore_figures._title)
                          "modeBarButtonsToRemove": ["select2d", "lasso2d", "zoomIn2d",
                                                     "zoomOut2d", "autoScale2d"]}),
        dcc.Store(id=EX.result), dcc.Store(id=EX.shown),
        dcc.Store(id=EX.client, storage_type="session"),
    ])


def _number(value, low, high, default):
    try:
        v = int(value)
    except (TypeError, ValueError, OverflowError):
        return default
    return min(max(v, low), high)


def _tunable(names) -> str:
    """The optimizer a heatmap or random search varies: the first row with a momentum or
    beta1 (GD counts: at beta > 0 it is heavy-ball momentum)."""
    for name in names:
        if explore.has_beta(name):
            return name
    raise ControlError("explore", "explore: the lr × β heatmap and random search vary a "
                                  "momentum or β₁: turn on an optimizer that has one (GD, "
                                  "Momentum, Nesterov, RMSProp, the Adam family)")


def _swept(name: str) -> str:
    """The varied optimizer as a title names it: GD, SGD and RMSProp, whose momentum is 0
    by default, are run with momentum beta."""
    o = OPTIMIZERS[name]
    return f"{o.label} with momentum β" if o.defaults.get("momentum") == 0 else o.label


#: a network's learning-rate sweep: at most this many rates (each a training of every
#: row), and at most this many bytes of kept parameters (rows × rates × steps × D, float32)
TRAINING_RATES, TRAINING_KEPT = 16, 200e6


def _training_sweep(kind, n, steps, setup, progress):
    """(figure, csv, message) of a network's learning-rate sweep: every row trained at
    each of up to TRAINING_RATES rates from 10⁻⁴ to 10 (its other settings the page's),
    all in one training (optviz.training.train), the final test loss against α."""
    if kind != "lr":
        raise ControlError("explore", "explore: a network's training takes the learning-rate "
                                      "sweep (its final test loss against α); basin maps, "
                                      "the heatmap and random search take a surface (a "
                                      "network's slice, net:..., is one)")
    net, _, _, _ = network_view.training_network(setup.get("surface"))
    rc = run_controls(setup)
    if any(o.noise for o in rc.optimizers):
        raise ControlError("explore", "explore: a network's gradient noise is its "
                                      "minibatches (the global σ); leave each row's σ empty")
    lrs = np.logspace(-4, 1, min(_number(n, 2, TRAINING_RATES, TRAINING_RATES),
                                 TRAINING_RATES))
    if len(lrs) * (steps + 1) * net.size * 4 > TRAINING_KEPT:
        raise ControlError("explore", f"explore: {len(lrs)} rates × {steps} steps of "
                                      f"{net.size} parameters is more than a sweep keeps: "
                                      "fewer rates (grid) or steps, or a smaller network")
    t0 = time.perf_counter()
    deadline = Deadline(JOB_SECONDS, "this exploration")
    shape = (len(rc.optimizers), len(lrs))
    final, diverged = np.empty(shape), np.empty(shape, dtype=bool)
    for i, o in enumerate(rc.optimizers):        # a training a row: its rates together
        if progress:
            progress(i, len(rc.optimizers))
        rows = [OptimizerSpec(o.name, schedule=o.schedule, **{**o.hparams, "lr": float(lr)})
                for lr in lrs]
        run = train(net, rows, steps, schedule=rc.schedule, clip_norm=rc.clip_norm,
                    batch_size=network_view.batch_for(rc.noise, len(net.data.X_train)),
                    seed=rc.seed, budget=max(0.0, JOB_SECONDS - (time.perf_counter() - t0)))
        deadline.check()
        final[i] = run.test_loss[:, 0, -1]
        diverged[i] = (run.diverged_at[:, 0] >= 0) | ~np.isfinite(final[i])
    if progress:
        progress(len(rc.optimizers), len(rc.optimizers))
    result = explore.Sweep(scene=None, axes=("optimizer", "lr"),
                           values=(np.array([o.name for o in rc.optimizers]), lrs),
                           loss=final, diverged=diverged)
    labels = [o.label or OPTIMIZERS[o.name].label for o in rc.optimizers]
    fig = explore_figures.lr_figure(result, [row_color(o.name) for o in rc.optimizers],
                                    labels, what="final test loss")
    seconds = time.perf_counter() - t0
    text = result.to_csv().replace("final_loss", "final_test_loss", 1)
    return fig, text, f"{KINDS[kind]} of the network's training: {seconds:.2f} s"


def compute(kind, n, steps, trials, query, progress=None):
    """(figure, csv, message) for an exploration of the main setup (``query``)."""
    steps = _number(steps, 10, 2000, 500)
    setup, _ = controls_from_query(query if isinstance(query, str) else "")
    if network_view.is_training(setup.get("surface")):
        return _training_sweep(kind, n, steps, setup, progress)
    scene = scene_from_controls(setup)
    n = _number(n, 2, explore.MAX_MAP, 64)
    trials = _number(trials, 1, explore.MAX_SWEEP_ROWS, 200)
    surface = scene.surface
    params = dict(scene.surface_params)
    start = tuple(scene.starts[0])
    rows = list(scene.optimizers)
    names = [o.name for o in rows]
    colors = [row_color(o.name) for o in rows]
    t0 = time.perf_counter()
    # priced before it starts, stopped at the time limit (CostError, a ValueError)
    params = dict(surface_params=params, budget=JOB_SECONDS,
                  deadline=Deadline(JOB_SECONDS, "this exploration"))
    if kind == "basin":
        rows = rows[:2]
        result = explore.basin_map(surface, rows, n=n, steps=steps, progress=progress,
                                   processes=JOB_PROCESSES, **params)
        fig = explore_figures.basin_figure(result)
    elif kind == "lr":
        lrs = np.logspace(-5, 1, max(n, 8))
        result = explore.lr_sweep(surface, names, lrs, start=start, steps=steps,
                                  progress=progress, **params)
        fig = explore_figures.lr_figure(result, colors, [o.label for o in rows])
    elif kind == "grid":
        name = _tunable(names)
        side = min(n, 64)
        result = explore.grid_sweep(surface, name, np.logspace(-5, 1, side),
                                    np.linspace(0, 0.99, side), start=start, steps=steps,
                                    progress=progress, **params)
        fig = explore_figures.grid_figure(result, _swept(name))
    elif kind == "random":
        name = _tunable(names)
        # the trials over a coarse lr x beta heatmap of the same ranges (the lectures:
        # random search samples the picture a full sweep would draw)
        half = (lambda done, total: progress(done, 2 * total)) if progress else None
        grid = explore.grid_sweep(surface, name, np.logspace(-5, 1, 32),
                                  np.linspace(0, 0.99, 32), start=start, steps=steps,
                                  progress=half, **params)
        rest = (lambda done, total: progress(total + done, 2 * total)) if progress else None
        result = explore.random_search(surface, name, trials, seed=scene.seed,
                                       lr_range=(1e-5, 10.0), start=start, steps=steps,
                                       progress=rest, **params)
        fig = explore_figures.random_figure(result, _swept(name), grid)
    else:
        raise ControlError("explore", "explore: choose a kind of map")
    seconds = time.perf_counter() - t0
    return fig, result.to_csv(), f"{KINDS[kind]}: {seconds:.2f} s"


# -- figures ------------------------------------------------------------------------------

def _register_boxes(app) -> None:
    """Only the boxes a kind uses: random search has trials and no grid."""
    app.clientside_callback(
        """function (kind) {
            return [{display: kind === "random" ? "none" : ""},
                    {display: kind === "random" ? "" : "none"}];
        }""",
        Output(EX.n_box, "style"), Output(EX.trials_box, "style"), Input(EX.kind, "value"))


def register(app, ids) -> None:
    """``ids``: the main page's ids (query store, click store, lr and beta sliders)."""

    @app.callback(
        Output(EX.graph, "figure"), Output(EX.result, "data"), Output(EX.status, "children"),
        Output(EX.shown, "data"),
        Input(EX.run, "n_clicks"),
        State(EX.kind, "value"), State(EX.n, "value"), State(EX.steps, "value"),
        State(EX.trials, "value"), State(ids.query, "data"), State(EX.client, "data"),
        background=True, interval=500,      # poll for progress twice a second
        running=[(Output(EX.run, "disabled"), True, False),
                 (Output(EX.cancel, "disabled"), False, True)],
        cancel=[Input(EX.cancel, "n_clicks")],
        progress=[Output(EX.progress, "value"), Output(EX.progress, "max")],
        prevent_initial_call=True,
    )
    def run(set_progress, _clicks, kind, n, steps, trials, query, _client):
        last = [0.0]

        def progress(done, total):
            now = time.monotonic()
            if now - last[0] > 0.2 or done >= total:
                last[0] = now
                set_progress((str(done), str(total)))

        set_progress(("0", "1"))
        lower_priority()
        try:
            with job_slot():             # waits while MAX_JOBS others are running
                fig, text, message = compute(kind, n, steps, trials, query, progress)
        except ValueError as e:       # ControlError, or a setting a Scene refuses
            return no_update, no_update, str(e), no_update
        return fig, text, message, kind

    # admitted before it starts (jobs.Admission): one per browser, MAX_QUEUE in all
    output = next(k for k in app.callback_map if k.startswith(f"..{EX.graph}.figure"))
    install_admission(app.server, output, EX.client, EX.status)
    app.clientside_callback(
        ClientsideFunction("optviz", "clientId"),
        Output(EX.client, "data"), Input(EX.client, "id"), State(EX.client, "data"))
    _register_boxes(app)
    app.clientside_callback(
        """function (n, text) {
            if (!n || !text) return window.dash_clientside.no_update;
            return {content: text, filename: "optviz-explore.csv", type: "text/csv"};
        }""",
        Output(EX.download, "data"), Input(EX.csv, "n_clicks"), State(EX.result, "data"),
        prevent_initial_call=True)

    @app.callback(
        Output(ids.click, "data", allow_duplicate=True),
        Output(ids.lr, "value", allow_duplicate=True),
        Output(ids.beta1, "value", allow_duplicate=True),
        Input(EX.graph, "clickData"), State(EX.shown, "data"),
        prevent_initial_call=True,
    )
    def load(click, shown):
        """A click on a map: its start (basin map) or its setting (sweeps) above."""
        try:
            point = click["points"][0]
            x, y = float(point["x"]), float(point["y"])
            curve = int(point.get("curveNumber", 0))
        except (TypeError, KeyError, IndexError, ValueError):
            raise PreventUpdate from None
        if not (math.isfinite(x) and math.isfinite(y)):
            raise PreventUpdate
        if shown == "basin":
            return [x, y, time.time()], no_update, no_update
        if x <= 0 or shown not in ("lr", "grid", "random"):
            raise PreventUpdate
        lr = round(min(max(math.log10(x), -5.0), 1.0), 2)
        if shown == "grid" or (shown == "random" and curve in (0, 1)):   # heatmap, trials
            return no_update, lr, round(min(max(y, 0.0), 0.999), 3)
        if shown == "random":                       # the best-so-far curve: nothing to load
            raise PreventUpdate
        return no_update, lr, no_update
