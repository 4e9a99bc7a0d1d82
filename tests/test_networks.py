"""Networks as problems: the datasets, the MLP (its parameter vector in torch's layout,
its initializations, its loss and gradient), the training loop and what it records, and
bad input refused with the field named. (Parity with torch: test_network_parity.py.)"""
import numpy as np
import pytest

from optviz.cost import CostError
from optviz.networks import (
    ACTIVATIONS,
    DATASETS,
    DataError,
    Network,
    NetworkError,
    from_arrays,
    make_dataset,
)
from optviz.optimizers import OPTIMIZERS
from optviz.training import MAX_NEWTON, TRAINS, train


def xor_net(**kw):
    return Network(make_dataset("xor", n=80), **{"hidden": (8, 8), **kw})


# -- datasets -------------------------------------------------------------------------------

@pytest.mark.parametrize("name", sorted(DATASETS))
def test_every_dataset_is_seeded_split_and_in_the_box(name):
    d = make_dataset(name, n=200, noise=0.05, test_fraction=0.25, seed=3)
    again = make_dataset(name, n=200, noise=0.05, test_fraction=0.25, seed=3)
    other = make_dataset(name, n=200, noise=0.05, test_fraction=0.25, seed=4)
    assert np.array_equal(d.X_train, again.X_train) and np.array_equal(d.y_test, again.y_test)
    assert not np.array_equal(d.X_train, other.X_train)
    assert (len(d.X_train), len(d.X_test)) == (150, 50)
    assert d.features == 2 and np.abs(np.concatenate([d.X_train, d.X_test])).max() < 1.5
    if d.classes:
        assert set(np.unique(d.y_train)) == set(range(d.classes))   # every class present
    else:
        assert d.y_train.shape == (150, 1) and d.y_train.dtype == float


@pytest.mark.parametrize("kwargs, field", [
    (dict(name="mnist"), "dataset:"), (dict(n=3), "dataset.n"), (dict(n=10**6), "dataset.n"),
    (dict(noise=-1), "dataset.noise"), (dict(test_fraction=0.95), "dataset.test_fraction")])
def test_a_bad_dataset_is_refused_naming_its_field(kwargs, field):
    with pytest.raises(DataError, match=field.replace(".", r"\.")):
        make_dataset(**kwargs)


def test_own_arrays_are_checked_and_their_classes_counted():
    X = np.random.default_rng(0).normal(size=(30, 3))
    d = from_arrays(X, np.arange(30) % 4)
    assert (d.classes, d.features, d.outputs) == (4, 3, 4)
    assert from_arrays(X, X[:, 0]).classes == 0                    # floats: regression
    bad = X.copy()
    bad[2, 1] = np.nan
    with pytest.raises(DataError, match="X: holds NaN"):
        from_arrays(bad, np.arange(30) % 2)
    with pytest.raises(DataError, match="y: 29 targets for 30 samples"):
        from_arrays(X, np.arange(29) % 2)
    with pytest.raises(DataError, match="X_test: 2 features, X has 3"):
        from_arrays(X, np.arange(30) % 2, X_test=X[:5, :2], y_test=np.zeros(5, int))
    with pytest.raises(DataError, match="y: classes must be whole numbers 0 to 1"):
        from_arrays(X, np.arange(30) % 3, classes=2)


# -- the network --------------------------------------------------------------------------

def test_parameters_are_laid_out_as_torch_lays_them_out():
    net = xor_net()
    assert net.size == 2 * 8 + 8 + 8 * 8 + 8 + 8 + 1 == 105
    assert net.shapes == [(8, 2), (8,), (8, 8), (8,), (1, 8), (1,)]
    theta = np.arange(105.0)
    W0, b0, W1 = net.tensors(theta)[:3]
    assert W0[1, 0] == 2 and b0[0] == 16 and W1[0, 0] == 24        # row-major, layer by layer
    assert np.array_equal(net.flatten(net.tensors(theta)), theta)
    three = Network(make_dataset("spiral3", n=60), hidden=(5,))
    assert three.loss == "ce" and three.shapes[-2] == (3, 5)
    assert Network(make_dataset("regression", n=60)).loss == "mse"


def test_initializations_draw_what_their_names_say():
    wide = Network(make_dataset("xor", n=40), hidden=(100, 100), seeds=(0, 1))
    fan_in = 100                                                  # the middle layer's
    w = lambda net: net.tensors(net.initial())[2]                 # noqa: E731
    torch_w = w(wide)
    assert torch_w.shape == (2, 100, 100)
    assert np.abs(torch_w).max() <= 1 / np.sqrt(fan_in) and not np.array_equal(*torch_w)
    assert np.array_equal(torch_w, w(wide))                       # seeded
    he = w(Network(wide.data, hidden=(100, 100), init="he"))
    assert he.std() == pytest.approx(np.sqrt(2 / fan_in), rel=0.02)
    xavier = w(Network(wide.data, hidden=(100, 100), init="xavier"))
    assert np.abs(xavier).max() <= np.sqrt(6 / 200) and xavier.std() == pytest.approx(
        np.sqrt(2 / 200), rel=0.02)
    assert not Network(wide.data, hidden=(4,), init="zeros").initial().any()
    small = w(Network(wide.data, hidden=(100, 100), init="small"))
    large = w(Network(wide.data, hidden=(100, 100), init="large"))
    assert small.std() == pytest.approx(0.01, rel=0.02) and large.std() == pytest.approx(
        10, rel=0.02)


def test_given_arrays_are_the_initialization_and_bad_ones_are_refused():
    net = xor_net(hidden=(3,))
    arrays = [np.ones((3, 2)), np.zeros(3), np.full((1, 3), 2.0), np.zeros(1)]
    theta = Network(net.data, hidden=(3,), init=arrays).initial()
    assert theta.shape == (1, 13) and theta[0, :6].tolist() == [1.0] * 6
    two = Network(net.data, hidden=(3,), init=[arrays, arrays]).initial()
    assert two.shape == (2, 13)
    with pytest.raises(NetworkError, match=r"init\[0\]: shape \(2, 3\); expected \(3, 2\)"):
        Network(net.data, hidden=(3,), init=[np.ones((2, 3))] + arrays[1:]).initial()


@pytest.mark.parametrize("kwargs, message", [
    (dict(activation="swish"), "activation: unknown 'swish'"),
    (dict(loss="hinge"), "loss: unknown 'hinge'"),
    (dict(loss="mse"), "loss: mse does not fit classes"),
    (dict(init="orthogonal"), "init: unknown scheme 'orthogonal'"),
    (dict(hidden=(512, 512)), "hidden: 264705 parameters; allowed at most 20000"),
    (dict(hidden=(0,)), "hidden:"), (dict(seeds=()), "seeds:")])
def test_a_bad_network_is_refused_naming_its_field(kwargs, message):
    with pytest.raises(NetworkError, match=message.replace("(", r"\(").replace(")", r"\)")):
        xor_net(**kwargs)


@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
@pytest.mark.parametrize("data", ["xor", "spiral3", "regression"])
def test_the_gradient_is_the_derivative_of_the_loss(activation, data):
    # (torch's init: biases not 0, so no unit sits exactly on ReLU's kink, where torch's
    # derivative is 0 and a central difference sees half the slope)
    net = Network(make_dataset(data, n=40), hidden=(5, 4), activation=activation,
                  init="torch", seeds=(0, 1, 2))
    theta = net.initial()
    X, y = net.data.X_train, net.data.y_train
    loss, grad, norms = net.loss_grad(theta, X, y)
    h = 1e-6
    for j in range(0, net.size, 3):
        e = np.zeros(net.size)
        e[j] = h
        fd = (net.evaluate(theta + e, X, y)[0] - net.evaluate(theta - e, X, y)[0]) / (2 * h)
        np.testing.assert_allclose(grad[:, j], fd, rtol=1e-5, atol=1e-8)
    first = net.slices[0].start, net.slices[1].stop
    np.testing.assert_allclose(norms[:, 0], np.linalg.norm(grad[:, first[0]:first[1]], axis=1))



@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
@pytest.mark.parametrize("data", ["xor", "spiral3", "regression"])
def test_held_out_samples_in_the_same_pass_are_evaluated_and_not_fitted(activation, data):
    # a training's test set rides in its training pass (held=): the fitted part's loss,
    # gradient and norms are those of the training samples alone, the held part's loss
    # and accuracy those of an evaluation of it alone
    net = Network(make_dataset(data, n=60), hidden=(5, 4), activation=activation,
                  init="torch", seeds=(0, 1))
    theta = net.initial()
    X, y, Xt, yt = net.data.X_train, net.data.y_train, net.data.X_test, net.data.y_test
    both = net.loss_grad(theta, np.concatenate([X, Xt]), np.concatenate([y, yt]), True,
                         held=len(Xt))
    alone = net.loss_grad(theta, X, y, True) + net.evaluate(theta, Xt, yt)
    assert len(both) == len(alone) == 6
    for got, want in zip(both, alone):
        np.testing.assert_allclose(got, want, rtol=1e-13, atol=1e-15)

# -- training ----------------------------------------------------------------------------------

def test_every_optimizer_that_trains_networks_trains_one():
    net = xor_net(seeds=(0, 1))
    run = train(net, TRAINS, 60)
    assert run.params.shape == (len(TRAINS), 2, 61, 105) and run.params.dtype == np.float32
    assert run.final.dtype == np.float64 and np.array_equal(run.final.astype(np.float32),
                                                            run.params[:, :, -1])
    assert np.isfinite(run.train_loss).all()
    # (L-BFGS at α = 1 without its line search may leave the box: it is frozen there)
    unstable = [i for i, n in enumerate(TRAINS) if n == "lbfgs"]
    assert (np.delete(run.diverged_at, unstable, axis=0) == -1).all()
    assert (run.train_loss[:, :, -1] < run.train_loss[:, :, 0]).mean() > 0.8
    assert run.grad_norm.shape == (len(TRAINS), 2, 60, 3)
    assert ((0 <= run.test_acc) & (run.test_acc <= 1)).all()
    assert run.labels[0] == OPTIMIZERS[TRAINS[0]].label


def test_newton_solves_a_linear_least_squares_in_one_step():
    """A network with no hidden layer and the squared error is linear least squares: its
    Hessian is constant, so one Newton step at α = 1 lands on the minimum."""
    net = Network(make_dataset("regression", n=60), hidden=())
    run = train(net, [{"name": "newton", "lr": 1.0}, "gd"], 3, params_dtype=np.float64)
    X = np.hstack([net.data.X_train, np.ones((len(net.data.X_train), 1))])
    best = np.linalg.lstsq(X, net.data.y_train[:, 0], rcond=None)[0]
    np.testing.assert_allclose(run.params[0, 0, 1], best, atol=1e-7)
    g = net.loss_grad(run.params[0, 0, 1][None], net.data.X_train, net.data.y_train)[1]
    assert np.abs(g).max() < 1e-8
    assert run.train_loss[1, 0, 1] > run.train_loss[0, 0, 1]       # GD is not there yet


def test_newton_is_refused_past_its_size_saying_what_to_do():
    wide = xor_net(hidden=(32, 32))
    assert wide.size > MAX_NEWTON
    with pytest.raises(NetworkError, match=r"optimizers\[1\]\.name: Newton's method takes "
                                           r"the D×D Hessian.*1185 parameters, allowed 400"):
        train(wide, ["adam", "newton"], 10)


def test_random_search_only_ever_accepts_a_lower_loss():
    run = train(xor_net(seeds=(0, 1)), [{"name": "random_search", "lr": 0.05}], 80, seed=3)
    assert (np.diff(run.train_loss[0], axis=-1) <= 1e-15).all()
    assert (run.train_loss[0, :, -1] < run.train_loss[0, :, 0]).all()
    again = train(xor_net(seeds=(0, 1)), [{"name": "random_search", "lr": 0.05}], 80, seed=3)
    np.testing.assert_array_equal(run.params, again.params)       # seeded


def test_minibatches_are_common_to_every_row_and_rows_are_independent():
    net = xor_net(seeds=(0, 1))
    both = train(net, ["adam", {"name": "sgd", "lr": 0.3}], 40, batch_size=16, seed=5)
    alone = train(net, ["adam"], 40, batch_size=16, seed=5)
    again = train(net, ["adam", "adam"], 40, batch_size=16, seed=5)
    np.testing.assert_array_equal(both.params[0], alone.params[0])
    np.testing.assert_array_equal(again.params[0], again.params[1])
    full = train(net, ["adam"], 40)
    assert not np.array_equal(full.params[0], alone.params[0])     # (the batches matter)


def test_clipping_bounds_the_global_norm_of_each_step():
    net = xor_net(init="large")
    run = train(net, [{"name": "gd", "lr": 0.1}], 20, clip_norm=0.5,
                params_dtype=np.float64)
    steps = np.linalg.norm(np.diff(run.params[0, 0], axis=0), axis=1)
    assert steps.max() <= 0.1 * 0.5 * (1 + 1e-12)
    assert steps.max() > 0.1 * 0.5 * 0.99                         # (clipped, not small)


def test_zeros_never_break_symmetry():
    """The lecture's first claim: every hidden unit of a layer stays the same."""
    net = xor_net(init="zeros", hidden=(6,))
    run = train(net, ["adam", "momentum"], 100)
    W0 = net.tensors(run.final)[0]                                  # [rows, inits, 6, 2]
    assert np.abs(W0 - W0[:, :, :1]).max() == 0


def test_a_row_that_diverges_is_frozen_where_it_left_the_box():
    net = Network(make_dataset("regression", n=80), hidden=(8, 8), activation="relu")
    run = train(net, [{"name": "gd", "lr": 3.0}, "adam"], 60)
    at = run.diverged_at[0, 0]
    assert at > 0 and run.diverged_at[1, 0] == -1
    assert (run.params[0, 0, at:] == run.params[0, 0, at - 1]).all()


def test_a_training_past_its_budget_is_refused_before_it_runs():
    net = Network(make_dataset("xor", n=5000), hidden=(64, 64, 64), seeds=tuple(range(16)))
    with pytest.raises(CostError, match="fewer steps, rows, initializations"):
        train(net, [n for n in TRAINS if n != "newton"], 5000)


@pytest.mark.parametrize("kwargs, message", [
    (dict(steps=0), "steps: 0"), (dict(batch_size=500), "batch_size: 500"),
    (dict(clip_norm=-1), "clip_norm: -1"),
    (dict(schedule={"name": "bogus"}), "schedule.name: unknown schedule"),
    (dict(optimizers=[{"name": "adam", "lr": -1}]), r"optimizers\[0\]\.lr")])
def test_bad_training_arguments_are_refused_naming_their_field(kwargs, message):
    args = {"optimizers": ["adam"], "steps": 10, **kwargs}
    with pytest.raises(NetworkError, match=message):
        train(xor_net(), args.pop("optimizers"), args.pop("steps"), **args)


def test_to_frame_is_the_long_table_of_the_curves():
    run = train(xor_net(seeds=(0, 1)), ["gd", "adam"], 20)
    df = run.to_frame()
    assert list(df.columns) == ["row", "label", "optimizer", "init", "step", "train_loss",
                                "test_loss", "train_acc", "test_acc", "lr"]
    assert len(df) == 2 * 2 * 21
    last = df[(df.row == 1) & (df.init == 1) & (df.step == 20)].iloc[0]
    assert last.train_loss == run.train_loss[1, 1, 20] and np.isnan(last.lr)
    assert last.optimizer == "adam"


def test_decision_boundaries_are_kept_at_the_steps_asked_for():
    net = Network(make_dataset("spiral3", n=90), hidden=(8,), seeds=(0, 1))
    run = train(net, ["adam", "gd"], 40, boundary_steps=[0, 40, 10], boundary_grid=21)
    assert run.boundary_steps == (0, 10, 40)
    assert run.boundary.shape == (2, 2, 3, 21, 21, 3) and run.boundary.dtype == np.float32
    np.testing.assert_allclose(run.boundary.sum(axis=-1), 1, rtol=1e-5)   # (softmax)
    xs, ys = run.boundary_box
    X = np.concatenate([net.data.X_train, net.data.X_test])
    assert xs[0] < X[:, 0].min() and xs[-1] > X[:, 0].max()
    # the kept output is the network's at that step, at that grid point
    theta = run.params[0, 1, 40].astype(float)
    z = net.forward(theta[None], np.array([[xs[3], ys[5]]]), slopes=False)[0]
    np.testing.assert_allclose(run.boundary[0, 1, 2, 5, 3], net.probabilities(z)[0, 0],
                               rtol=1e-4)
    assert train(net, ["adam"], 5).boundary is None
    with pytest.raises(NetworkError, match="boundary_steps: at most 50 steps, each 0 to 5"):
        train(net, ["adam"], 5, boundary_steps=[6])


def test_the_networks_tanh_is_numpys_to_round_off_near_zero_far_out_and_at_inf_and_nan():
    from optviz.networks.mlp import _tanh_in_place
    rng = np.random.default_rng(0)
    z = np.concatenate([rng.normal(0, 3, 10000), 10 ** rng.uniform(-300, 0, 10000),
                        -(10 ** rng.uniform(-300, 0, 10000)),
                        [0.0, -0.0, 1e-4, -1e-4, 19.0, 400.0, -400.0, np.inf, -np.inf]])
    got, want = _tanh_in_place(z.copy()), np.tanh(z)
    assert np.all(np.abs(got - want) <= 3e-13 * np.abs(want) + 1e-300)
    assert np.array_equal(np.signbit(got), np.signbit(want))      # (−0 stays −0)
    assert np.isnan(_tanh_in_place(np.array([np.nan]))).all()
