"""A network's training as files: the Python script trains it again with optviz (the
page's numbers) and with torch.optim on the same data from the same initialization."""
import contextlib
import io

import numpy as np
import pytest

from optviz.web import exports, network_view
from optviz.web.callbacks import PAGE_BUDGET, CostRefused
from optviz.web.links import controls_from_query


def _trained(query):
    controls, ignored = controls_from_query(query)
    assert not ignored
    t, _, rc = network_view.trained(controls, CostRefused, PAGE_BUDGET)
    batch = network_view.batch_for(rc.noise, len(t.run.network.data.X_train))
    return t, rc, batch


@pytest.mark.parametrize("query", [
    # full batch: the lecture's optimizers, L-BFGS's closure, Newton (torch has none)
    "surface=train:data=moons;n=120;hidden=6&rows=gd,momentum,nesterov,adam,lbfgs,rprop,"
    "newton&steps=60",
    # three classes, ReLU, minibatches of 16, clipping, warmup and cosine
    "surface=train:data=spiral3;hidden=8-8;act=relu;init=he&rows=adam,sgd&steps=60&noise=1"
    "&clip=1&schedule=cosine&warmup=5",
    # a regression, its own held-out share, MSE
    "surface=train:data=regression;hidden=16;test=0.3;loss=mse&rows=adamw,nadam&steps=50"])
def test_the_python_download_trains_the_network_again_with_optviz_and_torch(query):
    import torch  # noqa: F401  (requirements-dev.txt: missing, this fails)
    t, rc, batch = _trained(query)
    script = exports.training_python(t.run, network_view.keys_of(t.surface.name),
                                     schedule=rc.schedule, clip_norm=rc.clip_norm,
                                     batch_size=batch, seed=rc.seed,
                                     wheel_url="http://example.org/wheel/optviz.whl")
    assert "pip install http://example.org/wheel/optviz.whl" in script
    namespace, printed = {"__name__": "__main__"}, io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(compile(script, "optviz-train.py", "exec"), namespace)
    run = namespace["run"]
    np.testing.assert_array_equal(run.train_loss, t.run.train_loss)    # the page's numbers
    ends = namespace["with_torch"]()
    torchable = [label for label in t.run.labels if label != "Newton"]
    assert sorted(ends) == sorted(torchable)
    for label, theta in ends.items():
        gap = np.abs(theta - t.run.final[t.run.labels.index(label), 0]).max()
        assert gap < 1e-9, (label, gap)
    assert printed.getvalue().count("torch.optim ends") == len(torchable)
    if "newton" in query:
        assert "torch.optim has no Newton" in script


def test_the_python_download_of_a_live_run_trains_it_with_its_changes():
    t, rc, batch = _trained("surface=train:n=120;hidden=6&rows=gd,adam&steps=40"
                            "&live=20:lr=0.03:mu=0.5:b2=0.99:sigma=1")
    n = len(t.run.network.data.X_train)
    script = exports.training_python(t.run, network_view.keys_of(t.surface.name),
                                     schedule=rc.schedule, clip_norm=rc.clip_norm,
                                     batch_size=batch, seed=rc.seed,
                                     changes=network_view.changes_for(rc, n))
    assert "changes=changes" in script and "cannot run this setup as it is: live" in script
    namespace, printed = {"__name__": "__main__"}, io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(compile(script, "optviz-train.py", "exec"), namespace)
    np.testing.assert_array_equal(namespace["run"].train_loss, t.run.train_loss)
    assert "no live changes, torch.optim trains it too" in printed.getvalue()
