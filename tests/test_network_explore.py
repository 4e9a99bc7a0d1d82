"""Explore on a network's training: the learning-rate sweep trains every row at each
rate and plots its final test loss against α; the other maps say they take a surface."""
import csv
import io

import numpy as np
import pytest

from optviz.training import train
from optviz.web.controls import ControlError
from optviz.web.explore_panel import compute
from optviz.web.network_view import training_network

QUERY = "surface=train:n=120;hidden=6&rows=gd,adam&steps=50"


def test_a_learning_rate_sweep_trains_each_row_at_each_rate():
    fig, text, message = compute("lr", 8, 60, 0, QUERY)
    assert "network's training" in message
    assert fig["layout"]["yaxis"]["title"]["text"] == "final test loss"
    assert [t["name"] for t in fig["data"] if t.get("mode") == "lines+markers"] == ["GD", "Adam"]
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == 2 * 8 and set(rows[0]) == {"optimizer", "lr", "final_test_loss",
                                                    "diverged"}
    # each point is that row trained at that rate (the page's other settings, 60 steps)
    net, *_ = training_network("train:n=120;hidden=6")
    adam = [r for r in rows if r["optimizer"] == "adam"]
    lr = float(adam[5]["lr"])
    run = train(net, [{"name": "adam", "lr": lr}], 60)
    assert float(adam[5]["final_test_loss"]) == pytest.approx(run.test_loss[0, 0, -1],
                                                               rel=1e-12)
    # the lectures' shape: too small barely moves, a middle rate fits best
    gd = np.array([float(r["final_test_loss"]) for r in rows if r["optimizer"] == "gd"])
    assert gd[0] > gd.min() + 0.05 and np.argmin(gd) > 0


@pytest.mark.parametrize("kind", ["basin", "grid", "random"])
def test_the_other_maps_say_they_take_a_surface(kind):
    with pytest.raises(ControlError, match="learning-rate sweep"):
        compute(kind, 16, 60, 20, QUERY)


def test_a_rows_own_sigma_is_refused_in_a_sweep_as_on_the_page():
    with pytest.raises(ControlError, match="σ empty"):
        compute("lr", 8, 60, 0, QUERY.replace("rows=gd,adam", "rows=gd,adam:sigma=1"))
