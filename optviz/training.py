r"""Training a network (:mod:`optviz.networks`): every optimizer row trains the same
network, in the full parameter space, all rows and all initializations stepped together.

The optimizers are the surfaces' own (:data:`optviz.optimizers.OPTIMIZERS`, unchanged):
their arrays are ``[rows, coordinates, points]``, and for a network the coordinates are
the D parameters and the points the initializations (``[rows, D, inits]``), so an
elementwise update trains a network exactly as it steps a surface. Rows are grouped by
kernel as :mod:`optviz.plan` groups them. Full batch, or minibatches drawn once per step
and shared by every row and initialization (common random numbers). ``clip_norm`` clips
the global norm over all parameters (torch's ``clip_grad_norm_``).

Where torch's definition depends on the tensors' shapes the update is told them
(``StepContext.tensors``): Adafactor factors each weight matrix's second moment and keeps
each bias's whole, as torch does; L-BFGS flattens all of them into one vector, as torch's
does, and its line search evaluates the network itself; Newton's method takes the D×D
Hessian (central differences of the exact gradient) up to :data:`MAX_NEWTON` parameters;
random search evaluates its candidates on the network.

What is kept, per row and initialization: train and test loss and accuracy at every step
(float64), each layer's gradient norm at every update, where the row diverged, and the
parameters at every step in float32 (``[rows, inits, steps + 1, D]``: 6 rows × 500 steps ×
105 parameters is 1.3 MB; what the planes need) with the last ones in float64, and the
network's output on a grid at the steps asked for (decision boundaries).
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from .cost import CostError
from .networks.mlp import Network, NetworkError
from .networks.planes import hessian
from .optimizers import OPTIMIZERS, StepContext
from .plan import hyper_namespace
from .scene import OptimizerSpec, SceneError, ScheduleSpec

__all__ = ["train", "NetworkRun", "TRAINS", "MAX_NEWTON", "MAX_STEPS", "BUDGET_SECONDS"]

#: every optimizer trains networks (Newton's only up to MAX_NEWTON parameters)
TRAINS = list(OPTIMIZERS)
#: the most parameters a network Newton's method trains: its D×D Hessian is taken at
#: every step of every initialization (2D gradients, and a D×D solve)
MAX_NEWTON = 400
MAX_STEPS = 5000
#: the most a training may cost (seconds on the reference machine, estimated first)
BUDGET_SECONDS = 20.0
#: a parameter past this size counts as diverged (the row's later steps are frozen)
LIMIT = 1e6
#: estimated seconds per multiply-add of the forward and backward passes
FLOP_SECONDS = 1.5e-9


@dataclass
class NetworkRun:
    """What a training recorded (user row order; ``inits`` initializations):

    - ``params`` float32 ``[rows, inits, steps + 1, D]`` and ``final`` float64
      ``[rows, inits, D]``
    - ``train_loss``, ``test_loss``, ``train_acc``, ``test_acc`` float64
      ``[rows, inits, steps + 1]`` (accuracy NaN for regression, test NaN without test data)
    - ``grad_norm`` float64 ``[rows, inits, steps, layers]``: each layer's gradient norm
      (weight and bias together) as update t saw it, before clipping
    - ``diverged_at`` int64 ``[rows, inits]``: the first update that left the box, -1 never
    - ``lr`` float64 ``[rows, steps]``
    """

    network: Network
    optimizers: list
    steps: int
    params: np.ndarray
    final: np.ndarray
    train_loss: np.ndarray
    test_loss: np.ndarray
    train_acc: np.ndarray
    test_acc: np.ndarray
    grad_norm: np.ndarray
    diverged_at: np.ndarray
    lr: np.ndarray
    #: the network's output at ``boundary_steps`` on a grid over its input box (float32
    #: ``[rows, inits, len(boundary_steps), grid, grid, k]``: the probability of class 1
    #: for two classes, each class's for more, the prediction for regression), the grid's
    #: x and y in ``boundary_box``; None if no step was asked for
    boundary: np.ndarray | None = None
    boundary_steps: tuple = ()
    boundary_box: tuple | None = None

    @property
    def labels(self) -> list[str]:
        return [o.label or OPTIMIZERS[o.name].label for o in self.optimizers]

    def figure(self, plane=None, init: int = 0):
        """A Plotly figure for a notebook: the loss on a plane (default: the PCA plane of
        every row that did not diverge) with the paths projected, and the learning curves
        (:func:`optviz.plots.network_figure`). Needs Plotly."""
        from .plots import network_figure
        return network_figure(self, plane, init)

    def to_frame(self):
        """The training as a pandas DataFrame in long form: one line per row, init and
        step, columns ``row, label, optimizer, init, step, train_loss, test_loss,
        train_acc, test_acc, lr`` (``lr``, the rate of the update that leaves the step:
        NaN on the last). Needs pandas."""
        try:
            import pandas as pd
        except ImportError:
            raise ImportError("NetworkRun.to_frame() needs pandas: pip install pandas") \
                from None
        rows, inits, points = self.train_loss.shape
        index = np.indices((rows, inits, points)).reshape(3, -1)
        lr = np.concatenate([self.lr, np.full((rows, 1), np.nan)], axis=1)
        return pd.DataFrame({
            "row": index[0], "label": np.array(self.labels, dtype=object)[index[0]],
            "optimizer": np.array([o.name for o in self.optimizers], dtype=object)[index[0]],
            "init": index[1], "step": index[2],
            **{k: getattr(self, k).ravel() for k in
               ("train_loss", "test_loss", "train_acc", "test_acc")},
            "lr": lr[index[0], index[2]]})


def _rows(optimizers, steps, network):
    if not isinstance(optimizers, (list, tuple)) or not 1 <= len(optimizers) <= 32:
        raise NetworkError("optimizers: give 1 to 32 rows")
    specs = []
    for i, o in enumerate(optimizers):
        field = f"optimizers[{i}]"
        try:
            spec = o if isinstance(o, OptimizerSpec) else OptimizerSpec.from_dict(o, field)
            spec = spec.validated(steps, field)
        except SceneError as e:
            raise NetworkError(str(e)) from None
        if OPTIMIZERS[spec.name].kernel == "newton" and network.size > MAX_NEWTON:
            raise NetworkError(f"{field}.name: Newton's method takes the D×D Hessian at "
                               f"every step; this network has {network.size} parameters, "
                               f"allowed {MAX_NEWTON} (a narrower network, or L-BFGS)")
        if spec.noise:
            raise NetworkError(f"{field}.noise: a network's noise is its minibatches "
                               "(batch_size), not added noise")
        specs.append(spec)
    return specs


def _changes(changes, steps, network, specs, checked_batch) -> list:
    """``train``'s changes checked: [(step, the rows' specs, batch size)], by step."""
    if not isinstance(changes, (list, tuple)) or len(changes) > 100:
        raise NetworkError("changes: a list of at most 100 (step, optimizers, batch_size)")
    out, last = [], 0
    for i, change in enumerate(changes):
        field = f"changes[{i}]"
        try:
            step, optimizers, batch = change
        except (TypeError, ValueError):
            raise NetworkError(f"{field}: (step, optimizers, batch_size)") from None
        if not isinstance(step, (int, np.integer)) or not last < step < steps:
            raise NetworkError(f"{field}.step: {step!r}; allowed {last + 1} to {steps - 1}, "
                               "after the change before")
        new = _rows(optimizers, steps, network)
        if [o.name for o in new] != [o.name for o in specs]:
            raise NetworkError(f"{field}.optimizers: one per row, the rows' own optimizers")
        # (a row's schedule is its own throughout)
        new = [OptimizerSpec(o.name, label=r.label, schedule=r.schedule, **o.hparams)
               for o, r in zip(new, specs)]
        out.append((int(step), new, checked_batch(batch, f"{field}.batch_size")))
        last = int(step)
    return out


def _rates(specs, schedule, steps) -> np.ndarray:
    t = np.arange(steps)
    out = np.empty((len(specs), steps))
    for i, o in enumerate(specs):
        s = o.schedule or schedule
        base = o.hparams["lr"]
        out[i] = base if s is None else s.function(steps)(t, np.float64(base))
    return out


#: the most steps whose decision boundaries one training keeps
MAX_BOUNDARIES = 50


def _boundary_steps(asked, steps: int, grid: int, network: Network) -> set[int]:
    try:
        shown = {int(t) for t in asked}
    except (TypeError, ValueError):
        raise NetworkError("boundary_steps: whole numbers, the steps to keep the decision "
                           "boundaries of") from None
    if not shown:
        return shown
    if len(shown) > MAX_BOUNDARIES or not all(0 <= t <= steps for t in shown):
        raise NetworkError(f"boundary_steps: at most {MAX_BOUNDARIES} steps, each 0 to "
                           f"{steps}")
    if network.data.features != 2:
        raise NetworkError(f"boundary_steps: decision boundaries are drawn over two input "
                           f"features; the data has {network.data.features}")
    if not isinstance(grid, (int, np.integer)) or not 5 <= grid <= 101:
        raise NetworkError(f"boundary_grid: {grid!r}; allowed 5 to 101")
    return shown


def boundary_box(network: Network, n: int):
    """(xs, ys, the grid's points ``[n * n, 2]``): the data's box and a margin of a tenth
    of it each side."""
    X = np.concatenate([network.data.X_train, network.data.X_test])
    lo, hi = X.min(axis=0), X.max(axis=0)
    pad = 0.1 * (hi - lo)
    xs, ys = (np.linspace(lo[i] - pad[i], hi[i] + pad[i], n) for i in range(2))
    gx, gy = np.meshgrid(xs, ys)
    return xs, ys, np.stack([gx.ravel(), gy.ravel()], axis=1)


def estimate_seconds(network: Network, specs, steps: int, batch: int | None) -> float:
    """What a training is priced at: the forward and backward passes (about three
    multiply-adds per parameter and sample) and the loss and accuracy on all the data
    at every step; and what some rows evaluate themselves: Newton's Hessian (2D
    gradients and a D×D solve), L-BFGS's line search (up to 25 gradients), random
    search's candidate (a forward pass)."""
    n_train = len(network.data.X_train) if batch is None else batch
    n_all = len(network.data.X_train) + len(network.data.X_test)
    D = network.size
    inits = len(network.seeds if isinstance(network.init, str) else network.initial())
    per_row = D * (3 * n_train + 2 * n_all)
    extra = 0.0
    for spec in specs:
        kernel = OPTIMIZERS[spec.name].kernel
        if kernel == "newton":
            extra += 2 * D * 3 * n_train * D + D ** 3 / 3 + 2 * D * 3e-5 / FLOP_SECONDS
        elif kernel == "lbfgs" and spec.hparams.get("line_search_fn"):
            extra += 25 * (3 * n_train * D + 3e-5 / FLOP_SECONDS)
        elif kernel == "random_search":
            extra += 2 * n_train * D
    return steps * ((len(specs) * per_row + extra) * inits * FLOP_SECONDS
                    + 4e-5 * len(specs))


def train(network: Network, optimizers, steps: int = 200, *, schedule=None,
          clip_norm: float | None = None, batch_size: int | None = None, seed: int = 0,
          budget: float = BUDGET_SECONDS, params_dtype=np.float32,
          boundary_steps=(), boundary_grid: int = 41, changes=()) -> NetworkRun:
    """Train ``network`` with every row of ``optimizers`` (names, dicts or
    :class:`~optviz.scene.OptimizerSpec`, as a Scene takes them), from each of its
    initializations, for ``steps`` updates. Refused with :class:`~optviz.cost.CostError`
    if priced above ``budget`` seconds. ``params_dtype``: how every step's parameters are
    kept (float32 for the views; float64 to compare them with another trainer's).
    ``boundary_steps``: the steps at which the network's output is kept on a
    ``boundary_grid`` × ``boundary_grid`` grid over its input box (two features), for its
    decision boundaries (``NetworkRun.boundary``). ``changes``: knobs turned during the
    training, ``(step, optimizers, batch_size)`` each: from update ``step`` on (1 to
    steps - 1, increasing) the rows take the hyperparameters of ``optimizers`` (one per
    row, the same optimizers; their schedules stay the rows') and the minibatch
    ``batch_size`` (None: the full batch); the updates before are the unchanged run's."""
    if not isinstance(network, Network):
        raise NetworkError("network: expected an optviz.networks.Network")
    if not isinstance(steps, (int, np.integer)) or not 1 <= steps <= MAX_STEPS:
        raise NetworkError(f"steps: {steps!r}; allowed 1 to {MAX_STEPS}")
    steps = int(steps)
    specs = _rows(optimizers, steps, network)
    if schedule is not None:
        try:
            schedule = (schedule if isinstance(schedule, ScheduleSpec)
                        else ScheduleSpec.from_dict(schedule)).validated(steps)
        except SceneError as e:
            raise NetworkError(str(e)) from None
    if clip_norm is not None and not (isinstance(clip_norm, (int, float))
                                      and 0 < clip_norm <= 1e6):
        raise NetworkError(f"clip_norm: {clip_norm!r}; allowed above 0 up to 1e6, or None")
    data = network.data
    n = len(data.X_train)
    def checked_batch(b, field="batch_size"):
        if b is not None and not (isinstance(b, (int, np.integer)) and 1 <= b <= n):
            raise NetworkError(f"{field}: {b!r}; allowed 1 to {n} (the training samples), "
                               "or None for the full batch")
        return None if b is None else int(b)

    batch_size = checked_batch(batch_size)
    turned = _changes(changes, steps, network, specs, checked_batch)
    batches = [batch_size] + [b for _, _, b in turned]
    price = estimate_seconds(network, specs, steps,
                             None if None in batches else max(batches))
    if price > budget:
        raise CostError(f"this training would take about {price:.2g} s, more than the "
                        f"{budget:.2g} s allowed: fewer steps, rows, initializations, "
                        "samples or parameters", "steps")
    deadline = time.monotonic() + 3 * budget
    shown = _boundary_steps(boundary_steps, steps, boundary_grid, network)

    theta0 = network.initial()
    inits, D, R = theta0.shape[0], network.size, len(specs)
    lrs = _rates(specs, schedule, steps)
    for t0, new_specs, _ in turned:               # (a turned α: its rates from t0 on)
        lrs[:, t0:] = _rates(new_specs, schedule, steps)[:, t0:]
    # rows regrouped by kernel, first appearance first (as optviz.plan groups them)
    kernels: dict[str, list[int]] = {}
    for i, s in enumerate(specs):
        kernels.setdefault(OPTIMIZERS[s.name].kernel, []).append(i)
    order = [i for rows in kernels.values() for i in rows]   # w's row j is user row order[j]
    w = np.empty((R, D, inits))
    w[...] = theta0.T[None]
    g = np.empty_like(w)
    groups, lo = [], 0
    for name, rows in kernels.items():
        entry = OPTIMIZERS[name]
        wv, gv = w[lo:lo + len(rows)], g[lo:lo + len(rows)]
        hp = hyper_namespace([specs[i] for i in rows], wv.shape)
        lr = lrs[rows]
        rates = lr[0].tolist() if (lr == lr[:1]).all() else \
            np.ascontiguousarray(lr.T)[:, :, None, None]
        groups.append([entry.update, wv, gv, entry.init(wv, hp), rates, hp, lo, rows])
        lo += len(rows)
    turns = {t0: (new_specs, b) for t0, new_specs, b in turned}

    keep = np.empty((steps + 1, R, inits, D), dtype=params_dtype)
    loss = {k: np.empty((steps + 1, R, inits)) for k in
            ("train_loss", "test_loss", "train_acc", "test_acc")}
    norms = np.empty((steps, R, inits, network.layers))
    diverged = np.full((R, inits), -1, dtype=np.int64)
    frozen = np.zeros((R, inits), dtype=bool)
    batch_rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(2, 0)))
    X, y, Xt, yt = data.X_train, data.y_train, data.X_test, data.y_test
    held = len(Xt)                                # fitted and held-out samples, one array
    XA, yA = (np.concatenate([X, Xt]), np.concatenate([y, yt])) if held else (X, y)

    def flat():                                   # [R * inits, D], row-major by row
        return w.transpose(0, 2, 1).reshape(R * inits, D)

    def measure(t, theta):
        test_loss, test_acc = network.evaluate(theta, Xt, yt)
        loss["test_loss"][t], loss["test_acc"][t] = (test_loss.reshape(R, inits),
                                                     test_acc.reshape(R, inits))

    # what an update may need of the problem: the tensors θ is made of (Adafactor's
    # factored moments follow torch's shapes), and the loss and gradient anywhere (L-BFGS's
    # line search)
    batch_now = {"idx": None}                     # this step's minibatch

    def step_data():                              # what this step's gradient was taken on
        idx = batch_now["idx"]
        return (X, y) if idx is None else (X[idx], y[idx])

    def evaluate_vector(row, col, theta):
        loss_, grad_, _ = network.loss_grad(np.asarray(theta)[None], *step_data())
        return float(loss_[0]), grad_[0]

    def value_points(points):                     # [rows, D, points] -> [rows, 1, points]
        flat_points = points.transpose(0, 2, 1).reshape(-1, D)
        return network.evaluate(flat_points, *step_data())[0].reshape(len(points), 1, -1)

    def hessian_vector(theta):
        return hessian(network, theta, *step_data())

    searching = any(OPTIMIZERS[o.name].random for o in specs)
    ctx = StepContext(surface=None, rng=np.random.default_rng(np.random.SeedSequence(
                          seed, spawn_key=(1, 0))) if searching else None,
                      tensors=list(zip(network.slices, network.shapes)),
                      evaluate_vector=evaluate_vector, value_points=value_points,
                      hessian_vector=hessian_vector)
    theta = flat()
    keep[0] = theta.reshape(R, inits, D)
    grid = boundary_box(network, boundary_grid) if shown else None
    outputs = [] if shown else None

    def boundary(theta):
        z = network.forward(theta, grid[2], slopes=False)[0]
        out = network.probabilities(z)
        outputs.append(out.reshape(R, inits, boundary_grid, boundary_grid, -1)
                       .astype(np.float32))

    if 0 in shown:
        boundary(theta)
    for t in range(steps):
        if time.monotonic() > deadline:
            raise CostError("the training ran past its deadline: fewer steps, rows, "
                            "initializations, samples or parameters", "steps")
        if t in turns:                            # a knob turned: new hyperparameters
            new_specs, batch_size = turns[t]
            for group in groups:
                group[5] = hyper_namespace([new_specs[i] for i in group[7]], group[1].shape)
        if batch_size is None:                    # (the test set in the same pass)
            full_loss, grad, layer_norms, right, *tested = network.loss_grad(
                theta, XA, yA, True, held)
            if held:
                loss["test_loss"][t] = tested[0].reshape(R, inits)
                loss["test_acc"][t] = tested[1].reshape(R, inits)
            else:
                measure(t, theta)
        else:
            full_loss, right = network.evaluate(theta, X, y)
            measure(t, theta)
            idx = batch_now["idx"] = batch_rng.choice(n, batch_size, replace=False)
            _, grad, layer_norms = network.loss_grad(theta, X[idx], y[idx])
        loss["train_loss"][t] = full_loss.reshape(R, inits)
        loss["train_acc"][t] = right.reshape(R, inits)
        norms[t] = layer_norms.reshape(R, inits, -1)
        if clip_norm is not None:
            total = np.sqrt((grad * grad).sum(axis=1, keepdims=True))
            grad = grad * np.minimum(1.0, clip_norm / np.maximum(total, 1e-300))
        g[...] = grad.reshape(R, inits, D).transpose(0, 2, 1)
        if frozen.any():
            g[frozen.nonzero()[0], :, frozen.nonzero()[1]] = 0.0
        for update, wv, gv, state, rates, hp, lo, _ in groups:
            ctx.lo = lo
            update(wv, gv, state, rates[t], t + 1, hp, ctx)
        theta = flat()
        out = ~(np.abs(theta) <= LIMIT).all(axis=1).reshape(R, inits)   # (NaN too)
        new = out & ~frozen
        if new.any():                              # frozen where it left the box
            diverged[new] = t + 1
            frozen |= new
            r, k = new.nonzero()
            w[r, :, k] = keep[t, r, k]
            theta = flat()
        keep[t + 1] = theta.reshape(R, inits, D)
        if t + 1 in shown:
            boundary(theta)
    last_loss, last_acc = network.evaluate(theta, X, y)
    loss["train_loss"][steps], loss["train_acc"][steps] = (last_loss.reshape(R, inits),
                                                           last_acc.reshape(R, inits))
    measure(steps, theta)

    user = np.argsort(order)                      # w's rows are in kernel order
    return NetworkRun(
        network=network, optimizers=specs, steps=steps,
        params=np.ascontiguousarray(keep.transpose(1, 2, 0, 3)[user]),
        final=flat().reshape(R, inits, D)[user],
        **{k: np.ascontiguousarray(v.transpose(1, 2, 0)[user]) for k, v in loss.items()},
        grad_norm=np.ascontiguousarray(norms.transpose(1, 2, 0, 3)[user]),
        diverged_at=diverged[user], lr=lrs,
        boundary=None if not shown else np.stack(outputs, axis=2)[user],
        boundary_steps=tuple(sorted(shown)),
        boundary_box=None if not shown else (grid[0], grid[1]))
