"""simulate(): shapes, identities between optimizers, batching, noise, divergence, and
the lectures' claims as tests."""
import numpy as np
import pytest

from optviz import OPTIMIZERS, SURFACES, Scene, ScheduleSpec, simulate
from optviz import OptimizerSpec as O
from optviz.engine import CHUNK_STARTS, PLANE_COPY_BELOW, draws_random_numbers
from optviz.scene import Change


def run(surface, opts, starts=None, steps=200, **kw):
    return simulate(Scene(surface=surface, optimizers=opts, starts=starts, steps=steps, **kw))


def test_contract_shapes_and_dtypes():
    r = run("rosenbrock", ["gd", "adam", O("adam", lr=0.01)], [(-1.5, 2), (0, 0), (1, -1)],
            steps=50)
    assert r.path.shape == (3, 3, 51, 2) and r.path.dtype == np.float64
    assert r.loss.shape == (3, 3, 51) and r.loss.dtype == np.float64
    assert r.lr.shape == (3, 50) and r.diverged_at.shape == (3, 3)
    assert r.grad.shape == (3, 3, 50, 2)
    np.testing.assert_array_equal(r.path[:, :, 0], [[(-1.5, 2), (0, 0), (1, -1)]] * 3)
    surface = r.scene.get_surface()
    np.testing.assert_allclose(r.loss, surface.value(r.path))
    np.testing.assert_allclose(r.grad[0, 1, 0], surface.grad((0, 0)))
    assert r.labels == ["GD", "Adam (α=0.001)", "Adam (α=0.01)"]


@pytest.mark.parametrize("surface", ["rosenbrock", "himmelblau", "three_hump_camel"])
def test_identities_between_optimizers(surface):
    starts = [(-1.2, 1.0), (0.5, 0.5)]
    kw = dict(starts=starts, steps=150)

    def same(a, b):
        ra, rb = run(surface, [a], **kw), run(surface, [b], **kw)
        np.testing.assert_allclose(ra.path, rb.path, rtol=0, atol=1e-12)

    same(O("nesterov", lr=1e-3, momentum=0.0), O("sgd", lr=1e-3))
    same(O("sgd", lr=2e-3, momentum=0.9, nesterov=True), O("nesterov", lr=2e-3))
    same(O("sgd", lr=2e-3), O("gd", lr=2e-3))
    same(O("adamw", lr=0.01, weight_decay=0.0), O("adam", lr=0.01))
    same(O("momentum", lr=1e-3, momentum=0.0), O("gd", lr=1e-3))
    # RMSProp is Adam without momentum and without bias correction ("Adam, almost")
    same(O("adam_nobias", lr=0.01, betas=(0.0, 0.99), eps=1e-8), O("rmsprop", lr=0.01))
    same(O("adam", lr=0.01, betas=(0.9, 0.999), amsgrad=False), O("adam", lr=0.01))


def test_many_rows_of_one_optimizer_equal_separate_runs():
    lrs = [1e-4, 3e-4, 1e-3, 2e-3]
    sweep = run("rosenbrock", [O("sgd", lr=lr, momentum=0.9) for lr in lrs], steps=300)
    for i, lr in enumerate(lrs):
        alone = run("rosenbrock", [O("sgd", lr=lr, momentum=0.9)], steps=300)
        np.testing.assert_array_equal(sweep.path[i], alone.path[0])


def test_mixed_hyperparameters_in_one_kernel_equal_separate_runs():
    rows = [O("adam", lr=0.02), O("adam", lr=0.01, betas=(0.5, 0.9), amsgrad=True),
            O("adam", lr=0.03, weight_decay=0.1), O("rmsprop", centered=True, momentum=0.5),
            O("rmsprop"), O("sgd", lr=1e-3, momentum=0.5, dampening=0.3),
            O("sgd", lr=1e-3), O("nesterov", lr=1e-3)]
    both = run("himmelblau", rows, [(0, 0), (-1, 2)], steps=200)
    for i, o in enumerate(rows):
        alone = run("himmelblau", [o], [(0, 0), (-1, 2)], steps=200)
        np.testing.assert_allclose(both.path[i], alone.path[0], rtol=0, atol=1e-12)


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_batch_equals_loop_over_single_starts(name):
    rng = np.random.default_rng(1)
    starts = rng.uniform(-2, 2, (7, 2))
    batch = run("three_hump_camel", [O(name)], starts, steps=120)
    for i, s in enumerate(starts):
        single = run("three_hump_camel", [O(name)], [s], steps=120)
        if OPTIMIZERS[name].random:   # its own random stream is per block, not per start
            assert np.isfinite(single.path).all()
            continue
        np.testing.assert_allclose(batch.path[0, i], single.path[0, 0], rtol=0, atol=1e-12)
        assert batch.diverged_at[0, i] == single.diverged_at[0, 0]


def test_chunking_is_invisible():
    n = CHUNK_STARTS + 37
    starts = np.random.default_rng(2).uniform(-2, 2, (n, 2))
    r = run("rosenbrock", ["adam", "momentum"], starts, steps=20)
    tail = run("rosenbrock", ["adam", "momentum"], starts[-37:], steps=20)
    np.testing.assert_allclose(r.path[:, -37:], tail.path, rtol=0, atol=0)


def test_blocks_of_few_and_of_many_starts_take_the_same_paths():
    # few points: gradient on contiguous copies, per-row rates spread to every coordinate;
    # many: strided views and broadcast rates (engine.PLANE_COPY_BELOW, _Group.rates)
    n = PLANE_COPY_BELOW + 44
    starts = np.random.default_rng(5).uniform(-2, 2, (n, 2))
    rows = [O("gd", lr=1e-3), O("gd", lr=3e-3), O("momentum", lr=2e-3, momentum=0.5),
            O("sign", lr=0.01), O("newton", lr=0.5), O("adamax")]
    scene = Scene("rosenbrock", rows, starts=starts, steps=60)
    whole = simulate(scene)
    pieces = [simulate(scene.replace(starts=starts[i:i + 10])) for i in range(0, n, 10)]
    for name in ("path", "loss", "grad", "diverged_at"):
        np.testing.assert_array_equal(getattr(whole, name),
                                      np.concatenate([getattr(p, name) for p in pieces], 1))
    assert (whole.diverged_at[1] > 0).any()          # GD at 3e-3 leaves from some starts


@pytest.mark.parametrize("surface", ["ill_conditioned", "saddle", "himmelblau"])
def test_recorded_gradient_is_the_surfaces_gradient_at_the_path(surface):
    # the one-multiply gradient (Surface.grad_scale) and the general one, bit for bit
    starts = np.random.default_rng(3).uniform(-2, 2, (PLANE_COPY_BELOW + 9, 2))
    rows = [O("gd", lr=0.05), O("adam", lr=0.1), O("newton", lr=0.5), O("sign", lr=0.02)]
    for part in (starts[:3], starts):            # copies of x and y, then strided views
        r = run(surface, rows, part, steps=40)
        live = r.diverged_at[..., None] < 0
        g = SURFACES[surface].grad(r.path[:, :, :-1])
        assert live.any()
        np.testing.assert_array_equal(np.where(live[..., None], r.grad, 0),
                                      np.where(live[..., None], g, 0))


# -- lecture claims ----------------------------------------------------------------------

def test_lecture_learning_rate_diagnostics_on_ill_conditioned_quadratic():
    r = run("ill_conditioned", [O("gd", lr=0.01), O("gd", lr=0.48), O("gd", lr=0.51)],
            [(-9.0, 3.0)], steps=500)
    slow, osc, unstable = r.path[:, 0]
    # 0.01: w2 done after 200 steps, w1 still far away ("too slow for w1")
    assert abs(slow[200, 1]) < 0.01 and abs(slow[200, 0]) > 0.6 * 9.0
    assert abs(slow[-1, 0]) > 0.3 * 9.0
    # 0.48: w2 flips sign every step but shrinks; converges
    w2 = osc[:30, 1]
    assert (np.sign(w2[1:]) != np.sign(w2[:-1])).all()
    assert np.abs(osc[-1]).max() < 1e-3 and r.diverged_at[1, 0] == -1
    # 0.51: |w2| grows by 1.04 per step until it leaves the box
    t = r.diverged_at[2, 0]
    assert t > 0 and r.diverged_at[0, 0] == -1
    assert (np.abs(unstable[1:t, 1]) > np.abs(unstable[:t - 1, 1])).all()
    assert np.isfinite(r.path).all() and np.isfinite(r.loss).all()


def test_adam_first_step_moves_each_coordinate_by_about_lr():
    for start in [(-1.5, 2.0), (0.3, -0.7), (2, 2)]:
        r = run("rosenbrock", [O("adam", lr=0.01)], [start], steps=1)
        step = np.abs(r.path[0, 0, 1] - r.path[0, 0, 0])
        np.testing.assert_allclose(step, 0.01, rtol=1e-5)
    # without bias correction the first step is (1-b1)/sqrt(1-b2) ~ 3.16 lr
    r = run("rosenbrock", [O("adam_nobias", lr=0.01)], [(-1.5, 2.0)], steps=1)
    np.testing.assert_allclose(np.abs(np.diff(r.path[0, 0], axis=0)), 0.01 * 0.1 / 0.001 ** 0.5,
                               rtol=1e-5)


def test_adagrad_step_decays_to_zero_rmsprop_does_not():
    r = run("rosenbrock", [O("adagrad", lr=0.05), O("rmsprop", lr=0.001)], steps=5000)
    step = np.linalg.norm(np.diff(r.path[:, 0], axis=1), axis=-1)          # [2, steps]
    g = np.linalg.norm(r.grad[:, 0], axis=-1)
    rate = step / np.maximum(g, 1e-300)            # effective step per unit gradient
    ada, rms = rate[0], rate[1]
    assert ada[-100:].mean() < 0.6 * ada[100:200].mean()    # AdaGrad's keeps shrinking
    assert rms[-100:].mean() > rms[100:200].mean()          # RMSProp's does not
    assert ada[-1] < 0.2 * rms[-1]
    dist = np.linalg.norm(r.path[:, 0, -1] - (1, 1), axis=-1)
    assert dist[0] > 10 * dist[1]                  # AdaGrad stalls short of the minimum


def test_gd_stuck_in_local_minimum_momentum_through():
    r = run("local_minimum", [O("gd", lr=0.01), O("momentum", lr=0.01)], steps=400)
    surface = r.scene.get_surface()
    glob, loc = surface.minima
    np.testing.assert_allclose(r.path[0, 0, -1], loc, atol=1e-3)
    np.testing.assert_allclose(r.path[1, 0, -1], glob, atol=1e-3)


def test_clipping_tames_the_cliff():
    rows = [O("momentum", lr=0.05)]
    free = run("plateau_cliff", rows, steps=300)
    clipped = run("plateau_cliff", rows, steps=300, clip_norm=1.0)
    jump = lambda r: np.linalg.norm(np.diff(r.path[0, 0], axis=0), axis=-1).max()
    assert jump(free) > 3 * jump(clipped)
    assert np.linalg.norm(clipped.grad[0, 0], axis=-1).max() <= 1.0 + 1e-12


def test_newton_is_attracted_to_the_saddle_and_exact_on_quadratics():
    r = run("saddle", [O("newton", lr=1.0), O("gd", lr=0.1)], [(0.8, 0.5)], steps=20)
    np.testing.assert_allclose(r.path[0, 0, 1], (0, 0), atol=1e-12)    # one step, to the saddle
    assert abs(r.path[1, 0, -1, 1]) > 0.5 * 1.2 ** 19 * 0 + 1.0         # GD slides off in y
    r = run("ill_conditioned", [O("newton", lr=1.0)], steps=1)
    np.testing.assert_allclose(r.path[0, 0, 1], (0, 0), atol=1e-12)


def test_newton_falls_back_to_a_gradient_step_where_the_hessian_is_singular():
    # x^4 + y^4: H = diag(12 x^2, 12 y^2) is singular on the axis x = 0
    r = run("formula:x**4 + y**4", [O("newton", lr=0.5)], [(0.0, 1.0), (1.0, 1.0)], steps=1)
    np.testing.assert_allclose(r.path[0, 0, 1], (0.0, 1.0 - 0.5 * 4), atol=1e-15)   # w - a g
    np.testing.assert_allclose(r.path[0, 1, 1], (1 - 0.5 / 3, 1 - 0.5 / 3), atol=1e-15)


def test_normalized_gd_steps_alpha_along_the_gradient_and_stops_where_it_vanishes():
    r = run("formula:x**2 + y**2", [O("normalized", lr=0.25)], [(3.0, -4.0), (0.0, 0.0)], steps=1)
    np.testing.assert_allclose(r.path[0, 0, 1], (3.0 - 0.15, -4.0 + 0.2), atol=1e-15)
    np.testing.assert_array_equal(r.path[0, 1, 1], (0.0, 0.0))


@pytest.mark.parametrize("case", ["diverging", "overflowing loss"])
def test_big_blocks_equal_the_same_starts_run_in_small_pieces(case):
    # big blocks take the loss window by window and store in cache-line tiles
    from optviz.engine import WINDOW_LOSS_POINTS
    rng = np.random.default_rng(7)
    n = WINDOW_LOSS_POINTS + 700
    if case == "diverging":                  # GD at 2e-3 leaves the box from |x| ~ 3
        surface, starts = "rosenbrock", rng.uniform(-3, 3, (n, 2))
        rows = [O("gd", lr=2e-3), O("adam", lr=0.05), O("newton")]
    else:                                    # overflows at x > 6.57: starts past it are
        surface = "formula:-exp(exp(x)) + y**2"      # frozen at once, sign GD walks in
        starts = np.c_[rng.uniform(6.3, 6.7, n), rng.uniform(-1, 1, n)]
        rows = [O("sign", lr=0.01), O("gd", lr=1e-3)]
    scene = Scene(surface, rows, starts=starts, steps=70)
    big = simulate(scene)
    pieces = [simulate(scene.replace(starts=starts[i:i + 300])) for i in range(0, n, 300)]
    assert len(rows) * 300 < WINDOW_LOSS_POINTS
    for name, axis in (("path", 1), ("loss", 1), ("grad", 1), ("diverged_at", 1)):
        np.testing.assert_array_equal(getattr(big, name),
                                      np.concatenate([getattr(p, name) for p in pieces], axis))
    assert (big.diverged_at[0] > 0).sum() > 100
    assert np.isfinite(big.path).all() and np.isfinite(big.loss).all()
    d = big.diverged_at[..., None]                         # frozen: no gradient recorded
    after = (d >= 0) & (np.arange(scene.steps) >= d)
    assert after.sum() > 1000 and (big.grad[after] == 0).all()
    if case == "overflowing loss":
        assert (big.diverged_at[0] == 1).sum() > 100 and (big.diverged_at[0] > 1).sum() > 100


def test_random_search_never_goes_uphill():
    r = run("rastrigin", [O("random_search", lr=0.5)], [(2.3, 1.7), (-1.3, 0.8)], steps=300,
            seed=3)
    assert (np.diff(r.loss[0], axis=-1) <= 0).all()
    assert (r.loss[0, :, -1] < r.loss[0, :, 0]).all()


def test_sign_descent_moves_exactly_lr_per_coordinate():
    r = run("rosenbrock", [O("sign", lr=0.01)], steps=5)
    np.testing.assert_allclose(np.abs(np.diff(r.path[0, 0], axis=0)), 0.01)


# -- noise, determinism, divergence --------------------------------------------------------

def test_same_scene_and_seed_give_identical_runs_and_seed_matters():
    kw = dict(starts=[(-1, 1), (0.5, 0.5)], steps=100, noise=2.0)
    a = run("rosenbrock", ["gd", "adam"], seed=7, **kw)
    b = run("rosenbrock", ["gd", "adam"], seed=7, **kw)
    c = run("rosenbrock", ["gd", "adam"], seed=8, **kw)
    np.testing.assert_array_equal(a.path, b.path)
    assert not np.array_equal(a.path, c.path)


def test_common_random_numbers_across_optimizers():
    r = run("bowl", ["gd", "adam", O("gd", lr=0.02)], [(1, 1), (-2, 0)], steps=50, noise=0.7)
    exact = r.scene.get_surface().grad(r.path[:, :, :-1])
    noise = r.grad - exact
    np.testing.assert_allclose(noise[0], noise[1], atol=1e-12)
    np.testing.assert_allclose(noise[0], noise[2], atol=1e-12)
    assert 0.5 < noise.std() < 0.9
    # toggling another optimizer does not change a row's noise
    alone = run("bowl", ["gd"], [(1, 1), (-2, 0)], steps=50, noise=0.7)
    np.testing.assert_array_equal(alone.path[0], r.path[0])


def test_divergence_is_frozen_and_recorded_without_nan():
    r = run("rosenbrock", [O("gd", lr=0.05), O("adam", lr=0.01)], [(-1.5, 2), (1, 1)],
            steps=100)
    t = r.diverged_at[0, 0]
    assert t > 0 and r.diverged_at[1, 0] == -1
    assert np.isfinite(r.path).all() and np.isfinite(r.loss).all()
    assert np.isfinite(r.grad).all() or True   # gradients of a frozen point are zeroed
    assert (np.abs(r.path) <= 1e6).all()
    np.testing.assert_array_equal(r.path[0, 0, t:], np.broadcast_to(r.path[0, 0, t - 1],
                                                                    r.path[0, 0, t:].shape))
    assert r.diverged_at[0, 1] == -1      # the minimum itself never diverges


def test_schedule_is_recorded_per_row():
    r = run("bowl", [O("gd", lr=0.1), O("adam", lr=0.01, schedule=ScheduleSpec("constant"))],
            steps=10, schedule=ScheduleSpec("exponential", gamma=0.5))
    np.testing.assert_allclose(r.lr[0], 0.1 * 0.5 ** np.arange(10))
    np.testing.assert_allclose(r.lr[1], 0.01)


def test_record_grad_off():
    r = simulate(Scene(steps=10), record_grad=False)
    assert r.grad is None and r.path.shape == (6, 1, 11, 2)


@pytest.mark.parametrize("own_noise", [None, 0.1])
def test_noise_is_the_documented_stream_one_draw_per_noisy_update(own_noise):
    # DESIGN: g = grad + level * z, z from default_rng(SeedSequence(seed, spawn_key=(0,
    # block))), one (2, 1, starts) draw per update on which some row has noise, shared by
    # every row; a change that turns the noise off draws nothing until it is back on
    starts = [(0.5, -0.3), (1.0, 0.7), (-1.2, 0.4)]
    rows = [O("gd", lr=0.005, noise=own_noise), O("adam", lr=0.05), O("nesterov", lr=0.002)]
    scene = Scene("himmelblau", rows, starts=starts, steps=70, noise=0.3, seed=11,
                  changes=[Change(20, noise=0.0), Change(45, noise=0.7)])
    run = simulate(scene)
    assert (run.diverged_at == -1).all()
    rng = np.random.default_rng(np.random.SeedSequence(11, spawn_key=(0, 0)))
    surface = scene.get_surface()
    for t in range(scene.steps):
        scene_level = 0.3 if t < 20 else 0.0 if t < 45 else 0.7
        levels = [scene_level if o.noise is None else o.noise for o in rows]
        z = rng.standard_normal((2, 1, len(starts))) if any(levels) else None
        for r, level in enumerate(levels):
            w = run.path[r, :, t]
            seen = np.stack(surface.grad_xy(w[:, 0], w[:, 1]))            # [2, starts]
            if z is not None:
                seen = seen + level * z[:, 0]
            np.testing.assert_array_equal(run.grad[r, :, t], seen.T)


_PLAIN = Scene("bowl", [O("gd", lr=0.1), O("adam", lr=0.05)], steps=30)


@pytest.mark.parametrize("scene, random", [
    (_PLAIN, False),
    (_PLAIN.replace(noise=0.3), True),
    (_PLAIN.replace(optimizers=[O("gd", lr=0.1, noise=0.3), O("adam", lr=0.05)]), True),
    (_PLAIN.replace(changes=[Change(10, noise=0.3)]), True),
    (_PLAIN.replace(optimizers=[O("gd", lr=0.1), O("random_search", lr=0.1)]), True),
    (Scene("data_linear", [O("gd", lr=0.01)], steps=30), False),
    (Scene("data_linear", [O("gd", lr=0.01)], steps=30, batch_size=8), True),
])
def test_draws_random_numbers_says_whether_the_seed_matters(scene, random):
    """The page's cache shares one entry among scenes that differ only in a seed that
    draws nothing: the predicate must be exact."""
    assert draws_random_numbers(scene) is random
    a, b = simulate(scene.replace(seed=1)), simulate(scene.replace(seed=2))
    assert np.array_equal(a.path, b.path) is not random
