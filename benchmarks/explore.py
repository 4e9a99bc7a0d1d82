"""Exploration speed: ``python -m benchmarks.explore`` (medians of several runs).

1. a 256 x 256 basin map, one optimizer (GD on Himmelblau), 500 steps: 33 M point-steps
                                                         (target <= 1.5 s engine time)
2. a 64 x 64 lr x beta sweep (momentum on the ill-conditioned quadratic), 1000 steps
                                                         (target <= 1 s)
3. how often progress is reported during the basin map   (target: at least every 0.5 s)
"""
from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from optviz import OptimizerSpec
from optviz.engine import THREADS
from optviz.explore import basin_map, grid_sweep


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
    print(f"optviz exploration benchmark: engine threads {THREADS}; medians of "
          f"{args.repeats} runs")
    gd = [OptimizerSpec("gd", lr=0.01)]
    s = timed(lambda: basin_map("himmelblau", gd, n=256, steps=500), args.repeats)
    print(f"basin map 256 x 256, GD, 500 steps (33 M point-steps): {s:6.2f} s = "
          f"{256 * 256 * 500 / s / 1e6:5.1f} M point-steps/s  (target <= 1.5 s)")
    lrs, betas = np.logspace(-4, 0, 64), np.linspace(0, 0.99, 64)
    s = timed(lambda: grid_sweep("ill_conditioned", "momentum", lrs, betas, steps=1000),
              args.repeats)
    print(f"lr x beta sweep 64 x 64, momentum, 1000 steps:          {s:6.2f} s  "
          f"(target <= 1 s)")
    stamps = []
    t0 = time.perf_counter()
    basin_map("himmelblau", gd, n=256, steps=500,
              progress=lambda done, total: stamps.append(time.perf_counter() - t0))
    gaps = np.diff([0.0] + stamps)
    print(f"progress during the basin map: {len(stamps)} reports, longest gap "
          f"{gaps.max():.2f} s  (target <= 0.5 s)")


if __name__ == "__main__":
    main()
