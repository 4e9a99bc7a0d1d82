"""Planning a run, before any step: which rows step together, at which rates, with
which noise and hyperparameters in each segment between live changes.

:func:`make_plan` turns a Scene into a :class:`Plan`: the rows regrouped by optimizer
kernel (gd, momentum and nesterov are all ``sgd``; on small batches the moment-based
kernels share one fused update, :mod:`optviz.fused`), every row's scheduled rate at every
update, and per segment the noise of every row and the hyperparameters of every group.
:mod:`optviz.engine` steps a plan.
"""
from __future__ import annotations

from dataclasses import dataclass
from types import SimpleNamespace

import numpy as np

from .fused import MAX_TABLE, FusedGroup, fusable, spread_rows
from .optimizers import OPTIMIZERS, STATE
from .scene import Scene

__all__ = ["Plan", "make_plan", "draws_random_numbers", "CHUNK_STARTS"]

#: Starts per block (a fixed constant: it decides the noise streams, so it is part of
#: what makes a Run reproducible). 2048 points x 8 bytes x 2 coordinates = 32 KB per buffer.
CHUNK_STARTS = 2048


@dataclass(frozen=True)
class Plan:
    """What a run will do: ``groups`` of rows stepped by one update each (their rows a
    contiguous slice of the internal row ``order``, internal -> user row), ``lrs`` the
    rate of every row at every update ``[rows, steps]``, and ``segments`` as
    ``(first update, noise of every row, specs of every group)``."""

    groups: list
    order: list[int]
    lrs: np.ndarray
    segments: list


def make_plan(scene: Scene, record_state: bool = False) -> Plan:
    """The plan of ``scene``; with ``record_state`` every row keeps its readable kernel
    (the fused update exposes no per-optimizer state)."""
    specs = scene.optimizers
    n_rows, n_starts, steps = len(specs), len(scene.starts), scene.steps
    segments = _segments(scene)
    lrs = _learning_rates(scene, segments)
    # regroup rows by kernel, keeping first-appearance order; on small batches the rows
    # of several moment-based kernels share one fused update (optviz.fused)
    kernel_of = [OPTIMIZERS[s.name].kernel for s in specs]
    fused = [i for i, s in enumerate(specs) if fusable(kernel_of[i], s.hparams)]
    table = steps * 2 * len(fused) * min(n_starts, CHUNK_STARTS)
    if len({kernel_of[i] for i in fused}) < 2 or table > MAX_TABLE or record_state:
        fused = []                       # (the readable kernels expose their state)
    kernels: dict[str, list[int]] = {}
    in_fused = set(fused)
    for i in range(n_rows):
        if i not in in_fused:
            kernels.setdefault(kernel_of[i], []).append(i)
    order = fused + [i for rows in kernels.values() for i in rows]   # internal -> user row
    groups = [FusedGroup(fused, 0, len(fused), lrs, [specs[i] for i in fused],
                         [kernel_of[i] for i in fused])] if fused else []
    lo = len(fused)
    for name, rows in kernels.items():
        groups.append(_Group(OPTIMIZERS[name], rows, lo, lo + len(rows), lrs,
                             [specs[i] for i in rows]))
        lo += len(rows)
    # per segment: the noise of every row and the hyperparameters of every kernel group
    plan = [(t0, _noise_levels(seg_specs, noise, order),
             [[seg_specs[i] for i in grp.rows] for grp in groups])
            for t0, seg_specs, noise in segments]

    return Plan(groups=groups, order=order, lrs=lrs, segments=plan)


def _segments(scene: Scene) -> list[tuple[int, tuple, float]]:
    """``[(first update index, row specs, scene noise)]``: the scene's own settings from
    update 0, then those of each :class:`~optviz.scene.Change` from its step on."""
    segs = [(0, scene.optimizers, scene.noise)]
    for c in scene.changes:
        _, specs, noise = segs[-1]
        segs.append((c.step, c.optimizers or specs, noise if c.noise is None else c.noise))
    return segs


def _learning_rates(scene: Scene, segments) -> np.ndarray:
    """``ndarray[rows, steps]``: the scheduled rate of every row at every update. After a
    change the schedule runs on unchanged, applied to the new base rate."""
    t = np.arange(scene.steps)
    out = np.empty((len(scene.optimizers), scene.steps))
    ends = [s[0] for s in segments[1:]] + [scene.steps]
    for (t0, specs, _), t1 in zip(segments, ends):
        for i, o in enumerate(specs):
            schedule = o.schedule or scene.schedule
            base = o.hparams["lr"]
            out[i, t0:t1] = base if schedule is None else \
                schedule.function(scene.steps)(t, base)[t0:t1]
    return out


def path_chunk(steps: int, rows: int) -> int:
    """Starts per block when whole paths are recorded and nothing random is drawn: as
    many as keep a block's path, loss and gradient buffers near 64 MB, a multiple of
    CHUNK_STARTS, at most 16384 (Adam on a million starts runs about twice as fast with
    16384 a block as with 2048: benchmarks.engine)."""
    fit = 64_000_000 // (40 * (steps + 1) * rows)
    return int(min(16384, max(CHUNK_STARTS, fit // CHUNK_STARTS * CHUNK_STARTS)))


def draws_random_numbers(scene: Scene) -> bool:
    """Whether simulating ``scene`` draws random numbers (gradient noise, minibatches,
    random search), whose streams are tied to blocks of CHUNK_STARTS starts. If not, its
    ``seed`` does not change the Run."""
    return (scene.batch_size is not None
            or any(noise if o.noise is None else o.noise
                   for _, specs, noise in _segments(scene) for o in specs)
            or any(OPTIMIZERS[o.name].random for o in scene.optimizers))


def _noise_levels(specs, scene_noise, order):
    """Gradient noise of each row (internal order): a float if all rows agree, else
    ``ndarray[rows, 1, 1]``."""
    levels = [scene_noise if specs[i].noise is None else specs[i].noise for i in order]
    if all(v == levels[0] for v in levels):
        return levels[0]
    return np.asarray(levels, dtype=float)[:, None, None]


def hyper_namespace(specs, shape) -> SimpleNamespace:
    """Hyperparameters of rows sharing a kernel, for points of ``shape`` [rows, 2, C]
    (a network's [rows, D, inits]):
    a Python scalar where all rows agree, else a full-shape array (full shape, not
    ``[rows, 1]``: NumPy's broadcasting costs more than the arithmetic on arrays this
    small). A pair is split into its halves (``betas`` into beta1 and beta2); ``active`` names the
    hyperparameters that are non-zero in some row."""
    cols: dict[str, list] = {}
    hyper = OPTIMIZERS[specs[0].name].hyper if specs else {}
    for s in specs:
        for k, v in s.hparams.items():
            parts = hyper[k].parts if k in hyper else ()
            if parts:
                for part, half in zip(parts, v):
                    cols.setdefault(part, []).append(half)
            else:
                cols.setdefault(k, []).append(v)
    ns = SimpleNamespace(active=frozenset(k for k, v in cols.items() if any(v)))
    for k, vals in cols.items():
        if all(v == vals[0] for v in vals):
            setattr(ns, k, vals[0])
        else:
            setattr(ns, k, spread_rows(vals, shape[2], shape[1]))
    return ns


class _Group:
    """Rows that share one kernel, as a contiguous slice of the internal row order."""

    def __init__(self, kernel, rows, lo, hi, lrs, specs):
        self.update = kernel.update
        self.init = kernel.init
        self.inspect = kernel.inspect
        self.rows, self.lo, self.hi = rows, lo, hi
        self.specs = specs
        lr = lrs[rows]                                        # [rows_k, steps]
        same = bool((lr == lr[:1]).all())
        # per-step rate: a Python float if the rows agree, else [steps, rows_k] spread to
        # the block's shape (see _RowRates)
        self.lr = lr[0].tolist() if same else np.ascontiguousarray(lr.T)

    def rates(self, shape):
        """``rates[t]``: the rate of update t for this group's points of ``shape``."""
        if isinstance(self.lr, list):
            return self.lr
        if shape[2] >= 16:                   # long runs of points: broadcasting is cheap
            return self.lr[:, :, None, None]
        return _RowRates(self.lr, shape)


class _RowRates:
    """Rates that differ between rows (a learning-rate sweep) on blocks of few points,
    spread at each update to the full shape ``[rows, 2, C]`` (see spread_rows)."""

    def __init__(self, table, shape):
        self.table, self.C = table, shape[2]

    def __getitem__(self, t):
        return spread_rows(self.table[t], self.C)


def state_names(specs) -> list[str]:
    """What the state inspector records for these rows: STATE, then what their entries
    show beyond it (``Optimizer.shows``: ASGD's average, L-BFGS's evaluations)."""
    names = list(STATE)
    for spec in specs:
        names += [k for k in OPTIMIZERS[spec.name].shows if k not in names]
    return names


