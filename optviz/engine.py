"""simulate(scene) -> Run: every optimizer row x every start point, stepped together.

Layout. Inside the engine a batch of points is ``ndarray[rows, 2, points]``: per row an
x run and a y run of the points, each contiguous, so every elementwise operation streams
through memory, and the rows of one kernel (a slice of rows) are one contiguous block
(on a page's handful of points a NumPy call on a strided view costs 2-5x one on a
contiguous array: with this layout the all-optimizers scene takes 8.5 % fewer
instructions; the gradient reads x and y through two copies a step on small blocks, see
PLANE_COPY_BELOW, or is one multiply of the points where Surface.grad_scale allows).
Rows are regrouped by optimizer kernel (gd, momentum and nesterov are all ``sgd``), so a
step is: one gradient evaluation for every point of every row, then one vectorized
update per kernel, whatever the number of rows. On small batches, where NumPy's cost per
call dominates, the moment-based kernels (SGD family, AdaGrad, RMSProp, Adam family)
share a single fused update (:mod:`optviz.fused`). There is one Python loop over steps
and none over points.

Chunks. Start points are independent, so the engine runs all steps for one block of
``CHUNK_STARTS`` starts before moving on: a block's working set stays in cache, and a
million starts cost no more per point than a thousand. The gradient noise for a block is
drawn from its own stream, ``default_rng(SeedSequence(seed, spawn_key=(0, block)))``, one
``(2, starts_in_block)`` draw per step shared by every row (common random numbers): the
same start sees the same noise whichever optimizers are on, and the same scene and seed
give the same Run on any machine. On a data surface with ``batch_size`` b the gradient
is the mean over b samples drawn without replacement at every step from the stream
``SeedSequence(seed, spawn_key=(2, block))``, again one draw shared by every row.

Divergence. After every update a point outside ``|x|, |y| <= 1e6`` (or non-finite) is put
back to its last finite position and frozen there; ``diverged_at`` records the update.
Its gradient is zeroed from then on so its optimizer state stays finite (and recorded
as 0). A point whose
*loss* is not finite is frozen the same way. No NaN or inf reaches ``path`` or ``loss``.
"""
from __future__ import annotations

import contextlib
import math
import mmap
import os
import signal
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np

from . import buffers
from .cost import CostError, Deadline
from .cost import check as check_cost
from .data import sample_mean
from .fused import FusedGroup
from .optimizers import OPTIMIZERS, StepContext
from .plan import (
    CHUNK_STARTS,
    draws_random_numbers,
    hyper_namespace,
    make_plan,
    path_chunk,
    state_names,
)
from .scene import COORD_LIMIT, Scene

__all__ = ["Run", "FinalRun", "simulate", "simulate_within", "simulate_final",
           "draws_random_numbers", "CHUNK_STARTS"]

#: Starts per block of simulate_final when nothing random is drawn (see _simulate).
FINAL_CHUNK_STARTS = 8192
#: Threads for batches of 4 blocks or more (OPTVIZ_THREADS; default: the machine's cores,
#: at most 4). Each block has its own random streams, so the result does not depend on it.
THREADS = max(1, int(os.environ.get("OPTVIZ_THREADS", min(4, os.cpu_count() or 1))))
#: Elements of gradient noise drawn ahead (512 KB; see _noise_table).
NOISE_TABLE = 65536
#: Starts per block below which the gradient is taken on contiguous copies of the x and
#: y coordinates (see _run_block).
PLANE_COPY_BELOW = 256
#: Updates between divergence checks (see _run_block).
CHECK_EVERY = 16
#: Points (rows x starts) from which a block computes the loss of every CHECK_EVERY
#: updates as they are checked, in cache, rather than of the whole path at the end
#: (Adam, 1M starts x 100 steps: the loss cost ~half as much; on a page-sized run the
#: extra calls would cost more than they save).
WINDOW_LOSS_POINTS = 2048


@dataclass(frozen=True, eq=False)
class Run:
    """The recorded result of :func:`simulate` (user row order, start order).

    The arrays have the documented shapes; in memory they are time-major (``path`` is a
    view of a ``[steps+1, rows, 2, starts]`` buffer), the order the engine computes them
    in, so a million paths are written once, without a transposing copy (which cost Adam,
    1M starts x 100 steps, about a third of its time). ``path[:, :, t]``,
    the whole batch at one step, is contiguous; ``np.ascontiguousarray(run.path)`` gives
    C order if a library needs it.
    """

    scene: Scene
    path: np.ndarray          # float64 [rows, starts, steps + 1, 2], start included
    loss: np.ndarray          # float64 [rows, starts, steps + 1]
    lr: np.ndarray            # float64 [rows, steps]: the rate update t used
    diverged_at: np.ndarray   # int64 [rows, starts]: first update that left the box, -1 never
    grad: np.ndarray | None   # float64 [rows, starts, steps, 2]: gradient update t saw
    #                           (0 from a point's diverged_at on: it is frozen)
    #: with ``record_state=True``: optimizer state after update t, float64
    #: [rows, starts, steps, 2] each, NaN where a row has no such quantity (see STATE)
    state: dict[str, np.ndarray] | None = None

    @property
    def labels(self) -> list[str]:
        return self.scene.labels

    def figure(self, frames: int | None = None):
        """A ``plotly.graph_objects.Figure`` of the run for a notebook: the surface's
        contour and minima, every row's path, and an animation of them (Plotly frames, a
        play button and a step slider; at most ``frames`` frames, default 120) that plays
        in Jupyter, VS Code and Colab without a server. The first start of each row.
        Needs Plotly (``pip install plotly``)."""
        from .plots import run_figure
        return run_figure(self, frames)

    def to_frame(self):
        """The run as a pandas DataFrame in long form: one line per row, start and step,
        columns ``row, label, optimizer, start, step, x, y, loss, lr`` (``lr``, the rate of
        the update that leaves the step: NaN on the last). Needs pandas."""
        try:
            import pandas as pd
        except ImportError:
            raise ImportError("Run.to_frame() needs pandas: pip install pandas") from None
        rows, starts, points = self.loss.shape
        specs = self.scene.optimizers
        lr = np.concatenate([self.lr, np.full((rows, 1), np.nan)], axis=1)   # [rows, T+1]
        shape = (rows, starts, points)
        index = np.indices(shape).reshape(3, -1)
        return pd.DataFrame({
            "row": index[0], "label": np.array(self.labels, dtype=object)[index[0]],
            "optimizer": np.array([o.name for o in specs], dtype=object)[index[0]],
            "start": index[1], "step": index[2],
            "x": self.path[..., 0].reshape(-1), "y": self.path[..., 1].reshape(-1),
            "loss": self.loss.reshape(-1),
            "lr": np.broadcast_to(lr[:, None, :], shape).reshape(-1)})


@dataclass(frozen=True, eq=False)
class FinalRun:
    """The result of :func:`simulate_final`: where every row ended from every start."""

    scene: Scene
    position: np.ndarray      # float64 [rows, starts, 2] after the last update
    loss: np.ndarray          # float64 [rows, starts]
    diverged_at: np.ndarray   # int64 [rows, starts], -1 never (as Run.diverged_at)
    settled_at: np.ndarray    # int64 [rows, starts]: last update that moved it > tol

    @property
    def labels(self) -> list[str]:
        return self.scene.labels


def simulate(scene: Scene, *, record_grad: bool = True, record_state: bool = False,
             deadline: Deadline | None = None) -> Run:
    """Run every optimizer row from every start for ``scene.steps`` updates.

    ``record_grad=False`` skips recording the gradients (``Run.grad`` is then None) for
    very large batches where only paths and losses are wanted. ``record_state=True``
    records each row's optimizer state after every update in ``Run.state`` (names in
    :data:`optviz.optimizers.STATE` and the rows' ``Optimizer.shows``): the page's state
    inspector. ``deadline``
    (:class:`optviz.cost.Deadline`) is checked every CHECK_EVERY steps; past it the run
    stops with :class:`optviz.cost.CostError`.
    """
    return _simulate(scene, record_grad=record_grad, record_state=record_state,
                     deadline=deadline)


def simulate_within(scene: Scene, budget: float, *, seconds: float | None = None,
                    what: str = "this run", reduce=("fewer rows",), record_grad: bool = True,
                    record_state: bool = False, gradient_check: bool = False) -> Run:
    """:func:`simulate`, for a server that runs what it is asked: ``scene`` is priced first
    (:func:`optviz.cost.check`; :class:`~optviz.cost.CostError` naming what to reduce if
    it would cost more than ``budget`` seconds on the reference machine), then simulated
    under a deadline of ``seconds`` wall-clock (default: none), which backs the estimate
    on a busy machine. ``what`` and ``reduce`` word the refusal; ``gradient_check`` adds
    the price of the page's gradient check of every point. The page, its downloads and
    class mode's scoring all run their scenes through this one function."""
    check_cost(scene, budget, what=what, reduce=reduce, record_grad=record_grad,
               record_state=record_state, check=gradient_check)
    return _simulate(scene, record_grad=record_grad, record_state=record_state,
                     deadline=None if seconds is None else Deadline(seconds, what))


def simulate_final(scene: Scene, *, tol: float = 1e-6, progress=None,
                   deadline: Deadline | None = None, processes: int = 1) -> FinalRun:
    """Like :func:`simulate`, keeping only where each point ends: memory O(rows x starts)
    instead of O(rows x starts x steps), for basin maps and sweeps of many runs, and
    little work besides the updates: where points are is checked every CHECK_EVERY
    updates, not after each one. The paths are simulate's (same blocks, noise and
    updates) up to divergence: a point found outside the box at a check has diverged at
    that check's update (``diverged_at``, at most CHECK_EVERY - 1 updates after
    simulate's) and ends where it was at the check before. ``settled_at`` is the last
    check at which the point had moved by more than ``tol`` in a coordinate since the
    check before (0: never; ``steps``: still moving at the end).

    ``progress(done, total)`` is called after each block of starts; ``deadline`` as for
    simulate. ``processes`` > 1 runs the blocks in that many forked processes (POSIX
    only) writing into shared memory: unlike threads they do not queue for the
    interpreter lock, which at a few thousand starts a block costs more than it gives
    (a 256 x 256 basin map: 0.35 s on one thread, 0.76 s on two)."""
    return _simulate(scene, record_grad=False, record_state=False, final_tol=tol,
                     progress=progress, deadline=deadline, processes=processes)


def _simulate(scene, *, record_grad, record_state, final_tol=None, progress=None,
              deadline=None, processes=1):
    if not isinstance(scene, Scene):
        raise TypeError(f"simulate() takes a Scene, not {type(scene).__name__}")
    surface = scene.get_surface()
    specs = scene.optimizers
    n_rows, n_starts, steps = len(specs), len(scene.starts), scene.steps
    planned = make_plan(scene, record_state)
    groups, order, lrs, plan = planned.groups, planned.order, planned.lrs, planned.segments

    final = final_tol is not None
    n_points = 1 if final else steps + 1
    # End points of a run with no random numbers do not depend on the blocks: there,
    # bigger blocks cost fewer NumPy calls per point (a 256 x 256 basin map takes less
    # than half the time with 8192 starts a block as with 2048).
    chunk = CHUNK_STARTS
    if not draws_random_numbers(scene):
        chunk = FINAL_CHUNK_STARTS if final else path_chunk(steps, n_rows)
    blocks = list(enumerate(range(0, n_starts, chunk)))
    forked = final and processes > 1 and len(blocks) >= 2 and hasattr(os, "fork")
    # time-major, as the blocks compute them (see Run); large ones from buffers that
    # discarded Runs used (optviz.buffers: fresh memory costs more than the loop);
    # shared with the forked processes in final mode
    empty = _shared if forked else buffers.empty
    out = _Outputs(
        path=empty((n_points, n_rows, 2, n_starts)),
        loss=empty((n_points, n_rows, n_starts)),
        grad=buffers.empty((steps, n_rows, 2, n_starts)) if record_grad else None,
        diverged_at=np.full((n_rows, n_starts), -1, dtype=np.int64) if not forked
        else _shared((n_rows, n_starts), np.int64, fill=-1),
        order=order,
        state={k: buffers.empty((steps, n_rows, 2, n_starts)) for k in state_names(specs)}
        if record_state else None,
        settled_at=(_shared if forked else np.zeros)((n_rows, n_starts), dtype=np.int64)
        if final else None,
        tol=final_tol)
    lock, done = threading.Lock(), [0]
    scale = 1.0                    # forked: the parent reports its share for everyone

    def work(my_blocks):
        with np.errstate(all="ignore"):      # per thread: errstate is context-local
            for block, c0 in my_blocks:
                c1 = min(c0 + chunk, n_starts)
                _run_block(scene, surface, groups, plan, n_rows, scene.starts[c0:c1], block,
                           record_grad, out, c0, deadline)
                if progress is not None:
                    with lock:
                        done[0] += c1 - c0
                        progress(min(n_starts, round(done[0] * scale)), n_starts)

    if forked:
        parts = [blocks[i::processes] for i in range(min(processes, len(blocks)))]
        scale = n_starts / sum(min(c0 + chunk, n_starts) - c0 for _, c0 in parts[0])
        _in_processes(work, parts)
    else:
        # Blocks are independent: large batches of whole paths use both cores (NumPy
        # releases the GIL inside its loops). Small scenes, like every page request,
        # and simulate_final (whose blocks are cheap per NumPy call) stay on one thread.
        n_threads = min(THREADS, len(blocks)) if len(blocks) >= 4 and not final else 1
        if n_threads == 1:
            work(blocks)
        else:
            with ThreadPoolExecutor(n_threads) as pool:
                list(pool.map(work, [blocks[i::n_threads] for i in range(n_threads)]))
    # the documented shapes, as views of the time-major buffers (no copy)
    path, loss = out.path.transpose(1, 3, 0, 2), out.loss.transpose(1, 2, 0)
    diverged_at = out.diverged_at
    if final:
        return FinalRun(scene=scene, position=path[:, :, 0], loss=loss[:, :, 0],
                        diverged_at=diverged_at, settled_at=out.settled_at)
    grad = None if out.grad is None else out.grad.transpose(1, 3, 0, 2)
    state = None if out.state is None else \
        {k: v.transpose(1, 3, 0, 2) for k, v in out.state.items()}
    return Run(scene=scene, path=path, loss=loss, lr=lrs, diverged_at=diverged_at, grad=grad,
               state=state)


@dataclass
class _Outputs:
    """The run's outputs, time-major: path ``[steps+1, rows, 2, starts]``, loss
    ``[steps+1, rows, starts]``, grad and state ``[steps, rows, 2, starts]`` (user row
    order). A block writes into them in place when its rows are in user order
    (``direct``), else it copies its buffers here row by row (:meth:`store`)."""
    path: np.ndarray
    loss: np.ndarray
    grad: np.ndarray | None
    diverged_at: np.ndarray
    order: list[int]          # internal row -> user row
    state: dict[str, np.ndarray] | None
    settled_at: np.ndarray | None = None      # final mode only
    tol: float | None = None                  # final mode: None records whole paths
    direct: bool = field(init=False)          # internal row order is the user's

    def __post_init__(self):
        self.direct = self.order == list(range(len(self.order)))

    def store(self, c0, pathbuf, lossbuf, gradbuf, diverged, statebuf, settled=None):
        """Copy what one block computed into the outputs at start offset ``c0``: each row
        a few copies of contiguous runs of the block's starts. Buffers that are already
        views of the outputs (``direct``) are skipped."""
        cols = slice(c0, c0 + pathbuf.shape[-1])
        copy_path = not np.may_share_memory(pathbuf, self.path)
        copy_grad = gradbuf is not None and not np.may_share_memory(gradbuf, self.grad)
        copy_loss = not np.may_share_memory(lossbuf, self.loss)   # (a mended loss is new)
        for i, r in enumerate(self.order):
            if copy_path:
                self.path[:, r, :, cols] = pathbuf[:, i]
            if copy_grad:
                self.grad[:, r, :, cols] = gradbuf[:, i]
            if copy_loss:
                self.loss[:, r, cols] = lossbuf[:, i]
            for k, buf in (statebuf or {}).items():
                self.state[k][:, r, :, cols] = buf[:, i]
            if self.settled_at is not None:
                self.settled_at[r, cols] = settled[i]
            self.diverged_at[r, cols] = diverged[i]


def _run_block(scene, surface, groups, plan, n_rows, starts, block, record_grad, out, c0,
               deadline=None):
    """All steps for one block of starts, stored into ``out`` at start offset ``c0``.
    Internal buffers: path ``[steps+1, rows, 2, C]``, loss ``[steps+1, rows, C]``,
    grad and state ``[steps, rows, 2, C]``, diverged_at ``[rows, C]``. ``plan`` lists
    ``(first update, noise, specs of each group)`` per segment (see _segments)."""
    steps, n = scene.steps, len(starts)
    final = out.tol is not None          # keep only the last position (simulate_final)
    w = np.empty((n_rows, 2, n))
    w[:, 0], w[:, 1] = starts[:, 0], starts[:, 1]
    pathbuf, lossbuf, gradbuf = _block_buffers(surface, out, c0, w, steps, record_grad)
    if final:                            # w at the last check, and a scratch array
        last, step = w.copy(), np.empty_like(w)
        settled = np.zeros((n_rows, n), dtype=np.int64)
    g = np.empty_like(w)
    wx, wy, gxv, gyv = w[:, 0], w[:, 1], g[:, 0], g[:, 1]
    batch = scene.batch_size
    # The gradient. Where it is (sx x, sy y) (Surface.grad_scale) one multiply of w by a
    # full-shape factor array (broadcasting a (2, 1) one against w costs 2.5x). Otherwise
    # x and y of every point are strided views of w: on a few points the gradient costs
    # less on contiguous copies (~15 calls on strided views at up to 2x the cost of each
    # against 2 copies); on big blocks each row's run of points is long and contiguous.
    gscale = px = py = None
    if surface.grad_scale is not None and batch is None:
        gscale = np.empty_like(w)
        gscale[:, 0], gscale[:, 1] = surface.grad_scale
    elif n < PLANE_COPY_BELOW:
        px, py = np.empty_like(wx), np.empty_like(wy)
    x_in, y_in = (wx, wy) if px is None else (px, py)          # what the gradient reads
    diverged = np.full((n_rows, n), -1, dtype=np.int64)
    # frozen points [rows, C]; pinned, the same mask at both coordinates [rows, 2, C] (a
    # mask broadcast across the coordinate axis makes NumPy loop two elements at a time)
    frozen = pinned = frozen_w = None
    checked = 0

    statebuf = {k: np.full((steps, n_rows, 2, n), np.nan) for k in out.state} \
        if out.state is not None else None
    noise = plan[0][1]
    noisy = bool(np.any(noise))
    # the streams of this block (made only where used: ~20 us each, on every page request)
    noise_rng = np.random.default_rng(np.random.SeedSequence(scene.seed, spawn_key=(0, block))) \
        if any(np.any(nz) for _, nz, _ in plan) else None
    ctx = StepContext(surface=surface, rng=np.random.default_rng(
        np.random.SeedSequence(scene.seed, spawn_key=(1, block)))
        if any(OPTIMIZERS[o.name].random for o in scene.optimizers) else None)
    clip = scene.clip_norm
    grad_xy = surface.grad_xy
    if batch is not None:        # minibatches: one draw per step, shared by every row
        batch_rng = np.random.default_rng(np.random.SeedSequence(scene.seed,
                                                                 spawn_key=(2, block)))
        n_samples = surface.dataset.n
    now = None                  # what an optimizer's own evaluations see (see _Evaluator)
    if any(OPTIMIZERS[o.name].evaluations_for(o.hparams).get("grad")
           for o in scene.optimizers):
        now = ctx.evaluate = _Evaluator(surface, clip)
    views = []
    for grp in groups:
        wv, gv = w[grp.lo:grp.hi], g[grp.lo:grp.hi]
        hp = None if isinstance(grp, FusedGroup) else hyper_namespace(grp.specs, wv.shape)
        views.append([grp.update, wv, gv, grp.init(wv, hp), grp.rates(wv.shape), hp,
                      getattr(grp, "inspect", None), grp.lo, grp.hi])
    changes = {t0: (nz, specs) for t0, nz, specs in plan[1:]}
    noise_tab, tab_t0 = (), 0

    for t in range(steps):
        if deadline is not None and t % CHECK_EVERY == 0:
            deadline.check()
        if t in changes:                 # a knob turned: new noise and hyperparameters
            noise, group_specs = changes[t]
            noisy = bool(np.any(noise))
            noise_tab = ()
            for grp, view, specs in zip(groups, views, group_specs):
                if isinstance(grp, FusedGroup):
                    view[3] = grp.changed(view[1], view[3], specs)
                else:
                    view[5] = hyper_namespace(specs, view[1].shape)
        if gscale is not None:
            np.multiply(w, gscale, g)
        else:
            if px is not None:
                px[...], py[...] = wx, wy
            if batch is None:
                gx, gy = grad_xy(x_in, y_in)
            else:
                idx = batch_rng.choice(n_samples, batch, replace=False)
                gx, gy = surface.batch_grad_xy(x_in, y_in, idx)
                if now is not None:
                    now.idx = idx
            gxv[...], gyv[...] = gx, gy
        if noisy:                        # drawn for many updates at once (same stream)
            if t - tab_t0 >= len(noise_tab):
                end = min([c for c in changes if c > t] + [steps])
                noise_tab, tab_t0 = _noise_table(noise_rng, noise, end - t, n_rows, n), t
            g += noise_tab[t - tab_t0]
            if now is not None:
                now.noise = noise_tab[t - tab_t0]
        elif now is not None:
            now.noise = None
        if clip is not None:
            norm = np.sqrt(gxv * gxv + gyv * gyv)
            g *= np.minimum(1.0, clip / np.maximum(norm, 1e-300))[:, None]
        if frozen is not None:
            np.copyto(g, 0.0, where=pinned)
        if record_grad:
            gradbuf[t] = g
        if now is None:
            for update, wv, gv, state, lr, hp, _, _, _ in views:
                update(wv, gv, state, lr[t], t + 1, hp, ctx)
        else:                            # an update that evaluates points: its rows' offset
            for update, wv, gv, state, lr, hp, _, lo, _ in views:
                ctx.lo = lo
                update(wv, gv, state, lr[t], t + 1, hp, ctx)
        if statebuf is not None:
            for _, _, gv, state, lr, hp, inspect, lo, hi in views:
                for k, v in inspect(state, gv, lr[t], t + 1, hp).items():
                    statebuf[k][t, lo:hi] = v
        if frozen is not None:
            np.copyto(w, frozen_w, where=pinned)
        if final:
            # checked every CHECK_EVERY updates, not every update: between checks a
            # step costs only the gradient and the update (see simulate_final)
            if (t + 1) % CHECK_EVERY == 0 or t + 1 == steps:
                frozen, pinned, frozen_w = _final_check(w, last, step, settled, diverged,
                                                        frozen, pinned, frozen_w, t + 1,
                                                        out.tol)
            continue
        pathbuf[t + 1] = w
        # Divergence is looked for every CHECK_EVERY updates, not every update: points
        # are independent, so a late find is mended exactly by rewinding that point.
        if (t + 1) % CHECK_EVERY == 0 or t + 1 == steps:
            window = pathbuf[checked + 1:t + 2]
            # (NaN fails this test too)
            if not (window.max() <= COORD_LIMIT and window.min() >= -COORD_LIMIT):
                frozen = _freeze(window, pathbuf[checked], diverged, frozen, checked)
                w[...] = pathbuf[t + 1]
                pinned, frozen_w = _pin(frozen, w)
            if lossbuf is not None:     # big blocks: the window's loss while it is in cache
                lossbuf[checked + 1:t + 2] = surface.value_xy(window[:, :, 0], window[:, :, 1])
            checked = t + 1

    if final:
        pathbuf[0] = w
    _finish_block(surface, out, c0, pathbuf, lossbuf, gradbuf, diverged, statebuf,
                  settled if final else None)


def _block_buffers(surface, out, c0, w, steps, record_grad):
    """A block's path, loss (None: computed at the end) and gradient buffers, the path
    and loss starting at ``w``: views of the outputs where rows are in user order,
    else its own (stored by ``out.store``)."""
    n_rows, n = w.shape[0], w.shape[2]
    final = out.tol is not None          # keep only the last position (simulate_final)
    cols = slice(c0, c0 + n)
    if out.direct:               # rows in user order: compute straight into the outputs
        pathbuf = out.path[..., cols]
        gradbuf = out.grad[..., cols] if record_grad else None
    else:
        pathbuf = np.empty((1 if final else steps + 1, n_rows, 2, n))
        gradbuf = np.empty((steps, n_rows, 2, n)) if record_grad else None
    pathbuf[0] = w
    lossbuf = None
    if not final and n_rows * n >= WINDOW_LOSS_POINTS:
        lossbuf = out.loss[..., cols] if out.direct else np.empty((steps + 1, n_rows, n))
        lossbuf[0] = surface.value_xy(w[:, 0], w[:, 1])
    return pathbuf, lossbuf, gradbuf


def _finish_block(surface, out, c0, pathbuf, lossbuf, gradbuf, diverged, statebuf, settled):
    """A block's losses (where not computed on the way), points frozen where the loss is
    not finite, no gradient after a point froze; stored into ``out``."""
    n_rows, n = pathbuf.shape[1], pathbuf.shape[3]
    if lossbuf is None:
        lossbuf = surface.value_xy(pathbuf[:, :, 0], pathbuf[:, :, 1])
        lossbuf = np.broadcast_to(lossbuf, (len(pathbuf), n_rows, n))
    if not np.isfinite(lossbuf).all():
        lossbuf = _freeze_nonfinite_loss(pathbuf, np.array(lossbuf), diverged)
    if gradbuf is not None and diverged.max() >= 0:      # a frozen point sees no gradient
        after = (np.arange(len(gradbuf))[:, None, None] >= diverged) & (diverged >= 0)
        np.copyto(gradbuf, 0.0, where=after[:, :, None])
    out.store(c0, pathbuf, lossbuf, gradbuf, diverged, statebuf, settled)


class _Evaluator:
    """``evaluate(row, col, x, y)`` for an optimizer that evaluates points itself
    (L-BFGS's line search): the loss and gradient at (x, y) as this step's update sees
    them, with its minibatch (``idx``), its noise (``noise``, ``[rows, 2, C]``) and the
    scene's clipping. The step loop sets ``idx`` and ``noise`` each step."""

    def __init__(self, surface, clip):
        self.surface, self.clip, self.idx, self.noise = surface, clip, None, None

    def __call__(self, row, col, x, y, want_grad=True):
        surface, idx = self.surface, self.idx
        X, Y = np.array(x), np.array(y)
        if idx is None:
            f = float(surface.value_xy(X, Y))
            gx, gy = surface.grad_xy(X, Y) if want_grad else (0.0, 0.0)
        else:
            f = float(sample_mean(surface.dataset.losses(X, Y, idx)))
            gx, gy = surface.batch_grad_xy(X, Y, idx) if want_grad else (0.0, 0.0)
        if not want_grad:
            return f, 0.0, 0.0
        gx, gy = float(gx), float(gy)
        if self.noise is not None:
            gx, gy = gx + float(self.noise[row, 0, col]), gy + float(self.noise[row, 1, col])
        if self.clip is not None:
            k = min(1.0, self.clip / max(math.sqrt(gx * gx + gy * gy), 1e-300))
            gx, gy = gx * k, gy * k
        return f, gx, gy


def _shared(shape, dtype=np.float64, fill=None) -> np.ndarray:
    """An array in anonymous shared memory: what a forked process writes, its parent
    sees (simulate_final's outputs with processes > 1)."""
    count = int(np.prod(shape))
    buf = mmap.mmap(-1, max(1, count * np.dtype(dtype).itemsize))
    a = np.frombuffer(buf, dtype=dtype, count=count).reshape(shape)
    if fill is not None:
        a.fill(fill)
    return a


def _in_processes(work, parts) -> None:
    """``work(part)`` for every part: the first here, each other one in a forked process
    (os._exit when done: nothing of the parent's, no atexit handler, runs in a child). A
    child's CostError (its deadline) or failure is raised here; if this process fails,
    the children are killed."""
    children = []
    try:
        for part in parts[1:]:
            r, w = os.pipe()
            pid = os.fork()
            if pid == 0:                                        # the child
                code = 0
                try:
                    os.close(r)
                    work(part)
                except CostError as e:
                    code = 3
                    os.write(w, str(e).encode()[:4000])
                except BaseException as e:                      # noqa: BLE001 - reported
                    code = 1
                    os.write(w, repr(e).encode()[:4000])
                finally:
                    os._exit(code)
            os.close(w)
            children.append((pid, r))
        work(parts[0])
    except BaseException:
        for pid, _ in children:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        _reap(children)
        raise
    failures = _reap(children)
    if failures:
        code, message = failures[0]
        if code == 3:
            raise CostError(message)
        raise RuntimeError(f"a simulate_final process failed ({code}): {message}")


def _reap(children) -> list[tuple[int, str]]:
    """Wait for forked children; (exit code, message) of each that failed."""
    failures = []
    for pid, r in children:
        with os.fdopen(r, "rb") as f:
            message = f.read().decode(errors="replace")
        _, status = os.waitpid(pid, 0)
        code = os.waitstatus_to_exitcode(status)
        if code:
            failures.append((code, message))
    return failures


def _pin(frozen, w):
    """``(pinned, frozen_w)`` for the frozen points ``frozen`` [rows, C]: the mask at both
    coordinates [rows, 2, C] (see _run_block) and the positions they keep."""
    return np.repeat(frozen[:, None], 2, axis=1), w.copy()


def _final_check(w, last, step, settled, diverged, frozen, pinned, frozen_w, t, tol):
    """simulate_final's check after update ``t``: a point outside the box (or not finite)
    is put back where it was at the last check and frozen there, diverged at ``t``; a
    point that moved by more than ``tol`` (in a coordinate) since the last check is
    settled no earlier than ``t``. Returns the new (frozen, pinned, frozen_w)."""
    np.abs(w, out=step)
    if not step.max() <= COORD_LIMIT:                    # someone left the box (or NaN)
        bad = ~(step <= COORD_LIMIT).all(axis=1)          # [rows, C]
        new = bad if frozen is None else bad & ~frozen
        diverged[new] = t
        np.copyto(w, last, where=bad[:, None])
        frozen = bad if frozen is None else frozen | bad
        pinned, frozen_w = _pin(frozen, w)
    np.subtract(w, last, out=step)
    np.abs(step, out=step)
    # (the larger of |dx|, |dy|: elementwise, as a reduction over the coordinate axis
    # of [rows, 2, C] NumPy would loop over two elements at a time)
    np.copyto(settled, t, where=np.maximum(step[:, 0], step[:, 1]) > tol)
    np.copyto(last, w)
    return frozen, pinned, frozen_w


def _noise_table(rng, level, updates, n_rows, n):
    """The gradient noise of the next updates (at most ``updates``, within one segment),
    ``level * z`` laid out as ``[k, rows, 2, C]``: one draw and one product for many
    updates instead of three calls each (a page scene with noise: 15 % fewer instructions). ``rng``
    gives the same numbers as one ``(1, 2, C)`` draw per update, in the same order."""
    k = max(1, min(updates, NOISE_TABLE // (2 * n_rows * n)))
    table = np.empty((k, n_rows, 2, n))
    np.multiply(level, rng.standard_normal((k, 1, 2, n)), out=table)
    return table


def _freeze(window, before, diverged, frozen, t0):
    """Freeze the points of ``window`` (``pathbuf[t0+1 : t1+1]``, [k, rows, 2, C], written
    in place) that left the box: from their first bad update on, they keep their last
    good position. ``before`` is ``pathbuf[t0]``. Returns the new frozen mask [rows, C]."""
    bad = ~(np.abs(window) <= COORD_LIMIT).all(axis=2)           # [k, rows, C]
    hit = bad.any(axis=0)
    if frozen is not None:
        hit &= ~frozen
    first = bad.argmax(axis=0)                                    # [rows, C]
    diverged[hit] = t0 + 1 + first[hit]
    # position to keep: the update before the first bad one
    full = np.concatenate([before[None], window])                 # [k+1, rows, 2, C]
    keep = np.take_along_axis(full, first[None, :, None], axis=0) # [1, rows, 2, C]
    after = (np.arange(len(window))[:, None, None] >= first) & hit
    np.copyto(window, keep, where=after[:, :, None])
    return hit if frozen is None else frozen | hit


def _freeze_nonfinite_loss(pathbuf, lossbuf, diverged):
    """Where the loss itself overflowed at finite coordinates, freeze the point at its
    last position with a finite loss (pathbuf and diverged in place; returns the loss)."""
    bad = ~np.isfinite(lossbuf)                                   # [steps+1, rows, C]
    hit = bad.any(axis=0)
    first = np.where(hit, bad.argmax(axis=0), lossbuf.shape[0])   # [rows, C]
    keep = np.maximum(first - 1, 0)
    after = np.arange(lossbuf.shape[0])[:, None, None] >= first   # [steps+1, rows, C]
    kept_path = np.take_along_axis(pathbuf, keep[None, :, None], axis=0)
    np.copyto(pathbuf, kept_path, where=after[:, :, None])
    kept_loss = np.take_along_axis(lossbuf, keep[None], axis=0)
    np.copyto(lossbuf, kept_loss, where=after)
    # a start whose loss is already not finite has nothing finite to keep
    np.nan_to_num(lossbuf, copy=False, nan=np.finfo(float).max, posinf=np.finfo(float).max,
                  neginf=-np.finfo(float).max)
    newly = hit & ((diverged < 0) | (diverged > first))
    diverged[newly] = np.maximum(first[newly], 1)
    return lossbuf
