"""The web layer without a browser: control parsing, figure functions, and the main
callback answered by the real Flask app (what the Dash renderer POSTs)."""
import base64
import functools
import json

import numpy as np
import plotly.graph_objects as go
import pytest

from optviz import OPTIMIZERS, OptimizerSpec, Scene, simulate
from optviz.scenarios import SCENARIOS
from optviz.web import figures
from optviz.web.callbacks import compute
from optviz.web.controls import (
    DEFAULT_FORMULA,
    REFERENCE_NOISE,
    ControlError,
    batch_size_for,
    scene_from_controls,
)
from optviz.web.layout import DEFAULTS, SUGGESTED_LR

DEFAULT_ROWS = [{"uid": n, "on": True} for n in
                ("gd", "momentum", "nesterov", "adagrad", "rmsprop", "adam")]


def controls(**over):
    c = {"surface": "ill_conditioned", "view": "2d", "lr_log10": -1.5, "beta1": 0.9,
         "beta2": 0.999, "noise": 0.0, "schedule": "constant", "gamma": 0.5, "step_size": 100,
         "warmup": 0, "steps": 300, "seed": 0, "clip_norm": None, "start": None,
         "rows": DEFAULT_ROWS}
    c.update(over)
    return c


def decode(t):
    if isinstance(t, list):                      # (a constant row: two points)
        return np.array(t, dtype="<f4")
    return np.frombuffer(base64.b64decode(t["bdata"]), dtype="<f4")


# -- controls ------------------------------------------------------------------------

def test_controls_build_the_lecture_scene():
    s = scene_from_controls(controls())
    assert [o.name for o in s.optimizers] == [r["uid"] for r in DEFAULT_ROWS]
    lr = 0.0316                                   # 10 ** -1.5 to three digits, as shown
    assert s.optimizers[0].hparams == {"lr": lr, "momentum": 0.0, "dampening": 0.0,
                                       "nesterov": False, "weight_decay": 0.0}
    assert s.optimizers[1].hparams["momentum"] == 0.9
    assert s.optimizers[4].hparams["alpha"] == 0.999            # beta2 / rho -> rmsprop
    assert s.optimizers[5].hparams["betas"] == (0.9, 0.999)
    assert s.starts.tolist() == [list(s.get_surface().default_start)]


def test_row_overrides_and_duplicate_labels():
    rows = DEFAULT_ROWS[:1] + [{"uid": "gd~2", "on": True, "lr": 0.3},
                               {"uid": "adam", "on": True, "beta1": "0.5"}]
    s = scene_from_controls(controls(rows=rows))
    # the row that follows the α slider says its α too when a copy has its own
    assert s.labels == ["GD (α=0.0316)", "GD #2 (α=0.3)", "Adam"]
    assert s.optimizers[1].hparams["lr"] == 0.3
    assert s.optimizers[2].hparams["betas"] == (0.5, 0.999)


@pytest.mark.parametrize("over, control", [
    (dict(lr_log10=3), "lr"), (dict(lr_log10="abc"), "lr"), (dict(lr_log10=None), "lr"),
    (dict(lr_log10=float("nan")), "lr"), (dict(beta1=1.0), "beta1"), (dict(beta2=-1), "beta2"),
    (dict(noise=1e9), "noise"), (dict(steps=0), "steps"), (dict(steps=10**9), "steps"),
    (dict(steps=2.5), "steps"), (dict(steps=None), "steps"), (dict(seed=-3), "seed"),
    (dict(schedule="sideways"), "schedule"), (dict(schedule="step", gamma=7), "gamma"),
    (dict(schedule="step", step_size=0), "step_size"), (dict(warmup=400), "warmup"),
    (dict(surface="nope"), "surface"), (dict(start=[1e9, 0]), "start"),
    (dict(start="here"), "start"), (dict(clip_norm=-1), "clip_norm"),
    (dict(rows=[]), "rows"), (dict(rows="all"), "rows"), (dict(rows=[{"uid": "zz"}]), "rows"),
    (dict(rows=[{"uid": "gd", "on": False}]), "rows"),
    (dict(rows=[{"uid": "gd", "on": True}, {"uid": "gd", "on": True}]), "rows"),
    (dict(rows=[{"uid": "gd", "on": True, "lr": -1}]), "row:gd"),
    (dict(rows=[{"uid": "adam~2", "on": True, "beta2": "x"}]), "row:adam~2"),
    (dict(rows=[{"uid": f"gd~{i}", "on": True} for i in range(2, 40)]), "rows"),
])
def test_bad_controls_name_the_control(over, control):
    with pytest.raises(ControlError) as e:
        scene_from_controls(controls(**over))
    assert e.value.control == control
    assert 0 < len(str(e.value)) < 200


def test_noise_as_batch_size():
    assert batch_size_for(0) == float("inf")
    assert batch_size_for(REFERENCE_NOISE / 4) == pytest.approx(16)


def test_suggested_rates_show_every_default_optimizer_without_divergence():
    for surface, lr in SUGGESTED_LR.items():
        if surface == "saddle":          # everything leaves an unbounded saddle eventually
            continue
        s = scene_from_controls(controls(surface=surface, lr_log10=np.log10(lr),
                                         formula=DEFAULT_FORMULA))
        assert (simulate(s).diverged_at == -1).all(), surface


# -- figures -------------------------------------------------------------------------

@pytest.fixture(scope="module")
def run():
    return simulate(Scene("rosenbrock", ["gd", "adam", OptimizerSpec("gd", lr=0.05)],
                          steps=80))


def test_main_figure_structure(run):
    colors = ["#111111", "#222222", "#333333"]
    surface = run.scene.get_surface()
    fig = figures.main_figure(surface, run, colors)
    go.Figure(fig)                                    # valid for plotly.js
    data = fig["data"]
    assert len(data) == 3                             # paths are drawn from meta in 2-D
    assert data[0]["x"] == []                         # the contour is underneath
    assert data[1]["x"] == [1.0] and data[1]["name"] == "minimum"
    assert fig["layout"]["paper_bgcolor"] == "rgba(0,0,0,0)"
    bg = figures.background_figure(surface)
    go.Figure(bg)
    assert bg["data"][0]["type"] == "contour" and len(bg["data"]) == 1
    assert bg["layout"]["xaxis"]["range"] == fig["layout"]["xaxis"]["range"]
    assert bg["layout"]["margin"] == fig["layout"]["margin"]
    assert fig["layout"]["xaxis"]["range"] == list(surface.view[:2])
    assert fig["layout"]["yaxis"]["range"] == list(surface.view[2:])


@pytest.mark.parametrize("view", ["2d", "3d"])
def test_the_surface_grid_is_sent_as_a_grid_with_its_minimum_in_place(view):
    # without its shape Plotly read z as one long row: the contour was interpolated from
    # the grid's diagonal (Rosenbrock's valley missed its minimum) and 3-D drew nothing
    surface = Scene("rosenbrock").get_surface()
    if view == "2d":
        trace = figures.background_figure(surface)["data"][0]
    else:
        run = simulate(Scene("rosenbrock", [OptimizerSpec("gd")], steps=5))
        trace = figures.main_figure(surface, run, ["#111111"], view="3d")["data"][0]
    x, y = decode(trace["x"]), decode(trace["y"])
    rows, cols = map(int, trace["z"]["shape"].split(","))
    assert (rows, cols) == (len(y), len(x)) and rows > 50
    z = decode(trace["z"]).reshape(rows, cols)
    i, j = np.unravel_index(np.argmin(z), z.shape)          # z[row of y, column of x]
    assert abs(x[j] - 1) < 0.1 and abs(y[i] - 1) < 0.1
    np.testing.assert_array_less(z[i, j], z[rows // 2, 5])    # not flat


def test_meta_carries_every_path_as_float32(run):
    m = figures.meta(run, ["gd", "adam", "gd~2"], ["#a", "#b", "#c"])
    for i, row in enumerate(m["rows"]):
        np.testing.assert_allclose(decode(row["x"]), run.path[i, 0, :, 0].astype("f4"))
        np.testing.assert_allclose(decode(row["y"]), run.path[i, 0, :, 1].astype("f4"))
        assert np.isfinite(decode(row["loss"])).all()
    assert m["start"] == run.path[0, 0, 0].tolist()
    assert run.diverged_at[2, 0] > 0 and m["rows"][2]["diverged_at"] == run.diverged_at[2, 0]


def test_typed_arrays_never_carry_inf_or_nan():
    t = figures.typed([1.0, 1e300, -np.inf, np.nan])
    assert np.isfinite(decode(t)).all() and decode(t)[1] == np.float32(1e30)


def test_3d_figure_has_a_surface_and_3d_paths(run):
    fig = figures.main_figure(run.scene.get_surface(), run, ["#000"] * 3, view="3d")
    go.Figure(fig)
    assert fig["data"][0]["type"] == "surface"
    assert {d["type"] for d in fig["data"][1:]} == {"scatter3d"}
    assert len(decode(fig["data"][4]["z"])) == 81
    assert fig["data"][6]["mode"] == "markers" and len(fig["data"][6]["z"]) == 1


def test_side_figures(run):
    loss, lr, gnorm = figures.side_figures(run.scene.get_surface(), run, ["#000"] * 3)
    for f in (loss, lr, gnorm):
        go.Figure(f)
        assert len(f["data"]) == 3
    assert loss["layout"]["yaxis"]["type"] == "log"
    np.testing.assert_allclose(decode(loss["data"][1]["y"]),
                               np.maximum(run.loss[1, 0], 1e-16).astype("f4"), rtol=1e-6)
    assert all(np.isfinite(decode(d["y"])).all() for f in (loss, lr, gnorm) for d in f["data"])
    np.testing.assert_allclose(decode(lr["data"][2]["y"]), 0.05)
    # a constant rate is a line from the first update to the last: two points
    assert lr["data"][2]["x"] == [0, 79] and len(lr["data"][2]["y"]) == 2
    assert len(decode(gnorm["data"][0]["y"])) == 80


def test_loss_plot_is_linear_without_a_minimum():
    r = simulate(Scene("saddle", ["gd"], steps=10))
    loss, _, _ = figures.side_figures(r.scene.get_surface(), r, ["#000"])
    assert loss["layout"]["yaxis"]["type"] == "linear"


def test_a_linear_loss_plot_keeps_to_the_contour_plots_range():
    # the saddle demo: momentum escapes to L ~ -2e11, GD stalls near 0, Adam reaches
    # about -9; the y axis stops at the box's lowest loss, -4, so GD's and Adam's lines
    # stay apart instead of one flat line at 0
    from optviz.scenarios import scenario_scene
    scene = scenario_scene("saddle")
    r = simulate(scene)
    gd, momentum = scene.labels.index("GD"), scene.labels.index("Momentum")
    assert r.loss[momentum, 0].min() < -1e6 and r.loss[gd, 0, -1] > -0.01
    loss, _, _ = figures.side_figures(scene.get_surface(), r, ["#000"] * len(scene.labels))
    lo, hi = loss["layout"]["yaxis"]["range"]
    assert -4.5 < lo < -4 and 3.24 < hi < 3.7       # L(start) = 3.24, box min -4
    assert loss["layout"]["yaxis"]["autorange"] is False
    # a path that stays in the box: the range is its own losses, start included
    r = simulate(Scene("saddle", [OptimizerSpec("gd", lr=0.1)], starts=[(0.5, 0.0)], steps=50))
    lo, hi = figures.side_figures(r.scene.get_surface(), r, ["#000"])[0]["layout"]["yaxis"]["range"]
    assert lo < r.loss.min() < r.loss.max() < hi < 0.25 + 0.1


def test_meta(run):
    m = figures.meta(run, ["gd", "adam", "gd~2"], ["#a", "#b", "#c"])
    assert m["steps"] == 80 and m["loss_offset"] == 0.0
    assert [r["diverged_at"] for r in m["rows"]] == run.diverged_at[:, 0].tolist()
    assert m["rows"][2]["uid"] == "gd~2"
    json.dumps(m, allow_nan=False)


def test_row_colors_are_distinct_for_the_default_rows_and_copies():
    uids = [r["uid"] for r in DEFAULT_ROWS] + ["gd~2", "gd~3", "adam~2"]
    colors = [figures.row_color(u) for u in uids]
    assert len(set(colors)) == len(colors)


# -- the main callback ------------------------------------------------------------------

def test_compute_patches_when_only_numbers_change_and_stays_small():
    bg, main, side, meta, key, _ = compute(controls())
    assert bg["data"][0]["type"] == "contour"
    assert isinstance(main, dict) and len(main["data"]) == 3
    full = len(json.dumps(main)) + len(json.dumps(bg)) + sum(len(json.dumps(f)) for f in side)
    bg2, main2, side2, meta2, key2, _ = compute(controls(lr_log10=-1.2), key)
    assert key2 == key
    from dash import no_update
    assert bg2 is no_update and main2 is no_update      # 2-D: only the data moves
    small = sum(len(json.dumps(f)) for f in side2) + len(json.dumps(meta2))
    assert small < 150_000 and small < full + len(json.dumps(meta))
    # 3-D: only the moving traces (the page puts them in place), one per row and mark
    _, fig3d, *_, key3d, _ = compute(controls(view="3d"), key)
    _, moving, *_ = compute(controls(view="3d", lr_log10=-1.1), key3d)
    assert isinstance(moving, list) and 0 < len(moving) < len(fig3d["data"])
    assert all(t["type"] == "scatter3d" for t in moving)
    *_, key4, _ = compute(controls(rows=DEFAULT_ROWS[:3]), key)
    assert key4 != key


@pytest.fixture(scope="module")
def client():
    from app import app
    return app.server.test_client()


def _page_rows_store(rows=DEFAULT_ROWS, more=False):
    """The rows store as the page's rowsStore (assets/optviz.js) fills it for ``rows``:
    every row panel of the page (the setup's rows; with ``more``, as once "more
    optimizers" has been opened, then every other optimizer, off), each control's type
    and value, read off the layout's own components. (A new copy each call; the layout
    is read once per ``rows``: the load benchmark sends thousands.)"""
    return json.loads(_rows_store_json(json.dumps(rows), more))


@functools.lru_cache(maxsize=16)
def _rows_store_json(rows_json, more):
    from optviz.web.callbacks import _ROW_KEYS
    from optviz.web.layout import rows_children

    store = {}
    shown, rest = rows_children(json.loads(rows_json))
    for c in _components(shown + (rest if more else [])):
        cid = getattr(c, "id", None)
        if isinstance(cid, dict) and cid.get("type") in _ROW_KEYS:
            store.setdefault(cid["row"], {"row": cid["row"]})[cid["type"]] = \
                getattr(c, "value", None)
    return json.dumps(list(store.values()))


def _components(roots):
    """Every Dash component in the trees ``roots`` (a component or a list), roots
    included, in page order."""
    for root in roots if isinstance(roots, list) else [roots]:
        yield root
        yield from (c for c in root._traverse() if hasattr(c, "to_plotly_json"))


def _main_callback_request(lr_log10, steps=300, state=None, rows=DEFAULT_ROWS):
    """A main-callback request as the Dash renderer sends it: every control at its default
    except ``lr_log10`` and ``steps``, the rows store of a page showing ``rows`` (the six
    default rows on, then the other optimizers off); ``state`` values by component id
    (start, fig-key, live, live-store, scrub, scenario; the sliders' by default)."""
    from app import app
    output = "run.data"                          # the main callback's one output
    spec = app.callback_map[output]
    values = {"surface": DEFAULTS["surface"], "view": "2d", "lr": lr_log10, "beta1": 0.9,
              "beta2": 0.999, "noise": 0, "schedule": "constant", "gamma": 0.5,
              "step-size": 100, "warmup": 0, "steps": steps, "seed": 0, "clip": None,
              "click-start": None, "applied": None, "inspect": [], "check": [],
              "formula": DEFAULT_FORMULA, "formula-view": None, "formula-minima": None,
              "batch": None, "rows-store": _page_rows_store(rows)}
    inputs = [{"id": dep["id"], "property": dep["property"], "value": values[dep["id"]]}
              for dep in spec["inputs"]]
    outputs = {"id": "run", "property": "data"}
    state = state or {}
    return {"output": output, "outputs": outputs, "inputs": inputs,
            "state": [{"id": d["id"], "property": d["property"],
                       "value": state.get(d["id"], values.get(d["id"]))}
                      for d in spec["state"]],
            "changedPropIds": ["lr.value"]}


def run_answer(response: dict) -> dict:
    """The run a main-callback answer carries (its one output, the run store)."""
    return response["response"]["run"]["data"]


@pytest.mark.parametrize("store, where", [
    ("all", "status"), (None, "status"), (5, "status"), ([1, 2], "status"),
    ([{"row": 3, "row-on": ["on"]}], "status"), ([{"row": "gd", "row-on": True}] * 300, "status"),
    ([{"row": "gd", "row-on": ["on"]}, {"row": "gd", "row-on": ["on"]}], "status"),
    ([{"row": "gd", "row-on": ["on"], "row-lr": "x"}], "row:gd"),
    ([{"row": "gd", "row-on": []}], "status")])
def test_a_hostile_rows_store_gets_a_message_and_keeps_the_picture(client, store, where):
    body = _main_callback_request(-1.5)
    next(i for i in body["inputs"] if i["id"] == "rows-store")["value"] = store
    r = client.post("/_dash-update-component", json=body)
    assert r.status_code == 200
    answer = run_answer(r.get_json())
    assert set(answer) == {"errors"}                          # nothing else redrawn
    (slot, message), = answer["errors"].items()
    assert slot == where and message


def test_the_rows_store_reads_as_the_page_rows():
    from optviz.web.callbacks import _rows_from
    from optviz.web.controls import parse_rows
    store = _page_rows_store(more=True)
    assert [r["row"] for r in store[:6]] == [r["uid"] for r in DEFAULT_ROWS] and \
        len(store) == len(OPTIMIZERS)
    rows = _rows_from(store)
    assert rows[0] == {"uid": "gd", "on": True, "lr": None, "noise": None,
                       "weight_decay": None, "constant": False}
    assert [r.uid for r in parse_rows(rows)] == [r["uid"] for r in DEFAULT_ROWS]
    store[1]["row-b1"], store[7]["row-on"] = 0.5, ["on"]       # momentum's mu, AdamW on
    on = parse_rows(_rows_from(store))
    assert on[1].beta1 == 0.5 and [r.uid for r in on][-1] == store[7]["row"]


def test_a_link_draws_the_row_panels_again_only_when_they_differ():
    """_shows_rows: the page's own store for a setup's rows is those rows (no re-render);
    any difference, or junk, means drawing them again."""
    from optviz.web.callbacks import _shows_rows
    from optviz.web.links import controls_from_query
    rows = controls_from_query("lr=0.1&steps=200")[0]["rows"]      # the default rows
    assert _shows_rows(_page_rows_store(), rows)
    assert _shows_rows(_page_rows_store(more=True), rows)        # "more" opened
    assert not _shows_rows(_page_rows_store(more=True)[:8], rows)   # part of it: junk
    other = controls_from_query("rows=gd,sgd:mu=0:sigma=0.5,adam")[0]["rows"]
    assert _shows_rows(_page_rows_store(other), other)
    assert not _shows_rows(_page_rows_store(), other)
    store = _page_rows_store()
    store[0]["row-lr"] = 0.5                                      # GD's own alpha
    assert not _shows_rows(store, rows)
    store = _page_rows_store()
    store[2]["row-on"] = []                                       # Nesterov off
    assert not _shows_rows(store, rows)
    store = _page_rows_store()
    store[0], store[1] = store[1], store[0]                       # order
    assert not _shows_rows(store, rows)
    for junk in (None, "x", [1, 2], [{"row": "gd"}] * 300, {}):
        assert not _shows_rows(junk, rows)


def test_more_optimizers_are_drawn_when_first_opened():
    """The panels under "more optimizers" are not in the page's first layout; opening it
    draws every optimizer not listed, off, once."""
    from dash.exceptions import PreventUpdate

    from optviz.web.callbacks import more_rows
    from optviz.web.layout import layout
    ids = {str(getattr(c, "id", "")) for c in _components(layout())}
    assert not any("'row': 'adamw'" in i for i in ids) and any("'row': 'adam'" in i for i in ids)
    panels = more_rows(True, _page_rows_store())
    uids = [p.id["row"] for p in panels]
    assert uids == [n for n in OPTIMIZERS if n not in {r["uid"] for r in DEFAULT_ROWS}]
    assert all(p.id["type"] == "row" for p in panels)
    for closed_or_drawn in ((False, _page_rows_store()), (True, _page_rows_store(more=True))):
        with pytest.raises(PreventUpdate):
            more_rows(*closed_or_drawn)
    assert len(more_rows(True, "junk")) == len(OPTIMIZERS)       # untrusted: all, bounded


def test_main_callback_over_http(client):
    r = client.post("/_dash-update-component", json=_main_callback_request(-1.5))
    assert r.status_code == 200
    body = run_answer(r.get_json())
    fig = body["set"]["graph"]["figure"]
    assert len(fig["data"]) == 3
    assert body["set"]["graph-bg"]["figure"]["data"][0]["type"] == "contour"
    assert len(body["meta"]["rows"]) == 6
    assert body["meta"]["steps"] == 300
    assert len(body["side"]) == 3
    assert body["errors"] == {}
    # all ASCII (titles carry entities, figures._text): plotly's JSON escaping, which every
    # answer goes through, runs 2.3x slower on a text with one character that is not
    assert r.get_data(as_text=True).isascii()
    assert body["side"][1]["layout"]["title"]["text"] == "learning rate &#945;_t"


def test_bad_value_over_http_gives_message_and_keeps_figure(client):
    r = client.post("/_dash-update-component", json=_main_callback_request(-1.5, steps=-4))
    assert r.status_code == 200
    body = run_answer(r.get_json())
    assert set(body) == {"errors"}                          # the last good picture stays
    assert "steps" in body["errors"]["steps-err"]


# -- untrusted values ---------------------------------------------------------------------

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

junk = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=8)),
    lambda inner: st.one_of(st.lists(inner, max_size=4),
                            st.dictionaries(st.text(max_size=6), inner, max_size=4)),
    max_leaves=12)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from(sorted(controls())), junk, max_size=6))
def test_any_junk_in_the_controls_gives_control_error_or_a_valid_scene(over):
    try:
        scene = scene_from_controls(controls(**over))
    except ControlError as e:
        assert e.control and str(e)
    else:
        assert scene.steps <= 5000 and len(scene.optimizers) <= 24


def test_gradient_check_finds_right_gradients_right_and_a_wrong_one_wrong():
    import dataclasses

    from optviz.surfaces import SURFACES
    pts = np.random.default_rng(1).uniform(-2, 2, (50, 2))
    for name, surface in SURFACES.items():
        _, _, rel = surface.gradient_check(pts)
        assert np.nanmax(rel) < 1e-6, name
    ros = SURFACES["rosenbrock"]
    wrong = dataclasses.replace(ros, grad_xy=lambda x, y: (ros.grad_xy(x, y)[0] * 1.01,
                                                             ros.grad_xy(x, y)[1]))
    _, _, rel = wrong.gradient_check(pts)
    assert np.median(rel) > 1e-3          # a 1 % slip in one component shows


def test_every_worker_can_serve_the_page_scripts_before_its_first_page():
    """A worker that never rendered the index must still serve Dash's scripts (the page
    itself may have come from another gunicorn worker)."""
    from optviz.web import create_app
    app = create_app()
    assert {"dash"} <= set(app.registered_paths)
    client = app.server.test_client()
    paths = [p for p in app.registered_paths["dash"] if p.endswith(".js")]
    assert paths
    r = client.get("/_dash-component-suites/dash/dcc/dash_core_components.js")
    assert r.status_code == 200


def test_the_page_cache_shares_runs_whose_seed_draws_nothing():
    """Students who moved the seed slider without noise on get the cached run (one
    simulation), and each still gets a Run of the scene they asked for."""
    from optviz.web import callbacks

    callbacks._simulate_cached.cache_clear()
    plain = Scene("bowl", [OptimizerSpec("gd", lr=0.1)], steps=40, seed=1)
    a, b = callbacks._run(plain), callbacks._run(plain.replace(seed=2))
    assert callbacks._simulate_cached.cache_info().misses == 1
    assert (a.scene.seed, b.scene.seed) == (1, 2)
    assert np.array_equal(b.path, simulate(plain.replace(seed=2)).path)
    noisy = plain.replace(noise=0.5)
    c, d = callbacks._run(noisy), callbacks._run(noisy.replace(seed=2))
    assert callbacks._simulate_cached.cache_info().misses == 3
    assert not np.array_equal(c.path, d.path)


def test_the_layout_starts_where_a_link_without_settings_does():
    # (a plain load of the bare address applies no link: the layout must be that setup,
    # its teaching sentence included, there before the first run so nothing moves)
    from optviz.surfaces import SURFACES
    from optviz.web.callbacks import CONTROLS
    from optviz.web.layout import ID, layout
    from optviz.web.links import controls_from_query

    found = {c.id: c for c in _components(layout()) if isinstance(getattr(c, "id", None), str)}
    setup, problems = controls_from_query("")
    assert problems == []
    for key in ("lr_log10", "beta1", "beta2", "noise", "steps", "seed", "surface"):
        assert getattr(found[CONTROLS[key]], "value", None) == setup[key], key
    assert found[ID.teaches].children == SURFACES[setup["surface"]].teaches


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_a_large_scene_run_row_by_row_is_the_whole_scenes_run_bit_for_bit(name):
    """The page runs a large scene's rows apart, remembering each (callbacks._run_by_rows):
    what it draws must be simulate's Run exactly, the inspector's state included."""
    from optviz.web import callbacks
    # (a network's slice: every step is a forward and backward pass, 200 within the price)
    scene = SCENARIOS[name].scene
    scene = scene.replace(steps=200 if scene.surface.startswith("net:") else 1000)
    for record_state in (False, True):
        want = simulate(scene, record_state=record_state)
        for _ in range(2):                          # run, then from what it remembers
            got = callbacks._run_by_rows(scene, record_state, False)
            for field in ("path", "loss", "lr", "diverged_at", "grad"):
                assert np.array_equal(getattr(got, field), getattr(want, field),
                                      equal_nan=True), field
            if record_state:
                assert got.state.keys() == want.state.keys()
                assert all(np.array_equal(got.state[k], want.state[k], equal_nan=True)
                           for k in want.state)


def test_moving_alpha_on_the_race_runs_only_the_rows_that_follow_it():
    """All optimizers on Rosenbrock, 1000 steps: a new α reruns the 9 rows at the α knob's
    rate, not the 14 with rates of their own (L-BFGS's line searches among them)."""
    from optviz.web import callbacks
    from optviz.web.controls import scene_from_controls
    from optviz.web.links import controls_from_query

    def scene(lr):
        return scene_from_controls(controls_from_query(f"scenario=all-optimizers&lr={lr}")[0])
    first = scene(0.0013)
    callbacks._run(first)
    before = set(callbacks._ROWS)
    moved = scene(0.0014)
    run = callbacks._run(moved)
    new = [key[0].optimizers[0].name for key in set(callbacks._ROWS) - before]
    follow = [o.name for o in moved.optimizers if o.hparams.get("lr") == 0.0014]
    assert sorted(new) == sorted(follow) and len(follow) == 9
    assert run.scene is moved and run.path.shape[0] == len(moved.optimizers) == 23
