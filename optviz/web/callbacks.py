"""Callbacks: thin. Read the controls, build a Scene (optviz.web.controls validates), call
simulate, turn the Run into figures. Animation runs in the browser (assets/optviz.js)."""
from __future__ import annotations

import collections
import dataclasses
import functools
import math
import os
import threading
import time
import types
from typing import Any

import numpy as np
from dash import ALL, Input, Output, Patch, State, ctx, no_update
from dash.exceptions import PreventUpdate

from ..cost import CostError
from ..cost import check as check_cost
from ..engine import Run, draws_random_numbers, simulate_within
from ..optimizers import OPTIMIZERS
from ..scenarios import SCENARIOS
from . import exports, figures, network_view
from .clientside import ROW_KEYS, register_clientside
from .controls import (
    LIVE_CONTROLS,
    MAX_ROWS_SENT,
    NET_PREFIX,
    TRAIN_PREFIX,
    ControlError,
    known_surface,
    row_name,
    scenario_controls,
    scene_from_controls,
    suggested_lr_log10,
)
from .equations import equation
from .layout import (
    ID,
    LIVE_SLIDERS,
    ROW_FIELDS,
    ROW_NUMBERS,
    more_children,
    page_rows,
    row_panel,
    rows_children,
    surface_options,
)
from .links import controls_from_query, query_from_controls
from .server import public_base
from .wheel import WHEEL_PATH

__all__ = ["register", "compute", "ERROR_SLOTS"]

#: Which error box shows a ControlError about which control.
ERROR_SLOTS = {"lr": ID.lr_err, "beta1": ID.beta1_err, "beta2": ID.beta2_err,
               "noise": ID.noise_err, "schedule": ID.schedule_err, "gamma": ID.schedule_err,
               "step_size": ID.schedule_err, "warmup": ID.schedule_err,
               "steps": ID.steps_err, "seed": ID.seed_err, "clip_norm": ID.clip_err,
               "formula": ID.formula_err, "batch_size": ID.batch_err}
#: The row controls gathered in the rows store: control type -> row key (parse_rows).
_ROW_KEYS = {ROW_FIELDS[k]: k for k in ROW_KEYS}


def _shows_rows(store, rows: list[dict]) -> bool:
    """Whether the page's row panels (its rows store) already are what the setup's
    ``rows`` would draw (page_rows: the same panels in the same order, the same ones on,
    the same overrides): then a link leaves them as they are rather than drawing all 17
    again (a 55 KB answer, the browser's re-render and one more request). Anything
    unexpected in the store answers False: drawing them again is always right."""
    page = _rows_from(store)
    if not isinstance(page, list) or not all(isinstance(r, dict) for r in page):
        return False

    def shown(row):
        def number(v):
            ok = isinstance(v, (int, float)) and not isinstance(v, bool)
            return float(v) if ok else None
        return (row.get("uid"), bool(row.get("on")), bool(row.get("constant")),
                *(number(row.get(k)) for k in ROW_NUMBERS))
    # (the panels under "more optimizers" are there once it has been opened)
    expected = [shown(r) for r in page_rows(rows)]
    return len(page) in (len(rows), len(expected)) and \
        [shown(r) for r in page] == expected[:len(page)]


def _rows_from(store) -> Any:
    """The rows store (``rowsStore`` in assets/optviz.js: ``[{row: uid, <control type>:
    value}]``, page order) as the row dicts optviz.web.controls.parse_rows validates
    (``[{uid, on, lr, ...}]``). Untrusted: anything that is not a short list of objects
    is passed on as it is, for parse_rows to refuse with its message."""
    if not isinstance(store, list) or len(store) > MAX_ROWS_SENT:
        return store
    rows = []
    for item in store:
        if not isinstance(item, dict):
            rows.append(item)
            continue
        row = {"uid": item.get("row")}
        for kind, key in _ROW_KEYS.items():
            if kind in item:
                row[key] = bool(item[kind]) if key in ("on", "constant") else item[kind]
        rows.append(row)
    return rows


#: The most one page request's run may cost, in seconds of the engine on the reference
#: machine as optviz.cost prices it (OPTVIZ_PAGE_BUDGET). With the figures and Dash, a
#: request within it takes at most about a second of CPU (benchmarks.abuse); a costlier
#: setup is refused at once with a message naming what to reduce.
PAGE_BUDGET = float(os.environ.get("OPTVIZ_PAGE_BUDGET", "0.7"))
#: ... and the deadline inside the engine's step loop that backs the price (wall-clock
#: seconds, OPTVIZ_REQUEST_SECONDS; generous, for a machine busy with a whole class).
REQUEST_SECONDS = float(os.environ.get("OPTVIZ_REQUEST_SECONDS", "4"))


@functools.lru_cache(maxsize=64)
def _simulate_cached(scene, record_state=False, check=False):
    return simulate_within(scene, PAGE_BUDGET, seconds=REQUEST_SECONDS,
                           record_state=record_state, gradient_check=check)


def _run(scene, record_state=False, check=False):
    """The page's run of ``scene`` (optviz.engine.simulate_within: priced against the
    page's budget, ControlError on "steps" if over it, and stopped at the deadline if it
    runs long), remembering recent small scenes: a class opening the same demo, or a
    student sliding back to a value, costs one simulation per worker. Bounded: 64 scenes
    of at most 20,000 point-steps (about 1 MB each, 2 MB with the inspector's state).
    Scenes that differ only in a seed that draws nothing (no noise) share an entry; the
    Run returned carries the scene asked for. A larger scene of several rows is run a
    row at a time where it can be (_run_by_rows)."""
    try:
        if len(scene.optimizers) * len(scene.starts) * scene.steps > 20_000:
            if _rows_apart(scene):
                return _run_by_rows(scene, record_state, check)
            return simulate_within(scene, PAGE_BUDGET, seconds=REQUEST_SECONDS,
                                   record_state=record_state, gradient_check=check)
        key = scene if scene.seed == 0 or draws_random_numbers(scene) else \
            scene.replace(seed=0)
        run = _simulate_cached(key, record_state, check)
    except CostError as e:
        raise CostRefused(e.control, str(e)) from None
    return run if key is scene else dataclasses.replace(run, scene=scene)


#: Rows remembered one by one, for large scenes: a slider moved on the all-optimizers
#: race changes only the rows that follow it, and the 14 that keep rates of their own
#: (L-BFGS's 0.2 s of pure-Python line searches among them) are not run again. Each
#: row's run is exactly the one it has in the whole scene: rows share nothing but the
#: gradient noise and the minibatches, one draw per step for every row (common random
#: numbers), and random search's own stream, so a scene with two random rows is not
#: split (tests/test_web.py checks every scenario). Bounded by bytes, per worker.
_ROWS: collections.OrderedDict = collections.OrderedDict()
_ROWS_BYTES = 48 * 2 ** 20
_rows_held = [0]
_rows_lock = threading.Lock()


def _rows_apart(scene) -> bool:
    return len(scene.optimizers) > 1 and len(scene.starts) == 1 and \
        sum(OPTIMIZERS[o.name].random for o in scene.optimizers) <= 1


def _row_key(scene, i, record_state, check):
    row = scene.replace(optimizers=[scene.optimizers[i]])
    if row.seed != 0 and not draws_random_numbers(row):
        row = row.replace(seed=0)
    return row, record_state, check


def _run_by_rows(scene, record_state, check):
    """``scene``'s Run, its rows from _ROWS where they are, the others run together."""
    check_cost(scene, PAGE_BUDGET, record_state=record_state, check=check)   # the whole
    keys = [_row_key(scene, i, record_state, check) for i in range(len(scene.optimizers))]
    with _rows_lock:
        parts = [_ROWS.get(k) for k in keys]
    missing = [i for i, part in enumerate(parts) if part is None]
    if missing:
        sub = scene.replace(optimizers=[scene.optimizers[i] for i in missing])
        run = simulate_within(sub, PAGE_BUDGET, seconds=REQUEST_SECONDS,
                              record_state=record_state, gradient_check=check)
        for j, i in enumerate(missing):
            parts[i] = _row_of(run, j)
    with _rows_lock:
        for k, part in zip(keys, parts):
            if k not in _ROWS:
                _rows_held[0] += sum(v.nbytes for v in _arrays(part))
            _ROWS[k] = part
            _ROWS.move_to_end(k)
        while _rows_held[0] > _ROWS_BYTES and len(_ROWS) > len(keys):
            _, old = _ROWS.popitem(last=False)
            _rows_held[0] -= sum(v.nbytes for v in _arrays(old))

    def joined(name):
        if parts[0][name] is None:
            return None
        if name != "state":
            return np.concatenate([p[name] for p in parts])
        # (NaN where a row has no such quantity, as simulate records it)
        blank = np.full((1, *parts[0]["grad"].shape[1:]), np.nan)
        names = dict.fromkeys(k for p in parts for k in p["state"])
        return {k: np.concatenate([p["state"].get(k, blank) for p in parts]) for k in names}
    return Run(scene=scene, **{name: joined(name) for name in _ROW_FIELDS})


#: what a Run holds per row, all [rows, ...] (state: a dict of them)
_ROW_FIELDS = ("path", "loss", "lr", "diverged_at", "grad", "state")


def _row_of(run, j) -> dict:
    """Row ``j`` of ``run``, copied (a slice would keep the whole run's arrays alive)."""
    part = {}
    for name in _ROW_FIELDS:
        a = getattr(run, name)
        part[name] = None if a is None else \
            {k: v[j:j + 1].copy() for k, v in a.items()} if isinstance(a, dict) else \
            a[j:j + 1].copy()
    return part


def _arrays(part):
    for v in part.values():
        if isinstance(v, dict):
            yield from v.values()
        elif v is not None:
            yield v


class CostRefused(ControlError):
    """A setup refused for what it would cost: said next to its control and under the
    plot too (on a link, the setup's first picture is that message)."""


def compute(controls: dict, previous_key: Any = None):
    """Everything the page shows for ``controls`` (a dict, see scene_from_controls plus
    ``view`` and ``inspect``). Returns (background figure, main figure, [loss, lr, gnorm]
    figures, meta, key, scene); when ``key`` equals ``previous_key`` the two figures are
    ``no_update`` (2-D: the browser draws the paths from meta), or in 3-D the main
    figure is the list of its moving traces (assets/optviz.js puts them in place).
    Raises ControlError. A network's training (``train:...``): web/network_view.py."""
    if network_view.is_training(controls.get("surface")):
        background, main, side, meta, key, scene, note = network_view.compute(
            controls, previous_key, CostRefused, PAGE_BUDGET)
        notes = [note] if note else []
        if controls.get("inspect") or controls.get("check"):
            notes.append("inspect state and gradient check are for surfaces, not for a "
                         "network's training")
        if notes:
            meta["note"] = "; ".join(notes)
        return (no_update if background is None else background,
                no_update if main is None else main, side, meta, key, scene)
    scene = scene_from_controls(controls)
    surface = scene.get_surface()
    inspect = bool(controls.get("inspect"))
    run = _run(scene, inspect, bool(controls.get("check")))
    uids = [r["uid"] for r in controls["rows"] if r.get("on")]
    colors = [figures.row_color(u) for u in uids]
    view = "3d" if controls.get("view") == "3d" else "2d"
    key = [scene.surface, view, uids]
    if key == previous_key:          # same surface, view and rows: send only what moved
        background = no_update
        main = figures.moving_traces(surface, run, colors) if view == "3d" else no_update
    else:
        background = figures.background_figure(surface) if view == "2d" else _EMPTY
        main = figures.main_figure(surface, run, colors, view=view)
    side = figures.side_figures(surface, run, colors)
    meta = figures.meta(run, uids, colors, inspect=inspect, check=bool(controls.get("check")))
    return background, main, side, meta, key, scene


def _refused_picture(controls: dict, previous_key: Any):
    """compute()'s parts for a setup refused for its cost, when its surface or view is not
    the one on the screen: the surface with no paths (None when it is on the screen, or
    for a network's training: its plane comes from the paths)."""
    if network_view.is_training(controls.get("surface")):
        return None
    scene = scene_from_controls(controls)
    view = "3d" if controls.get("view") == "3d" else "2d"
    key = [scene.surface, view, []]
    if isinstance(previous_key, list) and previous_key[:2] == key[:2]:
        return None
    surface = scene.get_surface()
    background = figures.background_figure(surface) if view == "2d" else _EMPTY
    main = figures.main_figure(surface, None, [], view=view)
    meta = figures.blank_meta(surface, scene.starts[0])
    return background, main, list(figures.blank_side(scene.steps)), meta, key, scene


_EMPTY = {"data": [], "layout": {"xaxis": {"visible": False}, "yaxis": {"visible": False},
                                 "paper_bgcolor": "white"}}


#: The global controls: setup key -> component id (property "value").
CONTROLS = {"surface": ID.surface, "view": ID.view, "lr_log10": ID.lr, "beta1": ID.beta1,
            "beta2": ID.beta2, "noise": ID.noise, "schedule": ID.schedule, "gamma": ID.gamma,
            "step_size": ID.step_size, "warmup": ID.warmup, "steps": ID.steps, "seed": ID.seed,
            "clip_norm": ID.clip, "formula": ID.formula, "formula_view": ID.formula_view,
            "formula_minima": ID.formula_minima,
            "batch_size": ID.batch}
#: Controls that only change how a run is shown: they keep the live changes.
_DISPLAY = {ID.view, ID.inspect, ID.check}
_LIVE_IDS = set(LIVE_SLIDERS)                           # the LIVE_CONTROLS' sliders
#: Controls that change the surface itself: its suggested rate and start come with it.
_SURFACE_IDS = (ID.surface, ID.formula, ID.formula_view, ID.formula_minima)


def _live_changes(trigger, live_on, live, hyper, frame, steps):
    """(base values, changes, resume frame) of the live tweaks after this request.

    ``live`` is the store: {"base": the four live controls before the first change,
    "changes": [[frame, values], ...]}. With the live switch on, turning one of those
    controls at a frame inside the run adds a change there (dropping later ones); a
    display control or a link (which sets the store) keeps them; anything else starts a
    fresh run from the controls. A display control also keeps the frame on the screen
    (inspecting a paused step shows that step, not the run's end)."""
    live = live if isinstance(live, dict) else {}
    base, changes = live.get("base"), live.get("changes") or []
    valid = isinstance(base, dict) and isinstance(changes, list)
    shown = int(frame) if trigger in _DISPLAY and isinstance(frame, (int, float)) and \
        isinstance(steps, int) and 0 <= frame <= steps else None
    if (trigger in _DISPLAY or trigger == ID.applied) and valid:
        return base, changes, shown
    if trigger in _DISPLAY:
        return hyper, [], shown
    if live_on and trigger in _LIVE_IDS and valid and isinstance(frame, (int, float)) \
            and isinstance(steps, int) and 0 < frame < steps:
        frame = int(frame)
        kept = [c for c in changes if isinstance(c, list) and c and
                isinstance(c[0], (int, float)) and c[0] < frame]
        return base, kept + [[frame, hyper]], frame
    return hyper, [], None


def _equations(scene) -> str:
    """The equation panel: each row's update rule with its numbers (MathJax)."""
    parts = []
    for o in scene.optimizers:
        sched = o.schedule or scene.schedule
        scheduled = sched is not None and (sched.name != "constant" or sched.warmup > 0)
        # one line per equation, all flush left (gathered would centre each line)
        tex = equation(o, scheduled).replace(r",\quad ", r" \\ &")
        parts.append(f"**{o.label}**\n\n$$\\begin{{aligned}}&{tex}\\end{{aligned}}$$")
    return "\n\n".join(parts)


# -- the run: every control -> a Scene -> the figures -----------------------------------------

#: What a run may set besides itself, and where: name -> (component id, property). The
#: page applies them (assets/optviz.js onRun) only when they are there (a new surface, a
#: click, a link): the main callback has one output, so that Dash does one pass over the
#: page a run, not one for each of a dozen outputs and their loading states.
SETS = {"background": (ID.background, "figure"), "main": (ID.graph, "figure"),
        "key": (ID.fig_key, "data"), "start": (ID.start, "data"), "lr": (ID.lr, "value"),
        "teaches": (ID.teaches, "children"), "live": (ID.live_store, "data"),
        "scenario": (ID.scenario, "value"), "caption": (ID.caption, "children"),
        "data": (ID.data_plot, "figure"), "data_box": (ID.data_box, "style"),
        "batch_box": (ID.batch_box, "style")}


def _sets(out: dict) -> dict:
    """{component id: {property: value}} of what ``out`` sets (not no_update)."""
    sets: dict = {}
    for name, value in out.items():
        if value is not no_update:
            cid, prop = SETS[name]
            sets.setdefault(cid, {})[prop] = value
    return sets


def update(controls, click, rows, applied, inspect, check, sliders, start, key, live_on,
           live, frame, scenario):
    """The main callback: the page's controls (or a link just applied) -> the run drawn:
    {"meta", "side", "errors", "query", "equations", "set" (SETS), "traces3d"}, or
    {"errors"} for a setup refused (the last picture stays)."""
    out = dict.fromkeys(SETS, no_update)
    controls = {**controls, **sliders}
    trigger, start, key, scenario = _what_changed(controls, click, start, key, scenario, out)
    if trigger == ID.click and network_view.is_training(controls["surface"]):
        return {"errors": {ID.status: "A network starts from its initialization (init= "
                                      "and init_seed= in its name): a click on its plane "
                                      "cannot move it."}}
    hyper = {k: controls[k] for k in LIVE_CONTROLS}
    base, changes, resume = _live_changes(trigger, bool(live_on), live, hyper, frame,
                                          controls["steps"])
    controls.update(base, changes=changes, start=start, rows=_rows_from(rows),
                    inspect=bool(inspect), check=bool(check),
                    scenario=scenario if _known(scenario) else None)
    refusal = None                      # (``except ... as e`` unbinds e when it ends)
    try:
        background, main, side, meta, new_key, scene = compute(controls, key)
    except CostRefused as e:
        refusal = e
        # a setup too costly on a surface not on the screen (a link, a new surface): that
        # surface with no paths, its lesson, the message, and the link (the downloads
        # then refuse it too); on the surface shown, the last good picture stays
        refused = _refused_picture(controls, key)
        if refused is None:
            return {"errors": _errors(e)}
        background, main, side, meta, new_key, scene = refused
    except ControlError as e:
        # the last good picture stays, and so do the controls it was drawn with (a bad
        # formula moved the α slider to the rate suggested for nothing)
        return {"errors": _errors(e)}
    if resume is not None:
        meta["resume"] = resume
    out.update(_surface_parts(scene.get_surface(), trigger, new_key != key, meta,
                              getattr(scene, "boundaries", None)))
    now_live = {"base": base, "changes": changes}
    traces3d = None
    if isinstance(main, list):                  # 3-D, same figure: its moving traces
        traces3d, main = main, no_update
    out.update(background=background, main=main,
               key=no_update if new_key == key else new_key,
               live=no_update if now_live == live else now_live)
    errors = _errors(refusal) if refusal else {}
    if meta.get("note"):                        # (a training: what it could not honour)
        errors.setdefault(ID.status, meta.pop("note"))
    answer = {"meta": meta, "side": side, "errors": errors,
              "query": query_from_controls(controls),
              "equations": _equations(scene), "set": _sets(out)}
    if traces3d is not None:
        answer["traces3d"] = {"first": figures.FIRST_ROW_TRACE - 1, "traces": traces3d}
    return answer


def _what_changed(controls, click, start, key, scenario, out):
    """(trigger, start, figure key, scenario) after what set this call off: a link just
    applied, a new surface (its own suggested rate and start; a scenario no longer
    applies), a click on the plot (a new start), a row control or any other control."""
    triggered = set(ctx.triggered_prop_ids)
    trigger = ctx.triggered_id
    if trigger == ID.rows_store or (trigger is not None and not isinstance(trigger, str)):
        trigger = "row"                  # a row control (or an id no control has)
    surface = controls["surface"]
    if f"{ID.applied}.data" in triggered:
        trigger = ID.applied
    elif trigger in _SURFACE_IDS and known_surface(surface):
        # (a network's panel changed one of its keys: the α the student set stays)
        same_kind = any(isinstance(key, list) and key and isinstance(key[0], str) and
                        key[0].startswith(p) and surface.startswith(p)
                        for p in (NET_PREFIX, TRAIN_PREFIX))
        start = out["start"] = key = None
        if not same_kind:
            controls["lr_log10"] = out["lr"] = suggested_lr_log10(surface,
                                                                  controls["formula"])
        scenario = out["scenario"] = None
        out["caption"] = ""
    elif trigger == ID.click:
        start = out["start"] = _click_point(click)
        if start is None:
            raise PreventUpdate
    return trigger, start, key, scenario


def _errors(e: ControlError) -> dict:
    """Keep the last good picture; say what is wrong next to that control (and, for a run
    refused on its cost, under the plot too)."""
    slot = e.control if e.control.startswith("row:") else ERROR_SLOTS.get(e.control, ID.status)
    if e.control == "surface" and str(e).startswith("surface."):     # a network's key
        slot = ID.net_err
    errors = {slot: str(e)}
    if isinstance(e, CostRefused):
        errors[ID.status] = str(e)
    return errors


def _surface_parts(surf, trigger, new_figure: bool, meta, data_figure=None) -> dict:
    """The surface's sentence and, for a data surface, its samples and the batch box;
    ``data_figure``: the panel's figure where the run has its own (a network's training:
    its decision boundaries)."""
    out = {}
    if trigger is None or trigger in _SURFACE_IDS or (trigger == ID.applied and new_figure):
        out["teaches"] = surf.teaches
    # (the same surface, view and rows: the same data figure, with the same colours)
    if new_figure or trigger is None:
        fig = data_figure or figures.data_figure(surf, [r["color"] for r in meta["rows"]])
        out["data"] = fig if fig is not None else _EMPTY
        out["data_box"] = {"display": "block" if fig is not None else "none"}
        out["batch_box"] = {"display": "block" if surf.dataset is not None else "none"}
    return out


# -- links and scenarios ---------------------------------------------------------------------------

def apply(link, scenario, page, more_open, now=None):
    """A link (on load, back / forward, a class's setup followed; it arrives only when it
    differs from the setup on the screen, see assets/optviz.js) or a scenario from the
    menu -> every control that changes (``now``: the controls' values on the page; the
    ones already right are left alone, so that Dash does not draw them again before the
    run). A plain load of the bare address asks nothing: the layout is that setup."""
    if ctx.triggered_id == ID.scenario:
        if not _known(scenario):
            raise PreventUpdate
        setup, problems = scenario_controls(scenario), []
    else:
        setup, problems = controls_from_query(link if isinstance(link, str) else "")
    if _shows_rows(page, setup["rows"]):
        rows, more = no_update, no_update
    else:
        rows = rows_children(setup["rows"])[0]
        more = more_children(r["uid"] for r in setup["rows"]) if more_open is True else []
    name = setup.get("scenario")
    now = now if isinstance(now, dict) else {}
    values = setup_values(setup)
    return dict(
        controls={k: no_update if k in now and now[k] == v and type(now[k]) is type(v)
                  else v for k, v in values["controls"].items()},
        start=values["start"], rows=rows, more=more, live=values["live"],
        scenario=name, caption=SCENARIOS[name].caption if name in SCENARIOS else "",
        applied=time.time(), note="; ".join(problems),
        # (a network's slice the menu does not have yet: in it, so that it shows)
        options=surface_options(setup["surface"])
        if setup["surface"] not in {o["value"] for o in surface_options()} else no_update)


def setup_values(setup: dict) -> dict:
    """What a setup puts on the page besides its rows: {"controls": {control: value}
    (the live sliders at their latest change), "start", "live": the live store}."""
    changes = setup.get("changes") or []
    shown = {**setup, **(changes[-1][1] if changes else {})}
    return {"controls": {k: shown.get(k) for k in CONTROLS} | {"view": setup.get("view") or "2d"},
            "start": setup.get("start"),
            "live": {"base": {k: setup[k] for k in LIVE_CONTROLS}, "changes": changes}}


def follow_values(query: str) -> dict:
    """A class's setup as a following page sets it without asking the server (see
    assets/optviz_class.js applySetup): ``setup_values`` keyed by component id."""
    values = setup_values(controls_from_query(query)[0])
    return {"set": {CONTROLS[k]: v for k, v in values["controls"].items()},
            "start": values["start"], "live": values["live"]}


def more_rows(is_open, page):
    """The other optimizers' panels, the first time "more optimizers" opens."""
    listed = [r.get("uid") for r in _rows_from(page) or [] if isinstance(r, dict)] \
        if isinstance(page, list) else []
    if is_open is not True or all(n in listed for n in OPTIMIZERS):
        raise PreventUpdate                       # closed, or drawn already
    return more_children(listed)


# -- downloads ------------------------------------------------------------------------------------

def download(_csv, _json, _html, _python, query):
    """The run on the screen as CSV, JSON, HTML or a Python script, recomputed from its
    link (trusted no more than any other input), named by what it holds; a setup the page
    refused is refused here too, with the same message beside the buttons."""
    setup, _ = controls_from_query(query if isinstance(query, str) else "")
    if network_view.is_training(setup.get("surface")):
        return _download_training(setup, query)
    try:
        scene = scene_from_controls(setup)
        if ctx.triggered_id == ID.python:         # the script runs it, not the server
            return dict(content=exports.run_python(scene, public_base() + WHEEL_PATH),
                        filename=exports.filename(scene, "py"),
                        type="text/x-python"), ""
        run = _run(scene)                         # within the page's budget
    except ControlError as e:
        return no_update, f"not downloaded: {e}"
    if ctx.triggered_id == ID.csv:
        return dict(content=exports.run_csv(run), filename=exports.filename(scene, "csv"),
                    type="text/csv"), ""
    if ctx.triggered_id == ID.html:
        colors = [figures.row_color(r["uid"]) for r in setup["rows"] if r.get("on")]
        return dict(content=exports.run_html(run, colors),
                    filename=exports.filename(scene, "html"), type="text/html"), ""
    return dict(content=exports.run_json(run), filename=exports.filename(scene, "json"),
                type="application/json"), ""


def _download_training(setup: dict, query: str):
    """A network's training as CSV or JSON (its curves, its paths on the plane, its
    gradient norms: exports.training_csv, training_json) or a script that trains it again
    with optviz and torch.optim (exports.training_python); trained again from its link as
    the page trains it and within the same price."""
    if ctx.triggered_id not in (ID.csv, ID.json, ID.python):
        return no_update, ("not downloaded: a network's training downloads as CSV, JSON "
                           "or a Python script; HTML takes a surface (a network's slice, "
                           "net:..., is one)")
    try:
        t, _, rc = network_view.trained(setup, CostRefused, PAGE_BUDGET)
    except ControlError as e:
        return no_update, f"not downloaded: {e}"
    run = t.run
    what = types.SimpleNamespace(optimizers=run.optimizers, steps=run.steps, changes=[],
                                 surface=f"train-{run.network.data.name}")   # (its name)
    if ctx.triggered_id == ID.python:
        n = len(run.network.data.X_train)
        script = exports.training_python(
            run, network_view.keys_of(t.surface.name), schedule=rc.schedule,
            clip_norm=rc.clip_norm, seed=rc.seed, wheel_url=public_base() + WHEEL_PATH,
            batch_size=network_view.batch_for(rc.noise, n),
            changes=network_view.changes_for(rc, n))
        return dict(content=script, filename=exports.filename(what, "py"),
                    type="text/x-python"), ""
    if ctx.triggered_id == ID.csv:
        return dict(content=exports.training_csv(t), filename=exports.filename(what, "csv"),
                    type="text/csv"), ""
    return dict(content=exports.training_json(t, {"link": query}),
                filename=exports.filename(what, "json"), type="application/json"), ""


# -- rows -----------------------------------------------------------------------------------------

def _row(kind):
    """Every row's control of ``kind`` (a pattern-matching id)."""
    return {"type": ROW_FIELDS[kind], "row": ALL}


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


def register(app) -> None:
    """Wire the page's server callbacks (module-level functions above, their inputs and
    outputs below) and its clientside ones (optviz.web.clientside)."""
    app.callback(**_RUN)(update)
    app.callback(**_APPLY)(apply)
    app.callback(*_DOWNLOAD, prevent_initial_call=True)(download)
    app.callback(*_DUPLICATE, prevent_initial_call=True)(duplicate)
    app.callback(*_MORE, prevent_initial_call=True)(more_rows)
    register_clientside(app)


#: the run: every control in, one store out (its parts: update's docstring)
_RUN = dict(
    output=Output(ID.run, "data"),
    inputs=dict(
        controls={k: Input(i, "value") for k, i in CONTROLS.items() if i not in _LIVE_IDS},
        click=Input(ID.click, "data"),
        rows=Input(ID.rows_store, "data"),
        applied=Input(ID.applied, "data"), inspect=Input(ID.inspect, "value"),
        check=Input(ID.check, "value")),
    # the sliders that follow a drag: the page asks for their runs itself (assets/optviz.js,
    # askAhead: Dash's pass over the page before and after each request is not on a moving
    # slider's way); a link or a class sets them with ``applied``, which asks for the run
    state=dict(sliders={k: State(i, "value") for k, i in CONTROLS.items() if i in _LIVE_IDS},
               start=State(ID.start, "data"), key=State(ID.fig_key, "data"),
               live_on=State(ID.live, "value"), live=State(ID.live_store, "data"),
               frame=State(ID.scrub, "value"), scenario=State(ID.scenario, "value")))


#: a link or a scenario: every control out
_APPLY = dict(
    output=dict(
        controls={k: Output(i, "value", allow_duplicate=True) for k, i in CONTROLS.items()},
        start=Output(ID.start, "data", allow_duplicate=True),
        rows=Output(ID.rows, "children", allow_duplicate=True),
        more=Output(ID.more_rows, "children"),
        live=Output(ID.live_store, "data", allow_duplicate=True),
        scenario=Output(ID.scenario, "value"), caption=Output(ID.caption, "children"),
        applied=Output(ID.applied, "data"), note=Output(ID.link_note, "children"),
        options=Output(ID.surface, "options")),
    inputs=dict(link=Input(ID.link, "data"), scenario=Input(ID.scenario, "value")),
    state=dict(page=State(ID.rows_store, "data"), more_open=State(ID.more, "open"),
               now={k: State(i, "value") for k, i in CONTROLS.items()}),
    prevent_initial_call=True)


#: "more optimizers" opened: its panels
_MORE = (
    Output(ID.more_rows, "children", allow_duplicate=True),
    Input(ID.more, "open"),
    State(ID.rows_store, "data"))


#: the download buttons
_DOWNLOAD = (
    Output(ID.download, "data"), Output(ID.link_note, "children", allow_duplicate=True),
    Input(ID.csv, "n_clicks"), Input(ID.json, "n_clicks"), Input(ID.html, "n_clicks"),
    Input(ID.python, "n_clicks"),
    State(ID.query, "data"))


#: a row's duplicate button
_DUPLICATE = (
    Output(ID.rows, "children"),
    Input(_row("dup"), "n_clicks"),
    State(_row("box"), "id"))


def _known(scenario) -> bool:
    """Whether an (untrusted) value names a scenario."""
    return isinstance(scenario, str) and scenario in SCENARIOS


def _click_point(click) -> list[float] | None:
    """The (x, y) of a click on the plot ([x, y, time] from assets/optviz.js), or None
    for anything else; to 4 significant digits (a pixel is ~1/800 of the view: the
    browser's 16 digits only made the link long)."""
    try:
        x, y = float(click[0]), float(click[1])
    except (TypeError, KeyError, IndexError, ValueError):
        return None
    if not (math.isfinite(x) and math.isfinite(y)):
        return None
    return [float(f"{x:.4g}"), float(f"{y:.4g}")]
