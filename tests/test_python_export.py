"""The "Python" download: a short script that reproduces the page's run with optviz and,
for the rows torch has, with torch.optim; checked against the page's own JSON export of
the same setup, over HTTP (gunicorn) and from the button in Chromium."""
import json
import runpy
import subprocess
import sys

import numpy as np
import pytest

from benchmarks.abuse import download as download_request
from benchmarks.server import post

from .conftest import ROOT

#: setups the page can show: a scenario with a schedule, per-row constant rates and noise;
#: a formula with a view box; minibatches on data; a live change mid-run; clipping
QUERIES = ["scenario=warmup-cosine", "surface=data_sigmoid_net&rows=gd,momentum&steps=150",
           "surface=formula&f=x**2%2B3*sin(y)*x&fv=-4,4,-3,3&rows=gd,adam&steps=200",
           "surface=data_logistic&batch=8&rows=gd,momentum,adam&seed=7",
           "surface=rosenbrock&rows=gd,nesterov,newton&clip=2&steps=150",
           "scenario=saddle",
           # the optimizers added last, with noise; L-BFGS, its line search on minibatches
           "surface=himmelblau&rows=rprop,asgd,adafactor,lion&steps=120&sigma=0.5",
           "surface=data_logistic&batch=8&rows=lbfgs,lbfgs_wolfe&seed=3&clip=1&steps=60"]


def download(url, kind, query):
    """What the page's download button ``kind`` answers for the setup ``query``."""
    status, answer, _ = post(url + "/_dash-update-component", download_request(kind, query))
    assert status == 200, answer[:300]
    return json.loads(answer)["response"]["download"]["data"]


@pytest.mark.parametrize("query", QUERIES)
def test_the_python_script_reproduces_the_pages_json_export(server_url, query, tmp_path):
    script = download(server_url, "dl-py", query)
    assert script["filename"] == "optviz-run.py"
    page = json.loads(download(server_url, "dl-json", query)["content"])
    path = tmp_path / "optviz-run.py"
    path.write_text(script["content"])
    run = runpy.run_path(str(path))["run"]                    # what the script computes
    assert [r["label"] for r in page["rows"]] == run.labels
    for i, row in enumerate(page["rows"]):
        np.testing.assert_array_equal(run.path[i, 0, :, 0], row["x"])
        np.testing.assert_array_equal(run.path[i, 0, :, 1], row["y"])
        np.testing.assert_array_equal(run.loss[i, 0], row["loss"])
        np.testing.assert_array_equal(run.lr[i], row["lr"])
    # and as a program, from another directory: a summary line per row
    r = subprocess.run([sys.executable, str(path)], cwd=tmp_path, capture_output=True,
                       text=True, timeout=60, env={"PYTHONPATH": str(ROOT), "PATH": ""})
    assert r.returncode == 0, r.stderr
    assert r.stdout.count("ends at") == len(run.labels)


@pytest.mark.parametrize("query", QUERIES)
def test_its_torch_part_gives_the_same_paths_with_torch_optim(server_url, query, tmp_path):
    """torch.optim and its schedulers, for the rows torch has, on the surface written in
    torch: the page's paths to 1e-10 (relative past 1; as tests/test_torch_parity.py),
    the noise drawn from optviz's stream, clipped as optviz clips."""
    script = download(server_url, "dl-py", query)["content"]
    page = json.loads(download(server_url, "dl-json", query)["content"])
    path = tmp_path / "optviz-run.py"
    path.write_text(script)
    namespace = runpy.run_path(str(path))
    torch_paths = namespace["with_torch"]()
    assert torch_paths
    rows = {r["label"]: r for r in page["rows"]}
    for label, got in torch_paths.items():
        row = rows[label]
        end = row["diverged_at"] if row["diverged_at"] >= 0 else len(row["x"]) - 1
        want = np.stack([row["x"], row["y"]], axis=1)[:end + 1]
        # (relative where a path runs far: momentum leaves the saddle to |y| ~ 5e5)
        assert (np.abs(got[:end + 1] - want) <= 1e-10 * np.maximum(1, np.abs(want))).all(), \
            label
    # the rows torch lacks are named, not dropped silently
    left = set(rows) - set(torch_paths)
    assert all(label in script for label in left)
    r = subprocess.run([sys.executable, str(path)], cwd=tmp_path, capture_output=True,
                       text=True, timeout=120, env={"PYTHONPATH": str(ROOT), "PATH": ""})
    assert r.returncode == 0 and "torch.optim agrees to" in r.stdout, r.stderr


def test_the_script_is_short_and_clean(server_url, tmp_path):
    text = download(server_url, "dl-py", "scenario=ill-conditioned")["content"]
    assert len(text.splitlines()) < 80
    (tmp_path / "s.py").write_text(text)
    r = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", "--isolated",
                        "--line-length", "200", str(tmp_path / "s.py")],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stdout


def test_the_python_button_downloads_the_script(page, tmp_path):
    with page.expect_download() as dl:
        page.locator("#dl-py").click()
    target = tmp_path / "run.py"
    dl.value.save_as(target)
    assert dl.value.suggested_filename == "optviz-run.py"
    run = runpy.run_path(str(target))["run"]
    shown = page.evaluate("() => Array.from(document.querySelectorAll("
                          "'#legend .legend-row .legend-label')).map(e => e.textContent)")
    assert run.labels == shown and len(shown) == 6
