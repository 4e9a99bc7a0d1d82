"""Scene: the one complete, validated, serializable description of a run.

Everything that can change a trajectory is a field of :class:`Scene`, and every value
that enters the program (from Python, JSON, the page or the URL) is checked here, once.
A bad value raises :class:`SceneError` (a ``ValueError``) whose message names the field,
the value and the allowed range. A valid Scene is normalized: every hyperparameter is
filled in from the registry, labels are unique, so ``Scene.from_json(s.to_json()) == s``.

Limits (documented for the README and the web layer, which applies tighter ones):
``steps`` in [1, 20000]; start coordinates finite with ``|x|, |y| <= 1e6`` (the same box
outside which a point counts as diverged); at most ``MAX_ROWS`` = 10,000 optimizer rows
(a 64 x 64 hyperparameter sweep is 4,096); and at
most ``MAX_POINT_STEPS`` = 2e8 point-steps (rows x starts x steps) per scene, about
8 GB of recorded path, loss and gradients.
"""
from __future__ import annotations

import json
import math
import numbers
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from .formula import FORMULA_PARAMS, PREFIX, FormulaError, formula_surface
from .networks.mlp import NetworkError
from .networks.slice import PREFIX as NET_PREFIX
from .networks.slice import named_slice
from .optimizers import OPTIMIZERS, HyperParam
from .schedules import SCHEDULE_PARAMS, SCHEDULES, make_schedule
from .surfaces import SURFACES, Surface, get_surface

__all__ = ["Scene", "OptimizerSpec", "ScheduleSpec", "SceneError", "Change",
           "MAX_STEPS", "MAX_ROWS", "MAX_POINT_STEPS", "COORD_LIMIT", "DEFAULT_OPTIMIZERS"]

MAX_STEPS = 20_000
MAX_ROWS = 10_000
MAX_POINT_STEPS = 200_000_000
COORD_LIMIT = 1e6
MAX_NOISE = 1e3
MAX_CLIP = 1e6
MAX_CHANGES = 100
DEFAULT_OPTIMIZERS = ("gd", "momentum", "nesterov", "adagrad", "rmsprop", "adam")


class SceneError(ValueError):
    """A scene field is invalid; the message names the field, the value and the range."""


def _is_number(v) -> bool:
    return isinstance(v, numbers.Real) and not isinstance(v, bool)


def _number(field: str, v, low: float, high: float, *, low_open=False, high_open=False) -> float:
    lo, hi = "(" if low_open else "[", ")" if high_open else "]"
    rng = f"{lo}{low:g}, {high:g}{hi}"
    if not _is_number(v) or not math.isfinite(float(v)):
        raise SceneError(f"{field}: {v!r} is not a finite number; allowed range {rng}")
    v = float(v)
    if v < low or v > high or (low_open and v == low) or (high_open and v == high):
        raise SceneError(f"{field}: {v:g} is outside the allowed range {rng}")
    return v


def _integer(field: str, v, low: int, high: int) -> int:
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    if not isinstance(v, numbers.Integral) or isinstance(v, bool):
        raise SceneError(f"{field}: {v!r} is not an integer; allowed range [{low}, {high}]")
    if not low <= int(v) <= high:
        raise SceneError(f"{field}: {v} is outside the allowed range [{low}, {high}]")
    return int(v)


def _mapping(field: str, v) -> Mapping:
    if not isinstance(v, Mapping):
        raise SceneError(f"{field}: expected an object of named values, got {type(v).__name__}")
    for k in v:
        if not isinstance(k, str):
            raise SceneError(f"{field}: key {k!r} is not a name")
    return v


class _Spec:
    """Shared by OptimizerSpec and ScheduleSpec: a name plus named values, immutable."""

    __slots__ = ("name", "_items")

    def __setattr__(self, key, value):
        raise AttributeError(f"{type(self).__name__} is immutable")

    def _key(self):
        return tuple(getattr(self, s) for s in self.__slots__ if s != "_items") + (self._items,)

    def __eq__(self, other):
        return type(other) is type(self) and other._key() == self._key()

    def __hash__(self):
        return hash((type(self).__name__,) + self._key())


class ScheduleSpec(_Spec):
    """A learning-rate schedule by name (see :mod:`optviz.schedules`), plus ``warmup``."""

    __slots__ = ("name", "warmup", "_items")

    def __init__(self, name: str = "constant", *, warmup: int = 0, **params):
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "warmup", warmup)
        object.__setattr__(self, "_items", tuple(sorted(params.items())))

    @property
    def params(self) -> dict[str, Any]:
        return dict(self._items)

    def __repr__(self):
        args = [repr(self.name)] + ([f"warmup={self.warmup}"] if self.warmup else [])
        args += [f"{k}={v!r}" for k, v in self._items]
        return f"ScheduleSpec({', '.join(args)})"

    def to_dict(self) -> dict:
        return {"name": self.name, "warmup": self.warmup, **self.params}

    @classmethod
    def from_dict(cls, d, field: str = "schedule") -> ScheduleSpec:
        if isinstance(d, str):
            return cls(d)
        d = dict(_mapping(field, d))
        return cls(d.pop("name", "constant"), warmup=d.pop("warmup", 0), **d)

    def validated(self, steps: int, field: str = "schedule") -> ScheduleSpec:
        if not isinstance(self.name, str) or self.name not in SCHEDULE_PARAMS:
            raise SceneError(f"{field}.name: unknown schedule {self.name!r}; "
                             f"choose one of {', '.join(SCHEDULES)}")
        warmup = _integer(f"{field}.warmup", self.warmup, 0, steps - 1)
        params = dict(self._items)
        try:
            make_schedule(self.name, steps, warmup, **params)
        except ValueError as e:
            raise SceneError(str(e).replace("schedule", field, 1)) from None
        for k, v in params.items():     # ints stay ints, floats become floats
            params[k] = int(v) if isinstance(v, numbers.Integral) else float(v)
        return ScheduleSpec(self.name, warmup=warmup, **params)

    def function(self, steps: int):
        return make_schedule(self.name, steps, self.warmup, **self.params)


class OptimizerSpec(_Spec):
    """One row: an optimizer of :data:`OPTIMIZERS` with its hyperparameters, a label, an
    optional schedule and an optional gradient-noise level that override the scene's."""

    __slots__ = ("name", "label", "schedule", "noise", "_items")

    def __init__(self, name: str, *, label: str | None = None,
                 schedule: ScheduleSpec | None = None, noise: float | None = None, **hyper):
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "label", label)
        object.__setattr__(self, "schedule", schedule)
        object.__setattr__(self, "noise", noise)
        object.__setattr__(self, "_items", tuple(sorted(hyper.items())))

    @property
    def hparams(self) -> dict[str, Any]:
        return dict(self._items)

    def __repr__(self):
        args = [repr(self.name)] + [f"{k}={v!r}" for k, v in self._items]
        if self.label is not None:
            args.append(f"label={self.label!r}")
        if self.schedule is not None:
            args.append(f"schedule={self.schedule!r}")
        if self.noise is not None:
            args.append(f"noise={self.noise!r}")
        return f"OptimizerSpec({', '.join(args)})"

    def to_dict(self) -> dict:
        d: dict[str, Any] = {"name": self.name, **{k: list(v) if isinstance(v, tuple) else v
                                                  for k, v in self._items}}
        if self.label is not None:
            d["label"] = self.label
        if self.schedule is not None:
            d["schedule"] = self.schedule.to_dict()
        if self.noise is not None:
            d["noise"] = self.noise
        return d

    @classmethod
    def from_dict(cls, d, field: str = "optimizer") -> OptimizerSpec:
        if isinstance(d, str):
            return cls(d)
        d = dict(_mapping(field, d))
        schedule = d.pop("schedule", None)
        if schedule is not None:
            schedule = ScheduleSpec.from_dict(schedule, f"{field}.schedule")
        return cls(d.pop("name", None), label=d.pop("label", None), schedule=schedule,
                   noise=d.pop("noise", None), **d)

    def validated(self, steps: int, field: str) -> OptimizerSpec:
        if not isinstance(self.name, str) or self.name not in OPTIMIZERS:
            raise SceneError(f"{field}.name: unknown optimizer {self.name!r}; "
                             f"choose one of {', '.join(OPTIMIZERS)}")
        opt = OPTIMIZERS[self.name]
        given = self.hparams
        for k in given:
            if k not in opt.hyper:
                raise SceneError(f"{field}.{k}: {self.name} has no hyperparameter {k!r}; "
                                 f"it takes {', '.join(opt.hyper)}")
        hp = {k: _hyper(f"{field}.{k}", given.get(k, h.default), h) for k, h in opt.hyper.items()}
        # torch refuses nesterov with momentum 0 or with dampening; here momentum 0 is
        # plain SGD (the lectures' identity) and dampening scales the buffer as usual
        label = self.label
        if label is not None and (not isinstance(label, str) or len(label) > 80):
            raise SceneError(f"{field}.label: {label!r} is not a text of at most 80 characters")
        schedule = self.schedule
        if schedule is not None:
            if not isinstance(schedule, ScheduleSpec):
                raise SceneError(f"{field}.schedule: expected a ScheduleSpec, got {schedule!r}")
            schedule = schedule.validated(steps, f"{field}.schedule")
        noise = None if self.noise is None else _number(f"{field}.noise", self.noise, 0.0,
                                                         MAX_NOISE)
        return OptimizerSpec(self.name, label=label, schedule=schedule, noise=noise, **hp)


def _hyper(field: str, v, h: HyperParam):
    if h.kind == "bool":
        if not isinstance(v, (bool, np.bool_)):
            raise SceneError(f"{field}: {v!r} is not true or false")
        return bool(v)
    if "|" in h.kind:                   # a choice, e.g. L-BFGS's line search
        choices = [None if c == "None" else c for c in h.kind.split("|")]
        if not (v is None or isinstance(v, str)) or v not in choices:
            raise SceneError(f"{field}: {str(v)[:30]!r} is not one of {h.describe()}")
        return v
    if h.kind == "int":
        n = _number(field, v, h.low, h.high)
        if not float(n).is_integer():
            raise SceneError(f"{field}: {v!r} is not a whole number in {h.describe()}")
        return int(n)
    if h.parts:                         # a pair: betas, Rprop's etas, ...
        if not isinstance(v, (list, tuple)) or len(v) != 2:
            raise SceneError(f"{field}: {v!r} is not a pair ({', '.join(h.parts)}), "
                             f"{h.describe()}")
        return tuple(_number(f"{field}[{i}]", b, lo, hi, low_open=h.low_open,
                             high_open=h.high_open)
                     for i, (b, (lo, hi)) in enumerate(zip(v, h.ranges())))
    return _number(field, v, h.low, h.high, low_open=h.low_open, high_open=h.high_open)


def _unique_labels(specs: list[OptimizerSpec]) -> list[OptimizerSpec]:
    """Fill in labels; where two rows would share one, say what differs (the lr if it
    does, else a number)."""
    base = [s.label or OPTIMIZERS[s.name].label for s in specs]
    groups: dict[str, list[int]] = {}
    for i, b in enumerate(base):
        groups.setdefault(b, []).append(i)
    lr_sets = {b: {specs[j].hparams["lr"] for j in twins} for b, twins in groups.items()}
    out = []
    for i, s in enumerate(specs):
        label = base[i]
        twins = groups[label]
        if s.label is None and len(twins) > 1:
            label = (f"{label} (α={s.hparams['lr']:g})" if len(lr_sets[label]) == len(twins)
                     else f"{label} #{twins.index(i) + 1}")
        out.append(OptimizerSpec(s.name, label=label, schedule=s.schedule, noise=s.noise,
                                 **s.hparams))
    return out


class Change:
    """A knob turned during training: from update ``step`` on (1 <= step < steps), the
    rows take the hyperparameters of ``optimizers`` (one spec per row, same optimizer
    names; labels and schedules stay the original rows') and the scene's gradient noise
    becomes ``noise``; None keeps what was there. Updates before ``step`` are untouched,
    so the path up to that frame is exactly the unchanged run's."""

    __slots__ = ("step", "optimizers", "noise")

    def __init__(self, step: int, optimizers: Iterable[OptimizerSpec] | None = None,
                 noise: float | None = None):
        object.__setattr__(self, "step", step)
        object.__setattr__(self, "optimizers", None if optimizers is None else tuple(
            OptimizerSpec.from_dict(o) if isinstance(o, (dict, str)) else o
            for o in optimizers))
        object.__setattr__(self, "noise", noise)

    def __setattr__(self, key, value):
        raise AttributeError("Change is immutable")

    def _key(self):
        return (self.step, self.optimizers, self.noise)

    def __eq__(self, other):
        return isinstance(other, Change) and other._key() == self._key()

    def __hash__(self):
        return hash(self._key())

    def __repr__(self):
        return f"Change({self.step!r}, optimizers={self.optimizers!r}, noise={self.noise!r})"

    def to_dict(self) -> dict:
        return {"step": self.step, "noise": self.noise, "optimizers": None if
                self.optimizers is None else [o.to_dict() for o in self.optimizers]}

    @classmethod
    def from_dict(cls, d, field: str = "changes") -> Change:
        d = dict(_mapping(field, d))
        opts = d.get("optimizers")
        if opts is not None and not isinstance(opts, (list, tuple)):
            raise SceneError(f"{field}.optimizers: expected a list of optimizer rows")
        return cls(d.get("step"), None if opts is None else [
            OptimizerSpec.from_dict(o, f"{field}.optimizers[{i}]") for i, o in enumerate(opts)],
            d.get("noise"))

    def validated(self, rows: tuple[OptimizerSpec, ...], steps: int, after: int,
                  field: str) -> Change:
        # strictly after the previous change, and before the last update
        step = _integer(f"{field}.step", self.step, after + 1, steps - 1)
        noise = None if self.noise is None else _number(f"{field}.noise", self.noise, 0.0,
                                                         MAX_NOISE)
        opts = self.optimizers
        if opts is not None:
            if len(opts) != len(rows):
                raise SceneError(f"{field}.optimizers: {len(opts)} rows; the scene has "
                                 f"{len(rows)}")
            out = []
            for i, (new, old) in enumerate(zip(opts, rows)):
                if not isinstance(new, OptimizerSpec) or new.name != old.name:
                    raise SceneError(f"{field}.optimizers[{i}]: expected a {old.name} row "
                                     f"(a change keeps each row's optimizer)")
                new = new.validated(steps, f"{field}.optimizers[{i}]")
                out.append(OptimizerSpec(old.name, label=old.label, schedule=old.schedule,
                                         noise=new.noise, **new.hparams))
            opts = tuple(out)
        return Change(step, opts, noise)


def _starts(v, surface: Surface) -> np.ndarray:
    if v is None:
        v = [surface.default_start]
    try:
        arr = np.asarray(v, dtype=float)
    except (TypeError, ValueError):
        raise SceneError(f"starts: expected a list of (x, y) pairs, got {str(v)[:80]}") from None
    if arr.ndim == 1 and arr.shape == (2,):
        arr = arr[None, :]
    if arr.ndim != 2 or arr.shape[1] != 2 or arr.shape[0] < 1:
        raise SceneError(f"starts: expected a non-empty list of (x, y) pairs, got shape "
                         f"{arr.shape}")
    bad = ~(np.abs(arr) <= COORD_LIMIT)
    if bad.any():
        i = int(np.argmax(bad.any(axis=1)))
        raise SceneError(f"starts[{i}]: {tuple(arr[i].tolist())} is not finite or outside "
                         f"[-{COORD_LIMIT:g}, {COORD_LIMIT:g}]")
    arr = np.ascontiguousarray(arr)
    arr.setflags(write=False)
    return arr


class Scene:
    """Everything that determines a run; validated and normalized on construction.

    >>> Scene(surface="rosenbrock", optimizers=[OptimizerSpec("adam", lr=0.01)],
    ...       starts=[(-1.5, 2.0)], steps=500).steps
    500
    """

    __slots__ = ("surface", "surface_params", "optimizers", "starts", "steps", "schedule",
                 "noise", "seed", "clip_norm", "changes", "batch_size")

    def __init__(self, surface: str = "rosenbrock",
                 optimizers: Iterable[OptimizerSpec | str] = DEFAULT_OPTIMIZERS,
                 starts=None, steps: int = 1000, schedule: ScheduleSpec | str | None = None,
                 noise: float = 0.0, seed: int = 0, clip_norm: float | None = None,
                 surface_params: Mapping[str, float] | None = None,
                 changes: Iterable[Change] = (), batch_size: int | None = None):
        set_ = object.__setattr__
        formula = isinstance(surface, str) and surface.startswith(PREFIX)
        network = isinstance(surface, str) and surface.startswith(NET_PREFIX)
        if not (formula or network) and (not isinstance(surface, str) or
                                         surface not in SURFACES):
            raise SceneError(f"surface: unknown surface {str(surface)[:80]!r}; choose one of "
                             f"{', '.join(SURFACES)}, formula:<x, y expression> or "
                             "net:<slice>")
        if network:
            try:
                named_slice(surface)
            except NetworkError as e:
                raise SceneError(str(e)) from None
        params = {}
        spec = FORMULA_PARAMS if formula else {} if network else SURFACES[surface].params
        for k, v in _mapping("surface_params", surface_params or {}).items():
            if k not in spec:
                raise SceneError(f"surface_params.{k}: {surface[:40]} has no parameter {k!r}"
                                 + (f"; it takes {', '.join(spec)}" if spec else ""))
            params[k] = _number(f"surface_params.{k}", v, spec[k][1], spec[k][2])
        if formula:
            try:                      # a formula: parsed by a whitelist, never run as code
                formula_surface(surface[len(PREFIX):], **params)
            except FormulaError as e:
                raise SceneError(f"surface: {e}") from None
        set_(self, "surface", surface)
        set_(self, "surface_params", tuple(sorted(params.items())))
        steps = _integer("steps", steps, 1, MAX_STEPS)
        set_(self, "steps", steps)
        if isinstance(optimizers, (str, OptimizerSpec)) or not isinstance(optimizers, Iterable):
            raise SceneError("optimizers: expected a list of optimizer rows")
        rows = [OptimizerSpec(o) if isinstance(o, str) else o for o in optimizers]
        if not 1 <= len(rows) <= MAX_ROWS:
            raise SceneError(f"optimizers: {len(rows)} rows; allowed 1 to {MAX_ROWS}")
        for i, o in enumerate(rows):
            if not isinstance(o, OptimizerSpec):
                raise SceneError(f"optimizers[{i}]: expected an OptimizerSpec or a name, "
                                 f"got {str(o)[:80]}")
        rows = [o.validated(steps, f"optimizers[{i}]") for i, o in enumerate(rows)]
        set_(self, "optimizers", tuple(_unique_labels(rows)))
        set_(self, "starts", _starts(starts, self.get_surface()))
        work = len(rows) * len(self.starts) * steps
        if work > MAX_POINT_STEPS:
            raise SceneError(f"optimizers x starts x steps: {len(rows)} x {len(self.starts)} x "
                             f"{steps} = {work:.3g} point-steps; allowed at most "
                             f"{MAX_POINT_STEPS:.3g}")
        if isinstance(schedule, str):
            schedule = ScheduleSpec(schedule)
        if schedule is not None and not isinstance(schedule, ScheduleSpec):
            raise SceneError(f"schedule: expected a ScheduleSpec or a name, got {schedule!r}")
        set_(self, "schedule", schedule.validated(steps) if schedule is not None else None)
        set_(self, "noise", _number("noise", noise, 0.0, MAX_NOISE))
        set_(self, "seed", _integer("seed", seed, 0, 2**63 - 1))
        set_(self, "clip_norm", None if clip_norm is None else
             _number("clip_norm", clip_norm, 0.0, MAX_CLIP, low_open=True))
        if isinstance(changes, (Change, str)) or not isinstance(changes, Iterable):
            raise SceneError("changes: expected a list of Change(step, optimizers, noise)")
        checked, after = [], 0
        for i, c in enumerate(changes):
            if i >= MAX_CHANGES:
                raise SceneError(f"changes: more than {MAX_CHANGES} changes")
            c = Change.from_dict(c, f"changes[{i}]") if isinstance(c, Mapping) else c
            if not isinstance(c, Change):
                raise SceneError(f"changes[{i}]: expected a Change, got {str(c)[:80]}")
            c = c.validated(self.optimizers, steps, after, f"changes[{i}]")
            checked.append(c)
            after = c.step
        set_(self, "changes", tuple(checked))
        dataset = self.get_surface().dataset
        if batch_size is not None and dataset is None:
            raise SceneError(f"batch_size: {surface} has no samples to draw minibatches from "
                             "(only the data_* surfaces do); use noise instead")
        set_(self, "batch_size", None if batch_size is None else
             _integer("batch_size", batch_size, 1, dataset.n))

    def __setattr__(self, key, value):
        raise AttributeError("Scene is immutable; build a new one")

    # -- identity -------------------------------------------------------------------
    def _key(self):
        return (self.surface, self.surface_params, self.optimizers, self.starts.shape,
                self.starts.tobytes(), self.steps, self.schedule, self.noise, self.seed,
                self.clip_norm, self.changes, self.batch_size)

    def __eq__(self, other):
        return isinstance(other, Scene) and self._key() == other._key()

    def __hash__(self):
        return hash(self._key())

    def __repr__(self):
        starts = self.starts.tolist() if len(self.starts) <= 4 else f"<{len(self.starts)} starts>"
        return (f"Scene(surface={self.surface!r}, optimizers={list(self.optimizers)!r}, "
                f"starts={starts}, steps={self.steps}, schedule={self.schedule!r}, "
                f"noise={self.noise:g}, seed={self.seed}, clip_norm={self.clip_norm!r}"
                + (f", surface_params={dict(self.surface_params)!r}" if self.surface_params
                   else "")
                + (f", changes={list(self.changes)!r}" if self.changes else "")
                + (f", batch_size={self.batch_size}" if self.batch_size else "") + ")")

    def replace(self, **changes) -> Scene:
        """A new, validated Scene with some fields changed."""
        if changes.keys() == {"seed"}:       # the rest is valid already: check the seed only
            new = object.__new__(Scene)
            for k in self.__slots__:
                object.__setattr__(new, k, getattr(self, k))
            object.__setattr__(new, "seed", _integer("seed", changes["seed"], 0, 2**63 - 1))
            return new
        fields = {k: getattr(self, k) for k in self.__slots__}
        fields["surface_params"] = dict(self.surface_params)
        fields.update(changes)
        return Scene(**fields)

    def get_surface(self) -> Surface:
        return get_surface(self.surface, dict(self.surface_params))

    @property
    def labels(self) -> list[str]:
        return [o.label for o in self.optimizers]

    # -- JSON -------------------------------------------------------------------------
    def to_dict(self) -> dict:
        return {
            "surface": self.surface,
            "surface_params": dict(self.surface_params),
            "optimizers": [o.to_dict() for o in self.optimizers],
            "starts": self.starts.tolist(),
            "steps": self.steps,
            "schedule": None if self.schedule is None else self.schedule.to_dict(),
            "noise": self.noise,
            "seed": self.seed,
            "clip_norm": self.clip_norm,
            "changes": [c.to_dict() for c in self.changes],
            "batch_size": self.batch_size,
        }

    def to_json(self) -> str:
        # repr-exact floats: json writes the shortest round-tripping form
        return json.dumps(self.to_dict(), separators=(",", ":"), allow_nan=False)

    @classmethod
    def from_dict(cls, d: Any) -> Scene:
        d = dict(_mapping("scene", d))
        unknown = set(d) - set(cls.__slots__)
        if unknown:
            raise SceneError(f"{sorted(unknown)[0]}: not a scene field; fields are "
                             f"{', '.join(cls.__slots__)}")
        opts = d.get("optimizers", DEFAULT_OPTIMIZERS)
        if not isinstance(opts, (list, tuple)):
            raise SceneError("optimizers: expected a list of optimizer rows")
        d["optimizers"] = [OptimizerSpec.from_dict(o, f"optimizers[{i}]")
                           for i, o in enumerate(opts)]
        if d.get("schedule") is not None:
            d["schedule"] = ScheduleSpec.from_dict(d["schedule"])
        changes = d.get("changes", [])
        if not isinstance(changes, (list, tuple)):
            raise SceneError("changes: expected a list of changes")
        d["changes"] = [Change.from_dict(c, f"changes[{i}]") for i, c in enumerate(changes)]
        try:
            return cls(**d)
        except TypeError as e:      # e.g. a hyperparameter name that is not an identifier
            raise SceneError(f"scene: {e}") from None

    @classmethod
    def from_json(cls, text: str | bytes) -> Scene:
        try:
            d = json.loads(text)
        except (TypeError, ValueError) as e:
            raise SceneError(f"scene: not valid JSON ({e})") from None
        return cls.from_dict(d)
