"""Callbacks: thin. Read the controls, build a Scene (optviz.controls validates), call
simulate, turn the Run into figures. Animation runs in the browser (assets/optviz.js)."""
from __future__ import annotations

import functools
import math
from typing import Any

from dash import ALL, ClientsideFunction, Input, Output, Patch, State, ctx, no_update
from dash.exceptions import PreventUpdate

from ..controls import ControlError, row_name, scene_from_controls
from ..engine import simulate
from ..surfaces import SURFACES
from . import figures
from .layout import ID, ROW_FIELDS, SUGGESTED_LR, row_panel

__all__ = ["register", "compute", "ERROR_SLOTS"]

#: Which error box shows a ControlError about which control.
ERROR_SLOTS = {"lr": ID.lr_err, "beta1": ID.beta1_err, "beta2": ID.beta2_err,
               "noise": ID.noise_err, "schedule": ID.schedule_err, "gamma": ID.schedule_err,
               "step_size": ID.schedule_err, "warmup": ID.schedule_err,
               "steps": ID.steps_err, "seed": ID.seed_err, "clip_norm": ID.clip_err}
#: Every error box next to a global control (row boxes are {"type": "row-err", "row": uid}).
ERROR_BOXES = [ID.lr_err, ID.beta1_err, ID.beta2_err, ID.noise_err, ID.schedule_err,
               ID.steps_err, ID.seed_err, ID.clip_err, ID.status]


def _rows_from(inputs: dict[str, list]) -> list[dict]:
    """Merge the pattern-matched row inputs ({id, value} lists) into row dicts by uid."""
    rows: dict[Any, dict] = {}
    for key in ("on", "lr", "beta1", "beta2"):
        for item in inputs.get(key) or []:
            uid = (item.get("id") or {}).get("row") if isinstance(item, dict) else None
            row = rows.setdefault(uid, {"uid": uid})
            value = item.get("value") if isinstance(item, dict) else None
            row[key] = bool(value) if key == "on" else value
    return list(rows.values())


@functools.lru_cache(maxsize=64)
def _simulate_cached(scene):
    return simulate(scene)


def _run(scene):
    """simulate(), remembering recent small scenes: a class opening the same demo, or a
    student sliding back to a value, costs one simulation per worker. Bounded: 64 scenes of
    at most 20,000 point-steps (about 1 MB each)."""
    small = len(scene.optimizers) * len(scene.starts) * scene.steps <= 20_000
    return _simulate_cached(scene) if small else simulate(scene)


def compute(controls: dict, previous_key: Any = None):
    """Everything the page shows for ``controls`` (a dict, see scene_from_controls plus
    ``view``). Returns (background figure, main figure, [loss, lr, gnorm] figures, meta,
    key); when ``key`` equals ``previous_key`` the two figures are ``no_update`` (2-D) or
    a Patch of the moving traces (3-D). Raises ControlError."""
    scene = scene_from_controls(controls)
    surface = scene.get_surface()
    run = _run(scene)
    uids = [r["uid"] for r in controls["rows"] if r.get("on")]
    colors = [figures.row_color(u) for u in uids]
    view = "3d" if controls.get("view") == "3d" else "2d"
    key = [scene.surface, view, uids]
    if key == previous_key:          # same surface, view and rows: send only what moved
        background = no_update
        main = no_update              # 2-D: the browser draws the paths from meta
        if view == "3d":
            main = Patch()
            for j, trace in enumerate(figures.moving_traces(surface, run, colors)):
                main["data"][figures.FIRST_ROW_TRACE - 1 + j] = trace
    else:
        background = figures.background_figure(surface) if view == "2d" else _EMPTY
        main = figures.main_figure(surface, run, colors, view=view)
    side = figures.side_figures(surface, run, colors)
    return background, main, side, figures.meta(run, uids, colors), key


_EMPTY = {"data": [], "layout": {"xaxis": {"visible": False}, "yaxis": {"visible": False},
                                 "paper_bgcolor": "white"}}


def register(app) -> None:
    row = lambda kind: {"type": ROW_FIELDS[kind], "row": ALL}

    @app.callback(
        Output(ID.background, "figure"), Output(ID.graph, "figure"), Output(ID.side, "data"),
        Output(ID.meta, "data"), Output(ID.fig_key, "data"),
        Output(ID.start, "data"), Output(ID.lr, "value"), Output(ID.teaches, "children"),
        Output(ID.errors, "data"),
        Input(ID.surface, "value"), Input(ID.view, "value"), Input(ID.lr, "value"),
        Input(ID.beta1, "value"), Input(ID.beta2, "value"), Input(ID.noise, "value"),
        Input(ID.schedule, "value"), Input(ID.gamma, "value"), Input(ID.step_size, "value"),
        Input(ID.warmup, "value"), Input(ID.steps, "value"), Input(ID.seed, "value"),
        Input(ID.clip, "value"), Input(ID.click, "data"),
        Input(row("on"), "value"), Input(row("lr"), "value"), Input(row("beta1"), "value"),
        Input(row("beta2"), "value"),
        State(ID.start, "data"), State(ID.fig_key, "data"),
    )
    def update(surface, view, lr_log10, beta1, beta2, noise, schedule, gamma, step_size,
               warmup, steps, seed, clip, click, *_rows_and_state):
        start, key = _rows_and_state[-2], _rows_and_state[-1]
        trigger = ctx.triggered_id
        # send only what changed: every output re-renders something in the page
        new_lr = new_start = teaches = no_update
        if trigger == ID.surface and isinstance(surface, str) and surface in SURFACES:
            start = new_start = key = None
            lr_log10 = new_lr = round(math.log10(SUGGESTED_LR.get(surface, 0.01)), 2)
        elif trigger == ID.click:
            start = new_start = _click_point(click)
            if start is None:
                raise PreventUpdate
        inputs = {name: ctx.args_grouping[i] for i, name in
                  zip(range(14, 18), ("on", "lr", "beta1", "beta2"))}
        rows = _rows_from(inputs)
        controls = {"surface": surface, "view": view, "lr_log10": lr_log10, "beta1": beta1,
                    "beta2": beta2, "noise": noise, "schedule": schedule, "gamma": gamma,
                    "step_size": step_size, "warmup": warmup, "steps": steps, "seed": seed,
                    "clip_norm": clip, "start": start, "rows": rows}
        try:
            background, main, side, meta, new_key = compute(controls, key)
        except ControlError as e:
            # keep the last good picture; say what is wrong next to that control
            slot = e.control if e.control.startswith("row:") else \
                ERROR_SLOTS.get(e.control, ID.status)
            return (no_update,) * 6 + (new_lr, no_update, {slot: str(e)})
        if trigger in (None, ID.surface):
            teaches = SURFACES[surface].teaches
        return (background, main, side, meta, no_update if new_key == key else new_key,
                new_start, new_lr, teaches, {})

    @app.callback(
        Output(ID.rows, "children"),
        Input(row("dup"), "n_clicks"),
        State(row("box"), "id"),
        prevent_initial_call=True,
    )
    def duplicate(clicks, boxes):
        trigger = ctx.triggered_id
        if not isinstance(trigger, dict) or not isinstance(clicks, list) or not any(clicks) \
                or not isinstance(boxes, list):
            raise PreventUpdate
        try:
            name = row_name(trigger.get("row"))
        except ControlError:
            raise PreventUpdate from None
        existing = {b.get("row") for b in boxes if isinstance(b, dict)}
        copies = sum(1 for u in existing if isinstance(u, str) and u.split("~")[0] == name)
        if len(existing) >= 40:
            raise PreventUpdate
        uid = f"{name}~{copies + 1}"
        while uid in existing:
            copies += 1
            uid = f"{name}~{copies + 1}"
        patch = Patch()
        patch.append(row_panel(uid, True))
        return patch

    # -- clientside: side plots, animation, legend, small read-outs ----------------------
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
        [Output(slot, "children") for slot in ERROR_BOXES], Output(row("err"), "children"),
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
        ClientsideFunction("optviz", "scheduleFields"),
        Output(ID.gamma_box, "style"), Output(ID.step_size_box, "style"),
        Input(ID.schedule, "value"))


def _click_point(click) -> list[float] | None:
    """The (x, y) of a click on the plot ([x, y, time] from assets/optviz.js), or None
    for anything else."""
    try:
        x, y = float(click[0]), float(click[1])
    except (TypeError, KeyError, IndexError, ValueError):
        return None
    return [x, y] if math.isfinite(x) and math.isfinite(y) else None
