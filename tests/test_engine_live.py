"""Mid-run changes (the page's live tweaks), per-row noise and the state inspector."""
import numpy as np
import pytest

from optviz import OptimizerSpec, Scene, SceneError, simulate
from optviz.optimizers import STATE
from optviz.scene import Change

ROWS = [OptimizerSpec("gd", lr=0.1), OptimizerSpec("adam", lr=0.1),
        OptimizerSpec("nadam", lr=0.05), OptimizerSpec("adadelta", lr=1.0)]


def _lowered(rows, factor):
    return [OptimizerSpec(o.name, **{**o.hparams, "lr": o.hparams["lr"] * factor}) for o in rows]


@pytest.mark.parametrize("step", [1, 37, 99])
def test_change_keeps_the_path_before_it_exactly(step):
    scene = Scene("ill_conditioned", ROWS, steps=100,
                  changes=[Change(step, _lowered(ROWS, 0.1), noise=0.5)])
    changed, plain = simulate(scene), simulate(scene.replace(changes=[]))
    assert np.array_equal(changed.path[:, :, :step + 1], plain.path[:, :, :step + 1])
    assert np.array_equal(changed.lr[:, :step], plain.lr[:, :step])
    assert np.allclose(changed.lr[:, step:], 0.1 * plain.lr[:, step:])
    # every row moves differently from the change on
    after = np.abs(changed.path[:, 0, step + 1:] - plain.path[:, 0, step + 1:]).max(axis=(1, 2))
    assert (after > 1e-6).all()


def test_change_equals_a_run_whose_settings_start_there():
    """With a constant rate the change to a new lr is the same as running the first part,
    then restarting GD (which has no state) from where it got to."""
    gd = [OptimizerSpec("gd", lr=0.3)]
    scene = Scene("ill_conditioned", gd, steps=60,
                  changes=[Change(20, [OptimizerSpec("gd", lr=0.02)])])
    run = simulate(scene)
    rest = simulate(Scene("ill_conditioned", [OptimizerSpec("gd", lr=0.02)],
                          starts=[run.path[0, 0, 20]], steps=40))
    assert np.allclose(run.path[0, 0, 20:], rest.path[0, 0], rtol=0, atol=1e-12)


def test_changes_follow_the_schedule_and_round_trip_json():
    scene = Scene("rosenbrock", ROWS, steps=50, schedule="cosine",
                  changes=[Change(10, _lowered(ROWS, 0.5)), Change(30, noise=1.0)])
    assert Scene.from_json(scene.to_json()) == scene
    run, plain = simulate(scene), simulate(scene.replace(changes=[]))
    assert np.allclose(run.lr[:, 10:], 0.5 * plain.lr[:, 10:])
    assert np.isfinite(run.path).all()


@pytest.mark.parametrize("changes, field", [
    ([Change(0, noise=1.0)], "changes[0].step"),
    ([Change(100, noise=1.0)], "changes[0].step"),
    ([Change(20, noise=1.0), Change(10, noise=1.0)], "changes[1].step"),
    ([Change(5, [OptimizerSpec("gd")])], "changes[0].optimizers"),
    ([Change(5, [OptimizerSpec("sgd")] * 4)], "changes[0].optimizers[0]"),
    ([Change(5, noise=-1.0)], "changes[0].noise"),
    ([{"step": "x"}], "changes[0].step"),
    ("nope", "changes"),
])
def test_bad_changes_say_which_field(changes, field):
    with pytest.raises(SceneError, match=field.replace("[", r"\[").replace("]", r"\]")):
        Scene("bowl", ROWS, steps=100, changes=changes)


def test_per_row_noise_scales_one_common_draw():
    rows = [OptimizerSpec("sgd", lr=0.01, noise=s) for s in (0.0, 0.5, 2.0)] + [
        OptimizerSpec("sgd", lr=0.01)]
    run = simulate(Scene("bowl", rows, steps=5, noise=1.0, seed=3))
    true = Scene("bowl").get_surface().grad(run.path[:, :, :-1])
    z = run.grad - true                                        # [rows, starts, steps, 2]
    assert np.abs(z[0]).max() == 0                             # the noiseless row
    assert np.allclose(z[1] / 0.5, z[3]) and np.allclose(z[2] / 2.0, z[3])
    assert np.abs(z[3]).max() > 0.1                            # the row on the scene's noise


def test_state_inspector_records_what_the_kernels_keep():
    rows = [OptimizerSpec("adam", lr=0.1), OptimizerSpec("adagrad", lr=0.5),
            OptimizerSpec("rmsprop", lr=0.05), OptimizerSpec("gd", lr=0.1), OptimizerSpec("newton")]
    scene = Scene("ill_conditioned", rows, steps=300)
    run = simulate(scene, record_state=True)
    assert set(run.state) == set(STATE)
    assert np.allclose(run.path, simulate(scene).path, rtol=0, atol=1e-12)
    g = run.grad[0, 0]
    m = v = 0
    for t in range(3):                                         # Adam's moments, by hand
        m = 0.9 * m + 0.1 * g[t]
        v = 0.999 * v + 0.001 * g[t] ** 2
        assert np.allclose(run.state["m"][0, 0, t], m) and np.allclose(run.state["v"][0, 0, t], v)
    # AdaGrad's rate decays toward zero; RMSProp's does not; GD's is alpha; Newton has none
    ada, rms = run.state["rate"][1, 0], run.state["rate"][2, 0]
    assert (np.diff(ada, axis=0) <= 0).all() and (ada[-1] < 0.7 * rms[-1]).all()
    assert (np.diff(rms[:, 0]) > 0).any()
    assert np.all(run.state["rate"][3] == 0.1) and np.isnan(run.state["m"][3]).all()
    assert np.isnan(run.state["rate"][4]).all()
