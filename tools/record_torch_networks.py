"""Record torch.optim training MLPs as test fixtures (dev only; torch is not a dependency).

    pip install torch==2.13.0              # a CPU build; this script installs nothing itself
    python tools/record_torch_networks.py  # writes tests/fixtures/torch_networks.npz

Every case: one of ARCHITECTURES (an optviz.networks.Network: its data and its θ₀ drawn by
optviz, handed to torch as arrays) trained by one torch optimizer, float64, full batch,
for STEPS steps, as a user writes it (nn.Sequential, the loss module, zero_grad, backward,
step). The parameters are kept every EVERY steps. Each case is also run from θ₀ + 1e-12
in NUDGES fixed random directions: ``horizon`` is the last kept step where torch itself
stays within 1e-9 of its own run from every one (a chaotic case, such as Rprop's signs
flipping where a gradient is nearly 0, is compared up to there).
tests/test_network_parity.py trains the same rows with optviz.training.train (the setup
is in the fixture).
"""
from __future__ import annotations

import json
import pathlib
import sys

import numpy as np

try:
    import torch
except ImportError:
    sys.exit("torch is not installed: pip install torch==2.13.0 (dev only)")

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))
from optviz.networks import Network, make_dataset  # noqa: E402
from optviz.optimizers import OPTIMIZERS  # noqa: E402

OUT = pathlib.Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "torch_networks.npz"
STEPS, EVERY = 200, 10
#: directions θ₀ is nudged in, each by 1e-12, to find where torch parts from itself
NUDGES = 4

#: name -> the Network's arguments (dataset name and its arguments, then the network's)
ARCHITECTURES = {
    "xor-tanh": (("xor", {"n": 120, "noise": 0.1}), dict(hidden=(8, 8), activation="tanh",
                                                       init="xavier")),
    "circles-deep-sigmoid": (("circles", {"n": 100, "noise": 0.05}),
                             dict(hidden=(6, 6, 6, 6, 6), activation="sigmoid",
                                  init="torch")),
    "spiral3-softmax": (("spiral3", {"n": 150, "noise": 0.05}),
                        dict(hidden=(8, 8), activation="leaky_relu", init="he")),
    "regression-relu": (("regression", {"n": 100, "noise": 0.05}),
                        dict(hidden=(16,), activation="relu", init="torch")),
}

#: every torch optimizer that trains networks, with options
CASES = [
    ("sgd", {"lr": 0.5}),
    ("sgd", {"lr": 0.1, "momentum": 0.9}),
    ("sgd", {"lr": 0.1, "momentum": 0.9, "nesterov": True, "weight_decay": 1e-3}),
    ("asgd", {"lr": 0.1}),
    ("adagrad", {"lr": 0.1}),
    ("rmsprop", {"lr": 0.01}),
    ("rmsprop", {"lr": 0.005, "momentum": 0.5, "centered": True}),
    ("adadelta", {"lr": 1.0}),
    ("adam", {"lr": 0.01}),
    ("adam", {"lr": 0.01, "amsgrad": True, "weight_decay": 0.01}),
    ("adamw", {"lr": 0.01, "weight_decay": 0.1}),
    ("adamax", {"lr": 0.02}),
    ("nadam", {"lr": 0.01}),
    ("radam", {"lr": 0.01}),
    ("rprop", {"lr": 0.01}),
    ("adafactor", {"lr": 0.01}),
    ("adafactor", {"lr": 0.02, "beta2_decay": -0.5, "d": 2.0, "weight_decay": 0.01}),
    ("lbfgs", {"lr": 0.5, "history_size": 10}),
    ("lbfgs_wolfe", {"history_size": 10}),
]

ACTS = {"tanh": torch.nn.Tanh, "sigmoid": torch.nn.Sigmoid, "relu": torch.nn.ReLU,
        "leaky_relu": torch.nn.LeakyReLU}


def network(name) -> Network:
    (data, kw), net = ARCHITECTURES[name]
    return Network(make_dataset(data, **kw), **net)


def model_of(net: Network, theta):
    layers = []
    for i in range(net.layers):
        out, inp = net.shapes[2 * i]
        layers.append(torch.nn.Linear(inp, out, dtype=torch.float64))
        if i < net.layers - 1:
            layers.append(ACTS[net.activation]())
    model = torch.nn.Sequential(*layers)
    with torch.no_grad():
        for p, t in zip(model.parameters(), net.tensors(theta)):
            p.copy_(torch.from_numpy(np.ascontiguousarray(t)))
    return model


def loss_of(net: Network):
    d = net.data
    X = torch.from_numpy(d.X_train)
    if net.loss == "bce":
        y = torch.from_numpy(d.y_train.astype(float))[:, None]
        return X, y, torch.nn.BCEWithLogitsLoss()
    if net.loss == "ce":
        return X, torch.from_numpy(d.y_train), torch.nn.CrossEntropyLoss()
    return X, torch.from_numpy(d.y_train), torch.nn.MSELoss()


def trajectory(net, theta, name, hp):
    from optviz import OptimizerSpec, Scene
    spec = Scene("bowl", [OptimizerSpec(name, **hp)]).optimizers[0]
    kwargs = {**spec.hparams, **OPTIMIZERS[name].torch_kwargs}
    model = model_of(net, theta)
    X, y, lossf = loss_of(net)
    opt = getattr(torch.optim, OPTIMIZERS[name].torch)(model.parameters(), **kwargs)
    kept = [theta.copy()]
    def closure():
        opt.zero_grad()
        loss = lossf(model(X), y)
        loss.backward()
        return loss

    for t in range(STEPS):
        if OPTIMIZERS[name].torch == "LBFGS":
            opt.step(closure)                  # (L-BFGS evaluates it along its search)
        else:
            closure()
            opt.step()
        if (t + 1) % EVERY == 0:
            kept.append(torch.cat([p.detach().reshape(-1) for p in model.parameters()])
                        .numpy().copy())
    return np.array(kept)


def main():
    torch.set_num_threads(1)
    # float64 throughout, the optimizers' scalar state too (NAdam's running product of
    # the momentum schedule is kept in the default dtype: float32 otherwise)
    torch.set_default_dtype(torch.float64)
    out = {}
    for arch in ARCHITECTURES:
        net = network(arch)
        theta = net.initial()[0]
        nudges = np.random.default_rng(0).normal(size=(NUDGES,) + theta.shape)
        nudges *= 1e-12 / np.linalg.norm(nudges, axis=1, keepdims=True)
        for i, (name, hp) in enumerate(CASES):
            path = trajectory(net, theta, name, hp)
            horizon = STEPS
            for nudge in nudges:
                other = trajectory(net, theta + nudge, name, hp)
                apart = np.abs(path - other) / np.maximum(1, np.abs(path))
                off = np.nonzero(apart.max(axis=1) > 1e-9)[0]
                if len(off):
                    horizon = min(horizon, int((off[0] - 1) * EVERY))
            out[f"{arch}/{i}"] = path
            out[f"{arch}/{i}/horizon"] = np.array(horizon)
            print(f"{arch:22s} {name:8s} {hp} horizon {horizon}")
    out["setup"] = np.array(json.dumps({
        "steps": STEPS, "every": EVERY, "cases": CASES,
        "architectures": {k: {"data": d, "data_args": kw, "network": {
            **net, "hidden": list(net["hidden"])}}
            for k, ((d, kw), net) in ARCHITECTURES.items()}}))
    np.savez_compressed(OUT, **out)
    print(f"wrote {OUT} ({OUT.stat().st_size / 1e3:.0f} KB)")


if __name__ == "__main__":
    main()
