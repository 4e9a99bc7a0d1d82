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

import math
import numbers
from dataclasses import dataclass
from typing import Any

from .optimizers import OPTIMIZERS
from .scene import OptimizerSpec, Scene, SceneError, ScheduleSpec
from .schedules import SCHEDULES
from .surfaces import SURFACES

__all__ = ["ControlError", "scene_from_controls", "PAGE_LIMITS", "row_uid", "row_name",
           "REFERENCE_NOISE", "batch_size_for"]

#: The page's budget: small enough that any request answers in well under a second.
PAGE_LIMITS = {"steps": (1, 5000), "rows": 24, "lr_log10": (-5.0, 1.0), "beta": (0.0, 0.999),
               "noise": (0.0, 20.0), "seed": (0, 2**31 - 1), "warmup": (0, 4999),
               "step_size": (1, 5000), "gamma": (0.01, 1.0), "coord": 1e3}
#: Per-sample gradient noise used to express the noise slider as a batch size:
#: std(minibatch gradient) = REFERENCE_NOISE / sqrt(batch size).
REFERENCE_NOISE = 4.0


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


def _int(control, value, low, high):
    v = _num(control, value, low, high, "a whole number")
    if not v.is_integer():
        raise ControlError(control, f"{control}: {v:g} is not a whole number in "
                                    f"[{low}, {high}]")
    return int(v)


def _hyper_for(name: str, lr: float, beta1: float, beta2: float) -> dict:
    hyper = OPTIMIZERS[name].hyper
    hp: dict[str, Any] = {"lr": lr}
    if "betas" in hyper:
        hp["betas"] = (beta1, beta2)
    if "momentum" in hyper and name in ("sgd", "momentum", "nesterov"):
        hp["momentum"] = beta1
    if name == "rmsprop":
        hp["alpha"] = beta2
    if name == "adadelta":
        hp["rho"] = beta2
    return hp


@dataclass(frozen=True)
class Row:
    """One optimizer row of the page, as sent (validated)."""

    uid: str
    name: str
    lr: float | None = None
    beta1: float | None = None
    beta2: float | None = None


def parse_rows(rows: Any) -> list[Row]:
    """Validate the rows the page sent: ``[{uid, on, lr, beta1, beta2}]``; returns the
    enabled rows (overrides None where the row follows the global control)."""
    if not isinstance(rows, list) or len(rows) > PAGE_LIMITS["rows"] + len(OPTIMIZERS):
        raise ControlError("rows", "rows: expected a short list of optimizer rows")
    out, seen = [], set()
    lo, hi = PAGE_LIMITS["lr_log10"]
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
        over = {}
        for key, low, high in (("lr", 10 ** lo, 10 ** hi), ("beta1", *PAGE_LIMITS["beta"]),
                               ("beta2", *PAGE_LIMITS["beta"])):
            v = r.get(key)
            if v is None or v == "":
                over[key] = None
            else:
                label = {"lr": "α", "beta1": "μ / β1", "beta2": "β2 / ρ"}[key]
                over[key] = _num(ctl, v, low, high, f"a valid {label}")
        out.append(Row(uid, name, **over))
    if len(out) > PAGE_LIMITS["rows"]:
        raise ControlError("rows", f"rows: at most {PAGE_LIMITS['rows']} rows can be on")
    if not out:
        raise ControlError("rows", "Turn on at least one optimizer.")
    return out


def scene_from_controls(c: dict) -> Scene:
    """Build the Scene the page's controls describe, or raise ControlError.

    ``c`` keys: surface, rows, lr_log10, beta1, beta2, noise, schedule, step_size, gamma,
    warmup, steps, seed, start ([x, y] or None), clip_norm (None or a number).
    """
    if not isinstance(c, dict):
        raise ControlError("scene", "controls: expected an object")
    surface = c.get("surface")
    if not isinstance(surface, str) or surface not in SURFACES:
        raise ControlError("surface", f"surface: unknown surface {str(surface)[:40]!r}")
    lo, hi = PAGE_LIMITS["lr_log10"]
    lr = 10 ** _num("lr", c.get("lr_log10"), lo, hi)
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
    start = c.get("start")
    surf = SURFACES[surface]
    if start is None:
        start = surf.default_start
    else:
        lim = PAGE_LIMITS["coord"]
        if not isinstance(start, (list, tuple)) or len(start) != 2:
            raise ControlError("start", "start: expected a point [x, y]")
        start = tuple(_num("start", v, -lim, lim) for v in start)
    rows = parse_rows(c.get("rows"))
    specs = []
    for r in rows:
        hp = _hyper_for(r.name, r.lr if r.lr is not None else lr,
                        r.beta1 if r.beta1 is not None else beta1,
                        r.beta2 if r.beta2 is not None else beta2)
        specs.append(OptimizerSpec(r.name, label=_label(r, rows), **hp))
    try:
        return Scene(surface, specs, starts=[start], steps=steps,
                     schedule=ScheduleSpec(schedule, warmup=warmup, **params),
                     noise=noise, seed=seed, clip_norm=clip)
    except SceneError as e:             # the controls above should make this unreachable
        raise ControlError("scene", str(e)) from None


def _label(row: Row, rows: list[Row]) -> str:
    """"Adam"; a copy is "Adam #2"; rows of one optimizer that differ say how."""
    base = OPTIMIZERS[row.name].label
    if "~" in row.uid:
        base += f" #{row.uid.split('~', 1)[1]}"
    if sum(r.name == row.name for r in rows) == 1:
        return base
    parts = [f"α={row.lr:g}" if row.lr is not None else None,
             f"β1={row.beta1:g}" if row.beta1 is not None else None,
             f"β2={row.beta2:g}" if row.beta2 is not None else None]
    extra = ", ".join(p for p in parts if p)
    return f"{base} ({extra})" if extra else base
