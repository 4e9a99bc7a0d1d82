"""Record torch.optim trajectories as test fixtures (dev only; torch is not a dependency).

    pip install torch==2.13.0          # a CPU build; this script installs nothing itself
    python tools/record_torch.py       # writes tests/fixtures/torch_trajectories.json
    python tools/record_torch.py rprop # records only Rprop's cases, keeps the others

Every case is an optviz scene (one optimizer row, several starts, no noise) stepped by
torch.optim on the same surface written in torch and differentiated by autograd, with
the matching torch.optim.lr_scheduler. tests/test_torch_parity.py replays each scene with
optviz.simulate and compares paths (<= 1e-10 absolute) and learning rates.
"""
from __future__ import annotations

import json
import math
import pathlib
import sys

try:
    import torch
except ImportError:
    sys.exit("torch is not installed: pip install torch==2.13.0 (dev only)")

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))
from optviz.optimizers import OPTIMIZERS  # noqa: E402

OUT = pathlib.Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "torch_trajectories.json"
STEPS = 150

# the surfaces, written again in torch (autograd gives the gradient)
TORCH_SURFACES = {
    "rosenbrock": lambda x, y: (1 - x) ** 2 + 100 * (y - x * x) ** 2,
    "ill_conditioned": lambda x, y: 0.1 * x * x + 2 * y * y,
    "himmelblau": lambda x, y: (x * x + y - 11) ** 2 + (x + y * y - 7) ** 2,
    "beale": lambda x, y: ((1.5 - x + x * y) ** 2 + (2.25 - x + x * y ** 2) ** 2
                           + (2.625 - x + x * y ** 3) ** 2),
}
STARTS = {
    "rosenbrock": [[-1.5, 2.0], [0.5, -0.5], [-0.3, 0.8]],
    "ill_conditioned": [[-9.0, 3.0], [4.0, -2.0]],
    "himmelblau": [[-0.3, -0.9], [1.0, 1.0], [-4.0, 4.0]],
    "beale": [[-1.0, 1.5], [2.0, 2.0]],
}

# (optimizer, hyperparameters, surface): every option of every optimizer at least once
CASES = [
    ("sgd", {"lr": 1e-3}, "rosenbrock"),
    ("sgd", {"lr": 1e-3, "momentum": 0.9}, "rosenbrock"),
    ("sgd", {"lr": 1e-3, "momentum": 0.8, "dampening": 0.5}, "rosenbrock"),
    ("sgd", {"lr": 1e-3, "momentum": 0.9, "nesterov": True}, "rosenbrock"),
    ("sgd", {"lr": 0.05, "momentum": 0.5, "weight_decay": 0.1}, "ill_conditioned"),
    ("sgd", {"lr": 0.004, "momentum": 0.7, "dampening": 0.2, "weight_decay": 0.01}, "himmelblau"),
    ("gd", {"lr": 0.3}, "ill_conditioned"),
    ("momentum", {"lr": 0.002}, "himmelblau"),
    ("nesterov", {"lr": 0.002}, "himmelblau"),
    ("adagrad", {"lr": 0.1}, "rosenbrock"),
    ("adagrad", {"lr": 0.5, "lr_decay": 0.01, "weight_decay": 0.05}, "himmelblau"),
    ("adagrad", {"lr": 0.3, "initial_accumulator_value": 0.5, "eps": 1e-3}, "beale"),
    ("rmsprop", {"lr": 0.01}, "rosenbrock"),
    ("rmsprop", {"lr": 0.01, "alpha": 0.9, "centered": True}, "himmelblau"),
    ("rmsprop", {"lr": 0.002, "momentum": 0.5}, "rosenbrock"),
    ("rmsprop", {"lr": 0.005, "momentum": 0.3, "centered": True, "weight_decay": 0.02,
                 "eps": 1e-4}, "beale"),
    ("adam", {"lr": 0.05}, "rosenbrock"),
    ("adam", {"lr": 0.05, "amsgrad": True}, "himmelblau"),
    ("adam", {"lr": 0.1, "betas": [0.5, 0.9], "weight_decay": 0.1}, "ill_conditioned"),
    ("adam", {"lr": 0.02, "betas": [0.3, 0.99], "eps": 1e-3, "amsgrad": True}, "beale"),
    ("adamw", {"lr": 0.05}, "rosenbrock"),
    ("adamw", {"lr": 0.1, "weight_decay": 0.5, "amsgrad": True}, "himmelblau"),
    ("adamax", {"lr": 0.05}, "rosenbrock"),
    ("adamax", {"lr": 0.1, "betas": [0.8, 0.99], "weight_decay": 0.05, "eps": 1e-4}, "beale"),
    ("nadam", {"lr": 0.01}, "rosenbrock"),
    ("nadam", {"lr": 0.1, "momentum_decay": 0.01, "weight_decay": 0.05,
               "betas": [0.8, 0.99]}, "himmelblau"),
    ("radam", {"lr": 0.002}, "rosenbrock"),
    ("radam", {"lr": 0.005, "betas": [0.9, 0.95], "weight_decay": 0.01}, "himmelblau"),
    ("adadelta", {}, "rosenbrock"),
    ("adadelta", {"lr": 5.0, "rho": 0.95, "eps": 1e-4, "weight_decay": 0.01}, "himmelblau"),
    ("asgd", {"lr": 1e-3}, "rosenbrock"),
    ("asgd", {"lr": 0.01, "lambd": 0.01, "alpha": 0.5, "t0": 20}, "himmelblau"),
    ("asgd", {"lr": 0.1, "t0": 5, "weight_decay": 0.1}, "ill_conditioned"),
    # (on Rosenbrock, Adafactor grows autograd's last-bit gradient differences past 1e-10)
    ("adafactor", {}, "ill_conditioned"),
    ("adafactor", {"lr": 0.05, "beta2_decay": -0.5, "d": 2.0, "weight_decay": 0.01},
     "himmelblau"),
    ("adafactor", {"lr": 0.1, "eps": [1e-12, 1e-2]}, "beale"),
    ("lbfgs", {"lr": 0.1}, "himmelblau"),
    ("lbfgs", {"lr": 0.05, "history_size": 3}, "ill_conditioned"),
    ("lbfgs", {"line_search_fn": "strong_wolfe"}, "rosenbrock"),
    # (on Beale a last-bit difference between autograd's gradient and optviz's flips one
    # line-search comparison, and the paths part: chosen here where they do not)
    ("lbfgs_wolfe", {"history_size": 2}, "himmelblau"),
    ("lbfgs_wolfe", {"lr": 0.5}, "himmelblau"),
    ("rprop", {}, "rosenbrock"),
    ("rprop", {"lr": 0.05, "etas": [0.3, 1.5], "step_sizes": [1e-4, 0.5]}, "himmelblau"),
    ("rprop", {"lr": 0.01, "etas": [0.6, 1.1]}, "beale"),
]

# (schedule dict as optviz takes it, optimizer, hyperparameters, surface)
SCHEDULE_CASES = [
    ({"name": "step", "step_size": 30, "gamma": 0.5}, "sgd", {"lr": 2e-3, "momentum": 0.9}),
    ({"name": "step"}, "adam", {"lr": 0.05}),
    ({"name": "exponential", "gamma": 0.98}, "adam", {"lr": 0.05}),
    ({"name": "cosine"}, "adam", {"lr": 0.05}),
    ({"name": "cosine", "T_max": 40, "eta_min": 0.001}, "sgd", {"lr": 2e-3, "momentum": 0.9}),
    ({"name": "linear"}, "rmsprop", {"lr": 0.01}),
    ({"name": "linear", "start_factor": 0.5, "end_factor": 0.1, "total_iters": 60}, "adam",
     {"lr": 0.05}),
    ({"name": "inverse_sqrt"}, "adagrad", {"lr": 0.1}),
    ({"name": "inverse_sqrt"}, "sgd", {"lr": 1e-3, "momentum": 0.9}),
    ({"name": "constant", "warmup": 20}, "adam", {"lr": 0.05}),
    ({"name": "cosine", "warmup": 10}, "adamw", {"lr": 0.05}),
    ({"name": "cosine", "warmup": 15, "eta_min": 0.002}, "adam", {"lr": 0.05}),
    ({"name": "step", "warmup": 5, "step_size": 20, "gamma": 0.7}, "nadam", {"lr": 0.05}),
    ({"name": "exponential", "warmup": 8, "gamma": 0.97}, "radam", {"lr": 0.05}),
    ({"name": "linear", "warmup": 12}, "sgd", {"lr": 1e-3, "momentum": 0.9, "nesterov": True}),
    ({"name": "inverse_sqrt", "warmup": 10}, "adamax", {"lr": 0.05}),
    ({"name": "cosine"}, "rprop", {"lr": 0.05}),
    ({"name": "exponential", "gamma": 0.98}, "adafactor", {"lr": 0.05}),
    ({"name": "cosine", "warmup": 10}, "lbfgs", {"lr": 0.1}),
    ({"name": "step", "warmup": 5}, "asgd", {"lr": 0.01, "t0": 10}),
]


def torch_hyper(name, hp):
    """torch's arguments for an optviz row: every hyperparameter as optviz validated it
    (the names are torch's) and what optviz fixes (optviz.optimizers: ``torch_kwargs``)."""
    from optviz import OptimizerSpec, Scene
    spec = Scene("bowl", [OptimizerSpec(name, **hp)]).optimizers[0]
    return {**spec.hparams, **OPTIMIZERS[name].torch_kwargs}


def warmup_lambda(sched, steps):
    """LambdaLR factor for warmup then a decay over the remaining updates (written
    independently of optviz.schedules)."""
    W = sched.get("warmup", 0)
    n = steps - W
    name = sched["name"]

    def decay(k, base):
        if name == "constant":
            return 1.0
        if name == "step":
            return sched.get("gamma", 0.5) ** (k // sched.get("step_size", max(1, n // 4)))
        if name == "exponential":
            return sched["gamma"] ** k
        if name == "cosine":
            T, eta = sched.get("T_max", n), sched.get("eta_min", 0.0)
            return (eta + (base - eta) * (1 + math.cos(math.pi * k / T)) / 2) / base
        if name == "linear":
            s, e, T = (sched.get("start_factor", 1.0), sched.get("end_factor", 0.0),
                       sched.get("total_iters", n))
            return s + (e - s) * min(k, T) / T
        if name == "inverse_sqrt":
            return 1 / math.sqrt(k + 1)
        raise ValueError(name)

    def factor(base):
        return lambda t: (t + 1) / W if t < W else decay(t - W, base)
    return factor


def make_scheduler(opt, sched, steps, base):
    S = torch.optim.lr_scheduler
    if sched is None:
        return None
    name, W = sched["name"], sched.get("warmup", 0)
    if W or name in ("constant", "inverse_sqrt"):
        return S.LambdaLR(opt, warmup_lambda(sched, steps)(base))
    if name == "step":
        return S.StepLR(opt, step_size=sched.get("step_size", max(1, steps // 4)),
                        gamma=sched.get("gamma", 0.5))
    if name == "exponential":
        return S.ExponentialLR(opt, gamma=sched["gamma"])
    if name == "cosine":
        return S.CosineAnnealingLR(opt, T_max=sched.get("T_max", steps),
                                   eta_min=sched.get("eta_min", 0.0))
    if name == "linear":
        return S.LinearLR(opt, start_factor=sched.get("start_factor", 1.0),
                          end_factor=sched.get("end_factor", 0.0),
                          total_iters=sched.get("total_iters", steps))
    raise ValueError(name)


def record(name, hp, surface, schedule=None, steps=STEPS):
    """One case: each start a 2-vector parameter with its own optimizer, as torch treats a
    2-D problem (Adafactor's scale and L-BFGS's directions are per parameter)."""
    starts = STARTS[surface]
    f = TORCH_SURFACES[surface]
    paths, evals_per_start = [], []
    for start in starts:
        p = torch.tensor(start, dtype=torch.float64, requires_grad=True)
        opt = getattr(torch.optim, OPTIMIZERS[name].torch)([p], **torch_hyper(name, hp))
        base = opt.param_groups[0]["lr"]
        sched = make_scheduler(opt, schedule, steps, base)
        path, lrs = [p.detach().clone().tolist()], []

        def closure(p=p, opt=opt):
            opt.zero_grad()
            value = f(p[0], p[1])
            value.backward()
            return value
        evals, before = [], 0
        for _ in range(steps):
            lrs.append(opt.param_groups[0]["lr"])
            opt.step(closure)
            if sched is not None:
                sched.step()
            path.append(p.detach().clone().tolist())
            if "func_evals" in opt.state[p]:        # L-BFGS counts its evaluations
                evals.append(opt.state[p]["func_evals"] - before)
                before = opt.state[p]["func_evals"]
        paths.append(path)
        evals_per_start.append(evals)
    scene = {"surface": surface, "optimizers": [{"name": name, **hp}], "starts": starts,
             "steps": steps, "schedule": schedule}
    # path as [starts][steps + 1][2], like Run.path[0]
    out = {"scene": scene, "path": paths, "lr": lrs}
    if any(evals_per_start):
        out["evals"] = evals_per_start                    # [starts][steps]
    return out


def main(names=()):
    """Record every case, or with ``names`` only those optimizers' cases, replacing theirs
    in the file and keeping the others as they were recorded."""
    torch.set_default_dtype(torch.float64)
    todo = [(n, hp, s, None) for n, hp, s in CASES]
    todo += [(n, hp, "rosenbrock" if n.startswith("sgd") else "himmelblau", sched)
             for sched, n, hp in SCHEDULE_CASES]
    kept = []
    if names:
        todo = [case for case in todo if case[0] in names]
        if OUT.exists():
            kept = [c for c in json.loads(OUT.read_text())["cases"]
                    if c["scene"]["optimizers"][0]["name"] not in names]
    cases = kept + [record(n, hp, s, sched) for n, hp, s, sched in todo]
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps({"torch": torch.__version__, "cases": cases}, indent=None))
    print(f"wrote {len(cases)} cases ({len(todo)} recorded) to {OUT} (torch {torch.__version__})")


if __name__ == "__main__":
    main(sys.argv[1:])
