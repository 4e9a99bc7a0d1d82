r"""Per-coordinate rates from the gradient's history: AdaGrad, RMSProp, Adadelta,
Adafactor."""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from .base import (
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
    planes,
)

__all__ = ["ENTRIES"]


# -- AdaGrad ------------------------------------------------------------------------------

def adagrad_init(w, hp):
    return SimpleNamespace(v=np.zeros_like(w) + hp.initial_accumulator_value)


def adagrad_update(w, g, s, lr, t, hp, ctx):
    r"""AdaGrad (Duchi et al., 2011).

    .. math::
        v_{t+1} = v_t + g_t^2 \qquad
        w_{t+1} = w_t - \frac{\alpha_t}{\sqrt{v_{t+1}} + \epsilon} \odot g_t, \quad
        \alpha_t = \frac{\alpha}{1 + (t - 1)\,\text{lr\_decay}}

    torch puts eps (1e-10) outside the square root, as the lecture code does
    (``np.sqrt(grad_squared) + 1e-7``); one slide writes :math:`\sqrt{v + \epsilon}`.
    The accumulator only grows, so the effective step decays to zero.
    """
    g = coupled_l2(g, w, hp)
    clr = lr / (1 + (t - 1) * hp.lr_decay)
    s.v += g * g
    w -= clr * (g / (np.sqrt(s.v) + hp.eps))


def adagrad_inspect(s, g, lr, t, hp):
    return {"v": s.v, "rate": lr / (1 + (t - 1) * hp.lr_decay) / (np.sqrt(s.v) + hp.eps)}


def adagrad_tex(x):
    return (r"v_{t+1} = v_t + g_t^2,\quad w_{t+1} = w_t - "
            rf"\frac{{{x.lr}}}{{\sqrt{{v_{{t+1}}}} + {x['eps']}}} \odot g_t")


def adagrad_fused(hp, lr, t):
    eta = lr / (1 + (t - 1) * hp["lr_decay"])
    return 0.0, 1.0, 1.0, 1.0, 0.0, 1.0, 0.0, 1.0, 1.0, hp["eps"], eta


# -- RMSProp ------------------------------------------------------------------------------

def rmsprop_init(w, hp):
    return SimpleNamespace(v=np.zeros_like(w), gbar=np.zeros_like(w), buf=np.zeros_like(w))


def rmsprop_update(w, g, s, lr, t, hp, ctx):
    r"""RMSProp (Tieleman & Hinton, 2012): "leaky AdaGrad".

    .. math::
        v_{t+1} = \rho v_t + (1 - \rho) g_t^2 \qquad
        w_{t+1} = w_t - \frac{\alpha}{\sqrt{v_{t+1}} + \epsilon} \odot g_t

    torch calls the decay :math:`\rho` ``alpha`` (default 0.99) and the rate ``lr``.
    ``centered`` subtracts the squared running mean of g; ``momentum`` keeps a buffer of
    the scaled steps, :math:`b = \mu b + g / (\sqrt{v} + \epsilon)`. eps is outside the root.
    """
    g = coupled_l2(g, w, hp)
    s.v *= hp.alpha
    s.v += (1 - hp.alpha) * (g * g)
    if active(hp, "centered"):
        lerp(s.gbar, g, 1 - hp.alpha)
        avg = np.where(hp.centered, np.sqrt(s.v - s.gbar * s.gbar), np.sqrt(s.v))
    else:
        avg = np.sqrt(s.v)
    avg += hp.eps
    if active(hp, "momentum"):
        s.buf *= hp.momentum
        s.buf += g / avg
        w -= lr * s.buf
    else:
        w -= lr * (g / avg)


def rmsprop_inspect(s, g, lr, t, hp):
    out = {"v": s.v, "rate": lr / (np.sqrt(s.v) + hp.eps)}
    if active(hp, "momentum"):
        out["m"] = s.buf
    return out


def rmsprop_tex(x):
    return (rf"v_{{t+1}} = {x.times('alpha')}v_t + {factor(x.one_minus('alpha'))}g_t^2,\quad "
            rf"w_{{t+1}} = w_t - \frac{{{x.lr}}}{{\sqrt{{v_{{t+1}}}} + {x['eps']}}}"
            r" \odot g_t")


def rmsprop_fused(hp, lr, t):
    rho = hp["alpha"]
    return 0.0, 1.0, rho, 1 - rho, 0.0, 1.0, 0.0, 1.0, 1.0, hp["eps"], lr


def _rmsprop_fuses(hp):
    """Centered or momentum rows keep their own kernel."""
    return not hp["centered"] and hp["momentum"] == 0


# -- Adadelta -----------------------------------------------------------------------------

def adadelta_init(w, hp):
    return SimpleNamespace(v=np.zeros_like(w), u=np.zeros_like(w),
                           delta=np.empty_like(w), tmp=np.empty_like(w))


def adadelta_update(w, g, s, lr, t, hp, ctx):
    r"""Adadelta (Zeiler, 2012): RMSProp whose step size is itself a running RMS.

    .. math::
        v_{t+1} = \rho v_t + (1-\rho) g_t^2 \qquad
        \Delta_t = \frac{\sqrt{u_t + \epsilon}}{\sqrt{v_{t+1} + \epsilon}} g_t \\
        u_{t+1} = \rho u_t + (1-\rho) \Delta_t^2 \qquad w_{t+1} = w_t - \alpha \Delta_t

    eps is inside both square roots. torch's ``lr`` (default 1.0) only scales the final
    step; it does not enter u.
    """
    k, tmp, delta = numbers(s, hp, _adadelta_numbers), s.tmp, s.delta
    g = coupled_l2(g, w, hp)
    s.v *= k.rho
    s.v += np.multiply(np.multiply(g, g, tmp), k.one_minus_rho, tmp)
    np.sqrt(np.add(s.u, k.eps, delta), delta)
    delta /= np.sqrt(np.add(s.v, k.eps, tmp), tmp)
    delta *= g
    s.u *= k.rho
    s.u += np.multiply(np.multiply(delta, delta, tmp), k.one_minus_rho, tmp)
    w -= np.multiply(delta, lr, tmp)


def _adadelta_numbers(hp):
    return {"rho": hp.rho, "one_minus_rho": 1 - hp.rho, "eps": hp.eps}


def adadelta_inspect(s, g, lr, t, hp):
    # u was updated with this step's delta; the rate this step used is recomputed from it
    return {"v": s.v, "rate": lr * np.sqrt(s.u + hp.eps) / np.sqrt(s.v + hp.eps)}


def adadelta_tex(x):
    rho, eps, keep = x.times("rho"), x["eps"], factor(x.one_minus("rho"))
    return (rf"v_{{t+1}} = {rho}v_t + {keep}g_t^2,\quad "
            rf"\Delta_t = \frac{{\sqrt{{u_t + {eps}}}}}{{\sqrt{{v_{{t+1}} + {eps}}}}}\,g_t,\quad "
            rf"u_{{t+1}} = {rho}u_t + {keep}\Delta_t^2,\quad "
            rf"w_{{t+1}} = w_t - {x.rate}\Delta_t")


# -- Adafactor --------------------------------------------------------------------------------

def adafactor_init(w, hp):
    return SimpleNamespace(v=np.zeros_like(w), rate=None)


def adafactor_tensors(w, g, s, lr, t, hp, tensors):
    """Adafactor on a network's parameters as torch steps each tensor: a weight matrix's
    second moment factored into its rows' and its columns' means, a bias's kept whole;
    each tensor's step relative to its own RMS and clipped by its own update's RMS."""
    R, P = w.shape[0], w.shape[2]
    if t == 1:
        s.factored = {}
    for k, (sl, shape) in enumerate(tensors):
        def fit(v, shape=shape):     # a row's number (the same at every coordinate),
            if not isinstance(v, np.ndarray) or v.ndim == 0:      # to broadcast against
                return v                                          # the tensor's shape
            return v[:, :1].reshape((v.shape[0],) + (1,) * len(shape) + (v.shape[-1],))
        lr_k, hp_k = fit(lr), SimpleNamespace(**{
            name: fit(getattr(hp, name)) for name in
            ("beta2_decay", "eps1", "eps2", "d", "weight_decay")}, active=hp.active)
        _adafactor_tensor(w, g, s, lr_k, t, hp_k, k, sl, shape, R, P)


def _adafactor_tensor(w, g, s, lr, t, hp, k, sl, shape, R, P):
    """One tensor ``shape`` (slice ``sl`` of the coordinates) of Adafactor's update."""
    rho = np.minimum(lr, 1 / (t ** 0.5))
    c = t ** hp.beta2_decay
    eps1 = hp.eps1 * hp.eps1
    W, G = w[:, sl].reshape((R,) + shape + (P,)), g[:, sl].reshape((R,) + shape + (P,))
    n = int(np.prod(shape))
    axes = tuple(range(1, len(shape) + 1))
    scale = np.maximum(hp.eps2, np.sqrt((W * W).sum(axis=axes, keepdims=True) / n)) * rho
    if active(hp, "weight_decay"):
        W *= 1 - lr * hp.weight_decay
    if len(shape) == 2:
        G2 = G * G
        rows, cols = G2.sum(axis=2, keepdims=True) / shape[1], \
            G2.sum(axis=1, keepdims=True) / shape[0]
        if t == 1:
            s.factored[k] = (np.zeros_like(rows), np.zeros_like(cols))
        row_var, col_var = s.factored[k]
        lerp(row_var, rows, c)
        lerp(col_var, cols, c)
        var = row_var * col_var / np.maximum(row_var.mean(axis=1, keepdims=True),
                                             hp.eps1)
    else:
        v = s.v[:, sl].reshape((R,) + shape + (P,))
        lerp(v, G * G, c)
        var = v
    update = G / np.sqrt(np.maximum(var, eps1))
    rms = np.sqrt((update * update).sum(axis=axes, keepdims=True) / n) / hp.d
    W -= update * (scale / np.maximum(1.0, rms))
    w[:, sl] = W.reshape(R, n, P)           # (W is a view of w: a no-op, if so)


def adafactor_update(w, g, s, lr, t, hp, ctx):
    r"""Adafactor (Shazeer & Stern, 2018; torch's ``Adafactor``) on the 2-vector parameter
    as torch treats it: a vector's second moment is not factored (that saves memory only
    for matrices), so what remains is RMSProp with a decay that tends to 1, a step
    relative to the parameter's size, and an update clipped by its RMS.

    .. math::
        v_{t+1} = (1 - t^{c})\, v_t + t^{c} g_t^2 \qquad u_t = g_t / \sqrt{v_{t+1}} \\
        w_{t+1} = w_t - \max(\epsilon_2, \mathrm{RMS}(w_t))\,\min(\alpha, 1/\sqrt t)\,
        \frac{u_t}{\max(1, \mathrm{RMS}(u_t) / d)}

    :math:`c` is ``beta2_decay`` (-0.8), :math:`\mathrm{RMS}` the root mean square over the
    two coordinates, :math:`v` clamped below by :math:`\epsilon_1^2`. torch's default
    :math:`\epsilon_1` is None, the dtype's machine epsilon: here its float64 value,
    2.2e-16. ``weight_decay`` is decoupled (w times 1 - αλ), applied after the RMS of w is
    taken.
    """
    if ctx is not None and ctx.tensors is not None:
        return adafactor_tensors(w, g, s, lr, t, hp, ctx.tensors)
    p = planes(s, w, g)
    rho = np.minimum(lr, 1 / (t ** 0.5))
    # (torch's norm is sqrt(fma(y, y, x^2)): the last bit differs now and then, well
    # within the parity tests' 1e-10; an exact emulation cost three times the update)
    scale = np.maximum(hp.eps2, np.sqrt(p.wx * p.wx + p.wy * p.wy) / _SQRT2) * rho
    if active(hp, "weight_decay"):
        w *= 1 - lr * hp.weight_decay
    lerp(s.v, g * g, t ** hp.beta2_decay)
    inv = 1 / np.sqrt(np.maximum(s.v, hp.eps1 * hp.eps1))
    u = inv * g
    ux, uy = u[:, :1], u[:, 1:]
    rms = np.sqrt(ux * ux + uy * uy) / (_SQRT2 * hp.d)
    step = scale / np.maximum(1.0, rms)
    s.rate = step * inv
    w -= u * step


_SQRT2 = 2 ** 0.5


def adafactor_inspect(s, g, lr, t, hp):
    return {"v": s.v, "rate": s.rate}


def adafactor_tex(x):
    return (rf"v_{{t+1}} = (1 - t^{{{x['beta2_decay']}}})\,v_t + t^{{{x['beta2_decay']}}}\,g_t^2,"
            r"\quad u_t = \frac{g_t}{\sqrt{v_{t+1}}},\quad "
            rf"w_{{t+1}} = w_t - \max({x['eps2']}, \mathrm{{RMS}}(w_t))\,"
            rf"\min({x.lr}, \tfrac{{1}}{{\sqrt t}})\,"
            rf"\frac{{u_t}}{{\max(1,\ \mathrm{{RMS}}(u_t) / {x['d']})}}")


def _decay(default, symbol="ρ"):
    return HyperParam(default, 0.0, 1.0, symbol=symbol, high_open=True, tex=r"\rho")


ENTRIES = [
    Optimizer("adagrad", "AdaGrad", adagrad_init, adagrad_update,
              {"lr": lr_param(1e-2), "lr_decay": HyperParam(0.0, 0.0, 10.0, tex="d"),
               "weight_decay": WEIGHT_DECAY,
               "initial_accumulator_value": HyperParam(0.0, 0.0, 1e3, tex="v_0"),
               "eps": HyperParam(1e-10, 0.0, 1.0, symbol="ε", low_open=True, tex=r"\epsilon")},
              adagrad_tex, step_us=6, inspect=adagrad_inspect, color="#CC79A7",
              fused=adagrad_fused, torch="Adagrad"),
    Optimizer("rmsprop", "RMSProp", rmsprop_init, rmsprop_update,
              {"lr": lr_param(1e-2), "alpha": _decay(0.99), "eps": EPS,
               "weight_decay": WEIGHT_DECAY,
               "momentum": HyperParam(0.0, 0.0, 1.0, symbol="μ", high_open=True, tex=r"\mu"),
               "centered": FLAG},
              rmsprop_tex, step_us=7, inspect=rmsprop_inspect, color="#D55E00",
              knobs={"beta2": "alpha"}, fused=rmsprop_fused, fuses=_rmsprop_fuses,
              torch="RMSprop"),
    Optimizer("adadelta", "Adadelta", adadelta_init, adadelta_update,
              {"lr": lr_param(1.0), "rho": _decay(0.9),
               "eps": HyperParam(1e-6, 0.0, 1.0, symbol="ε", low_open=True, tex=r"\epsilon"),
               "weight_decay": WEIGHT_DECAY},
              adadelta_tex, step_us=9, inspect=adadelta_inspect, color="#AA4499",
              knobs={"beta2": "rho"}, torch="Adadelta"),
    Optimizer("adafactor", "Adafactor", adafactor_init, adafactor_update,
              {"lr": lr_param(1e-2),
               "beta2_decay": HyperParam(-0.8, -1.0, 0.0, symbol="c", tex="c"),
               "eps": HyperParam((float(np.finfo(float).eps), 1e-3), 0.0, 1.0, kind="pair",
                                 symbol="ε₁, ε₂", parts=("eps1", "eps2")),
               "d": HyperParam(1.0, 1.0, 100.0, symbol="d", tex="d"),
               "weight_decay": WEIGHT_DECAY},
              adafactor_tex, step_us=14, inspect=adafactor_inspect, color="#EE7733",
              decoupled_decay=True, torch="Adafactor"),
]
