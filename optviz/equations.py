r"""Each row's update rule in the lectures' notation, with its own numbers in place.

``equation(spec)`` returns LaTeX for MathJax (the page's equation panel): the slides'
symbols (:math:`\alpha, \mu, \beta_1, \beta_2, \rho, \epsilon, \lambda`) replaced by the row's
values, e.g. Momentum at alpha 0.03, mu 0.9 gives
``m_{t+1} = 0.9\,m_t - 0.03\,g_t,\quad w_{t+1} = w_t + m_{t+1}``. A scheduled rate is
written :math:`\alpha_t` with its base value; noise is written as part of g.
"""
from __future__ import annotations

import math

from .scene import OptimizerSpec

__all__ = ["equation", "number"]


def number(v: float) -> str:
    """A number for a formula: 0.9, 0.001, 1\\times 10^{-8}."""
    if v == 0:
        return "0"
    e = math.floor(math.log10(abs(v)))
    if -4 <= e <= 4:
        return f"{v:.4g}"
    mant = v / 10 ** e
    return (f"{mant:.3g}\\times " if abs(mant - 1) > 1e-9 else "") + f"10^{{{e}}}"


def _times(coefficient: str) -> str:
    """``coefficient`` as a factor before a symbol: ``0.03\\,`` but nothing for 1 (the
    slide writes :math:`w - H^{-1} g`, not :math:`w - 1\\,H^{-1} g`)."""
    return "" if coefficient == "1" else coefficient + r"\,"


def _one_minus(b: float) -> str:
    return number(round(1 - b, 12))


def equation(spec: OptimizerSpec, scheduled: bool = False) -> str:
    """LaTeX of ``spec``'s update with its hyperparameters substituted."""
    hp = spec.hparams
    a = number(hp["lr"])
    alpha = rf"\alpha_t\;(\alpha = {a})" if scheduled else a
    lr = r"\alpha_t" if scheduled else a
    name = spec.name
    g = r"g_t"
    wd = hp.get("weight_decay", 0.0)
    pre = ""
    if wd and name != "adamw":
        pre = rf"g_t \leftarrow g_t + {number(wd)}\,w_t,\quad "
    if name in ("sgd", "gd", "momentum", "nesterov"):
        mu = hp["momentum"]
        if mu == 0:
            body = rf"w_{{t+1}} = w_t - {_times(lr)}{g}"
        elif hp["nesterov"]:
            body = (rf"b_{{t+1}} = {_times(number(mu))}b_t + {g},\quad "
                    rf"w_{{t+1}} = w_t - {_times(lr)}({g} + {_times(number(mu))}b_{{t+1}})")
        else:
            body = (rf"m_{{t+1}} = {_times(number(mu))}m_t - {_times(lr)}{g},\quad "
                    rf"w_{{t+1}} = w_t + m_{{t+1}}")
    elif name == "adagrad":
        body = (rf"v_{{t+1}} = v_t + {g}^2,\quad w_{{t+1}} = w_t - "
                rf"\frac{{{lr}}}{{\sqrt{{v_{{t+1}}}} + {number(hp['eps'])}}} \odot {g}")
    elif name == "rmsprop":
        rho = hp["alpha"]
        body = (rf"v_{{t+1}} = {_times(number(rho))}v_t + {_times(_one_minus(rho))}{g}^2,\quad "
                rf"w_{{t+1}} = w_t - \frac{{{lr}}}{{\sqrt{{v_{{t+1}}}} + {number(hp['eps'])}}}"
                rf" \odot {g}")
    elif name in ("adam", "adamw", "adam_nobias", "nadam", "radam", "adamax"):
        b1, b2 = hp["betas"]
        eps = number(hp["eps"])
        m = rf"m_{{t+1}} = {_times(number(b1))}m_t + {_times(_one_minus(b1))}{g}"
        if name == "adamax":
            v = rf"u_{{t+1}} = \max({_times(number(b2))}u_t,\ |{g}| + {eps})"
            step = (rf"w_{{t+1}} = w_t - \frac{{{lr}}}{{1 - {number(b1)}^t}}\,"
                    r"\frac{m_{t+1}}{u_{t+1}}")
        else:
            v = rf"v_{{t+1}} = {_times(number(b2))}v_t + {_times(_one_minus(b2))}{g}^2"
            if name == "adam_nobias":
                step = (rf"w_{{t+1}} = w_t - \frac{{{lr}}}{{\sqrt{{v_{{t+1}}}} + {eps}}}"
                        rf" \odot m_{{t+1}}")
            else:
                step = (rf"\hat m = \frac{{m_{{t+1}}}}{{1 - {number(b1)}^t}},\ "
                        rf"\hat v = \frac{{v_{{t+1}}}}{{1 - {number(b2)}^t}},\quad "
                        rf"w_{{t+1}} = w_t - \frac{{{lr}}}{{\sqrt{{\hat v}} + {eps}}} \odot \hat m")
                if name == "nadam":
                    step += r"\ \text{(with a Nesterov look-ahead on } \hat m)"
                if name == "radam":
                    step += r"\ \text{(plain momentum until } \rho_t > 5)"
        if name == "adamw" and wd:
            pre = rf"w_t \leftarrow (1 - {lr}\cdot{number(wd)})\,w_t,\quad "
        body = rf"{m},\quad {v},\quad {step}"
    elif name == "adadelta":
        rho, eps = number(hp["rho"]), number(hp["eps"])
        body = (rf"v_{{t+1}} = {_times(rho)}v_t + {_times(_one_minus(hp['rho']))}{g}^2,\quad "
                rf"\Delta_t = \frac{{\sqrt{{u_t + {eps}}}}}"
                rf"{{\sqrt{{v_{{t+1}} + {eps}}}}}\,{g},\quad "
                rf"u_{{t+1}} = {_times(rho)}u_t + {_times(_one_minus(hp['rho']))}\Delta_t^2,\quad "
                rf"w_{{t+1}} = w_t - {_times(lr)}\Delta_t")
    elif name == "sign":
        body = rf"w_{{t+1}} = w_t - {_times(lr)}\mathrm{{sign}}({g})"
    elif name == "normalized":
        body = rf"w_{{t+1}} = w_t - {_times(lr)}\frac{{{g}}}{{\lVert {g} \rVert}}"
    elif name == "random_search":
        body = (rf"w' = w_t + {_times(lr)}z,\ z \sim N(0, I),\quad "
                r"w_{t+1} = w' \text{ if } L(w') < L(w_t) \text{ else } w_t")
    elif name == "newton":
        body = rf"w_{{t+1}} = w_t - {_times(lr)}H(w_t)^{{-1}}\,{g}"
    else:                                    # a registry entry without a formula here
        body = rf"\text{{{name}}}"
    if scheduled:
        body += rf",\quad {alpha}"
    return pre + body
