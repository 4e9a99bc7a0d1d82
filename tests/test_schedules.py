"""Schedules against value tables written out by hand."""
import numpy as np
import pytest

from optviz import OptimizerSpec, Scene, ScheduleSpec, simulate
from optviz.schedules import make_schedule

T10 = np.arange(10)


@pytest.mark.parametrize("name, params, steps, expected", [
    ("constant", {}, 4, [1, 1, 1, 1]),
    ("step", {"step_size": 3, "gamma": 0.5}, 8, [1, 1, 1, .5, .5, .5, .25, .25]),
    ("step", {}, 8, [1, 1, .5, .5, .25, .25, .125, .125]),           # step_size = steps/4
    ("exponential", {"gamma": 0.5}, 4, [1, .5, .25, .125]),
    ("cosine", {}, 4, [1, (1 + np.cos(np.pi / 4)) / 2, .5, (1 + np.cos(3 * np.pi / 4)) / 2]),
    ("cosine", {"T_max": 2, "eta_min": 0.1}, 5, [1, .55, .1, .55, 1]),
    ("linear", {}, 4, [1, .75, .5, .25]),
    ("linear", {"start_factor": 0.5, "end_factor": 1.0, "total_iters": 2}, 4, [.5, .75, 1, 1]),
    ("inverse_sqrt", {}, 4, [1, 2 ** -.5, 3 ** -.5, .5]),
])
def test_schedule_values(name, params, steps, expected):
    f = make_schedule(name, steps, **params)
    np.testing.assert_allclose(f(np.arange(steps), 1.0), expected, rtol=1e-12)


def test_warmup_then_decay_from_its_own_index():
    f = make_schedule("linear", 8, warmup=4)
    np.testing.assert_allclose(f(np.arange(8), 2.0), [.5, 1, 1.5, 2, 2, 1.5, 1, .5])
    f = make_schedule("cosine", 6, warmup=2)
    np.testing.assert_allclose(f(np.arange(6), 1.0),
                               [.5, 1, 1, (1 + np.cos(np.pi / 4)) / 2, .5,
                                (1 + np.cos(3 * np.pi / 4)) / 2])


def test_run_lr_records_the_schedule_every_update_used():
    r = simulate(Scene("bowl", [OptimizerSpec("sgd", lr=0.1)], steps=10,
                       schedule=ScheduleSpec("step", step_size=5, gamma=0.1)))
    np.testing.assert_allclose(r.lr[0], [0.1] * 5 + [0.01] * 5)
    # a GD step on the bowl is w - lr * grad: the path shows the rate that was used
    w = r.path[0, 0]
    np.testing.assert_allclose(w[1:, 0], w[:-1, 0] * (1 - 2 * r.lr[0]))


@pytest.mark.parametrize("bad, message", [
    (dict(name="nope"), "unknown"),
    (dict(name="step", gamma=2.0), "schedule.gamma"),
    (dict(name="step", step_size=0), "schedule.step_size"),
    (dict(name="step", step_size=2.5), "schedule.step_size"),
    (dict(name="cosine", T_max=float("nan")), "schedule.T_max"),
    (dict(name="linear", start_factor=-1), "schedule.start_factor"),
    (dict(name="exponential", lr=3), "schedule.lr"),
    (dict(name="cosine", warmup=10), "schedule.warmup"),
])
def test_bad_schedules_name_the_field(bad, message):
    from optviz import SceneError
    with pytest.raises(SceneError, match=message):
        Scene("bowl", ["gd"], steps=10, schedule=ScheduleSpec.from_dict(bad))
