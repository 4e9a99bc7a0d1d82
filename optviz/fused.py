r"""The engine's fast path for small batches: one update for many optimizer kinds.

On a handful of points a NumPy call costs about a microsecond whatever it computes, so a
step of the lecture's six optimizers (four kernels) costs ~45 calls in the readable
kernels. SGD (with momentum, dampening, Nesterov), AdaGrad, RMSProp and the Adam family
(Adam, AdamW, "Adam, almost", NAdam, RAdam) are all one update with per-row, per-step
coefficients:

.. math::
    m \leftarrow A m + B g \qquad v \leftarrow C v + D g^2 \qquad
    w \leftarrow w - \eta_t \frac{Q_t m + P_t g}{\sqrt{v} / S_t + E_t}

Each kernel's entry in :mod:`optviz.optimizers` gives its row's coefficients next to its
update (``Optimizer.fused(hp, lr, t)`` -> ``(A, B, C, D, A_1, B_1, P, Q, S, E, eta)``, the
first six per row, ``A_1, B_1`` at the first update, the last five per step; ``S = inf,
E = 1`` is no denominator) and says which of its rows fit (``Optimizer.fuses``).

Coupled weight decay adds :math:`\lambda w` to g first; a decoupled decay (AdamW's)
multiplies w by :math:`1 - \lambda \alpha_t`.

How the calls are saved: m and v are one array ``[2, rows, 2, C]`` (and so are g, g^2 and
their coefficients), so both moments take three calls: eleven calls a step in the usual
case. The arithmetic is otherwise the readable kernels' own, in their order: near an
unstable fixed point (RMSProp's effective rate alpha/eps at a minimum) round-off grows
exponentially, and folding eta into the denominator made paths drift apart by 1e-3.
This module is checked against the readable updates (tests/test_fused.py, to 1e-10) and
against torch through the engine's parity tests.
"""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from .optimizers import OPTIMIZERS

__all__ = ["FUSABLE", "fusable", "FusedGroup", "spread_rows"]

#: kernels this update covers: the registry's entries that give their coefficients
FUSABLE = frozenset(name for name, o in OPTIMIZERS.items() if o.fused and o.kernel == name)
#: fuse only when the coefficient tables stay small (elements per table)
MAX_TABLE = 2_000_000


def spread_rows(values, C: int, width: int = 2) -> np.ndarray:
    """``[..., R] -> [..., R, width, C]``: each row's value at every coordinate of its C
    points (``width`` coordinates: 2 on a surface, a network's D parameters), contiguous,
    in the engine's ``[rows, 2, points]`` layout. (np.repeat:
    np.stack / broadcast_to / ascontiguousarray cost ~35 us a table, a tenth of a page
    request's simulation, and filling np.empty by broadcasting, or broadcasting a
    ``[rows, 1, 1]`` operand in a calculation, goes two elements at a time.)"""
    values = np.asarray(values)
    return np.repeat(values, width * C).reshape(values.shape + (width, C))


def fusable(kernel: str, hp: dict) -> bool:
    """Whether a row of ``kernel`` with hyperparameters ``hp`` fits the fused update."""
    return kernel in FUSABLE and OPTIMIZERS[kernel].fuses(hp)


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


def _init(w, specs, kernels, lrs):
    """State and coefficient tables for rows ``specs`` on points ``w`` [rows, 2, C]."""
    R, steps = lrs.shape
    shape, C = w.shape, w.shape[2]
    t = np.arange(1, steps + 1, dtype=float)
    cols = [OPTIMIZERS[k].fused(spec.hparams, lrs[i], t)
            for i, (spec, k) in enumerate(zip(specs, kernels))]
    a, b, c, d, a1, b1 = (np.array([col[j] for col in cols]) for j in range(6))
    p, q, s, e, eta = per_step = np.empty((5, steps, R))      # [steps, R] each
    for i, col in enumerate(cols):
        for j, value in enumerate(col[6:]):
            per_step[j, :, i] = value
    wd = np.array([spec.hparams.get("weight_decay", 0.0) for spec in specs])
    decoupled = np.array([OPTIMIZERS[k].decoupled_decay for k in kernels])

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
