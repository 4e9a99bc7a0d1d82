"""Thousands of runs at once: basin maps, learning-rate sweeps, lr x beta heatmaps and
random search, each one :func:`~optviz.engine.simulate_final` call (rows and starts of a
single Scene, stepped together in blocks of 2048 starts, so memory stays bounded).

The lectures say "the optimizer determines which minimizer you converge to", tabulate
error against learning rate, and recommend random search to start tuning; these are
those pictures. Every function takes ``progress(done, total)`` for the page's progress
bar, and returns a result with ``to_csv()``; ``budget`` (seconds, as optviz.cost
prices the work) refuses a costlier one before it starts, and ``deadline``
(optviz.cost.Deadline) stops one that runs long, both with CostError.
"""
from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass

import numpy as np

from .cost import check
from .engine import simulate_final
from .optimizers import OPTIMIZERS
from .scene import OptimizerSpec, Scene

__all__ = ["BasinMap", "Sweep", "basin_map", "lr_sweep", "grid_sweep", "random_search",
           "has_beta",
           "DIVERGED", "MOVING", "ELSEWHERE", "MAX_MAP", "MAX_SWEEP_ROWS"]

#: basin labels besides the index of a known minimum
DIVERGED, MOVING, ELSEWHERE = -1, -2, -3
MAX_MAP = 256               # cells per side of a basin map
MAX_SWEEP_ROWS = 4096       # 64 x 64 settings


def _csv(header, rows) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)
    return buf.getvalue()


@dataclass(frozen=True, eq=False)
class BasinMap:
    """Per optimizer row and grid cell: the known minimum it ended near (index into
    ``minima``) or DIVERGED / MOVING (still moving at the end) / ELSEWHERE (stopped away
    from every known minimum: a saddle, a plateau), and the last update that moved it."""

    scene: Scene
    xs: np.ndarray            # [n] cell centres
    ys: np.ndarray            # [n]
    label: np.ndarray         # int [rows, n_y, n_x]
    steps: np.ndarray         # int [rows, n_y, n_x]: settled_at
    minima: tuple

    def to_csv(self) -> str:
        rows = []
        for r, name in enumerate(self.scene.labels):
            for i, y in enumerate(self.ys):
                for j, x in enumerate(self.xs):
                    rows.append([name, repr(float(x)), repr(float(y)), int(self.label[r, i, j]),
                                 int(self.steps[r, i, j])])
        return _csv(["row", "x0", "y0", "basin", "settled_at"], rows)


def basin_map(surface: str, optimizers, *, n: int = 128, steps: int = 500,
              box=None, noise: float = 0.0, seed: int = 0, progress=None,
              surface_params=None, budget=None, deadline=None,
              processes: int = 1) -> BasinMap:
    """An ``n`` x ``n`` grid of starts over ``box`` (default: the surface's view) for every
    optimizer row; each cell labelled by the minimum it ends near (within 2 % of the
    box's diagonal). ``processes``: see simulate_final."""
    if not 2 <= n <= MAX_MAP:
        raise ValueError(f"n: {n} is outside [2, {MAX_MAP}]")
    probe = Scene(surface, list(optimizers), steps=steps, surface_params=surface_params)
    surf = probe.get_surface()
    x0, x1, y0, y1 = box or surf.view
    xs, ys = np.linspace(x0, x1, n), np.linspace(y0, y1, n)
    X, Y = np.meshgrid(xs, ys)
    starts = np.stack([X.ravel(), Y.ravel()], axis=1)
    diag = math.hypot(x1 - x0, y1 - y0)
    scene = probe.replace(starts=starts, noise=noise, seed=seed)
    _priced(scene, budget, ("a smaller grid",))
    run = simulate_final(scene, tol=1e-6 * diag, progress=progress, deadline=deadline,
                         processes=processes)
    label = np.full(run.loss.shape, ELSEWHERE, dtype=np.int64)
    minima = np.asarray(surf.minima, dtype=float).reshape(-1, 2)
    if len(minima):
        dist = np.linalg.norm(run.position[:, :, None, :] - minima, axis=-1)  # [r, s, m]
        near = dist.min(axis=-1) < 0.02 * diag
        label[near] = dist.argmin(axis=-1)[near]
    else:
        near = np.zeros(label.shape, dtype=bool)
    label[~near & (run.settled_at >= steps)] = MOVING
    label[run.diverged_at >= 0] = DIVERGED
    shape = (len(scene.optimizers), n, n)
    return BasinMap(scene, xs, ys, label.reshape(shape), run.settled_at.reshape(shape),
                    tuple(map(tuple, minima)))


@dataclass(frozen=True, eq=False)
class Sweep:
    """Final losses of a set of settings: ``loss`` and ``diverged`` are shaped like
    the settings grid (``axes`` names its dimensions, ``values`` their values)."""

    scene: Scene
    axes: tuple               # e.g. ("optimizer", "lr") or ("beta", "lr") or ("trial",)
    values: tuple             # one array per axis
    loss: np.ndarray
    diverged: np.ndarray      # bool
    settings: np.ndarray | None = None   # random search: [trials, 2] (lr, beta)

    @property
    def best_so_far(self) -> np.ndarray:
        """Random search: the lowest final loss among the first k trials, k = 1..N
        (diverged trials count as +inf)."""
        loss = np.where(self.diverged, np.inf, self.loss).ravel()
        return np.minimum.accumulate(loss)

    def to_csv(self) -> str:
        if self.settings is not None:
            return _csv(["trial", "lr", "beta", "final_loss", "diverged", "best_so_far"],
                        [[i, repr(float(lr)), repr(float(b)), repr(float(loss)), bool(d),
                          repr(float(best))]
                         for i, ((lr, b), loss, d, best) in enumerate(zip(
                             self.settings, self.loss, self.diverged, self.best_so_far))])
        grid = np.meshgrid(*self.values, indexing="ij")
        return _csv([*self.axes, "final_loss", "diverged"],
                    [[*(g.flat[k] for g in grid), repr(float(self.loss.flat[k])),
                      bool(self.diverged.flat[k])] for k in range(self.loss.size)])


#: rows per simulate_final call in a sweep: progress is reported after each
SWEEP_CHUNK = 512


def _priced(scene, budget, reduce=("fewer settings",)) -> None:
    """CostError (optviz.cost) if ``scene`` costs more than ``budget`` seconds (None: any)."""
    if budget is not None:
        check(scene, budget, what="this exploration", reduce=reduce, final=True,
              record_grad=False)


def _final(scene, progress, budget=None, deadline=None):
    """Final loss and divergence of every row (one start), in chunks of rows so that a
    progress bar moves; the noise a row sees does not depend on the other rows."""
    _priced(scene, budget)
    rows = scene.optimizers
    loss, div = [], []
    for r0 in range(0, len(rows), SWEEP_CHUNK):
        part = scene if len(rows) <= SWEEP_CHUNK else \
            scene.replace(optimizers=rows[r0:r0 + SWEEP_CHUNK])
        run = simulate_final(part, deadline=deadline)
        loss.append(run.loss[:, 0])
        div.append(run.diverged_at[:, 0] >= 0)
        if progress is not None:
            progress(min(r0 + SWEEP_CHUNK, len(rows)), len(rows))
    return np.concatenate(loss), np.concatenate(div)


def lr_sweep(surface: str, names, lrs, *, start=None, steps: int = 500, progress=None,
             surface_params=None, budget=None, deadline=None) -> Sweep:
    """Final loss against the learning rate for each optimizer: the lectures' "error vs
    step size" table. One scene: a row per (optimizer, lr)."""
    names, lrs = list(names), np.asarray(lrs, dtype=float)
    if len(names) * len(lrs) > MAX_SWEEP_ROWS:
        raise ValueError(f"{len(names)} optimizers x {len(lrs)} rates is more than "
                         f"{MAX_SWEEP_ROWS} rows")
    rows = [OptimizerSpec(nm, lr=float(lr), label=f"{nm} {lr:g}") for nm in names for lr in lrs]
    scene = Scene(surface, rows, starts=None if start is None else [start], steps=steps,
                  surface_params=surface_params)
    loss, div = _final(scene, progress, budget, deadline)
    shape = (len(names), len(lrs))
    return Sweep(scene, ("optimizer", "lr"), (np.array(names), lrs), loss.reshape(shape),
                 div.reshape(shape))


def has_beta(name: str) -> bool:
    """Whether optimizer ``name`` has a momentum (the SGD family, RMSProp) or a beta1 (the
    Adam family) for :func:`grid_sweep` and :func:`random_search` to vary."""
    hyper = OPTIMIZERS[name].hyper if name in OPTIMIZERS else {}
    return "momentum" in hyper or "betas" in hyper


def _with_beta(name: str, lr: float, beta: float, label: str) -> OptimizerSpec:
    """``name`` at rate ``lr`` with its momentum, or its beta1 (its own beta2 kept), set
    to ``beta``; GD, an SGD preset, becomes heavy-ball momentum."""
    if "momentum" in OPTIMIZERS[name].hyper:
        return OptimizerSpec(name, lr=lr, momentum=beta, label=label)
    beta2 = OPTIMIZERS[name].defaults["betas"][1]
    return OptimizerSpec(name, lr=lr, betas=(beta, beta2), label=label)


def _check_beta(name: str) -> None:
    if not has_beta(name):
        with_beta = ", ".join(n for n in OPTIMIZERS if has_beta(n))
        raise ValueError(f"optimizer: {name!r} has no momentum or beta1 to vary; "
                         f"one of {with_beta}")


def grid_sweep(surface: str, name: str, lrs, betas, *, start=None, steps: int = 1000,
               progress=None, surface_params=None, budget=None, deadline=None) -> Sweep:
    """Final loss over lr x beta (momentum, or Adam's beta1) for one optimizer: the
    stable / unstable boundary as a heatmap. ``loss[i, j]`` is betas[i], lrs[j]."""
    _check_beta(name)
    lrs, betas = np.asarray(lrs, dtype=float), np.asarray(betas, dtype=float)
    if len(lrs) * len(betas) > MAX_SWEEP_ROWS:
        raise ValueError(f"{len(betas)} x {len(lrs)} settings is more than {MAX_SWEEP_ROWS}")
    rows = [_with_beta(name, float(lr), float(b), f"{b:g} {lr:g}") for b in betas for lr in lrs]
    scene = Scene(surface, rows, starts=None if start is None else [start], steps=steps,
                  surface_params=surface_params)
    loss, div = _final(scene, progress, budget, deadline)
    shape = (len(betas), len(lrs))
    return Sweep(scene, ("beta", "lr"), (betas, lrs), loss.reshape(shape), div.reshape(shape))


def random_search(surface: str, name: str, trials: int, *, seed: int = 0,
                  lr_range=(1e-4, 1.0), beta_range=(0.0, 0.99), start=None,
                  steps: int = 1000, progress=None, surface_params=None, budget=None,
                  deadline=None) -> Sweep:
    """``trials`` settings drawn at random, lr log-uniformly and 1 - beta log-uniformly
    (so momenta near 1 are tried as often as near 0.9), run as rows of one scene; the
    same seed gives the same trials. ``best_so_far`` is the tuning curve."""
    _check_beta(name)
    if not 1 <= trials <= MAX_SWEEP_ROWS:
        raise ValueError(f"trials: {trials} is outside [1, {MAX_SWEEP_ROWS}]")
    rng = np.random.default_rng(seed)
    lr = np.exp(rng.uniform(np.log(lr_range[0]), np.log(lr_range[1]), trials))
    lo, hi = 1 - beta_range[1], 1 - beta_range[0]
    beta = 1 - np.exp(rng.uniform(np.log(lo), np.log(hi), trials))
    rows = [_with_beta(name, float(a), float(b), f"trial {i}")
            for i, (a, b) in enumerate(zip(lr, beta))]
    scene = Scene(surface, rows, starts=None if start is None else [start], steps=steps,
                  surface_params=surface_params)
    loss, div = _final(scene, progress, budget, deadline)
    return Sweep(scene, ("trial",), (np.arange(trials),), loss, div,
                 settings=np.stack([lr, beta], axis=1))
