"""Engine speed figures: ``python -m benchmarks.engine`` (medians of several runs).

1. the default scene: gd, momentum, nesterov, adagrad, rmsprop, adam; 1 start;
   1000 steps on Rosenbrock                                          (target <= 30 ms)
2. every optimizer in the registry, 1 start, 1000 steps               (target <= 60 ms)
3. Adam on 1,000,000 starts x 100 steps, as point-steps per second, against a plain
   allocating NumPy Adam loop over the same points, measured in the same run, in turn
   round by round after one untimed run each  (targets >= 100 M point-steps/s and >= 4x)

and, for scale, what NumPy itself allows on this machine: the cost of one call on a few
elements (what small scenes pay per operation), and workload 3 written by hand as lean
as NumPy allows (``lean_numpy_adam``: the fewest in-place passes, no checks).

``--quick`` shrinks workload 3 (for CI smoke runs); ``--starts N`` sets it.
"""
from __future__ import annotations

import argparse
import gc
import os
import statistics
import time
import timeit
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from optviz import OPTIMIZERS, OptimizerSpec, Scene, buffers, simulate
from optviz.engine import THREADS
from optviz.plan import path_chunk
from optviz.surfaces import SURFACES


def median_ms(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        gc.collect()
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return 1e3 * statistics.median(times)


def interleaved_ms(fns, rounds: int) -> list[list[float]]:
    """Times in ms of each of ``fns``, ``rounds`` times, taken in turn round by round."""
    times = [[] for _ in fns]
    for _ in range(rounds):
        for fn, out in zip(fns, times):
            gc.collect()
            t0 = time.perf_counter()
            fn()
            out.append(1e3 * (time.perf_counter() - t0))
    return times


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


def lean_numpy_adam(starts: np.ndarray, steps: int, lr: float, chunk: int, threads: int,
                    b1=0.9, b2=0.999, eps=1e-8) -> None:
    """Workload 3 as lean as NumPy allows: Adam on Rosenbrock in the fewest in-place
    passes (moments kept scaled, m / (1 - b1) and v / (1 - b2), two or three passes each;
    the gradient's constants folded), the path stored (in outputs taken as simulate takes
    its, optviz.buffers) and its loss computed once a block,
    in the engine's blocks and threads, and nothing else: no divergence checks, no
    recorded gradient, not torch's arithmetic (its paths differ from the engine's by
    round-off). What a careful hand-written NumPy loop reaches on this machine."""
    n = len(starts)
    path, loss = buffers.empty((steps + 1, 2, n)), buffers.empty((steps + 1, n))  # as simulate's
    path[0] = starts.T

    def block(c0):
        c1 = min(c0 + chunk, n)
        w = path[0, :, c0:c1].copy()
        x, y = w[0], w[1]
        g, m, v, t1 = np.empty_like(w), np.zeros_like(w), np.zeros_like(w), np.empty_like(w)
        r = np.empty_like(x)
        for t in range(1, steps + 1):
            np.multiply(x, x, out=r)                  # r = y - x^2
            np.subtract(y, r, out=r)
            np.multiply(r, 200.0, out=g[1])           # gy = 200 r
            np.multiply(x, r, out=g[0])               # gx = 2 (x - 1) - 400 x r
            np.multiply(g[0], -200.0, out=g[0])
            np.add(g[0], x, out=g[0])
            np.subtract(g[0], 1.0, out=g[0])
            np.multiply(g[0], 2.0, out=g[0])
            m *= b1
            m += g
            np.multiply(g, g, out=t1)
            v *= b2
            v += t1
            np.sqrt(v, out=t1)
            t1 += eps / np.sqrt((1 - b2) / (1 - b2 ** t))
            np.divide(m, t1, out=t1)
            t1 *= lr * (1 - b1) / (1 - b1 ** t) / np.sqrt((1 - b2) / (1 - b2 ** t))
            w -= t1
            path[t, :, c0:c1] = w
        px, py = path[:, 0, c0:c1], path[:, 1, c0:c1]
        a, q = 1.0 - px, px * px
        a *= a
        np.subtract(py, q, out=q)
        q *= q
        q *= 100.0
        np.add(a, q, out=loss[:, c0:c1])

    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(block, range(0, n, chunk)))


def call_cost_us() -> float:
    """Microseconds per NumPy call on a few elements (np.multiply into a given array, the
    cheapest form), median of several timings."""
    a, out = np.full((1, 2, 1), 0.5), np.empty((1, 2, 1))
    return statistics.median(timeit.repeat(lambda: np.multiply(a, a, out=out),
                                           number=20000, repeat=7)) / 20000 * 1e6


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--starts", type=int, default=1_000_000)
    ap.add_argument("--steps", type=int, default=100)
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--quick", action="store_true", help="50,000 starts, 3 repeats")
    args = ap.parse_args(argv)
    if args.quick:
        args.starts, args.repeats = 50_000, 3

    print(f"optviz engine benchmark: numpy {np.__version__}, {os.cpu_count()} cores, "
          f"engine threads {THREADS}; medians of {args.repeats} runs")
    # the two small scenes are timed in turn, 15 rounds, so that a slow phase of a shared
    # machine (seen here: a NumPy call costing 0.36 to 0.95 us within one hour) falls on
    # both alike; the quartiles show how much the machine moved during the run
    default, every = Scene(), Scene(optimizers=list(OPTIMIZERS))
    small = interleaved_ms([lambda: simulate(default), lambda: simulate(every)],
                           max(3 * args.repeats, 15))
    for (label, target), times in zip(
            [("default scene (6 optimizers x 1 start x 1000 steps)", 30),
             # (5 ms an optimizer: the lecture's six cost ~1.5 ms each on the fused path;
             # Rprop, Adafactor and L-BFGS, which steps its points in Python, 6-15 ms)
             (f"all {len(OPTIMIZERS)} optimizers x 1 start x 1000 steps",
              5 * len(OPTIMIZERS))], small):
        q1, med, q3 = statistics.quantiles(times, n=4)
        print(f"{label + ':':53s} {med:7.1f} ms  (quartiles {q1:.1f}-{q3:.1f}; target <= {target})")

    n, steps = args.starts, args.steps
    starts = np.random.default_rng(0).uniform((-2, -1), (2, 3), (n, 2))
    scene = Scene("rosenbrock", [OptimizerSpec("adam", lr=0.01)], starts=starts, steps=steps)
    work = n * steps
    chunk = path_chunk(steps, 1)          # the engine's blocks for this scene
    # one run of simulate first, timed apart: the first multi-GB allocation in a process
    # can stall for seconds in the kernel (transparent huge pages compacting memory on
    # first touch; 5.7 s against 0.28 s for 1.6 GB measured here), which is the machine,
    # not the loop; the later runs of simulate reuse the outputs of the discarded ones
    # (optviz.buffers), as a notebook's or a sweep's next run does
    cold = median_ms(lambda: simulate(scene, record_grad=False), 1)
    print(f"adam {n:,} starts x {steps} steps, path+loss, first run in the process: "
          f"{cold:8.0f} ms = {work / cold / 1e3:6.1f} M point-steps/s")
    plain_numpy_adam(starts, steps, 0.01)
    lean_numpy_adam(starts, steps, 0.01, chunk, THREADS)
    # then the four timed in turn, round by round (the machine's phases, 2-3x apart
    # within minutes here, fall on all of them alike), each ratio taken within a round
    engine, with_grad, plain, lean = interleaved_ms(
        [lambda: simulate(scene, record_grad=False),
         lambda: simulate(scene, record_grad=True),
         lambda: plain_numpy_adam(starts, steps, 0.01),
         lambda: lean_numpy_adam(starts, steps, 0.01, chunk, THREADS)], args.repeats)

    def figure(label, times, target=""):
        q1, med, q3 = statistics.quantiles(times, n=4)
        print(f"{label + ':':53s} {med:7.0f} ms = {work / med / 1e3:6.1f} M point-steps/s "
              f"(quartiles {work / q3 / 1e3:.1f}-{work / q1 / 1e3:.1f}){target}")

    figure(f"adam {n:,} starts x {steps} steps, path+loss", engine, "  target >= 100")
    figure("    the same, recording the gradient too", with_grad, "  target >= 100")
    figure("plain allocating NumPy Adam loop, same work", plain)
    print(f"speed-up of simulate (path+loss) over the plain loop, median of the rounds' "
          f"ratios: {statistics.median(b / a for a, b in zip(engine, plain)):.2f}x  "
          f"(target >= 4)")
    figure(f"for scale, as lean as NumPy allows ({THREADS} threads)", lean)
    print(f"    (fewest in-place passes, no checks, same blocks) simulate takes "
          f"{statistics.median(a / b for a, b in zip(engine, lean)):.2f}x its time")
    print(f"for scale, one NumPy call on a few elements: {call_cost_us():.2f} us")
    check, _ = plain_numpy_adam(starts[:1000], steps, 0.01)
    ours = simulate(scene.replace(starts=starts[:1000])).path[0]
    print(f"max |difference| between the two on 1000 starts: {np.abs(check - ours).max():.1e}")


if __name__ == "__main__":
    main()
