"""Figures as pure functions of (surface, run): plain Plotly figure dicts, no Dash.

Plain dicts, not ``go.Figure``: the page rebuilds these on every slider move, and
plotly's validation would cost more than the simulation. Numbers travel as Plotly's
base64 typed arrays (``{"dtype": "f4", "bdata": ...}``), float32: a quarter of the
size of JSON lists and exact to far below a pixel.

Trace layout of the main figure (assets/optviz.js relies on it)::

    0 empty (2-D; the contour is a graph of its own underneath) or the surface (3-D)
    1 minima    2 saddles    3 start (3-D; in 2-D the browser draws it from meta())
    4 + 3 i  row i: whole path, faint ("ghost")          \
    5 + 3 i  row i: path up to the current frame          } 3-D only; in 2-D the browser
    6 + 3 i  row i: current position                      /  draws these from meta()
"""
from __future__ import annotations

import math

import numpy as np

from ..engine import Run
from ..optimizers import OPTIMIZERS
from ..plots import (  # noqa: F401 - the figures' shared parts, used by the page too
    CONTOUR_COLORS,
    GRID,
    PALETTE,
    _float32,
    _floor,
    _grid,
    _layout_figure,
    _markers,
    _pack,
    _text,
    _transform,
    background_figure,
    display_loss,
    finite_range,
    row_color,
    surface_grid,
    typed,
    typed_rows,
)
from ..surfaces import Surface

__all__ = ["typed", "PALETTE", "row_color", "background_figure", "main_figure",
           "moving_traces", "side_figures",
           "meta", "data_figure", "data_meta",
           "FIRST_ROW_TRACE", "surface_grid", "display_loss"]

FIRST_ROW_TRACE = 4

def _z_of(surface: Surface, view: str):
    """Height of points in the 3-D view (None in 2-D): the grid's transform of L."""
    if view != "3d":
        return None
    zmin, zmax = finite_range(_grid(surface)[2])
    return lambda pts: _transform(surface.value(pts), zmin, zmax) + 0.02


def main_figure(surface: Surface, run: Run | None, colors: list[str], *,
                view: str = "2d") -> dict:
    """The plot the paths are drawn on: minima and saddles, and in 3-D the trajectories.

    2-D: transparent, over :func:`background_figure` on the same axes (trace 0 an empty
    placeholder); the paths, the start and the current positions are drawn by the
    browser on a canvas over it, from :func:`meta` (a Plotly redraw costs 50 ms to 1 s in
    software rendering, the canvas a few ms). 3-D: one figure, trace 0 the surface of
    the loss, then :func:`moving_traces`."""
    z_of = _z_of(surface, view)
    if view == "3d":
        xs, ys, _, zt = _grid(surface)
        # the 2-D contour's colours and its level lines on the surface, lit softly (the
        # default shading made it one dark blue sheet on a projector)
        lo, hi = float(np.nanmin(zt)), float(np.nanmax(zt))
        base = {"type": "surface", "x": typed(xs), "y": typed(ys), "z": typed(zt),
                "colorscale": CONTOUR_COLORS, "showscale": False, "opacity": 0.9,
                "hoverinfo": "none",
                "lighting": {"ambient": 0.8, "diffuse": 0.45, "specular": 0.05,
                             "roughness": 1.0},
                "contours": {"z": {"show": True, "start": lo, "end": hi,
                                   "size": (hi - lo) / 28 or 1, "width": 1,
                                   "color": "rgba(40,60,90,0.35)"}}}
    else:
        base = {"type": "scatter", "x": [], "y": [], "hoverinfo": "skip", "name": "",
                "showlegend": False}
    data = [base,
            _markers(surface.minima, "star", "#FFD700", "minimum", 16, z_of),
            _markers(surface.saddles, "x", "#7f0000", "saddle point", 12, z_of)]
    if view == "3d" and run is not None:        # (no run: the surface alone, blank_meta)
        data += moving_traces(surface, run, colors, view=view)
    fig = _layout_figure(data, surface, view)
    if view != "3d":                 # see-through, axes drawn by the background
        fig["layout"].update(paper_bgcolor="rgba(0,0,0,0)", plot_bgcolor="rgba(0,0,0,0)")
        for axis in ("xaxis", "yaxis"):
            fig["layout"][axis].update(showticklabels=False, ticks="",
                                       title={"text": ""}, showline=False)
    return fig


def moving_traces(surface: Surface, run: Run, colors: list[str], *, view: str = "3d"):
    """The 3-D traces that change with the run: the start marker (trace 3) and, per row,
    whole path, path so far and head (traces 4 + 3 i ...)."""
    z_of = _z_of(surface, view)
    three_d = z_of is not None
    data = [_markers(run.path[0, 0, 0], "circle-open", "#222222", "start", 14, z_of)]
    path = run.path[:, 0]                       # [rows, steps + 1, 2]
    for i, color in enumerate(colors):
        xy = path[i]
        line = {"type": "scatter3d" if three_d else "scatter", "mode": "lines",
                "x": typed(xy[:, 0]), "y": typed(xy[:, 1]), "hoverinfo": "skip",
                "showlegend": False}
        if three_d:
            line["z"] = typed(z_of(xy))
        # (3-D lines are thinner on the screen than 2-D ones of the same width)
        wide = 2 if three_d else 1
        ghost = {**line, "line": {"color": color, "width": 1.5 * wide}, "opacity": 0.5,
                 "name": run.labels[i] + " (whole path)"}
        progress = {**line, "line": {"color": color, "width": 3.5 * wide},
                    "name": run.labels[i], "hoverinfo": "name"}
        head = {**line, "mode": "markers", "x": [float(xy[-1, 0])], "y": [float(xy[-1, 1])],
                "marker": {"color": color, "size": 8 + 2 * wide,
                           "line": {"width": 2, "color": "white"}},
                "name": run.labels[i], "hoverinfo": "name"}
        head["z"] = [float(z_of(xy[-1:])[0])]
        data += [ghost, progress, head]
    return data


def _side(title, ys, colors, labels, ytype, steps, x_start=0, yrange=None):
    # a row constant over the run (a learning rate without schedule) is two points, not
    # one per step (the all-optimizers race: 90 KB less to send and to draw)
    flat = [len(y) > 2 and bool(np.all(y == y[0])) for y in ys]
    data = [{"type": "scatter", "mode": "lines", "name": label, "hoverinfo": "name+y",
             "line": {"color": c, "width": 2},
             **({"x": [x_start, x_start + len(y) - 1], "y": [float(y[0])] * 2} if f else
                {"x0": x_start, "dx": 1, "y": t})}
            for y, t, f, c, label in zip(ys, typed_rows(ys), flat, colors, labels)]
    layout = {"margin": {"l": 55, "r": 10, "t": 30, "b": 35}, "showlegend": False,
              "title": {"text": _text(title), "font": {"size": 14}, "x": 0.02},
              "xaxis": {"title": {"text": "step"}, "range": [0, steps]},
              "yaxis": {"type": ytype, "exponentformat": "power",
                        **({"range": yrange, "autorange": False} if yrange else {})},
              "font": {"size": 13}, "paper_bgcolor": "white", "plot_bgcolor": "#fafafa"}
    return {"data": data, "layout": layout}


def _loss_range(surface: Surface, loss: np.ndarray) -> list[float]:
    """The y range of a linear loss plot (a surface without a minimum, like the saddle,
    whose loss falls without bound): the losses, but no further than the loss over the
    contour plot's box, so a path that leaves the box leaves this plot too and the
    others stay readable (on the saddle, one escaping row at L = -2e11 squashed GD's
    stall at 0 and Adam's descent to -9 into one flat line). The starts always show."""
    z = _grid(surface)[2]
    z = z[np.isfinite(z)]                        # (a formula may be undefined in places)
    lo, hi = float(loss.min()), float(loss.max())
    if z.size:
        lo, hi = max(lo, float(z.min())), min(hi, float(z.max()))
    lo, hi = min(lo, float(loss[:, 0].min())), max(hi, float(loss[:, 0].max()))
    pad = 0.05 * (hi - lo) or 1.0
    return [lo - pad, hi + pad]


def side_figures(surface: Surface, run: Run, colors: list[str]) -> tuple[dict, dict, dict]:
    """Loss (gap to the minimum, log; else L itself, see _loss_range), learning rate and
    gradient norm against the step."""
    steps = run.scene.steps
    loss, loss_title, loss_axis = display_loss(surface, run.loss[:, 0])
    loss_range = _loss_range(surface, loss) if loss_axis == "linear" else None
    g = np.clip(run.grad[:, 0], -1e150, 1e150)          # the norm must not overflow
    gnorm = np.sqrt(g[..., 0] ** 2 + g[..., 1] ** 2)
    labels = run.labels
    return (_side(f"loss {loss_title}", loss, colors, labels, loss_axis, steps,
                  yrange=loss_range),
            _side("learning rate α_t", run.lr, colors, labels, "linear", steps,
                  yrange=[0, 1.08 * float(run.lr.max())]),
            _side("gradient norm ‖g‖ (as seen, noise included)", np.maximum(gnorm, 1e-16),
                  colors, labels, "log", steps, x_start=0))


def meta(run: Run, uids: list[str], colors: list[str], *, inspect: bool = False,
         check: bool = False) -> dict:
    """What the browser draws and the legend shows: per row its path (float32 typed
    arrays), label, colour and divergence; the start; the steps. With ``inspect`` (the
    run recorded its state), per row also the gradient seen at each update ``g`` and the
    state ``m``, ``v``, ``rate`` after it (x, y interleaved per step), ``has`` naming
    those the row keeps, ``shows`` what its optimizer shows beyond them (ASGD's
    ``average``: a marker on the plot too). With ``check``, per row the gradient check at
    every frame:
    ``ga`` analytic, ``gf`` finite difference (x, y interleaved), ``rel`` relative error."""
    loss = run.loss[:, 0]
    path = run.path[:, 0]
    surface = run.scene.get_surface()
    floor = _floor(surface)
    out = {"steps": run.scene.steps, "loss_offset": floor or 0.0, "data": data_meta(surface),
            "start": [float(v) for v in path[0, 0]],
            # minima and saddles: the legend keeps out of their way (assets/optviz.js)
            "marks": [[float(a), float(b)] for a, b in (*surface.minima, *surface.saddles)],
            "rows": meta_rows(uids, run.labels, colors, run.diverged_at[:, 0], path, loss)}
    if check:
        out["check"] = True
        for i, row in enumerate(out["rows"]):
            analytic, fd, rel = surface.gradient_check(path[i])
            row.update(ga=typed(analytic), gf=typed(fd), rel=typed(rel))
    if inspect and run.state is not None:
        out["inspect"] = True
        for i, row in enumerate(out["rows"]):
            row["g"] = typed(run.grad[i, 0])
            row["has"] = [k for k, v in run.state.items() if not np.isnan(v[i, 0]).all()]
            for k in row["has"]:
                row[k] = typed(run.state[k][i, 0])
            # what the row's optimizer shows beyond m, v and the rate: {name: what it is}
            row["shows"] = {k: text for k, text in
                            OPTIMIZERS[run.scene.optimizers[i].name].shows.items()
                            if k in row["has"]}
    return out


def meta_rows(uids, labels, colors, diverged, path, loss) -> list[dict]:
    """:func:`meta`'s rows: each row's path ``[rows, steps + 1, 2]`` and loss as float32
    typed arrays, its label, colour, divergence and last loss."""
    finite = lambda v: float(v) if math.isfinite(v) else None
    return [{"uid": u, "label": lbl, "color": c, "diverged_at": int(d),
             "final_loss": finite(lo_[-1]), "x": x, "y": y, "loss": lo}
            for u, lbl, c, d, lo_, x, y, lo in zip(
                uids, labels, colors, diverged, loss, typed_rows(path[..., 0]),
                typed_rows(path[..., 1]), typed_rows(loss))]


def blank_meta(surface: Surface, start) -> dict:
    """:func:`meta` of no run: the surface's marks and the start, no rows (a setup refused
    for its cost on a surface not yet shown: its lesson and contour, and no paths)."""
    return {"steps": 0, "loss_offset": _floor(surface) or 0.0, "data": data_meta(surface),
            "start": [float(v) for v in start],
            "marks": [[float(a), float(b)] for a, b in (*surface.minima, *surface.saddles)],
            "rows": []}


def blank_side(steps: int) -> tuple[dict, dict, dict]:
    """:func:`side_figures` with no rows (titles and axes only)."""
    return tuple(_side(title, [], [], [], axis, steps) for title, axis in (
        ("loss", "linear"), ("learning rate α_t", "linear"),
        ("gradient norm ‖g‖ (as seen, noise included)", "log")))


def data_figure(surface: Surface, colors: list[str]) -> dict | None:
    """A data surface's samples and each row's fit (None for other surfaces). Trace 0
    (and 1: the second class) are the data; then one fit per row, which the browser
    redraws at the current frame from the row's weights (meta["data"])."""
    d = surface.dataset
    if d is None:
        return None
    lay = {"margin": {"l": 45, "r": 10, "t": 30, "b": 35}, "showlegend": False,
           "font": {"size": 13}, "paper_bgcolor": "white", "plot_bgcolor": "#fafafa",
           "title": {"text": "data and each row's fit at this step", "font": {"size": 14},
                     "x": 0.02}}
    dots = {"type": "scatter", "mode": "markers", "hoverinfo": "skip",
            "marker": {"size": 6, "color": "#555", "opacity": 0.7}}
    if d.model == "logistic":
        data = [{**dots, "x": d.x[d.y == c, 0].tolist(), "y": d.x[d.y == c, 1].tolist(),
                 "marker": {**dots["marker"], "color": col, "symbol": sym}}
                for c, col, sym in ((0, "#888", "circle-open"), (1, "#222", "x"))]
        lo, hi = float(d.x.min()) - 0.5, float(d.x.max()) + 0.5
        lay.update(xaxis={"range": [lo, hi], "title": {"text": "x₁"}},
                   yaxis={"range": [lo, hi], "title": {"text": "x₂"}})
    else:
        data = [{**dots, "x": d.x.tolist(), "y": d.y.tolist()}]
        pad = 0.1 * float(d.y.max() - d.y.min())
        lay.update(xaxis={"title": {"text": "x"}},
                   yaxis={"title": {"text": "y"}, "autorange": False,
                          "range": [float(d.y.min()) - pad, float(d.y.max()) + pad]})
    data += [{"type": "scatter", "mode": "lines", "x": [], "y": [], "hoverinfo": "skip",
              "line": {"color": c, "width": 2.5}} for c in colors]
    return {"data": data, "layout": lay}


def data_meta(surface: Surface) -> dict | None:
    """What the browser needs to draw the fits: the model and the x grid."""
    d = surface.dataset
    if d is None:
        return None
    if d.model == "logistic":
        return {"model": "logistic", "reach": float(np.abs(d.x).max()) + 1, "first": 2}
    xs = np.linspace(float(d.x.min()), float(d.x.max()), 48)
    return {"model": d.model, "xs": xs.tolist(), "first": 1}
