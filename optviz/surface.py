r"""What a loss surface is: :class:`Surface` (value, gradient and Hessian in two calling
conventions, a view box, minima and saddles, what it costs) and :class:`SurfaceCost`;
the math the page shows of a surface (gradient check, suggested rate) is its methods.
The built-in surfaces are in :mod:`optviz.surfaces`, a student's formula in
:mod:`optviz.formula`; both build on this module, which imports neither.

Two calling conventions, the same functions underneath:

* public, array-of-points: ``value(w) -> ndarray[...]``, ``grad(w) -> ndarray[..., 2]``,
  ``hessian(w) -> ndarray[..., 2, 2]`` for ``w: ndarray[..., 2]``;
* engine, coordinate planes: ``value_xy(x, y)``, ``grad_xy(x, y) -> (gx, gy)``,
  ``hess_xy(x, y) -> (hxx, hxy, hyy)``, x and y arrays of any one shape (an entry
  that is the same everywhere may be a 0-d array: it broadcasts). The engine passes
  every point's x and y as contiguous arrays (or, on big blocks, as long contiguous
  runs), so every elementwise operation streams through memory.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .data import sample_mean

__all__ = ["Surface", "SurfaceCost", "make_surface", "refine"]

Array = np.ndarray
XY = Callable[[Array, Array], Array]


@dataclass(frozen=True)
class SurfaceCost:
    """What one evaluation of a surface costs, for budgets in cost rather than in counts
    (optviz.cost): ``*_us``, microseconds per evaluation on a page's few points (its
    NumPy calls), and ``grad``, ``hess``, ``value``, the work per point in units of one
    elementwise add (what it costs on many points). A data surface's figures are for all
    its samples; a minibatch costs its share. benchmarks.abuse checks them."""

    grad: float = 8.0
    grad_us: float = 8.0
    hess: float = 8.0
    hess_us: float = 8.0
    value: float = 8.0
    value_us: float = 8.0


@dataclass(frozen=True)
class Surface:
    """One loss surface ``L(x, y)``; see the module docstring for the calling conventions."""

    name: str
    label: str
    latex: str
    teaches: str
    value_xy: XY
    grad_xy: Callable[[Array, Array], tuple[Array, Array]]
    hess_xy: Callable[[Array, Array], tuple[Array, Array, Array]]
    view: tuple[float, float, float, float]          # x_min, x_max, y_min, y_max
    default_start: tuple[float, float]
    minima: tuple[tuple[float, float], ...] = ()
    saddles: tuple[tuple[float, float], ...] = ()
    #: parameters of a parametric surface: name -> (default, low, high)
    params: Mapping[str, tuple[float, float, float]] = field(default_factory=dict)
    factory: Callable[..., Surface] | None = None
    bound: Mapping[str, float] = field(default_factory=dict)
    #: the samples of a data surface (optviz.data.Dataset), None for a formula
    dataset: Any = None
    #: ``(sx, sy)`` where the gradient is ``(sx x, sy y)`` (axis-aligned quadratics, the
    #: saddle): the engine then takes it in one multiply instead of ~6 calls (a page
    #: step is ~20). Set from ``grad_xy.scale``; None elsewhere.
    grad_scale: tuple[float, float] | None = None
    #: what its value, gradient and Hessian cost to evaluate (see SurfaceCost)
    cost: SurfaceCost = field(default_factory=SurfaceCost)
    #: L(x, y) as an expression in the formula language (numbers, x, y, pi, e, + - * /
    #: **, sin cos tan exp log sqrt abs tanh sinh cosh): what an exported script writes
    #: in another library (torch); "" for a surface built on data
    expression: str = ""
    #: the plot's axis titles: the two weights of a 2-D problem, or a plane's coordinates
    axes: tuple[str, str] = ("x (w₁)", "y (w₂)")

    @property
    def min_value(self) -> float | None:
        """L*: the lowest value at the known minima (the global minimum), what "within ε
        of the minimum" is measured from; None where the surface lists no minimum (the
        saddle)."""
        if not self.minima:
            return None
        return float(min(self.value(m) for m in self.minima))

    def batch_grad_xy(self, x: Array, y: Array, idx) -> tuple[Array, Array]:
        """Gradient of the loss over the samples ``idx`` only (data surfaces)."""
        gx, gy = self.dataset.grads(x, y, idx)
        return sample_mean(gx), sample_mean(gy)

    # -- public (..., 2) convention -------------------------------------------------
    def value(self, w) -> Array:
        """``ndarray[...]``: the loss at points ``w: ndarray[..., 2]``."""
        w = np.asarray(w, dtype=float)
        return np.asarray(self.value_xy(w[..., 0], w[..., 1]), dtype=float)

    def grad(self, w) -> Array:
        """``ndarray[..., 2]``: the analytic gradient at ``w: ndarray[..., 2]``."""
        w = np.asarray(w, dtype=float)
        gx, gy = self.grad_xy(w[..., 0], w[..., 1])
        return np.stack(np.broadcast_arrays(gx, gy), axis=-1)

    def hessian(self, w) -> Array:
        """``ndarray[..., 2, 2]``: the analytic Hessian at ``w: ndarray[..., 2]``."""
        w = np.asarray(w, dtype=float)
        x = w[..., 0]
        hxx, hxy, hyy, _ = np.broadcast_arrays(*self.hess_xy(x, w[..., 1]), x)
        return np.stack([np.stack([hxx, hxy], -1), np.stack([hxy, hyy], -1)], -2)

    def gradient_check(self, points) -> tuple:
        """The lectures' gradient check at ``points`` [..., 2]: the analytic gradient, the
        centred finite difference (L(w + h e_k) - L(w - h e_k)) / 2h with h = 1e-6 (1 + |w_k|),
        and their relative error |a - f| / max(|a|, |f|, 1e-6 (1 + |L|)) (Euclidean norms; the
        last term is about what a centred difference can resolve, so a converged point does
        not show round-off as a large error)."""
        p = np.asarray(points, dtype=float)
        with np.errstate(all="ignore"):
            analytic = self.grad(p)
            fd = np.empty_like(p)
            for k in range(2):
                h = 1e-6 * (1 + np.abs(p[..., k]))
                step = np.zeros_like(p)
                step[..., k] = h
                fd[..., k] = (self.value(p + step) - self.value(p - step)) / (2 * h)
            diff = np.linalg.norm(analytic - fd, axis=-1)
            # near a minimum both are ~0: measure against what a difference can resolve
            floor = 1e-6 * (1 + np.abs(self.value(p)))
            scale = np.maximum(np.maximum(np.linalg.norm(analytic, axis=-1),
                                          np.linalg.norm(fd, axis=-1)), floor)
        return analytic, fd, diff / scale

    def suggested_lr(self, low: float = 1e-4, high: float = 0.1) -> float:
        """A learning rate at which plain GD is stable near the start and the minima:
        0.5 / (the largest Hessian eigenvalue there), within [low, high] (0.01 where the
        curvature is not finite or is zero)."""
        pts = np.array([self.default_start, *self.minima], dtype=float)
        with np.errstate(all="ignore"):
            h = np.abs(np.linalg.eigvalsh(self.hessian(pts))).max()
        lr = 0.5 / h if np.isfinite(h) and h > 0 else 0.01
        return float(min(max(lr, low), high))

    def with_params(self, **params: float) -> Surface:
        """This surface with its parameters set (``{}`` keeps the defaults)."""
        if not params:
            return self
        if self.factory is None:
            raise ValueError(f"surface {self.name!r} has no parameters")
        return self.factory(**{**{k: v[0] for k, v in self.params.items()}, **params})


# -- helpers ------------------------------------------------------------------------

def refine(surface_fns, points, iters=50):
    """Polish approximate stationary points with Newton's method on the analytic
    derivatives, so the listed minima and saddles are exact to round-off."""
    _, grad_xy, hess_xy = surface_fns
    out = []
    for x, y in points:
        for _ in range(iters):
            gx, gy = grad_xy(np.float64(x), np.float64(y))
            a, b, d = hess_xy(np.float64(x), np.float64(y))
            det = a * d - b * b
            if det == 0:
                break
            dx = (d * gx - b * gy) / det
            dy = (a * gy - b * gx) / det
            x, y = x - dx, y - dy
            if abs(dx) + abs(dy) < 1e-15:
                break
        out.append((float(x), float(y)))
    return tuple(out)


def make_surface(name, label, latex, teaches, fns, view, start, minima=(), saddles=(), **kw):
    """A Surface from its ``(value_xy, grad_xy, hess_xy)``, its minima and saddles
    refined by Newton's method."""
    value_xy, grad_xy, hess_xy = fns
    return Surface(
        name=name, label=label, latex=latex, teaches=teaches,
        value_xy=value_xy, grad_xy=grad_xy, hess_xy=hess_xy,
        grad_scale=getattr(grad_xy, "scale", None),
        view=tuple(float(v) for v in view), default_start=tuple(map(float, start)),
        minima=refine(fns, minima), saddles=refine(fns, saddles), **kw)
