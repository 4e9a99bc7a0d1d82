"""A network trained on the page (``train:...``, web/network_view.py): the page's run is
optviz.training.train with the page's rows, seen on a plane of its true loss; the
link holds it; what a training cannot honour (a start, 3-D, a row's own σ)
is refused naming the control; what takes a surface refuses it saying so."""
import html

import numpy as np
import pytest

from optviz.networks import Network, make_dataset
from optviz.networks.planes import pca_plane
from optviz.training import train
from optviz.web.callbacks import CostRefused, compute
from optviz.web.controls import (
    ControlError,
    known_surface,
    run_controls,
    scene_from_controls,
    suggested_lr_log10,
)
from optviz.web.layout import surface_options
from optviz.web.links import controls_from_query, query_from_controls
from optviz.web.network_view import batch_for, training_network

MOONS = "train:data=moons;n=120;hidden=6"


def _setup(query):
    setup, problems = controls_from_query(query)
    assert problems == []
    return setup


def test_the_pages_training_is_the_engines_on_the_pca_plane_of_its_paths():
    setup = _setup(f"surface={MOONS}&rows=gd,momentum,adam&steps=60&lr=0.2")
    background, main, side, meta, key, scene = compute(setup)
    net = Network(make_dataset("moons", n=120), hidden=(6,), activation="tanh",
                  init="xavier")
    run = train(net, scene.optimizers, 60)             # the page's rows, as validated
    assert [o.hparams["lr"] for o in scene.optimizers] == [0.2, 0.2, 0.2]
    plane = pca_plane(run)
    coords, _ = plane.project(run.params[:, 0].astype(float))
    assert [r["label"] for r in meta["rows"]] == ["GD", "Momentum", "Adam"]
    for i, row in enumerate(meta["rows"]):
        assert row["final_loss"] == pytest.approx(run.train_loss[i, 0, -1], rel=1e-12)
        assert len(_decode(row["x"])) == len(_decode(row["loss"])) == 61
    np.testing.assert_allclose(_decode(meta["rows"][2]["x"]), coords[2, :, 0], rtol=1e-6,
                               atol=1e-6)
    assert meta["start"] == [0.0, 0.0] and meta["marks"] == []
    # the contour is the true loss on that plane: its corner is the loss there
    contour = background["data"][0]
    assert contour["type"] == "contour" and contour["z"]["shape"] == "41,41"
    surf = scene.get_surface()
    a0, b0 = surf.view[0], surf.view[2]
    want = net.evaluate(plane.point(a0, b0)[None], net.data.X_train, net.data.y_train)[0]
    assert float(surf.value(np.array([a0, b0]))) == pytest.approx(float(want[0]), rel=1e-12)
    # every path inside the box; the axes say what share of the variance they explain
    xs = np.concatenate([_decode(r["x"]) for r in meta["rows"]])
    assert surf.view[0] <= xs.min() and xs.max() <= surf.view[1]
    share = plane.explained[0] * 100
    assert background["layout"]["xaxis"]["title"]["text"] == f"PC1 ({share:.0f} %)"
    assert "variance" in surf.teaches
    titles = [f["layout"]["title"]["text"] for f in side]
    assert "test" in titles[0] and "accuracy" in titles[1] and "first" in titles[2]
    assert f"All {net.size} parameters" in surf.teaches
    # the same setup again: its figures are on the screen already
    again = compute(setup, key)
    assert again[0] is not background and not isinstance(again[0], dict)


def _decode(v):
    import base64
    return np.frombuffer(base64.b64decode(v["bdata"]), dtype=np.float32)


def test_a_training_is_a_link_and_a_menu_entry_with_its_own_rate():
    assert known_surface("train:") and known_surface(MOONS)
    assert not known_surface("train:" + "x" * 400)
    assert suggested_lr_log10("train:") == pytest.approx(-1.0)
    setup = _setup(f"surface={MOONS}&rows=gd,adam&steps=80")
    query = query_from_controls(setup)
    assert f"surface={MOONS}" in query                    # (";" kept as written)
    assert query_from_controls(_setup(query)) == query
    values = [o["value"] for o in surface_options()]
    assert "train:" in values and MOONS not in values
    assert MOONS in [o["value"] for o in surface_options(MOONS)]
    # a bad key is refused naming it
    with pytest.raises(ControlError, match="surface.plane"):
        training_network("train:plane=sideways")
    with pytest.raises(ControlError, match="surface.act"):
        compute(_setup("surface=train:act=cosine"))


@pytest.mark.parametrize("query, control, words", [
    ("view=3d", "view", "2-D"),
    ("rows=gd:sigma=1,adam", "row:gd", "minibatches"),
    ("steps=5000&rows=" + ",".join(["adam"] * 1), "steps", "would take"),
])
def test_what_a_training_cannot_honour_is_refused_naming_the_control(query, control, words):
    setup = _setup(f"surface={MOONS}&{query}")
    if control == "steps":                                # priced before it trains
        setup["surface"] = "train:n=1000;hidden=40-40"
    with pytest.raises(ControlError) as e:
        compute(setup)
    assert e.value.control == control and words in str(e.value)
    assert (control == "steps") == isinstance(e.value, CostRefused)


def test_sigma_is_the_minibatch_and_every_row_sees_the_same_ones():
    assert batch_for(0.0, 150) is None
    assert batch_for(1.0, 150) == 16 and batch_for(0.1, 150) == 150 and batch_for(10, 150) == 1
    full = compute(_setup(f"surface={MOONS}&rows=gd,gd~2&steps=30"))[3]
    noisy = compute(_setup(f"surface={MOONS}&rows=gd,gd~2&steps=30&sigma=1"))[3]
    assert full["rows"][0]["final_loss"] != noisy["rows"][0]["final_loss"]
    assert noisy["rows"][0]["final_loss"] == noisy["rows"][1]["final_loss"]


def test_what_takes_a_surface_refuses_a_training_saying_so():
    setup = _setup(f"surface={MOONS}&rows=gd&steps=20")
    with pytest.raises(ControlError, match="this takes a surface"):
        scene_from_controls(setup)
    assert run_controls(setup).steps == 20               # (the rows read all the same)


@pytest.mark.parametrize("plane, axis", [("ends", "a (along u)"), ("hessian", "a (along u)"),
                                         ("random", "a (along u)"), ("pca", "PC1")])
def test_every_plane_a_link_may_name_draws_the_paths_inside_its_box(plane, axis):
    setup = _setup(f"surface=train:data=spiral;hidden=16-16;act=relu;init=he;plane={plane}"
                   "&steps=100")
    background, _, _, meta, _, scene = compute(setup)
    assert background["layout"]["xaxis"]["title"]["text"].startswith(axis)
    x0, x1, y0, y1 = scene.get_surface().view
    for row in meta["rows"]:
        x, y = _decode(row["x"]), _decode(row["y"])
        assert x0 <= x.min() and x.max() <= x1 and y0 <= y.min() and y.max() <= y1
    assert not meta.get("note")


def test_rows_that_all_diverge_are_seen_on_a_random_plane_and_the_page_says_so():
    setup = _setup("surface=train:data=regression&lr=10&rows=gd,momentum&steps=50")
    *_, meta, _, scene = compute(setup)
    assert all(r["diverged_at"] > 0 for r in meta["rows"])
    assert "random plane instead" in meta["note"] and "diverge" in meta["note"]
    for row in meta["rows"]:                             # drawn, frozen where they left
        assert np.isfinite(_decode(row["x"])).all()


def test_a_class_follows_a_training_and_a_challenge_on_it_is_a_networks():
    from optviz.web.classroom.rules import ClassError, pose, setup_query
    assert setup_query("scenario=vanishing-gradients") == "scenario=vanishing-gradients"
    assert setup_query(f"surface={MOONS}&lr=0.2") == f"surface={MOONS}&lr=0.2"
    with pytest.raises(ClassError, match="surface.act"):
        setup_query("surface=train:act=nope")
    posed = pose(f"surface={MOONS}", {"knobs": ["lr"], "goal": {"kind": "lowest", "row": "gd"},
                                       "steps": 30})
    assert posed.goal["training"] and posed.text() == \
        "GD: the lowest test loss after 30 steps, turning α"
    with pytest.raises(ClassError, match="a network's challenge is"):
        pose(f"surface={MOONS}", {"knobs": ["lr"], "goal": {"kind": "reach", "epsilon": 1},
                                   "steps": 30})


def test_decision_boundaries_are_kept_at_eleven_steps_as_bytes_and_drawn_small_multiples():
    setup = _setup(f"surface={MOONS}&rows=gd,momentum,adam&steps=60")
    *_, meta, _, scene = compute(setup)
    data = meta["data"]
    assert data["model"] == "boundary" and data["steps"][0] == 0 and data["steps"][-1] == 60
    assert len(data["steps"]) == 11 and len(data["z"]) == 3
    z0, z1 = (np.frombuffer(__import__("base64").b64decode(data["z"][2][j]["bdata"]),
                            dtype=np.uint8) for j in (0, -1))
    assert data["z"][2][0]["shape"] == "25,25" and z0.size == 625
    assert not np.array_equal(z0, z1)                        # Adam moved the boundary
    fig = scene.boundaries
    maps = [t for t in fig["data"] if t["type"] == "heatmap"]
    assert len(maps) == 3 and maps[2]["z"] == data["z"][2][-1]   # drawn at the last step
    assert [a["text"] for a in fig["layout"]["annotations"]] == ["GD", "Momentum", "Adam"]


def test_every_layers_gradient_norm_is_drawn_against_the_step():
    """The third side plot: each row's first layer (dotted), last (solid) and every layer
    between (dashed), the norms the training recorded."""
    setup = _setup("surface=train:data=circles;n=100;hidden=4-4-4&rows=gd,adam&steps=30")
    side = compute(setup)[2]
    grads = side[2]
    assert html.unescape(grads["layout"]["title"]["text"]) == \
        "‖g‖ per layer: first dotted … last solid"
    traces = {t["name"]: t for t in grads["data"]}
    assert len(grads["data"]) == 2 * 4                     # two rows, four layers
    net, *_ = training_network("train:data=circles;n=100;hidden=4-4-4")
    assert setup["lr_log10"] == pytest.approx(-1)           # (a training's α: 0.1)
    run = train(net, [{"name": "gd", "lr": 0.1}], 30)
    for k, name in ((1, "GD, layer 2"), (2, "GD, layer 3")):
        assert traces[name]["line"]["dash"] == "dash"
        np.testing.assert_allclose(_decode(traces[name]["y"]), run.grad_norm[0, 0, :, k],
                                   rtol=1e-6)


def test_a_live_change_turns_the_knobs_of_the_training_from_its_frame_on():
    """``live=30:...``: the page's training takes the new α, μ, β₂ and σ (its minibatch)
    from update 30 on, as optviz.training.train's changes; before it, the unchanged run."""
    base = f"surface={MOONS}&rows=gd,momentum,adam&steps=60&lr=0.2"
    plain = compute(_setup(base))[3]
    live = compute(_setup(base + "&live=30:lr=0.05:mu=0.5:b2=0.99:sigma=1"))[3]
    net, *_ = training_network(MOONS)
    _, _, _, _, _, scene = compute(_setup(base))
    turned = train(net, scene.optimizers, 60, changes=[(30, [
        {"name": "gd", "lr": 0.05}, {"name": "momentum", "lr": 0.05, "momentum": 0.5},
        {"name": "adam", "lr": 0.05, "betas": (0.5, 0.99)}], batch_for(1.0, 90))])
    for i, (a, b) in enumerate(zip(plain["rows"], live["rows"])):
        la, lb = _decode(a["loss"]), _decode(b["loss"])
        np.testing.assert_array_equal(la[:31], lb[:31])
        assert not np.array_equal(la[31:], lb[31:])
        assert b["final_loss"] == pytest.approx(turned.train_loss[i, 0, -1], rel=1e-12)
