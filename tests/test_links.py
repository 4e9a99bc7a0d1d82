"""Shareable links: the page setup in the query string and back."""
import copy

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from optviz import OptimizerSpec, Scene
from optviz.scenarios import SCENARIOS, scenario_scene
from optviz.web.controls import (
    ControlError,
    default_controls,
    run_controls,
    scenario_controls,
    scene_from_controls,
)
from optviz.web.equations import equation
from optviz.web.links import MAX_QUERY, controls_from_query, query_from_controls

MODS = [{}, {"steps": 300}, {"surface": "bowl", "lr_log10": -1.5, "start": None},
        {"start": [0.5, -0.25]}, {"view": "3d", "seed": 7, "noise": 0.35},
        {"schedule": "cosine", "warmup": 10},
        {"surface": "data_linear", "batch_size": 8, "start": None},
        {"surface": "formula", "formula": "0.5*x**2 + 5*y**2 # & ? = ,:", "start": None},
        {"surface": "formula", "formula": "(x - 10)**2 + y**2", "formula_view": "5, 15, -3, 3",
         "start": None},
        {"surface": "formula", "formula": "(x - 1)**2 * (x + 2)**2 + y**2",
         "formula_minima": "1, 0; -2, 0.1", "start": None},
        {"changes": [[20, {"lr_log10": -3.27, "beta1": 0.5, "beta2": 0.9, "noise": 0.0}],
                     [30, {"lr_log10": -2.0, "beta1": 0.9, "beta2": 0.99, "noise": 1.5}]]},
        {"rows": [{"uid": "gd", "on": True, "lr": 0.48}, {"uid": "adam~2", "on": True,
                   "beta1": 0.5, "noise": 1.0, "weight_decay": 0.1, "constant": True}]}]


@pytest.mark.parametrize("name", [None, *SCENARIOS])
@pytest.mark.parametrize("mod", MODS)
def test_a_link_reproduces_the_scene(name, mod):
    c = {**copy.deepcopy(scenario_controls(name) if name else default_controls()), **mod}
    query = query_from_controls(c)
    back, problems = controls_from_query("?" + query)
    assert problems == []
    assert _what_runs(back) == _what_runs(c)
    assert back.get("view", "2d") == c.get("view", "2d")
    assert back.get("scenario") == c.get("scenario")


def _what_runs(c):
    """The Scene of a setup; a network's training: its name and its run's controls."""
    if c["surface"].startswith("train:"):
        return c["surface"], run_controls(c)
    return scene_from_controls(c)


def test_the_default_page_has_an_empty_query_and_scenario_links_are_short():
    assert query_from_controls(default_controls()) == ""
    assert query_from_controls(scenario_controls("saddle")) == "scenario=saddle"
    assert scene_from_controls(controls_from_query("scenario=saddle")[0]) == \
        scene_from_controls(scenario_controls("saddle"))


@pytest.mark.parametrize("query, says", [
    ("surface=nope", "unknown surface"), ("lr=abc", "lr='abc' is not a number"),
    ("lr=-1", "not a number"), ("lr=nan", "not a number"), ("start=1", "not a point"),
    ("rows=gd:lr=x", "gd lr='x'"), ("rows=__import__", "unknown optimizer row"),
    ("rows=adam:zz=1", "no setting 'zz'"), ("live=5:lr=0.1", "live change"),
    ("scenario=nope", "unknown scenario"), ("x" * (MAX_QUERY + 1), "longer than"),
    # values a link can carry that the page refuses: each falls back, the rest is kept
    ("steps=-5", "steps: -5"), ("steps=-5&sigma=99&lr=0.1", "noise: 99"),
    ("warmup=400&steps=100", "warmup: 400"), ("rows=gd:lr=-3,adam", "row:gd"),
    ("surface=formula&f=x**", "formula:"), ("scenario=saddle&steps=0", "steps: 0"),
])
def test_a_damaged_link_opens_a_working_page_and_says_what_was_ignored(query, says):
    c, problems = controls_from_query(query)
    assert any(says in p for p in problems), problems
    assert scene_from_controls(c).steps >= 1


def test_a_damaged_link_keeps_what_was_right():
    c, problems = controls_from_query("scenario=saddle&steps=-5&lr=0.1")
    scene = scene_from_controls(c)
    assert scene.steps == 200 and scene.optimizers[0].hparams["lr"] == 0.1  # saddle's; α kept
    assert problems == ["link: steps: -5.0 is not a whole number in [1, 5000]; ignored"]


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_any_query_gives_a_setup_or_messages_never_an_exception(text):
    c, problems = controls_from_query(text)
    assert isinstance(c, dict) and isinstance(problems, list)


def test_equations_substitute_the_rows_numbers():
    scene = scenario_scene("lr-diagnostics")
    assert [equation(o) for o in scene.optimizers] == [
        r"w_{t+1} = w_t - 0.01\,g_t", r"w_{t+1} = w_t - 0.48\,g_t", r"w_{t+1} = w_t - 0.51\,g_t"]
    adam = scenario_scene("bias-correction").optimizers[0]
    tex = equation(adam)
    assert r"0.9\,m_t + 0.1\,g_t" in tex and r"0.999\,v_t + 0.001\,g_t^2" in tex
    assert r"\frac{1}{\sqrt{\hat v} + 10^{-8}}" in tex
    assert r"\alpha_t\;(\alpha = 1)" in equation(adam, scheduled=True)
    # a coefficient of 1 is not written: the slide's w - H^-1 g, not w - 1 H^-1 g
    newton, adadelta, half = Scene(optimizers=[      # Newton and Adadelta default to lr 1
        "newton", "adadelta", OptimizerSpec("newton", lr=0.5)]).optimizers
    assert equation(newton) == r"w_{t+1} = w_t - H(w_t)^{-1}\,g_t"
    assert equation(adadelta).endswith(r"w_{t+1} = w_t - \Delta_t")
    assert equation(half) == r"w_{t+1} = w_t - 0.5\,H(w_t)^{-1}\,g_t"


def test_the_equation_panel_puts_each_equation_on_its_own_line_flush_left():
    from optviz.web.callbacks import _equations
    scene = Scene(optimizers=["momentum", "gd"])
    momentum, gd = _equations(scene).split("\n\n**")
    assert momentum == ("**Momentum**\n\n$$\\begin{aligned}&m_{t+1} = 0.9\\,m_t - 0.001\\,g_t"
                        " \\\\ &w_{t+1} = w_t + m_{t+1}\\end{aligned}$$")
    assert gd.endswith("$$\\begin{aligned}&w_{t+1} = w_t - 0.001\\,g_t\\end{aligned}$$")


@pytest.mark.parametrize("formula", ["exp(exp(x*y))", "log(x) + y**2"])
def test_a_formula_not_finite_at_the_start_is_refused_and_a_link_to_it_still_opens(formula):
    c = {**default_controls("formula"), "formula": formula}
    with pytest.raises(ControlError, match="not finite at the start") as e:
        scene_from_controls(c)
    assert e.value.control == "formula"
    # from a start where it is finite, it runs
    assert scene_from_controls({**c, "start": [1.0, 0.5]}).steps >= 1
    back, problems = controls_from_query(query_from_controls(c))
    assert any("not finite at the start" in p for p in problems)
    assert scene_from_controls(back).steps >= 1
