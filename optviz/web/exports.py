"""A run as files: CSV (one line per row and step) and JSON (the scene plus per-row
arrays). Plain functions of a Run; the page's download buttons call them."""
from __future__ import annotations

import csv
import io
import json

import numpy as np

from ..engine import Run

__all__ = ["run_csv", "run_json", "run_html", "html_figure", "CSV_COLUMNS"]

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


#: What an HTML export draws at most, whatever the run's size: points of each row's
#: faint whole path, frames, and points of all the frames' trails together (the trails
#: are the whole path thinned). A 24-row run of 5000 steps: ~1 MB, not 2.7 GB of worker
#: memory and a timeout.
HTML_PATH_POINTS = 1000
HTML_FRAMES = 120
HTML_TRAIL_POINTS = 200_000


def _thinned(n: int, k: int) -> np.ndarray:
    """At most ``k`` indices spread evenly over ``range(n)``, first and last included."""
    return np.unique(np.linspace(0, n - 1, min(n, k)).round().astype(int))


def run_html(run: Run, colors: list[str], frames: int = HTML_FRAMES) -> str:
    """The run as one standalone HTML file (Plotly inlined: no network needed) whose
    animation plays offline, for slides (:func:`html_figure`)."""
    import plotly.io as pio
    return pio.to_html(html_figure(run, colors, frames), include_plotlyjs=True,
                       full_html=True, validate=False, auto_play=False,
                       config={"displaylogo": False})


def html_figure(run: Run, colors: list[str], frames: int = HTML_FRAMES) -> dict:
    """The HTML export's figure: the contour, every row's whole path (faint), the path so
    far and its head, a play button and a step slider (at most ``frames`` frames, evenly
    spaced over the steps). Bounded whatever the run (HTML_*): long paths are drawn
    thinned, single precision."""
    from . import figures

    surface = run.scene.get_surface()
    fig = figures.background_figure(surface)
    data = list(fig["data"])
    data.append(figures._markers(surface.minima, "star", "#FFD700", "minimum", 16))
    first = len(data)
    steps = run.scene.steps
    rows = len(run.labels)
    ks = _thinned(steps + 1, min(frames, HTML_FRAMES) + 1)
    path = run.path[:, 0].astype(np.float32)
    whole = _thinned(steps + 1, HTML_PATH_POINTS)
    trail = _thinned(steps + 1, max(20, HTML_TRAIL_POINTS // (rows * len(ks))))
    for i, (label, color) in enumerate(zip(run.labels, colors)):
        xy = path[i, whole]
        data.append({"type": "scatter", "mode": "lines", "x": xy[:, 0], "y": xy[:, 1],
                     "line": {"color": color, "width": 1.5},
                     "opacity": 0.4, "hoverinfo": "skip", "showlegend": False})
        data.append({"type": "scatter", "mode": "lines+markers", "name": label,
                     "x": [float(path[i, 0, 0])], "y": [float(path[i, 0, 1])],
                     "line": {"color": color, "width": 3.5},
                     "marker": {"size": [10], "color": color}})
    moving = [first + 2 * i + 1 for i in range(rows)]
    frame_list = []
    for k in ks:
        idx = np.append(trail[trail < k], k)
        frame_list.append({"name": str(k), "traces": moving, "data": [
            {"x": path[i, idx, 0], "y": path[i, idx, 1],
             "marker": {"size": [0] * (len(idx) - 1) + [10]}} for i in range(rows)]})
    layout = dict(fig["layout"])
    layout.update(
        showlegend=True, legend={"x": 1.02, "y": 1}, margin={"l": 50, "r": 10, "t": 40, "b": 80},
        title={"text": f"{surface.label}: {', '.join(run.labels)}", "x": 0.02},
        updatemenus=[{"type": "buttons", "x": 0, "y": -0.12, "xanchor": "left",
                      "buttons": [{"label": "▶ play", "method": "animate",
                                   "args": [None, {"frame": {"duration": 40, "redraw": False},
                                                   "transition": {"duration": 0},
                                                   "fromcurrent": True}]},
                                  {"label": "❚❚ pause", "method": "animate",
                                   "args": [[None], {"mode": "immediate",
                                                     "frame": {"duration": 0}}]}]}],
        sliders=[{"x": 0.15, "y": -0.1, "len": 0.85, "currentvalue": {"prefix": "step "},
                  "steps": [{"label": str(k), "method": "animate",
                             "args": [[str(k)], {"mode": "immediate",
                                                 "frame": {"duration": 0, "redraw": False}}]}
                            for k in ks]}])
    return {"data": data, "layout": layout, "frames": frame_list}
