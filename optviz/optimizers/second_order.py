r"""Methods that use curvature: Newton's method with the surface's exact Hessian."""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from .base import Optimizer, lr_param, planes

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


def newton_tex(x):
    return rf"w_{{t+1}} = w_t - {x.rate}H(w_t)^{{-1}}\,g_t"


ENTRIES = [
    Optimizer("newton", "Newton", newton_init, newton_update, {"lr": lr_param(1.0)},
              newton_tex, step_us=10, color="#6b6b6b", evaluations={"hess": 1}),
]
