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
from .controls import ControlError, scene_from_controls
from .figures import row_color, typed
from .jobs import JOB_PROCESSES, JOB_SECONDS, install_admission, job_slot, lower_priority
from .links import controls_from_query

__all__ = ["panel", "register", "compute", "EX"]


class EX:
    """Component ids of the panel."""

    kind, n, steps, trials = "ex-kind", "ex-n", "ex-steps", "ex-trials"
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
            html.Label(["grid ", dcc.Dropdown(id=EX.n, options=[16, 32, 64, 128, 256],
                                              value=64, clearable=False,
                                              className="ex-dd")]),
            html.Label(["steps ", dcc.Input(id=EX.steps, type="number", min=10, max=2000,
                                            step=1, value=500, className="num")]),
            html.Label(["trials ", dcc.Input(id=EX.trials, type="number", min=1, max=4096,
                                             step=1, value=200, className="num")]),
            html.Button("run", id=EX.run, className="btn play"),
            html.Button("cancel", id=EX.cancel, className="btn", disabled=True),
            html.Progress(id=EX.progress, value="0", max="1", className="ex-progress"),
            html.Button("CSV", id=EX.csv, className="btn small",
                        title="download this result as CSV"),
            dcc.Download(id=EX.download),
        ]),
        html.Div(id=EX.status, className="hint", role="status"),
        dcc.Graph(id=EX.graph, className="ex-graph", figure=WAITING,
                  config={"displaylogo": False,      # (a short modebar: see _title)
                          "modeBarButtonsToRemove": ["select2d", "lasso2d", "zoomIn2d",
                                                     "zoomOut2d", "autoScale2d"]}),
        dcc.Store(id=EX.result), dcc.Store(id=EX.shown),
        dcc.Store(id=EX.client, storage_type="session"),
    ])


def _setup(query):
    """The main setup (from its link) as a validated Scene, or ControlError."""
    setup, _ = controls_from_query(query if isinstance(query, str) else "")
    return scene_from_controls(setup)


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


def compute(kind, n, steps, trials, query, progress=None):
    """(figure, csv, message) for an exploration of the main setup (``query``)."""
    scene = _setup(query)
    n = _number(n, 2, explore.MAX_MAP, 64)
    steps = _number(steps, 10, 2000, 500)
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
        fig = _basin_figure(result)
    elif kind == "lr":
        lrs = np.logspace(-5, 1, max(n, 8))
        result = explore.lr_sweep(surface, names, lrs, start=start, steps=steps,
                                  progress=progress, **params)
        fig = _lr_figure(result, colors)
    elif kind == "grid":
        name = _tunable(names)
        side = min(n, 64)
        result = explore.grid_sweep(surface, name, np.logspace(-5, 1, side),
                                    np.linspace(0, 0.99, side), start=start, steps=steps,
                                    progress=progress, **params)
        fig = _grid_figure(result, _swept(name))
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
        fig = _random_figure(result, _swept(name), grid)
    else:
        raise ControlError("explore", "explore: choose a kind of map")
    seconds = time.perf_counter() - t0
    return fig, result.to_csv(), f"{KINDS[kind]}: {seconds:.2f} s"


# -- figures ------------------------------------------------------------------------------

_MIN_COLORS = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#D55E00", "#56B4E9", "#F0E442",
               "#332288"]
_SPECIAL = {explore.DIVERGED: ("#111111", "diverged"), explore.MOVING: ("#9e9e9e", "still moving"),
            explore.ELSEWHERE: ("#e8e8e8", "stopped elsewhere")}


def _lighter(hex_color: str, f: float) -> str:
    r, g, b = (int(hex_color[i:i + 2], 16) for i in (1, 3, 5))
    return "#" + "".join(f"{int(c + (255 - c) * f):02x}" for c in (r, g, b))


def _basin_figure(m: explore.BasinMap) -> dict:
    """One heatmap per row: the colour of the minimum reached (legend), lighter for the
    starts that took longer to settle."""
    labels = [-3, -2, -1] + list(range(len(m.minima)))
    bands = len(labels)
    scale = []
    for b, lab in enumerate(labels):
        base = _SPECIAL[lab][0] if lab < 0 else _MIN_COLORS[lab % len(_MIN_COLORS)]
        lo, hi = b / bands, (b + 1) / bands
        scale += [[lo, base], [hi - 1e-9, _lighter(base, 0.6 if lab >= 0 else 0.0)]]
    scale[-1][0] = 1.0
    steps = max(int(m.scene.steps), 1)
    data, layout = [], {"margin": {"l": 50, "r": 10, "t": 40, "b": 40}, "showlegend": True,
                        "paper_bgcolor": "white", "font": {"size": 13},
                        "legend": {"orientation": "h", "y": -0.12}}
    k = len(m.scene.optimizers)
    for r, label in enumerate(m.scene.labels):
        band = np.searchsorted(labels, m.label[r])
        z = band + 0.999 * np.clip(m.steps[r] / steps, 0, 1)
        axis = "" if r == 0 else str(r + 1)
        data.append({"type": "heatmap", "x": m.xs.tolist(), "y": m.ys.tolist(),
                     "z": typed(z), "zmin": 0, "zmax": bands, "colorscale": scale,
                     "showscale": False, "xaxis": "x" + axis, "yaxis": "y" + axis,
                     "hovertemplate": "start (%{x:.3g}, %{y:.3g})<extra></extra>",
                     "name": label})
        layout["xaxis" + axis] = {"domain": [r / k + 0.02, (r + 1) / k - 0.02],
                                  "constrain": "domain"}
        layout.setdefault("annotations", []).append(
            {"text": f"<b>{label}</b>", "xref": "paper", "yref": "paper", "showarrow": False,
             "x": (r + 0.5) / k, "y": 1.0, "yanchor": "bottom", "font": {"size": 14}})
        layout["yaxis" + axis] = {"scaleanchor": "x" + axis, "anchor": "x" + axis}
    for lab in labels:                           # a legend of the basins
        color = _SPECIAL[lab][0] if lab < 0 else _MIN_COLORS[lab % len(_MIN_COLORS)]
        name = _SPECIAL[lab][1] if lab < 0 else \
            f"minimum ({m.minima[lab][0]:.3g}, {m.minima[lab][1]:.3g})"
        data.append({"type": "scatter", "x": [None], "y": [None], "mode": "markers",
                     "marker": {"symbol": "square", "size": 12, "color": color},
                     "name": name, "hoverinfo": "skip"})
    layout["title"] = _title("Where each start ends", "lighter: took longer")
    layout["margin"]["t"] = 80
    return {"data": data, "layout": layout}


def _title(head: str, note: str) -> dict:
    """A figure title: ``head`` short, so that on a phone it clears Plotly's modebar (shown
    at the top right on touch screens), and a smaller ``note`` on a second line."""
    return {"text": f"{head}<br><span style='font-size:12px;color:#555'>{note}</span>",
            "x": 0.02, "xanchor": "left", "y": 0.97, "yanchor": "top"}


def _lr_figure(s: explore.Sweep, colors) -> dict:
    lrs = s.values[1]
    data = []
    for k, name in enumerate(s.values[0]):
        loss = np.where(s.diverged[k], np.nan, np.maximum(s.loss[k], 1e-16))
        data.append({"type": "scatter", "mode": "lines+markers", "x": lrs.tolist(),
                     "y": [None if not math.isfinite(v) else float(v) for v in loss],
                     "name": str(name), "line": {"color": colors[k % len(colors)]}})
        div = lrs[s.diverged[k]]
        if len(div):                             # diverged: an x at the top of the plot
            finite = s.loss[~s.diverged]
            top = float(finite.max()) if finite.size else 1.0
            data.append({"type": "scatter", "mode": "markers", "x": div.tolist(),
                         "y": [top] * len(div), "showlegend": False, "name": f"{name} diverged",
                         "marker": {"symbol": "x", "size": 9, "color": colors[k % len(colors)]}})
    return {"data": data, "layout": {
        "title": _title("Final loss against α", "x: diverged"),
        "xaxis": {"type": "log", "title": {"text": "learning rate α"}},
        "yaxis": {"type": "log", "title": {"text": "final loss"}, "exponentformat": "power"},
        "margin": {"l": 60, "r": 10, "t": 64, "b": 45}, "paper_bgcolor": "white"}}


def _heat(s: explore.Sweep) -> dict:
    z = np.where(s.diverged, np.nan, np.log10(np.maximum(s.loss, 1e-16)))
    return {"type": "heatmap", "x": s.values[1].tolist(), "y": s.values[0].tolist(),
            "z": [[None if not math.isfinite(v) else float(v) for v in row] for row in z],
            "colorscale": "Viridis", "colorbar": {"title": {"text": "log₁₀ loss"}},
            "hovertemplate": "α %{x:.3g}, β %{y:.3g}: log₁₀ L %{z:.3g}<extra></extra>"}


def _grid_figure(s: explore.Sweep, name: str) -> dict:
    return {"data": [_heat(s)], "layout": {
        "title": _title(name, "final loss over α × β; blank: diverged"),
        "xaxis": {"type": "log", "title": {"text": "learning rate α"}},
        "yaxis": {"title": {"text": "β (momentum / β₁)"}},
        "plot_bgcolor": "#222", "margin": {"l": 60, "r": 10, "t": 64, "b": 45},
        "paper_bgcolor": "white"}}


def _random_figure(s: explore.Sweep, name: str, grid: explore.Sweep) -> dict:
    lr, beta = s.settings.T
    loss = np.where(s.diverged, np.nan, np.log10(np.maximum(s.loss, 1e-16)))
    heat = {**_heat(grid), "showscale": False, "opacity": 0.85, "hoverinfo": "skip"}
    heat.pop("hovertemplate")
    return {"data": [
        heat,                                   # under the trials
        {"type": "scatter", "mode": "markers", "x": lr.tolist(), "y": beta.tolist(),
         "marker": {"color": [None if not math.isfinite(v) else float(v) for v in loss],
                    "colorscale": "Viridis", "size": 9, "showscale": True,
                    # under the left plot, across it: between the two plots a vertical
                    # bar ran into the right plot's axis on a phone
                    "colorbar": {"title": {"text": "log₁₀ loss", "side": "top"},
                                 "orientation": "h", "x": 0.21, "xanchor": "center",
                                 "len": 0.42, "y": -0.28, "yanchor": "top",
                                 "thickness": 10, "nticks": 4},
                    "line": {"width": 1, "color": "white"}},
         "name": "trials", "hovertemplate": "α %{x:.3g}, β %{y:.3g}<extra></extra>"},
        {"type": "scatter", "mode": "lines", "x": list(range(1, len(lr) + 1)),
         "y": [None if not math.isfinite(v) else float(v) for v in s.best_so_far],
         "xaxis": "x2", "yaxis": "y2", "name": "best so far", "line": {"color": "#D55E00"}},
    ], "layout": {
        "title": _title(name, "random trials on a 32 × 32 sweep | best so far"),
        "xaxis": {"type": "log", "domain": [0, 0.42], "title": {"text": "learning rate α"}},
        "yaxis": {"title": {"text": "β"}},
        "xaxis2": {"domain": [0.6, 1], "title": {"text": "trials"}, "anchor": "y2"},
        "yaxis2": {"type": "log", "anchor": "x2", "title": {"text": "best final loss"},
                   "exponentformat": "power"},
        "showlegend": False, "margin": {"l": 60, "r": 10, "t": 64, "b": 110},
        "paper_bgcolor": "white", "plot_bgcolor": "#222"}}


# -- callbacks ---------------------------------------------------------------------------

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
