"""From the page's control values to a Scene: the web layer's one validation point.

The page sends flat, untrusted values (a hostile client can POST anything). This module
turns them into a :class:`~optviz.scene.Scene` under the page's own, tighter budget, or
raises :class:`ControlError` naming the *control* that is wrong, so the page can show the
message next to that control and keep the last good picture. It imports no Dash.

How the global controls reach the optimizer rows (each row may override them):

* ``lr`` (alpha) is every row's learning rate.
* ``beta1`` (mu / beta1) is the momentum of momentum and nesterov (and of sgd) and the
  first-moment decay of the Adam family; plain gd has no momentum and keeps none.
* ``beta2`` (beta2 / rho) is the second-moment decay of the Adam family, RMSProp's
  ``alpha`` and Adadelta's ``rho``.
"""
from __future__ import annotations

import copy
import functools
import math
import numbers
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..formula import FormulaError, formula_surface
from ..networks import NetworkError
from ..networks.slice import MAX_LENGTH as NET_MAX_LENGTH
from ..networks.slice import PREFIX as NET_PREFIX
from ..networks.slice import named_slice
from ..optimizers import OPTIMIZERS
from ..plots import GRID_SECONDS as GRID_BUDGET
from ..plots import MIN_GRID, grid_seconds
from ..scenarios import SCENARIOS
from ..scene import DEFAULT_OPTIMIZERS, Change, OptimizerSpec, Scene, SceneError, ScheduleSpec
from ..schedules import SCHEDULES
from ..surfaces import SURFACES

__all__ = ["ControlError", "scene_from_controls", "PAGE_LIMITS", "row_uid", "row_name",
           "REFERENCE_NOISE", "batch_size_for", "parse_changes", "LIVE_CONTROLS",
           "ROW_OVERRIDES", "DEFAULTS", "SUGGESTED_LR", "default_controls", "FORMULA",
           "known_surface", "NET_PREFIX", "TRAIN_PREFIX", "run_controls", "RunControls",
           "suggested_lr_log10", "MAX_ROWS_SENT", "alpha", "scenario_controls",
           "controls_for_scene", "SPEEDS"]

#: The page's budget: small enough that any request answers in well under a second.
PAGE_LIMITS = {"steps": (1, 5000), "rows": 24, "lr_log10": (-5.0, 1.0), "beta": (0.0, 0.999),
               "noise": (0.0, 20.0), "seed": (0, 2**31 - 1), "warmup": (0, 4999),
               "step_size": (1, 5000), "gamma": (0.01, 1.0), "coord": 1e3,
               "weight_decay": (0.0, 10.0), "changes": 20}
#: Rows a page may send (on or off): at most PAGE_LIMITS["rows"] copies plus one panel
#: per optimizer; a longer list is refused unread.
MAX_ROWS_SENT = PAGE_LIMITS["rows"] + len(OPTIMIZERS)
#: The play bar's speeds, steps per 1/30 s (a projector's playback is one of them too).
SPEEDS = (1, 2, 5, 10, 25)
#: The global controls a live change may turn (see scene_from_controls).
LIVE_CONTROLS = ("lr_log10", "beta1", "beta2", "noise")
#: The surface menu's entry for the student's own formula (text in the "formula" control)
FORMULA = "formula"
DEFAULT_FORMULA = "x**2 + 3*sin(y)*x"
#: Per-sample gradient noise used to express the noise slider as a batch size:
#: std(minibatch gradient) = REFERENCE_NOISE / sqrt(batch size).
REFERENCE_NOISE = 4.0


#: A learning rate that shows every default optimizer moving without diverging on each
#: surface (chosen by sweeping; the slider jumps there when the surface changes).
SUGGESTED_LR = {"bowl": 0.03, "ill_conditioned": 0.03, "rotated_quadratic": 0.03,
                "saddle": 0.003, "rosenbrock": 0.001, "beale": 0.003, "himmelblau": 0.01,
                "three_hump_camel": 0.01, "rastrigin": 0.01, "ackley": 0.1,
                "local_minimum": 0.01, "plateau_cliff": 0.03, "formula": 0.01,
                "data_linear": 0.05, "data_logistic": 0.3, "data_sigmoid_net": 0.3}

DEFAULTS = {"surface": "ill_conditioned", "beta1": 0.9, "beta2": 0.999, "noise": 0.0,
            "schedule": "constant", "gamma": 0.5, "step_size": 100, "warmup": 0,
            "steps": 300, "seed": 0}


def alpha(lr_log10: float) -> float:
    """α at the log slider's value, to three significant digits: the slider's 0.01 steps
    are 2.3 % apart, so each step has its own α, and a setup's α comes back as written
    (log10(0.48) -> 0.48, not 0.4799997). The browser shows the same three digits."""
    return float(f"{10 ** lr_log10:.3g}")


#: a network trained in all its parameters, seen on a plane (web/network_view.py)
TRAIN_PREFIX = "train:"
TRAIN_MAX_LENGTH = 300
#: α for a network's training: GD and momentum train the lectures' small MLPs at 0.1;
#: and its steps (each a forward and backward pass of every row; momentum fits XOR in 200)
TRAIN_LR = 0.1
TRAIN_STEPS = 200


def known_surface(name: Any) -> bool:
    """A surface the page can show: a built-in one, the student's formula ("formula",
    its text in its own box), a network's exact slice named ``net:...``
    (optviz.networks.slice; its keys are checked where every control is checked), or a
    network's training named ``train:...`` (web/network_view.py)."""
    return isinstance(name, str) and (
        name in SURFACES or name == FORMULA or
        (name.startswith(NET_PREFIX) and len(name) <= NET_MAX_LENGTH) or
        (name.startswith(TRAIN_PREFIX) and len(name) <= TRAIN_MAX_LENGTH))


def suggested_lr_log10(surface: str, formula: Any = None) -> float:
    """The lr slider's value for a surface: the sweep's choice for the built-in ones;
    for a formula 0.5 / (largest Hessian eigenvalue over the start and the minima), a
    rate at which plain GD is stable near those points, within [1e-4, 0.1]."""
    if isinstance(surface, str) and surface.startswith(TRAIN_PREFIX):
        return math.log10(TRAIN_LR)
    if isinstance(surface, str) and surface.startswith(NET_PREFIX):
        try:                            # a network's slice: as a formula's, at its start
            surf = named_slice(surface)
        except NetworkError:
            return -2.0
        return math.log10(float(f"{surf.suggested_lr():.2g}"))
    if surface != FORMULA:
        return math.log10(SUGGESTED_LR.get(surface, 0.01))
    try:
        surf = formula_surface(formula if isinstance(formula, str) else "")
    except FormulaError:
        return -2.0
    return math.log10(float(f"{surf.suggested_lr():.2g}"))


def default_controls(surface: str | None = None) -> dict[str, Any]:
    """The page's starting setup (on ``surface``, default ill_conditioned): the lecture's
    six optimizers on, every other control at its default."""
    surface = surface if known_surface(surface) else DEFAULTS["surface"]
    steps = {"steps": TRAIN_STEPS} if surface.startswith(TRAIN_PREFIX) else {}
    return {**DEFAULTS, **steps, "surface": surface, "view": "2d", "formula": DEFAULT_FORMULA,
            "lr_log10": suggested_lr_log10(surface)
            if surface.startswith((NET_PREFIX, TRAIN_PREFIX))
            else math.log10(SUGGESTED_LR.get(surface, 0.01)),
            "clip_norm": None, "start": None, "changes": [], "batch_size": None,
            "rows": [{"uid": n, "on": True} for n in DEFAULT_OPTIMIZERS]}


def batch_size_for(noise: float) -> float:
    """Equivalent batch size of gradient noise ``noise`` (inf for no noise)."""
    return math.inf if noise <= 0 else (REFERENCE_NOISE / noise) ** 2


class ControlError(ValueError):
    """A control's value is invalid; ``control`` says which (e.g. "lr", "row:adam~2")."""

    def __init__(self, control: str, message: str):
        super().__init__(message)
        self.control = control


def row_uid(name: str, copy: int = 1) -> str:
    """Id of a row of the page: the optimizer name, and ``~k`` for its k-th copy."""
    return name if copy == 1 else f"{name}~{copy}"


def row_name(uid: Any) -> str:
    """The optimizer of row ``uid`` (untrusted), or ControlError."""
    name = uid.split("~", 1)[0] if isinstance(uid, str) else None
    if name not in OPTIMIZERS or len(uid) > 40:
        raise ControlError("rows", f"unknown optimizer row {str(uid)[:40]!r}")
    return name


def _num(control, value, low, high, what="a number"):
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            raise ControlError(control, f"{control}: '{value[:20]}' is not {what}; "
                                        f"allowed [{low:g}, {high:g}]") from None
    if value is None:                 # an empty box (or one the browser found invalid)
        raise ControlError(control, f"{control}: enter {what} in [{low:g}, {high:g}]")
    if not isinstance(value, numbers.Real) or isinstance(value, bool) \
            or not math.isfinite(value) or not low <= value <= high:
        raise ControlError(control, f"{control}: {repr(value)[:20]} is not {what} in "
                                    f"[{low:g}, {high:g}]")
    return float(value)


def _lr_log10(value) -> float:
    """The α slider's value (log10 α), checked; the message speaks of α itself."""
    lo, hi = PAGE_LIMITS["lr_log10"]
    try:
        return _num("lr", value, lo, hi)
    except ControlError:
        shown = f"α = {10 ** value:.3g} " if isinstance(value, (int, float)) and \
            not isinstance(value, bool) and math.isfinite(value) and abs(value) < 300 else ""
        allowed = f"[{10 ** lo:g}, {10 ** hi:g}]"
        raise ControlError("lr", f"lr: {shown}is not in {allowed}" if shown else
                           f"lr: enter a learning rate α in {allowed}") from None


def _int(control, value, low, high):
    v = _num(control, value, low, high, "a whole number")
    if not v.is_integer():
        raise ControlError(control, f"{control}: {v:g} is not a whole number in "
                                    f"[{low}, {high}]")
    return int(v)


def _hyper_for(name: str, lr: float, beta1: float, beta2: float,
               weight_decay: float | None = None) -> dict:
    """The hyperparameters of a row of ``name`` at the page's knobs: α always, λ where it
    has one, μ/β₁ and β₂/ρ where its entry follows them (``Optimizer.knobs``)."""
    opt = OPTIMIZERS[name]
    hp: dict[str, Any] = {"lr": lr}
    if weight_decay is not None and "weight_decay" in opt.hyper:
        hp["weight_decay"] = weight_decay
    betas = list(opt.defaults.get("betas", (0.0, 0.0)))
    for knob, value in (("beta1", beta1), ("beta2", beta2)):
        target = opt.knobs.get(knob)
        if target is None:
            continue
        if target.startswith("betas."):
            betas[int(target[-1])] = value
            hp["betas"] = tuple(betas)
        else:
            hp[target] = value
    return hp


@dataclass(frozen=True)
class Row:
    """One optimizer row of the page, as sent (validated)."""

    uid: str
    name: str
    lr: float | None = None
    beta1: float | None = None
    beta2: float | None = None
    noise: float | None = None           # sigma of this row's gradient noise
    weight_decay: float | None = None    # lambda (torch's default where None)
    constant: bool = False               # True: a constant rate, whatever the schedule


#: Row overrides: key -> (label in messages, range)
ROW_OVERRIDES = {"lr": ("α", (10 ** PAGE_LIMITS["lr_log10"][0], 10 ** PAGE_LIMITS["lr_log10"][1])),
                 "beta1": ("μ / β1", PAGE_LIMITS["beta"]),
                 "beta2": ("β2 / ρ", PAGE_LIMITS["beta"]),
                 "noise": ("σ", PAGE_LIMITS["noise"]),
                 "weight_decay": ("λ", PAGE_LIMITS["weight_decay"])}


def parse_rows(rows: Any) -> list[Row]:
    """Validate the rows the page sent: ``[{uid, on, lr, beta1, beta2, noise,
    weight_decay, constant}]``; returns the enabled rows (overrides None where the row
    follows the global control)."""
    if not isinstance(rows, list) or len(rows) > MAX_ROWS_SENT:
        raise ControlError("rows", "rows: expected a short list of optimizer rows")
    out, seen = [], set()
    for r in rows:
        if not isinstance(r, dict):
            raise ControlError("rows", "rows: each row must be an object")
        uid = r.get("uid")
        name = row_name(uid)
        if uid in seen:
            raise ControlError("rows", f"rows: row {uid!r} appears twice")
        seen.add(uid)
        if not r.get("on"):
            continue
        ctl = f"row:{uid}"
        over: dict[str, Any] = {}
        for key, (label, (low, high)) in ROW_OVERRIDES.items():
            v = r.get(key)
            over[key] = None if v is None or v == "" else \
                _num(ctl, v, low, high, f"a valid {label}")
        over["constant"] = r.get("constant") is True or r.get("constant") == ["on"]
        out.append(Row(uid, name, **over))
    if len(out) > PAGE_LIMITS["rows"]:
        raise ControlError("rows", f"rows: at most {PAGE_LIMITS['rows']} rows can be on")
    if not out:
        raise ControlError("rows", "Turn on at least one optimizer.")
    return out


@dataclass(frozen=True)
class RunControls:
    """What the page's controls say of a run whatever it runs on (a surface or a
    network's training): the rows as OptimizerSpecs, the schedule and the rest."""

    optimizers: list
    schedule: ScheduleSpec
    steps: int
    noise: float
    seed: int
    clip_norm: float | None
    changes: list


def run_controls(c: dict) -> RunControls:
    """The rows, schedule, steps, noise, seed, clipping and live changes of controls
    ``c`` (see :func:`scene_from_controls`), or ControlError naming the control."""
    lr = alpha(_lr_log10(c.get("lr_log10")))
    beta1 = _num("beta1", c.get("beta1"), *PAGE_LIMITS["beta"])
    beta2 = _num("beta2", c.get("beta2"), *PAGE_LIMITS["beta"])
    noise = _num("noise", c.get("noise"), *PAGE_LIMITS["noise"])
    steps = _int("steps", c.get("steps"), *PAGE_LIMITS["steps"])
    seed = _int("seed", c.get("seed"), *PAGE_LIMITS["seed"])
    schedule = c.get("schedule") or "constant"
    if not isinstance(schedule, str) or schedule not in SCHEDULES:
        raise ControlError("schedule", f"schedule: unknown schedule {str(schedule)[:30]!r}")
    warmup = _int("warmup", c.get("warmup") or 0, *PAGE_LIMITS["warmup"])
    if warmup >= steps:
        raise ControlError("warmup", f"warmup: {warmup} must be less than the {steps} steps")
    params = {}
    if schedule in ("step", "exponential"):
        params["gamma"] = _num("gamma", c.get("gamma"), *PAGE_LIMITS["gamma"])
    if schedule == "step":
        params["step_size"] = _int("step_size", c.get("step_size"), *PAGE_LIMITS["step_size"])
    clip = c.get("clip_norm")
    clip = None if clip in (None, "", 0) else _num("clip_norm", clip, 1e-3, 1e3)
    rows = parse_rows(c.get("rows"))

    labels = [_label(r, rows, lr) for r in rows]    # (kept through live changes)

    def specs_for(lr, beta1, beta2):
        return [OptimizerSpec(
            r.name, label=label,
            schedule=ScheduleSpec("constant") if r.constant else None, noise=r.noise,
            **_hyper_for(r.name, r.lr if r.lr is not None else lr,
                         r.beta1 if r.beta1 is not None else beta1,
                         r.beta2 if r.beta2 is not None else beta2, r.weight_decay))
            for r, label in zip(rows, labels)]

    changes = [Change(step, specs_for(alpha(v["lr_log10"]), v["beta1"], v["beta2"]), v["noise"])
               for step, v in parse_changes(c.get("changes"), steps)]
    return RunControls(specs_for(lr, beta1, beta2),
                       ScheduleSpec(schedule, warmup=warmup, **params), steps, noise, seed,
                       clip, changes)


def scene_from_controls(c: dict) -> Scene:
    """Build the Scene the page's controls describe, or raise ControlError.

    ``c`` keys: surface (a name, or "formula" with the text in ``formula``), rows,
    lr_log10, beta1, beta2, noise, schedule, step_size, gamma, warmup, steps, seed,
    start ([x, y] or None), clip_norm (None or a number), changes, batch_size (None:
    the full batch; data surfaces only).
    """
    if not isinstance(c, dict):
        raise ControlError("scene", "controls: expected an object")
    surface, surf, view = _surface_of(c)
    run = run_controls(c)
    batch = c.get("batch_size")
    if batch in (None, "") or surf.dataset is None:
        batch = None                    # full batch (or a surface without samples)
    else:
        batch = _int("batch_size", batch, 1, surf.dataset.n)
    start = c.get("start")
    if start is None:
        start = surf.default_start
    else:
        lim = PAGE_LIMITS["coord"]
        if not isinstance(start, (list, tuple)) or len(start) != 2:
            raise ControlError("start", "start: expected a point [x, y]")
        start = tuple(_num("start", v, -lim, lim) for v in start)
    if surface.startswith("formula:"):
        _finite_at(surf, start, "formula" if c.get("start") is None else "start")
    try:
        return Scene(surface, run.optimizers, starts=[start], steps=run.steps,
                     surface_params=view, schedule=run.schedule, noise=run.noise,
                     seed=run.seed, clip_norm=run.clip_norm, changes=run.changes,
                     batch_size=batch)
    except SceneError as e:             # the controls above should make this unreachable
        raise ControlError("scene", str(e)) from None


def _finite_at(surf, start, control: str) -> None:
    """A formula must be finite at the start, with a finite gradient: every row would
    'diverge' at its first step, and the page would draw nothing."""
    x, y = np.array(float(start[0])), np.array(float(start[1]))
    with np.errstate(all="ignore"):
        values = [surf.value_xy(x, y), *surf.grad_xy(x, y)]
    if not all(np.isfinite(v).all() for v in values):
        raise ControlError(control, f"{control}: L(x, y) or its gradient is not finite at the "
                                    f"start ({float(start[0]):.4g}, {float(start[1]):.4g}): "
                                    "it overflows there or is outside its domain (log or sqrt "
                                    "of a negative number); click a start where it is finite, "
                                    "or change the formula or its view")


def _surface_of(c: dict) -> tuple[str, Any, dict[str, float]]:
    """(the Scene's surface name, the Surface, a formula's view box and minima)."""
    surface = c.get("surface")
    if surface == FORMULA:              # the student's own: "formula:<text>", checked here
        text = c.get("formula")
        view = {**_formula_view(c.get("formula_view")),
                **_formula_minima(c.get("formula_minima"))}
        try:
            surf = formula_surface(text if isinstance(text, str) else "", **view)
        except FormulaError as e:
            raise ControlError("formula", str(e)) from None
        return surf.name, surf, view
    if isinstance(surface, str) and surface.startswith(NET_PREFIX):
        try:
            surf = named_slice(surface)
        except NetworkError as e:
            raise ControlError("surface", str(e)) from None
        # its contour: a forward pass of the whole network a point of the plot's grid
        seconds = grid_seconds(surf, MIN_GRID)
        if seconds > GRID_BUDGET:
            raise ControlError("surface", f"surface: this network's loss on the plot's "
                               f"grid would take about {seconds:.2g} s of the server's time, "
                               f"more than its {GRID_BUDGET:g} s; use fewer samples (n) or "
                               "a smaller network (hidden)")
        return surf.name, surf, {}
    if isinstance(surface, str) and surface.startswith(TRAIN_PREFIX):
        raise ControlError("surface", "surface: a network's training is drawn on the page "
                                      "and trained there; this takes a surface (a network's "
                                      "slice, net:..., is one)")
    if not isinstance(surface, str) or surface not in SURFACES:
        raise ControlError("surface", f"surface: unknown surface {str(surface)[:40]!r}")
    return surface, SURFACES[surface], {}


def _formula_view(text: Any) -> dict[str, float]:
    """A formula's view box from "x_min, x_max, y_min, y_max" (empty: the default)."""
    if text in (None, ""):
        return {}
    parts = text.split(",") if isinstance(text, str) else text
    lim = PAGE_LIMITS["coord"]
    if not isinstance(parts, (list, tuple)) or len(parts) != 4:
        raise ControlError("formula", "view: expected four numbers x_min, x_max, y_min, y_max")
    values = [_num("formula", p.strip() if isinstance(p, str) else p, -lim, lim,
                   "a view coordinate") for p in parts]
    return dict(zip(("x_min", "x_max", "y_min", "y_max"), values))


def _formula_minima(text: Any) -> dict[str, float]:
    """A formula's minima from "x, y; x, y" (empty: found by the grid search)."""
    if text in (None, ""):
        return {}
    points = text.split(";") if isinstance(text, str) else None
    if not points or len(points) > 4:
        raise ControlError("formula", "minima: expected up to four points x, y; x, y")
    lim = PAGE_LIMITS["coord"]
    out = {}
    for i, point in enumerate(points, start=1):
        parts = point.split(",")
        if len(parts) != 2:
            raise ControlError("formula", f"minima: point {i} {point.strip()[:20]!r} is not x, y")
        out[f"min{i}_x"], out[f"min{i}_y"] = (
            _num("formula", p.strip(), -lim, lim, "a coordinate") for p in parts)
    return out


def parse_changes(changes: Any, steps: int) -> list[tuple[int, dict]]:
    """Validate live changes ``[[step, {lr_log10, beta1, beta2, noise}], ...]``: from
    frame ``step`` on (increasing, inside the run) the global controls take these values.
    Changes at or past the last step are dropped (a shorter run has no room for them)."""
    if changes in (None, []):
        return []
    if not isinstance(changes, list) or len(changes) > PAGE_LIMITS["changes"]:
        raise ControlError("live", f"live: expected at most {PAGE_LIMITS['changes']} changes")
    out, after = [], 0
    for item in changes:
        if not isinstance(item, (list, tuple)) or len(item) != 2 or not isinstance(item[1], dict):
            raise ControlError("live", "live: each change is [step, {control: value}]")
        step = _int("live", item[0], after + 1, PAGE_LIMITS["steps"][1])
        if step >= steps:
            break
        lo, hi = PAGE_LIMITS["lr_log10"]
        v = item[1]
        out.append((step, {"lr_log10": _num("lr", v.get("lr_log10"), lo, hi),
                           "beta1": _num("beta1", v.get("beta1"), *PAGE_LIMITS["beta"]),
                           "beta2": _num("beta2", v.get("beta2"), *PAGE_LIMITS["beta"]),
                           "noise": _num("noise", v.get("noise"), *PAGE_LIMITS["noise"])}))
        after = step
    return out


def _label(row: Row, rows: list[Row], lr: float) -> str:
    """"Adam"; a copy is "Adam #2"; rows of one optimizer that differ say how (their α
    always, the knob's ``lr`` where a row follows it, when another row has its own)."""
    base = OPTIMIZERS[row.name].label
    if "~" in row.uid:
        base += f" #{row.uid.split('~', 1)[1]}"
    same = [r for r in rows if r.name == row.name]
    if len(same) == 1:
        return base
    own_lr = row.lr if row.lr is not None else \
        (lr if any(r.lr is not None for r in same) else None)
    parts = [f"α={own_lr:g}" if own_lr is not None else None,
             f"β1={row.beta1:g}" if row.beta1 is not None else None,
             f"β2={row.beta2:g}" if row.beta2 is not None else None,
             f"σ={row.noise:g}" if row.noise is not None else None,
             f"λ={row.weight_decay:g}" if row.weight_decay is not None else None,
             "constant α" if row.constant else None]
    extra = ", ".join(p for p in parts if p)
    return f"{base} ({extra})" if extra else base


# -- scenarios: a Scene in the engine's units, as the page's controls ------------------------

def scenario_controls(name: str) -> dict[str, Any]:
    """The full page setup of scenario ``name`` (KeyError if unknown): a copy of the
    translation made once per scenario (links compare every page setup with it)."""
    return copy.deepcopy(_scenario_controls(name))


@functools.cache
def _scenario_controls(name: str) -> dict[str, Any]:
    s = SCENARIOS[name]
    c = {**controls_for_scene(s.scene, s.knobs), "scenario": name}
    if s.train:                          # the slice's network, trained in full
        c.update(surface=TRAIN_PREFIX + s.scene.surface[len(NET_PREFIX):], start=None)
    return c


def controls_for_scene(scene: Scene, knobs: dict[str, float]) -> dict[str, Any]:
    """The page's controls that show ``scene`` (a built-in surface, one start): the global
    knobs at ``knobs`` (lr, beta1, beta2; the noise is the scene's), and each row's own
    value where it differs from the knob it would follow. ValueError where the page
    cannot say what the scene says (a hyperparameter it has no control for)."""
    c = default_controls(scene.surface)
    surf = scene.get_surface()
    sched = scene.schedule or ScheduleSpec("constant")
    c.update(steps=scene.steps, seed=scene.seed, clip_norm=scene.clip_norm,
             batch_size=scene.batch_size, noise=scene.noise, schedule=sched.name,
             warmup=sched.warmup, **{k: v for k, v in sched.params.items()
                                     if k in ("gamma", "step_size")})
    if "lr" in knobs:
        c["lr_log10"] = math.log10(knobs["lr"])
    c.update({k: knobs[k] for k in ("beta1", "beta2") if k in knobs})
    if tuple(scene.starts[0]) != tuple(surf.default_start):
        c["start"] = [float(v) for v in scene.starts[0]]
    lr = alpha(c["lr_log10"])
    rows, copies = [], {}
    for spec in scene.optimizers:
        copies[spec.name] = copies.get(spec.name, 0) + 1
        row: dict[str, Any] = {"uid": row_uid(spec.name, copies[spec.name]), "on": True}
        page = _hyper_for(spec.name, lr, c["beta1"], c["beta2"])
        for key, knob in (("lr", "lr"), ("beta1", "beta1"), ("beta2", "beta2")):
            target = "lr" if key == "lr" else OPTIMIZERS[spec.name].knobs.get(key)
            if target is not None and _half(spec.hparams, target) != _half(page, target):
                row[knob] = _half(spec.hparams, target)
        wd = spec.hparams.get("weight_decay")
        if wd is not None and wd != OPTIMIZERS[spec.name].defaults["weight_decay"]:
            row["weight_decay"] = wd
        if spec.noise is not None:              # its own noise, whatever the knob says
            row["noise"] = spec.noise
        if spec.schedule is not None:
            if spec.schedule.name != "constant" or spec.schedule.warmup:
                raise ValueError(f"{spec.name}: the page gives a row only a constant rate")
            row["constant"] = True
        rows.append(row)
    c["rows"] = rows
    shown = scene_from_controls(c)
    for spec, got in zip(scene.optimizers, shown.optimizers):
        if spec.hparams != got.hparams:
            raise ValueError(f"{spec.name}: the page cannot show {spec.hparams} "
                             f"(it would run {got.hparams})")
    return c


def _half(hp: dict, target: str):
    """A hyperparameter by the name a knob maps to (``betas.0``: the first of the pair)."""
    if target.startswith("betas."):
        return hp.get("betas", (None, None))[int(target[-1])]
    return hp.get(target)
