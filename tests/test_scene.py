"""Scene: validation names the field and the range; JSON round trip; property tests."""
import json
import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from optviz import OPTIMIZERS, SURFACES, Scene, SceneError, ScheduleSpec, simulate
from optviz import OptimizerSpec as O
from optviz.scene import MAX_POINT_STEPS
from optviz.schedules import SCHEDULES


@pytest.mark.parametrize("kwargs, field", [
    (dict(surface="nope"), "surface"),
    (dict(surface=3), "surface"),
    (dict(optimizers=["nope"]), r"optimizers\[0\].name"),
    (dict(optimizers=[O("adam", momentum=0.9)]), r"optimizers\[0\].momentum"),
    (dict(optimizers=[O("sgd", lr=0)]), r"optimizers\[0\].lr"),
    (dict(optimizers=[O("sgd", lr=-1)]), r"optimizers\[0\].lr"),
    (dict(optimizers=["gd", O("sgd", lr=float("nan"))]), r"optimizers\[1\].lr"),
    (dict(optimizers=[O("sgd", lr=float("inf"))]), r"optimizers\[0\].lr"),
    (dict(optimizers=[O("sgd", lr="abc")]), r"optimizers\[0\].lr"),
    (dict(optimizers=[O("sgd", lr=1e308)]), r"optimizers\[0\].lr"),
    (dict(optimizers=[O("adam", betas=(0.9, 1.0))]), r"optimizers\[0\].betas\[1\]"),
    (dict(optimizers=[O("adam", betas=(-0.1, 0.9))]), r"optimizers\[0\].betas\[0\]"),
    (dict(optimizers=[O("adam", betas=0.9)]), r"optimizers\[0\].betas"),
    (dict(optimizers=[O("sgd", momentum=1.0)]), r"optimizers\[0\].momentum"),
    (dict(optimizers=[O("sgd", nesterov="yes")]), r"optimizers\[0\].nesterov"),
    (dict(optimizers=[]), "optimizers"),
    (dict(optimizers="gd"), "optimizers"),
    (dict(steps=0), "steps"),
    (dict(steps=20001), "steps"),
    (dict(steps=1.5), "steps"),
    (dict(steps=True), "steps"),
    (dict(starts=[(float("nan"), 0)]), r"starts\[0\]"),
    (dict(starts=[(0, 0), (1e7, 0)]), r"starts\[1\]"),
    (dict(starts=[]), "starts"),
    (dict(starts=[[1, 2, 3]]), "starts"),
    (dict(starts="abc"), "starts"),
    (dict(noise=-1), "noise"),
    (dict(noise=float("nan")), "noise"),
    (dict(seed=-1), "seed"),
    (dict(seed=1.5), "seed"),
    (dict(clip_norm=0), "clip_norm"),
    (dict(schedule="sideways"), "schedule.name"),
    (dict(surface="rotated_quadratic", surface_params={"kappa": 0.5}), "surface_params.kappa"),
    (dict(surface="bowl", surface_params={"kappa": 5}), "surface_params.kappa"),
    (dict(starts=np.zeros((MAX_POINT_STEPS // 6000 + 1, 2))), "point-steps"),
])
def test_invalid_fields_raise_scene_error_naming_the_field(kwargs, field):
    with pytest.raises(SceneError, match=field) as e:
        Scene(**kwargs)
    assert isinstance(e.value, ValueError)
    assert len(str(e.value)) < 300


def test_messages_give_value_and_range():
    with pytest.raises(SceneError) as e:
        Scene(steps=50000)
    assert "50000" in str(e.value) and "[1, 20000]" in str(e.value)
    with pytest.raises(SceneError) as e:
        Scene(optimizers=[O("adam", lr=-0.5)])
    assert "-0.5" in str(e.value) and "(0, 100]" in str(e.value)


def test_json_round_trip_and_normalization():
    s = Scene("rotated_quadratic", [O("sgd", lr=1e-3, momentum=0.9, label="mine"),
                                    O("adam", betas=[0.8, 0.99], schedule=ScheduleSpec(
                                        "cosine", warmup=10, eta_min=1e-4)), "adagrad"],
              starts=[(-1.5, 2.0), (0.1, 0.2)], steps=300, noise=0.25, seed=42, clip_norm=5,
              schedule=ScheduleSpec("step", step_size=50), surface_params={"kappa": 40})
    text = s.to_json()
    assert Scene.from_json(text) == s
    assert hash(Scene.from_json(text)) == hash(s)
    assert Scene.from_json(text).to_json() == text
    assert s.optimizers[1].hparams["betas"] == (0.8, 0.99)
    assert s != s.replace(seed=43)
    assert json.loads(text)["optimizers"][0]["label"] == "mine"
    # a new seed alone is checked without rebuilding the rest, and is the same Scene
    reseeded = s.replace(seed=43)
    assert reseeded == Scene.from_json(text.replace('"seed":42', '"seed":43'))
    assert hash(reseeded) == hash(Scene.from_json(reseeded.to_json()))
    for bad in (-1, 2**63, 1.5, "7", None):
        with pytest.raises(SceneError, match="seed"):
            s.replace(seed=bad)


@pytest.mark.parametrize("text, field", [
    ("{", "JSON"), ("[1, 2]", "scene"), ('"x"', "scene"), ("42", "scene"),
    ('{"steps": "many"}', "steps"), ('{"bogus": 1}', "bogus"),
    ('{"optimizers": [{"name": "adam", "lr": null}]}', "lr"),
    ('{"optimizers": 7}', "optimizers"),
    ('{"optimizers": [[1]]}', r"optimizers\[0\]"),
    ('{"schedule": {"name": "step", "gamma": "x"}}', "schedule.gamma"),
    ('{"starts": [[1e400, 0]]}', r"starts\[0\]"),
])
def test_garbage_json_raises_scene_error(text, field):
    with pytest.raises(SceneError, match=field):
        Scene.from_json(text)


def test_default_scene_is_the_lecture_six():
    s = Scene()
    assert [o.name for o in s.optimizers] == ["gd", "momentum", "nesterov", "adagrad",
                                              "rmsprop", "adam"]
    assert s.surface == "rosenbrock" and s.steps == 1000 and len(s.starts) == 1


def test_scene_is_immutable():
    s = Scene()
    with pytest.raises(AttributeError):
        s.steps = 5
    with pytest.raises(ValueError):
        s.starts[0, 0] = 3.0


# -- property tests -----------------------------------------------------------------------

finite = st.floats(allow_nan=False, allow_infinity=False)


def _within(low, high, h):
    return st.floats(low, high).filter(lambda v: v > low or not h.low_open) \
        .filter(lambda v: v < high or not h.high_open)


@st.composite
def optimizer_rows(draw):
    name = draw(st.sampled_from(sorted(OPTIMIZERS)))
    hyper = OPTIMIZERS[name].hyper
    hp = {}
    for k, h in hyper.items():
        if not draw(st.booleans()):
            continue
        if h.kind == "bool":
            hp[k] = draw(st.booleans())
        elif "|" in h.kind:
            hp[k] = draw(st.sampled_from([None if c == "None" else c
                                          for c in h.kind.split("|")]))
        elif h.kind == "int":
            hp[k] = draw(st.integers(int(h.low), int(h.high)))
        elif h.kind == "betas":
            b = st.floats(0, 0.999)
            hp[k] = (draw(b), draw(b))
        elif k == "lr":
            hp[k] = draw(st.floats(1e-6, 100.0))
        elif h.parts:
            hp[k] = tuple(draw(_within(lo, hi, h)) for lo, hi in h.ranges())
        else:
            hp[k] = draw(_within(h.low, h.high, h))
    return O(name, **hp)


@st.composite
def scenes(draw):
    surface = draw(st.sampled_from(sorted(SURFACES)))
    x0, x1, y0, y1 = SURFACES[surface].view
    n = draw(st.integers(1, 3))
    starts = [(draw(st.floats(x0, x1)), draw(st.floats(y0, y1))) for _ in range(n)]
    schedule = draw(st.one_of(st.none(), st.sampled_from(SCHEDULES).map(ScheduleSpec)))
    return Scene(surface, draw(st.lists(optimizer_rows(), min_size=1, max_size=4)),
                 starts=starts, steps=draw(st.integers(1, 60)), schedule=schedule,
                 noise=draw(st.sampled_from([0.0, 0.1, 10.0])), seed=draw(st.integers(0, 99)),
                 clip_norm=draw(st.sampled_from([None, 1.0])))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenes())
def test_any_valid_scene_gives_a_finite_run_or_recorded_divergence(scene):
    r = simulate(scene)
    assert np.isfinite(r.path).all() and np.isfinite(r.loss).all()
    assert (np.abs(r.path) <= 1e6).all()
    d = r.diverged_at
    assert ((d == -1) | ((d >= 1) & (d <= scene.steps))).all()
    for i, j in zip(*np.nonzero(d > 0)):       # frozen from the divergence on
        assert (r.path[i, j, d[i, j]:] == r.path[i, j, d[i, j] - 1]).all()
    assert Scene.from_json(scene.to_json()) == scene


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.sampled_from(["surface", "optimizers", "starts", "steps", "noise",
                                        "seed", "clip_norm", "schedule", "lr", "x"]),
                       st.one_of(st.none(), st.booleans(), st.integers(), finite,
                                 st.floats(), st.text(max_size=5),
                                 st.lists(st.one_of(st.integers(), st.floats(),
                                                    st.text(max_size=3)), max_size=3)),
                       max_size=4))
def test_junk_raises_scene_error_or_builds_a_valid_scene(d):
    try:
        s = Scene.from_dict(d)
    except SceneError as e:
        assert str(e)
    else:
        assert Scene.from_json(s.to_json()) == s


@given(st.floats(allow_nan=True, allow_infinity=True))
def test_lr_outside_range_rejected(lr):
    ok = math.isfinite(lr) and 0 < lr <= 100
    try:
        Scene(optimizers=[O("gd", lr=lr)], steps=5)
    except SceneError as e:
        assert not ok and "optimizers[0].lr" in str(e)
    else:
        assert ok
