"""Work bounded by its cost: compiled formulas, the price of a run, the engine's deadline,
and what the page refuses at once."""
import time

import numpy as np
import pytest
from hypothesis import example, given, settings

from optviz import OPTIMIZERS, Scene
from optviz.cost import CostError, Deadline, check, estimate
from optviz.engine import simulate, simulate_final
from optviz.formula import (
    MAX_OPS,
    Compiled,
    FormulaError,
    _formula_cached,
    derivative,
    evaluate,
    formula_surface,
    parse,
)
from optviz.scenarios import SCENARIOS
from optviz.web.callbacks import PAGE_BUDGET, compute
from optviz.web.controls import PAGE_LIMITS, ControlError, default_controls, scenario_controls

from .test_formula import formulas

ALL = list(OPTIMIZERS)


def continued_fraction(levels=19):
    """1/(1+1/(1+ ... x*y ...)): 117 characters that once took a worker 30 s and a
    timeout (its derivatives as trees: 1,000 and 13,000-21,000 nodes)."""
    text = "x*y"
    for _ in range(levels):
        text = f"1/(1+{text})"
    return text


SIN_PRODUCT = "*".join(["sin(x+y)"] * 22)


@settings(max_examples=200, deadline=None)
@given(formulas)
@example("-((0)**0 / -0)")            # a constant -0 is not the constant 0: 1 / -0 is -inf
def test_compiled_tapes_give_the_tree_walkers_numbers_bit_for_bit(text):
    """Shared subexpressions and sorted operands change no result."""
    try:
        tree = parse(text)
    except FormulaError:
        return
    c = Compiled(tree)
    x, y = np.linspace(-2, 2, 7), np.linspace(1.5, -1.5, 7)
    gx, gy = derivative(tree, "x"), derivative(tree, "y")
    with np.errstate(all="ignore"):
        want = [evaluate(t, x, y) for t in (tree, gx, gy, derivative(gx, "x"),
                                            derivative(gx, "y"), derivative(gy, "y"))]
        got = [*c.value(x, y), *c.grad(x, y), *c.hess(x, y)]
    for w, g in zip(want, got):
        np.testing.assert_array_equal(np.broadcast_to(g, x.shape), np.broadcast_to(w, x.shape))


@pytest.mark.parametrize("text", [continued_fraction(), SIN_PRODUCT])
def test_formulas_that_hung_a_worker_compile_small_and_fast(text):
    t0 = time.perf_counter()
    s = formula_surface.__wrapped__(text)
    assert time.perf_counter() - t0 < 0.5
    c = Compiled(parse(text))
    # the trees were 1,000 (gradient) and 13,000-21,000 (Hessian) nodes
    assert c.grad.calls < 150 and c.hess.calls < 550, (c.grad.calls, c.hess.calls)
    assert s.cost.grad_us > 50 and s.cost.hess > s.cost.grad


def test_derivatives_past_the_limit_are_refused_at_once():
    t0 = time.perf_counter()
    with pytest.raises(FormulaError, match="derivatives take more than 100 operations"):
        Compiled(parse(continued_fraction()), limit=100)
    assert time.perf_counter() - t0 < 0.2
    assert Compiled(parse(continued_fraction())).ops <= MAX_OPS


def test_refusals_are_cached_like_results():
    text = "x + (" * 3 + "q" + ")" * 3
    formula_surface.cache_clear()
    for _ in range(3):
        with pytest.raises(FormulaError, match="unknown name 'q'"):
            formula_surface(text)
    info = _formula_cached.cache_info()
    assert info.misses == 1 and info.hits == 2


def test_intermediate_arrays_are_let_go_after_their_last_use():
    c = Compiled(parse(continued_fraction()))
    dropped = sum(len(op[4]) for op in c.hess.code)
    assert dropped >= c.hess.calls - 10      # nearly every result is freed once read


def test_a_deadline_stops_the_step_loop():
    scene = Scene("rosenbrock", ["adam"], steps=2000)
    with pytest.raises(CostError, match="took longer than 0 s"):
        simulate(scene, deadline=Deadline(0.0))
    with pytest.raises(CostError):
        simulate_final(scene.replace(starts=np.zeros((5000, 2))), deadline=Deadline(0.0))
    assert simulate(scene, deadline=Deadline(60)).path.shape == (1, 1, 2001, 2)


def test_the_price_grows_with_what_costs():
    base = Scene("bowl", ["gd"], steps=1000)
    cheap = estimate(base).seconds
    assert estimate(base.replace(steps=2000)).seconds > 1.9 * cheap
    assert estimate(Scene("data_sigmoid_net", ["gd"], steps=1000)).seconds > 2 * cheap
    assert estimate(base.replace(optimizers=ALL)).seconds > 5 * cheap
    assert estimate(base, record_state=True).seconds > cheap
    assert estimate(Scene(f"formula:{continued_fraction()}", ["newton"], steps=1000)) \
        .seconds > 20 * estimate(Scene("formula:x**2+y**2", ["newton"], steps=1000)).seconds


def _page(**over):
    c = default_controls()
    c.update(over)
    return c


def test_every_scenario_and_the_default_page_are_within_the_page_budget():
    for name in SCENARIOS:
        c = scenario_controls(name)
        compute({**c, "inspect": True, "check": True})      # no ControlError
    compute(_page(inspect=True))


def test_the_costliest_page_request_is_refused_at_once_naming_what_to_reduce():
    most = PAGE_LIMITS["rows"]                       # every optimizer, then copies
    rows = ([{"uid": u, "on": True} for u in ALL] +
            [{"uid": f"{u}~2", "on": True} for u in ALL])[:most]
    c = _page(surface="data_sigmoid_net", steps=5000, noise=5.0, batch_size=1, rows=rows,
              inspect=True)
    t0 = time.perf_counter()
    with pytest.raises(ControlError, match="at most [0-9]+ steps") as e:
        compute(c)
    assert time.perf_counter() - t0 < 0.2
    assert e.value.control == "steps" and "server's time" in str(e.value)
    # what it suggests does fit
    fits = int(str(e.value).split("at most ")[1].split()[0])
    compute({**c, "steps": fits})


def test_a_newton_row_on_an_expensive_formula_is_priced_by_its_compiled_hessian():
    scene = Scene(f"formula:{continued_fraction()}", ["newton", "gd"], steps=5000)
    with pytest.raises(CostError, match="a simpler formula"):
        check(scene, PAGE_BUDGET)
    check(scene.replace(steps=300), PAGE_BUDGET)


def test_the_html_export_of_the_largest_run_is_bounded():
    """24 rows x 5000 steps made an 88 MB file from 6 rows and 2.7 GB in the worker."""
    from optviz.plots import HTML_FRAMES, HTML_PATH_POINTS, HTML_TRAIL_POINTS, animation
    from optviz.web.exports import run_html
    rows = ALL + ALL[:7]
    run = simulate(Scene("rosenbrock", rows, steps=5000))
    fig = animation(run, ["#000000"] * len(rows))
    frames = fig["frames"]
    assert len(frames) <= HTML_FRAMES + 1 and frames[-1]["name"] == "5000"
    trails = [len(d["x"]) for f in frames for d in f["data"]]
    assert sum(trails) <= HTML_TRAIL_POINTS + len(rows) * len(frames)
    faint = [d for d in fig["data"] if d.get("opacity") == 0.4]
    assert len(faint) == len(rows) and all(len(d["x"]) <= HTML_PATH_POINTS for d in faint)
    # the animation still ends where the run ends
    end = frames[-1]["data"][3]
    assert (end["x"][-1], end["y"][-1]) == tuple(run.path[3, 0, -1].astype(np.float32))
    t0 = time.perf_counter()
    html = run_html(run, ["#000000"] * len(rows))
    assert time.perf_counter() - t0 < 3
    # the few MB docs/server.md promises (it was 6-9.7 MB with all of plotly.js inlined;
    # the cartesian bundle, 1.5 MB, draws all it shows)
    assert len(html) < 5_000_000, len(html)
    assert "Plotly.newPlot" in html and "plotly.js (cartesian - minified)" in html
