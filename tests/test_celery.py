"""The department set-up, for real: Debian's redis-server, a Celery worker process and
gunicorn with REDIS_URL; a learning-rate sweep started in Chromium runs on the worker
and its result is cached in Redis."""
import os
import subprocess
import sys
import time
import urllib.request

import pytest

from .conftest import ARTIFACTS, ROOT, _open, free_port

REDIS = os.environ.get("REDIS_SERVER", "/usr/bin/redis-server")


def _wait(check, what, seconds=90):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except Exception:                               # noqa: BLE001 - still starting
            pass
        time.sleep(0.2)
    pytest.fail(f"{what} did not come up within {seconds} s; see {ARTIFACTS}")


@pytest.fixture(scope="module")
def department():
    """redis-server, a Celery worker and gunicorn, all with REDIS_URL set."""
    if not os.path.exists(REDIS):
        pytest.fail(f"no redis-server at {REDIS}: apt-get install -y redis-server")
    import redis
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    port, web_port = free_port(), free_port()
    url = f"redis://127.0.0.1:{port}/0"
    env = {**os.environ, "REDIS_URL": url}
    procs = []
    try:
        procs.append(subprocess.Popen([REDIS, "--port", str(port), "--bind", "127.0.0.1",
                                       "--save", "", "--appendonly", "no"],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        client = redis.Redis.from_url(url)
        _wait(client.ping, "redis-server")
        worker_log = open(ARTIFACTS / "celery-worker.log", "w")
        procs.append(subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "app:celery_app", "worker", "--pool=solo",
             "--concurrency=1", "--loglevel=INFO", "--without-gossip", "--without-mingle"],
            cwd=ROOT, env=env, stdout=worker_log, stderr=subprocess.STDOUT))
        web_log = open(ARTIFACTS / "gunicorn-redis.log", "w")
        procs.append(subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "app:server", "-w", "2", "-b",
             f"127.0.0.1:{web_port}", "--timeout", "60"],
            cwd=ROOT, env=env, stdout=web_log, stderr=subprocess.STDOUT))
        web = f"http://127.0.0.1:{web_port}"
        _wait(lambda: urllib.request.urlopen(web + "/healthz", timeout=2).status == 200,
              "gunicorn with REDIS_URL")
        _wait(lambda: "ready" in open(ARTIFACTS / "celery-worker.log").read(), "celery worker")
        yield web, client, ARTIFACTS / "celery-worker.log"
    finally:
        for p in reversed(procs):
            p.terminate()
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()


def test_a_sweep_runs_on_a_celery_worker_and_is_cached_in_redis(browser, department):
    web, client, worker_log = department
    page = _open(browser, web + "/?surface=ill_conditioned&rows=gd,momentum,adagrad",
                 1280, 900)
    try:
        page.locator(".explore summary").click()
        page.locator("#ex-kind").get_by_text("learning-rate sweep").click()
        page.locator("#ex-run").click()
        page.wait_for_function("() => document.getElementById('ex-status').textContent"
                               ".startsWith('learning-rate sweep')", timeout=90000)
        lines = page.evaluate("() => document.querySelector('#ex-graph .js-plotly-plot').data"
                              ".filter(d => d.mode === 'lines+markers').map(d => d.name)")
        assert lines == ["gd", "momentum", "adagrad"]
        log = open(worker_log).read()
        assert "succeeded" in log, log[-2000:]          # the worker ran it, not the web
        assert client.dbsize() > 0                       # results live in Redis
        assert page.console_errors == []
    finally:
        page.close()
