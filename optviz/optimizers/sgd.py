r"""The SGD family: gradient descent, heavy-ball momentum, Nesterov (torch's ``SGD``) and
averaged SGD (torch's ``ASGD``)."""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from .base import WEIGHT_DECAY, HyperParam, Optimizer, active, coupled_l2, lr_param

__all__ = ["ENTRIES"]


def sgd_init(w, hp):
    momentum = np.asarray(hp.momentum)
    return SimpleNamespace(
        buf=np.zeros_like(w),
        # torch keeps no buffer at momentum 0; the shared buffer equals g there unless
        # dampening scales it, and only then must those rows bypass it
        bypass=(momentum == 0) if active(hp, "dampening") and not momentum.all() else None)


def sgd_update(w, g, s, lr, t, hp, ctx):
    r"""SGD with optional (Nesterov) momentum, torch's form.

    .. math::
        b_t = \mu b_{t-1} + (1 - \tau) g_t \quad (b_1 = g_1) \\
        d_t = g_t + \mu b_t \text{ (nesterov) or } b_t \\
        w_{t+1} = w_t - \alpha d_t

    Slides (Polyak): :math:`m_{t+1} = \mu m_t - \alpha g_t,\ w_{t+1} = w_t + m_{t+1}`.
    With a constant rate and :math:`\tau = 0` that is the same path (:math:`m = -\alpha b`);
    torch keeps the rate outside the buffer (so a schedule acts at once), starts the buffer
    at the first gradient with no dampening, and ``dampening`` :math:`\tau` is the EMA
    form :math:`(1-\tau)`. Momentum 0 is plain gradient descent (torch keeps no buffer).
    """
    g = coupled_l2(g, w, hp)
    if not active(hp, "momentum"):
        w -= lr * g
        return
    b = s.buf
    if t == 1:
        b[...] = g
    else:
        b *= hp.momentum
        b += (1 - hp.dampening) * g if active(hp, "dampening") else g
    d = np.where(hp.nesterov, g + hp.momentum * b, b) if active(hp, "nesterov") else b
    if s.bypass is not None:
        d = np.where(s.bypass, g, d)
    w -= lr * d


def sgd_inspect(s, g, lr, t, hp):
    if not active(hp, "momentum"):
        return {"rate": lr}
    # rows at momentum 0 (GD beside Momentum) keep no buffer in torch: none shown
    m = s.buf if isinstance(hp.momentum, float) else np.where(hp.momentum == 0, np.nan, s.buf)
    return {"m": m, "rate": lr}


def sgd_tex(x):
    if not x.on("momentum"):
        return rf"w_{{t+1}} = w_t - {x.rate}g_t"
    if x.on("nesterov"):
        return (rf"b_{{t+1}} = {x.times('momentum')}b_t + g_t,\quad "
                rf"w_{{t+1}} = w_t - {x.rate}(g_t + {x.times('momentum')}b_{{t+1}})")
    return (rf"m_{{t+1}} = {x.times('momentum')}m_t - {x.rate}g_t,\quad "
            rf"w_{{t+1}} = w_t + m_{{t+1}}")


def sgd_fused(hp, lr, t):
    """torch starts the buffer at the first gradient, undamped, and keeps none at μ = 0."""
    mu = hp["momentum"]
    b = 1.0 if mu == 0 else 1 - hp["dampening"]
    p, q = (1.0, mu) if hp["nesterov"] and mu else (0.0, 1.0)
    return mu, b, 0.0, 0.0, 0.0, 1.0, p, q, np.inf, 1.0, lr


# -- ASGD -------------------------------------------------------------------------------------

def asgd_init(w, hp):
    return SimpleNamespace(eta=None, mu=1.0, used=None, average=np.zeros_like(w))


def asgd_update(w, g, s, lr, t, hp, ctx):
    r"""Averaged SGD (Polyak & Juditsky, 1992; torch's ``ASGD``): SGD with a decaying rate
    whose path is the iterate, and the Polyak–Ruppert average of the iterates kept beside
    it (the state inspector shows it, and a hollow diamond marks it on the plot).

    .. math::
        w_{t+1} = (1 - \lambda \eta_t) w_t - \eta_t g_t \qquad
        \bar w_{t+1} = \bar w_t + \mu_t (w_{t+1} - \bar w_t) \\
        \eta_{t+1} = \frac{\alpha}{(1 + \lambda \alpha t)^{\kappa}} \qquad
        \mu_{t+1} = \frac{1}{\max(1, t - t_0)}

    with :math:`\eta_1 = \alpha`, :math:`\mu_1 = 1`; torch names :math:`\lambda`
    ``lambd`` and :math:`\kappa` ``alpha``. Averaging starts after ``t0`` updates (torch's
    default 1e6 never starts it here: :math:`\bar w = w`; try t0 = 50). The rate of the
    next update comes from this update's scheduled rate, as in torch.
    """
    if s.eta is None:
        s.eta = lr
    g = coupled_l2(g, w, hp)
    eta = s.eta
    w *= 1 - hp.lambd * eta
    w -= eta * g
    mu = s.mu
    if isinstance(mu, float):
        if mu != 1:
            s.average += (w - s.average) * mu
        else:
            s.average[...] = w
    else:
        s.average[...] = np.where(mu != 1, s.average + (w - s.average) * mu, w)
    s.used = eta
    s.eta = lr / ((1 + hp.lambd * lr * t) ** hp.alpha)
    s.mu = 1 / max(1, t - hp.t0) if isinstance(hp.t0, float) else 1 / np.maximum(1, t - hp.t0)


def asgd_inspect(s, g, lr, t, hp):
    return {"rate": s.used, "average": s.average}


def asgd_tex(x):
    lam, lr = x["lambd"], x.lr
    return (rf"w_{{t+1}} = (1 - {lam}\,\eta_t)\,w_t - \eta_t\,g_t,\quad "
            rf"\eta_t = \frac{{{lr}}}{{(1 + {lam} \cdot {lr}\,(t-1))^{{{x['alpha']}}}}},\quad "
            rf"\bar w_{{t+1}} = \bar w_t + \frac{{w_{{t+1}} - \bar w_t}}"
            rf"{{\max(1,\ t - 1 - {x['t0']})}}")


def _hyper(lr=1e-3, momentum=0.0, nesterov=False):
    return {"lr": lr_param(lr),
            "momentum": HyperParam(momentum, 0.0, 1.0, symbol="μ", high_open=True, tex=r"\mu"),
            "dampening": HyperParam(0.0, 0.0, 1.0, symbol="τ", tex=r"\tau"),
            "nesterov": HyperParam(nesterov, kind="bool"), "weight_decay": WEIGHT_DECAY}


_SGD = dict(init=sgd_init, update=sgd_update, tex=sgd_tex, step_us=6, inspect=sgd_inspect,
            fused=sgd_fused, knobs={"beta1": "momentum"}, torch="SGD")

ENTRIES = [
    Optimizer("sgd", "SGD", hyper=_hyper(), color="#56B4E9", **_SGD),
    # the presets keep torch's SGD default rate, 1e-3; GD stays GD whatever the μ knob says
    Optimizer("gd", "GD", hyper=_hyper(), color="#0072B2", kernel="sgd",
              **{**_SGD, "knobs": {}}),
    Optimizer("momentum", "Momentum", hyper=_hyper(momentum=0.9), color="#E69F00",
              kernel="sgd", **_SGD),
    Optimizer("nesterov", "Nesterov", hyper=_hyper(momentum=0.9, nesterov=True),
              color="#009E73", kernel="sgd", **_SGD),
    Optimizer("asgd", "ASGD", asgd_init, asgd_update,
              {"lr": lr_param(1e-2),
               "lambd": HyperParam(1e-4, 0.0, 10.0, symbol="λ", tex=r"\lambda"),
               "alpha": HyperParam(0.75, 0.0, 10.0, symbol="κ", tex=r"\kappa"),
               "t0": HyperParam(1e6, 0.0, 1e9, symbol="t₀", tex="t_0"),
               "weight_decay": WEIGHT_DECAY},
              asgd_tex, step_us=10, inspect=asgd_inspect, color="#AA3377", torch="ASGD",
              shows={"average": "the Polyak–Ruppert average of the iterates, w̄"}),
]
