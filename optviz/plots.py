"""Plotly figures of surfaces and runs as plain dicts (NumPy only; Plotly itself only to
wrap one as a ``go.Figure``): the contour of a surface, its minima, every row's path and
an animation of them, for notebooks (:meth:`optviz.Run.figure`) and for the page, whose
own figures (optviz.web.figures) are built from these.

Plain dicts, not ``go.Figure``: the page rebuilds figures on every slider move, and
plotly's validation would cost more than the simulation. Numbers travel as Plotly's
base64 typed arrays (``{"dtype": "f4", "bdata": ...}``), float32: a quarter of the
size of JSON lists and exact to far below a pixel.
"""
from __future__ import annotations

import base64
import functools
import math
from typing import TYPE_CHECKING

import numpy as np

from .cost import UNIT_SECONDS
from .optimizers import OPTIMIZERS
from .scene import DEFAULT_OPTIMIZERS
from .surfaces import Surface, get_surface

if TYPE_CHECKING:                  # (the engine imports this module, not the other way)
    from .engine import Run

__all__ = ["typed", "PALETTE", "row_color", "background_figure", "surface_grid",
           "display_loss", "animation", "run_figure", "network_figure"]

GRID = 121
#: the fewest grid points a side, and the time a contour's values may take
MIN_GRID = 31
GRID_SECONDS = 0.5

#: Each optimizer's colour, from its registry entry (Okabe-Ito, colour-blind safe, for the
#: lecture's six, then Paul Tol's "muted").
PALETTE = {name: o.color for name, o in OPTIMIZERS.items()}
#: the order copies take spare colours in: the lecture's six first (their copies differ)
_ORDER = list(DEFAULT_OPTIMIZERS) + [n for n in OPTIMIZERS if n not in DEFAULT_OPTIMIZERS]
_SPARE = ["#AA4499", "#44AA99", "#882255", "#117733", "#332288", "#999933", "#CC6677",
          "#88CCEE", "#DDCC77", "#56B4E9"]


def row_color(uid: str) -> str:
    """A row's colour: its optimizer's, or for a copy (``adam~2``) the next spare one."""
    name, _, copy = uid.partition("~")
    if not copy:
        return PALETTE.get(name, "#444444")
    k = int(copy) if copy.isdigit() else 0
    return _SPARE[(_ORDER.index(name) * 3 + k) % len(_SPARE)] \
        if name in _ORDER else _SPARE[k % len(_SPARE)]


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
    return surface.min_value


def grid_seconds(surface: Surface, n: int) -> float:
    """What the values of an n × n contour grid of ``surface`` cost (optviz.cost's units)."""
    return n * n * surface.cost.value * UNIT_SECONDS


def grid_size(surface: Surface, seconds: float = GRID_SECONDS) -> int:
    """The contour grid's side for ``surface``: GRID, or fewer points (down to MIN_GRID)
    where its values cost more than ``seconds`` (a network's slice: a forward pass of
    the whole network a point)."""
    if grid_seconds(surface, GRID) <= seconds:
        return GRID
    return max(MIN_GRID, int(math.sqrt(seconds / grid_seconds(surface, 1))))


def surface_grid(surface: Surface, n: int | None = None):
    """``xs[n], ys[n], z[n, n]`` over the view box (n: :func:`grid_size`), and ``zt`` =
    log10(z - zmin + delta): contours of zt are spaced so that narrow valleys and flat
    plateaus both show."""
    n = grid_size(surface) if n is None else n
    x0, x1, y0, y1 = surface.view
    xs, ys = np.linspace(x0, x1, n), np.linspace(y0, y1, n)
    X, Y = np.meshgrid(xs, ys)
    z = surface.value_xy(X, Y)
    zt = _transform(z, *finite_range(z))
    return xs, ys, z, zt


def finite_range(z) -> tuple[float, float]:
    """(min, max) of the finite values of ``z``; (0, 1) if there are none."""
    finite = np.asarray(z, dtype=float)[np.isfinite(z)]
    if not finite.size:
        return 0.0, 1.0
    return float(finite.min()), float(finite.max())


def _transform(z, zmin, zmax):
    # (a formula may overflow or leave its domain in part of its box: those points are
    # drawn as the highest level, not as inf or NaN)
    z = np.nan_to_num(z, nan=zmax, posinf=zmax, neginf=zmin)
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


#: The loss's colours, light at the bottom: the 2-D contour and the 3-D surface
CONTOUR_COLORS = [[0, "#f7fbff"], [0.5, "#c6dbef"], [1, "#6baed6"]]


def background_figure(surface: Surface, grid=None) -> dict:
    """The 2-D contour with the axes: a graph of its own under the trajectories, so that
    a new run redraws only the paths (a filled contour costs Plotly ~1 s to redraw in
    software rendering, the paths ~50 ms). ``grid``: :func:`surface_grid`'s, for a
    surface no name reaches (the plane of a network's training)."""
    xs, ys, _, zt = _grid(surface) if grid is None else grid
    contour = {"type": "contour", "x": typed(xs), "y": typed(ys), "z": typed(zt),
               "ncontours": 28, "colorscale": CONTOUR_COLORS,
               "showscale": False, "hoverinfo": "none",
               "line": {"width": 0.6, "color": "rgba(40,60,90,0.35)"},
               "contours": {"coloring": "fill"}}
    return _layout_figure([contour], surface, "2d")


def _layout_figure(data, surface, view):
    x0, x1, y0, y1 = surface.view
    three_d = view == "3d"
    layout = {"margin": {"l": 50, "r": 10, "t": 10, "b": 40}, "showlegend": False,
              "uirevision": f"{surface.name}-{view}", "clickmode": "event",
              "paper_bgcolor": "white", "plot_bgcolor": "white", "hovermode": "closest",
              "font": {"size": 15}}
    if three_d:
        # (plain text: plotly's 3-D axis titles show entities as typed, see _text)
        # Readable on a projector: one unit of x is one unit of y here too, few large
        # ticks, seen from a little above the start's side; the scene leaves the
        # plot's right quarter to the legend (assets/optviz.js placeLegend)
        axis = {"nticks": 5, "tickfont": {"size": 13}, "title": {"font": {"size": 15}},
                "backgroundcolor": "white", "gridcolor": "#dde3ea"}
        ratio = min(max((y1 - y0) / (x1 - x0), 0.35), 2.0)
        layout["scene"] = {"xaxis": {**axis, "range": [x0, x1],
                                     "title": {"text": surface.axes[0], "font": {"size": 15}}},
                           "yaxis": {**axis, "range": [y0, y1],
                                     "title": {"text": surface.axes[1], "font": {"size": 15}}},
                           "zaxis": {**axis, "nticks": 4,
                                     "title": {"text": "log₁₀ L", "font": {"size": 15}}},
                           "aspectmode": "manual",
                           "aspectratio": {"x": 1.25, "y": 1.25 * ratio, "z": 0.55},
                           "camera": {"eye": {"x": -1.0, "y": -1.65, "z": 1.05}},
                           "domain": {"x": [0, 0.74], "y": [0, 1]}}
        layout["margin"] = {"l": 0, "r": 0, "t": 0, "b": 0}
    else:
        # one unit of x is one unit of y (gradients look perpendicular to the contours,
        # a round bowl looks round): the plot area takes the view box's shape
        layout["xaxis"] = {"range": [x0, x1], "title": {"text": _text(surface.axes[0])},
                           "fixedrange": False, "showgrid": False, "zeroline": False,
                           "autorange": False, "constrain": "domain"}
        layout["yaxis"] = {"range": [y0, y1], "title": {"text": _text(surface.axes[1])},
                           "showgrid": False, "zeroline": False, "autorange": False,
                           "scaleanchor": "x", "scaleratio": 1, "constrain": "domain"}
    return {"data": data, "layout": layout}


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


def animation(run: Run, colors: list[str] | None = None, frames: int | None = None) -> dict:
    """The run as an animated figure (a dict): the contour, the minima, every row's whole
    path (faint), the path so far and its head, a play button and a step slider (at most
    ``frames`` frames, default HTML_FRAMES, evenly spaced over the steps; the first start
    of each row). ``colors``: one a row (default: each optimizer's). Bounded whatever the
    run (HTML_*): long paths are drawn thinned, single precision."""
    surface = run.scene.get_surface()
    if colors is None:
        colors = [row_color(o.name) for o in run.scene.optimizers]
    frames = HTML_FRAMES if frames is None else frames
    fig = background_figure(surface)
    # The filled contour as a picture under the axes, not a contour trace: Plotly.animate
    # with redraw off (what keeps an animation smooth) erases contour and heatmap traces
    # at the first frame (plotly.js #4491, plotly.py #2151). Trace 0 stays, empty.
    data = [{"type": "scatter", "x": [], "y": [], "hoverinfo": "skip", "showlegend": False}]
    data.append(_markers(surface.minima, "star", "#FFD700", "minimum", 16))
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
    x0, x1, y0, y1 = surface.view
    layout["images"] = [{"source": contour_png(surface), "xref": "x", "yref": "y",
                         "x": x0, "y": y1, "sizex": x1 - x0, "sizey": y1 - y0,
                         "sizing": "stretch", "layer": "below"}]
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


def contour_png(surface: Surface, size: int = 480, levels: int = 28) -> str:
    """The surface's filled contour over its view box as a PNG ``data:`` URI: the
    page's contour (its colours and its ``levels`` bands of :func:`surface_grid`'s
    transformed loss), ``size`` pixels a side, with no drawing library (NumPy and zlib)."""
    import zlib
    xs, ys, _, zt = _grid(surface)
    u = np.linspace(0, len(xs) - 1, size)                 # bilinear, onto size x size
    rows = np.array([np.interp(u, np.arange(len(xs)), r) for r in zt])
    z = np.array([np.interp(u, np.arange(len(ys)), c) for c in rows.T]).T
    lo, hi = float(zt.min()), float(zt.max())
    band = np.floor((z - lo) / max(hi - lo, 1e-12) * levels).clip(0, levels - 1) / (levels - 1)
    stops = np.array([[0xF7, 0xFB, 0xFF], [0xC6, 0xDB, 0xEF], [0x6B, 0xAE, 0xD6]], float)
    rgb = np.stack([np.interp(band, [0, 0.5, 1], stops[:, c]) for c in range(3)], -1)
    pixels = rgb[::-1].round().astype(np.uint8)           # PNG rows run top to bottom
    raw = b"".join(b"\0" + row.tobytes() for row in pixels)

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (len(body).to_bytes(4, "big") + kind + body +
                zlib.crc32(kind + body).to_bytes(4, "big"))
    png = (b"\x89PNG\r\n\x1a\n" +
           chunk(b"IHDR", size.to_bytes(4, "big") * 2 + bytes([8, 2, 0, 0, 0])) +
           chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def run_figure(run: Run, frames: int | None = None):
    """:func:`animation` as a ``plotly.graph_objects.Figure``, which plays in Jupyter, VS
    Code and Colab without a server (Plotly's own frames, play button and slider)."""
    try:
        import plotly.graph_objects as go
    except ImportError:
        raise ImportError("Run.figure() needs Plotly: pip install plotly") from None
    fig = _untyped(animation(run, frames=frames))
    fig["layout"].pop("uirevision", None)
    return go.Figure(fig)


def _untyped(obj):
    """``obj`` with every base64 typed array (see typed) as a NumPy array again: a
    ``go.Figure`` validates its data and takes NumPy arrays, not the page's wire format."""
    if isinstance(obj, dict):
        if "bdata" in obj and "dtype" in obj:
            a = np.frombuffer(base64.b64decode(obj["bdata"]), dtype=obj["dtype"])
            shape = obj.get("shape")
            return a.reshape([int(n) for n in shape.split(",")]) if shape else a
        return {k: _untyped(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_untyped(v) for v in obj]
    return obj


def network_figure(run, plane=None, init: int = 0, n: int = 61):
    """A network's training (:class:`optviz.training.NetworkRun`) as a
    ``plotly.graph_objects.Figure``: left, the true training loss on a plane (default: the
    PCA plane shared by every row that did not diverge, its axes labelled with the
    variance they explain) with every row's path projected on it; right, each row's
    training loss (solid) and test loss (dotted) against the step."""
    try:
        import plotly.graph_objects as go
    except ImportError:
        raise ImportError("NetworkRun.figure() needs Plotly: pip install plotly") from None
    from .networks.planes import pca_plane, plane_loss
    net = run.network
    fine = [r for r in range(len(run.optimizers)) if run.diverged_at[r, init] < 0]
    plane = plane or pca_plane(run, fine, init)
    coords, dist = plane.project(run.params[fine, init].astype(float))
    reach = np.abs(coords).reshape(-1, 2).max(axis=0) * 1.25 + 1e-3
    a, b = np.linspace(-reach[0], reach[0], n), np.linspace(-reach[1], reach[1], n)
    z = np.log10(np.maximum(plane_loss(net, plane, a, b), 1e-12))
    data = [{"type": "contour", "x": a, "y": b, "z": z, "colorscale": "Blues",
             "reversescale": True, "showscale": False, "ncontours": 25,
             "name": "log₁₀ loss", "hovertemplate": "log₁₀ L = %{z:.3f}<extra></extra>"}]
    steps = np.arange(run.steps + 1)
    for k, r in enumerate(fine):
        color = PALETTE.get(run.optimizers[r].name, "#444")
        label = run.labels[r]
        data.append({"type": "scatter", "x": coords[k, :, 0], "y": coords[k, :, 1],
                     "mode": "lines", "line": {"color": color, "width": 2.5}, "name": label,
                     "legendgroup": label, "customdata": dist[k],
                     "hovertemplate": f"{label}: %{{customdata:.3g}} from the plane"
                                      "<extra></extra>"})
    for r, label in enumerate(run.labels):
        color = PALETTE.get(run.optimizers[r].name, "#444")
        for key, dash in (("train_loss", "solid"), ("test_loss", "dot")):
            data.append({"type": "scatter", "x": steps, "y": getattr(run, key)[r, init],
                         "xaxis": "x2", "yaxis": "y2", "mode": "lines", "showlegend": False,
                         "legendgroup": label, "line": {"color": color, "dash": dash},
                         "name": f"{label} ({key.replace('_', ' ')})"})
    names = {"pca": "PC", "hessian": "eigenvector ", "endpoints": "direction ",
             "random": "direction "}
    axes = [f"{names.get(plane.kind, 'axis ')}{i + 1}" for i in range(2)]
    if plane.explained:
        axes = [f"{t} ({100 * e:.1f} % of the variance)"
                for t, e in zip(axes, plane.explained)]
    layout = {"xaxis": {"domain": [0, 0.52], "title": {"text": axes[0]}},
              "yaxis": {"title": {"text": axes[1]}},
              "xaxis2": {"domain": [0.62, 1], "title": {"text": "step"}, "anchor": "y2"},
              "yaxis2": {"type": "log", "title": {"text": "loss (test dotted)"},
                         "anchor": "x2"},
              "title": {"text": f"{net.data.name}: a {'-'.join(map(str, net.widths))} "
                                f"{net.activation} net, {net.size} parameters"},
              "height": 460, "margin": {"t": 50}}
    return go.Figure({"data": data, "layout": layout})
