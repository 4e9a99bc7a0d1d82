"""The "Python" download: a short script that reproduces the page's run with optviz and,
for the rows torch has, with torch.optim; checked against the page's own JSON export of
the same setup, over HTTP (gunicorn) and from the button in Chromium."""
import json
import re
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
    page = json.loads(download(server_url, "dl-json", query)["content"])
    # named by what it holds: the surface (a formula's text left out) and the steps
    surface = page["scene"]["surface"].split(":")[0].replace("_", "-")
    steps = page["scene"]["steps"]
    assert re.fullmatch(rf"optviz-{re.escape(surface)}-[a-z0-9-]+-{steps}-steps(-live)?\.py",
                        script["filename"]), script["filename"]
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


def test_the_script_says_where_to_get_optviz_and_that_wheel_runs_it(server_url, tmp_path):
    """No package index holds optviz: the script names the wheel its server serves, and that
    wheel, pip-installed into a fresh virtual environment (NumPy from the machine's
    site-packages, no index), runs the script to the page's numbers."""
    text = download(server_url, "dl-py", "scenario=ill-conditioned")["content"]
    url = re.search(r"pip install (\S+)", text).group(1)
    assert url.startswith(server_url + "/wheel/optviz-") and url.endswith("-py3-none-any.whl")
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)],
                   check=True, timeout=120)
    python = str(venv / "bin" / "python")
    r = subprocess.run([python, "-m", "pip", "install", "--no-index", "--force-reinstall",
                        "--no-deps", url], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    (tmp_path / "run.py").write_text(text)
    r = subprocess.run([python, "-c", "import optviz, runpy; print(optviz.__file__); "
                        "run = runpy.run_path('run.py')['run']; print(run.loss[0, 0, -1])"],
                       cwd=tmp_path, capture_output=True, text=True, timeout=120,
                       env={"PATH": "", "HOME": str(tmp_path)})
    assert r.returncode == 0, r.stderr[-2000:]
    where, loss = r.stdout.split()
    assert where.startswith(str(venv)), where           # the wheel's, not this checkout's
    page = json.loads(download(server_url, "dl-json", "scenario=ill-conditioned")["content"])
    assert float(loss) == page["rows"][0]["loss"][-1]
    # and the wheel holds the engine alone: no page, nothing but NumPy required
    r = subprocess.run([python, "-m", "pip", "show", "-f", "optviz"], capture_output=True,
                       text=True, timeout=60)
    assert "Requires: numpy" in r.stdout and "optviz/web" not in r.stdout


def test_the_python_button_downloads_the_script(page, tmp_path):
    with page.expect_download() as dl:
        page.locator("#dl-py").click()
    target = tmp_path / "run.py"
    dl.value.save_as(target)
    assert dl.value.suggested_filename == "optviz-ill-conditioned-6-optimizers-300-steps.py"
    run = runpy.run_path(str(target))["run"]
    shown = page.evaluate("() => Array.from(document.querySelectorAll("
                          "'#legend .legend-row .legend-label')).map(e => e.textContent)")
    assert run.labels == shown and len(shown) == 6
