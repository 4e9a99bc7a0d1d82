r"""Two-dimensional loss surfaces with analytic gradients and Hessians.

Every surface is a :class:`Surface`: value, gradient and Hessian written out by hand and
vectorized over any number of leading dimensions, a view box, the known minima and
saddle points (refined to machine precision with Newton's method at import), a LaTeX
formula and one sentence on what it teaches. What a Surface is, and its two calling
conventions, are in :mod:`optviz.surface`.
"""
from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

from .formula import formula_surface
from .networks.slice import PREFIX as NET_PREFIX
from .networks.slice import named_slice
from .surface import Surface, SurfaceCost
from .surface import make_surface as _surface

__all__ = ["Surface", "SurfaceCost", "SURFACES", "get_surface"]


def _consts(*values):
    """Numbers as 0-d float64 arrays, for the gradients the engine calls every step: NumPy
    takes a 0-d array operand faster than a Python number (0.44 against 0.72 us a call on
    a page's arrays, 0.85 for an int) and the arithmetic is the same, bit for bit."""
    return tuple(np.array(float(v)) for v in values)


def _quadratic(a, b, c):
    """``L = a x^2 + b x y + c y^2`` (the Hessian is constant)."""
    def value(x, y):
        return a * x * x + b * x * y + c * y * y

    a2, b_, c2 = _consts(2 * a, b, 2 * c)
    if b == 0:                     # axis-aligned: half the work on the engine's hot path
        def grad(x, y):
            return a2 * x, c2 * y
        grad.scale = (2 * a, 2 * c)             # (see Surface.grad_scale)
    else:
        def grad(x, y):
            return a2 * x + b_ * y, b_ * x + c2 * y

    def hess(x, y):
        return a2, b_, c2
    return value, grad, hess


# -- the surfaces -----------------------------------------------------------------------

def rotated_quadratic(kappa: float = 10.0, angle: float = 30.0) -> Surface:
    r"""``L = \tfrac12 (u^2 + \kappa v^2)`` in axes rotated by ``angle`` degrees:
    curvatures 1 and kappa, condition number kappa."""
    th = math.radians(angle)
    c, s = math.cos(th), math.sin(th)
    # u = c x + s y, v = -s x + c y
    a = 0.5 * (c * c + kappa * s * s)
    b = (1 - kappa) * c * s
    d = 0.5 * (s * s + kappa * c * c)
    return _surface(
        "rotated_quadratic", "Rotated quadratic (condition number κ, angle θ)",
        r"L = \tfrac12\left(u^2 + \kappa v^2\right),\; (u, v) = R_\theta (x, y)",
        "A valley that is not aligned with the axes: per-coordinate methods (AdaGrad, "
        "RMSProp, Adam) lose their edge when the ill-conditioning is rotated.",
        _quadratic(a, b, d), (-4, 4, -4, 4), (-3.0, -1.0), minima=[(0, 0)],
        params={"kappa": (10.0, 1.0, 1000.0), "angle": (30.0, -90.0, 90.0)},
        factory=rotated_quadratic, bound={"kappa": float(kappa), "angle": float(angle)},
        cost=SurfaceCost(5, 2, 1, 1, 4, 3),
        expression=f"{a!r}*x**2 + {b!r}*x*y + {d!r}*y**2")


def _saddle():
    two, minus_two, zero = _consts(2, -2, 0)

    def value(x, y):
        return x * x - y * y

    def grad(x, y):
        return two * x, minus_two * y
    grad.scale = (2.0, -2.0)

    def hess(x, y):
        return two, zero, minus_two
    return value, grad, hess


def _rosenbrock():
    one, two, c400, c200, c100 = _consts(1, 2, 400, 200, 100)

    def value(x, y):                  # (1 - x)^2 + 100 (y - x^2)^2, random search's hot path
        a, r = one - x, y - x * x
        return a * a + c100 * (r * r)

    def grad(x, y):
        r = y - x * x
        return two * (x - one) - c400 * x * r, c200 * r

    three, c_400 = _consts(3, -400)

    def hess(x, y):
        return two - c400 * (y - three * x * x), c_400 * x, c200
    return value, grad, hess


def _beale():
    c = (1.5, 2.25, 2.625)

    def value(x, y):
        return sum((ci - x + x * y ** k) ** 2 for k, ci in enumerate(c, 1))

    def grad(x, y):
        # the arithmetic of sum_k 2 r_k (y^k - 1), 2 r_k k x y^(k-1) with each power
        # computed once (the engine's hot path; x y^0 is x exactly)
        y2, y3 = y ** 2, y ** 3
        r1, r2, r3 = c[0] - x + x * y, c[1] - x + x * y2, c[2] - x + x * y3
        gx = 2 * r1 * (y - 1) + 2 * r2 * (y2 - 1) + 2 * r3 * (y3 - 1)
        gy = 2 * r1 * 1 * x + 2 * r2 * 2 * x * y + 2 * r3 * 3 * x * y2
        return gx, gy

    def hess(x, y):
        hxx = hxy = hyy = 0
        for k, ci in enumerate(c, 1):
            r = ci - x + x * y ** k
            rx, ry = y ** k - 1, k * x * y ** (k - 1)
            ryy = k * (k - 1) * x * y ** (k - 2) if k > 1 else 0 * x
            rxy = k * y ** (k - 1)
            hxx = hxx + 2 * rx * rx
            hxy = hxy + 2 * (rx * ry + r * rxy)
            hyy = hyy + 2 * (ry * ry + r * ryy)
        return hxx, hxy, hyy
    return value, grad, hess


def _himmelblau():
    def value(x, y):
        return (x * x + y - 11) ** 2 + (x + y * y - 7) ** 2

    c2, c4, c7, c11 = _consts(2, 4, 7, 11)

    def grad(x, y):
        a, b = x * x + y - c11, x + y * y - c7
        return c4 * x * a + c2 * b, c2 * a + c4 * y * b

    def hess(x, y):
        a, b = x * x + y - 11, x + y * y - 7
        return 4 * a + 8 * x * x + 2, 4 * x + 4 * y, 2 + 4 * b + 8 * y * y
    return value, grad, hess


def _camel():
    def value(x, y):
        x2 = x * x
        return 2 * x2 - 1.05 * x2 * x2 + x2 * x2 * x2 / 6 + x * y + y * y

    c2, c4, c4_2, one = _consts(2, 4, 4.2, 1)

    def grad(x, y):
        x2 = x * x
        return c4 * x - c4_2 * x2 * x + x2 * x2 * x + y, x + c2 * y

    def hess(x, y):
        x2 = x * x
        return 4 - 12.6 * x2 + 5 * x2 * x2, one, c2
    return value, grad, hess


def _rastrigin():
    tau = 2 * math.pi

    def value(x, y):
        return 20 + x * x - 10 * np.cos(tau * x) + y * y - 10 * np.cos(tau * y)

    two, k, tau_, zero = _consts(2, 10 * tau, tau, 0)

    def grad(x, y):
        return two * x + k * np.sin(tau_ * x), two * y + k * np.sin(tau_ * y)

    def hess(x, y):
        k = 10 * tau * tau
        return 2 + k * np.cos(tau * x), zero, 2 + k * np.cos(tau * y)
    return value, grad, hess


def _ackley():
    tau = 2 * math.pi
    tiny = 1e-12   # the cone tip at the origin: gradient 0 there, Hessian kept finite

    def value(x, y):
        r = np.sqrt(0.5 * (x * x + y * y))
        return (-20 * np.exp(-0.2 * r) - np.exp(0.5 * (np.cos(tau * x) + np.cos(tau * y)))
                + math.e + 20)

    half, tiny_, two, minus_fifth, pi, tau_ = _consts(0.5, tiny, 2, -0.2, math.pi, tau)

    def grad(x, y):
        tx, ty = tau_ * x, tau_ * y
        r = np.maximum(np.sqrt(half * (x * x + y * y)), tiny_)
        a = two * np.exp(minus_fifth * r) / r          # d/dx of the cone term is a * x
        b = np.exp(half * (np.cos(tx) + np.cos(ty))) * pi
        return a * x + b * np.sin(tx), a * y + b * np.sin(ty)

    def hess(x, y):
        r = np.maximum(np.sqrt(0.5 * (x * x + y * y)), tiny)
        e1 = np.exp(-0.2 * r)
        a = 2 * e1 / r
        # da/dx = a' (r) * dr/dx, dr/dx = x / (2 r)
        da_dr = -0.4 * e1 / r - 2 * e1 / (r * r)
        ax, ay = da_dr * x / (2 * r), da_dr * y / (2 * r)
        b = np.exp(0.5 * (np.cos(tau * x) + np.cos(tau * y))) * math.pi
        sx, sy = np.sin(tau * x), np.sin(tau * y)
        bx, by = -b * math.pi * sx, -b * math.pi * sy
        hxx = a + ax * x + bx * sx + b * tau * np.cos(tau * x)
        hyy = a + ay * y + by * sy + b * tau * np.cos(tau * y)
        hxy = ay * x + by * sx
        return hxx, hxy, hyy
    return value, grad, hess


# Lecture demo "gradient descent with local minimum": a tilted double well in x.
# L = x^4/4 - x^2 + 0.5 x + y^2. Local minimum near x = 1.27, barrier near x = 0.26,
# global minimum near x = -1.5. From (2.5, 1.0), GD (any lr) settles in the shallow
# local well; momentum 0.9 at lr 0.01 to 0.05 carries enough speed over the barrier.
_LM_TILT = 0.5


def _local_minimum():
    def value(x, y):
        return 0.25 * x ** 4 - x * x + _LM_TILT * x + y * y

    two, tilt, zero = _consts(2, _LM_TILT, 0)

    def grad(x, y):
        return x ** 3 - two * x + tilt, two * y

    def hess(x, y):
        return 3 * x * x - 2, zero, two
    return value, grad, hess


# Plateau and cliff: a high, almost flat plateau (x < 0) drops over a steep cliff
# (width ~ 1/K) into a valley with its minimum at (2, 0).
# L = H * sigmoid(-K x) + 0.05 (x - 2)^2 + 0.5 y^2
_CLIFF_H, _CLIFF_K = 4.0, 25.0


def _plateau_cliff():
    H, K = _CLIFF_H, _CLIFF_K

    def sig(z):
        return 0.5 * (1 + np.tanh(0.5 * z))   # overflow-free logistic

    def value(x, y):
        return H * sig(-K * x) + 0.05 * (x - 2) ** 2 + 0.5 * y * y

    def grad(x, y):
        s = sig(-K * x)
        return -H * K * s * (1 - s) + 0.1 * (x - 2), 1.0 * y

    zero, one = _consts(0, 1)

    def hess(x, y):
        s = sig(-K * x)
        return H * K * K * s * (1 - s) * (1 - 2 * s) + 0.1, zero, one
    return value, grad, hess


def _build() -> dict[str, Surface]:
    s = [
        _surface("bowl", "Well-conditioned bowl", r"L = w_1^2 + 2 w_2^2",
                 "Similar curvature in both directions: plain gradient descent heads "
                 "almost straight for the minimum.",
                 _quadratic(1.0, 0.0, 2.0), (-4, 4, -4, 4), (-3.5, 3.0), minima=[(0, 0)],
                 expression='x**2 + 2*y**2',
                 cost=SurfaceCost(2, 1, 1, 1, 4, 3)),
        _surface("ill_conditioned", "Ill-conditioned quadratic", r"L = 0.1 w_1^2 + 2 w_2^2",
                 "Much steeper in w2 than in w1: one learning rate is too slow for w1 and "
                 "too fast for w2 (GD: slow at 0.01, oscillating at 0.48, unstable at 0.51).",
                 _quadratic(0.1, 0.0, 2.0), (-10, 10, -5, 5), (-9.0, 3.0), minima=[(0, 0)],
                 expression='0.1*x**2 + 2*y**2',
                 cost=SurfaceCost(2, 1, 1, 1, 4, 3)),
        rotated_quadratic(),
        _surface("saddle", "Saddle", r"L = x^2 - y^2",
                 "Zero gradient without a minimum: from the ridge gradient descent stalls "
                 "near the saddle, while noise, momentum and Adam slide off it.",
                 _saddle(), (-2, 2, -2, 2), (-1.8, 0.001), saddles=[(0, 0)],
                 expression='x**2 - y**2',
                 cost=SurfaceCost(2, 1, 1, 1, 2, 1)),
        _surface("rosenbrock", "Rosenbrock", r"L = (1 - x)^2 + 100 (y - x^2)^2",
                 "A curved, narrow valley: finding it is easy, following it to the "
                 "minimum is slow without momentum or adaptive steps.",
                 _rosenbrock(), (-2, 2, -1, 3), (-1.5, 2.0), minima=[(1, 1)],
                 expression='(1 - x)**2 + 100*(y - x**2)**2',
                 cost=SurfaceCost(8, 3, 3, 2, 4, 2)),
        _surface("beale", "Beale",
                 r"L = (1.5 - x + xy)^2 + (2.25 - x + xy^2)^2 + (2.625 - x + xy^3)^2",
                 "Flat plateaus next to very steep walls: gradient scales vary by orders "
                 "of magnitude, which adaptive methods handle and plain GD does not.",
                 _beale(), (-4.5, 4.5, -4.5, 4.5), (-1.0, 1.5), minima=[(3, 0.5)],
                 expression='(1.5 - x + x*y)**2 + (2.25 - x + x*y**2)**2 + (2.625 - x + x*y**3)**2',
                 cost=SurfaceCost(36, 20, 60, 45, 13, 9)),
        _surface("himmelblau", "Himmelblau", r"L = (x^2 + y - 11)^2 + (x + y^2 - 7)^2",
                 "Four equally good minima: which one you reach depends on where you "
                 "start and on the optimizer.",
                 _himmelblau(), (-5, 5, -5, 5), (-0.3, -0.9),
                 minima=[(3, 2), (-2.805118, 3.131312), (-3.779310, -3.283186),
                         (3.584428, -1.848126)],
                 saddles=[(0.086677, 2.884254), (-3.073025, -0.081353),
                          (3.385154, 0.073852), (-0.127961, -1.953715)],
                 expression='(x**2 + y - 11)**2 + (x + y**2 - 7)**2',
                 cost=SurfaceCost(8, 5, 11, 10, 5, 4)),
        _surface("three_hump_camel", "Three-hump camel",
                 r"L = 2x^2 - 1.05x^4 + \tfrac{x^6}{6} + xy + y^2",
                 "One global and two local minima separated by saddles: a small step "
                 "stays in the nearest basin, momentum can hop across.",
                 _camel(), (-2.5, 2.5, -2.5, 2.5), (2.2, -2.0),
                 minima=[(0, 0), (1.7476, -0.8738), (-1.7476, 0.8738)],
                 saddles=[(1.0705, -0.5352), (-1.0705, 0.5352)],
                 expression='2*x**2 - 1.05*x**4 + x**6/6 + x*y + y**2',
                 cost=SurfaceCost(6, 4, 4, 3, 8, 5)),
        _surface("rastrigin", "Rastrigin",
                 r"L = 20 + \sum_{z \in \{x, y\}} \left(z^2 - 10 \cos 2\pi z\right)",
                 "A bowl covered in ripples: hundreds of local minima trap gradient "
                 "descent; noise and large steps see the bowl underneath.",
                 _rastrigin(), (-3, 3, -3, 3), (2.3, 1.7), minima=[(0, 0)],
                 expression='20 + x**2 - 10*cos(2*pi*x) + y**2 - 10*cos(2*pi*y)',
                 cost=SurfaceCost(40, 4, 30, 5, 30, 6)),
        _surface("ackley", "Ackley",
                 r"L = -20 e^{-0.2\sqrt{(x^2+y^2)/2}} - e^{(\cos 2\pi x + \cos 2\pi y)/2}"
                 r" + e + 20",
                 "A nearly flat outer region full of small dimples around one deep hole: "
                 "local gradients say little about where the global minimum is.",
                 _ackley(), (-4, 4, -4, 4), (2.6, 2.2), minima=[(0, 0)],
                 expression="-20*exp(-0.2*sqrt(0.5*(x**2 + y**2)))"
                            " - exp(0.5*(cos(2*pi*x) + cos(2*pi*y))) + e + 20",
                 cost=SurfaceCost(80, 11, 115, 30, 32, 9)),
        _surface("local_minimum", "Gradient descent with local minimum",
                 r"L = \tfrac14 x^4 - x^2 + \tfrac12 x + y^2",
                 "A shallow local minimum beside the global one: gradient descent from the "
                 "right settles in the shallow well, momentum rolls through to the deeper one.",
                 _local_minimum(), (-2.5, 3.0, -1.5, 1.5), (2.5, 1.0),
                 minima=[(-1.6, 0), (1.1, 0)], saddles=[(0.26, 0)],
                 expression='0.25*x**4 - x**2 + 0.5*x + y**2',
                 cost=SurfaceCost(5, 3, 2, 2, 7, 4)),
        _surface("plateau_cliff", "Plateau and cliff",
                 r"L = 4\,\sigma(-25x) + 0.05 (x-2)^2 + \tfrac12 y^2",
                 "A flat plateau ends in a steep cliff: the gradient there explodes and one "
                 "step catapults the point far away, unless the gradient is clipped.",
                 _plateau_cliff(), (-4, 6, -3, 3), (-3.5, 2.0), minima=[(2, 0)],
                 expression='4/(1 + exp(25*x)) + 0.05*(x - 2)**2 + 0.5*y**2',
                 cost=SurfaceCost(6, 7, 10, 7, 9, 7)),
    ]
    from .data import data_surfaces  # empirical risks of tiny models (optviz.data)
    s += data_surfaces(_surface, SurfaceCost)
    return {surface.name: surface for surface in s}


#: Every built-in surface by name.
SURFACES: dict[str, Surface] = _build()


def get_surface(name: str, params: Mapping[str, float] | None = None) -> Surface:
    """The surface ``name`` with ``params`` bound (raises KeyError for unknown names);
    ``"formula:<text>"`` is a formula surface (:mod:`optviz.formula`, FormulaError if
    the text is refused), ``"net:<keys>"`` a network's slice (:mod:`optviz.networks.slice`,
    NetworkError if refused)."""
    if isinstance(name, str) and name.startswith("formula:"):
        return formula_surface(name[len("formula:"):], **(params or {}))
    if isinstance(name, str) and name.startswith(NET_PREFIX):
        return named_slice(name)                # (a network's slice has no parameters)
    return SURFACES[name].with_params(**(params or {}))

