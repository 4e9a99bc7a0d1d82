"""Planes through a network's parameter space, the loss on them, and a plane's exact slice
as a surface that a Scene, simulate and Explore take like any other."""
import numpy as np
import pytest

from optviz import Scene, SceneError, simulate
from optviz.explore import lr_sweep
from optviz.networks import Network, NetworkError, make_dataset
from optviz.networks.planes import (
    endpoints_plane,
    hessian,
    hessian_plane,
    line_loss,
    pca_plane,
    plane_loss,
    random_plane,
)
from optviz.networks.slice import named_slice, slice_surface
from optviz.training import train


@pytest.fixture(scope="module")
def trained():
    net = Network(make_dataset("xor", n=120), hidden=(6, 6), init="xavier", seeds=(0, 1))
    return net, train(net, ["gd", "momentum", "adam"], 150)


def orthonormal(plane):
    return np.allclose([plane.u @ plane.u, plane.v @ plane.v, plane.u @ plane.v],
                       [1, 1, 0], atol=1e-12)


def test_the_shared_pca_plane_has_orthonormal_axes_the_init_at_its_origin(trained):
    net, run = trained
    plane = pca_plane(run, rows=[0, 1, 2], init=1)
    assert orthonormal(plane)
    coords, dist = plane.project(run.params[0, 1, 0].astype(float))
    assert np.allclose(coords, 0) and dist < 1e-12
    a, b = plane.explained
    assert 1 >= a >= b > 0 and a + b <= 1 + 1e-12
    # the paths off the plane are measured: what PCA leaves out is their distance
    coords, dist = plane.project(run.params[:3, 1].astype(float))
    residual = (1 - a - b) * ((run.params[:3, 1] - run.params[0, 1, 0]) ** 2).sum()
    assert (dist ** 2).sum() == pytest.approx(residual, rel=1e-3)


def test_a_row_that_diverged_is_refused_for_a_plane():
    net = Network(make_dataset("regression", n=80), hidden=(8, 8), activation="relu")
    run = train(net, ["adam", {"name": "gd", "lr": 3.0}], 60)
    assert run.diverged_at[1, 0] > 0                              # (the premise)
    with pytest.raises(NetworkError, match=r"plane.rows: GD diverged at step \d+"):
        pca_plane(run)
    with pytest.raises(NetworkError, match="plane.init: 5"):
        pca_plane(run, rows=[0], init=5)
    assert pca_plane(run, rows=[0]).kind == "pca"


def test_the_endpoints_plane_holds_the_init_and_both_ends(trained):
    net, run = trained
    plane = endpoints_plane(run, 1, 2)
    assert orthonormal(plane)
    for theta in (run.params[1, 0, 0], run.final[1, 0], run.final[2, 0]):
        assert plane.project(np.asarray(theta, float))[1] < 1e-9


def test_the_hessian_plane_is_along_the_sharpest_curvature(trained):
    net, run = trained
    theta = run.final[2, 0]
    H = hessian(net, theta)
    assert np.allclose(H, H.T)
    # H by differences of the exact gradient, checked against a second difference of the
    # loss along a random direction
    d = np.random.default_rng(1).normal(size=net.size)
    d /= np.linalg.norm(d)
    h = 1e-4
    X, y = net.data.X_train, net.data.y_train
    L = [net.evaluate(np.array([theta + s * h * d]), X, y)[0][0] for s in (-1, 0, 1)]
    assert d @ H @ d == pytest.approx((L[0] - 2 * L[1] + L[2]) / h ** 2, rel=1e-4, abs=1e-6)
    plane = hessian_plane(net, theta)
    assert orthonormal(plane)
    top = np.linalg.eigvalsh(H)[-2:][::-1]
    assert np.allclose(plane.curvature, top)
    assert np.allclose(H @ plane.u, plane.curvature[0] * plane.u, atol=1e-8)


def test_a_random_plane_is_filter_normalized(trained):
    net, run = trained
    theta = run.params[0, 0, 0].astype(float)
    plane = random_plane(net, theta, seed=4)
    for axis in (plane.u, plane.v):
        parts, own = net.tensors(axis), net.tensors(theta)
        for i in range(0, len(parts), 2):
            np.testing.assert_allclose(np.linalg.norm(parts[i], axis=1),
                                       np.linalg.norm(own[i], axis=1))
            assert not parts[i + 1].any()                          # biases 0
    assert not np.allclose(plane.u, random_plane(net, theta, seed=5).u)


def test_the_loss_on_a_plane_and_on_a_line_is_the_network_s(trained):
    net, run = trained
    plane = pca_plane(run, rows=[0, 1, 2])
    a, b = np.linspace(-2, 2, 61), np.linspace(-1, 1, 41)
    L = plane_loss(net, plane, a, b)
    assert L.shape == (41, 61)
    X, y = net.data.X_train, net.data.y_train
    assert L[20, 30] == pytest.approx(net.evaluate(plane.origin[None], X, y)[0][0])
    assert L[5, 7] == pytest.approx(net.evaluate(plane.point(a[7], b[5])[None], X, y)[0][0])
    alphas, line = line_loss(net, run.params[2, 0, 0].astype(float), run.final[2, 0])
    assert line[np.argmin(np.abs(alphas))] == pytest.approx(run.train_loss[2, 0, 0])
    assert line[np.argmin(np.abs(alphas - 1))] == pytest.approx(run.train_loss[2, 0, -1])


def test_the_slice_s_gradient_is_the_full_gradient_projected(trained):
    net, run = trained
    plane = endpoints_plane(run, 1, 2)
    surf = slice_surface(net, plane, span=3)
    pts = np.array([[0.3, -0.2], [1.0, 0.5], [-0.7, 0.1]])
    gx, gy = surf.grad_xy(pts[:, 0], pts[:, 1])
    g = net.loss_grad(plane.point(pts[:, 0], pts[:, 1]), net.data.X_train,
                      net.data.y_train)[1]
    np.testing.assert_allclose(gx, g @ plane.u, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(gy, g @ plane.v, rtol=1e-10, atol=1e-12)
    _, _, rel = surf.gradient_check(pts)
    assert rel.max() < 1e-6
    H = surf.hessian(pts[0])
    full = hessian(net, plane.point(*pts[0]))
    B = np.stack([plane.u, plane.v])
    np.testing.assert_allclose(H, B @ full @ B.T, rtol=1e-5, atol=1e-7)


def test_a_named_slice_is_a_surface_a_scene_simulates_and_explore_sweeps():
    name = "net:data=circles;n=100;hidden=6;act=tanh;init=torch;plane=random;plane_seed=2"
    scene = Scene(name, ["gd", "momentum", "adam"], steps=100)
    assert scene.to_dict()["surface"] == name and Scene.from_json(scene.to_json()) == scene
    assert tuple(scene.starts[0]) == (0.0, 0.0)
    run = simulate(scene)
    surf = scene.get_surface()
    assert surf is named_slice(name)                               # (built once)
    np.testing.assert_allclose(run.loss[:, 0], surf.value(run.path[:, 0]))
    assert (run.loss[:, 0, -1] < run.loss[:, 0, 0]).all()
    sweep = lr_sweep(name, ["gd", "adam"], [0.01, 0.1, 1.0], steps=60)
    assert sweep.loss.shape == (2, 3) and np.isfinite(sweep.loss).all()


@pytest.mark.parametrize("name, message", [
    ("net:data=mnist", "surface.data: 'mnist'"), ("net:n=5", "surface.n: 5; allowed 8"),
    ("net:hidden=64-64-64", "surface.hidden: 8577 parameters; allowed at most 2000 on the page"),
    ("net:plane=pca", "surface.plane: 'pca'"), ("net:colour=red", "keys are data, n"),
    ("net:span=0", "surface.span: 0"), ("net:" + "x" * 400, "at most 300 characters"),
    ("net:test=0.9", "surface.test: 0.9; allowed 0.05 to 0.8"),
    ("net:loss=mse", "surface.loss: mse does not fit classes"),
    ("net:data=blobs;loss=bce", "surface.loss: bce takes two classes"),
    ("net:loss=hinge", "surface.loss: 'hinge'; choose one of auto, bce, ce, mse"),
    ("net:hidden=99-99-99", "surface.hidden: 20197 parameters")])
def test_a_bad_slice_name_is_refused_naming_its_key(name, message):
    with pytest.raises(SceneError, match=message):
        Scene(name)


def test_a_slices_name_sets_its_held_out_share_and_its_loss():
    """``test`` is the share held out (one sample at least), ``loss`` the loss, ``auto``
    the data's own (BCE for two classes)."""
    from optviz.networks.slice import DEFAULTS, network_from, read_keys
    net = network_from(read_keys("n=100;test=0.4", DEFAULTS)[0])
    assert (len(net.data.X_train), len(net.data.X_test)) == (60, 40)
    assert len(network_from(read_keys("n=8;test=0.05", DEFAULTS)[0]).data.X_test) == 1
    assert network_from(read_keys("", DEFAULTS)[0]).loss == "bce"
    ce = network_from(read_keys("loss=ce", DEFAULTS)[0])
    assert ce.loss == "ce" and ce.widths[-1] == 2
    # the same network under either loss draws a different slice
    p = np.array([0.3, 0.2])
    assert named_slice("net:n=100").value(p) != named_slice("net:n=100;loss=ce").value(p)
