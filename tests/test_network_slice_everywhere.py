"""A network's exact slice ("net:..." names one, optviz.networks.slice) goes wherever a
surface goes on the server: a link and back, the page's run (its contour priced), a
refusal that names what to reduce, the downloads, a class challenge scored on it."""
import json

import numpy as np
import pytest

from optviz import simulate
from optviz.cost import UNIT_SECONDS
from optviz.networks import NetworkError
from optviz.networks.slice import named_slice
from optviz.plots import GRID, GRID_SECONDS, MIN_GRID, grid_size
from optviz.web.callbacks import compute
from optviz.web.classroom.rules import ClassError, check_values, pose, score, setup_query
from optviz.web.controls import ControlError, known_surface, scene_from_controls
from optviz.web.explore_panel import compute as explore_compute
from optviz.web.exports import run_csv, run_json, run_python
from optviz.web.layout import surface_options
from optviz.web.links import controls_from_query, query_from_controls

MOONS = "net:data=moons;n=120;hidden=6"


def test_a_link_names_a_slice_and_comes_back_as_written():
    setup, problems = controls_from_query(f"surface={MOONS}&lr=0.2&rows=gd,adam&steps=80")
    assert problems == []
    assert setup["surface"] == MOONS and known_surface(MOONS)
    query = query_from_controls(setup)
    assert f"surface={MOONS}" in query                    # (";" kept as written)
    assert controls_from_query(query)[0]["surface"] == MOONS
    scene = scene_from_controls(setup)
    run = simulate(scene)
    assert run.labels == ["GD", "Adam"]
    assert np.isfinite(run.loss).all()
    # the slice's start is the init: the loss there is the network's own at its init
    net_surface = named_slice(MOONS)
    assert run.loss[0, 0, 0] == pytest.approx(float(net_surface.value_xy(0.0, 0.0)))


@pytest.mark.parametrize("name, words", [
    ("net:bogus=1", ["bogus", "keys are"]),
    ("net:data=mnist", ["surface.data", "xor"]),
    ("net:hidden=400-400", ["hidden", "parameters"]),
    ("net:n=1000;hidden=40-40", ["fewer samples (n)", "smaller network (hidden)"]),
])
def test_a_slice_the_page_cannot_show_is_refused_naming_what_to_change(name, words):
    setup, _ = controls_from_query(f"surface={name}")
    with pytest.raises(ControlError) as e:
        scene_from_controls(setup)
    assert e.value.control == "surface"
    assert all(w in str(e.value) for w in words), str(e.value)


def test_the_pages_run_on_a_slice_draws_its_contour_within_its_price():
    setup, _ = controls_from_query(f"surface={MOONS}&rows=gd,momentum&steps=60")
    background, main, side, meta, key, scene = compute(setup)
    assert [r["label"] for r in meta["rows"]] == ["GD", "Momentum"]
    contour = background["data"][0]
    surf = scene.get_surface()
    n = grid_size(surf)
    assert MIN_GRID <= n <= GRID
    assert contour["z"]["shape"] == f"{n},{n}"            # (sent as a typed array)
    # its axes are the plane's coordinates, not two weights of the network
    titles = [background["layout"][a]["title"]["text"] for a in ("xaxis", "yaxis")]
    assert titles[0].startswith("a (") and "along v" in titles[1]
    assert "w" not in "".join(titles)
    # a costlier network gets a coarser grid, not a slower one
    big = named_slice("net:n=600;hidden=16-16")
    assert grid_size(big) < GRID
    assert grid_size(big) ** 2 * big.cost.value * UNIT_SECONDS <= GRID_SECONDS


def test_the_menu_holds_the_default_slice_and_a_linked_one():
    values = [o["value"] for o in surface_options()]
    assert "net:" in values and "formula" in values
    assert MOONS in [o["value"] for o in surface_options(MOONS)]
    assert MOONS not in values


def test_the_downloads_hold_a_slice_run_and_the_script_says_why_torch_cannot():
    setup, _ = controls_from_query(f"surface={MOONS}&rows=gd,adam&steps=40")
    scene = scene_from_controls(setup)
    run = simulate(scene)
    data = json.loads(run_json(run))
    assert data["scene"]["surface"] == MOONS
    assert run_csv(run).count("\n") > 40
    script = run_python(scene, "http://example.org/wheel/optviz.whl")
    assert f"surface={MOONS!r}" in script
    assert "a network's slice" in script                 # no torch part, and why
    namespace = {}
    exec(compile(script, "optviz-run.py", "exec"), namespace)
    np.testing.assert_array_equal(namespace["run"].path, run.path)


def test_a_class_challenge_on_a_slice_is_posed_and_scored():
    state = setup_query(f"surface={MOONS}&rows=gd,adam&steps=30")
    with pytest.raises(ClassError) as e:                  # no known minimum to reach
        pose(state, {"knobs": ["lr"], "goal": {"kind": "reach", "epsilon": 0.01},
                     "steps": 30})
    assert "lowest" in str(e.value)
    ch = pose(state, {"knobs": ["lr"], "goal": {"kind": "lowest", "row": "adam"},
                      "steps": 30})
    low = score(ch, check_values(ch, {"lr": 0.001}))
    high = score(ch, check_values(ch, {"lr": 0.05}))
    assert low["loss"] != high["loss"] and np.isfinite([low["loss"], high["loss"]]).all()
    with pytest.raises(ClassError):
        setup_query("surface=net:data=nope")


def test_a_slice_name_is_checked_before_anything_is_built():
    with pytest.raises(NetworkError, match="at most"):
        named_slice("net:" + "x" * 400)
    assert not known_surface("net:" + "x" * 400)


@pytest.mark.parametrize("kind, rows", [("lr", 2 * 16), ("basin", 12 * 12 * 2)])
def test_explore_maps_and_sweeps_a_slice_from_the_pages_link(kind, rows):
    fig, csv, message = explore_compute(kind, 12 if kind == "basin" else 16, 60, 10,
                                        f"surface={MOONS}&rows=gd,adam")
    assert csv.count("\n") == rows + 1, message           # a header and a line each
    assert fig["data"] and "s" in message
