r"""The Adam family: Adam, AdamW, "Adam, almost" (no bias correction), Adamax, NAdam,
RAdam. Each keeps a first moment m and a second moment v (Adamax: an infinity norm u)."""
from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np

from .base import (
    BETA_KNOBS,
    BETAS,
    EPS,
    FLAG,
    WEIGHT_DECAY,
    HyperParam,
    Optimizer,
    active,
    coupled_l2,
    factor,
    lerp,
    lr_param,
    numbers,
)

__all__ = ["ENTRIES", "nadam_mu", "rectification"]


def adam_init(w, hp):
    return SimpleNamespace(m=np.zeros_like(w), v=np.zeros_like(w), tmp=np.empty_like(w),
                           vmax=np.zeros_like(w) if active(hp, "amsgrad") else None)


def _adam_core(w, g, s, lr, t, hp, decoupled):
    # In place, through one scratch array ``tmp``, in torch's order of operations: on a
    # million starts a new array per operation costs more than the arithmetic (about a
    # tenth of the run; benchmarks.engine).
    tmp = s.tmp
    if decoupled:
        w *= 1 - lr * hp.weight_decay         # AdamW: decay the weights, not the gradient
    else:
        g = coupled_l2(g, w, hp)
    lerp(s.m, g, 1 - hp.beta1, tmp)             # m <- m + (1 - beta1) (g - m)
    s.v *= hp.beta2                             # v <- beta2 v + (1 - beta2) g^2
    s.v += np.multiply(np.multiply(g, g, tmp), 1 - hp.beta2, tmp)
    bc1 = 1 - hp.beta1 ** t
    bc2_sqrt = (1 - hp.beta2 ** t) ** 0.5       # as torch writes it
    v = s.v
    if s.vmax is not None:
        np.maximum(s.vmax, s.v, out=s.vmax)
        v = np.where(hp.amsgrad, s.vmax, s.v)
    denom = np.add(np.divide(np.sqrt(v, tmp), bc2_sqrt, tmp), hp.eps, tmp)
    w -= np.multiply(np.divide(s.m, denom, tmp), lr / bc1, tmp)   # (lr / bc1) m / denom


def adam_update(w, g, s, lr, t, hp, ctx):
    r"""Adam (Kingma & Ba, 2015), the slides' "full form".

    .. math::
        m_{t+1} = \beta_1 m_t + (1-\beta_1) g_t \qquad
        v_{t+1} = \beta_2 v_t + (1-\beta_2) g_t^2 \\
        \hat m = \frac{m_{t+1}}{1-\beta_1^t} \qquad \hat v = \frac{v_{t+1}}{1-\beta_2^t}
        \qquad w_{t+1} = w_t - \alpha \frac{\hat m}{\sqrt{\hat v} + \epsilon}

    torch adds eps after dividing :math:`\sqrt{v}` by :math:`\sqrt{1-\beta_2^t}`, which is
    the slide's :math:`\sqrt{\hat v} + \epsilon`. ``weight_decay`` is coupled L2 (added to
    g); ``amsgrad`` divides by the running maximum of v instead.
    """
    _adam_core(w, g, s, lr, t, hp, decoupled=False)


def adamw_update(w, g, s, lr, t, hp, ctx):
    r"""AdamW (Loshchilov & Hutter, 2019): Adam with decoupled weight decay.

    .. math:: w \leftarrow w (1 - \alpha_t \lambda) \text{ then the Adam step}

    The decay multiplies the weights by the scheduled rate times lambda, and does not go
    through the moment estimates (Adam's ``weight_decay`` does: coupled L2).
    """
    _adam_core(w, g, s, lr, t, hp, decoupled=True)


def adam_inspect(s, g, lr, t, hp):
    v_hat = s.v / (1 - hp.beta2 ** t)
    return {"m": s.m, "v": s.v, "rate": lr / (np.sqrt(v_hat) + hp.eps)}


def adam_fused(hp, lr, t):
    b1, b2 = hp["betas"]
    return b1, 1 - b1, b2, 1 - b2, b1, 1 - b1, 0.0, 1.0, np.sqrt(1 - b2 ** t), hp["eps"], \
        lr / (1 - b1 ** t)


def _no_amsgrad(hp):
    """amsgrad rows keep their own kernel (the running maximum)."""
    return not hp["amsgrad"]


def _moments(x, second=True):
    m = rf"m_{{t+1}} = {x.times('beta1')}m_t + {factor(x.one_minus('beta1'))}g_t"
    v = rf"v_{{t+1}} = {x.times('beta2')}v_t + {factor(x.one_minus('beta2'))}g_t^2"
    return rf"{m},\quad {v}" if second else m


def adam_tex(x, note=""):
    return (rf"{_moments(x)},\quad \hat m = \frac{{m_{{t+1}}}}{{1 - {x['beta1']}^t}},\ "
            rf"\hat v = \frac{{v_{{t+1}}}}{{1 - {x['beta2']}^t}},\quad "
            rf"w_{{t+1}} = w_t - \frac{{{x.lr}}}{{\sqrt{{\hat v}} + {x['eps']}}} \odot \hat m"
            + note)


def adamw_tex(x):
    pre = rf"w_t \leftarrow (1 - {x.lr}\cdot{x['weight_decay']})\,w_t,\quad " \
        if x.on("weight_decay") else ""
    return pre + adam_tex(x)


# -- Adam, almost ---------------------------------------------------------------------------

def adam_nobias_init(w, hp):
    return SimpleNamespace(m=np.zeros_like(w), v=np.zeros_like(w))


def adam_nobias_update(w, g, s, lr, t, hp, ctx):
    r"""Adam, almost: the slides' version without bias correction.

    .. math::
        m_{t+1} = \beta_1 m_t + (1-\beta_1) g_t \qquad
        v_{t+1} = \beta_2 v_t + (1-\beta_2) g_t^2 \qquad
        w_{t+1} = w_t - \alpha \frac{m_{t+1}}{\sqrt{v_{t+1}} + \epsilon}

    The moments start at zero, so the first step is
    :math:`\alpha (1-\beta_1) g / (\sqrt{1-\beta_2}|g|)`, about :math:`3.2\alpha` per
    coordinate for the default betas: the bias correction exists to remove that.
    """
    s.m *= hp.beta1
    s.m += (1 - hp.beta1) * g
    s.v *= hp.beta2
    s.v += (1 - hp.beta2) * (g * g)
    w -= lr * (s.m / (np.sqrt(s.v) + hp.eps))


def adam_nobias_inspect(s, g, lr, t, hp):
    return {"m": s.m, "v": s.v, "rate": lr / (np.sqrt(s.v) + hp.eps)}


def adam_nobias_tex(x):
    return (rf"{_moments(x)},\quad "
            rf"w_{{t+1}} = w_t - \frac{{{x.lr}}}{{\sqrt{{v_{{t+1}}}} + {x['eps']}}}"
            r" \odot m_{t+1}")


def adam_nobias_fused(hp, lr, t):
    b1, b2 = hp["betas"]
    return b1, 1 - b1, b2, 1 - b2, b1, 1 - b1, 0.0, 1.0, 1.0, hp["eps"], lr


# -- Adamax ---------------------------------------------------------------------------------

def adamax_init(w, hp):
    return SimpleNamespace(m=np.zeros_like(w), u=np.zeros_like(w), tmp=np.empty_like(w))


def adamax_update(w, g, s, lr, t, hp, ctx):
    r"""Adamax (Kingma & Ba, 2015): Adam with the infinity norm.

    .. math::
        m_{t+1} = \beta_1 m_t + (1-\beta_1) g_t \qquad
        u_{t+1} = \max(\beta_2 u_t, |g_t| + \epsilon) \qquad
        w_{t+1} = w_t - \frac{\alpha}{1-\beta_1^t} \frac{m_{t+1}}{u_{t+1}}

    torch adds eps to :math:`|g|` inside the max (the paper has no eps).
    """
    k, tmp = numbers(s, hp, _adamax_numbers), s.tmp
    g = coupled_l2(g, w, hp)
    lerp(s.m, g, 1 - hp.beta1)
    s.u *= k.beta2
    np.maximum(s.u, np.add(np.abs(g, tmp), k.eps, tmp), out=s.u)
    tmp = np.divide(s.m, s.u, tmp)
    tmp *= lr / (1 - hp.beta1 ** t)
    w -= tmp


def _adamax_numbers(hp):
    return {"beta2": hp.beta2, "eps": hp.eps}


def adamax_inspect(s, g, lr, t, hp):
    return {"m": s.m, "v": s.u, "rate": lr / s.u}


def adamax_tex(x):
    return (rf"{_moments(x, second=False)},\quad "
            rf"u_{{t+1}} = \max({x.times('beta2')}u_t,\ |g_t| + {x['eps']}),\quad "
            rf"w_{{t+1}} = w_t - \frac{{{x.lr}}}{{1 - {x['beta1']}^t}}\,"
            r"\frac{m_{t+1}}{u_{t+1}}")


# -- NAdam ----------------------------------------------------------------------------------

def nadam_init(w, hp):
    return SimpleNamespace(m=np.zeros_like(w), v=np.zeros_like(w),
                           mu_product=np.ones_like(np.asarray(hp.beta1, dtype=float)))


def nadam_mu(beta1, momentum_decay, t):
    r"""torch's momentum schedule :math:`\mu_t = \beta_1 (1 - \tfrac12 0.96^{t \psi})`."""
    return beta1 * (1.0 - 0.5 * 0.96 ** (t * momentum_decay))


def nadam_update(w, g, s, lr, t, hp, ctx):
    r"""NAdam (Dozat, 2016): Adam with Nesterov momentum, torch's momentum schedule.

    .. math::
        \mu_t = \beta_1 (1 - \tfrac12 0.96^{t \psi}) \qquad
        w_{t+1} = w_t - \alpha \frac{1-\mu_t}{1-\prod_{i\le t}\mu_i}
        \frac{g_t}{\sqrt{\hat v}+\epsilon}
        - \alpha \frac{\mu_{t+1}}{1-\prod_{i\le t+1}\mu_i} \frac{m_{t+1}}{\sqrt{\hat v}+\epsilon}

    :math:`\psi` is ``momentum_decay`` (4e-3).
    """
    g = coupled_l2(g, w, hp)
    mu = nadam_mu(hp.beta1, hp.momentum_decay, t)
    mu_next = nadam_mu(hp.beta1, hp.momentum_decay, t + 1)
    s.mu_product = s.mu_product * mu
    lerp(s.m, g, 1 - hp.beta1)
    s.v *= hp.beta2
    s.v += (1 - hp.beta2) * (g * g)
    denom = np.sqrt(s.v / (1 - hp.beta2 ** t)) + hp.eps
    w -= (lr * (1.0 - mu) / (1.0 - s.mu_product)) * (g / denom)
    w -= (lr * mu_next / (1.0 - s.mu_product * mu_next)) * (s.m / denom)


def nadam_fused(hp, lr, t):
    b1, b2 = hp["betas"]
    mu = nadam_mu(b1, hp["momentum_decay"], np.append(t, t[-1] + 1))
    prod = np.cumprod(mu)
    p = (1.0 - mu[:-1]) / (1.0 - prod[:-1])
    q = mu[1:] / (1.0 - prod[:-1] * mu[1:])
    return b1, 1 - b1, b2, 1 - b2, b1, 1 - b1, p, q, np.sqrt(1 - b2 ** t), hp["eps"], lr


# -- RAdam ----------------------------------------------------------------------------------

def rectification(beta2, t):
    r"""RAdam's switch and factor: ``(on, r_t, 1 - beta2^t)`` with ``on`` where
    :math:`\rho_t > 5` and there :math:`r_t = \sqrt{(\rho_t-4)(\rho_t-2)\rho_\infty /
    ((\rho_\infty-4)(\rho_\infty-2)\rho_t)}`
    (elsewhere a finite placeholder). Floats in, floats out; arrays in, arrays out."""
    rho_inf = 2 / (1 - beta2) - 1
    bc2 = 1 - beta2 ** t
    rho_t = rho_inf - 2 * t * (beta2 ** t) / bc2
    on = rho_t > 5.0
    if isinstance(on, (bool, np.bool_)) and not isinstance(rho_t, np.ndarray):
        if not on:
            return False, 1.0, bc2
        return True, math.sqrt((rho_t - 4) * (rho_t - 2) * rho_inf
                               / ((rho_inf - 4) * (rho_inf - 2) * rho_t)), bc2
    rho_ok = np.where(on, rho_t, 6.0)                 # keeps the root real where unused
    return on, np.sqrt((rho_ok - 4) * (rho_ok - 2) * rho_inf
                       / ((rho_inf - 4) * (rho_inf - 2) * rho_ok)), bc2


def radam_update(w, g, s, lr, t, hp, ctx):
    r"""RAdam (Liu et al., 2020): Adam whose adaptive step is switched on only once the
    variance of :math:`\hat v` is tractable.

    .. math::
        \rho_\infty = \frac{2}{1-\beta_2} - 1 \qquad
        \rho_t = \rho_\infty - \frac{2 t \beta_2^t}{1 - \beta_2^t} \\
        w_{t+1} = w_t - \alpha \hat m \cdot
        \begin{cases} r_t \sqrt{1-\beta_2^t} / (\sqrt{v_{t+1}} + \epsilon) & \rho_t > 5 \\
                      1 & \text{otherwise (plain momentum)} \end{cases}
    """
    g = coupled_l2(g, w, hp)
    lerp(s.m, g, 1 - hp.beta1)
    s.v *= hp.beta2
    s.v += (1 - hp.beta2) * (g * g)
    on, r_t, bc2 = rectification(hp.beta2, t)
    m_hat = s.m / (1 - hp.beta1 ** t)
    if on is True:                       # one beta2 for every row: decided in Python
        w -= m_hat * lr * (math.sqrt(bc2) / (np.sqrt(s.v) + hp.eps)) * r_t
    elif on is False:
        w -= m_hat * lr
    elif on.any():
        adaptive = m_hat * lr * (np.sqrt(bc2) / (np.sqrt(s.v) + hp.eps)) * r_t
        w -= np.where(on, adaptive, m_hat * lr) if not on.all() else adaptive
    else:
        w -= m_hat * lr


def radam_inspect(s, g, lr, t, hp):
    on, r_t, bc2 = rectification(hp.beta2, t)
    adaptive = lr * r_t * np.sqrt(bc2) / (np.sqrt(s.v) + hp.eps)
    return {"m": s.m, "v": s.v, "rate": np.where(on, adaptive, lr)}


def radam_fused(hp, lr, t):
    b1, b2 = hp["betas"]
    on, r_t, bc2 = rectification(b2, t)
    s, e = np.where(on, 1.0, np.inf), np.where(on, hp["eps"], 1.0)   # off: a momentum step
    eta = np.where(on, lr * r_t * np.sqrt(bc2), lr) / (1 - b1 ** t)
    return b1, 1 - b1, b2, 1 - b2, b1, 1 - b1, 0.0, 1.0, s, e, eta


def _hyper(lr=1e-3, **extra):
    return {"lr": lr_param(lr), "betas": BETAS, "eps": EPS, "weight_decay": WEIGHT_DECAY,
            **extra}


ENTRIES = [
    Optimizer("adam", "Adam", adam_init, adam_update, _hyper(amsgrad=FLAG), adam_tex,
              step_us=10, inspect=adam_inspect, color="#000000", knobs=BETA_KNOBS,
              fused=adam_fused, fuses=_no_amsgrad, torch="Adam"),
    Optimizer("adamw", "AdamW", adam_init, adamw_update,
              _hyper(weight_decay=HyperParam(1e-2, 0.0, 10.0, symbol="λ", tex=r"\lambda"),
                     amsgrad=FLAG),
              adamw_tex, step_us=10, inspect=adam_inspect, color="#332288", knobs=BETA_KNOBS,
              fused=adam_fused, fuses=_no_amsgrad, decoupled_decay=True, torch="AdamW"),
    Optimizer("adam_nobias", "Adam (no bias correction)", adam_nobias_init, adam_nobias_update,
              {"lr": lr_param(1e-3), "betas": BETAS, "eps": EPS}, adam_nobias_tex,
              step_us=8, inspect=adam_nobias_inspect, color="#88CCEE", knobs=BETA_KNOBS,
              fused=adam_nobias_fused),
    Optimizer("adamax", "Adamax", adamax_init, adamax_update, _hyper(2e-3), adamax_tex,
              step_us=8, inspect=adamax_inspect, color="#117733", knobs=BETA_KNOBS,
              torch="Adamax"),
    Optimizer("nadam", "NAdam", nadam_init, nadam_update,
              _hyper(2e-3, momentum_decay=HyperParam(4e-3, 0.0, 1.0, symbol="ψ", tex=r"\psi")),
              lambda x: adam_tex(x, r"\ \text{(with a Nesterov look-ahead on } \hat m)"),
              step_us=12, inspect=adam_inspect, color="#999933", knobs=BETA_KNOBS,
              fused=nadam_fused, torch="NAdam"),
    Optimizer("radam", "RAdam", adam_nobias_init, radam_update, _hyper(),
              lambda x: adam_tex(x, r"\ \text{(plain momentum until } \rho_t > 5)"),
              step_us=12, inspect=radam_inspect, color="#882255", knobs=BETA_KNOBS,
              fused=radam_fused, torch="RAdam"),
]
