"""The course server: health, headers, body limit, and the Docker image's steps replayed
(its pip install in a fresh virtual environment, then its CMD) since no Docker engine runs
here. The Dockerfile is also linted with hadolint."""
import gzip
import json
import os
import pathlib
import re
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest
from backports import zstd

from .conftest import free_port
from .test_web import _main_callback_request

ROOT = pathlib.Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def client():
    from app import app
    return app.server.test_client()


def test_healthz(client):
    r = client.get("/healthz")
    assert r.status_code == 200
    from optviz import __version__
    assert r.get_json() == {"status": "ok", "version": __version__,
                            "jobs": {"backend": "diskcache", "ok": True},
                            "classes": {"database": "sqlite", "ok": True}}


def test_security_headers_on_every_answer(client):
    for path in ("/", "/healthz", "/_dash-layout"):
        h = client.get(path).headers
        assert h["X-Content-Type-Options"] == "nosniff"
        assert h["Referrer-Policy"] == "strict-origin-when-cross-origin"
        csp = dict(d.strip().split(" ", 1) for d in h["Content-Security-Policy"].split(";"))
        assert csp["frame-ancestors"] == "'self'"
        assert csp["script-src"].startswith("'self' 'sha256-")


def test_large_bodies_are_refused(client):
    r = client.post("/_dash-update-component", data=b"{" + b" " * 400_000 + b"}",
                    content_type="application/json")
    assert r.status_code == 413


def test_responses_are_gzipped(client):
    r = client.get("/", headers={"Accept-Encoding": "gzip"})
    assert r.headers.get("Content-Encoding") == "gzip"


def test_a_browser_gets_zstd_and_the_same_answer(client):
    """What Chromium sends on HTTPS and localhost: the cheapest codec wins, and the
    callback's answer decodes to the same JSON as the gzip one."""
    body = _main_callback_request(-1.2)
    answers = {}
    for accept in ("gzip", "gzip, deflate, br, zstd"):
        r = client.post("/_dash-update-component", json=body,
                        headers={"Accept-Encoding": accept})
        assert r.status_code == 200
        answers[r.headers.get("Content-Encoding")] = r.data
    assert set(answers) == {"gzip", "zstd"}
    assert json.loads(zstd.decompress(answers["zstd"])) == \
        json.loads(gzip.decompress(answers["gzip"]))


def test_the_page_scripts_and_layout_are_made_once_and_stay_exact():
    """Each script is compressed once per encoding and the layout serialized once per
    worker (optviz.web.server.serve_static_once); every answer still decodes to the
    file itself, a revalidation gets 304, and a callback's answer is never kept."""
    import pkgutil

    from dash._utils import to_json

    from optviz.web import create_app
    app = create_app()
    client = app.server.test_client()
    plotly_js = pkgutil.get_data("plotly", "package_data/plotly.min.js")
    url = "/_dash-component-suites/plotly/package_data/plotly.min.js"
    decode = {"gzip": gzip.decompress, "zstd": zstd.decompress}
    for accept, codec in (("gzip, deflate", "gzip"), ("gzip, deflate, br, zstd", "zstd")):
        first, again = (client.get(url, headers={"Accept-Encoding": accept}) for _ in range(2))
        assert first.headers["Content-Encoding"] == codec == again.headers["Content-Encoding"]
        assert decode[codec](first.data) == plotly_js and again.data == first.data
        check = client.get(url, headers={"Accept-Encoding": accept,
                                         "If-None-Match": first.headers["ETag"]})
        assert check.status_code == 304 and check.data == b""
        layouts = [client.get("/_dash-layout", headers={"Accept-Encoding": accept})
                   for _ in range(2)]
        assert [decode[codec](r.data) for r in layouts] == [to_json(app.layout).encode()] * 2
    answers = {client.post("/_dash-update-component", json=_main_callback_request(lr),
                           headers={"Accept-Encoding": "gzip"}).data for lr in (-1.2, -1.0)}
    assert len(answers) == 2


def test_the_static_cache_keys_only_the_page_parts_and_is_bounded():
    from flask import Flask

    from optviz.web.server import MAX_STATIC_BODIES, StaticBodies, static_key
    server = Flask(__name__)

    def key(path, method="GET"):
        with server.test_request_context(path, method=method):
            from flask import request
            return static_key(request)
    # any version fingerprint or query names the same script: no unbounded growth
    plain = key("/_dash-component-suites/dash/dcc/async-graph.js")
    assert plain == key("/_dash-component-suites/dash/dcc/async-graph.v9_9m1234.js?x=1")
    assert plain == "suites:dash/dcc/async-graph.js"
    assert key("/_dash-layout") == "/_dash-layout"
    assert key("/assets/optviz.js?m=12") == "assets:optviz.js"       # files of the package
    for other in ("/", "/healthz"):
        assert key(other) == ""
    assert key("/_dash-update-component", "POST") == ""
    assert key("/_dash-component-suites/dash/dcc/async-graph.js", "HEAD") == ""
    bodies = StaticBodies()
    bodies.set("gzip;", b"a callback answer")
    assert bodies.get("gzip;") is None
    for i in range(3 * MAX_STATIC_BODIES):
        bodies.set(f"zstd;suites:{i}", b"x")
    assert bodies.get("zstd;suites:0") == b"x"
    assert bodies.get(f"zstd;suites:{MAX_STATIC_BODIES}") is None


def test_every_setting_the_server_reads_is_in_the_readme():
    # an administrator learns the knobs from the README's table, so none may be missing
    readme = (ROOT / "README.md").read_text()
    names = set()
    for source in ("gunicorn.conf.py", "app.py", *map(str, (ROOT / "optviz").rglob("*.py"))):
        text = (ROOT / source).read_text()
        names |= set(re.findall(r"os\.environ(?:\.get\(|\[)\s*[\"']([A-Z_]+)[\"']", text))
    assert {"WEB_CONCURRENCY", "GUNICORN_PRELOAD", "OPTVIZ_FRAME_ANCESTORS"} <= names
    missing = sorted(n for n in names if f"`{n}`" not in readme)
    assert missing == []


def test_dockerfile_lints_clean():
    assert shutil.which("hadolint"), "pip install -r requirements-dev.txt installs hadolint"
    r = subprocess.run(["hadolint", str(ROOT / "Dockerfile")], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr


def _dockerfile():
    text = (ROOT / "Dockerfile").read_text()
    run = re.findall(r"^RUN (pip install .*)$", text, re.M)
    cmd = json.loads(re.search(r"^CMD (\[.*\])$", text, re.M).group(1))
    copied = re.findall(r"^COPY (.+) \S+$", text, re.M)
    return run, cmd, [p for line in copied for p in line.split()]


def test_docker_image_steps_replayed_in_a_fresh_venv(tmp_path):
    run, cmd, copied = _dockerfile()
    assert run == ["pip install --no-cache-dir -r requirements.txt"]
    assert cmd[:3] == ["gunicorn", "--config", "gunicorn.conf.py"] and cmd[-1] == "app:server"
    # the build context as the Dockerfile copies it, nothing else
    app_dir = tmp_path / "app"
    app_dir.mkdir()
    for name in copied:
        src = ROOT / name
        (shutil.copytree if src.is_dir() else shutil.copy)(src, app_dir / name)
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    pip = [str(venv / "bin" / "python"), "-m"] + run[0].split()
    subprocess.run(pip, cwd=app_dir, check=True, capture_output=True, timeout=600)
    port = free_port()
    env = {**os.environ, "PORT": str(port), "HOST": "127.0.0.1", "WEB_CONCURRENCY": "1"}
    env["PATH"] = f"{venv / 'bin'}:{env['PATH']}"
    # the image's class database, on its volume (/data here a temporary directory)
    volume = re.search(r'^VOLUME \["(/\S+)"\]$', (ROOT / "Dockerfile").read_text(), re.M)[1]
    db = re.search(r"^ENV OPTVIZ_DB_URL=(\S+)$", (ROOT / "Dockerfile").read_text(), re.M)[1]
    assert db.startswith(f"sqlite:///{volume}/")
    (tmp_path / "data").mkdir()
    env["OPTVIZ_DB_URL"] = db.replace(volume, str(tmp_path / "data"), 1)
    proc = subprocess.Popen([str(venv / "bin" / cmd[0])] + cmd[1:], cwd=app_dir, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        url = f"http://127.0.0.1:{port}"
        for _ in range(300):
            try:
                health = json.loads(urllib.request.urlopen(url + "/healthz", timeout=2).read())
                break
            except (urllib.error.URLError, ConnectionError):
                assert proc.poll() is None, "gunicorn exited"
                time.sleep(0.1)
        assert health["status"] == "ok"
        page = urllib.request.urlopen(url + "/", timeout=5).read().decode()
        assert "optviz" in page
        # a real callback round trip, as the page makes it
        from .test_web import _main_callback_request, run_answer
        req = urllib.request.Request(url + "/_dash-update-component", method="POST",
                                     data=json.dumps(_main_callback_request(-1.5)).encode(),
                                     headers={"Content-Type": "application/json"})
        body = json.loads(urllib.request.urlopen(req, timeout=10).read())
        assert run_answer(body)["meta"]["steps"] == 300
        # class mode, on the volume's SQLite file
        req = urllib.request.Request(url + "/api/classes", method="POST", data=b"{}",
                                     headers={"Content-Type": "application/json"})
        made = json.loads(urllib.request.urlopen(req, timeout=10).read())
        assert len(made["code"]) == 6 and (tmp_path / "data" / "classes.db").exists()
    finally:
        proc.terminate()
        proc.wait(10)


def test_production_defaults_no_dev_tools_no_tracebacks(client):
    html = client.get("/").data.decode()
    config = json.loads(re.search(r'<script id="_dash-config" type="application/json">'
                                  r"(.*?)</script>", html, re.S).group(1))
    assert config["ui"] is False and config["props_check"] is False
    # a callback that fails inside Dash answers without a traceback
    from .test_web import _main_callback_request
    body = _main_callback_request(-1.5)
    body["inputs"][0] = [{"id": "surface", "property": "value", "value": 1}]   # wrong shape
    r = client.post("/_dash-update-component", json=body)
    assert r.status_code in (200, 400, 500)
    assert b"Traceback" not in r.data and b'File "' not in r.data


def test_compose_file_runs_the_web_a_celery_worker_redis_and_postgres():
    """docker-compose.yml, read (no Docker engine here): the worker runs the same Celery
    app that tests/test_celery.py starts for real, on the same REDIS_URL as the web; the
    web's classes live in the postgres service, named as tests/test_classes.py names its
    real PostgreSQL (postgresql+psycopg://), on a volume."""
    import yaml
    spec = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = spec["services"]
    assert set(services) == {"web", "worker", "redis", "postgres"}
    pg = services["postgres"]["environment"]
    assert services["web"]["environment"]["OPTVIZ_DB_URL"] == (
        f"postgresql+psycopg://{pg['POSTGRES_USER']}:{pg['POSTGRES_PASSWORD']}@postgres:5432/"
        f"{pg['POSTGRES_DB']}")
    assert services["web"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    volume = services["postgres"]["volumes"][0].split(":")[0]
    assert volume in spec["volumes"]
    url = services["web"]["environment"]["REDIS_URL"]
    assert url == services["worker"]["environment"]["REDIS_URL"] == "redis://redis:6379/0"
    assert services["worker"]["command"][:4] == ["celery", "-A", "app:celery_app", "worker"]
    assert services["web"]["ports"] == ["8050:8050"]
    assert services["web"]["build"] == services["worker"]["build"] == "."
    import app
    assert hasattr(app, "celery_app")       # the name the worker command imports


def test_the_vendored_plotly_bundle_is_the_installed_plotly_js_and_is_served():
    """The page starts with Plotly's cartesian bundle (optviz/web/assets), the 3-D view
    with the full one plotly ships: the two must be the same plotly.js version, or a
    plotly upgrade would mix versions on one page."""
    from plotly.offline import get_plotlyjs_version

    from optviz.web import ASSETS, create_app
    path = os.path.join(ASSETS, "vendor-plotly-cartesian.min.js")
    with open(path, encoding="utf-8") as f:
        head = f.read(300)
    assert f"plotly.js (cartesian - minified) v{get_plotlyjs_version()}" in head
    client = create_app().server.test_client()
    r = client.get("/assets/vendor-plotly-cartesian.min.js")
    assert r.status_code == 200 and len(r.data) == os.path.getsize(path)
    # compressed for a plain-HTTP browser too (gzip only: Flask's streamed files were
    # sent as they are, 1.5 MB), from one compression kept by the worker
    with open(path, "rb") as f:
        raw = f.read()
    for accept, codec, decode in (("gzip, deflate", "gzip", gzip.decompress),
                                  ("gzip, deflate, br, zstd", "zstd", zstd.decompress)):
        first, again = (client.get("/assets/vendor-plotly-cartesian.min.js?m=1",
                                   headers={"Accept-Encoding": accept}) for _ in range(2))
        assert first.headers["Content-Encoding"] == codec and len(first.data) < len(raw) / 2
        assert decode(first.data) == raw and again.data == first.data
    etag = client.get("/assets/optviz.css").headers["ETag"]
    assert client.get("/assets/optviz.css", headers={"If-None-Match": etag}).status_code == 304
    assert client.get("/assets/..%2fserver.py").status_code == 404
    # run by the graphs, not a script of the page (preloaded: fetched from the start)
    page = client.get("/").data.decode()
    assert "vendor-plotly" not in page.replace(
        '<link rel="preload" href="/assets/vendor-plotly-cartesian.min.js" as="script">', "")
    assert "optviz.js" in page
