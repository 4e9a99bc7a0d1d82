"""The department set-up, for real: Debian's redis-server, a Celery worker run exactly as
docker-compose.yml runs it (prefork, its command read from the file) and gunicorn with
REDIS_URL; a learning-rate sweep started in Chromium runs on the worker and its result
is cached in Redis; the worker survives Redis going away mid-job, and a job Redis lost
says so."""
import os
import subprocess
import sys
import threading
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


def _compose_worker_command() -> list[str]:
    """The worker's command in docker-compose.yml, run with this Python."""
    import yaml
    command = yaml.safe_load(open(ROOT / "docker-compose.yml"))["services"]["worker"]["command"]
    assert command[0] == "celery" and "--pool=solo" not in command   # (the deployed pool)
    return [sys.executable, "-m", *command]


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

    def start_redis():
        return subprocess.Popen([REDIS, "--port", str(port), "--bind", "127.0.0.1",
                                 "--save", "", "--appendonly", "no"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        procs.append(start_redis())
        client = redis.Redis.from_url(url)
        _wait(client.ping, "redis-server")
        worker_log = open(ARTIFACTS / "celery-worker.log", "w")
        procs.append(subprocess.Popen(_compose_worker_command(), cwd=ROOT, env=env,
                                      stdout=worker_log, stderr=subprocess.STDOUT))
        web_log = open(ARTIFACTS / "gunicorn-redis.log", "w")
        procs.append(subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "app:server", "-w", "2", "-b",
             f"127.0.0.1:{web_port}", "--timeout", "60"],
            cwd=ROOT, env=env, stdout=web_log, stderr=subprocess.STDOUT))
        web = f"http://127.0.0.1:{web_port}"
        _wait(lambda: urllib.request.urlopen(web + "/healthz", timeout=2).status == 200,
              "gunicorn with REDIS_URL")
        _wait(lambda: "ready" in open(ARTIFACTS / "celery-worker.log").read(), "celery worker")
        yield web, client, ARTIFACTS / "celery-worker.log", procs, start_redis
    finally:
        for p in reversed(procs):
            p.terminate()
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()


def test_a_sweep_runs_on_a_celery_worker_and_is_cached_in_redis(browser, department):
    web, client, worker_log, _, _ = department
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
        assert lines == ["GD", "Momentum", "AdaGrad"]         # as the page names its rows
        log = open(worker_log).read()
        assert "succeeded" in log, log[-2000:]          # the worker ran it, not the web
        assert client.dbsize() > 0                       # results live in Redis
        assert page.console_errors == []
    finally:
        page.close()


def test_redis_down_and_back_explore_says_so_and_heals_by_itself(department):
    """Redis stopped during a sweep: the sweep and any new click say "background workers
    unavailable" within 2 s (no 500, the page works); /healthz says degraded; when Redis
    is back the worker reconnects and the next exploration runs, with nobody restarting
    anything."""
    import json

    from benchmarks.server import Explorer
    web, client, worker_log, procs, start_redis = department
    worker = procs[1]
    results = {}
    slow = threading.Thread(target=lambda: results.setdefault("slow", Explorer(web, "s").run(
        "grid", 64, 2000, query="surface=data_sigmoid_net", limit=60)))
    slow.start()
    time.sleep(1.5)
    procs[0].terminate()
    procs[0].wait(10)
    t0 = time.monotonic()
    slow.join(30)
    text, _, statuses = results["slow"]
    assert "background workers unavailable" in text and 500 not in statuses, results
    assert time.monotonic() - t0 < 2.5
    text, seconds, statuses = Explorer(web, "n").run("lr", 16, 100,
                                                     query="surface=himmelblau")
    assert "background workers unavailable" in text and seconds < 2 and statuses == [200]
    health = json.loads(urllib.request.urlopen(web + "/healthz", timeout=5).read())
    assert health["status"] == "degraded" and health["jobs"]["ok"] is False
    # the main page still answers
    assert urllib.request.urlopen(web + "/", timeout=5).status == 200
    time.sleep(3)
    procs[0] = start_redis()
    _wait(client.ping, "redis-server again")
    back = time.monotonic()
    deadline = time.monotonic() + 60
    while True:
        text, _, _ = Explorer(web, "after").run("lr", 16, 120, query="surface=himmelblau",
                                                limit=20)
        if text.startswith("learning-rate sweep"):
            break
        assert time.monotonic() < deadline, text
        time.sleep(1)
    assert time.monotonic() - back < 30             # within 30 s of Redis's return
    assert worker.poll() is None                    # the same worker, reconnected
    log = open(worker_log).read()
    assert "Unrecoverable error" not in log, log[-3000:]
    health = json.loads(urllib.request.urlopen(web + "/healthz", timeout=5).read())
    assert health["status"] == "ok"


def test_a_job_redis_lost_says_so_and_offers_to_run_again(department):
    """Redis emptied under a running job (a restart without persistence): the job's
    state is gone, and the panel says the exploration was lost and can be run again,
    instead of waiting for it for ever."""
    from benchmarks.server import Explorer
    web, client, _, _, _ = department
    results = {}
    slow = threading.Thread(target=lambda: results.setdefault("slow", Explorer(web, "l").run(
        "grid", 64, 2000, query="surface=data_sigmoid_net", limit=60)))
    slow.start()
    time.sleep(2)
    client.flushall()
    slow.join(30)
    text, seconds, statuses = results["slow"]
    assert "was lost" in text and "run to start it again" in text, results
    assert set(statuses) == {200}
    # and it can: the same browser's next click is admitted and runs
    text, _, _ = Explorer(web, "l").run("lr", 16, 120, query="surface=himmelblau", limit=60)
    assert text.startswith("learning-rate sweep"), text
