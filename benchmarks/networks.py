"""Training networks: ``python -m benchmarks.networks``.

The lecture's network: a 2-8-8-1 tanh MLP (105 parameters) on 200 XOR points (150 to
train), full batch, 500 steps. Reported (medians of 5 rounds, each round timing every
contender in turn):

1. the lecture's six rows (GD, momentum, Nesterov, AdaGrad, RMSProp, Adam) with
   ``optviz.training.train``                                      (target <= 0.3 s)
2. the same six trainings written in torch as a user would (eager, CPU, float64, one
   optimizer after another, one thread), and the ratio       (target: optviz >= 10x faster)
3. every optimizer but Newton at once                              (target <= 1 s)
4. Newton's method alone (its D×D Hessian at every step: 2D gradients)
"""
from __future__ import annotations

import statistics
import time

import numpy as np

from optviz.networks import Network, make_dataset
from optviz.training import TRAINS, train

SIX = ["gd", "momentum", "nesterov", "adagrad", "rmsprop", "adam"]
STEPS = 500


def lecture_net() -> Network:
    return Network(make_dataset("xor", n=200, noise=0.1), hidden=(8, 8), activation="tanh",
                   init="xavier")


def torch_six(net: Network):
    """The six trainings in torch, as a user writes them; None without torch."""
    try:
        import torch
    except ImportError:
        return None
    from optviz import OptimizerSpec, Scene
    from optviz.optimizers import OPTIMIZERS
    torch.set_num_threads(1)
    X = torch.from_numpy(net.data.X_train)
    y = torch.from_numpy(net.data.y_train.astype(float))[:, None]
    theta = net.initial()[0]

    def run():
        for name in SIX:
            model = torch.nn.Sequential(
                torch.nn.Linear(2, 8, dtype=torch.float64), torch.nn.Tanh(),
                torch.nn.Linear(8, 8, dtype=torch.float64), torch.nn.Tanh(),
                torch.nn.Linear(8, 1, dtype=torch.float64))
            with torch.no_grad():
                for p, t in zip(model.parameters(), net.tensors(theta)):
                    p.copy_(torch.from_numpy(np.ascontiguousarray(t)))
            spec = Scene("bowl", [OptimizerSpec(name)]).optimizers[0]
            opt = getattr(torch.optim, OPTIMIZERS[name].torch)(
                model.parameters(), **spec.hparams)
            lossf = torch.nn.BCEWithLogitsLoss()
            for _ in range(STEPS):
                opt.zero_grad()
                lossf(model(X), y).backward()
                opt.step()
    return run


def timed(fn) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def main():
    net = lecture_net()
    ours, theirs, every = [], [], []
    torch_run = torch_six(net)
    rest = [n for n in TRAINS if n != "newton"]
    for _ in range(5):
        ours.append(timed(lambda: train(net, SIX, STEPS)))
        if torch_run is not None:
            theirs.append(timed(torch_run))
        every.append(timed(lambda: train(net, rest, STEPS)))
    newton = timed(lambda: train(net, ["newton"], STEPS))
    med = statistics.median
    print(f"2-8-8-1 tanh MLP ({net.size} parameters), XOR, {len(net.data.X_train)} training "
          f"points, {STEPS} full-batch steps")
    print(f"six rows, optviz: median {med(ours):.3f} s (min {min(ours):.3f})  "
          "(target <= 0.3 s)")
    if theirs:
        print(f"six rows, torch eager one after another: median {med(theirs):.3f} s; optviz "
              f"{med(theirs) / med(ours):.1f}x faster  (target >= 10x)")
    else:
        print("torch is not installed: pip install torch==2.13.0 for the comparison")
    print(f"all {len(rest)} optimizers but Newton at once: median {med(every):.3f} s  "
          "(target <= 1 s)")
    print(f"Newton's method alone ({2 * net.size} gradients a step for its Hessian): "
          f"{newton:.2f} s")


if __name__ == "__main__":
    main()
