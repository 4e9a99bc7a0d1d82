r"""Steps whose length does not follow the gradient's size: sign descent, Rprop, Lion
and normalized gradient descent. Every coordinate (sign methods) or the whole step
(normalized) moves by a length the method keeps, not by the gradient's size."""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from .base import (
    BETA_KNOBS,
    WEIGHT_DECAY,
    HyperParam,
    Optimizer,
    factor,
    lr_param,
    no_state,
    planes,
    rate_only,
)

__all__ = ["ENTRIES"]


def sign_update(w, g, s, lr, t, hp, ctx):
    r"""Sign gradient descent: :math:`w_{t+1} = w_t - \alpha\,\mathrm{sign}(g_t)`.

    Every coordinate moves by exactly alpha whatever the gradient's size: the limit of
    Adam with :math:`\beta_1 = \beta_2 = 0`.
    """
    w -= lr * np.sign(g)


def sign_tex(x):
    return rf"w_{{t+1}} = w_t - {x.rate}\mathrm{{sign}}(g_t)"


# -- Lion -------------------------------------------------------------------------------------

def lion_init(w, hp):
    return SimpleNamespace(m=np.zeros_like(w))


def lion_update(w, g, s, lr, t, hp, ctx):
    r"""Lion (Chen et al., 2023, "Symbolic Discovery of Optimization Algorithms"): the sign
    of an interpolation between the momentum and the gradient.

    .. math::
        c_t = \beta_1 m_t + (1-\beta_1) g_t \qquad
        w_{t+1} = w_t (1 - \alpha\lambda) - \alpha\,\mathrm{sign}(c_t) \qquad
        m_{t+1} = \beta_2 m_t + (1-\beta_2) g_t

    Every coordinate moves by exactly α (as sign GD), in the direction of a momentum that
    looks further back (β₂ = 0.99) than the step it takes (β₁ = 0.9). torch has no Lion;
    this is the paper's update (its Program 1), with decoupled weight decay.
    """
    if "weight_decay" in hp.active:
        w *= 1 - lr * hp.weight_decay
    c = hp.beta1 * s.m + (1 - hp.beta1) * g
    w -= lr * np.sign(c)
    s.m *= hp.beta2
    s.m += (1 - hp.beta2) * g


def lion_inspect(s, g, lr, t, hp):
    return {"m": s.m, "rate": lr}


def lion_tex(x):
    pre = rf"w_t \leftarrow (1 - {x.lr}\cdot{x['weight_decay']})\,w_t,\quad " \
        if x.on("weight_decay") else ""
    return (pre + rf"c_t = {x.times('beta1')}m_t + {factor(x.one_minus('beta1'))}g_t,\quad "
            rf"w_{{t+1}} = w_t - {x.rate}\mathrm{{sign}}(c_t),\quad "
            rf"m_{{t+1}} = {x.times('beta2')}m_t + {factor(x.one_minus('beta2'))}g_t")


# -- normalized GD ----------------------------------------------------------------------------

# -- Rprop ----------------------------------------------------------------------------------

def rprop_init(w, hp):
    return SimpleNamespace(prev=np.zeros_like(w), step=None)


def rprop_update(w, g, s, lr, t, hp, ctx):
    r"""Rprop (Riedmiller & Braun, 1993): sign descent with a step size per coordinate that
    grows while the gradient keeps its sign and shrinks when it flips; the sign-based
    ancestor of RMSProp.

    .. math::
        \Delta_t = \mathrm{clip}(\Delta_{t-1} \cdot
        \begin{cases} \eta^+ & g_t g_{t-1} > 0 \\ \eta^- & g_t g_{t-1} < 0 \\
        1 & \text{otherwise} \end{cases},\ \Delta_{\min}, \Delta_{\max}) \qquad
        w_{t+1} = w_t - \Delta_t\,\mathrm{sign}(g_t)

    with :math:`\Delta_0 = \alpha`. After a flip the coordinate does not move and
    :math:`g_t` is remembered as 0 (torch's iRprop⁻). As in torch, the rate is only the
    first step size: a schedule does not act after the first update.
    """
    if s.step is None:
        s.step = np.zeros_like(w) + lr
    sign = np.sign(g * s.prev)
    factor = np.where(sign > 0, hp.etaplus, np.where(sign < 0, hp.etaminus, 1.0))
    s.step *= factor
    np.clip(s.step, hp.step_size_min, hp.step_size_max, out=s.step)
    g = np.where(factor == hp.etaminus, 0.0, g)
    w -= np.sign(g) * s.step
    s.prev[...] = g


def rprop_inspect(s, g, lr, t, hp):
    return {"rate": s.step}


def rprop_tex(x):
    return (rf"\Delta_t = \Delta_{{t-1}} \cdot ({x['etaplus']} \text{{ if }} g_t g_{{t-1}} > 0,\ "
            rf"{x['etaminus']} \text{{ if }} < 0),\ \Delta_0 = {x['lr']},\quad "
            r"w_{t+1} = w_t - \Delta_t\,\mathrm{sign}(g_t)")


# -- normalized GD ----------------------------------------------------------------------------

def normalized_update(w, g, s, lr, t, hp, ctx):
    r"""Normalized gradient descent: :math:`w_{t+1} = w_t - \alpha\, g_t / \lVert g_t \rVert`.

    Steps of length alpha along the gradient direction (no step where g = 0). The norm
    is over all of a point's coordinates: a surface's two, a network's D parameters.
    """
    norm = _norm(s, w, g)
    # the usual case (no zero norm; count_nonzero costs a third of .all()): the same
    # arithmetic, fewer calls
    if np.count_nonzero(norm) == norm.size:
        w -= g * (lr / norm)
    else:
        w -= lr * np.divide(g, norm, out=np.zeros_like(g), where=norm > 0)


def _norm(s, w, g):
    """Each point's gradient norm ``[rows, 1, points]``."""
    if g.shape[1] == 2:                         # (a surface: the two planes, as before)
        p = planes(s, w, g)
        return np.hypot(p.gx, p.gy)
    return np.sqrt(np.einsum("rdp,rdp->rp", g, g))[:, None]


def normalized_inspect(s, g, lr, t, hp):
    norm = np.hypot(g[:, :1], g[:, 1:]) if g.shape[1] == 2 else \
        np.sqrt(np.einsum("rdp,rdp->rp", g, g))[:, None]
    return {"rate": lr / np.where(norm > 0, norm, np.inf)}


def normalized_tex(x):
    return rf"w_{{t+1}} = w_t - {x.rate}\frac{{g_t}}{{\lVert g_t \rVert}}"


ENTRIES = [
    Optimizer("sign", "Sign GD", no_state, sign_update, {"lr": lr_param(0.01)}, sign_tex,
              step_us=3, inspect=rate_only, color="#44AA99"),
    Optimizer("rprop", "Rprop", rprop_init, rprop_update,
              {"lr": lr_param(1e-2),
               "etas": HyperParam((0.5, 1.2), (0.0, 1.0), (1.0, 10.0), kind="pair",
                                  symbol="η⁻, η⁺", low_open=True, high_open=False,
                                  parts=("etaminus", "etaplus")),
               "step_sizes": HyperParam((1e-6, 50.0), (0.0, 0.0), (1.0, 1e3), kind="pair",
                                        symbol="Δmin, Δmax",
                                        parts=("step_size_min", "step_size_max"))},
              rprop_tex, step_us=12, inspect=rprop_inspect, color="#117799", torch="Rprop"),
    Optimizer("lion", "Lion", lion_init, lion_update,
              {"lr": lr_param(1e-4),
               "betas": HyperParam((0.9, 0.99), 0.0, 1.0, kind="betas", symbol="β₁, β₂",
                                   high_open=True, parts=("beta1", "beta2")),
               "weight_decay": WEIGHT_DECAY},
              lion_tex, step_us=8, inspect=lion_inspect, color="#BB5566", knobs=BETA_KNOBS,
              decoupled_decay=True),
    Optimizer("normalized", "Normalized GD", no_state, normalized_update,
              {"lr": lr_param(0.01)}, normalized_tex, step_us=6, inspect=normalized_inspect,
              color="#DDCC77"),
]
