"""A network trained on the page: a ``train:`` setup -> what the page draws.

A surface-menu choice, named by text as a network's slice is (optviz.networks.slice):
``train:`` then ``key=value`` pairs joined by ``;``, each optional — the network's keys
(``data, n, noise, test, seed, hidden, act, init, init_seed, loss``; the page's network
panel edits them, layout.py) and the plane it is seen on,
``plane``: ``pca`` (default: the top two principal directions of every row's path),
``ends`` (through the init and the first two rows' ends), ``hessian`` (the two sharpest
directions at the init) or ``random`` (filter-normalized, ``plane_seed``).

Every row trains all the network's parameters from the same initialization
(:func:`optviz.training.train`), with the page's α, μ/β₁, β₂/ρ, schedule, warmup,
clipping, steps and per-row overrides; σ is the minibatch, read as the page reads it
everywhere: σ = 0 the full batch, else (4/σ)² samples a step (common to every row). The
plot is the true training loss on the plane, each row's path projected on it; the side
plots are the learning curves (training and test loss), the test accuracy and the
gradient norm of every layer. What a surface has and a training has not
is said, not silently dropped: a start (the network starts from its initialization), the
3-D view, the HTML download, Explore's maps (its learning-rate
sweep trains: explore_panel.py); a class challenge on a training is scored by training
(classroom/rules.py). CSV, JSON and a Python script download a training (web/exports.py:
the script trains it again with optviz and with torch.optim).
"""
from __future__ import annotations

import base64
import dataclasses
import functools

import numpy as np

from ..cost import CostError
from ..networks import NetworkError
from ..networks.planes import endpoints_plane, hessian_plane, pca_plane, random_plane
from ..networks.slice import DEFAULTS as SLICE_KEYS
from ..networks.slice import PREFIX as SLICE_PREFIX
from ..networks.slice import network_from, read_keys, slice_surface, whole
from ..plots import background_figure, surface_grid, typed, typed_rows
from ..training import train
from . import figures
from .controls import REFERENCE_NOISE, TRAIN_MAX_LENGTH, TRAIN_PREFIX, ControlError, run_controls

__all__ = ["PREFIX", "KEYS", "is_training", "training_network", "keys_of", "network_keys",
           "trained", "compute", "batch_for", "changes_for"]

PREFIX, MAX_LENGTH = TRAIN_PREFIX, TRAIN_MAX_LENGTH
#: a training's keys and their defaults: the network's, then its plane
KEYS = {**{k: v for k, v in SLICE_KEYS.items() if k not in ("plane", "span")},
        "plane": "pca"}
PLANES = ("pca", "ends", "hessian", "random")
#: the planes of a network's slice (``net:``), which needs no training to be drawn
SLICE_PLANES = ("random", "hessian")
#: the network's keys the page has a control for (layout.py's network panel; a link may
#: name the others: seed, plane_seed, span), with the defaults of each kind of name
PAGE_KEYS = ("data", "n", "noise", "test", "hidden", "act", "init", "init_seed", "loss",
             "plane")
NAME_DEFAULTS = {PREFIX: KEYS, SLICE_PREFIX: dict(SLICE_KEYS)}
#: the plane's grid: 41 × 41 points, each a forward pass over the training data
GRID = 41
#: decision boundaries: kept at this many steps (evenly spaced, the first and the last
#: among them) on a BOUNDARY_GRID² grid over the data's box, as bytes (0-255): the
#: browser shows the latest kept step at or before the one on the screen
BOUNDARY_KEPT, BOUNDARY_GRID = 11, 25


def is_training(name) -> bool:
    return isinstance(name, str) and name.startswith(PREFIX) and len(name) <= MAX_LENGTH


@functools.lru_cache(maxsize=32)
def _network(body: str):
    try:
        k, given = read_keys(body, KEYS)
        if k["plane"] not in PLANES:
            raise NetworkError(f"surface.plane: {k['plane'][:30]!r}; choose one of "
                               f"{', '.join(PLANES)}")
        seed = whole(k, "plane_seed", 0, 2**31)
        name = PREFIX + ";".join(f"{key}={k[key]}" for key in KEYS if key in given)
        return network_from(k), k["plane"], seed, name
    except NetworkError as e:                  # (remembered, not raised again)
        return NetworkError(str(e))


def network_keys(name: str) -> str:
    """The network's keys a ``train:`` name gives (its plane's left out), as a ``net:``
    slice's name takes them after its prefix."""
    given = read_keys(name[len(PREFIX):], KEYS)[1]
    return ";".join(f"{k}={given[k]}" for k in SLICE_KEYS if k in given and k in KEYS
                    and k not in ("plane", "plane_seed"))


def keys_of(name: str) -> dict:
    """Every key of a ``train:`` name (KEYS for those it leaves out), as text."""
    return read_keys(name[len(PREFIX):], KEYS)[0]


def training_network(name: str):
    """(Network, plane kind, plane seed, canonical name) of a ``train:`` name, or
    ControlError naming the key."""
    if not is_training(name):
        raise ControlError("surface", f"surface: a network's training is named train:..., "
                                      f"at most {MAX_LENGTH} characters")
    out = _network(name[len(PREFIX):])
    if isinstance(out, Exception):
        raise ControlError("surface", str(out))
    return out


def batch_for(noise: float, n: int) -> int | None:
    """The minibatch σ stands for (the page's (4/σ)²), within the training samples; None
    (the full batch) for σ = 0."""
    if noise <= 0:
        return None
    return int(min(n, max(1, round((REFERENCE_NOISE / noise) ** 2))))


@dataclasses.dataclass(frozen=True)
class Trained:
    run: object
    plane: object
    surface: object
    coords: np.ndarray           # [rows, steps + 1, 2]
    distance: np.ndarray         # [rows, steps + 1]
    note: str                    # what the page says beside the picture ("" if nothing)
    #: what each row's network says over the data's box at ``run.boundary_steps``, as
    #: bytes [rows, kept, grid, grid]: P(class 1), the class (of K, as k/(K-1)), or the
    #: prediction within the targets' range
    boundary: np.ndarray


def _plane(run, kind: str, seed: int):
    net = run.network
    fine = [r for r in range(len(run.optimizers)) if run.diverged_at[r, 0] < 0]
    if not fine and kind in ("pca", "ends"):
        raise NetworkError(f"plane: {kind} needs a row that did not diverge")
    if kind == "pca":
        return pca_plane(run, fine)
    if kind == "ends":
        if len(fine) < 2:
            raise NetworkError("plane: ends needs two rows that did not diverge")
        return endpoints_plane(run, fine[0], fine[1])
    theta = run.params[0, 0, 0].astype(float)
    return hessian_plane(net, theta) if kind == "hessian" else random_plane(net, theta, seed)


def _view(coords) -> tuple:
    """The plot's box: every projected path with a margin, no side under 2/5 of the other
    (the plot keeps one unit of a as long as one of b)."""
    lo, hi = np.nanmin(coords, axis=(0, 1)), np.nanmax(coords, axis=(0, 1))
    mid, half = (lo + hi) / 2, np.maximum((hi - lo) / 2 * 1.2, 1e-3)
    half = np.maximum(half, 0.4 * half.max())
    return (float(mid[0] - half[0]), float(mid[0] + half[0]),
            float(mid[1] - half[1]), float(mid[1] + half[1]))


@functools.lru_cache(maxsize=16)
def _trained(name: str, specs: tuple, steps: int, schedule, clip, batch, seed: int,
             budget: float, changes: tuple = ()) -> Trained:
    net, kind, plane_seed, _ = training_network(name)
    kept = np.unique(np.linspace(0, steps, BOUNDARY_KEPT).round().astype(int))
    run = train(net, list(specs), steps, schedule=schedule, clip_norm=clip,
                batch_size=batch, seed=seed, budget=budget,
                boundary_steps=kept.tolist(), boundary_grid=BOUNDARY_GRID,
                changes=[(step, list(rows), b) for step, rows, b in changes])
    note = ""
    try:
        plane = _plane(run, kind, plane_seed)
    except NetworkError as e:
        plane = random_plane(net, run.params[0, 0, 0].astype(float), plane_seed)
        note = f"{e}; shown on a random plane instead"
    coords, distance = plane.project(run.params[:, 0].astype(float))
    coords = np.where(np.isfinite(coords), coords, np.nan)
    widths = "-".join(map(str, net.widths))
    if plane.kind == "pca":
        axes = tuple(f"PC{i + 1} ({100 * e:.0f} %)" for i, e in enumerate(plane.explained))
        how = (f"the plane of the paths' principal directions PC1, PC2 "
               f"({100 * sum(plane.explained):.0f} % of their variance)")
    else:
        axes = ("a (along u)", "b (along v)")
        how = {"endpoints": "the plane through the init and the first two rows' ends",
               "hessian": "the plane of the two sharpest curvatures at the init",
               "random": "a random plane through the init"}[plane.kind]
    teaches = (f"All {net.size} parameters trained ({widths} {net.activation}, "
               f"{net.data.name}); the contour is the true loss on {how}, a path off it "
               "drawn where it projects.")
    surface = dataclasses.replace(
        slice_surface(net, plane, name=name, view=_view(coords)), teaches=teaches,
        label=f"{net.data.name} {widths} {net.activation} network, trained", axes=axes)
    return Trained(run, plane, surface, coords, distance, note, _boundary_bytes(run))


def _boundary_bytes(run) -> np.ndarray:
    out = run.boundary[:, 0].astype(float)              # [rows, kept, g, g, outputs]
    net = run.network
    if net.loss == "bce":
        v = out[..., 0]
    elif net.loss == "ce":
        v = out.argmax(axis=-1) / max(1, out.shape[-1] - 1)
    else:
        y = np.concatenate([net.data.y_train, net.data.y_test]).astype(float)
        lo, hi = float(y.min()), float(y.max())
        v = (out[..., 0] - lo) / ((hi - lo) or 1.0)
    return np.clip(np.nan_to_num(np.rint(v * 255), nan=0.0), 0, 255).astype(np.uint8)


def _bytes(a: np.ndarray) -> dict:
    """Plotly's base64 typed array of uint8 ``a`` (2-D: with its shape)."""
    return {"dtype": "u1", "bdata": base64.b64encode(a.tobytes()).decode("ascii"),
            "shape": f"{a.shape[0]},{a.shape[1]}"}


class TrainingScene:
    """What the page reads of a run's scene (its rows and schedule, its surface), for a
    training."""

    def __init__(self, optimizers, schedule, surface, boundaries=None):
        self.optimizers, self.schedule, self._surface = optimizers, schedule, surface
        self.boundaries = boundaries          # the decision boundaries' figure

    def get_surface(self):
        return self._surface


def changes_for(rc, n: int) -> tuple:
    """The page's live changes as optviz.training.train takes them: from their frame on,
    the knobs' new values and σ's minibatch (of ``n`` training samples)."""
    return tuple((c.step, tuple(c.optimizers), batch_for(c.noise, n)) for c in rc.changes)


def trained(controls: dict, refused, budget: float):
    """(Trained, the rows' uids, RunControls) of a ``train:`` setup, as the page trains
    it; ControlError naming the control for what a training cannot honour, ``refused``
    (an error class) for a setup over ``budget`` seconds."""
    net, _, _, name = training_network(controls.get("surface"))
    if controls.get("view") == "3d":
        raise ControlError("view", "view: a network's training is drawn in 2-D (its "
                                   "plane's contour, the paths projected on it)")
    rc = run_controls(controls)
    uids = [r["uid"] for r in controls["rows"] if r.get("on")]
    for uid, spec in zip(uids, rc.optimizers):
        if spec.noise:
            raise ControlError(f"row:{uid}", "σ: a network's gradient noise is its "
                                             "minibatches, which the global σ sets for every "
                                             "row; leave this row's σ empty")
    n = len(net.data.X_train)
    batch = batch_for(rc.noise, n)
    changes = changes_for(rc, n)
    try:
        t = _trained(name, tuple(rc.optimizers), rc.steps, rc.schedule, rc.clip_norm, batch,
                     rc.seed, budget, changes)
    except CostError as e:
        raise refused("steps", str(e)) from None
    except NetworkError as e:
        raise ControlError("surface", str(e)) from None
    return t, uids, rc


def compute(controls: dict, previous_key, refused, budget: float):
    """callbacks.compute's parts for a ``train:`` setup: (background, main, side, meta,
    key, scene, note); background and main None where ``previous_key`` says they are on
    the screen. ``refused``: the error class for a setup over ``budget`` seconds."""
    t, uids, rc = trained(controls, refused, budget)
    name = t.surface.name
    colors = [figures.row_color(u) for u in uids]
    key = [name, "2d", uids, t.surface.view]
    if key == previous_key:
        background = main = None
    else:
        grid = surface_grid(t.surface, GRID)
        background = background_figure(t.surface, grid)
        main = figures.main_figure(t.surface, None, colors, view="2d")
    return (background, main, side_figures(t, colors), meta(t, uids, colors), key,
            TrainingScene(t.run.optimizers, rc.schedule, t.surface,
                          boundary_figure(t, colors)), t.note)


def meta(t: Trained, uids, colors) -> dict:
    """What the browser draws, in figures.meta's shape: each row's projected path and its
    training loss; the start is the init, at the plane's origin."""
    run = t.run
    loss = run.train_loss[:, 0]
    data = {"model": "boundary", "first": 0, "steps": list(run.boundary_steps),
            "z": [[_bytes(b) for b in row] for row in t.boundary]}
    rows = figures.meta_rows(uids, run.labels, colors, run.diverged_at[:, 0], t.coords, loss)
    for row, dist in zip(rows, typed_rows(t.distance)):
        row["dist"] = dist                   # (a point's distance from the plane: hover)
    return {"steps": run.steps, "loss_offset": 0.0, "data": data, "start": [0.0, 0.0],
            "marks": [], "rows": rows}


def boundary_figure(t: Trained, colors) -> dict:
    """Each row's decision boundary at the last step, as small multiples the same size
    (three a line), over the data (training points dots, test points crosses); traces
    0 .. rows-1 are the rows' maps, which the browser redraws at the step on the screen
    (meta's ``data``, assets/optviz_panels.js drawData)."""
    run = t.run
    net = run.network
    xs, ys = run.boundary_box
    rows = len(run.labels)
    cols = min(3, rows)
    lines = -(-rows // cols)
    gap = 0.06
    width, height = (1 - gap * (cols - 1)) / cols, (1 - 0.12 * (lines - 1)) / lines
    data, layout = [], {"margin": {"l": 30, "r": 10, "t": 40, "b": 25}, "showlegend": False,
                        "font": {"size": 12}, "paper_bgcolor": "white",
                        "height": 60 + 190 * lines, "annotations": [],
                        "title": {"text": "each row's decision boundary at this step (data: "
                                          "training dots, test crosses)",
                                  "font": {"size": 14}, "x": 0.02}}
    train_pts = (net.data.X_train, net.data.y_train, "circle", 5)
    test_pts = (net.data.X_test, net.data.y_test, "x", 6)
    for i in range(rows):
        ax = "" if i == 0 else str(i + 1)
        c, line = i % cols, i // cols
        x0 = c * (width + gap)
        y1 = 1 - line * (height + 0.12)
        bare = {"showticklabels": False, "ticks": "", "showgrid": False, "zeroline": False,
                "showline": False}
        layout[f"xaxis{ax}"] = {**bare, "domain": [x0, x0 + width], "range": [xs[0], xs[-1]],
                                "anchor": f"y{ax}"}
        layout[f"yaxis{ax}"] = {**bare, "domain": [y1 - height, y1], "range": [ys[0], ys[-1]],
                                "anchor": f"x{ax}", "scaleanchor": f"x{ax}"}
        layout["annotations"].append({"text": run.labels[i], "showarrow": False,
                                      "xref": "paper", "yref": "paper", "x": x0,
                                      "y": y1, "xanchor": "left", "yanchor": "bottom",
                                      "font": {"size": 12, "color": colors[i]}})
        data.append({"type": "heatmap", "x": typed(xs), "y": typed(ys),
                     "z": _bytes(t.boundary[i, -1]), "zmin": 0, "zmax": 255,
                     "colorscale": [[0, "#9ecae1"], [0.5, "#f7f7f7"], [1, "#fdae6b"]],
                     "showscale": False, "hoverinfo": "skip", "xaxis": f"x{ax}",
                     "yaxis": f"y{ax}"})
    for i in range(rows):
        ax = "" if i == 0 else str(i + 1)
        for X, y, symbol, size in (train_pts, test_pts):
            data.append({"type": "scatter", "mode": "markers", "hoverinfo": "skip",
                         "x": typed(X[:, 0]), "y": typed(X[:, 1]), "xaxis": f"x{ax}",
                         "yaxis": f"y{ax}",
                         "marker": {"symbol": symbol, "size": size, "opacity": 0.8,
                                    "color": typed(np.asarray(y, float)), "cmin": 0,
                                    "cmax": max(1.0, float(np.max(y))),
                                    "colorscale": [[0, "#08519c"], [1, "#a63603"]],
                                    "line": {"width": 0.5, "color": "white"}}})
    return {"data": data, "layout": layout}


def side_figures(t: Trained, colors) -> tuple[dict, dict, dict]:
    """The learning curves (training loss solid, test dotted, log), the test accuracy,
    and every layer's gradient norm (the first dotted, the last solid, those between
    dashed and fainter), log."""
    run = t.run
    steps, labels = run.steps, run.labels
    positive = lambda a: np.clip(a, 1e-16, 1e150)        # (NaN stays: no point drawn)

    def with_dotted(fig, ys, x_start=0):
        for y, c, label in zip(ys, colors, labels):
            fig["data"].append({"type": "scatter", "mode": "lines", "name": label,
                                "hoverinfo": "name+y", "x0": x_start, "dx": 1, "y": typed(y),
                                "line": {"color": c, "width": 1.5, "dash": "dot"}})
        return fig

    loss = with_dotted(figures._side("loss: training (solid), test (dotted)",
                                     positive(run.train_loss[:, 0]), colors, labels, "log",
                                     steps), positive(run.test_loss[:, 0]))
    if run.network.data.classes:
        acc = figures._side("test accuracy", run.test_acc[:, 0], colors, labels, "linear",
                            steps, yrange=[0, 1.02])
    else:
        acc = figures._side("test loss (a regression: no accuracy)",
                            positive(run.test_loss[:, 0]), colors, labels, "log", steps)
    norms = run.grad_norm[:, 0]                       # [rows, steps, layers]
    layers = norms.shape[-1]
    # (a title the side plot's width holds: the layers between are dashed, fainter)
    grads = with_dotted(figures._side(
        "‖g‖ per layer: first dotted" + (" … " if layers > 2 else ", ") + "last solid",
        positive(norms[..., -1]), colors, labels, "log", steps), positive(norms[..., 0]))
    for k in range(1, layers - 1):          # the layers between, fainter (a deep net's)
        for y, c, label in zip(positive(norms[..., k]), colors, labels):
            grads["data"].append({"type": "scatter", "mode": "lines", "x0": 0, "dx": 1,
                                  "name": f"{label}, layer {k + 1}", "hoverinfo": "name+y",
                                  "y": typed(y), "opacity": 0.55,
                                  "line": {"color": c, "width": 1.2, "dash": "dash"}})
    return loss, acc, grads
