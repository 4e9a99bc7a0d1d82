r"""Each row's update rule in the lectures' notation, with its own numbers in place.

``equation(spec)`` returns LaTeX for MathJax (the page's equation panel): the slides'
symbols (:math:`\alpha, \mu, \beta_1, \beta_2, \rho, \epsilon, \lambda`) replaced by the row's
values, e.g. Momentum at alpha 0.03, mu 0.9 gives
``m_{t+1} = 0.9\,m_t - 0.03\,g_t,\quad w_{t+1} = w_t + m_{t+1}``. The rule itself is its
registry entry's (``Optimizer.tex``); here: coupled weight decay written as part of g, and
a scheduled rate written :math:`\alpha_t` with its base value.
"""
from __future__ import annotations

from ..optimizers import OPTIMIZERS, Tex
from ..optimizers.base import number
from ..scene import OptimizerSpec

__all__ = ["equation", "number"]


def equation(spec: OptimizerSpec, scheduled: bool = False) -> str:
    """LaTeX of ``spec``'s update with its hyperparameters substituted."""
    opt = OPTIMIZERS[spec.name]
    hp = spec.hparams
    wd = hp.get("weight_decay", 0.0)
    pre = rf"g_t \leftarrow g_t + {number(wd)}\,w_t,\quad " \
        if wd and not opt.decoupled_decay else ""
    body = opt.tex(Tex(opt, hp, scheduled))
    if scheduled:
        body += rf",\quad \alpha_t\;(\alpha = {number(hp['lr'])})"
    return pre + body
