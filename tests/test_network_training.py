"""Knobs turned during a network's training (``train(..., changes=...)``): the updates
before the change are the unchanged run's; after it, the rows' new hyperparameters and
minibatch, the optimizer's state carried on."""
import numpy as np
import pytest

from optviz.networks import Network, NetworkError, make_dataset
from optviz.training import train

DATA = make_dataset("moons", n=120)


def _net(init="xavier"):
    return Network(DATA, hidden=(6,), activation="tanh", init=init)


def test_before_the_change_the_run_is_the_unchanged_one_after_it_the_new_rate():
    net = _net()
    rows = [{"name": "gd", "lr": 0.1}, {"name": "momentum", "lr": 0.1, "momentum": 0.9}]
    plain = train(net, rows, 80, params_dtype=np.float64)
    turned = train(net, rows, 80, params_dtype=np.float64,
                   changes=[(50, [{"name": "gd", "lr": 0.3},
                                  {"name": "momentum", "lr": 0.1, "momentum": 0.5}], None)])
    np.testing.assert_array_equal(turned.params[:, :, :51], plain.params[:, :, :51])
    assert not np.allclose(turned.params[:, :, 51:], plain.params[:, :, 51:])
    assert (turned.lr[0, :50] == 0.1).all() and (turned.lr[0, 50:] == 0.3).all()
    # GD has no state: from the change on it is GD at 0.3 started where the change was
    at = turned.params[0, 0, 50]
    fresh = train(Network(DATA, hidden=(6,), activation="tanh", init=net.tensors(at)),
                  [{"name": "gd", "lr": 0.3}], 30, params_dtype=np.float64)
    np.testing.assert_allclose(turned.params[0, 0, 50:], fresh.params[0, 0], rtol=1e-12,
                               atol=1e-14)


def test_a_change_of_minibatch_draws_from_the_same_stream():
    net = _net()
    rows = [{"name": "sgd", "lr": 0.1}]
    full = train(net, rows, 40, params_dtype=np.float64)
    turned = train(net, rows, 40, params_dtype=np.float64, changes=[(20, rows, 16)])
    np.testing.assert_array_equal(turned.params[:, :, :21], full.params[:, :, :21])
    # from step 20 on, minibatches of 16 drawn from the seed's stream, as a training
    # that had them from its start draws its first
    at = turned.params[0, 0, 20]
    fresh = train(Network(DATA, hidden=(6,), activation="tanh", init=net.tensors(at)),
                  rows, 20, batch_size=16, params_dtype=np.float64)
    np.testing.assert_allclose(turned.params[0, 0, 20:], fresh.params[0, 0], rtol=1e-12,
                               atol=1e-14)


@pytest.mark.parametrize("changes, says", [
    ([(0, [{"name": "gd"}], None)], "changes[0].step: 0; allowed 1 to 39"),
    ([(10, [{"name": "gd"}], None), (5, [{"name": "gd"}], None)], "allowed 11 to 39"),
    ([(10, [{"name": "adam"}], None)], "the rows' own optimizers"),
    ([(10, [{"name": "gd"}], 1000)], "changes[0].batch_size: 1000; allowed 1 to 90"),
    ([(10, [{"name": "gd", "lr": -1}], None)], "lr"),
    ("soon", "changes: a list"),
])
def test_a_change_it_cannot_make_is_refused_naming_it(changes, says):
    with pytest.raises(NetworkError, match=says.replace("[", r"\[").replace("]", r"\]")
                       .replace("(", r"\(").replace(")", r"\)")):
        train(_net(), [{"name": "gd"}], 40, changes=changes)
