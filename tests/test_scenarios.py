"""Every scenario's caption, checked on the engine's output (the browser tests load them)."""
import numpy as np
import pytest

from optviz import OPTIMIZERS, ScheduleSpec, simulate
from optviz.scenarios import SCENARIOS, scenario_scene
from optviz.training import train
from optviz.web.callbacks import compute
from optviz.web.controls import scenario_controls, scene_from_controls
from optviz.web.network_view import batch_for, training_network

CONSTANT = ScheduleSpec("constant")


def _run(name, **kw):
    return simulate(scenario_scene(name), **kw)


def _sign_changes(v):
    return int((np.diff(np.sign(v)) != 0).sum())


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_every_scenario_is_the_scene_the_page_shows_with_a_two_sentence_caption(name):
    """Written in the engine's units, a scenario runs on the page as exactly that Scene:
    same rows, hyperparameters, noise, schedules, start, steps (labels aside)."""
    s = SCENARIOS[name]
    if s.train:                        # the page trains the scene's network: its rows
        _the_page_trains_the_scenes_rows(s, scenario_controls(name))
        return
    shown = scene_from_controls(scenario_controls(name))
    want = s.scene
    assert [(o.name, o.hparams, o.noise, o.schedule) for o in shown.optimizers] == \
        [(o.name, o.hparams, o.noise, o.schedule) for o in want.optimizers]
    for field in ("surface", "steps", "noise", "seed", "clip_norm", "batch_size"):
        assert getattr(shown, field) == getattr(want, field), field
    assert (shown.schedule or CONSTANT) == (want.schedule or CONSTANT)    # None: constant
    np.testing.assert_array_equal(shown.starts, want.starts)
    assert s.caption.count(". ") >= 1 and s.caption.endswith((".", ")."))
    run = simulate(shown)
    assert np.isfinite(run.path).all() and np.isfinite(run.loss).all()
    np.testing.assert_array_equal(run.path, simulate(want).path)


def _the_page_trains_the_scenes_rows(s, controls):
    """A training scenario on the page: the scene's network (its slice's keys, as
    ``train:``), its rows with their hyperparameters, steps and schedule."""
    assert controls["surface"] == "train:" + s.scene.surface[len("net:"):]
    assert s.caption.count(". ") >= 1 and s.caption.endswith(".")
    *_, meta, _, shown = compute(controls)
    assert [(o.name, o.hparams) for o in shown.optimizers] == \
        [(o.name, o.hparams) for o in s.scene.optimizers]
    assert meta["steps"] == s.scene.steps
    assert (shown.schedule or CONSTANT).name == (s.scene.schedule or CONSTANT).name
    assert all(r["final_loss"] is not None for r in meta["rows"])


def _trained(name):
    """The training a training scenario's page shows: (NetworkRun, its network)."""
    s = SCENARIOS[name]
    net, *_ = training_network("train:" + s.scene.surface[len("net:"):])
    return train(net, s.scene.optimizers, s.scene.steps), net


def test_network_lr_too_low_good_too_high():
    run, _ = _trained("network-lr")
    low, good, high = run.train_loss[:, 0]
    assert low[-1] > 0.6 and abs(low[-1] - 0.67) < 0.01                  # "0.67"
    assert np.all(np.diff(good) <= 0) and good[-1] < 0.15                 # "steadily"
    assert high.max() > 10 and high[-1] > high[0]                        # "jumps", "above"


def test_vanishing_gradients_first_layer_starves_gd_plateaus_adam_leaves_relu_fixes():
    run, net = _trained("vanishing-gradients")
    assert net.layers == 6 and net.activation == "sigmoid"
    first, last = run.grad_norm[0, 0, 0, 0], run.grad_norm[0, 0, 0, -1]
    assert last / first > 1000
    gd, adam = run.train_loss[:, 0]
    assert np.all(np.abs(gd - np.log(2)) < 0.05) and gd[-1] > 0.68      # the plateau
    assert adam[-1] < 0.6
    # "with act=relu;init=he in the link, GD fits" (the two layers within 10 times)
    fixed, _, _, _ = training_network("train:data=circles;hidden=8-8-8-8-8;act=relu;init=he")
    relu = train(fixed, SCENARIOS["vanishing-gradients"].scene.optimizers[:1], 300)
    assert relu.grad_norm[0, 0, 0, -1] / relu.grad_norm[0, 0, 0, 0] < 10
    assert relu.train_loss[0, 0, -1] < 0.1


def _trained_as(name, keys="", batch=None, seed=0):
    """Scenario ``name``'s rows and steps on its network with ``keys`` changed, as the
    network panel changes them."""
    s = SCENARIOS[name]
    net, *_ = training_network("train:" + s.scene.surface[len("net:"):] + ";" + keys)
    return train(net, s.scene.optimizers, s.scene.steps, batch_size=batch, seed=seed), net


def test_initialization_small_stalls_zeros_stays_symmetric_xavier_he_train_large_saturates():
    run, net = _trained("initialization")
    gd, momentum, _ = run.train_loss[:, 0]
    assert net.init == "small" and net.layers == 5
    for curve in (gd, momentum):                                    # the ln 2 plateau
        assert np.all(np.abs(curve - np.log(2)) < 0.01)
    # zeros: every unit of a hidden layer has the same weights as its neighbours, always
    zeros, net0 = _trained_as("initialization", "init=zeros")
    for row in range(3):
        weights = net0.tensors(zeros.final[row, 0])[:-2:2]          # the hidden layers
        assert all(np.ptp(w, axis=0).max() == 0 for w in weights)
        assert abs(zeros.train_loss[row, 0, -1] - np.log(2)) < 0.01
    for init in ("xavier", "he"):
        trained, _ = _trained_as("initialization", f"init={init}")
        assert (trained.train_loss[1:, 0, -1] < 0.02).all(), init   # momentum and Adam
    large, _ = _trained_as("initialization", "init=large")
    assert (large.train_loss[:, 0, 0] > 10).all() and (large.train_loss[:, 0, -1] > 0.5).all()


def test_spirals_adam_fits_them_momentum_does_not_yet():
    run, _ = _trained("network-spirals")
    momentum, adam = run.train_loss[:, 0, -1]
    assert adam < 0.02 and run.test_acc[1, 0, -1] > 0.9
    assert momentum > 0.15


def test_overparameterization_the_narrow_net_stops_short_the_wide_one_always_fits():
    run, _ = _trained("overparameterization")
    assert np.all(np.abs(run.train_loss[:, 0, -1] - 0.42) < 0.01)           # seed 1
    assert (run.train_acc[:, 0, -1] < 0.85).all()                          # a quadrant wrong
    narrow = [_trained_as("overparameterization", f"init_seed={s}")[0].train_loss[0, 0, -1]
              for s in range(8)]
    assert sum(abs(v - 0.26) < 0.01 for v in narrow) == 3 and min(narrow) > 0.2
    wide = [_trained_as("overparameterization", f"hidden=32;init_seed={s}")[0]
            for s in range(8)]
    assert all(w.train_loss[0, 0, -1] < 0.01 and w.train_acc[1, 0, -1] > 0.95 for w in wide)


def test_batch_size_minibatches_make_the_loss_rise_and_the_paths_wander():
    s = SCENARIOS["batch-size"]
    assert s.scene.noise == 1.0 and batch_for(s.scene.noise, 150) == 16     # σ = 1: 16
    noisy, _ = _trained_as("batch-size", batch=16)
    full, _ = _trained_as("batch-size")
    rises = lambda r: (np.diff(r.train_loss[:, 0], axis=1) > 0).mean(axis=1)  # noqa: E731
    gd, adam = rises(noisy)
    assert gd > 0.2 and adam > gd
    assert rises(full)[0] == 0                                   # full batch GD never rises

    def wander(r):                       # the path's length over how far it got
        p = r.params[:, 0]
        return np.linalg.norm(np.diff(p, axis=1), axis=2).sum(1) / \
            np.linalg.norm(p[:, -1] - p[:, 0], axis=1)
    assert (wander(noisy) > 1.3 * wander(full)).all()


def test_a_rows_own_value_is_kept_and_the_others_follow_the_knobs():
    rows = scenario_controls("lr-diagnostics")["rows"]
    assert rows == [{"uid": "gd", "on": True}, {"uid": "gd~2", "on": True, "lr": 0.48},
                    {"uid": "gd~3", "on": True, "lr": 0.51}]
    # torch's own RMSProp and Adadelta decays, not the page's beta2 knob, in the race
    rows = {r["uid"]: r for r in scenario_controls("all-optimizers")["rows"]}
    assert rows["rmsprop"]["beta2"] == 0.99 and rows["adadelta"]["beta2"] == 0.9
    assert rows["newton"]["lr"] == 1.0 and "lr" not in rows["gd"]


def test_second_order_newton_then_lbfgs_with_a_line_search_then_lbfgs():
    run = simulate(scenario_scene("second-order"), record_state=True)
    gd, newton, lbfgs, wolfe = (np.linalg.norm(run.path[i, 0] - (1.0, 1.0), axis=1)
                                for i in range(4))
    first = lambda d: int(np.argmax(d < 1e-4)) if (d < 1e-4).any() else None  # noqa: E731
    assert first(newton) <= 6 and first(lbfgs) < 100 and first(wolfe) < 45
    assert first(newton) < first(wolfe) < first(lbfgs)
    assert gd[-1] > 0.5                                            # still in the valley
    evals = run.state["evals"][:, 0, :, 0]
    assert evals[3, :first(wolfe)].sum() > first(wolfe)           # the line search's trials
    assert (evals[2] == 1).all()                                  # one evaluation a step


def test_lr_diagnostics_slow_oscillating_unstable():
    run = _run("lr-diagnostics")
    slow, osc, bad = run.path[:, 0]
    assert run.diverged_at[0, 0] == -1 and run.diverged_at[1, 0] == -1
    assert abs(slow[-1, 0]) > 0.3 * abs(slow[0, 0])             # alpha 0.01: still far off
    assert _sign_changes(osc[:, 1]) > 100 and abs(osc[-1]).max() < 1e-6  # oscillates, converges
    assert _sign_changes(slow[:, 1]) == 0
    assert run.diverged_at[2, 0] > 0                             # 0.51: unstable
    assert run.loss[2, 0, 200] > 100 * run.loss[2, 0, 0]


def test_ill_conditioned_momentum_beats_gd_and_nesterov_oscillates_less():
    run = _run("ill-conditioned")
    gd, mom, nes = run.loss[:, 0, -1]
    assert mom < 1e-3 * gd and nes < 1e-3 * gd
    assert _sign_changes(run.path[2, 0, :, 1]) < _sign_changes(run.path[1, 0, :, 1])


def test_saddle_gd_stalls_others_escape_newton_attracted():
    run = _run("saddle")
    end = run.path[:, 0, -1]
    labels = run.labels
    assert labels[0].startswith("GD") and abs(end[0, 1]) < 0.1 and abs(end[0, 0]) < 0.1
    for i in (1, 2, 3):                                          # noise, momentum, Adam
        assert abs(end[i, 1]) > 1, labels[i]
    assert np.abs(end[4]).max() < 1e-9                           # Newton: on the saddle


def test_local_minimum_gd_stuck_momentum_through():
    run = _run("local-minimum")
    surface = scenario_scene("local-minimum").get_surface()
    glob = min(surface.minima, key=lambda m: surface.value(np.array(m)))
    local = [m for m in surface.minima if m != glob][0]
    assert np.allclose(run.path[0, 0, -1], local, atol=1e-2)
    assert np.allclose(run.path[1, 0, -1], glob, atol=1e-2)


def test_adagrad_step_decays_rmsprop_does_not():
    run = _run("adagrad-stalls", record_state=True)
    ada, rms = run.state["rate"][:, 0, -1]
    assert (ada < 0.05 * rms).all()
    assert run.loss[0, 0, -1] > 5 * run.loss[1, 0, -1]


def test_noise_ball_grows_with_noise_and_shrinks_with_decay():
    run = _run("noise-ball")
    radius = np.linalg.norm(run.path[:, 0, -100:], axis=-1).mean(axis=1)
    assert radius[0] < radius[1] < radius[2]
    assert radius[3] < 0.5 * radius[2]
    assert run.lr[3, -1] < 0.05 * run.lr[2, -1]


def test_bias_correction_first_step_alpha_vs_3_alpha_and_the_correction_wins():
    run = _run("bias-correction")
    lr = run.lr[0, 0]
    start = run.path[0, 0, 0]
    first = np.abs(run.path[:, 0, 1] - run.path[:, 0, 0])
    assert np.allclose(first[0], lr, rtol=1e-6)
    assert np.allclose(first[1], lr * 0.1 / np.sqrt(0.001), rtol=1e-6)
    # α lands beside the minimum; 3.2 α jumps past it, farther than it started
    assert (np.abs(run.path[0, 0, 1]) < 0.5 * np.abs(start)).all()
    assert (np.sign(run.path[1, 0, 1]) == -np.sign(start)).all()
    assert (np.abs(run.path[1, 0, 1]) > np.abs(start)).all()
    # no student reads "the correction hurts": it is ahead at the end and most of the way
    loss = run.loss[:, 0]
    assert loss[0, -1] < 0.2 * loss[1, -1] and (loss[0, 1:] < loss[1, 1:]).mean() > 0.6


def test_weight_decay_l2_minimizes_the_regularized_loss_adamw_does_not():
    scene = scenario_scene("weight-decay")
    run = simulate(scene)
    surface = scene.get_surface()
    lam = scene.optimizers[0].hparams["weight_decay"]
    end = run.path[:, 0, -1]
    residual = np.linalg.norm(surface.grad(end) + lam * end, axis=-1)
    assert residual[0] < 1e-3 and residual[1] > 0.1
    assert np.linalg.norm(end[0] - end[1]) > 0.1


def test_warmup_cosine_settles_constant_keeps_bouncing():
    run = _run("warmup-cosine")
    lr = run.lr[0]
    assert lr[0] < 0.05 * lr.max() and np.argmax(lr) in range(38, 42) and lr[-1] < 0.01 * lr.max()
    assert np.all(run.lr[1] == run.lr[1, 0])
    assert run.loss[0, 0, -50:].mean() < 0.5 * run.loss[1, 0, -50:].mean()


def test_all_optimizers_race():
    run = _run("all-optimizers")
    assert len(run.labels) == len(OPTIMIZERS) == len(set(run.labels))
    assert np.allclose(run.path[run.labels.index("Newton"), 0, -1], (1, 1), atol=1e-9)
    assert (run.diverged_at == -1).all()
    # SGD has torch's defaults (momentum 0): GD's path, not Momentum's
    sgd, gd, momentum = (run.path[run.labels.index(k), 0] for k in ("SGD", "GD", "Momentum"))
    np.testing.assert_array_equal(sgd, gd)
    assert np.abs(sgd - momentum).max() > 0.1


def test_network_slice_every_row_ends_near_a_coin_toss_the_full_training_does_not():
    from optviz.networks.slice import named_slice
    from optviz.training import train

    run = _run("network-slice")
    assert (run.diverged_at == -1).all()
    final = run.loss[:, 0, -1]
    assert np.all(np.abs(final - np.log(2)) < 0.005), final          # "near ln 2 ≈ 0.69"
    surface = named_slice("net:")
    a, b = np.meshgrid(np.linspace(-1, 1, 41), np.linspace(-1, 1, 41))
    assert surface.value(np.stack([a, b], axis=-1)).min() > 0.68    # nothing lower here
    # the same network as the slice's (XOR of 200 points, 2-8-8-1 tanh, Xavier, seed 0):
    # its loss at the init is the slice's at (0, 0)
    from optviz.networks import Network, make_dataset
    network = Network(make_dataset("xor", n=200, noise=0.1, seed=0), hidden=(8, 8),
                      activation="tanh", init="xavier")
    data = network.data
    assert network.size == 105
    assert network.evaluate(network.initial(), data.X_train, data.y_train)[0][0] == \
        pytest.approx(float(surface.value(np.zeros(2))), rel=1e-12)
    full = train(network, [{"name": "momentum", "lr": 0.1, "momentum": 0.9}], 200)
    assert full.train_loss[0, 0, -1] < 0.06                          # "reaches 0.05"
