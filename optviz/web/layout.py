"""The page: component ids (in one place) and the layout."""
from __future__ import annotations

import math

from dash import dcc, html

from ..controls import DEFAULTS, PAGE_LIMITS, REFERENCE_NOISE, SUGGESTED_LR
from ..optimizers import OPTIMIZERS
from ..scene import DEFAULT_OPTIMIZERS
from ..schedules import SCHEDULES
from ..surfaces import SURFACES
from .figures import row_color

__all__ = ["ID", "layout", "row_panel", "SUGGESTED_LR", "DEFAULTS", "ROW_FIELDS"]


class ID:
    """Every component id of the page."""

    graph, background = "graph", "graph-bg"
    click = "click-start"
    loss, lr_plot, gnorm = "loss-plot", "lr-plot", "gnorm-plot"
    surface, view = "surface", "view"
    teaches = "teaches"
    rows = "rows"
    lr, lr_text, lr_err = "lr", "lr-text", "lr-err"
    beta1, beta1_err = "beta1", "beta1-err"
    beta2, beta2_err = "beta2", "beta2-err"
    noise, noise_text, noise_err = "noise", "noise-text", "noise-err"
    schedule, gamma, step_size, warmup = "schedule", "gamma", "step-size", "warmup"
    gamma_box, step_size_box, schedule_err = "gamma-box", "step-size-box", "schedule-err"
    steps, steps_err = "steps", "steps-err"
    seed, resample, seed_err = "seed", "resample", "seed-err"
    clip, clip_err = "clip", "clip-err"
    status = "status"
    play, step_back, step_fwd, restart = "play", "step-back", "step-fwd", "restart"
    scrub, speed, frame_text = "scrub", "speed", "frame-text"
    legend = "legend"
    meta, start, fig_key, drawn, side = "meta", "start", "fig-key", "drawn", "side"
    errors = "errors"


#: Row controls (pattern-matching ids {"type": ..., "row": uid}).
ROW_FIELDS = {"on": "row-on", "lr": "row-lr", "beta1": "row-b1", "beta2": "row-b2",
              "dup": "row-dup", "err": "row-err", "box": "row"}

_USES_BETA1 = {n for n, o in OPTIMIZERS.items() if "betas" in o.hyper} | {
    "sgd", "momentum", "nesterov"}
_USES_BETA2 = {n for n, o in OPTIMIZERS.items() if "betas" in o.hyper} | {"rmsprop", "adadelta"}


def _field(label, symbol, control, *extra, error_id=None, hint=None):
    return html.Div(className="field", children=[
        html.Label([label, " ", html.Span(symbol, className="symbol")], className="label"),
        control, *extra,
        html.Div(hint, className="hint") if hint else None,
        html.Div(id=error_id, className="error", role="alert") if error_id else None])


def row_panel(uid: str, on: bool) -> html.Div:
    """One optimizer row: on/off, colour, label, its own overrides, duplicate."""
    name = uid.split("~")[0]
    opt = OPTIMIZERS[name]
    color = row_color(uid)
    copy = "" if "~" not in uid else f" #{uid.split('~')[1]}"

    def box(key, symbol, lo, hi):
        return html.Label(className="override", children=[
            html.Span(symbol, className="symbol"),
            dcc.Input(id={"type": ROW_FIELDS[key], "row": uid}, type="number", min=lo, max=hi,
                      step="any", placeholder="global", debounce=True,
                      className="num")])

    overrides = [box("lr", "α", 10 ** PAGE_LIMITS["lr_log10"][0], 10 ** PAGE_LIMITS["lr_log10"][1])]
    if name in _USES_BETA1:
        overrides.append(box("beta1", "μ/β₁", 0, PAGE_LIMITS["beta"][1]))
    if name in _USES_BETA2:
        overrides.append(box("beta2", "β₂/ρ", 0, PAGE_LIMITS["beta"][1]))
    return html.Div(id={"type": ROW_FIELDS["box"], "row": uid}, className="opt-row",
                    style={"--row-color": color}, children=[
        dcc.Checklist(id={"type": ROW_FIELDS["on"], "row": uid},
                      options=[{"label": html.Span([html.Span(className="swatch"),
                                                    opt.label + copy]), "value": "on"}],
                      value=["on"] if on else [], className="row-check"),
        html.Details(className="row-settings", children=[
            html.Summary("settings", title=f"{opt.label}: own α, μ/β₁, β₂ instead of the "
                                           "global sliders"),
            html.Div(className="overrides", children=overrides),
            dcc.Markdown(f"${opt.latex}$", mathjax=True, className="row-eq")]),
        html.Button("duplicate", id={"type": ROW_FIELDS["dup"], "row": uid},
                    className="dup", title=f"Add another {opt.label} row to compare settings"),
        html.Div(id={"type": ROW_FIELDS["err"], "row": uid}, className="error", role="alert"),
    ])


def layout() -> html.Div:
    lo, hi = PAGE_LIMITS["lr_log10"]
    lr0 = math.log10(SUGGESTED_LR[DEFAULTS["surface"]])
    surface_options = [{"label": s.label, "value": n} for n, s in SURFACES.items()]
    rest = [n for n in OPTIMIZERS if n not in DEFAULT_OPTIMIZERS]
    marks = {v: {"label": f"{10 ** v:g}"} for v in range(int(lo), int(hi) + 1)}
    return html.Div(className="app", children=[
        html.Header(className="top", children=[
            html.H1("optviz"),
            html.Label(["surface ", dcc.Dropdown(id=ID.surface, options=surface_options,
                                                 value=DEFAULTS["surface"], clearable=False,
                                                 className="surface-dd")],
                       className="surface-pick"),
            dcc.RadioItems(id=ID.view, options=[{"label": "2-D", "value": "2d"},
                                                {"label": "3-D", "value": "3d"}],
                           value="2d", inline=True, className="view-toggle"),
            html.Span(id=ID.teaches, className="teaches"),
        ]),
        html.Main(className="main", children=[
            html.Section(className="plot-col", children=[
                html.Div(className="graph-wrap", children=[
                    dcc.Graph(id=ID.background, className="bg-graph",
                              config={"displayModeBar": False, "staticPlot": True}),
                    dcc.Graph(id=ID.graph, className="main-graph",
                              config={"displaylogo": False, "scrollZoom": False,
                                      "modeBarButtonsToRemove": ["lasso2d", "select2d"]}),
                    html.Div(id=ID.legend, className="legend", **{"aria-live": "polite"}),
                ]),
                html.Div(className="anim", children=[
                    html.Button("↺", id=ID.restart, title="restart", className="btn"),
                    html.Button("◀", id=ID.step_back, title="step back", className="btn"),
                    html.Button("▶ play", id=ID.play, title="play / pause",
                                className="btn play"),
                    html.Button("▶", id=ID.step_fwd, title="step forward", className="btn"),
                    html.Div(dcc.Slider(id=ID.scrub, min=0, max=DEFAULTS["steps"], step=1,
                                        value=DEFAULTS["steps"], marks=None,
                                        allow_direct_input=False, updatemode="drag"),
                             className="scrub"),
                    html.Span(id=ID.frame_text, className="frame-text",
                              **{"aria-live": "off"}),   # written by assets/optviz.js
                    html.Label(["speed ", dcc.Dropdown(
                        id=ID.speed, options=[{"label": f"{v}×", "value": v}
                                              for v in (1, 2, 5, 10, 25)],
                        value=2, clearable=False, className="speed-dd")], className="speed"),
                ]),
                html.Div(id=ID.status, className="status", role="alert"),
                html.Div(className="side", children=[
                    dcc.Graph(id=ID.loss, className="side-graph",
                              config={"displayModeBar": False}),
                    dcc.Graph(id=ID.lr_plot, className="side-graph",
                              config={"displayModeBar": False}),
                    dcc.Graph(id=ID.gnorm, className="side-graph",
                              config={"displayModeBar": False}),
                ]),
            ]),
            html.Aside(className="controls", children=[
                html.H2("Optimizers"),
                html.Div(id=ID.rows, className="rows",
                         children=[row_panel(n, True) for n in DEFAULT_OPTIMIZERS]),
                html.Details(className="more", children=[
                    html.Summary("more optimizers"),
                    html.Div([row_panel(n, False) for n in rest], className="rows")]),
                html.H2("Settings"),
                _field("learning rate", "α", dcc.Slider(
                    id=ID.lr, min=lo, max=hi, step=0.01, value=lr0, marks=marks,
                    allow_direct_input=False, updatemode="mouseup"),
                    html.Span(id=ID.lr_text, className="value"), error_id=ID.lr_err,
                    hint="log scale"),
                _field("momentum", "μ / β₁", dcc.Slider(
                    id=ID.beta1, min=0, max=0.999, step=0.001, value=DEFAULTS["beta1"],
                    marks={0: "0", 0.5: "0.5", 0.9: "0.9"}), error_id=ID.beta1_err),
                _field("second moment", "β₂ / ρ", dcc.Slider(
                    id=ID.beta2, min=0, max=0.999, step=0.001, value=DEFAULTS["beta2"],
                    marks={0: "0", 0.5: "0.5", 0.999: "0.999"}), error_id=ID.beta2_err),
                _field("batch noise", "σ", dcc.Slider(
                    id=ID.noise, min=0, max=PAGE_LIMITS["noise"][1] / 2, step=0.05,
                    value=DEFAULTS["noise"], marks={0: "0", 2: "2", 5: "5", 10: "10"}),
                    html.Span(id=ID.noise_text, className="value",
                              **{"data-reference": REFERENCE_NOISE}),
                    error_id=ID.noise_err,
                    hint=f"gradient + σ·N(0, I); as a batch size: ({REFERENCE_NOISE:g} / σ)²"),
                _field("schedule", "α_t", dcc.Dropdown(
                    id=ID.schedule, value=DEFAULTS["schedule"], clearable=False,
                    options=[{"label": s.replace("_", " "), "value": s} for s in SCHEDULES]),
                    html.Div(className="inline", children=[
                        html.Label(["γ ", dcc.Input(id=ID.gamma, type="number", min=0.01, max=1,
                                                    step="any", value=DEFAULTS["gamma"],
                                                    debounce=True, className="num")],
                                   id=ID.gamma_box),
                        html.Label(["every ", dcc.Input(id=ID.step_size, type="number", min=1,
                                                        step=1, value=DEFAULTS["step_size"],
                                                        debounce=True, className="num"),
                                    " steps"], id=ID.step_size_box),
                        html.Label(["warmup ", dcc.Input(id=ID.warmup, type="number", min=0,
                                                         step=1, value=DEFAULTS["warmup"],
                                                         debounce=True, className="num")]),
                    ]), error_id=ID.schedule_err),
                _field("steps", "T", dcc.Input(id=ID.steps, type="number", min=1,
                                               max=PAGE_LIMITS["steps"][1], step=1,
                                               value=DEFAULTS["steps"], debounce=True,
                                               className="num"), error_id=ID.steps_err),
                _field("noise seed", "", html.Div(className="inline", children=[
                    dcc.Input(id=ID.seed, type="number", min=0, step=1, value=DEFAULTS["seed"],
                              debounce=True, className="num"),
                    html.Button("resample", id=ID.resample, className="btn")]),
                    error_id=ID.seed_err),
                _field("clip gradient norm", "‖g‖ ≤", dcc.Input(
                    id=ID.clip, type="number", min=0, step="any", placeholder="off",
                    debounce=True, className="num"), error_id=ID.clip_err),
                html.P("Click the plot to start every optimizer there.", className="hint"),
            ]),
        ]),
        dcc.Store(id=ID.meta), dcc.Store(id=ID.start), dcc.Store(id=ID.fig_key),
        dcc.Store(id=ID.drawn), dcc.Store(id=ID.click), dcc.Store(id=ID.side),
        dcc.Store(id=ID.errors),
    ])
