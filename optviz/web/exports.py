"""A run as files: CSV (one line per row and step) and JSON (the scene plus per-row
arrays). Plain functions of a Run; the page's download buttons call them."""
from __future__ import annotations

import csv
import io
import json

import numpy as np

from ..engine import Run
from ..plots import animation

__all__ = ["run_csv", "run_json", "run_html", "run_python", "CSV_COLUMNS"]

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


def run_html(run: Run, colors: list[str], frames: int | None = None) -> str:
    """The run as one standalone HTML file (Plotly inlined: no network needed) whose
    animation plays offline, for slides (:func:`optviz.plots.animation`)."""
    import plotly.io as pio
    return pio.to_html(animation(run, colors, frames), include_plotlyjs=True,
                       full_html=True, validate=False, auto_play=False,
                       config={"displaylogo": False})


def run_python(scene) -> str:
    """A short script that reproduces the run with optviz: the Scene written out in full
    (every hyperparameter, floats exactly as the page used them), simulate, and a summary
    when run as a program. Its paths equal the page's bit for bit (the same engine)."""
    from .. import __version__
    surface = scene.get_surface()
    lines = [f'"""optviz {__version__}: {surface.label}, {", ".join(scene.labels)}.',
             "",
             "Reproduces the page's run exactly: pip install optviz (NumPy only), then run",
             "this file. In a notebook, run.figure() draws it and run.to_frame() tabulates",
             'it (Plotly and pandas)."""',
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
              "",
              'if __name__ == "__main__":',
              "    for label, (x, y), loss in zip(run.labels, run.path[:, 0, -1], "
              "run.loss[:, 0, -1]):",
              '        print(f"{label}: ends at ({x:.6g}, {y:.6g}), L = {loss:.6g}")',
              ""]
    return "\n".join(lines)

