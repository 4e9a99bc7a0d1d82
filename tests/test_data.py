"""Data surfaces: real minibatches, drawn the same for every optimizer."""
import numpy as np
import pytest

from optviz import OptimizerSpec, Scene, SceneError, simulate
from optviz.data import DATASETS, N_SAMPLES
from optviz.surfaces import SURFACES

NAMES = list(DATASETS)


@pytest.mark.parametrize("name", NAMES)
def test_the_full_batch_gradient_is_the_mean_of_the_per_sample_gradients(name):
    """grad_xy sums over samples by matrix products (the engine's fast path); it must be
    the plain mean of the per-sample gradients, for one point and for the engine's
    [rows, starts] planes."""
    surface, data = SURFACES[name], DATASETS[name]
    x0, x1, y0, y1 = surface.view
    rng = np.random.default_rng(1)
    x, y = rng.uniform(x0, x1, (6, 3)), rng.uniform(y0, y1, (6, 3))
    grid = (np.linspace(x0, x1, 5)[:, None], np.linspace(y0, y1, 4)[None, :])
    for px, py in ((x, y), (np.float64(x[0, 0]), np.float64(y[0, 0])), grid):
        gx, gy = surface.grad_xy(px, py)
        per_x, per_y = data.grads(px, py)
        assert np.shape(gx) == np.shape(gy) == np.broadcast_shapes(np.shape(px), np.shape(py))
        np.testing.assert_allclose(gx, per_x.mean(-1), rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(gy, per_y.mean(-1), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("name", NAMES)
def test_minibatch_gradients_are_unbiased_with_the_predicted_variance(name):
    surface, data = SURFACES[name], DATASETS[name]
    w = np.array([0.7, -0.4])
    full = surface.grad(w)
    per = np.stack(data.grads(w[0], w[1]), -1)                 # [n, 2] per-sample
    assert np.allclose(per.mean(0), full)
    sigma2 = per.var(0)                                         # population variance
    rng = np.random.default_rng(0)
    n = N_SAMPLES
    for b in (1, 4, 16, 48):
        draws = 20_000
        idx = np.argsort(rng.random((draws, n)), axis=1)[:, :b]   # without replacement
        means = per[idx].mean(1)                                # [draws, 2]
        assert np.allclose(means.mean(0), full, atol=4 * np.sqrt(sigma2 / b / draws).max())
        predicted = sigma2 / b * (n - b) / (n - 1)
        assert np.allclose(means.var(0), predicted, rtol=0.06), (b, means.var(0), predicted)
        # and the surface's own batch gradient is that mean
        gx, gy = surface.batch_grad_xy(np.float64(w[0]), np.float64(w[1]), idx[0])
        assert np.allclose([gx, gy], means[0])


def test_every_optimizer_sees_the_same_minibatch_and_b_equal_n_is_full_batch():
    rows = [OptimizerSpec("sgd", lr=0.01), OptimizerSpec("adam", lr=0.05),
            OptimizerSpec("momentum", lr=0.01)]
    scene = Scene("data_linear", rows, steps=40, batch_size=5, seed=3)
    run = simulate(scene)
    surface = scene.get_surface()
    rng = np.random.default_rng(np.random.SeedSequence(3, spawn_key=(2, 0)))
    for t in range(40):
        idx = rng.choice(N_SAMPLES, 5, replace=False)
        for i in range(3):
            p = run.path[i, 0, t]
            assert np.allclose(run.grad[i, 0, t], surface.batch_grad_xy(p[0], p[1], idx))
    full = simulate(scene.replace(batch_size=N_SAMPLES))
    plain = simulate(scene.replace(batch_size=None))
    assert np.allclose(full.path, plain.path, rtol=0, atol=1e-12)
    assert not np.allclose(run.path, plain.path)


def test_batch_size_only_on_data_and_within_n():
    with pytest.raises(SceneError, match="batch_size: bowl has no samples"):
        Scene("bowl", batch_size=4)
    with pytest.raises(SceneError, match=r"batch_size: 65 is outside the allowed range \[1, 64\]"):
        Scene("data_logistic", batch_size=65)
    s = Scene("data_sigmoid_net", batch_size=8)
    assert Scene.from_json(s.to_json()) == s


def test_the_regression_valley_is_ill_conditioned_and_the_network_has_a_plateau():
    lin = SURFACES["data_linear"]
    eig = np.linalg.eigvalsh(lin.hessian(np.array(lin.minima[0])))
    assert eig.max() / eig.min() > 50
    net = SURFACES["data_sigmoid_net"]
    # from its start (high loss, saturated sigmoids) the gradient all but vanishes:
    # GD stalls on the plateau, Adam's normalised step walks off it
    X, Y = np.meshgrid(np.linspace(-6, 8, 71), np.linspace(-6, 10, 81))
    steepest = np.linalg.norm(net.grad(np.stack([X, Y], -1)), axis=-1).max()
    start = np.array(net.default_start)
    assert np.linalg.norm(net.grad(start)) < 0.01 * steepest
    assert net.value(start) > 5 * net.value(np.array(net.minima[0]))
    run = simulate(Scene("data_sigmoid_net", [OptimizerSpec("gd", lr=1.0),
                                              OptimizerSpec("adam", lr=0.1)], steps=300))
    assert run.loss[0, 0, -1] > 0.99 * run.loss[0, 0, 0]
    assert run.loss[1, 0, -1] < 2 * net.value(np.array(net.minima[0]))
