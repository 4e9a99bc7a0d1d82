r"""Steps whose length does not follow the gradient's size: sign descent and normalized
gradient descent. Every coordinate (sign methods) or the whole step (normalized) moves
by a length the method keeps, not by the gradient's size."""
from __future__ import annotations

import numpy as np

from .base import Optimizer, lr_param, no_state, planes, rate_only

__all__ = ["ENTRIES"]


def sign_update(w, g, s, lr, t, hp, ctx):
    r"""Sign gradient descent: :math:`w_{t+1} = w_t - \alpha\,\mathrm{sign}(g_t)`.

    Every coordinate moves by exactly alpha whatever the gradient's size: the limit of
    Adam with :math:`\beta_1 = \beta_2 = 0`.
    """
    w -= lr * np.sign(g)


def sign_tex(x):
    return rf"w_{{t+1}} = w_t - {x.rate}\mathrm{{sign}}(g_t)"


# -- normalized GD ----------------------------------------------------------------------------

def normalized_update(w, g, s, lr, t, hp, ctx):
    r"""Normalized gradient descent: :math:`w_{t+1} = w_t - \alpha\, g_t / \lVert g_t \rVert`.

    Steps of length alpha along the gradient direction (no step where g = 0).
    """
    p = planes(s, w, g)
    norm = np.hypot(p.gx, p.gy)
    # the usual case (no zero norm; count_nonzero costs a third of .all()): the same
    # arithmetic, fewer calls
    if np.count_nonzero(norm) == norm.size:
        w -= g * (lr / norm)
    else:
        w -= lr * np.divide(g, norm, out=np.zeros_like(g), where=norm > 0)


def normalized_inspect(s, g, lr, t, hp):
    norm = np.hypot(g[:, :1], g[:, 1:])
    return {"rate": lr / np.where(norm > 0, norm, np.inf)}


def normalized_tex(x):
    return rf"w_{{t+1}} = w_t - {x.rate}\frac{{g_t}}{{\lVert g_t \rVert}}"


ENTRIES = [
    Optimizer("sign", "Sign GD", no_state, sign_update, {"lr": lr_param(0.01)}, sign_tex,
              step_us=3, inspect=rate_only, color="#44AA99"),
    Optimizer("normalized", "Normalized GD", no_state, normalized_update,
              {"lr": lr_param(0.01)}, normalized_tex, step_us=6, inspect=normalized_inspect,
              color="#DDCC77"),
]
