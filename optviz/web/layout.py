"""The page: component ids (in one place) and the layout."""
from __future__ import annotations

from dash import dcc, html

from ..networks.data import DATASETS
from ..networks.mlp import ACTIVATIONS, INITS, LOSSES
from ..optimizers import OPTIMIZERS
from ..scenarios import SCENARIOS
from ..scene import DEFAULT_OPTIMIZERS
from ..schedules import SCHEDULES
from ..surfaces import SURFACES
from . import network_view
from .controls import (
    DEFAULT_FORMULA,
    DEFAULTS,
    FORMULA,
    NET_PREFIX,
    PAGE_LIMITS,
    REFERENCE_NOISE,
    SPEEDS,
    SUGGESTED_LR,
    TRAIN_PREFIX,
    alpha,
    suggested_lr_log10,
)
from .explore_panel import panel as explore_panel
from .figures import row_color

__all__ = ["ID", "layout", "row_panel", "rows_children", "SUGGESTED_LR", "DEFAULTS",
           "ROW_FIELDS", "ROW_NUMBERS", "LIVE_SLIDERS", "surface_options"]


class ID:
    """Every component id of the page."""

    graph, background = "graph", "graph-bg"
    click = "click-start"
    loss, lr_plot, gnorm = "loss-plot", "lr-plot", "gnorm-plot"
    surface, view = "surface", "view"
    teaches = "teaches"
    rows = "rows"
    lr, lr_text, lr_err, lr_box = "lr", "lr-text", "lr-err", "lr-box"
    beta1, beta1_err = "beta1", "beta1-err"
    beta2, beta2_err = "beta2", "beta2-err"
    noise, noise_text, noise_err = "noise", "noise-text", "noise-err"
    schedule, gamma, step_size, warmup = "schedule", "gamma", "step-size", "warmup"
    gamma_box, step_size_box, schedule_err = "gamma-box", "step-size-box", "schedule-err"
    steps, steps_err = "steps", "steps-err"
    seed, resample, seed_err = "seed", "resample", "seed-err"
    clip, clip_err = "clip", "clip-err"
    status = "status"
    settings = "settings"                # the skip link's target
    class_panel, class_start = "class-panel", "class-start"   # assets/optviz_class.js
    play, step_back, step_fwd, restart = "play", "step-back", "step-fwd", "restart"
    scrub, speed, frame_text = "scrub", "speed", "frame-text"
    legend = "legend"
    results, summary = "results", "run-summary"   # the plot's text alternative (optviz.js)
    # the run (its paths, side plots, errors, rules, link: one store, one update a run)
    run, start, fig_key, drawn = "run", "start", "fig-key", "drawn"
    # scenarios, links, live tweaks, inspector, equations, downloads
    scenario, caption, applied = "scenario", "caption", "applied"
    link_note = "link-note"
    formula, formula_box, formula_err = "formula", "formula-box", "formula-err"
    formula_view, formula_minima = "formula-view", "formula-minima"
    check, gradcheck = "check", "gradcheck"
    batch, batch_box, batch_err, data_plot, data_box = (
        "batch", "batch-box", "batch-err", "data-plot", "data-box")
    live, live_store, inspect, query, link = "live", "live-store", "inspect", "query", "link"
    pushed = "pushed"
    copy_link, equations, inspector = "copy-link", "equations", "inspector"
    mathjax_primer = "mathjax-primer"
    csv, json, download = "dl-csv", "dl-json", "download"
    more, more_rows = "more", "more-rows"
    html, python = "dl-html", "dl-py"
    rows_store = "rows-store"          # every row control, gathered in the browser
    # a network's panel (a training's or a slice's keys; assets/optviz_panels.js)
    net_box, net_err, net_keys, net_summary = "net-box", "net-err", "net-keys", "net-summary"


#: the network panel's controls: a ``train:`` / ``net:`` name's key -> component id
NET_FIELDS = {k: f"net-{k.replace('_', '-')}" for k in network_view.PAGE_KEYS}
#: ... those that are numbers (the others are text)
NET_NUMBERS = ("n", "noise", "test", "init_seed")


#: The sliders that follow a drag: the page asks for their runs itself as they move
#: (assets/optviz.js finds them by this class; the run callback takes them as states)
LIVE_SLIDERS = (ID.lr, ID.beta1, ID.beta2, ID.noise)
FOLLOWS = "follows"

#: Row controls (pattern-matching ids {"type": ..., "row": uid}).
ROW_FIELDS = {"on": "row-on", "lr": "row-lr", "beta1": "row-b1", "beta2": "row-b2",
              "noise": "row-noise", "weight_decay": "row-wd", "constant": "row-const",
              "dup": "row-dup", "err": "row-err", "box": "row", "eq": "row-eq"}
#: The row settings that are numbers (the others: on, constant)
ROW_NUMBERS = ("lr", "beta1", "beta2", "noise", "weight_decay")



def _field(label, symbol, control, *extra, error_id=None, hint=None):
    return html.Div(className="field", children=[
        html.Label([label, " ", html.Span(symbol, className="symbol")], className="label"),
        control, *extra,
        html.Div(hint, className="hint") if hint else None,
        html.Div(id=error_id, className="error", role="alert") if error_id else None])


def row_panel(uid: str, on: bool, values: dict | None = None) -> html.Div:
    """One optimizer row: on/off, colour, label, its own overrides (filled from
    ``values``, a row of the page setup), duplicate."""
    name = uid.split("~")[0]
    opt = OPTIMIZERS[name]
    color = row_color(uid)
    copy = "" if "~" not in uid else f" #{uid.split('~')[1]}"
    values = values or {}

    def box(key, symbol, lo, hi, placeholder="global"):
        value = values.get(key)
        return html.Label(className="override", children=[
            html.Span(symbol, className="symbol"),
            dcc.Input(id={"type": ROW_FIELDS[key], "row": uid}, type="number", min=lo, max=hi,
                      step="any", placeholder=placeholder, debounce=True, className="num",
                      value=value if isinstance(value, (int, float)) else None)])

    overrides = [box("lr", "α", 10 ** PAGE_LIMITS["lr_log10"][0], 10 ** PAGE_LIMITS["lr_log10"][1])]
    if "beta1" in opt.knobs:
        overrides.append(box("beta1", "μ/β₁", 0, PAGE_LIMITS["beta"][1]))
    if "beta2" in opt.knobs:
        overrides.append(box("beta2", "β₂/ρ", 0, PAGE_LIMITS["beta"][1]))
    overrides.append(box("noise", "σ", 0, PAGE_LIMITS["noise"][1]))
    if "weight_decay" in opt.hyper:
        overrides.append(box("weight_decay", "λ", 0, PAGE_LIMITS["weight_decay"][1],
                             f"{opt.hyper['weight_decay'].default:g}"))
    overrides.append(dcc.Checklist(
        id={"type": ROW_FIELDS["constant"], "row": uid},
        options=[{"label": "constant α (no schedule)", "value": "on"}],
        value=["on"] if values.get("constant") else [], className="row-const"))
    return html.Div(id={"type": ROW_FIELDS["box"], "row": uid}, className="opt-row",
                    style={"--row-color": color}, children=[
        dcc.Checklist(id={"type": ROW_FIELDS["on"], "row": uid},
                      options=[{"label": html.Span([html.Span(className="swatch"),
                                                    opt.label + copy]), "value": "on"}],
                      value=["on"] if on else [], className="row-check"),
        html.Details(className="row-settings", **{"data-tex": opt.latex}, open=any(
                values.get(k) not in (None, "", False) for k in ROW_NUMBERS + ("constant",)),
            children=[
            html.Summary("settings", title=f"{opt.label}: own α, μ/β₁, β₂, σ instead of the "
                                           "global sliders"),
            html.Div(className="overrides", children=overrides),
            # the rule (data-tex above), typeset when the settings open: assets/optviz.js
            dcc.Markdown("", id={"type": ROW_FIELDS["eq"], "row": uid}, mathjax=False,
                         className="row-eq")]),
        html.Button("duplicate", id={"type": ROW_FIELDS["dup"], "row": uid},
                    className="dup", title=f"Add another {opt.label} row to compare settings"),
        html.Div(id={"type": ROW_FIELDS["err"], "row": uid}, className="error", role="alert"),
    ])


def page_rows(rows: list[dict]) -> list[dict]:
    """Every row panel of the page, in order, for the setup's ``rows`` (each {uid, on,
    ...}): the setup's rows first, then every other optimizer, off."""
    listed = {r["uid"] for r in rows}
    return list(rows) + [{"uid": n, "on": False} for n in OPTIMIZERS if n not in listed]


def rows_children(rows: list[dict]) -> tuple[list, list]:
    """The two row lists of the page for the setup's ``rows``: those rows, then the other
    optimizers under "more optimizers" (see page_rows)."""
    panels = [row_panel(r["uid"], bool(r.get("on")), r) for r in page_rows(rows)]
    return panels[:len(rows)], panels[len(rows):]


def more_children(listed) -> list:
    """The panels under "more optimizers": every optimizer not among the ``listed`` uids,
    off. They are drawn when "more optimizers" first opens, not with the page: 17 panels
    are half of the page's components and a fifth of the browser's work before the first
    picture."""
    return [row_panel(n, False) for n in OPTIMIZERS if n not in set(listed)]


def _toolbar() -> html.Div:
    """Live tweaks, state inspector, link and downloads: under the animation controls."""
    return html.Div(className="toolbar", children=[
        # (a short hint, the rest in its title: the toolbar fits one row on a 1280 px
        # projector)
        dcc.Checklist(id=ID.live, options=[{"label": html.Span(
            ["live", html.Span(" (from this frame on)", className="hint")],
            title="With live on, a change to the learning rate, momentum or noise applies "
                  "from the frame the animation is at, not from the start"),
            "value": "on"}], value=[], className="toggle"),
        dcc.Checklist(id=ID.inspect, options=[{"label": "inspect state", "value": "on"}],
                      value=[], className="toggle"),
        dcc.Checklist(id=ID.check, options=[{"label": "gradient check", "value": "on"}],
                      value=[], className="toggle"),
        # copied by assets/optviz.js in the click itself (browsers allow clipboard writes
        # only there), with a fallback for pages served over plain http
        html.Button("copy link", id=ID.copy_link, className="btn small",
                    title="copy a link to this exact setup"),
        html.Button("CSV", id=ID.csv, className="btn small", title="download the run as CSV"),
        html.Button("JSON", id=ID.json, className="btn small", title="download the run as JSON"),
        html.Button("HTML", id=ID.html, className="btn small",
                    title="one HTML file whose animation plays offline (for slides)"),
        html.Button("Python", id=ID.python, className="btn small",
                    title="a short script that reproduces this run with optviz"),
        dcc.Download(id=ID.download),
        html.Span(id=ID.link_note, className="hint", role="status"),
    ])


def layout() -> html.Div:
    """The page: header, the plot column, the controls, and the stores the callbacks
    share."""
    # The page's order is the order a keyboard and a phone visit it: the plot, its
    # animation and the toolbar (live, inspect, link, downloads: one line on a
    # projector, two on a phone), the knobs a class turns while watching, the optimizer
    # rows, and only then the side plots and the rest (on a wide screen a grid puts
    # those under the plot, beside the settings). A skip link leads to the settings.
    return html.Div(className="app", children=[
        html.A("skip to the settings", href=f"#{ID.settings}", className="skip-link"),
        html.Header(className="top", children=_header()),
        # class mode (assets/optviz_class.js): the projector's code, QR and results, or a
        # student's follow / challenge bar
        html.Section(id=ID.class_panel, className="class-panel", hidden=True,
                     **{"aria-label": "class"}),
        html.Div(id=ID.caption, className="caption", role="note"),
        html.Main(className="main", children=[
            # (the toolbar under the play bar, where it shows: Tab goes from the play
            # bar to live, inspect and the downloads, then to the settings)
            html.Section(className="plot-col", children=[_graph(), _animation(),
                                                          _toolbar()]),
            html.Aside(className="controls", children=[*_settings(), *_rows()]),
            html.Div(className="below", children=_below_the_plot()),
        ]),
        *_stores(),
    ])


#: a real network's exact loss slice in the menu (optviz.networks.slice: every key at its
#: default, a 2-8-8-1 tanh MLP on XOR); a link may name any other ("net:data=moons;...")
NETWORK_SLICE = NET_PREFIX
#: a network trained in all its parameters, seen on its paths' PCA plane (every key at
#: its default; web/network_view.py)
NETWORK_TRAINING = TRAIN_PREFIX


def surface_options(current: str | None = None) -> list[dict]:
    """The surface menu: the built-in surfaces, a network's slice, the student's formula,
    and ``current`` (a network's slice a link named) if it is none of them."""
    options = [{"label": s.label, "value": n} for n, s in SURFACES.items()] + [
        {"label": "a real network's loss (XOR, 2-8-8-1 tanh MLP, a random plane)",
         "value": NETWORK_SLICE},
        {"label": "train a network in all its parameters",
         "value": NETWORK_TRAINING},
        {"label": "✎ your own formula…", "value": FORMULA}]
    for prefix, default, what in ((NET_PREFIX, NETWORK_SLICE, "network slice: "),
                                  (TRAIN_PREFIX, NETWORK_TRAINING, "network training: ")):
        if isinstance(current, str) and current.startswith(prefix) and current != default:
            options.insert(-1, {"label": what + current[len(prefix):], "value": current})
    return options


def _header() -> list:
    """The surface (or a formula), 2-D / 3-D, the scenario menu, the surface's lesson."""
    return [
        html.H1("optviz"),
        # (beside the name: on a phone the two share the first line)
        dcc.RadioItems(id=ID.view, options=[{"label": "2-D", "value": "2d"},
                                            {"label": "3-D", "value": "3d"}],
                       value="2d", inline=True, className="view-toggle"),
        html.Label(["surface ", dcc.Dropdown(id=ID.surface, options=surface_options(),
                                             value=DEFAULTS["surface"], clearable=False,
                                             className="surface-dd")],
                   className="surface-pick"),
        _network_panel(),
        html.Div(id=ID.formula_box, className="formula-box", style={"display": "none"},
                 children=[
            html.Label(["L(x, y) = ", dcc.Input(
                id=ID.formula, type="text", value=DEFAULT_FORMULA, debounce=True,
                maxLength=200, spellCheck=False, className="formula-input",
                placeholder="e.g. x**2 + 3*sin(y)*x")]),
            html.Label(["view ", dcc.Input(
                id=ID.formula_view, type="text", debounce=True, maxLength=80,
                placeholder="-5, 5, -5, 5", className="num view-input")],
                title="x_min, x_max, y_min, y_max; the minima are searched in this box"),
            html.Label(["minima ", dcc.Input(
                id=ID.formula_minima, type="text", debounce=True, maxLength=120,
                placeholder="found for you", className="num view-input")],
                title="x, y; x, y: mark the minima yourself instead of the grid search"),
            html.Span("numbers, x, y, pi, e, + − * / **, sin cos tan exp log sqrt abs "
                      "tanh sinh cosh; Enter to draw", className="hint"),
            html.Div(id=ID.formula_err, className="error", role="alert")]),
        html.Label(["scenario ", dcc.Dropdown(
            id=ID.scenario, options=[{"label": f"{i + 1}. {sc.title}", "value": n}
                                     for i, (n, sc) in enumerate(SCENARIOS.items())],
            placeholder="lecture demos…", className="scenario-dd")],
            className="scenario-pick"),
        # the first surface's sentence from the start: arriving with the first run, it
        # pushed the plot 92 px down on a phone while the page was loading
        html.Button("start a class", id=ID.class_start, className="btn small class-start",
                    title="one live lecture: students join with a code and follow this "
                          "page; challenges and their results"),
        html.Span(SURFACES[DEFAULTS["surface"]].teaches, id=ID.teaches, className="teaches"),
    ]


def _graph() -> html.Div:
    """The contour (a static background) under the paths, and the legend over them."""
    return (
        html.Div(className="graph-wrap", children=[
            # (on a phone the plot area takes the view box's shape and the legend goes
            # under it: assets/optviz.js placeLegend)
            # focusable: the arrow keys move the start point (assets/optviz.js keyStart)
            html.Div(className="plot-area", tabIndex="0", role="application",
                     **{"aria-label": "the plot: arrow keys move the start point, "
                                      "with Shift in smaller steps",
                        "aria-keyshortcuts": "ArrowLeft ArrowRight ArrowUp ArrowDown"},
                     children=[
                dcc.Graph(id=ID.background, className="bg-graph",
                          config={"displayModeBar": False, "staticPlot": True}),
                dcc.Graph(id=ID.graph, className="main-graph",
                          config={"displaylogo": False, "scrollZoom": False,
                                  # (zoom, pan, reset and the picture: four Tab
                                  # stops, not seven)
                                  "modeBarButtonsToRemove": ["lasso2d", "select2d",
                                                             "zoomIn2d", "zoomOut2d",
                                                             "autoScale2d",
                                                             # uploads to Plotly Cloud
                                                             "sendChartToCloud"]})]),
            # (it changes every frame while playing: the run's summary speaks instead)
            html.Div(id=ID.legend, className="legend", **{"aria-hidden": "true"}),
        ])
    )


def _animation() -> html.Div:
    """Restart, step, play / pause, the speed and the frame scrubber."""
    return (
        html.Div(className="anim", children=[
            html.Button("↺", id=ID.restart, title="restart", className="btn"),
            html.Button("◀", id=ID.step_back, title="step back", className="btn"),
            html.Button("▶ play", id=ID.play, title="play / pause",
                        className="btn play"),
            html.Button("▶", id=ID.step_fwd, title="step forward", className="btn"),
            # (beside the buttons: on a phone they share a line, the scrubber has the next)
            html.Label([html.Span("speed ", className="speed-word"), dcc.Dropdown(
                id=ID.speed, options=[{"label": f"{v}×", "value": v}
                                      for v in SPEEDS],
                value=2, clearable=False, className="speed-dd")], className="speed"),
            html.Div(dcc.Slider(id=ID.scrub, min=0, max=DEFAULTS["steps"], step=1,
                                value=DEFAULTS["steps"], marks=None,
                                allow_direct_input=False, updatemode="drag"),
                     className="scrub"),
            html.Span(id=ID.frame_text, className="frame-text",
                      **{"aria-live": "off"}),   # written by assets/optviz.js
        ])
    )


def _below_the_plot() -> list:
    """Inspector, gradient check, status, side plots, data, Explore, equations,
    and the plot's text alternative: a table of every row's outcome (filled by
    assets/optviz.js) and a polite announcement when a run changes."""
    return [
        html.Div(id=ID.summary, className="sr-only", role="status",
                 **{"aria-live": "polite"}),
        html.Div(id=ID.inspector, className="inspector"),   # assets/optviz.js
        html.Div(id=ID.gradcheck, className="inspector"),   # assets/optviz.js
        html.Div(id=ID.status, className="status", role="alert"),
        html.Details(className="results-box", children=[
            html.Summary("results table (the plot in words)"),
            html.Div(id=ID.results)]),
        # the side plots: drawn by assets/optviz.js with Plotly itself, once the paths are
        # on the screen and a plot is in view (three of Dash's graphs, each drawn empty as
        # the page opened, were a tenth of the first picture)
        html.Div(className="side", children=[
            html.Div(id=ID.loss, className="side-graph"),
            html.Div(id=ID.lr_plot, className="side-graph"),
            html.Div(id=ID.gnorm, className="side-graph"),
        ]),
        html.Div(id=ID.data_box, className="data-box", style={"display": "none"},
                 children=[dcc.Graph(id=ID.data_plot, className="data-graph",
                                     config={"displayModeBar": False})]),
        explore_panel(),
        html.Section(className="equations-box", children=[
            html.H2("Update rules"),
            # MathJax (700 KB of script) after the first picture: see assets/optviz.js
            dcc.Markdown(id=ID.equations, mathjax=False, className="equations"),
            # typeset first, alone, to start MathJax (assets/optviz.js loadMathJax)
            html.Div(className="mathjax-primer mathjax_ignore", **{"aria-hidden": "true"},
                     children=dcc.Markdown("$x$", id=ID.mathjax_primer, mathjax=False))]),
    ]


def _rows() -> list:
    """The optimizer rows: the lecture's six shown, the others under "more"."""
    shown, _ = rows_children([{"uid": n, "on": True} for n in DEFAULT_OPTIMIZERS])
    return [
        html.H2("Optimizers", className="optimizers-head"),
        html.Div(id=ID.rows, className="rows", children=shown),
        html.Details(id=ID.more, className="more", children=[
            html.Summary("more optimizers"),
            # filled when it first opens (more_children)
            html.Div(id=ID.more_rows, className="rows", children=[])]),
    ]


def _network_panel() -> html.Section:
    """A network's keys (a training's ``train:`` name or a slice's ``net:``), shown while
    one is the surface: the data, its samples, noise and held-out share, the hidden
    widths, activation, initialization and its seed, the loss and the plane. The name in
    the surface menu is what the page runs and links; these edit it (assets/
    optviz_panels.js networkBox), and the server says what is wrong with a value here."""
    keys = network_view.KEYS

    def pick(key, options, title=""):
        return dcc.Dropdown(id=NET_FIELDS[key], options=options, value=keys[key],
                            clearable=False, searchable=False, className="net-dd",
                            **({"title": title} if title else {}))

    def number(key):
        # (no min / max: the browser would keep a value out of range from the page, which
        # says what the range is instead, under the panel)
        return dcc.Input(id=NET_FIELDS[key], type="number", step="any",
                         value=float(keys[key]), debounce=True, className="num")

    def item(label, control, title):
        return html.Label([html.Span(label, className="net-label"), control],
                          className="net-item", title=title)

    # (beside the surface menu, folded: open, it lies over the page, which keeps the
    # plot and the sliders a lecture turns where they were)
    return html.Section(id=ID.net_box, className="net-box", hidden=True,
                        **{"aria-label": "network"}, children=[html.Details([
        html.Summary(["network ", html.Span(id=ID.net_summary, className="net-summary")]),
        html.Div(className="net-grid", children=[
            item("data", pick("data", [{"label": n, "value": n, "title": d[2]}
                                       for n, d in DATASETS.items()]),
                 "the dataset (each is drawn from its seed)"),
            item("samples", number("n"), "samples in all, 8 to 1000"),
            item("noise", number("noise"), "the features' noise, 0 to 1"),
            item("held out", number("test"),
                 "the share of the samples kept for the test curves, 0.05 to 0.8"),
            item("hidden", dcc.Input(id=NET_FIELDS["hidden"], type="text",
                                     value=keys["hidden"], debounce=True, maxLength=40,
                                     spellCheck=False, className="num net-hidden"),
                 "the hidden layers' widths joined by -, as 8-8 (empty: none)"),
            item("activation", pick("act", list(ACTIVATIONS)), "every hidden layer's"),
            item("init", pick("init", [{"label": n, "value": n, "title": d}
                                       for n, d in INITS.items()]),
                 "how the weights are drawn"),
            item("init seed", number("init_seed"),
                 "the initialization's seed: one draw, shared by every row"),
            item("loss", pick("loss", ["auto", *LOSSES]),
                 "auto: BCE for two classes, cross-entropy for more, MSE for a "
                 "regression"),
            item("plane", pick("plane", list(network_view.PLANES)),
                 "the plane the loss is drawn on: the paths' principal directions (pca), "
                 "the init and two rows' ends, the two sharpest curvatures (hessian) or a "
                 "random one"),
        ])]),
        html.Div(id=ID.net_err, className="error", role="alert"),
    ])


def _noise_field() -> html.Div:
    """σ: a surface's gradient noise, a network's minibatch (the hint says which)."""
    return _field(
        "batch noise", "σ", dcc.Slider(
            id=ID.noise, min=0, max=PAGE_LIMITS["noise"][1] / 2, step=0.05,
            value=DEFAULTS["noise"], marks={0: "0", 2: "2", 5: "5", 10: "10"},
            updatemode="drag", className=FOLLOWS),
        html.Span(id=ID.noise_text, className="value", **{"data-reference": REFERENCE_NOISE}),
        error_id=ID.noise_err,
        hint=html.Span([html.Span(f"gradient + σ·N(0, I); as a batch size: "
                                  f"({REFERENCE_NOISE:g} / σ)²", className="no-training"),
                        html.Span(f"a training's minibatch: ({REFERENCE_NOISE:g} / σ)² "
                                  "samples a step", className="training-only")]))


def _settings() -> list:
    """The global knobs (α, μ/β₁, β₂/ρ, σ), the batch, schedule, steps, seed, clipping."""
    lo, hi = PAGE_LIMITS["lr_log10"]
    lr0 = suggested_lr_log10(DEFAULTS["surface"])
    # (decades: 10⁻⁵ and 10⁻⁴ as powers, "1e-05 0.0001" ran into each other)
    sup = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")
    marks = {v: {"label": f"{10 ** v:g}" if v >= -3 else f"10{str(v).translate(sup)}"}
             for v in range(int(lo), int(hi) + 1)}
    return [
        html.H2("Settings", id=ID.settings, tabIndex="-1"),
        # the slider moves in log10 α; its box takes α itself (Enter commits it)
        _field("learning rate", "α", html.Div(className="lr-row", children=[
            dcc.Slider(id=ID.lr, min=lo, max=hi, step=0.01, value=lr0, marks=marks,
                       allow_direct_input=False, updatemode="drag", className=FOLLOWS),
            # (no min / max: the browser would keep an α out of range from the page,
            # which says what the range is instead)
            dcc.Input(id=ID.lr_box, type="number", step="any",
                      value=float(f"{alpha(lr0):.3g}"), debounce=True,
                      className="num lr-box")]),
            html.Span(f"α = {alpha(lr0):g}", id=ID.lr_text, className="value"),
            error_id=ID.lr_err,
            hint="log scale"),
        _field("momentum", "μ / β₁", dcc.Slider(
            id=ID.beta1, min=0, max=0.999, step=0.001, value=DEFAULTS["beta1"],
            marks={0: "0", 0.5: "0.5", 0.9: "0.9"}, updatemode="drag", className=FOLLOWS),
            error_id=ID.beta1_err),
        _field("second moment", "β₂ / ρ", dcc.Slider(
            id=ID.beta2, min=0, max=0.999, step=0.001, value=DEFAULTS["beta2"],
            marks={0: "0", 0.5: "0.5", 0.999: "0.999"}, updatemode="drag", className=FOLLOWS),
            error_id=ID.beta2_err),
        _noise_field(),
        _field("steps", "T", dcc.Input(id=ID.steps, type="number", min=1,
                                       max=PAGE_LIMITS["steps"][1], step=1,
                                       value=DEFAULTS["steps"], debounce=True,
                                       className="num"), error_id=ID.steps_err),
        html.Div(id=ID.batch_box, style={"display": "none"}, children=[
            _field("minibatch size", "b", dcc.Input(
                # (no min: the browser would turn 0 into "empty", the full
                # batch, silently; the server says what the range is)
                id=ID.batch, type="number", step=1, placeholder="full batch",
                debounce=True, className="num"), error_id=ID.batch_err,
                hint="real minibatches of the data, drawn without replacement, the "
                     "same draw for every optimizer; empty = all samples")]),
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
        _field("noise seed", "", html.Div(className="inline", children=[
            dcc.Input(id=ID.seed, type="number", min=0, step=1, value=DEFAULTS["seed"],
                      debounce=True, className="num"),
            html.Button("resample", id=ID.resample, className="btn")]),
            error_id=ID.seed_err),
        _field("clip gradient norm", "‖g‖ ≤", dcc.Input(
            id=ID.clip, type="number", min=0, step="any", placeholder="off",
            debounce=True, className="num"), error_id=ID.clip_err),
        # (a network's training starts from its initialization, its σ draws minibatches:
        # assets/optviz_panels.js networkBox marks the page while one is shown)
        html.P("Click the plot to start every optimizer there.", className="hint no-training"),
        html.P("A network starts from its initialization (init seed in the network "
               "panel); σ draws its minibatches, (4 / σ)² samples a step.",
               className="hint training-only"),
    ]


def _stores() -> list:
    """The page's state, all in the browser (the server keeps none)."""
    return [
        dcc.Store(id=ID.run), dcc.Store(id=ID.start),
        dcc.Store(id=ID.fig_key), dcc.Store(id=ID.drawn), dcc.Store(id=ID.click),
        dcc.Store(id=ID.applied), dcc.Store(id=ID.live_store),
        dcc.Store(id=ID.query), dcc.Store(id=ID.link), dcc.Store(id=ID.pushed),
        dcc.Store(id=ID.rows_store),
        dcc.Store(id=ID.net_keys, data={
            "defaults": network_view.NAME_DEFAULTS, "fields": NET_FIELDS,
            "numbers": NET_NUMBERS,
            "planes": {network_view.PREFIX: network_view.PLANES,
                       NET_PREFIX: network_view.SLICE_PLANES}}),
    ]
