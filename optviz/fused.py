r"""The engine's fast path for small batches: one update for many optimizer kinds.

On a handful of points a NumPy call costs about a microsecond whatever it computes, so a
step of the lecture's six optimizers (four kernels) costs ~45 calls. SGD (with momentum,
dampening, Nesterov), AdaGrad, RMSProp and Adam/AdamW/"Adam, almost" are all one update
with per-row coefficients:

.. math::
    m \leftarrow A_t m + B_t g \qquad v \leftarrow C v + D g^2 \qquad
    w \leftarrow w - \eta_t \frac{P g + Q m}{\sqrt{v} / S_t + \epsilon}

Per row (tau dampening, d lr_decay; "t=1: x" is the value at the first update):

- sgd: A = mu (t=1: 0), B = 1 - tau (t=1: 1), C = D = 0, P, Q = 0, 1 (Nesterov: 1, mu),
  S = inf, eps = 1 (no denominator), eta = lr_t
- adagrad: A = 0, B = 1, C = D = 1, P, Q = 0, 1, S = 1, eta = lr_t / (1 + (t-1) d)
- rmsprop: A = 0, B = 1, C, D = rho, 1 - rho, P, Q = 0, 1, S = 1, eta = lr_t
- adam, adamw: A, B = beta1, 1 - beta1, C, D = beta2, 1 - beta2, P, Q = 0, 1,
  S = sqrt(1 - beta2^t), eta = lr_t / (1 - beta1^t)
- adam_nobias: as adam with S = 1 and eta = lr_t

Coupled weight decay adds :math:`\lambda w` to g first; AdamW's decoupled decay
multiplies w by :math:`1 - \lambda \alpha_t`. The readable,
one-optimizer-at-a-time definitions stay in :mod:`optviz.optimizers`; this module is
checked against them (tests/test_fused.py) and against torch through the engine's parity
tests. Rows with options outside the table (amsgrad, centered or momentum RMSProp) keep
their own kernels.
"""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np

__all__ = ["FUSABLE", "fusable", "FusedGroup"]

#: kernels this update covers
FUSABLE = {"sgd", "adagrad", "rmsprop", "adam", "adamw", "adam_nobias"}
#: fuse only when the coefficient tables stay small (elements per table)
MAX_TABLE = 2_000_000


def fusable(kernel: str, hp: dict) -> bool:
    """Whether a row of ``kernel`` with hyperparameters ``hp`` fits the fused update."""
    if kernel not in FUSABLE:
        return False
    if kernel == "rmsprop":
        return not hp["centered"] and hp["momentum"] == 0
    if kernel in ("adam", "adamw"):
        return not hp["amsgrad"]
    return True


class FusedGroup:
    """Rows of several kernels stepped by one update (same interface as engine._Group:
    ``update(w, g, state, lr, t, hp, ctx)`` with ``init(w, hp)``)."""

    def __init__(self, rows, lo, hi, lrs, specs, kernels):
        self.rows, self.lo, self.hi = rows, lo, hi
        self.specs, self.kernels = specs, kernels
        self.lrs = lrs[rows]                                  # [rows_k, steps]
        self.lr = [None] * self.lrs.shape[1]                  # tables carry the rates
        self.update = _update

    def init(self, w, hp):
        return _init(w, self.specs, self.kernels, self.lrs)

    def changed(self, w, state, specs):
        """The state after a mid-run change to ``specs`` (same kernels): new coefficient
        tables, the same moments."""
        new = _init(w, specs, self.kernels, self.lrs)
        new.m, new.v = state.m, state.v
        return new


def _column(values, shape):
    return np.ascontiguousarray(np.broadcast_to(np.asarray(values, float)[None, :, None], shape))


def _init(w, specs, kernels, lrs):
    """Coefficient tables for rows ``specs`` on planes ``w`` [2, rows, C]."""
    R, steps = lrs.shape
    shape = w.shape
    t = np.arange(1, steps + 1, dtype=float)[:, None]         # [steps, 1]
    A, B, C, D, P, Q, E, WDc, WDd = ([] for _ in range(9))
    S = np.empty((steps, R))
    eta = np.empty((steps, R))
    first_A, first_B = [], []
    for i, (spec, kernel) in enumerate(zip(specs, kernels)):
        hp = spec.hparams
        lr = lrs[i]
        wd = hp.get("weight_decay", 0.0)
        S[:, i] = np.inf                                     # sqrt(v)/inf = 0 ...
        eps = 1.0                                             # ... + 1: no denominator
        if kernel == "sgd":
            mu = hp["momentum"]
            a, b, c, d = mu, 1 - hp["dampening"], 0.0, 0.0
            n = 1.0 if (hp["nesterov"] and mu) else 0.0
            first_A.append(0.0)                               # torch: buf = g at t = 1
            if mu == 0:
                b = 1.0                                       # no buffer: plain g
            eta[:, i] = lr
        elif kernel == "adagrad":
            a, b, c, d, n = 0.0, 1.0, 1.0, 1.0, 0.0
            first_A.append(0.0)
            S[:, i], eps = 1.0, hp["eps"]
            eta[:, i] = lr / (1 + (t[:, 0] - 1) * hp["lr_decay"])
        elif kernel == "rmsprop":
            a, b, c, d, n = 0.0, 1.0, hp["alpha"], 1 - hp["alpha"], 0.0
            first_A.append(0.0)
            S[:, i], eps = 1.0, hp["eps"]
            eta[:, i] = lr
        else:                                                 # adam, adamw, adam_nobias
            b1, b2 = hp["betas"]
            a, b, c, d, n = b1, 1 - b1, b2, 1 - b2, 0.0
            first_A.append(b1)
            eps = hp["eps"]
            if kernel == "adam_nobias":
                S[:, i] = 1.0
                eta[:, i] = lr
            else:
                S[:, i] = (1 - b2 ** t[:, 0]) ** 0.5
                eta[:, i] = lr / (1 - b1 ** t[:, 0])
        first_B.append(1.0 if kernel == "sgd" else b)   # torch: buf = g, undamped, at t = 1
        A.append(a), B.append(b), C.append(c), D.append(d), E.append(eps)
        P.append(n)
        Q.append(hp["momentum"] if n else 1.0)
        WDc.append(0.0 if kernel == "adamw" else wd)
        WDd.append(wd if kernel == "adamw" else 0.0)
    full = lambda v: _column(v, shape)
    table = lambda tab: np.ascontiguousarray(
        np.broadcast_to(tab[:, None, :, None], (steps,) + shape))
    s = SimpleNamespace(
        m=np.zeros(shape), v=np.array(full([spec.hparams.get("initial_accumulator_value", 0.0)
                                             for spec in specs])),
        tmp=np.empty(shape), A=full(A), A1=full(first_A), B=full(B), B1=full(first_B),
        C=full(C), D=full(D),
        P=full(P) if any(P) else None, Q=full(Q), E=full(E),
        S=table(S), eta=table(eta),
        WDc=full(WDc) if any(WDc) else None,
        # AdamW decays by the scheduled rate (not the bias-corrected one)
        WDd=table(lrs.T * np.asarray(WDd)[None, :]) if any(WDd) else None)
    return s


def _update(w, g, s, lr, t, hp, ctx):
    """One step of every fused row (``t`` from 1; ``lr`` unused: ``s.eta`` has the rates)."""
    i = t - 1
    if s.WDd is not None:
        w *= 1 - s.WDd[i]                                     # AdamW, decoupled
    if s.WDc is not None:
        g = g + s.WDc * w                                     # coupled L2
    m, v, tmp = s.m, s.v, s.tmp
    first = t == 1
    m *= s.A1 if first else s.A                               # m <- A m + B g
    np.multiply(s.B1 if first else s.B, g, out=tmp)
    m += tmp
    v *= s.C                                                  # v <- C v + D g^2
    np.multiply(g, g, out=tmp)
    tmp *= s.D
    v += tmp
    np.sqrt(v, out=tmp)                                       # den = sqrt(v)/S + eps
    tmp /= s.S[i]
    tmp += s.E
    num = m if s.P is None else m * s.Q + g * s.P             # Nesterov: g + mu m
    np.divide(num, tmp, out=tmp)
    tmp *= s.eta[i]
    w -= tmp
