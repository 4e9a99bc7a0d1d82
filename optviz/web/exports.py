"""A run as files: CSV (one line per row and step) and JSON (the scene plus per-row
arrays). Plain functions of a Run; the page's download buttons call them."""
from __future__ import annotations

import csv
import functools
import io
import json
import pathlib
import re

import numpy as np

from ..engine import Run
from ..optimizers import OPTIMIZERS
from ..plots import animation

__all__ = ["run_csv", "run_json", "run_html", "run_python", "filename", "CSV_COLUMNS",
           "training_csv", "training_json", "training_python", "TRAINING_COLUMNS"]

CSV_COLUMNS = ["row", "label", "optimizer", "settings", "step", "x", "y", "loss", "lr"]


def _settings(spec) -> str:
    return json.dumps({k: list(v) if isinstance(v, tuple) else v
                       for k, v in spec.hparams.items()}, separators=(",", ":"))


def run_csv(run: Run) -> str:
    """Columns CSV_COLUMNS; ``lr`` is the rate of the update that leaves the step (empty
    on the last step); the first start only (the page has one)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(CSV_COLUMNS)
    steps = run.scene.steps
    for i, spec in enumerate(run.scene.optimizers):
        settings = _settings(spec)
        path, loss, lr = run.path[i, 0], run.loss[i, 0], run.lr[i]
        for t in range(steps + 1):
            w.writerow([i, spec.label, spec.name, settings, t, repr(float(path[t, 0])),
                        repr(float(path[t, 1])), repr(float(loss[t])),
                        repr(float(lr[t])) if t < steps else ""])
    return buf.getvalue()


def run_json(run: Run) -> str:
    """{"scene": Scene.to_dict(), "rows": [{label, optimizer, settings, diverged_at,
    step, x, y, loss, lr}]}: reload the scene with ``Scene.from_dict(d["scene"])``."""
    rows = []
    for i, spec in enumerate(run.scene.optimizers):
        rows.append({"label": spec.label, "optimizer": spec.name,
                     "settings": json.loads(_settings(spec)),
                     "diverged_at": int(run.diverged_at[i, 0]),
                     "step": list(range(run.scene.steps + 1)),
                     "x": run.path[i, 0, :, 0].tolist(), "y": run.path[i, 0, :, 1].tolist(),
                     "loss": run.loss[i, 0].tolist(), "lr": run.lr[i].tolist()})
    return json.dumps({"scene": run.scene.to_dict(), "rows": rows}, allow_nan=False,
                      default=lambda o: o.tolist() if isinstance(o, np.ndarray) else str(o))


#: a network's training as CSV: one line per row and step; the gradient norms one column
#: per layer after these (grad_norm_1 the first layer's; empty on the last step)
TRAINING_COLUMNS = ["row", "label", "optimizer", "settings", "step", "a", "b", "distance",
                    "train_loss", "test_loss", "train_acc", "test_acc", "lr"]


def _number(v) -> str:
    v = float(v)
    return repr(v) if np.isfinite(v) else ""


def training_csv(t) -> str:
    """A network's training on the page (web/network_view.Trained) as CSV: each row's
    projected path on the plane (a, b) and its distance from it, the learning curves,
    the rate and each layer's gradient norm, step by step (the first initialization)."""
    run = t.run
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    layers = run.grad_norm.shape[-1]
    w.writerow(TRAINING_COLUMNS + [f"grad_norm_{k + 1}" for k in range(layers)])
    for i, spec in enumerate(run.optimizers):
        settings = _settings(spec)
        for k in range(run.steps + 1):
            last = k == run.steps
            w.writerow([i, run.labels[i], spec.name, settings, k,
                        *(_number(v) for v in (t.coords[i, k, 0], t.coords[i, k, 1],
                                               t.distance[i, k], run.train_loss[i, 0, k],
                                               run.test_loss[i, 0, k], run.train_acc[i, 0, k],
                                               run.test_acc[i, 0, k])),
                        "" if last else _number(run.lr[i, k]),
                        *([""] * layers if last else map(_number, run.grad_norm[i, 0, k]))])
    return buf.getvalue()


def training_json(t, setup: dict) -> str:
    """A network's training as JSON: {"surface": its train: name, "setup": the page's
    settings it ran with, "network": widths, activation, loss, init, data sizes, "plane":
    its kind and each axis's share of the variance (PCA), "rows": [{label, optimizer,
    settings, diverged_at, a, b, distance, train_loss, test_loss, train_acc, test_acc, lr,
    grad_norm [steps][layers]}]}; a number that is not finite is null."""
    run, net = t.run, t.run.network

    def finite(a):
        a = np.asarray(a, dtype=float)
        return np.where(np.isfinite(a), a, np.nan).tolist() if a.ndim else float(a)

    def clean(v):
        if isinstance(v, float):
            return v if np.isfinite(v) else None
        if isinstance(v, list):
            return [clean(x) for x in v]
        return v

    rows = [{"label": run.labels[i], "optimizer": spec.name,
             "settings": json.loads(_settings(spec)),
             "diverged_at": int(run.diverged_at[i, 0]),
             "a": finite(t.coords[i, :, 0]), "b": finite(t.coords[i, :, 1]),
             "distance": finite(t.distance[i]),
             "train_loss": finite(run.train_loss[i, 0]), "test_loss": finite(run.test_loss[i, 0]),
             "train_acc": finite(run.train_acc[i, 0]), "test_acc": finite(run.test_acc[i, 0]),
             "lr": finite(run.lr[i]), "grad_norm": finite(run.grad_norm[i, 0])}
            for i, spec in enumerate(run.optimizers)]
    plane = {"kind": t.plane.kind}
    if getattr(t.plane, "explained", None) is not None:
        plane["explained"] = finite(t.plane.explained)
    out = {"surface": t.surface.name, "setup": setup, "steps": run.steps,
           "network": {"widths": list(net.widths), "activation": net.activation,
                       "loss": net.loss, "init": net.init if isinstance(net.init, str)
                       else "arrays", "parameters": net.size, "data": net.data.name,
                       "train_samples": len(net.data.X_train),
                       "test_samples": len(net.data.X_test)},
           "plane": plane, "rows": clean(rows)}
    return json.dumps(out, allow_nan=False, default=str)


#: a hidden layer's activation as torch writes it
TORCH_ACTIVATIONS = {"tanh": "Tanh()", "sigmoid": "Sigmoid()", "relu": "ReLU()",
                     "leaky_relu": "LeakyReLU()"}
#: a network's loss as torch writes it, and its targets
TORCH_NETWORK_LOSS = {"bce": ("BCEWithLogitsLoss()", "torch.from_numpy(data.y_train.astype("
                              "float))[:, None]"),
                      "ce": ("CrossEntropyLoss()", "torch.from_numpy(data.y_train)"),
                      "mse": ("MSELoss()", "torch.from_numpy(data.y_train)")}


def training_python(run, keys: dict, *, schedule=None, clip_norm=None, batch_size=None,
                    seed: int = 0, wheel_url: str | None = None, changes=()) -> str:
    """A script that trains the page's network again: with optviz (the same numbers as
    the page) and, with torch installed, with torch.optim on the same data from the same
    initialization (an ``nn.Sequential``, the loss module, zero_grad, backward, step, the
    same minibatches), printing how far torch's final parameters are from optviz's.
    ``keys``: the ``train:`` name's keys, every one (network_view.KEYS); ``changes``: the
    live changes, as optviz.training.train takes them (the torch part says it has none)."""
    from .. import __version__
    net = run.network
    widths = "-".join(map(str, net.widths))
    get = (["the server this script came from:", "", f"    pip install {wheel_url}", ""]
           if wheel_url else ["optviz's wheel (its server serves it at /wheel/)."])
    hidden = tuple(int(h) for h in keys["hidden"].split("-")) if keys["hidden"] else ()
    lines = [f'"""optviz {__version__}: a {widths} {net.activation} network on '
             f'{net.data.name}, trained by {", ".join(run.labels)}.',
             "",
             "Trains it again with optviz's engine (NumPy only; the page's numbers), from",
             *get,
             "and, with torch installed (pip install torch), with torch.optim on the same",
             "data from the same initialization. Run this file: it prints each row's final",
             'training loss, and how far torch ends from optviz."""',
             "import numpy as np",
             "",
             "from optviz import OptimizerSpec, ScheduleSpec  # noqa: F401",
             "from optviz.networks import Network, make_dataset",
             "from optviz.training import train",
             "",
             f"data = make_dataset({net.data.name!r}, n={int(keys['n'])}, "
             f"noise={float(keys['noise'])!r}, test_fraction={float(keys['test'])!r}, "
             f"seed={int(keys['seed'])})",
             f"network = Network(data, hidden={hidden!r}, activation={net.activation!r}, "
             f"init={net.init!r}, loss={net.loss!r}, seeds=({int(keys['init_seed'])},))",
             "optimizers = ["]
    lines += [f"    {o!r}," for o in run.optimizers]
    lines += ["]",
              f"steps, schedule, clip_norm, batch_size, seed = {run.steps}, {schedule!r}, "
              f"{clip_norm!r}, {batch_size!r}, {seed!r}"]
    if changes:                              # the live changes: (step, rows, minibatch)
        lines.append("changes = [")
        for step, rows, b in changes:
            lines += [f"    ({step}, [", *(f"        {o!r}," for o in rows), f"    ], {b!r}),"]
        lines.append("]")
    lines += ["run = train(network, optimizers, steps, schedule=schedule, clip_norm=clip_norm,",
              "            batch_size=batch_size, seed=seed" +
              (", changes=changes)" if changes else ")"),
              "# run.train_loss, run.test_loss, run.test_acc [rows, 1, steps + 1], "
              "run.params [rows, 1, steps + 1, parameters]", ""]
    lines += (["# (torch.optim cannot run this setup as it is: live changes)"] if changes
              else _torch_network(run, schedule, clip_norm, batch_size, seed))
    lines += ["", "",
              'if __name__ == "__main__":',
              "    for label, loss in zip(run.labels, run.train_loss[:, 0, -1]):",
              '        print(f"{label}: final training loss {loss:.6g}")',
              "    try:",
              "        ends = with_torch()",
              "    except (ImportError, NameError):",
              "        ends = {}",
              '        print("(with torch installed, and no live changes, torch.optim trains '
              'it too)")',
              "    for label, theta in ends.items():",
              "        gap = np.abs(theta - run.final[run.labels.index(label), 0]).max()",
              '        print(f"{label}: torch.optim ends {gap:.1e} from optviz")']
    return "\n".join(lines) + "\n"


def _torch_network(run, schedule, clip_norm, batch_size, seed) -> list[str]:
    """``with_torch()``: the training with torch.optim ({label: final parameters})."""
    net = run.network
    rows = [(o, label) for o, label in zip(run.optimizers, run.labels)
            if OPTIMIZERS[o.name].torch and not (o.hparams.get("nesterov") and
                                                 o.hparams.get("momentum") == 0)]
    left = [label for o, label in zip(run.optimizers, run.labels)
            if label not in {lb for _, lb in rows}]
    if not rows:
        return [f"# (torch.optim has none of these optimizers: {', '.join(left)})"]
    layers = []
    for i in range(net.layers):
        out, inp = net.shapes[2 * i]
        layers.append(f"torch.nn.Linear({inp}, {out})")
        if i < net.layers - 1:
            layers.append(f"torch.nn.{TORCH_ACTIVATIONS[net.activation]}")
    loss, target = TORCH_NETWORK_LOSS[net.loss]
    lines = ["",
             "def with_torch():",
             '    """The same training with torch.optim: {label: final parameters, in '
             "torch's order}.\"\"\"",
             "    import math  # noqa: F401",
             "",
             "    import torch",
             "",
             "    torch.set_default_dtype(torch.float64)",
             "    X, y = torch.from_numpy(data.X_train), " + target,
             f"    loss = torch.nn.{loss}",
             "    theta0 = network.initial()[0]",
             "",
             "    def model():",
             f"        m = torch.nn.Sequential({', '.join(layers)})",
             "        with torch.no_grad():",
             "            for p, a in zip(m.parameters(), network.tensors(theta0)):",
             "                p.copy_(torch.from_numpy(np.ascontiguousarray(a)))",
             "        return m",
             ""]
    if left:
        lines.append(f"    # (torch.optim has no {', '.join(left)})")
    lines.append("    rows = {}")
    for o, label in rows:
        hp = {k: (tuple(v) if isinstance(v, list) else v) for k, v in o.hparams.items()}
        hp.update(OPTIMIZERS[o.name].torch_kwargs)
        kwargs = ", ".join(f"{k}={v!r}" for k, v in hp.items())
        sched = _torch_scheduler(o.schedule or schedule, run.steps)
        lines += ["    m = model()",
                  f"    opt = torch.optim.{OPTIMIZERS[o.name].torch}(m.parameters(), {kwargs})"]
        if sched and "base" in sched:
            lines.append('    base = opt.param_groups[0]["lr"]  # noqa: F841')
        lines.append(f"    rows[{label!r}] = (m, opt, {sched or 'None'})")
    if batch_size is not None:              # optviz's minibatches: one draw a step, shared
        lines.append(f"    batches = np.random.default_rng(np.random.SeedSequence({seed}, "
                     "spawn_key=(2, 0)))")
    lines.append(f"    for _ in range({run.steps}):")
    if batch_size is not None:
        lines.append(f"        idx = torch.from_numpy(batches.choice({len(net.data.X_train)}, "
                     f"{batch_size}, replace=False))")
    at = "[idx]" if batch_size is not None else ""
    lines += ["        for m, opt, sched in rows.values():",
              "            def closure(m=m, opt=opt):",
              "                opt.zero_grad()",
              f"                value = loss(m(X{at}), y{at})",
              "                value.backward()"]
    if clip_norm is not None:               # the global norm, as optviz clips it
        lines += ["                norm = math.sqrt(sum(float((p.grad ** 2).sum()) "
                  "for p in m.parameters()))",
                  "                for p in m.parameters():",
                  f"                    p.grad *= min(1.0, {clip_norm!r} / max(norm, 1e-300))"]
    lines += ["                return value",
              "            opt.step(closure)",
              "            if sched is not None:",
              "                sched.step()",
              "    return {label: torch.cat([p.detach().reshape(-1) for p in m.parameters()])"
              ".numpy()",
              "            for label, (m, _, _) in rows.items()}"]
    return lines


def filename(scene, ext: str) -> str:
    """A download's name from what it holds: the surface, the rows (named, up to three;
    else counted), the steps; e.g. ``optviz-rosenbrock-gd-adam-300-steps.csv``,
    ``optviz-rosenbrock-23-optimizers-1000-steps.html``."""
    names = list(dict.fromkeys(o.name for o in scene.optimizers))
    n = len(scene.optimizers)
    rows = ("-".join(names) if n <= 3 else f"{n}-optimizers") if len(names) == n else \
        f"{n}-rows"
    live = "-live" if scene.changes else ""
    surface = scene.surface.split(":")[0]        # "formula", not the formula's text
    stem = f"optviz-{surface}-{rows}-{scene.steps}-steps{live}"
    return re.sub(r"[^A-Za-z0-9._-]+", "-", stem).replace("_", "-") + "." + ext


#: plotly.js's cartesian bundle (scatter, contour, heatmap; vendored for the page): all
#: the HTML export draws, at a third of the full bundle's 4.8 MB
CARTESIAN = pathlib.Path(__file__).parent / "assets" / "vendor-plotly-cartesian.min.js"


@functools.lru_cache(maxsize=1)
def _cartesian_js() -> str:
    js = CARTESIAN.read_text(encoding="utf-8")
    if "</script" in js.lower():          # (it would end the inline script early)
        raise ValueError(f"{CARTESIAN.name} cannot be inlined")
    return js


def run_html(run: Run, colors: list[str], frames: int | None = None) -> str:
    """The run as one standalone HTML file (Plotly's cartesian bundle inlined: no network
    needed) whose animation plays offline, for slides (:func:`optviz.plots.animation`)."""
    import plotly.io as pio
    html = pio.to_html(animation(run, colors, frames), include_plotlyjs=False,
                       full_html=True, validate=False, auto_play=False,
                       config={"displaylogo": False})
    head = html.index("</head>")
    return (html[:head] + '<script type="text/javascript">window.PlotlyConfig = '
            '{MathJaxConfig: "local"};</script>\n<script type="text/javascript">' +
            _cartesian_js() + "</script>\n" + html[head:])


def run_python(scene, wheel_url: str | None = None) -> str:
    """A short script that reproduces the run with optviz: the Scene written out in full
    (every hyperparameter, floats exactly as the page used them), simulate, and a summary
    when run as a program. Its paths equal the page's bit for bit (the same engine).
    ``wheel_url``: where the engine's wheel is (the server that made the script serves it,
    optviz.web.wheel); the script says to pip install it from there."""
    from .. import __version__
    surface = scene.get_surface()
    get = (["Reproduces the page's run exactly with optviz's engine (NumPy only), from",
            "the server this script came from:", "", f"    pip install {wheel_url}", ""]
           if wheel_url else
           ["Reproduces the page's run exactly with optviz's engine (NumPy only; its",
            "server serves it as a wheel at /wheel/)."])
    lines = [f'"""optviz {__version__}: {surface.label}, {", ".join(scene.labels)}.',
             "", *get,
             "Run this file; in a notebook, run.figure() draws the run and run.to_frame()",
             'tabulates it (Plotly and pandas)."""',
             "from optviz import Change, OptimizerSpec, Scene, ScheduleSpec, simulate  "
             "# noqa: F401",
             "",
             "scene = Scene(",
             f"    surface={scene.surface!r},"]
    if scene.surface_params:
        lines.append(f"    surface_params={dict(scene.surface_params)!r},")
    lines.append("    optimizers=[")
    lines += [f"        {o!r}," for o in scene.optimizers]
    lines.append("    ],")
    starts = [tuple(map(float, s)) for s in scene.starts]
    lines += [f"    starts={starts!r},", f"    steps={scene.steps!r},",
              f"    schedule={scene.schedule!r},", f"    noise={scene.noise!r},",
              f"    seed={scene.seed!r},"]
    if scene.clip_norm is not None:
        lines.append(f"    clip_norm={scene.clip_norm!r},")
    if scene.batch_size is not None:
        lines.append(f"    batch_size={scene.batch_size!r},")
    if scene.changes:
        lines.append("    changes=[")
        lines += [f"        {c!r}," for c in scene.changes]
        lines.append("    ],")
    lines += [")",
              "run = simulate(scene)    # run.path [rows, starts, steps+1, 2], run.loss, "
              "run.lr",
              ""]
    lines += _torch_part(scene)
    lines += ["", "",
              'if __name__ == "__main__":',
              "    for label, (x, y), loss in zip(run.labels, run.path[:, 0, -1], "
              "run.loss[:, 0, -1]):",
              '        print(f"{label}: ends at ({x:.6g}, {y:.6g}), L = {loss:.6g}")']
    if _torch_rows(scene)[0]:
        lines += ["    try:",
                  "        paths = with_torch()",
                  "    except ImportError:",
                  '        paths = {}',
                  '        print("(pip install torch to run it with torch.optim too)")',
                  "    for label, path in paths.items():",
                  "        i = run.labels.index(label)",
                  "        end = run.diverged_at[i, 0] if run.diverged_at[i, 0] >= 0 else "
                  "scene.steps",
                  "        gap = abs(path[:end + 1] - run.path[i, 0, :end + 1]).max()",
                  '        print(f"{label}: torch.optim agrees to {gap:.1e}")']
    return "\n".join(lines) + "\n"


#: a data surface's loss on the samples ``idx`` in torch, by model (optviz.data.Dataset)
TORCH_DATA_LOSS = {
    "linear": "(0.5 * (x * X[idx] + y - Y[idx]) ** 2).mean()",
    "logistic": "(torch.nn.functional.softplus(z) - Y[idx] * z).mean()",
    "sigmoid_net": "(0.5 * (torch.sigmoid(y * torch.sigmoid(x * X[idx])) - Y[idx]) ** 2)"
                   ".mean()",
}


def _torch_rows(scene) -> tuple[list, str]:
    """(rows torch.optim can run, why the others or the whole run cannot)."""
    surface = scene.get_surface()
    if not surface.expression and surface.dataset is None:
        return [], "a network's slice (its loss is the network's, not one expression)"
    if not surface.expression and surface.dataset.model not in TORCH_DATA_LOSS:
        return [], "a surface built on data of an unknown model"
    if scene.changes:
        return [], "live changes"
    rows = [o for o in scene.optimizers if OPTIMIZERS[o.name].torch and not (
        o.hparams.get("nesterov") and o.hparams.get("momentum") == 0)]
    left = [o.label for o in scene.optimizers if o not in rows]
    return rows, (f"torch.optim has no {', '.join(left)}" if left else "")


def _torch_scheduler(schedule, steps) -> str | None:
    """The torch.optim.lr_scheduler (as code, for an optimizer ``opt``) that gives
    ``schedule``'s rates: optviz.schedules' own torch equivalents."""
    if schedule is None or (schedule.name == "constant" and not schedule.warmup):
        return None
    p, W, n = schedule.params, schedule.warmup, steps - schedule.warmup
    name = schedule.name
    S = "torch.optim.lr_scheduler"
    decay = {"constant": "1.0",
             "step": f"{p.get('gamma', 0.5)!r} ** (k // {p.get('step_size') or max(1, n // 4)})",
             "exponential": f"{p.get('gamma', 0.99)!r} ** k",
             "cosine": f"({p.get('eta_min', 0.0)!r} + (base - {p.get('eta_min', 0.0)!r}) * "
                       f"(1 + math.cos(math.pi * k / {p.get('T_max') or n})) / 2) / base",
             "linear": f"{p.get('start_factor', 1.0)!r} + ({p.get('end_factor', 0.0)!r} - "
                       f"{p.get('start_factor', 1.0)!r}) * min(k, {p.get('total_iters') or n})"
                       f" / {p.get('total_iters') or n}",
             "inverse_sqrt": "1 / math.sqrt(k + 1)"}[name]
    if W:
        return (f"{S}.LambdaLR(opt, lambda t, base=base: (t + 1) / {W} if t < {W} else "
                f"(lambda k: {decay})(t - {W}))")
    return {"step": f"{S}.StepLR(opt, step_size={p.get('step_size') or max(1, n // 4)}, "
                    f"gamma={p.get('gamma', 0.5)!r})",
            "exponential": f"{S}.ExponentialLR(opt, gamma={p.get('gamma', 0.99)!r})",
            "cosine": f"{S}.CosineAnnealingLR(opt, T_max={p.get('T_max') or n}, "
                      f"eta_min={p.get('eta_min', 0.0)!r})",
            "linear": f"{S}.LinearLR(opt, start_factor={p.get('start_factor', 1.0)!r}, "
                      f"end_factor={p.get('end_factor', 0.0)!r}, "
                      f"total_iters={p.get('total_iters') or n})",
            "inverse_sqrt": f"{S}.LambdaLR(opt, lambda t: 1 / math.sqrt(t + 1))"}[name]


def _torch_loss(surface) -> list[str]:
    """``loss(x, y[, idx])`` in torch: the surface's expression, or a data surface's loss
    on optviz's samples (minibatches drawn from optviz's stream)."""
    data = surface.dataset
    if data is None:
        return ["    from torch import abs, cos, cosh, exp, log, sin, sinh, sqrt, tan, tanh  "
                "# noqa: F401",
                "    pi, e = math.pi, math.e  # noqa: F841",
                "",
                "    def loss(x, y):", f"        return {surface.expression}", ""]
    out = ["    from optviz.data import DATASETS",
           f"    data = DATASETS[{surface.name!r}]",
           "    X, Y = torch.from_numpy(data.x), torch.from_numpy(data.y)",
           "",
           "    def loss(x, y, idx=slice(None)):"]
    if data.model == "logistic":
        out.append("        z = x * X[idx, 0] + y * X[idx, 1]")
    return out + [f"        return {TORCH_DATA_LOSS[data.model]}", ""]


def _torch_part(scene) -> list[str]:
    """``with_torch()``: the same run with torch.optim and its schedulers, for the rows
    torch has (its paths equal optviz's to round-off: tests/test_torch_parity.py)."""
    rows, why = _torch_rows(scene)
    if not rows:
        return [f"# (torch.optim cannot run this setup as it is: {why})"]
    surface = scene.get_surface()
    x0, y0 = map(float, scene.starts[0])
    out = ["",
           "def with_torch():",
           '    """The same run with torch.optim and its schedulers: {label: path '
           '[steps+1, 2]}."""',
           "    import math",
           "",
           "    import numpy as np",
           "    import torch",
           "",
           "    torch.set_default_dtype(torch.float64)",
           ""]
    data = surface.dataset
    out += _torch_loss(surface)
    if why:
        out.append(f"    # ({why})")
    out.append("    rows = {}")
    for o in rows:
        hp = {k: (tuple(v) if isinstance(v, list) else v) for k, v in o.hparams.items()}
        hp.update(OPTIMIZERS[o.name].torch_kwargs)
        kwargs = ", ".join(f"{k}={v!r}" for k, v in hp.items())
        sched = _torch_scheduler(o.schedule or scene.schedule, scene.steps)
        sigma = scene.noise if o.noise is None else o.noise
        out += [f"    p = torch.tensor([{x0!r}, {y0!r}], requires_grad=True)",
                f"    opt = torch.optim.{OPTIMIZERS[o.name].torch}([p], {kwargs})",
                "    base = opt.param_groups[0][\"lr\"]  # noqa: F841"
                if sched and "base" in sched else None,
                f"    rows[{o.label!r}] = (p, opt, {sched or 'None'}, {sigma!r}, [p.tolist()])"]
    out = [line for line in out if line is not None]
    noisy = any((scene.noise if o.noise is None else o.noise) for o in rows)
    if noisy:           # optviz's noise stream: one draw a step, the same for every row
        out.append(f"    rng = np.random.default_rng(np.random.SeedSequence({scene.seed}, "
                   "spawn_key=(0, 0)))")
    batch = scene.batch_size
    if batch is not None:
        out.append(f"    batches = np.random.default_rng(np.random.SeedSequence({scene.seed}, "
                   "spawn_key=(2, 0)))")
    out += [f"    for _ in range({scene.steps}):"]
    if noisy:
        out.append("        z = torch.from_numpy(rng.standard_normal(2))")
    if batch is not None:
        out.append(f"        idx = torch.from_numpy(batches.choice({data.n}, {batch}, "
                   "replace=False))")
    # a closure, as torch.optim's step() takes it (L-BFGS evaluates it more than once)
    out += ["        for p, opt, sched, sigma, path in rows.values():",
            "            def closure(p=p, opt=opt, sigma=sigma):",
            "                opt.zero_grad()",
            f"                value = loss(p[0], p[1]{', idx' if batch is not None else ''})",
            "                value.backward()"]
    if noisy:
        out.append("                p.grad += sigma * z")
    if scene.clip_norm is not None:
        out += ["                norm = math.sqrt(p.grad[0].item() ** 2 + p.grad[1].item() ** 2)",
                f"                p.grad *= min(1.0, {scene.clip_norm!r} / max(norm, 1e-300))"]
    out += ["                return value",
            "            opt.step(closure)",
            "            if sched is not None:",
            "                sched.step()",
            "            path.append(p.tolist())",
            "    return {label: np.array(row[-1]) for label, row in rows.items()}"]
    return out
