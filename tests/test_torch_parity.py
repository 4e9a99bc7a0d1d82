"""optviz against torch.optim: recorded trajectories (tools/record_torch.py) replayed."""
import json
import pathlib

import numpy as np
import pytest

from optviz import OPTIMIZERS, Scene, simulate

FIXTURES = json.loads((pathlib.Path(__file__).parent / "fixtures" /
                       "torch_trajectories.json").read_text())["cases"]


def _id(case):
    o = case["scene"]["optimizers"][0]
    sched = case["scene"]["schedule"]
    extra = ",".join(f"{k}={v}" for k, v in o.items() if k != "name")
    return f"{o['name']}[{extra}]@{case['scene']['surface']}" + (
        f"+{sched}" if sched else "")


@pytest.mark.parametrize("case", FIXTURES, ids=[_id(c) for c in FIXTURES])
def test_matches_torch(case):
    run = simulate(Scene.from_dict(case["scene"]), record_state="evals" in case)
    expected = np.asarray(case["path"])
    if "evals" in case:           # L-BFGS: torch's function evaluations, step by step
        np.testing.assert_array_equal(run.state["evals"][0, :, :, 0], case["evals"])
    assert (run.diverged_at == -1).all(), "fixture cases are chosen not to diverge"
    np.testing.assert_allclose(run.lr[0], case["lr"], rtol=1e-12, atol=0)
    np.testing.assert_allclose(run.path[0], expected, rtol=0, atol=1e-10)


def test_fixtures_cover_every_torch_optimizer_and_schedule():
    """Every entry that names a torch.optim class has recorded cases, and no other."""
    names = {c["scene"]["optimizers"][0]["name"] for c in FIXTURES}
    assert {name for name, o in OPTIMIZERS.items() if o.torch} == names
    schedules = {c["scene"]["schedule"]["name"] for c in FIXTURES if c["scene"]["schedule"]}
    assert schedules == {"constant", "step", "exponential", "cosine", "linear", "inverse_sqrt"}
    assert any(c["scene"]["schedule"] and c["scene"]["schedule"].get("warmup")
               for c in FIXTURES)
