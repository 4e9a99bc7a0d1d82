"""Surfaces: analytic derivatives against finite differences, stationary points, shapes."""
import numpy as np
import pytest

from optviz import SURFACES
from optviz.surfaces import get_surface

ALL = list(SURFACES.values()) + [get_surface("rotated_quadratic", {"kappa": 50, "angle": -20})]
IDS = [s.name for s in SURFACES.values()] + ["rotated_quadratic(50,-20)"]


def _sample(surface, n=40, seed=0):
    x0, x1, y0, y1 = surface.view
    rng = np.random.default_rng(seed)
    pts = np.column_stack([rng.uniform(x0, x1, n), rng.uniform(y0, y1, n)])
    if surface.name == "ackley":    # the cone tip is not differentiable
        pts = pts[np.hypot(*pts.T) > 0.05]
    return pts


@pytest.mark.parametrize("surface", ALL, ids=IDS)
def test_gradient_matches_finite_differences(surface):
    w = _sample(surface)
    h = 1e-6
    fd = np.stack([(surface.value(w + h * e) - surface.value(w - h * e)) / (2 * h)
                   for e in np.eye(2)], axis=-1)
    g = surface.grad(w)
    np.testing.assert_allclose(g, fd, rtol=1e-5, atol=1e-5 * (1 + np.abs(g).max()))


@pytest.mark.parametrize("surface", ALL, ids=IDS)
def test_hessian_matches_finite_differences(surface):
    w = _sample(surface)
    h = 1e-6
    fd = np.stack([(surface.grad(w + h * e) - surface.grad(w - h * e)) / (2 * h)
                   for e in np.eye(2)], axis=-1)
    H = surface.hessian(w)
    np.testing.assert_allclose(H, fd, rtol=1e-4, atol=1e-4 * (1 + np.abs(H).max()))
    np.testing.assert_allclose(H, np.swapaxes(H, -1, -2))


@pytest.mark.parametrize("surface", ALL, ids=IDS)
def test_listed_minima_and_saddles_are_what_they_say(surface):
    assert surface.minima or surface.saddles
    for p in surface.minima:
        assert np.abs(surface.grad(p)).max() < 1e-9
        assert (np.linalg.eigvalsh(surface.hessian(p)) > 0).all()
    for p in surface.saddles:
        assert np.abs(surface.grad(p)).max() < 1e-9
        ev = np.linalg.eigvalsh(surface.hessian(p))
        assert ev[0] < 0 < ev[1]
    x0, x1, y0, y1 = surface.view
    for x, y in surface.minima + surface.saddles + (surface.default_start,):
        assert x0 <= x <= x1 and y0 <= y <= y1


@pytest.mark.parametrize("surface", ALL, ids=IDS)
def test_vectorized_over_leading_dimensions(surface):
    w = _sample(surface, 24).reshape(2, 3, 4, 2)
    assert surface.value(w).shape == (2, 3, 4)
    assert surface.grad(w).shape == (2, 3, 4, 2)
    assert surface.hessian(w).shape == (2, 3, 4, 2, 2)
    np.testing.assert_allclose(surface.value(w)[1, 2], surface.value(w[1, 2]))


def test_grad_scale_is_the_gradient_where_it_is_declared():
    # the engine computes these surfaces' gradient as one multiply by (sx, sy)
    declared = [s for s in ALL + [get_surface("rotated_quadratic", {"angle": 0})]
                if s.grad_scale is not None]
    assert {s.name for s in declared} == {"bowl", "ill_conditioned", "saddle",
                                          "rotated_quadratic"}
    for surface in declared:
        x, y = _sample(surface).T
        gx, gy = surface.grad_xy(x, y)
        sx, sy = surface.grad_scale
        np.testing.assert_array_equal(gx, sx * x)
        np.testing.assert_array_equal(gy, sy * y)
    assert get_surface("rotated_quadratic").grad_scale is None        # (30 degrees)


def test_at_least_twelve_surfaces_with_docs():
    assert len(SURFACES) >= 12
    for s in SURFACES.values():
        assert s.latex and s.teaches.endswith(".") and s.label


def test_global_minimum_is_lowest_listed():
    for s in SURFACES.values():
        if s.minima:
            vals = [float(s.value(p)) for p in s.minima]
            x0, x1, y0, y1 = s.view
            gx, gy = np.meshgrid(np.linspace(x0, x1, 201), np.linspace(y0, y1, 201))
            grid_min = s.value(np.stack([gx, gy], -1)).min()
            assert min(vals) <= grid_min + 1e-9, s.name


def test_rotated_quadratic_condition_number():
    s = get_surface("rotated_quadratic", {"kappa": 100, "angle": 45})
    ev = np.linalg.eigvalsh(s.hessian((0.3, -0.2)))
    assert ev[1] / ev[0] == pytest.approx(100)
    v = np.linalg.eigh(s.hessian((0, 0)))[1][:, 1]     # steep direction
    assert abs(abs(np.degrees(np.arctan2(v[1], v[0]))) - 135) < 1e-6 or \
        abs(abs(np.degrees(np.arctan2(v[1], v[0]))) - 45) < 1e-6


def test_every_analytic_surface_writes_itself_as_an_expression():
    """Surface.expression (what an exported script writes for torch) is the surface's own
    loss, in the formula language; a formula's is its text."""
    import math

    from optviz.formula import formula_surface, parse
    names = {k: getattr(np, k) for k in ("sin", "cos", "tan", "exp", "log", "sqrt", "abs",
                                          "tanh", "sinh", "cosh")}
    rng = np.random.default_rng(3)
    for name, s in [*SURFACES.items(), ("formula", formula_surface("x**2 + 3*sin(y)*x"))]:
        if s.dataset is not None:
            assert s.expression == ""
            continue
        parse(s.expression)                      # the formula language, whitelisted
        x0, x1, y0, y1 = s.view
        x, y = rng.uniform(x0, x1, 200), rng.uniform(y0, y1, 200)
        got = eval(s.expression, {"__builtins__": {}},           # noqa: S307 - our own text
                   {**names, "pi": math.pi, "e": math.e, "x": x, "y": y})
        np.testing.assert_allclose(got, s.value_xy(x, y), rtol=1e-13, atol=1e-13,
                                   err_msg=name)
