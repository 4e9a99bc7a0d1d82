"""Formula surfaces: a whitelist parser, a differentiator, never code execution."""
import time

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from optviz import Scene, SceneError, simulate
from optviz.formula import MAX_LENGTH, FormulaError, evaluate, formula_surface, parse

leaf = st.one_of(st.sampled_from(["x", "y", "pi", "e"]),
                 st.floats(-3, 3, allow_nan=False).map(lambda v: f"{v:.3g}"))


def _branch(inner):
    two = st.tuples(inner, inner)
    return st.one_of(
        two.map(lambda t: f"({t[0]} + {t[1]})"), two.map(lambda t: f"({t[0]} - {t[1]})"),
        two.map(lambda t: f"({t[0]} * {t[1]})"), two.map(lambda t: f"({t[0]} / {t[1]})"),
        st.tuples(inner, st.integers(-3, 4)).map(lambda t: f"({t[0]})**{t[1]}"),
        st.tuples(st.sampled_from(["sin", "cos", "tan", "exp", "log", "sqrt", "abs", "tanh",
                                   "sinh", "cosh"]), inner).map(lambda t: f"{t[0]}({t[1]})"),
        inner.map(lambda a: f"-{a}"))


formulas = st.recursive(leaf, _branch, max_leaves=8)


def _largest_term(tree, x, y) -> float:
    """The largest |value| of any subexpression at (x, y): near a pole (x/y at y = 1e-50)
    the value can be fine while a derivative is all cancellation."""
    out = abs(float(evaluate(tree, x, y)))
    for child in tree[1:]:
        if isinstance(child, tuple):
            out = max(out, _largest_term(child, x, y))
    return out


def _kink_nearby(tree, x, y, h=2e-6) -> bool:
    """Whether the argument of some abs() changes sign (or is 0) within the finite
    differences' stencil around (x, y): there |u| has no derivative to compare with."""
    if tree[0] == "call" and tree[1] == "abs":
        u = [float(evaluate(tree[2], x + dx, y + dy)) for dx in (-h, 0, h) for dy in (-h, 0, h)]
        if min(u) <= 0 <= max(u):
            return True
    return any(_kink_nearby(c, x, y, h) for c in tree[1:] if isinstance(c, tuple))


def _fd(f, x, y, h=1e-6):
    fx = (f(x + h, y) - f(x - h, y)) / (2 * h)
    fy = (f(x, y + h) - f(x, y - h)) / (2 * h)
    return fx, fy


@settings(max_examples=300, deadline=None)
@given(formulas, st.floats(-2, 2), st.floats(-2, 2))
def test_gradient_and_hessian_agree_with_finite_differences(text, x, y):
    assume(len(text) <= MAX_LENGTH)
    s = formula_surface.__wrapped__(text)       # uncached: every example fresh
    x, y = np.float64(x), np.float64(y)
    with np.errstate(all="ignore"):
        v = s.value_xy(x, y)
        g = np.array(s.grad_xy(x, y), dtype=float)
        fd = np.array(_fd(s.value_xy, x, y), dtype=float)
        h = np.array(s.hess_xy(x, y), dtype=float)
        fdh = np.array([*_fd(lambda a, b: s.grad_xy(a, b)[0], x, y),
                        _fd(lambda a, b: s.grad_xy(a, b)[1], x, y)[1]], dtype=float)
    # wherever it is finite and smooth enough for a finite difference to mean something
    assume(np.isfinite([v, *g, *fd, *h, *fdh]).all())
    assume(np.abs(np.concatenate([g, h, fd, fdh])).max() < 1e4 and abs(v) < 1e6)
    with np.errstate(all="ignore"):
        assume(_largest_term(parse(text), x, y) < 1e6)
        assume(not _kink_nearby(parse(text), x, y))
    assert np.allclose(g, fd, rtol=1e-4, atol=1e-4 * (1 + abs(v))), (text, g, fd)
    assert np.allclose(h, fdh, rtol=1e-3, atol=1e-3 * (1 + np.abs(g).max())), (text, h, fdh)


@pytest.mark.parametrize("text, says", [
    ("__import__('os')", "unknown function '__import__' at column 1"),
    ("().__class__", "attribute access not allowed"),
    ("lambda: 0", "lambda not allowed"),
    ("x.real", "attribute access"), ("x[0]", "subscripts"),
    ("os.system('ls')", "attribute access"),
    ("9**9**9", "exponent must be a number"), ("x**100", "outside [-16, 16]"),
    ("(" * 10_000 + "x" + ")" * 10_000, "characters"),
    ("(" * 30 + "x" + ")" * 30, "nested deeper than 20"),
    ("x" * 5000, "characters"), ("z + 1", "unknown name 'z' at column 1"),
    ("x + 3*z", "unknown name 'z' at column 7"), ("x +", "not an expression"),
    ("1e400 * x", "larger than"), ("True", "not a number"), ("'a'", "not a number"),
    ("x if y else 1", "if/else"), ("f(x)", "unknown function 'f'"), ("", "empty"),
    ("sin", "a function needs parentheses"), ("sin(x, y)", "one argument"),
    ("x < y", "comparisons"), ("[x]", "lists"), ("x // 2", "operator FloorDiv"),
    ("(x", "never closed"), ("x)", "unmatched"),
])
def test_hostile_and_wrong_text_is_refused_quickly_with_what_and_where(text, says):
    t0 = time.perf_counter()
    with pytest.raises(FormulaError, match=None) as e:
        parse(text)
    assert time.perf_counter() - t0 < 0.05
    assert says in str(e.value), str(e.value)


def test_the_text_is_never_executed(monkeypatch):
    """ast.parse is the only door: it calls compile() with PyCF_ONLY_AST (a syntax tree,
    no code object); eval and exec are never called."""
    import ast
    import builtins
    calls = []
    for name in ("eval", "exec", "compile"):
        real = getattr(builtins, name)

        def spy(*a, _r=real, _n=name, **k):
            flags = a[3] if len(a) > 3 else k.get("flags", 0)
            calls.append((_n, bool(flags & ast.PyCF_ONLY_AST)))
            return _r(*a, **k)
        monkeypatch.setattr(builtins, name, spy)
    formula_surface.__wrapped__("x**2 + 3*sin(y)*x")
    assert calls and all(c == ("compile", True) for c in calls), calls


def test_a_formula_behaves_like_a_built_in_surface():
    scene = Scene("formula:(x - 1)**2 + 10*(y - x**2)**2", ["gd", "adam"], steps=50)
    s = scene.get_surface()
    assert s.minima == ((1.0, 1.0),)
    assert Scene.from_json(scene.to_json()) == scene
    run = simulate(scene)
    assert np.isfinite(run.path).all() and run.loss[0, 0, -1] < run.loss[0, 0, 0]
    q = formula_surface("0.5*x**2 + 5*y**2")
    assert q.minima == ((0.0, 0.0),) and q.view == (-5.0, 5.0, -5.0, 5.0)
    assert r"0.5 \, x^{2} + 5 \, y^{2}" == q.latex
    with pytest.raises(SceneError, match="surface: formula: unknown name 'w'"):
        Scene("formula:w**2")


def test_the_view_box_can_be_set_and_the_minima_are_searched_there():
    s = formula_surface("(x - 10)**2 + y**2", x_min=5, x_max=15, y_min=-3, y_max=3)
    assert s.view == (5.0, 15.0, -3.0, 3.0) and s.minima == ((10.0, 0.0),)
    assert formula_surface("(x - 10)**2 + y**2").minima == ()      # not in [-5, 5]^2
    scene = Scene("formula:(x - 10)**2 + y**2",
                  surface_params={"x_min": 5, "x_max": 15, "y_min": -3, "y_max": 3})
    assert scene.get_surface().minima == ((10.0, 0.0),)
    assert Scene.from_json(scene.to_json()) == scene
    with pytest.raises(SceneError, match="view: x from 5 to 1"):
        Scene("formula:x**2", surface_params={"x_min": 5, "x_max": 1})
    with pytest.raises(SceneError, match="has no parameter 'kappa'"):
        Scene("formula:x**2", surface_params={"kappa": 5})


def test_the_minima_can_be_given_instead_of_searched():
    text = "formula:(x - 1)**2 * (x + 2)**2 + y**2"
    scene = Scene(text, surface_params={"min1_x": 1.02, "min1_y": 0.01})
    assert scene.get_surface().minima == ((1.0, 0.0),)          # polished by Newton
    assert Scene.from_json(scene.to_json()) == scene
    assert Scene(text).get_surface().minima == ((-2.0, 0.0), (1.0, 0.0))
    far = Scene(text, surface_params={"min1_x": 3.0, "min1_y": 3.0})
    assert far.get_surface().minima == ((3.0, 3.0),)             # kept where it was put
    with pytest.raises(SceneError, match="minima: point 1 needs both"):
        Scene(text, surface_params={"min1_x": 1.0})


def test_a_formula_not_finite_in_part_of_its_box_says_so_and_draws_finite_numbers():
    """exp(exp(2x)) overflows for x > 3.2, log(x + 4) is undefined for x < -4: the
    surface's sentence says so, and the contour grid the page draws holds only finite
    numbers."""
    from optviz.plots import surface_grid
    for text in ("exp(exp(2*x)) + y**2", "log(x + 4) + y**2"):
        surf = formula_surface(text)
        assert "not finite in part of its box" in surf.teaches, text
        _, _, z, zt = surface_grid(surf, 64)
        assert not np.isfinite(z).all() and np.isfinite(zt).all(), text
        assert zt.max() > zt.min()                  # levels, not one flat colour
    assert "not finite" not in formula_surface("x**2 + y**2").teaches
