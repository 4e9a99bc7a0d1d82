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

import base64
import functools
import math

import numpy as np

from ..engine import Run
from ..surfaces import Surface, get_surface

__all__ = ["typed", "PALETTE", "row_color", "background_figure", "main_figure",
           "moving_traces", "side_figures",
           "meta", "gradient_check", "data_figure", "data_meta",
           "FIRST_ROW_TRACE", "surface_grid", "display_loss"]

FIRST_ROW_TRACE = 4
GRID = 121

#: Okabe-Ito (colour-blind safe) for the lecture's six, then Paul Tol's "muted".
PALETTE = {
    "gd": "#0072B2", "momentum": "#E69F00", "nesterov": "#009E73", "adagrad": "#CC79A7",
    "rmsprop": "#D55E00", "adam": "#000000", "sgd": "#56B4E9", "adamw": "#332288",
    "adam_nobias": "#88CCEE", "adamax": "#117733", "nadam": "#999933", "radam": "#882255",
    "adadelta": "#AA4499", "sign": "#44AA99", "normalized": "#DDCC77", "random_search": "#CC6677",
    "newton": "#6b6b6b",
}
_SPARE = ["#AA4499", "#44AA99", "#882255", "#117733", "#332288", "#999933", "#CC6677",
          "#88CCEE", "#DDCC77", "#56B4E9"]


def row_color(uid: str) -> str:
    """A row's colour: its optimizer's, or for a copy (``adam~2``) the next spare one."""
    name, _, copy = uid.partition("~")
    if not copy:
        return PALETTE.get(name, "#444444")
    k = int(copy) if copy.isdigit() else 0
    return _SPARE[(list(PALETTE).index(name) * 3 + k) % len(_SPARE)] \
        if name in PALETTE else _SPARE[k % len(_SPARE)]


def _float32(a) -> np.ndarray:
    """``a`` as float32, clipped to +-1e30 first: a loss or gradient just before a
    divergence can be finite in float64 and still too large for float32, and the browser
    must never see inf or NaN."""
    a = np.asarray(a, dtype=float)
    if not np.isfinite(a).all():
        a = np.nan_to_num(a, nan=0.0)
    return np.clip(a, -1e30, 1e30).astype("<f4")


def _pack(a32) -> dict:
    return {"dtype": "f4", "bdata": base64.b64encode(a32.tobytes()).decode("ascii")}


def typed(a) -> dict:
    """Plotly's base64 typed array of ``a`` as float32 (see _float32). A 2-D array says
    its shape: without it Plotly reads a grid's z as one long row (the 3-D surface was not
    drawn at all, and the 2-D contour was interpolated from the grid's diagonal)."""
    a32 = _float32(a)
    out = _pack(a32)
    if a32.ndim == 2:
        out["shape"] = f"{a32.shape[0]},{a32.shape[1]}"
    return out


def typed_rows(a) -> list[dict]:
    """``[typed(row) for row in a]``, converted in one pass (a response carries ~40)."""
    return [_pack(row) for row in _float32(a)]


def _text(s: str) -> str:
    """Figure text with its non-ASCII characters as numeric entities (``w₁`` ->
    ``w&#8321;``), which plotly.js draws as the characters. Why: Dash sends every response
    through plotly's JSON encoder, which escapes characters in the whole text and does so
    2.3x slower once a single character is not ASCII (0.44 against 0.19 ms on a
    full page answer). Not for 3-D axis titles: plotly.js shows entities there as typed."""
    return s.encode("ascii", "xmlcharrefreplace").decode("ascii")


def _floor(surface: Surface) -> float | None:
    """L*: the lowest known value (global minimum), used to plot the loss gap on log axes;
    None where the surface has no minimum (saddle)."""
    if not surface.minima:
        return None
    return float(min(surface.value(m) for m in surface.minima))


def surface_grid(surface: Surface, n: int = GRID):
    """``xs[n], ys[n], z[n, n]`` over the view box, and ``zt`` = log10(z - zmin + delta):
    contours of zt are spaced so that narrow valleys and flat plateaus both show."""
    x0, x1, y0, y1 = surface.view
    xs, ys = np.linspace(x0, x1, n), np.linspace(y0, y1, n)
    X, Y = np.meshgrid(xs, ys)
    z = surface.value_xy(X, Y)
    zt = _transform(z, float(z.min()), float(z.max()))
    return xs, ys, z, zt


def _transform(z, zmin, zmax):
    delta = 1e-3 * (zmax - zmin) + 1e-12
    return np.log10(np.maximum(z - zmin, 0) + delta)


def display_loss(surface: Surface, loss: np.ndarray):
    """What the loss plot shows: ``L - L*`` (log axis) where the minimum is known, else L."""
    floor = _floor(surface)
    if floor is None:
        return loss, "L", "linear"
    return np.maximum(loss - floor, 1e-16), "L − L*", "log"


@functools.lru_cache(maxsize=64)
def _grid_cached(name: str, bound: tuple):
    return surface_grid(get_surface(name, dict(bound)))


def _grid(surface: Surface):
    return _grid_cached(surface.name, tuple(sorted(surface.bound.items())))


def _markers(points, symbol, color, name, size, z_of=None) -> dict:
    pts = np.asarray(points, dtype=float).reshape(-1, 2)
    t = {"type": "scatter", "mode": "markers", "name": name,
         "x": pts[:, 0].tolist(), "y": pts[:, 1].tolist(), "hoverinfo": "name",
         "marker": {"symbol": symbol, "size": size, "color": color,
                    "line": {"width": 1.5, "color": "white"}}}
    if z_of is not None:
        t.update(type="scatter3d", z=z_of(pts).tolist() if len(pts) else [])
        t["marker"].update(size=size // 2,
                           symbol={"star": "diamond", "x": "x"}.get(symbol, "circle"))
    return t


def _z_of(surface: Surface, view: str):
    """Height of points in the 3-D view (None in 2-D): the grid's transform of L."""
    if view != "3d":
        return None
    _, _, z, _ = _grid(surface)
    zmin, zmax = float(z.min()), float(z.max())
    return lambda pts: _transform(surface.value(pts), zmin, zmax) + 0.02


def background_figure(surface: Surface) -> dict:
    """The 2-D contour with the axes: a graph of its own under the trajectories, so that
    a new run redraws only the paths (a filled contour costs Plotly ~1 s to redraw in
    software rendering, the paths ~50 ms)."""
    xs, ys, _, zt = _grid(surface)
    contour = {"type": "contour", "x": typed(xs), "y": typed(ys), "z": typed(zt),
               "ncontours": 28, "colorscale": [[0, "#f7fbff"], [0.5, "#c6dbef"],
                                               [1, "#6baed6"]],
               "showscale": False, "hoverinfo": "none",
               "line": {"width": 0.6, "color": "rgba(40,60,90,0.35)"},
               "contours": {"coloring": "fill"}}
    return _layout_figure([contour], surface, "2d")


def main_figure(surface: Surface, run: Run, colors: list[str], *, view: str = "2d") -> dict:
    """The plot the paths are drawn on: minima and saddles, and in 3-D the trajectories.

    2-D: transparent, over :func:`background_figure` on the same axes (trace 0 an empty
    placeholder); the paths, the start and the current positions are drawn by the
    browser on a canvas over it, from :func:`meta` (a Plotly redraw costs 50 ms to 1 s in
    software rendering, the canvas a few ms). 3-D: one figure, trace 0 the surface of
    the loss, then :func:`moving_traces`."""
    z_of = _z_of(surface, view)
    if view == "3d":
        xs, ys, _, zt = _grid(surface)
        base = {"type": "surface", "x": typed(xs), "y": typed(ys), "z": typed(zt),
                "colorscale": "Blues", "reversescale": True, "showscale": False,
                "opacity": 0.85, "hoverinfo": "none", "contours": {"z": {"show": False}}}
    else:
        base = {"type": "scatter", "x": [], "y": [], "hoverinfo": "skip", "name": "",
                "showlegend": False}
    data = [base,
            _markers(surface.minima, "star", "#FFD700", "minimum", 16, z_of),
            _markers(surface.saddles, "x", "#7f0000", "saddle point", 12, z_of)]
    if view == "3d":
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
        ghost = {**line, "line": {"color": color, "width": 1.5}, "opacity": 0.5,
                 "name": run.labels[i] + " (whole path)"}
        progress = {**line, "line": {"color": color, "width": 3.5}, "name": run.labels[i],
                    "hoverinfo": "name"}
        head = {**line, "mode": "markers", "x": [float(xy[-1, 0])], "y": [float(xy[-1, 1])],
                "marker": {"color": color, "size": 8, "line": {"width": 2, "color": "white"}},
                "name": run.labels[i], "hoverinfo": "name"}
        head["z"] = [float(z_of(xy[-1:])[0])]
        data += [ghost, progress, head]
    return data


def _layout_figure(data, surface, view):
    x0, x1, y0, y1 = surface.view
    three_d = view == "3d"
    layout = {"margin": {"l": 50, "r": 10, "t": 10, "b": 40}, "showlegend": False,
              "uirevision": f"{surface.name}-{view}", "clickmode": "event",
              "paper_bgcolor": "white", "plot_bgcolor": "white", "hovermode": "closest",
              "font": {"size": 15}}
    if three_d:
        # (plain text: plotly's 3-D axis titles show entities as typed, see _text)
        layout["scene"] = {"xaxis": {"range": [x0, x1], "title": {"text": "x (w₁)"}},
                           "yaxis": {"range": [y0, y1], "title": {"text": "y (w₂)"}},
                           "zaxis": {"title": {"text": "log₁₀ L (shifted)"}},
                           "aspectmode": "manual", "aspectratio": {"x": 1, "y": 1, "z": 0.6}}
    else:
        layout["xaxis"] = {"range": [x0, x1], "title": {"text": _text("x (w₁)")},
                           "fixedrange": False, "showgrid": False, "zeroline": False,
                           "autorange": False}
        layout["yaxis"] = {"range": [y0, y1], "title": {"text": _text("y (w₂)")},
                           "showgrid": False, "zeroline": False, "autorange": False}
    return {"data": data, "layout": layout}


def _side(title, ys, colors, labels, ytype, steps, x_start=0, yrange=None):
    data = [{"type": "scatter", "mode": "lines", "x0": x_start, "dx": 1, "y": y,
             "line": {"color": c, "width": 2}, "name": label, "hoverinfo": "name+y"}
            for y, c, label in zip(typed_rows(ys), colors, labels)]
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


def gradient_check(surface: Surface, points) -> tuple:
    """The lectures' gradient check at ``points`` [..., 2]: the analytic gradient, the
    centred finite difference (L(w + h e_k) - L(w - h e_k)) / 2h with h = 1e-6 (1 + |w_k|),
    and their relative error |a - f| / max(|a|, |f|, 1e-6 (1 + |L|)) (Euclidean norms; the
    last term is about what a centred difference can resolve, so a converged point does
    not show round-off as a large error)."""
    p = np.asarray(points, dtype=float)
    with np.errstate(all="ignore"):
        analytic = surface.grad(p)
        fd = np.empty_like(p)
        for k in range(2):
            h = 1e-6 * (1 + np.abs(p[..., k]))
            step = np.zeros_like(p)
            step[..., k] = h
            fd[..., k] = (surface.value(p + step) - surface.value(p - step)) / (2 * h)
        diff = np.linalg.norm(analytic - fd, axis=-1)
        # near a minimum both are ~0: measure against what a difference can resolve
        floor = 1e-6 * (1 + np.abs(surface.value(p)))
        scale = np.maximum(np.maximum(np.linalg.norm(analytic, axis=-1),
                                      np.linalg.norm(fd, axis=-1)), floor)
    return analytic, fd, diff / scale


def meta(run: Run, uids: list[str], colors: list[str], *, inspect: bool = False,
         check: bool = False) -> dict:
    """What the browser draws and the legend shows: per row its path (float32 typed
    arrays), label, colour and divergence; the start; the steps. With ``inspect`` (the
    run recorded its state), per row also the gradient seen at each update ``g`` and the
    state ``m``, ``v``, ``rate`` after it (x, y interleaved per step), ``has`` naming
    those the row keeps. With ``check``, per row the gradient check at every frame:
    ``ga`` analytic, ``gf`` finite difference (x, y interleaved), ``rel`` relative error."""
    loss = run.loss[:, 0]
    path = run.path[:, 0]
    finite = lambda v: float(v) if math.isfinite(v) else None
    surface = run.scene.get_surface()
    floor = _floor(surface)
    out = {"steps": run.scene.steps, "loss_offset": floor or 0.0, "data": data_meta(surface),
            "start": [float(v) for v in path[0, 0]],
            # minima and saddles: the legend keeps out of their way (assets/optviz.js)
            "marks": [[float(a), float(b)] for a, b in (*surface.minima, *surface.saddles)],
            "rows": [{"uid": u, "label": lbl, "color": c, "diverged_at": int(d),
                      "final_loss": finite(loss[i, -1]), "x": x, "y": y, "loss": lo}
                     for i, (u, lbl, c, d, x, y, lo) in enumerate(zip(
                         uids, run.labels, colors, run.diverged_at[:, 0],
                         typed_rows(path[..., 0]), typed_rows(path[..., 1]),
                         typed_rows(loss)))]}
    if check:
        out["check"] = True
        for i, row in enumerate(out["rows"]):
            analytic, fd, rel = gradient_check(surface, path[i])
            row.update(ga=typed(analytic), gf=typed(fd), rel=typed(rel))
    if inspect and run.state is not None:
        out["inspect"] = True
        for i, row in enumerate(out["rows"]):
            row["g"] = typed(run.grad[i, 0])
            row["has"] = [k for k, v in run.state.items() if not np.isnan(v[i, 0]).all()]
            for k in row["has"]:
                row[k] = typed(run.state[k][i, 0])
    return out


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
