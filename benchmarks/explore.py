"""Exploration speed: ``python -m benchmarks.explore`` (medians of several runs).

1. a 256 x 256 basin map, one optimizer (GD on Himmelblau), 500 steps: 33 M point-steps,
   as an Explore job runs it (jobs.JOB_PROCESSES processes), against a plain NumPy loop
   of the same updates timed in turn in the same rounds (target: the map >= 2x faster;
   the ratio is the median of the rounds' ratios)
2. a 64 x 64 lr x beta sweep (momentum on the ill-conditioned quadratic), 1000 steps
                                                         (target <= 1 s)
3. how often progress is reported during the basin map   (target: at least every 0.5 s)
"""
from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from optviz import SURFACES, OptimizerSpec
from optviz.explore import basin_map, grid_sweep
from optviz.web.jobs import JOB_PROCESSES


def plain_basin_loop(n=256, steps=500, lr=0.01):
    """The basin map's updates as anyone would first write them: GD on every start of the
    grid at once, a new array per operation, no checks."""
    s = SURFACES["himmelblau"]
    X, Y = np.meshgrid(np.linspace(*s.view[:2], n), np.linspace(*s.view[2:], n))
    x, y = X.ravel().copy(), Y.ravel().copy()
    for _ in range(steps):
        gx, gy = s.grad_xy(x, y)
        x = x - lr * gx
        y = y - lr * gy
    return x, y


def _quartiles(xs) -> str:
    q = statistics.quantiles(xs, n=4) if len(xs) > 1 else [xs[0], xs[0], xs[0]]
    return f"{q[0]:.3f}-{q[2]:.3f} s"


def timed(fn, repeats):
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args(argv)
    print(f"optviz exploration benchmark: {JOB_PROCESSES} processes a map; medians of "
          f"{args.repeats} runs")
    gd = [OptimizerSpec("gd", lr=0.01)]
    maps, loops = [], []
    for _ in range(args.repeats):            # in turn: a phase of the machine hits both
        maps.append(timed(lambda: basin_map("himmelblau", gd, n=256, steps=500,
                                            processes=JOB_PROCESSES), 1))
        loops.append(timed(plain_basin_loop, 1))
    s, p = statistics.median(maps), statistics.median(loops)
    ratio = statistics.median(b / a for a, b in zip(maps, loops))
    print(f"basin map 256 x 256, GD, 500 steps (33 M point-steps): {s:6.3f} s = "
          f"{256 * 256 * 500 / s / 1e6:5.1f} M point-steps/s (quartiles "
          f"{_quartiles(maps)})")
    print(f"  the plain NumPy loop of the same updates: {p:6.3f} s; the map is "
          f"{ratio:.2f}x faster (target >= 2x)")
    lrs, betas = np.logspace(-4, 0, 64), np.linspace(0, 0.99, 64)
    s = timed(lambda: grid_sweep("ill_conditioned", "momentum", lrs, betas, steps=1000),
              args.repeats)
    print(f"lr x beta sweep 64 x 64, momentum, 1000 steps:          {s:6.2f} s  "
          f"(target <= 1 s)")
    stamps = []
    t0 = time.perf_counter()
    basin_map("himmelblau", gd, n=256, steps=500, processes=JOB_PROCESSES,
              progress=lambda done, total: stamps.append(time.perf_counter() - t0))
    gaps = np.diff([0.0] + stamps)
    print(f"progress during the basin map: {len(stamps)} reports, longest gap "
          f"{gaps.max():.2f} s  (target <= 0.5 s)")


if __name__ == "__main__":
    main()
