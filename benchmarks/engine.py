"""Engine speed figures: ``python -m benchmarks.engine`` (medians of several runs).

1. the default scene: gd, momentum, nesterov, adagrad, rmsprop, adam; 1 start;
   1000 steps on Rosenbrock                                          (target <= 30 ms)
2. every optimizer in the registry, 1 start, 1000 steps               (target <= 60 ms)
3. Adam on 1,000,000 starts x 100 steps, as point-steps per second, against a plain
   allocating NumPy Adam loop over the same points, measured in the same run, each after
   one untimed run                          (targets >= 100 M point-steps/s and >= 4x)

``--quick`` shrinks workload 3 (for CI smoke runs); ``--starts N`` sets it.
"""
from __future__ import annotations

import argparse
import gc
import os
import statistics
import time

import numpy as np

from optviz import OPTIMIZERS, OptimizerSpec, Scene, simulate
from optviz.engine import THREADS
from optviz.surfaces import SURFACES


def median_ms(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        gc.collect()
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return 1e3 * statistics.median(times)


def plain_numpy_adam(starts: np.ndarray, steps: int, lr: float, b1=0.9, b2=0.999, eps=1e-8):
    """The baseline: the textbook loop over whole arrays, a new array per operation,
    recording the same path and loss that simulate() returns."""
    surface = SURFACES["rosenbrock"]
    w = starts.copy()
    m = np.zeros_like(w)
    v = np.zeros_like(w)
    path = [w]
    for t in range(1, steps + 1):
        g = surface.grad(w)
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        m_hat = m / (1 - b1 ** t)
        v_hat = v / (1 - b2 ** t)
        w = w - lr * m_hat / (np.sqrt(v_hat) + eps)
        path.append(w)
    path = np.stack(path, axis=1)
    return path, surface.value(path)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--starts", type=int, default=1_000_000)
    ap.add_argument("--steps", type=int, default=100)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--quick", action="store_true", help="50,000 starts, 3 repeats")
    args = ap.parse_args(argv)
    if args.quick:
        args.starts, args.repeats = 50_000, 3

    print(f"optviz engine benchmark: numpy {np.__version__}, {os.cpu_count()} cores, "
          f"engine threads {THREADS}; medians of {args.repeats} runs")
    default = Scene()
    ms = median_ms(lambda: simulate(default), max(args.repeats, 7))
    print(f"default scene (6 optimizers x 1 start x 1000 steps): {ms:7.1f} ms  (target <= 30)")
    every = Scene(optimizers=list(OPTIMIZERS))
    ms = median_ms(lambda: simulate(every), max(args.repeats, 7))
    print(f"all {len(OPTIMIZERS)} optimizers x 1 start x 1000 steps:     {ms:7.1f} ms  "
          f"(target <= 60)")

    n, steps = args.starts, args.steps
    starts = np.random.default_rng(0).uniform((-2, -1), (2, 3), (n, 2))
    scene = Scene("rosenbrock", [OptimizerSpec("adam", lr=0.01)], starts=starts, steps=steps)
    work = n * steps
    # one untimed run of each first: the first multi-GB allocation in a process can stall
    # for seconds in the kernel (transparent huge pages compacting memory on first touch;
    # 5.7 s against 0.28 s for 1.6 GB measured here), which is the machine, not the loop
    simulate(scene)
    plain_numpy_adam(starts, steps, 0.01)
    for record_grad in (False, True):
        ms = median_ms(lambda: simulate(scene, record_grad=record_grad), args.repeats)
        label = "path+loss+grad" if record_grad else "path+loss     "
        print(f"adam {n:,} starts x {steps} steps, {label}: {ms:8.0f} ms = "
              f"{work / ms / 1e3:6.1f} M point-steps/s  (target >= 100)")
        if not record_grad:
            engine_ms = ms
    base_ms = median_ms(lambda: plain_numpy_adam(starts, steps, 0.01), args.repeats)
    print(f"plain allocating NumPy Adam loop, same work:    {base_ms:8.0f} ms = "
          f"{work / base_ms / 1e3:6.1f} M point-steps/s")
    print(f"speed-up of simulate (path+loss) over the plain loop: {base_ms / engine_ms:.2f}x  "
          f"(target >= 4)")
    check, _ = plain_numpy_adam(starts[:1000], steps, 0.01)
    ours = simulate(scene.replace(starts=starts[:1000])).path[0]
    print(f"max |difference| between the two on 1000 starts: {np.abs(check - ours).max():.1e}")


if __name__ == "__main__":
    main()
