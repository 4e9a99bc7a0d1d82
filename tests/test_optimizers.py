"""Optimizers torch.optim lacks, against steps computed by hand from their papers' updates
(the others are checked against torch: tests/test_torch_parity.py)."""
import numpy as np
import pytest

from optviz import OptimizerSpec, Scene, simulate


def path(surface, spec, start, steps):
    return simulate(Scene(surface, [spec], starts=[start], steps=steps)).path[0, 0]


def test_lion_takes_the_papers_steps():
    # bowl: L = x^2 + 2 y^2, g = (2x, 4y); from (-3.5, 3): g1 = (-7, 12), m0 = 0
    # c1 = 0.1 g1 -> sign (-1, +1); w1 = 0.95 w0 - 0.1 sign = (-3.225, 2.75)
    # m1 = 0.01 g1 = (-0.07, 0.12); g2 = (-6.45, 11); c2 = 0.9 m1 + 0.1 g2 = (-0.708, 1.208)
    # w2 = 0.95 w1 - 0.1 sign(c2) = (-2.96375, 2.5125)
    spec = OptimizerSpec("lion", lr=0.1, betas=(0.9, 0.99), weight_decay=0.5)
    p = path("bowl", spec, (-3.5, 3.0), 2)
    np.testing.assert_allclose(p, [[-3.5, 3.0], [-3.225, 2.75], [-2.96375, 2.5125]],
                               rtol=0, atol=1e-12)


def test_lion_steps_by_the_sign_of_its_momentum_not_of_the_gradient():
    # 1-D in x (y at its minimum): L = x^2 from x = 0.1 with lr 0.1 and beta1 = 0.99:
    # g1 = 0.2, c1 = 0.002 > 0 -> x1 = 0; m1 = 0.01 * 0.2 = 0.002 (beta2 = 0.99)
    # g2 = 0 -> c2 = 0.99 * 0.002 > 0: Lion still steps, to x2 = -0.1, where sign GD stays
    spec = OptimizerSpec("lion", lr=0.1, betas=(0.99, 0.99))
    p = path("bowl", spec, (0.1, 0.0), 3)
    np.testing.assert_allclose(p[:3, 0], [0.1, 0.0, -0.1], rtol=0, atol=1e-15)
    # m2 = 0.99 * 0.002 = 0.00198; g3 = -0.2; c3 = 0.99 m2 - 0.002 < 0 -> x3 = 0
    assert p[3, 0] == pytest.approx(0.0, abs=1e-15)
    sign_gd = path("bowl", OptimizerSpec("sign", lr=0.1), (0.1, 0.0), 2)
    assert sign_gd[2, 0] == pytest.approx(0.0, abs=1e-15)


def test_every_lion_coordinate_moves_by_exactly_alpha_without_weight_decay():
    p = path("rosenbrock", OptimizerSpec("lion", lr=0.01), (-1.5, 2.0), 200)
    steps = np.abs(np.diff(p, axis=0))
    np.testing.assert_allclose(steps[steps > 0], 0.01, rtol=1e-9)


def test_asgd_keeps_the_polyak_ruppert_average_of_its_iterates_in_its_state():
    """ASGD's path is the iterate; from update t0 + 2 on its state's average is the mean
    of the iterates since (torch's mu_t = 1 / max(1, t - t0))."""
    t0, steps = 10, 60
    scene = Scene("ill_conditioned", [OptimizerSpec("asgd", lr=0.2, t0=t0)],
                  starts=[(-3.0, 2.0)], steps=steps)
    run = simulate(scene, record_state=True)
    path, average = run.path[0, 0], run.state["average"][0, 0]
    for t in (t0 + 2, t0 + 3, 30, steps):              # after update t
        np.testing.assert_allclose(average[t - 1], path[t0 + 2:t + 1].mean(axis=0),
                                   rtol=0, atol=1e-12)
    # before averaging starts the average is the iterate; the other rows have none
    np.testing.assert_array_equal(average[:t0], path[1:t0 + 1])
    both = simulate(scene.replace(optimizers=["asgd", "gd"]), record_state=True)
    assert np.isnan(both.state["average"][1]).all()
    assert np.isfinite(both.state["average"][0]).all()


def test_lbfgs_rows_with_and_without_line_search_step_as_they_would_alone():
    """One kernel group whose rows differ in line search and history: each row's path
    and evaluations are those of the row run alone."""
    rows = [OptimizerSpec("lbfgs", lr=0.1), OptimizerSpec("lbfgs_wolfe", history_size=2),
            OptimizerSpec("lbfgs", lr=0.05, history_size=1, line_search_fn="strong_wolfe")]
    starts = [(-0.3, -0.9), (1.0, 1.0)]
    together = simulate(Scene("himmelblau", rows, starts=starts, steps=40), record_state=True)
    for i, row in enumerate(rows):
        alone = simulate(Scene("himmelblau", [row], starts=starts, steps=40), record_state=True)
        np.testing.assert_array_equal(together.path[i], alone.path[0])
        np.testing.assert_array_equal(together.state["evals"][i], alone.state["evals"][0])
    # the line search took more than one evaluation at some step; plain L-BFGS never does
    assert together.state["evals"][1].max() > 1 and together.state["evals"][0].max() == 1


def test_the_inspector_shows_no_momentum_buffer_for_gd_beside_momentum():
    run = simulate(Scene("bowl", ["gd", "momentum"], steps=5), record_state=True)
    assert np.isnan(run.state["m"][0]).all()                 # GD: torch keeps none
    assert np.isfinite(run.state["m"][1]).all() and (run.state["m"][1] != 0).any()


def test_the_line_search_divides_by_zero_as_torch_does_not_with_an_error():
    """Two points of the cubic that coincide, a flat or a huge cubic: torch's tensors give
    inf or nan, and so does _cubic (a ZeroDivisionError, or an OverflowError, once made
    the page answer 500 for the saddle with noise); a scene that meets them ends finite
    or diverged, never raises."""
    import math

    from optviz.optimizers.second_order import _cubic
    assert _cubic(1.0, 2.0, -1.0, 1.0, 2.0, -1.0) == 1.0          # x1 = x2: nan, midpoint
    assert math.isnan(_cubic(0.0, 0.0, 1.0, 3.0, 1.0, 1.0))        # 0 / 0
    assert _cubic(0.0, 0.0, 1.0, 1.0, 1.0, 1.0, bounds=(0.5, 4.0)) == 0.5   # 2 / 0: -inf
    huge = _cubic(0.0, 0.0, -1e200, 1.0, 1e300, 1e200, bounds=(0.5, 4.0))   # d1² overflows
    assert math.isnan(huge) or 0.5 <= huge <= 4.0
    for lr, noise in ((0.003, 0.0), (0.03, 1.0)):      # (an overflow, once)
        run = simulate(Scene("saddle", [OptimizerSpec("lbfgs_wolfe", lr=lr)], steps=1680,
                             noise=noise, seed=0))
        assert np.isfinite(run.path).all() and np.isfinite(run.loss).all()
