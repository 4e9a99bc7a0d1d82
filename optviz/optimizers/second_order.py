r"""Methods that use curvature: Newton's method with the surface's exact Hessian, and
L-BFGS, which builds an inverse Hessian from the gradients it has seen."""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from .base import HyperParam, Optimizer, lr_param, planes

__all__ = ["ENTRIES"]


def newton_init(w, hp):
    step, bg = np.empty_like(w), np.empty_like(w)
    return SimpleNamespace(step=step, sx=step[:, :1], sy=step[:, 1:],
                           bg=bg, bgy=bg[:, :1], bgx=bg[:, 1:])


def newton_update(w, g, s, lr, t, hp, ctx):
    r"""Damped Newton's method: :math:`w_{t+1} = w_t - \alpha H(w_t)^{-1} g_t`.

    Uses the surface's exact Hessian (and the gradient the point saw, noise included).
    Where H is singular (:math:`|\det H| \le 10^{-12}\,\lVert H \rVert^2`) it falls back to
    a gradient step :math:`w - \alpha g`. On an indefinite Hessian it does **not** fall
    back: the Newton step jumps to the stationary point of the local quadratic model,
    so near a saddle it is *attracted* to the saddle (Dauphin et al., 2014) - the lesson.
    """
    if ctx.tensors is not None:                   # a network: a D x D Hessian a point
        return _newton_vectors(w, g, lr, ctx)
    p = planes(s, w, g)
    a, b, d = ctx.surface.hess_xy(p.wx, p.wy)                   # each [rows, 1, points]
    det = a * d - b * b
    # ||H||^2 = a^2 + d^2 + 2 b^2 = (a + d)^2 - 2 det (fewer calls, and no 0-d times 0-d:
    # a constant entry is a 0-d array, and their product a NumPy scalar, a slow operand)
    scale = np.square(a + d)
    scale -= _TWO * det
    ok = np.abs(det) > _SINGULAR * scale
    if np.count_nonzero(ok) == ok.size:      # the usual case: the same arithmetic, fewer calls
        # H^-1 g = [d gx - b gy, a gy - b gx] / det, plane by plane
        np.multiply(d, p.gx, s.sx)
        np.multiply(a, p.gy, s.sy)
        np.multiply(b, p.gy, s.bgy)
        np.multiply(b, p.gx, s.bgx)
        step = np.subtract(s.step, s.bg, s.step)
        step *= lr / det
    else:
        safe = np.where(ok, det, 1.0)
        gx, gy = p.gx, p.gy
        newton = np.concatenate([d * gx - b * gy, a * gy - b * gx], axis=1) / safe
        step = np.where(ok, newton, g) * lr
    w -= step


_SINGULAR, _TWO = np.array(1e-12), np.array(2.0)


def _newton_vectors(w, g, lr, ctx):
    """Newton's step at points of D coordinates: H⁻¹g with the Hessian ``ctx`` gives;
    a gradient step where H is singular (its condition number past 1e12), as in 2-D."""
    for r in range(w.shape[0]):
        rate = lr[r].ravel()[0] if isinstance(lr, np.ndarray) and lr.ndim else lr
        for j in range(w.shape[2]):
            H, gr = ctx.hessian_vector(w[r, :, j]), g[r, :, j]
            if np.linalg.cond(H) < 1 / _SINGULAR:
                step = np.linalg.solve(H, gr)
            else:
                step = gr
            w[r, :, j] -= rate * step


def newton_tex(x):
    return rf"w_{{t+1}} = w_t - {x.rate}H(w_t)^{{-1}}\,g_t"


# -- L-BFGS -----------------------------------------------------------------------------------
#
# torch's LBFGS with max_iter=1 (one iteration a step) and max_eval=26 (the line search
# keeps its full budget of 25 trials), point by point in Python floats: each point has its
# own history and its own line search, and on a page's few points scalar arithmetic is
# faster than NumPy's. torch's arithmetic is kept: dot products a0 b0 + a1 b1, and its
# ``add_(v, alpha=a)`` a fused multiply-add (single rounding), emulated exactly.

TOLERANCE_GRAD, TOLERANCE_CHANGE, MAX_EVAL = 1e-7, 1e-9, 26


def _two_product(a, b):
    """a*b = p + e exactly (Dekker)."""
    p = a * b
    c = 134217729.0 * a
    ah = c - (c - a)
    al = a - ah
    c = 134217729.0 * b
    bh = c - (c - b)
    bl = b - bh
    return p, ((ah * bh - p) + ah * bl + al * bh) + al * bl


def _fma(a, b, c):
    """a*b + c rounded once, as torch's CPU kernels compute ``c.add_(b, alpha=a)``."""
    p, e = _two_product(a, b)
    s = p + c
    z = s - p
    return s + (((p - (s - z)) + (c - z)) + e)


def _axpy(a, v, w):
    return _fma(a, v[0], w[0]), _fma(a, v[1], w[1])


def _dot(a, b):
    return a[0] * b[0] + a[1] * b[1]


def lbfgs_init(w, hp):
    rows, _, points = w.shape
    return SimpleNamespace(points=[[_Point() for _ in range(points)] for _ in range(rows)],
                           evals=np.zeros_like(w), rate=np.zeros_like(w))


class _Point:
    """One point's L-BFGS state (torch's ``state`` of the parameter)."""

    __slots__ = ("n_iter", "d", "t", "dirs", "stps", "ro", "h_diag", "prev_g", "stalled")

    def __init__(self):
        self.n_iter, self.d, self.t, self.prev_g, self.stalled = 0, None, None, None, False
        self.dirs, self.stps, self.ro, self.h_diag = [], [], [], 1.0


def _row(v, r):
    return v[r, 0, 0] if isinstance(v, np.ndarray) else v


def lbfgs_update(w, g, s, lr, t, hp, ctx):
    r"""L-BFGS (Liu & Nocedal, 1989), torch's ``LBFGS``: one iteration a step.

    .. math::
        d_t = -H_t g_t \qquad w_{t+1} = w_t + \tau_t d_t

    :math:`H_t` is the inverse Hessian the last ``history_size`` pairs
    :math:`s_k = w_{k+1} - w_k`, :math:`y_k = g_{k+1} - g_k` (those with
    :math:`y_k^\top s_k > 10^{-10}`) define, applied by the two-loop recursion from
    :math:`H^0 = \frac{y^\top s}{y^\top y} I`. The step :math:`\tau_t` is the rate
    (:math:`\min(1, 1/\lVert g_1 \rVert_1)\,\alpha` at the first step), or with
    ``line_search_fn='strong_wolfe'`` what a line search satisfying the strong Wolfe
    conditions finds, up to 25 trial points. A point whose gradient is below 1e-7, or
    whose direction no longer descends, does not move. The inspector shows how many
    function evaluations each step took (``evals``) and :math:`\tau_t` (``rate``).
    """
    wolfe = hp.line_search_fn
    if ctx is not None and ctx.tensors is not None:      # a network: D parameters a point
        return _lbfgs_vectors(w, g, s, lr, hp, ctx)
    for r, row in enumerate(s.points):
        a, history, search = _row(lr, r), int(_row(hp.history_size, r)), _row(wolfe, r)
        for j, p in enumerate(row):
            x, gr = (float(w[r, 0, j]), float(w[r, 1, j])), (float(g[r, 0, j]), float(g[r, 1, j]))
            evals, tau = _lbfgs_point(p, x, gr, a, history, search, ctx, ctx.lo + r, j)
            s.evals[r, :, j] = evals
            s.rate[r, :, j] = tau
            if tau:
                w[r, 0, j], w[r, 1, j] = _axpy(tau, p.d, x)


def _remember(p, y, s, ys, yy, history):
    """Keep the pair (s, y) in the point's history when it curves upward (y·s > 1e-10),
    dropping the oldest past ``history``, and take H⁰'s scale y·s / y·y (``yy()``)."""
    if ys > 1e-10:
        if len(p.dirs) == history:
            del p.dirs[0], p.stps[0], p.ro[0]
        p.dirs.append(y)
        p.stps.append(s)
        p.ro.append(1.0 / ys)
        p.h_diag = ys / yy()


def _lbfgs_point(p, x, g, lr, history, search, ctx, row, col):
    """One iteration at one point: (function evaluations, step taken along p.d or 0)."""
    if max(abs(g[0]), abs(g[1])) <= TOLERANCE_GRAD:
        return 1, 0.0
    if p.stalled and g == p.prev_g:
        # torch would find y = 0 (no new pair), the same direction and again no descent:
        # the same outcome without the two-loop recursion over the whole history
        p.n_iter += 1
        p.t = lr
        return 1, 0.0
    p.n_iter += 1
    if p.n_iter == 1:
        p.d, p.dirs, p.stps, p.ro, p.h_diag = (-g[0], -g[1]), [], [], [], 1.0
    else:
        y = (g[0] - p.prev_g[0], g[1] - p.prev_g[1])
        s = (p.d[0] * p.t, p.d[1] * p.t)
        _remember(p, y, s, _dot(y, s), lambda: _dot(y, y), history)
        q = (-g[0], -g[1])
        al = [0.0] * len(p.dirs)
        for i in range(len(p.dirs) - 1, -1, -1):
            al[i] = _dot(p.stps[i], q) * p.ro[i]
            q = _axpy(-al[i], p.dirs[i], q)
        r = (q[0] * p.h_diag, q[1] * p.h_diag)
        for i in range(len(p.dirs)):
            be = _dot(p.dirs[i], r) * p.ro[i]
            r = _axpy(al[i] - be, p.stps[i], r)
        p.d = r
    p.prev_g = g
    p.t = min(1.0, 1.0 / (abs(g[0]) + abs(g[1]))) * lr if p.n_iter == 1 else lr
    gtd = _dot(g, p.d)
    p.stalled = gtd > -TOLERANCE_CHANGE
    if p.stalled:
        return 1, 0.0
    if search != "strong_wolfe":
        return 1, p.t

    def at(step):                     # torch's obj_func: loss and gradient at x + step d
        f, gx, gy = ctx.evaluate(row, col, *_axpy(step, p.d, x))
        return f, _dot((gx, gy), p.d)

    f0 = ctx.evaluate(row, col, x[0], x[1], want_grad=False)[0]
    p.t, n = _strong_wolfe(at, p.t, p.d, f0, gtd, MAX_EVAL - 1)
    return 1 + n, p.t


def _lbfgs_vectors(w, g, s, lr, hp, ctx):
    """L-BFGS on points of D coordinates (a network's parameters, all its tensors
    flattened into one vector as torch's LBFGS flattens them), each point its own
    history and line search; ``ctx.evaluate_vector(row, col, theta) -> (loss, grad)``."""
    for r, row in enumerate(s.points):
        a, history = _row(lr, r), int(_row(hp.history_size, r))
        search = _row(hp.line_search_fn, r)
        for j, p in enumerate(row):
            x, gr = w[r, :, j].copy(), g[r, :, j].copy()
            evals, tau = _lbfgs_vector(p, x, gr, a, history, search, ctx, ctx.lo + r, j)
            s.evals[r, :, j] = evals
            s.rate[r, :, j] = tau
            if tau:
                w[r, :, j] = x + tau * p.d


def _lbfgs_vector(p, x, g, lr, history, search, ctx, row, col):
    """:func:`_lbfgs_point` with NumPy vectors (torch's arithmetic, its dot products
    summed in BLAS's order rather than emulated)."""
    if np.abs(g).max() <= TOLERANCE_GRAD:
        return 1, 0.0
    if p.stalled and np.array_equal(g, p.prev_g):
        p.n_iter += 1
        p.t = lr
        return 1, 0.0
    p.n_iter += 1
    if p.n_iter == 1:
        p.d, p.dirs, p.stps, p.ro, p.h_diag = -g, [], [], [], 1.0
    else:
        y = g - p.prev_g
        step = p.d * p.t
        _remember(p, y, step, float(y @ step), lambda: float(y @ y), history)
        q = -g
        al = [0.0] * len(p.dirs)
        for i in range(len(p.dirs) - 1, -1, -1):
            al[i] = float(p.stps[i] @ q) * p.ro[i]
            q = q - al[i] * p.dirs[i]
        d = q * p.h_diag
        for i in range(len(p.dirs)):
            be = float(p.dirs[i] @ d) * p.ro[i]
            d = d + (al[i] - be) * p.stps[i]
        p.d = d
    p.prev_g = g
    p.t = min(1.0, 1.0 / float(np.abs(g).sum())) * lr if p.n_iter == 1 else lr
    gtd = float(g @ p.d)
    p.stalled = gtd > -TOLERANCE_CHANGE
    if p.stalled:
        return 1, 0.0
    if search != "strong_wolfe":
        return 1, p.t

    def at(step):
        f, grad = ctx.evaluate_vector(row, col, x + step * p.d)
        return f, float(grad @ p.d)

    f0 = ctx.evaluate_vector(row, col, x)[0]
    p.t, n = _strong_wolfe(at, p.t, p.d, f0, gtd, MAX_EVAL - 1)
    return 1 + n, p.t


def _cubic(x1, f1, g1, x2, f2, g2, bounds=None):
    """The minimizer of the cubic through (x1, f1, g1) and (x2, f2, g2), within bounds.
    In float64 as torch's tensors compute it: a division by zero or an overflow gives inf
    or nan rather than an error (two points that coincide, a flat or huge cubic), and
    Python's min and max pass a nan through."""
    lo, hi = bounds if bounds is not None else ((x1, x2) if x1 <= x2 else (x2, x1))
    x1, f1, g1, x2, f2, g2 = (np.float64(v) for v in (x1, f1, g1, x2, f2, g2))
    with np.errstate(all="ignore"):
        d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2)
        d2_square = d1 ** 2 - g1 * g2
        if d2_square >= 0:
            d2 = np.sqrt(d2_square)
            if x1 <= x2:
                pos = x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2))
            else:
                pos = x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2))
            return float(min(max(pos, lo), hi))
    return float((lo + hi) / 2.0)


def _strong_wolfe(at, t, d, f, gtd, max_ls, c1=1e-4, c2=0.9):
    """torch's line search (minFunc's): a step satisfying the strong Wolfe conditions,
    bracketed then zoomed by cubic interpolation. Returns (step, evaluations)."""
    d_norm = float(np.max(np.abs(d)))               # (a 2-vector, or a network's D)
    f_new, gtd_new = at(t)
    evals, ls_iter = 1, 0
    t_prev, f_prev, gtd_prev = 0.0, f, gtd
    done = False
    while ls_iter < max_ls:
        if f_new > (f + c1 * t * gtd) or (ls_iter > 1 and f_new >= f_prev):
            bracket, bf, bg = [t_prev, t], [f_prev, f_new], [gtd_prev, gtd_new]
            break
        if abs(gtd_new) <= -c2 * gtd:
            bracket, bf, bg, done = [t], [f_new], [gtd_new], True
            break
        if gtd_new >= 0:
            bracket, bf, bg = [t_prev, t], [f_prev, f_new], [gtd_prev, gtd_new]
            break
        min_step, max_step = t + 0.01 * (t - t_prev), t * 10
        tmp = t
        t = _cubic(t_prev, f_prev, gtd_prev, t, f_new, gtd_new, bounds=(min_step, max_step))
        t_prev, f_prev, gtd_prev = tmp, f_new, gtd_new
        f_new, gtd_new = at(t)
        evals += 1
        ls_iter += 1
    if ls_iter == max_ls:
        bracket, bf, bg = [0, t], [f, f_new], [gtd, gtd_new]
    insuf_progress = False
    low, high = (0, 1) if bf[0] <= bf[-1] else (1, 0)
    while not done and ls_iter < max_ls:
        if abs(bracket[1] - bracket[0]) * d_norm < TOLERANCE_CHANGE:
            break
        t = _cubic(bracket[0], bf[0], bg[0], bracket[1], bf[1], bg[1])
        eps = 0.1 * (max(bracket) - min(bracket))
        if min(max(bracket) - t, t - min(bracket)) < eps:
            if insuf_progress or t >= max(bracket) or t <= min(bracket):
                t = max(bracket) - eps if abs(t - max(bracket)) < abs(t - min(bracket)) \
                    else min(bracket) + eps
                insuf_progress = False
            else:
                insuf_progress = True
        else:
            insuf_progress = False
        f_new, gtd_new = at(t)
        evals += 1
        ls_iter += 1
        if f_new > (f + c1 * t * gtd) or f_new >= bf[low]:
            bracket[high], bf[high], bg[high] = t, f_new, gtd_new
            low, high = (0, 1) if bf[0] <= bf[1] else (1, 0)
        else:
            if abs(gtd_new) <= -c2 * gtd:
                done = True
            elif gtd_new * (bracket[high] - bracket[low]) >= 0:
                bracket[high], bf[high], bg[high] = bracket[low], bf[low], bg[low]
            bracket[low], bf[low], bg[low] = t, f_new, gtd_new
    return bracket[low], evals


def lbfgs_inspect(s, g, lr, t, hp):
    return {"rate": s.rate, "evals": s.evals}


def lbfgs_tex(x):
    tau = r"\tau_t \text{ (strong Wolfe line search)}" if x.hp.get("line_search_fn") \
        else (rf"\tau_t = {x.lr}" if not x.symbolic else r"\tau_t = \alpha")
    return (rf"d_t = -H_t\,g_t \ (H_t \text{{ from the last }} {x['history_size']}"
            r"\ (s_k, y_k)),\quad w_{t+1} = w_t + \tau_t\,d_t,\quad " + tau)


def _lbfgs_hyper(line_search):
    return {"lr": lr_param(1.0),
            "history_size": HyperParam(100, 1, 1000, kind="int", symbol="m", tex="m"),
            "line_search_fn": HyperParam(line_search, kind="None|strong_wolfe")}


_LBFGS = dict(
    init=lbfgs_init, update=lbfgs_update, tex=lbfgs_tex, step_us=5, inspect=lbfgs_inspect,
    torch="LBFGS", torch_kwargs={"max_iter": 1, "max_eval": MAX_EVAL},
    point_us=lambda hp: 10 + 1.1 * min(hp["history_size"], 100),
    evaluations=lambda hp: {"grad": 2, "value": 1} if hp["line_search_fn"] else {},
    shows={"evals": "function evaluations this step (the line search's trials)"})

ENTRIES = [
    Optimizer("newton", "Newton", newton_init, newton_update, {"lr": lr_param(1.0)},
              newton_tex, step_us=10, color="#6b6b6b", evaluations={"hess": 1}),
    Optimizer("lbfgs", "L-BFGS", hyper=_lbfgs_hyper(None), color="#4477AA", **_LBFGS),
    # the same kernel with torch's line search on: a row of its own on the page
    Optimizer("lbfgs_wolfe", "L-BFGS + line search", hyper=_lbfgs_hyper("strong_wolfe"),
              kernel="lbfgs", color="#66CCEE", **_LBFGS),
]
