"""The Explore panel's figures: a basin map, a learning-rate sweep, an lr x beta heatmap
and a random search over it, as Plotly figure dicts (optviz.explore computes them)."""
from __future__ import annotations

import math

import numpy as np

from .. import explore
from .figures import typed

__all__ = ["basin_figure", "lr_figure", "grid_figure", "random_figure"]


_MIN_COLORS = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#D55E00", "#56B4E9", "#F0E442",
               "#332288"]
_SPECIAL = {explore.DIVERGED: ("#111111", "diverged"), explore.MOVING: ("#9e9e9e", "still moving"),
            explore.ELSEWHERE: ("#e8e8e8", "stopped elsewhere")}


def _lighter(hex_color: str, f: float) -> str:
    r, g, b = (int(hex_color[i:i + 2], 16) for i in (1, 3, 5))
    return "#" + "".join(f"{int(c + (255 - c) * f):02x}" for c in (r, g, b))


def basin_figure(m: explore.BasinMap) -> dict:
    """One heatmap per row: the colour of the minimum reached (legend), lighter for the
    starts that took longer to settle."""
    labels = [-3, -2, -1] + list(range(len(m.minima)))
    bands = len(labels)
    scale = []
    for b, lab in enumerate(labels):
        base = _SPECIAL[lab][0] if lab < 0 else _MIN_COLORS[lab % len(_MIN_COLORS)]
        lo, hi = b / bands, (b + 1) / bands
        scale += [[lo, base], [hi - 1e-9, _lighter(base, 0.6 if lab >= 0 else 0.0)]]
    scale[-1][0] = 1.0
    steps = max(int(m.scene.steps), 1)
    data, layout = [], {"margin": {"l": 50, "r": 10, "t": 40, "b": 40}, "showlegend": True,
                        "paper_bgcolor": "white", "font": {"size": 13},
                        "legend": {"orientation": "h", "y": -0.12}}
    k = len(m.scene.optimizers)
    for r, label in enumerate(m.scene.labels):
        band = np.searchsorted(labels, m.label[r])
        z = band + 0.999 * np.clip(m.steps[r] / steps, 0, 1)
        axis = "" if r == 0 else str(r + 1)
        data.append({"type": "heatmap", "x": m.xs.tolist(), "y": m.ys.tolist(),
                     "z": typed(z), "zmin": 0, "zmax": bands, "colorscale": scale,
                     "showscale": False, "xaxis": "x" + axis, "yaxis": "y" + axis,
                     "hovertemplate": "start (%{x:.3g}, %{y:.3g})<extra></extra>",
                     "name": label})
        # the axes end where the starts do (half a cell past the outer ones; Plotly's
        # own range ran to +-6 around starts on +-5)
        hx, hy = (m.xs[1] - m.xs[0]) / 2 if len(m.xs) > 1 else 0.5, \
            (m.ys[1] - m.ys[0]) / 2 if len(m.ys) > 1 else 0.5
        layout["xaxis" + axis] = {"domain": [r / k + 0.02, (r + 1) / k - 0.02],
                                  "constrain": "domain", "autorange": False,
                                  "range": [float(m.xs[0] - hx), float(m.xs[-1] + hx)]}
        layout.setdefault("annotations", []).append(
            {"text": f"<b>{label}</b>", "xref": "paper", "yref": "paper", "showarrow": False,
             "x": (r + 0.5) / k, "y": 1.0, "yanchor": "bottom", "font": {"size": 14}})
        layout["yaxis" + axis] = {"scaleanchor": "x" + axis, "anchor": "x" + axis,
                                  "constrain": "domain", "autorange": False,
                                  "range": [float(m.ys[0] - hy), float(m.ys[-1] + hy)]}
    for lab in labels:                           # a legend of the basins
        color = _SPECIAL[lab][0] if lab < 0 else _MIN_COLORS[lab % len(_MIN_COLORS)]
        name = _SPECIAL[lab][1] if lab < 0 else \
            f"minimum ({m.minima[lab][0]:.3g}, {m.minima[lab][1]:.3g})"
        data.append({"type": "scatter", "x": [None], "y": [None], "mode": "markers",
                     "marker": {"symbol": "square", "size": 12, "color": color},
                     "name": name, "hoverinfo": "skip"})
    layout["title"] = _title("Where each start ends", "lighter: took longer")
    layout["margin"]["t"] = 80
    return {"data": data, "layout": layout}


def _title(head: str, note: str) -> dict:
    """A figure title: ``head`` short, so that on a phone it clears Plotly's modebar (shown
    at the top right on touch screens), and a smaller ``note`` on a second line."""
    return {"text": f"{head}<br><span style='font-size:12px;color:#555'>{note}</span>",
            "x": 0.02, "xanchor": "left", "y": 0.97, "yanchor": "top"}


#: Losses below this are drawn at it, on every Explore figure (colour bars and curves
#: alike: a colour bar that stopped at 1e-16 beside a curve down to 1e-78 disagreed)
LOSS_FLOOR = 1e-16


def lr_figure(s: explore.Sweep, colors, labels=None, what: str = "final loss") -> dict:
    """Final loss against α, one curve per optimizer, named by ``labels`` (the page's
    row labels; default the optimizers' names); ``what`` the loss is (a network's: its
    final test loss)."""
    lrs = s.values[1]
    data = []
    for k, opt in enumerate(s.values[0]):
        name = labels[k] if labels is not None else str(opt)
        loss = np.where(s.diverged[k], np.nan, np.maximum(s.loss[k], LOSS_FLOOR))
        data.append({"type": "scatter", "mode": "lines+markers", "x": lrs.tolist(),
                     "y": [None if not math.isfinite(v) else float(v) for v in loss],
                     "name": str(name), "line": {"color": colors[k % len(colors)]}})
        div = lrs[s.diverged[k]]
        if len(div):                             # diverged: an x at the top of the plot
            finite = s.loss[~s.diverged]
            top = float(finite.max()) if finite.size else 1.0
            data.append({"type": "scatter", "mode": "markers", "x": div.tolist(),
                         "y": [top] * len(div), "showlegend": False, "name": f"{name} diverged",
                         "marker": {"symbol": "x", "size": 9, "color": colors[k % len(colors)]}})
    return {"data": data, "layout": {
        "title": _title(f"{what[0].upper()}{what[1:]} against α", "x: diverged"),
        "xaxis": {"type": "log", "title": {"text": "learning rate α"}},
        "yaxis": {"type": "log", "title": {"text": what}, "exponentformat": "power"},
        "margin": {"l": 60, "r": 10, "t": 64, "b": 45}, "paper_bgcolor": "white"}}


def _heat(s: explore.Sweep) -> dict:
    z = np.where(s.diverged, np.nan, np.log10(np.maximum(s.loss, LOSS_FLOOR)))
    return {"type": "heatmap", "x": s.values[1].tolist(), "y": s.values[0].tolist(),
            "z": [[None if not math.isfinite(v) else float(v) for v in row] for row in z],
            "colorscale": "Viridis", "colorbar": {"title": {"text": "log₁₀ loss"}},
            "hovertemplate": "α %{x:.3g}, β %{y:.3g}: log₁₀ L %{z:.3g}<extra></extra>"}


def grid_figure(s: explore.Sweep, name: str) -> dict:
    return {"data": [_heat(s)], "layout": {
        "title": _title(name, "final loss over α × β; blank: diverged"),
        "xaxis": {"type": "log", "title": {"text": "learning rate α"}},
        "yaxis": {"title": {"text": "β (momentum / β₁)"}},
        "plot_bgcolor": "#222", "margin": {"l": 60, "r": 10, "t": 64, "b": 45},
        "paper_bgcolor": "white"}}


def random_figure(s: explore.Sweep, name: str, grid: explore.Sweep) -> dict:
    lr, beta = s.settings.T
    loss = np.where(s.diverged, np.nan, np.log10(np.maximum(s.loss, LOSS_FLOOR)))
    best = np.maximum(s.best_so_far, LOSS_FLOOR)
    heat = {**_heat(grid), "showscale": False, "opacity": 0.85, "hoverinfo": "skip"}
    heat.pop("hovertemplate")
    return {"data": [
        heat,                                   # under the trials
        {"type": "scatter", "mode": "markers", "x": lr.tolist(), "y": beta.tolist(),
         "marker": {"color": [None if not math.isfinite(v) else float(v) for v in loss],
                    "colorscale": "Viridis", "size": 9, "showscale": True,
                    # under the left plot, across it: between the two plots a vertical
                    # bar ran into the right plot's axis on a phone
                    "colorbar": {"title": {"text": "log₁₀ loss", "side": "top"},
                                 "orientation": "h", "x": 0.21, "xanchor": "center",
                                 "len": 0.42, "y": -0.28, "yanchor": "top",
                                 "thickness": 10, "nticks": 4},
                    "line": {"width": 1, "color": "white"}},
         "name": "trials", "hovertemplate": "α %{x:.3g}, β %{y:.3g}<extra></extra>"},
        {"type": "scatter", "mode": "lines", "x": list(range(1, len(lr) + 1)),
         "y": [None if not math.isfinite(v) else float(v) for v in best],
         "xaxis": "x2", "yaxis": "y2", "name": "best so far", "line": {"color": "#D55E00"}},
    ], "layout": {
        "title": _title(name, "random trials on a 32 × 32 sweep | best so far "
                              "(losses below 1e-16 drawn at 1e-16)"),
        "xaxis": {"type": "log", "domain": [0, 0.42], "title": {"text": "learning rate α"}},
        "yaxis": {"title": {"text": "β"}},
        "xaxis2": {"domain": [0.6, 1], "title": {"text": "trials"}, "anchor": "y2"},
        "yaxis2": {"type": "log", "anchor": "x2", "title": {"text": "best final loss"},
                   "exponentformat": "power"},
        "showlegend": False, "margin": {"l": 60, "r": 10, "t": 64, "b": 110},
        "paper_bgcolor": "white", "plot_bgcolor": "#222"}}


# -- callbacks ---------------------------------------------------------------------------
