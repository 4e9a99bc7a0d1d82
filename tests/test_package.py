"""optviz as a package: a NumPy-only core that installs alone, the page as the ``web``
extra with its console script, a wheel and an sdist that twine accepts, and the pinned
requirements.txt (the image's and CI's) kept in step with the extras."""
import json
import os
import re
import subprocess
import sys
import time
import tomllib
import urllib.request

import pytest
from packaging.requirements import Requirement

from .conftest import ROOT, free_port

PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


@pytest.fixture(scope="module")
def source(tmp_path_factory):
    """What the package is made of, copied out of the repository (a build writes its
    build/ and egg-info next to the sources: not into the checkout)."""
    import shutil
    where = tmp_path_factory.mktemp("source")
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(ROOT / name, where / name)
    shutil.copytree(ROOT / "optviz", where / "optviz",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    return where


def _pins() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            req = Requirement(line)                 # (a name may carry extras: psycopg[binary])
            pins[req.name.lower()] = str(req.specifier).removeprefix("==")
    return pins


def test_requirements_txt_pins_exactly_the_core_and_every_extra_within_their_ranges():
    wanted = [Requirement(r) for r in PYPROJECT["dependencies"]]
    for extra in ("web", "workers", "postgres"):
        wanted += [Requirement(r) for r in PYPROJECT["optional-dependencies"][extra]]
    pins = _pins()
    assert {r.name.lower() for r in wanted} == set(pins)
    for r in wanted:
        assert r.specifier.contains(pins[r.name.lower()]), (r, pins[r.name.lower()])
    assert [str(r) for r in map(Requirement, PYPROJECT["dependencies"])] == ["numpy>=1.26"]


def _readme_example() -> str:
    text = (ROOT / "README.md").read_text()
    section = text[text.index("## The Python API in five lines"):]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


@pytest.fixture(scope="module")
def venv(tmp_path_factory, source):
    """A fresh virtual environment with ``pip install <the repository>``: the core only."""
    where = tmp_path_factory.mktemp("venv")
    subprocess.run([sys.executable, "-m", "venv", str(where)], check=True)
    python = str(where / "bin" / "python")
    r = subprocess.run([python, "-m", "pip", "install", "-q", str(source)],
                       capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stdout + r.stderr
    return where


def test_the_core_installs_alone_and_runs_the_readme_example_without_dash(venv, tmp_path):
    python = str(venv / "bin" / "python")
    lines = [line for line in _readme_example().splitlines() if line.strip()]
    assert len(lines) <= 6
    script = _readme_example() + (
        "\nimport sys\n"
        "assert run.path.shape == (2, 1, 501, 2)\n"
        "assert (run.loss[:, 0, -1] < run.loss[:, 0, 0]).all()\n"
        "import optviz\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('dash', 'plotly', 'flask', 'pandas')))\n")
    r = subprocess.run([python, "-c", script], cwd=tmp_path, capture_output=True, text=True,
                       timeout=120)                 # (another directory than the repo's)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "[]"
    r = subprocess.run([python, "-c", "import dash"], capture_output=True, text=True)
    assert "No module named 'dash'" in r.stderr     # nothing of the page came with it
    r = subprocess.run([str(venv / "bin" / "optviz"), "serve"], capture_output=True,
                       text=True, timeout=60)
    assert r.returncode != 0 and 'pip install "optviz[web]"' in r.stderr


def test_the_core_trains_the_readme_s_network_without_dash_or_torch(venv, tmp_path):
    text = (ROOT / "README.md").read_text()
    section = text[text.index("Real networks:"):]
    example = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    assert "run.figure()" in example                # (Plotly's, left out here: not core)
    script = "\n".join(line for line in example.splitlines()
                       if not line.startswith("run.figure()")) + (
        "\nimport sys\n"
        "assert run.train_loss.shape == (2, 1, 501)\n"
        "assert (run.train_loss[:, 0, -1] < run.train_loss[:, 0, 0]).all()\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('dash', 'plotly', 'torch', 'pandas')))\n")
    r = subprocess.run([str(venv / "bin" / "python"), "-c", script], cwd=tmp_path,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "[]"


def test_the_web_extra_gives_the_optviz_command_that_serves_the_page(venv, source, tmp_path):
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "-q"]
    # the pinned set first (as the image installs it), then the extra: already satisfied
    r = subprocess.run(pip + ["-r", str(ROOT / "requirements.txt")], capture_output=True,
                       text=True, timeout=900)
    assert r.returncode == 0, r.stderr
    r = subprocess.run(pip + [f"{source}[web]"], capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stderr
    port = free_port()
    for command in ([str(venv / "bin" / "optviz"), "serve", "--port", str(port)],
                    [str(venv / "bin" / "python"), "-m", "optviz", "--port", str(port)]):
        proc = subprocess.Popen(command + ["--host", "127.0.0.1"], cwd=tmp_path,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            url = f"http://127.0.0.1:{port}"
            for _ in range(300):
                try:
                    health = json.loads(urllib.request.urlopen(url + "/healthz",
                                                               timeout=2).read())
                    break
                except OSError:
                    assert proc.poll() is None, f"{command} exited"
                    time.sleep(0.1)
            assert health["status"] == "ok"
            # the page's own scripts come from the installed package
            js = urllib.request.urlopen(url + "/assets/optviz.js", timeout=5).read()
            assert b"dash_clientside" in js
        finally:
            proc.terminate()
            proc.wait(10)


def test_a_wheel_and_an_sdist_build_and_pass_twine_check(source, tmp_path):
    r = subprocess.run([sys.executable, "-m", "build", "--outdir", str(tmp_path), str(source)],
                       capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    built = sorted(p.name for p in tmp_path.iterdir())
    assert built == ["optviz-0.1.0-py3-none-any.whl", "optviz-0.1.0.tar.gz"], built
    r = subprocess.run([sys.executable, "-m", "twine", "check", "--strict",
                        *map(str, tmp_path.iterdir())], capture_output=True, text=True)
    assert r.returncode == 0 and r.stdout.count("PASSED") == 2, r.stdout + r.stderr
    import zipfile
    names = zipfile.ZipFile(tmp_path / built[0]).namelist()
    assert "optviz/web/assets/optviz.js" in names and "optviz/__main__.py" in names
    assert "optviz/web/first_picture.js" in names          # (inlined in the index page)
    assert not [n for n in names if n.startswith(("tests/", "benchmarks/"))]
    assert os.path.exists(ROOT / "LICENSE")
