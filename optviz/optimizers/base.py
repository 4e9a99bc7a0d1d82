r"""What every optimizer entry is made of: the :class:`Optimizer` record, its
hyperparameters, the context an update sees, the helpers the updates share, and
:class:`Tex`, which writes an update rule with a row's numbers or the slides' symbols.

Arrays. ``w`` and ``g`` are ``ndarray[rows, 2, points]``: per row of one optimizer, the
x and the y coordinates of its points (``w[:, :1]`` and ``w[:, 1:]`` are the x and y of
every point, shaped to broadcast against ``w``). A hyperparameter is either a Python
scalar (all rows agree) or an array with one value per row that broadcasts against ``w``,
so one call steps many configurations at once: a learning-rate sweep is just more rows.

Contract of ``update(w, g, state, lr, t, hp, ctx)``: ``t`` is the 1-based update count
(torch's ``state["step"]`` after its increment), ``lr`` the scheduled rate for this update
(scalar or ``ndarray[rows, 1, 1]``), ``hp`` a namespace of hyperparameters (``betas``
split into ``beta1`` and ``beta2``; ``hp.active`` names those non-zero in some row),
``ctx`` the :class:`StepContext`. ``update`` moves ``w`` **in place** and updates the
buffers in ``state`` in place: the engine's speed targets need it, and the buffers are
private to one simulation.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import numpy as np

__all__ = ["Optimizer", "HyperParam", "StepContext", "STATE", "Tex", "number"]

Array = np.ndarray


@dataclass
class StepContext:
    """What a few optimizers need beyond the gradient."""

    surface: Any                     # optviz.surfaces.Surface
    rng: np.random.Generator | None  # random search's own stream (None if no row searches)
    #: ``evaluate(row, col, x, y) -> (loss, gx, gy)`` at a point of the update's own
    #: choosing, as this step's gradient is taken (minibatch, noise, clipping): rows
    #: count from the group's first, ``lo``; set for entries that evaluate ``grad``
    evaluate: Callable | None = None
    lo: int = 0
    #: the tensors a point's coordinates are made of, ``[(slice, shape), ...]`` in
    #: torch's order (a network's weights and biases); None: one vector (a surface's
    #: point). Only the entries whose torch definition depends on shapes read it.
    tensors: list | None = None
    #: with ``tensors``: ``evaluate_vector(row, col, theta) -> (loss, grad)`` at a point
    #: of D coordinates of the update's own choosing (L-BFGS's line search)
    evaluate_vector: Callable | None = None
    #: with ``tensors``: ``value_points(w) -> loss [rows, 1, points]`` at points ``w``
    #: ``[rows, D, points]`` (random search's candidates), and ``hessian_vector(theta) ->
    #: [D, D]`` (Newton's step)
    value_points: Callable | None = None
    hessian_vector: Callable | None = None


#: What the state inspector shows after each update, per coordinate: ``m`` the first
#: moment or momentum buffer, ``v`` the second moment (AdaGrad's sum, Adamax's u), and
#: ``rate`` the effective learning rate: what the optimizer multiplies its direction (the
#: gradient, or m for the Adam family) by, e.g. alpha / (sqrt(v_hat) + eps) for Adam.
#: An entry may show more (``Optimizer.shows``: ASGD's average, L-BFGS's evaluations).
STATE = ("m", "v", "rate")


# -- helpers the updates share -----------------------------------------------------------------

def active(hp, name: str) -> bool:
    """True if hyperparameter ``name`` is non-zero (or true) in some row."""
    return name in hp.active


def lerp(a: Array, b: Array, weight, tmp: Array | None = None) -> Array:
    """ATen's ``torch.lerp`` (two branches for accuracy), in place on ``a``; ``tmp``, an
    array of a's shape, spares the usual case its two new arrays."""
    if weight.__class__ is float and weight < 0.5:     # the usual case, first and fast
        if tmp is None:
            a += weight * (b - a)
        else:
            a += np.multiply(np.subtract(b, a, tmp), weight, tmp)
    elif isinstance(weight, np.ndarray):
        a[...] = np.where(np.abs(weight) < 0.5, a + weight * (b - a), b - (b - a) * (1 - weight))
    elif abs(weight) < 0.5:
        a += weight * (b - a)
    else:
        a[...] = b - (b - a) * (1 - weight)
    return a


def numbers(s, hp, derive) -> SimpleNamespace:
    """The numbers an update multiplies arrays by, ``derive(hp) -> dict``, with plain
    numbers turned into 0-d arrays: on a page's few points a NumPy call's overhead is its
    cost, and it takes a 0-d array operand for ~40 % less than a Python float (3.4 against
    5.8 thousand instructions for ``v *= rho``). Kept in the state, derived again only
    when ``hp`` is a new namespace (a Change mid-run); the arithmetic is the same."""
    if s.__dict__.get("numbers_of") is not hp:
        s.numbers_of = hp
        s.numbers = SimpleNamespace(**{k: np.array(v) if isinstance(v, (int, float)) else v
                                       for k, v in derive(hp).items()})
    return s.numbers


def coupled_l2(g, w, hp):
    """torch's ``weight_decay`` for SGD/Adam/...: L2 added to the gradient, g + lambda w."""
    return g + hp.weight_decay * w if active(hp, "weight_decay") else g


def planes(s, w, g) -> SimpleNamespace:
    """The x and y planes of ``w`` and ``g`` (``[rows, 1, points]`` views), made once per
    pair of arrays: the engine passes the same two every step, and a slice costs as much
    as an elementwise call on a page's few points."""
    p = s.__dict__.get("planes")
    if p is None or p.w is not w or p.g is not g:
        s.planes = p = SimpleNamespace(w=w, g=g, wx=w[:, :1], wy=w[:, 1:],
                                       gx=g[:, :1], gy=g[:, 1:])
    return p


def no_state(w, hp):
    return SimpleNamespace()


def no_inspect(s, g, lr, t, hp):
    return {}


def rate_only(s, g, lr, t, hp):
    return {"rate": lr}


# -- hyperparameters ---------------------------------------------------------------------------

@dataclass(frozen=True)
class HyperParam:
    """One hyperparameter: default, allowed range, lecture symbol (text and LaTeX)."""

    default: Any
    low: float = 0.0
    high: float = 1.0
    kind: str = "float"          # "float", "int", "bool", "betas", "pair" or a choice "a|b"
    symbol: str = ""
    low_open: bool = False       # True: the range excludes `low`
    high_open: bool = False      # True: the range excludes `high`
    tex: str = ""                # its symbol in an equation
    #: a pair's two halves by name, as the update reads them (betas: beta1, beta2); a pair
    #: may give each half its own range: ``low`` and ``high`` as pairs
    parts: tuple = ()

    def describe(self) -> str:
        if self.kind == "bool":
            return "true or false"
        if "|" in self.kind:
            return " or ".join(repr(None if c == "None" else c) for c in self.kind.split("|"))
        lo = "(" if self.low_open else "["
        hi = ")" if self.high_open else "]"
        if isinstance(self.low, tuple):
            return " and ".join(f"{p} in {lo}{a:g}, {b:g}{hi}"
                                for p, a, b in zip(self.parts, self.low, self.high))
        return f"{lo}{self.low:g}, {self.high:g}{hi}"

    def ranges(self):
        """Each half's (low, high) of a pair."""
        if isinstance(self.low, tuple):
            return list(zip(self.low, self.high))
        return [(self.low, self.high)] * 2


def lr_param(default):
    return HyperParam(default, 0.0, 100.0, symbol="α", low_open=True, tex=r"\alpha")


WEIGHT_DECAY = HyperParam(0.0, 0.0, 10.0, symbol="λ", tex=r"\lambda")
EPS = HyperParam(1e-8, 0.0, 1.0, symbol="ε", low_open=True, tex=r"\epsilon")
BETAS = HyperParam((0.9, 0.999), 0.0, 1.0, kind="betas", symbol="β₁, β₂", high_open=True,
                   parts=("beta1", "beta2"))
FLAG = HyperParam(False, kind="bool")

#: symbols of the halves of pairs in equations
PART_TEX = {"beta1": r"\beta_1", "beta2": r"\beta_2", "etaminus": r"\eta^-",
            "etaplus": r"\eta^+", "step_size_min": r"\Delta_{\min}",
            "step_size_max": r"\Delta_{\max}", "eps1": r"\epsilon_1", "eps2": r"\epsilon_2"}

#: the page's knobs an entry can follow (``Optimizer.knobs`` maps each to a hyperparameter;
#: ``betas.0`` and ``betas.1`` are the two halves of ``betas``)
KNOBS = ("beta1", "beta2")
BETA_KNOBS = {"beta1": "betas.0", "beta2": "betas.1"}


# -- the entry ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Optimizer:
    """A registry entry: everything about one optimizer, read by the engine, the cost
    model, the page (equations, colours, knobs, inspector), the docs and the tests."""

    name: str
    label: str
    init: Callable
    update: Callable
    hyper: Mapping[str, HyperParam]
    #: ``tex(Tex) -> str``: the update rule, written through :class:`Tex` so that one
    #: function gives both the slide's symbols (:attr:`latex`) and a row's numbers
    tex: Callable
    #: presets of one kernel (gd, momentum, nesterov are sgd) share one call per step
    kernel: str = ""
    #: what one update of a group of its rows costs on a page's few points, in
    #: microseconds on the reference machine (optviz.cost; benchmarks.abuse checks it);
    #: a kernel's rows share it, whatever their number
    step_us: float = 8.0
    #: ``inspect(state, g, lr, t, hp) -> {name: array}``: what the state inspector shows
    #: after an update (arrays broadcast against w; names in STATE, or in ``shows``)
    inspect: Callable = no_inspect
    #: its colour on every plot (colour-blind safe palettes: Okabe-Ito, Paul Tol)
    color: str = "#444444"
    #: the page's knobs it follows: {"beta1" | "beta2": hyperparameter}
    knobs: Mapping[str, str] = field(default_factory=dict)
    #: the engine's fast path (optviz.fused): ``fused(hp, lr, t)`` -> the row's
    #: coefficients (a, b, c, d, first_a, first_b, p, q, s, e, eta), and ``fuses(hp)``
    #: whether a row's options fit it
    fused: Callable | None = None
    fuses: Callable = lambda hp: True
    #: draws random numbers of its own (random search: StepContext.rng, a stream per block)
    random: bool = False
    #: weight decay applied to w (AdamW, Lion), not added to g
    decoupled_decay: bool = False
    #: surface evaluations per point and step beyond the gradient the engine takes:
    #: {"hess": n, "value": n, "grad": n} (Newton, random search, line searches), or a
    #: function of a row's hyperparameters giving them
    evaluations: Mapping[str, float] | Callable = field(default_factory=dict)
    #: ``point_us(hp) -> float``: microseconds per point and step of an update that
    #: loops over its points in Python (L-BFGS), besides its evaluations; None otherwise
    point_us: Callable | None = None
    #: what its inspector shows beyond STATE, {name: what it is}
    shows: Mapping[str, str] = field(default_factory=dict)
    #: its torch.optim class ("" where torch has none) and the arguments optviz fixes
    #: (L-BFGS: one iteration a step); the Python download and tools/record_torch.py
    #: read them
    torch: str = ""
    torch_kwargs: Mapping[str, Any] = field(default_factory=dict)

    @property
    def latex(self) -> str:
        """The update rule in the slides' symbols (at the defaults' options)."""
        return self.tex(Tex(self))

    def evaluations_for(self, hp: Mapping) -> Mapping[str, float]:
        """What a row with hyperparameters ``hp`` evaluates per point and step."""
        return self.evaluations(hp) if callable(self.evaluations) else self.evaluations

    @property
    def defaults(self) -> dict[str, Any]:
        return {k: h.default for k, h in self.hyper.items()}

    def with_kernel(self) -> Optimizer:
        """The entry as its own kernel (presets name another)."""
        if self.kernel:
            return self
        return Optimizer(**{**self.__dict__, "kernel": self.name})


# -- writing an update rule ---------------------------------------------------------------------

def number(v: float) -> str:
    """A number for a formula: 0.9, 0.001, 1\\times 10^{-8}."""
    if v == 0:
        return "0"
    e = math.floor(math.log10(abs(v)))
    if -4 <= e <= 4:
        return f"{v:.4g}"
    mant = v / 10 ** e
    return (f"{mant:.3g}\\times " if abs(mant - 1) > 1e-9 else "") + f"10^{{{e}}}"


def factor(coefficient: str) -> str:
    """``coefficient`` as a factor before a symbol: ``0.03\\,`` but nothing for 1 (the
    slide writes :math:`w - H^{-1} g`, not :math:`w - 1\\,H^{-1} g`)."""
    return "" if coefficient == "1" else coefficient + r"\,"


class Tex:
    """An update rule's words: ``tex[key]`` is a row's number for hyperparameter ``key``
    (``beta1``, ``beta2`` for the halves of ``betas``), or with ``hp=None`` the slide's
    symbol; ``tex.on(key)`` whether an option is in use (at the defaults for symbols);
    ``tex.lr`` the rate (:math:`\\alpha_t` when scheduled)."""

    def __init__(self, opt: Optimizer, hp: Mapping | None = None, scheduled: bool = False):
        self.symbolic = hp is None
        self.hp = dict(opt.defaults if hp is None else hp)
        self.symbols = {k: h.tex for k, h in opt.hyper.items()}
        for k, h in opt.hyper.items():
            for i, part in enumerate(h.parts):
                self.hp[part] = self.hp[k][i]
                self.symbols[part] = PART_TEX.get(part, part)
        self.lr = r"\alpha_t" if scheduled else self["lr"]

    @property
    def rate(self) -> str:
        """The rate as a factor (nothing for 1)."""
        return factor(self.lr)

    def __getitem__(self, key: str) -> str:
        return self.symbols[key] if self.symbolic else number(self.hp[key])

    def times(self, key: str) -> str:
        """``key``'s value as a factor (nothing for 1)."""
        return factor(self[key])

    def one_minus(self, key: str) -> str:
        if self.symbolic:
            return rf"(1-{self.symbols[key]})"
        return number(round(1 - self.hp[key], 12))

    def on(self, key: str) -> bool:
        return bool(self.hp.get(key))
