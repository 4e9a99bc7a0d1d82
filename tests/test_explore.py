"""Basin maps, sweeps and random search against single runs and known answers."""
import os

import numpy as np
import pytest

from optviz import OptimizerSpec, Scene, simulate
from optviz.engine import CHECK_EVERY, simulate_final
from optviz.explore import DIVERGED, MOVING, basin_map, grid_sweep, lr_sweep, random_search


def test_simulate_final_ends_where_simulate_ends():
    starts = np.random.default_rng(0).uniform(-5, 5, (3000, 2))
    rows = [OptimizerSpec("gd", lr=0.53), OptimizerSpec("adam", lr=0.05),
            OptimizerSpec("rmsprop", lr=0.01)]
    scene = Scene("ill_conditioned", rows, starts=starts, steps=300, noise=0.5, seed=4)
    full, final = simulate(scene, record_grad=False), simulate_final(scene)
    kept = full.diverged_at < 0
    assert kept.sum() > 1000 and (~kept).sum() > 100
    assert np.array_equal(full.path[:, :, -1][kept], final.position[kept])
    assert np.array_equal(full.loss[:, :, -1][kept], final.loss[kept])
    # a diverging point is found at the next check, CHECK_EVERY updates at most later
    assert np.array_equal(final.diverged_at < 0, kept)
    late = final.diverged_at[~kept] - full.diverged_at[~kept]
    assert (late >= 0).all() and (late < CHECK_EVERY).all()
    assert np.isfinite(final.position).all() and np.isfinite(final.loss).all()
    calls = []
    simulate_final(scene, progress=lambda done, total: calls.append((done, total)))
    assert calls[-1] == (3000, 3000) and len(calls) == 2


def test_a_convex_bowl_has_one_basin():
    m = basin_map("bowl", [OptimizerSpec("gd", lr=0.1)], n=32, steps=300)
    assert (m.label == 0).all()
    assert m.steps.max() <= 300 and m.steps.min() > 0


def test_himmelblau_has_four_basins_each_checked_against_single_runs():
    rows = [OptimizerSpec("gd", lr=0.01), OptimizerSpec("momentum", lr=0.01)]
    m = basin_map("himmelblau", rows, n=40, steps=500)
    for r in range(2):
        found = set(np.unique(m.label[r])) - {DIVERGED, MOVING}
        assert found == {0, 1, 2, 3}
    rng = np.random.default_rng(5)
    minima = np.array(m.minima)
    for _ in range(25):
        i, j = rng.integers(0, 40, 2)
        single = simulate(Scene("himmelblau", rows, starts=[(m.xs[j], m.ys[i])], steps=500))
        for r in range(2):
            if m.label[r, i, j] >= 0:
                end = single.path[r, 0, -1]
                assert np.linalg.norm(minima - end, axis=1).argmin() == m.label[r, i, j]
    # momentum changes where some starts end up
    assert (m.label[0] != m.label[1]).any()


def test_sweeps_equal_single_runs():
    lrs = np.logspace(-3, 0, 12)
    s = lr_sweep("ill_conditioned", ["gd", "adagrad"], lrs, steps=200)
    for k, name in enumerate(["gd", "adagrad"]):
        for j in (0, 5, 11):
            one = simulate(Scene("ill_conditioned", [OptimizerSpec(name, lr=lrs[j])], steps=200))
            assert s.diverged[k, j] == (one.diverged_at[0, 0] >= 0)
            if not s.diverged[k, j]:
                assert s.loss[k, j] == one.loss[0, 0, -1]
    assert s.diverged[0, -1] and not s.diverged[0, 0]             # GD at lr 1 diverges
    betas = np.linspace(0, 0.95, 6)
    g = grid_sweep("ill_conditioned", "momentum", lrs, betas, steps=300)
    one = simulate(Scene("ill_conditioned", [OptimizerSpec("momentum", lr=lrs[7],
                                                           momentum=betas[3])], steps=300))
    assert g.loss[3, 7] == one.loss[0, 0, -1] and g.loss.shape == (6, 12)
    assert "beta,lr,final_loss,diverged" in g.to_csv().splitlines()[0]


def test_random_search_is_reproducible_by_seed():
    a = random_search("rosenbrock", "adam", 50, seed=7, steps=300)
    b = random_search("rosenbrock", "adam", 50, seed=7, steps=300)
    c = random_search("rosenbrock", "adam", 50, seed=8, steps=300)
    assert np.array_equal(a.settings, b.settings) and np.array_equal(a.loss, b.loss)
    assert not np.array_equal(a.settings, c.settings)
    assert (np.diff(a.best_so_far) <= 0).all()
    lr, beta = a.settings.T
    assert (1e-4 <= lr).all() and (lr <= 1).all() and (0 <= beta).all() and (beta <= 0.99).all()
    k = int(np.argmin(np.where(a.diverged, np.inf, a.loss)))
    one = simulate(Scene("rosenbrock", [OptimizerSpec("adam", lr=lr[k], betas=(beta[k], 0.999))],
                         steps=300))
    assert a.best_so_far[-1] == one.loss[0, 0, -1]


def test_limits_are_enforced():
    with pytest.raises(ValueError, match="n: 300"):
        basin_map("bowl", [OptimizerSpec("gd")], n=300)
    with pytest.raises(ValueError, match="more than 4096"):
        grid_sweep("bowl", "momentum", np.ones(65), np.ones(64))


def test_background_jobs_wait_for_a_free_slot(tmp_path, monkeypatch):
    """At most `slots` explorations run at once on one machine (Diskcache manager)."""
    import threading
    import time

    from optviz.web.jobs import job_slot
    monkeypatch.setenv("OPTVIZ_CACHE_DIR", str(tmp_path))
    monkeypatch.delenv("REDIS_URL", raising=False)
    running, peak, lock = [0], [0], threading.Lock()

    def job():
        with job_slot(2):
            with lock:
                running[0] += 1
                peak[0] = max(peak[0], running[0])
            time.sleep(0.2)
            with lock:
                running[0] -= 1

    threads = [threading.Thread(target=job) for _ in range(6)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert peak[0] == 2 and time.perf_counter() - t0 >= 0.55     # three rounds of two


def test_a_cancelled_job_gives_its_slot_back(tmp_path, monkeypatch):
    """Cancel kills a job with SIGKILL (Dash's DiskcacheManager): no ``finally`` runs, yet
    its slot must be free for the next job at once, not after minutes."""
    import signal
    import subprocess
    import sys
    import time

    import diskcache

    from optviz.web.jobs import job_slot
    monkeypatch.setenv("OPTVIZ_CACHE_DIR", str(tmp_path))
    monkeypatch.delenv("REDIS_URL", raising=False)
    holder = subprocess.Popen(
        [sys.executable, "-c", "import time\nfrom optviz.web.jobs import job_slot\n"
         "with job_slot(1):\n    print('in', flush=True)\n    time.sleep(600)"],
        env={**os.environ, "OPTVIZ_CACHE_DIR": str(tmp_path)}, stdout=subprocess.PIPE,
        text=True)
    try:
        assert holder.stdout.readline().strip() == "in"
        with diskcache.Cache(str(tmp_path)) as cache:        # the slot is taken
            assert cache.get("optviz-explore-slot-0")[0] == holder.pid
        os.kill(holder.pid, signal.SIGKILL)          # not reaped yet: a zombie, as under Dash
        time.sleep(0.2)
        t0 = time.perf_counter()
        with job_slot(1):
            waited = time.perf_counter() - t0
        assert waited < 1.0, waited
    finally:
        holder.kill()
        holder.wait()


def test_a_heatmap_or_random_search_varies_whatever_momentum_or_beta1_the_optimizer_has():
    lrs, betas = np.logspace(-3, -1, 4), np.array([0.0, 0.5, 0.9])
    # GD (an SGD preset) at momentum beta is heavy-ball momentum: the same runs
    gd = grid_sweep("ill_conditioned", "gd", lrs, betas, steps=100)
    heavy = grid_sweep("ill_conditioned", "momentum", lrs, betas, steps=100)
    assert np.array_equal(gd.loss, heavy.loss) and not np.array_equal(gd.loss[0], gd.loss[2])
    # RMSProp's is torch's momentum; Adamax keeps its own beta2 (torch's 0.999 default)
    rms = grid_sweep("rosenbrock", "rmsprop", lrs, betas, steps=50)
    one = simulate(Scene("rosenbrock", [OptimizerSpec("rmsprop", lr=lrs[2], momentum=0.5)],
                         steps=50))
    assert rms.loss[1, 2] == one.loss[0, 0, -1]
    assert {o.hparams["betas"][1] for o in
            random_search("rosenbrock", "adamax", 5, steps=20).scene.optimizers} == {0.999}
    # an optimizer without either is refused by name, with the ones that have one
    for sweep in (lambda: grid_sweep("bowl", "adagrad", lrs, betas),
                  lambda: random_search("bowl", "newton", 5)):
        with pytest.raises(ValueError, match="'(adagrad|newton)' has no momentum or beta1.*"
                                             "gd, momentum, nesterov, rmsprop, adam"):
            sweep()


def test_the_explore_panel_heatmap_runs_for_the_default_rows_and_explains_otherwise():
    # the default rows start with GD: a heatmap of GD with momentum, not a server error
    from optviz.web.controls import ControlError
    from optviz.web.explore_panel import compute
    for kind in ("grid", "random"):
        fig, text, message = compute(kind, 8, 30, 10, "")
        assert fig["layout"]["title"]["text"].startswith("GD with momentum β<br>")
        assert text.count("\n") > 8 and message.endswith(" s")
    assert compute("grid", 8, 30, 10, "rows=adagrad,adam")[0]["layout"]["title"]["text"] \
        .startswith("Adam<br>")                        # the first row that has a beta1
    with pytest.raises(ControlError, match="turn on an optimizer that has one"):
        compute("random", 8, 30, 10, "rows=adagrad,sign,newton")


def test_cached_explorations_are_keyed_by_the_code_that_drew_them(tmp_path):
    # a result kept on disk or Redis must not outlive an upgrade of the code
    from optviz.web.jobs import PACKAGE, background_manager, code_digest
    (tmp_path / "sub").mkdir()
    (tmp_path / "a.py").write_text("x = 1\n")
    (tmp_path / "sub" / "b.py").write_text("y = 2\n")
    before = code_digest(tmp_path)
    code_digest.cache_clear()
    (tmp_path / "sub" / "b.py").write_text("y = 3\n")
    assert code_digest(tmp_path) != before
    code_digest.cache_clear()
    manager, _ = background_manager()
    assert [f() for f in manager.cache_by] == [code_digest(PACKAGE)]


def test_a_map_in_forked_processes_equals_one_in_this_process():
    rows = [OptimizerSpec("gd", lr=0.01), OptimizerSpec("adam", lr=0.05)]
    one = basin_map("himmelblau", rows, n=96, steps=300)
    two = basin_map("himmelblau", rows, n=96, steps=300, processes=2)
    assert np.array_equal(one.label, two.label) and np.array_equal(one.steps, two.steps)
    starts = np.random.default_rng(1).uniform(-5, 5, (20000, 2))
    scene = Scene("ill_conditioned", [OptimizerSpec("gd", lr=0.51)], starts=starts,
                  steps=300, noise=0.5, seed=3)
    a, b = simulate_final(scene), simulate_final(scene, processes=3)
    assert np.array_equal(a.position, b.position) and np.array_equal(a.diverged_at,
                                                                     b.diverged_at)
    assert (a.diverged_at >= 0).any()


def test_a_forked_process_past_its_deadline_stops_the_map():
    from optviz.cost import CostError, Deadline
    starts = np.zeros((40000, 2)) + 1.0
    scene = Scene("rosenbrock", [OptimizerSpec("adam", lr=0.01)], starts=starts, steps=2000)
    with pytest.raises(CostError, match="took longer"):
        simulate_final(scene, processes=2, deadline=Deadline(0.05))


def test_an_exploration_is_priced_on_its_surface_before_it_starts():
    """A 64 x 64 x 1000 map on the sigmoid network took 22 s and 256 x 256 x 1000 ran for
    minutes: the price counts what a step costs there, not only the point-steps."""
    import time

    from optviz.web.explore_panel import compute
    t0 = time.perf_counter()
    with pytest.raises(ValueError, match="this exploration would take about .* more than "
                                         "its 60 s; try at most [0-9]+ steps"):
        compute("basin", 256, 1000, 200, "surface=data_sigmoid_net")
    assert time.perf_counter() - t0 < 1.0
    # the same map on Himmelblau is cheap, and runs
    fig, csv, message = compute("basin", 256, 1000, 200, "surface=himmelblau")
    assert message.startswith("basin map") and csv.count("\n") > 256 * 256


def test_the_explore_figures_name_rows_as_the_page_does_and_agree_on_their_ranges():
    """The lr sweep's legend says "Momentum", not "momentum"; random search's curve and
    colour bar share one floor (the bar stopped at 1e-16, the curve went on to 1e-78);
    a basin map's axes end at its starts (they ran to +-6 around starts on +-5)."""
    from optviz.web.explore_figures import LOSS_FLOOR
    from optviz.web.explore_panel import compute
    fig = compute("lr", 8, 30, 10, "")[0]
    names = [t["name"] for t in fig["data"] if t.get("showlegend") is not False]
    assert names == ["GD", "Momentum", "Nesterov", "AdaGrad", "RMSProp", "Adam"]
    fig = compute("random", 8, 400, 64, "surface=bowl&rows=momentum&lr=0.1")[0]
    curve = [v for v in fig["data"][2]["y"] if v is not None]
    shown = [v for v in fig["data"][1]["marker"]["color"] if v is not None]
    assert min(curve) >= LOSS_FLOOR and min(shown) >= np.log10(LOSS_FLOOR)
    assert min(curve) == pytest.approx(10 ** min(shown))        # the same best trial
    fig = compute("basin", 16, 30, 10, "")[0]
    heat = fig["data"][0]
    half = (heat["x"][1] - heat["x"][0]) / 2
    assert fig["layout"]["xaxis"]["range"] == pytest.approx([heat["x"][0] - half,
                                                             heat["x"][-1] + half])
    half = (heat["y"][1] - heat["y"][0]) / 2
    assert fig["layout"]["yaxis"]["range"] == pytest.approx([heat["y"][0] - half,
                                                             heat["y"][-1] + half])
