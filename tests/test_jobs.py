"""Explore under a class, against a real gunicorn: explorations admitted one per browser
and MAX_QUEUE in all (past that "busy" at once, nothing started), and job processes that
never hold up a recycling web worker."""
import tempfile
import threading
import time
import urllib.request

import psutil

from benchmarks.server import Explorer, gunicorn

SLOW = {"kind": "basin", "n": 256, "steps": 1500, "query": "surface=himmelblau"}


def job_processes(master: int) -> list[psutil.Process]:
    """The jobs the web workers started (not the processes a basin map forks itself)."""
    jobs = [j for w in psutil.Process(master).children() for j in w.children()]
    return [p for p in jobs if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]


def _started(results, client, url):
    def go():
        results[client] = Explorer(url, client).run(**SLOW)
    t = threading.Thread(target=go)
    t.start()
    return t


def test_past_the_queue_a_click_is_busy_at_once_and_nothing_starts():
    env = {"OPTVIZ_MAX_JOBS": "1", "OPTVIZ_MAX_QUEUE": "2", "WEB_CONCURRENCY": "2",
           "OPTVIZ_CACHE_DIR": tempfile.mkdtemp(prefix="optviz-jobs-")}
    with gunicorn(**env) as (proc, url):
        results = {}
        threads = [_started(results, c, url) for c in ("alice", "bob")]
        deadline = time.monotonic() + 20
        while len(job_processes(proc.pid)) < 2:
            assert time.monotonic() < deadline, "the two jobs did not start"
            time.sleep(0.05)
        # a third browser: refused at once, and no third job process
        text, seconds, statuses = Explorer(url, "carol").run(**SLOW)
        assert "busy, 2 explorations are running or waiting" in text and "nothing" in text
        assert seconds < 2 and statuses == [200]
        # the same browser again: its exploration is still running
        text, _, _ = Explorer(url, "alice").run(**SLOW)
        assert "still running" in text
        assert len(job_processes(proc.pid)) == 2
        for t in threads:
            t.join(120)
        assert all("basin map" in results[c][0] for c in ("alice", "bob")), results
        # and once they are done, the next one is admitted
        text, _, _ = Explorer(url, "carol").run(kind="basin", n=32, steps=100,
                                                query="surface=himmelblau")
        assert "basin map" in text, text


def test_a_recycled_worker_does_not_wait_for_its_jobs():
    """gunicorn restarts a worker after GUNICORN_MAX_REQUESTS requests; its job processes
    must not hold it (Python's exit handler joined them: replacements booted 27 s late)."""
    env = {"WEB_CONCURRENCY": "1", "GUNICORN_MAX_REQUESTS": "15",
           "GUNICORN_MAX_REQUESTS_JITTER": "0",
           "OPTVIZ_CACHE_DIR": tempfile.mkdtemp(prefix="optviz-jobs-")}
    with gunicorn(**env) as (proc, url):
        results = {}
        t = _started(results, "dora", url)
        deadline = time.monotonic() + 20
        while not job_processes(proc.pid):
            assert time.monotonic() < deadline, "the job did not start"
            time.sleep(0.05)
        job = job_processes(proc.pid)[0]
        first = {p.pid for p in psutil.Process(proc.pid).children()}
        t0 = time.monotonic()
        for _ in range(20):                  # past max_requests: the worker is recycled
            urllib.request.urlopen(url + "/healthz", timeout=10).read()
        while {p.pid for p in psutil.Process(proc.pid).children()} & first:
            assert time.monotonic() - t0 < 3, "the old worker waited for its job"
            time.sleep(0.05)
        assert job.is_running(), "the job must outlive the worker that started it"
        t.join(120)
        assert "basin map" in results["dora"][0], results
