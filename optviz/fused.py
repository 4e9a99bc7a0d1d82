r"""The engine's fast path for small batches: one update for many optimizer kinds.

On a handful of points a NumPy call costs about a microsecond whatever it computes, so a
step of the lecture's six optimizers (four kernels) costs ~45 calls in the readable
kernels. SGD (with momentum, dampening, Nesterov), AdaGrad, RMSProp and the Adam family
(Adam, AdamW, "Adam, almost", NAdam, RAdam) are all one update with per-row, per-step
coefficients:

.. math::
    m \leftarrow A m + B g \qquad v \leftarrow C v + D g^2 \qquad
    w \leftarrow w - \eta_t \frac{Q_t m + P_t g}{\sqrt{v} / S_t + E_t}

Per row (tau dampening, d lr_decay; "t=1: x" is the value at the first update; unlisted
P, Q are 0, 1):

- sgd: A = mu (t=1: 0), B = 1 - tau (t=1: 1), C = D = 0, S = inf, E = 1 (no
  denominator), eta = lr_t; Nesterov: P, Q = 1, mu
- adagrad: A = 0, B = 1, C = D = 1, S = 1, E = eps, eta = lr_t / (1 + (t-1) d)
- rmsprop: A = 0, B = 1, C, D = rho, 1 - rho, S = 1, E = eps, eta = lr_t
- adam, adamw: A, B = beta1, 1 - beta1, C, D = beta2, 1 - beta2, E = eps,
  S = sqrt(1 - beta2^t), eta = lr_t / (1 - beta1^t); adam_nobias: S = 1, eta = lr_t
- nadam: as adam with eta = lr_t, P = (1 - mu_t) / (1 - prod mu_i up to t),
  Q = mu_{t+1} / (1 - prod up to t+1) (torch's momentum schedule mu_t)
- radam: as adam with S = 1 and eta = lr_t r_t sqrt(1 - beta2^t) / (1 - beta1^t) while
  rho_t > 5, else S = inf, E = 1, eta = lr_t / (1 - beta1^t) (a momentum step)

Coupled weight decay adds :math:`\lambda w` to g first; AdamW's decoupled decay
multiplies w by :math:`1 - \lambda \alpha_t`.

How the calls are saved: m and v are one array ``[2, rows, 2, C]`` (and so are g, g^2 and
their coefficients), so both moments take three calls: eleven calls a step in the usual
case. The arithmetic is otherwise the readable kernels' own, in their order: near an
unstable fixed point (RMSProp's effective rate alpha/eps at a minimum) round-off grows
exponentially, and folding eta into the denominator made paths drift apart by 1e-3.
The readable, one-optimizer-at-a-time definitions stay in :mod:`optviz.optimizers`; this
module is checked against them (tests/test_fused.py, to 1e-10) and against torch through
the engine's parity tests. Rows with options outside the table (amsgrad, centered or
momentum RMSProp) keep their own kernels.
"""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np

__all__ = ["FUSABLE", "fusable", "FusedGroup", "spread_rows"]

#: kernels this update covers
FUSABLE = {"sgd", "adagrad", "rmsprop", "adam", "adamw", "adam_nobias", "nadam", "radam"}
#: fuse only when the coefficient tables stay small (elements per table)
MAX_TABLE = 2_000_000


def spread_rows(values, C: int) -> np.ndarray:
    """``[..., R] -> [..., R, 2, C]``: each row's value at both coordinates of its C
    points, contiguous, in the engine's ``[rows, 2, points]`` layout. (np.repeat:
    np.stack / broadcast_to / ascontiguousarray cost ~35 us a table, a tenth of a page
    request's simulation, and filling np.empty by broadcasting, or broadcasting a
    ``[rows, 1, 1]`` operand in a calculation, goes two elements at a time.)"""
    values = np.asarray(values)
    return np.repeat(values, 2 * C).reshape(values.shape + (2, C))


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

    def rates(self, shape):
        return self.lr

    def changed(self, w, state, specs):
        """The state after a mid-run change to ``specs`` (same kernels): new coefficient
        tables, the same moments."""
        new = _init(w, specs, self.kernels, self.lrs)
        new.mv[...] = state.mv
        return new


def _row_coefficients(kernel, hp, lr, t):
    """One row's coefficients: ``(a, b, c, d, first_a, first_b, p, q, s, e, eta)``, the last
    five scalars or ``ndarray[steps]``; ``lr`` is the row's scheduled rate per update and
    ``t`` the update count 1..steps."""
    p, q, s, e = 0.0, 1.0, np.inf, 1.0                        # sqrt(v)/inf + 1: no denominator
    if kernel == "sgd":
        mu = hp["momentum"]
        b = 1.0 if mu == 0 else 1 - hp["dampening"]           # torch: no buffer at mu = 0
        if hp["nesterov"] and mu:
            p, q = 1.0, mu
        # torch starts the buffer at the first gradient, undamped
        return mu, b, 0.0, 0.0, 0.0, 1.0, p, q, s, e, lr
    if kernel == "adagrad":
        eta = lr / (1 + (t - 1) * hp["lr_decay"])
        return 0.0, 1.0, 1.0, 1.0, 0.0, 1.0, p, q, 1.0, hp["eps"], eta
    if kernel == "rmsprop":
        rho = hp["alpha"]
        return 0.0, 1.0, rho, 1 - rho, 0.0, 1.0, p, q, 1.0, hp["eps"], lr
    b1, b2 = hp["betas"]
    e, bc1, bc2 = hp["eps"], 1 - b1 ** t, 1 - b2 ** t
    if kernel == "adam_nobias":
        s, eta = 1.0, lr
    elif kernel == "nadam":
        mu = b1 * (1.0 - 0.5 * 0.96 ** (np.append(t, t[-1] + 1) * hp["momentum_decay"]))
        prod = np.cumprod(mu)
        p = (1.0 - mu[:-1]) / (1.0 - prod[:-1])
        q = mu[1:] / (1.0 - prod[:-1] * mu[1:])
        s, eta = np.sqrt(bc2), lr
    elif kernel == "radam":
        rho_inf = 2 / (1 - b2) - 1
        rho_t = rho_inf - 2 * t * b2 ** t / bc2
        on = rho_t > 5.0
        rho_ok = np.where(on, rho_t, 6.0)                     # keeps the root real unused
        r_t = np.sqrt((rho_ok - 4) * (rho_ok - 2) * rho_inf
                      / ((rho_inf - 4) * (rho_inf - 2) * rho_ok))
        s, e = np.where(on, 1.0, np.inf), np.where(on, e, 1.0)
        eta = np.where(on, lr * r_t * np.sqrt(bc2), lr) / bc1
    else:                                                     # adam, adamw
        s, eta = np.sqrt(bc2), lr / bc1
    return b1, 1 - b1, b2, 1 - b2, b1, 1 - b1, p, q, s, e, eta


def _init(w, specs, kernels, lrs):
    """State and coefficient tables for rows ``specs`` on points ``w`` [rows, 2, C]."""
    R, steps = lrs.shape
    shape, C = w.shape, w.shape[2]
    t = np.arange(1, steps + 1, dtype=float)
    cols = [_row_coefficients(k, spec.hparams, lrs[i], t)
            for i, (spec, k) in enumerate(zip(specs, kernels))]
    a, b, c, d, a1, b1 = (np.array([col[j] for col in cols]) for j in range(6))
    p, q, s, e, eta = per_step = np.empty((5, steps, R))      # [steps, R] each
    for i, col in enumerate(cols):
        for j, value in enumerate(col[6:]):
            per_step[j, :, i] = value
    wd = np.array([spec.hparams.get("weight_decay", 0.0) for spec in specs])
    decoupled = np.array([k == "adamw" for k in kernels])

    def spread(values):                                       # [..., R] -> [..., R, 2, C]
        return spread_rows(np.asarray(values, dtype=float), C)

    def moments(for_m, for_v):                                # -> [2 (m, v), R, 2, C]
        return spread([for_m, for_v])

    mv = moments(np.zeros(R), [spec.hparams.get("initial_accumulator_value", 0.0)
                               for spec in specs])
    gg = np.empty((2,) + shape)
    nesterov_like = (p != 0).any()
    return SimpleNamespace(
        mv=mv, m=mv[0], v=mv[1], gg=gg, g_=gg[0], g2=gg[1],
        tmp=np.empty(shape), tmp2=np.empty(shape),
        ac=moments(a, c), ac1=moments(a1, c), bd=moments(b, d), bd1=moments(b1, d),
        s=spread(s), e=spread(e), eta=spread(eta),
        p=spread(p) if nesterov_like else None, q=spread(q) if nesterov_like else None,
        wdc=spread(np.where(decoupled, 0.0, wd)) if (wd * ~decoupled).any() else None,
        # AdamW decays by the scheduled rate (not the bias-corrected one)
        keep=spread(1 - lrs.T * np.where(decoupled, wd, 0.0)) if (wd * decoupled).any()
        else None)


def _update(w, g, s, lr, t, hp, ctx):
    """One step of every fused row (``t`` from 1; ``lr`` unused: the tables carry it).
    (Ufuncs with a positional ``out``, and a slice assignment for the copy: on arrays of a
    few elements a call's overhead is the cost, and these forms are the cheapest.)"""
    i = t - 1
    if s.keep is not None:
        _mul(w, s.keep[i], w)                                 # AdamW, decoupled
    if s.wdc is not None:                                     # coupled L2: g + lambda w
        _mul(s.wdc, w, s.g_)
        _add(s.g_, g, s.g_)
    else:
        s.g_[...] = g
    g = s.g_
    _mul(g, g, s.g2)
    if s.p is not None:                                       # Nesterov, NAdam: P g, taken
        pg = _mul(g, s.p[i], s.tmp2)                          # before B scales g's buffer
    _mul(s.mv, s.ac1 if t == 1 else s.ac, s.mv)               # m, v <- A m, C v
    _mul(s.gg, s.bd1 if t == 1 else s.bd, s.gg)               # B g, D g^2
    _add(s.mv, s.gg, s.mv)
    den = _sqrt(s.v, s.tmp)                                   # sqrt(v) / S + E
    _div(den, s.s[i], den)
    _add(den, s.e[i], den)
    if s.p is None:
        num = s.m
    else:                                                     # Q m + P g (g's buffer is
        num = _mul(s.m, s.q[i], s.g_)                         # spent: reuse it)
        _add(num, pg, num)
    _div(num, den, den)
    _mul(den, s.eta[i], den)
    _sub(w, den, w)


_mul, _add, _sub, _div, _sqrt = np.multiply, np.add, np.subtract, np.divide, np.sqrt
