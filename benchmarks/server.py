"""What the benchmarks share: gunicorn started the README's way, the server's CPU and
memory, and a client for Explore's background jobs as the page drives them."""
from __future__ import annotations

import contextlib
import json
import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.request

import psutil

from tests.conftest import ROOT, free_port


@contextlib.contextmanager
def gunicorn(**env):
    """gunicorn with the repository's gunicorn.conf.py on a free loopback port; yields
    (process, url). ``env``: settings for the server (OPTVIZ_*, WEB_CONCURRENCY, ...)."""
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "gunicorn", "--config", "gunicorn.conf.py",
                             "app:server"], cwd=ROOT, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL,
                            env={**os.environ, "PORT": str(port), "HOST": "127.0.0.1",
                                 "GUNICORN_ACCESSLOG": "", **env})
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                urllib.request.urlopen(url + "/healthz", timeout=1)
                break
            except Exception:                           # noqa: BLE001 - still starting
                time.sleep(0.1)
        else:
            raise SystemExit("the server did not start")
        yield proc, url
    finally:
        proc.terminate()
        proc.wait(15)


def tree(pid: int) -> list[psutil.Process]:
    """gunicorn's master, its workers and every job process they started."""
    root = psutil.Process(pid)
    return [root, *root.children(recursive=True)]


def server_cpu(pid: int) -> float:
    """CPU seconds used so far by the server's processes: those alive, and the workers
    gunicorn has recycled and reaped (counted in its master's children's times)."""
    total = 0.0
    for p in tree(pid):
        with contextlib.suppress(psutil.NoSuchProcess):
            t = p.cpu_times()
            total += t.user + t.system
            if p.pid == pid:
                total += t.children_user + t.children_system
    return total


def pss_mb(pid: int) -> float:
    """The server's processes together, in MB of proportional set size (shared pages
    counted once, not once per process as a sum of RSS would)."""
    total = 0
    for p in tree(pid):
        with contextlib.suppress(OSError, psutil.NoSuchProcess):
            with open(f"/proc/{p.pid}/smaps_rollup") as f:
                total += next((int(line.split()[1]) for line in f
                               if line.startswith("Pss:")), 0)
    return total / 1024


def worker_peak_mb(pid: int) -> float:
    """The largest peak resident size (VmHWM) of any of the server's processes, MB."""
    peak = 0
    for p in tree(pid):
        with contextlib.suppress(OSError, psutil.NoSuchProcess):
            with open(f"/proc/{p.pid}/status") as f:
                peak = max(peak, next((int(line.split()[1]) for line in f
                                       if line.startswith("VmHWM")), 0))
    return peak / 1024


def post(url: str, body, timeout: float = 60):
    """(status, answer, seconds) of a POST of ``body`` (bytes, or JSON-able)."""
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method="POST",
                                 headers={"Content-Type": "application/json"})
    t0 = time.perf_counter()
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            status, answer = r.status, r.read()
    except urllib.error.HTTPError as e:
        status, answer = e.code, e.read()
    return status, answer, time.perf_counter() - t0


END_ID = re.compile(r'"end_id":"([^"]+)"')


class Explorer:
    """One browser's Explore panel over HTTP, as the Dash renderer drives a background
    callback: the page's end id, the first request (a job handle, or an answer at once),
    then polls with the handle until the answer comes."""

    def __init__(self, url: str, client: str):
        self.url, self.client = url, client
        html = urllib.request.urlopen(url + "/", timeout=30).read().decode()
        self.end_id = END_ID.search(html).group(1)
        from app import app
        self.output = next(k for k in app.callback_map if k.startswith("..ex-graph.figure"))
        self.spec = app.callback_map[self.output]

    def body(self, kind, n, steps, trials, query):
        values = {"ex-kind": kind, "ex-n": n, "ex-steps": steps, "ex-trials": trials,
                  "query": query, "ex-client": self.client}
        parts = self.output.strip(".").split("...")
        return {"output": self.output,
                "outputs": [dict(zip(("id", "property"), p.rsplit(".", 1))) for p in parts],
                "inputs": [{"id": "ex-run", "property": "n_clicks", "value": 1}],
                "state": [{"id": d["id"], "property": d["property"], "value": values[d["id"]]}
                          for d in self.spec["state"]],
                "changedPropIds": ["ex-run.n_clicks"]}

    def run(self, kind="basin", n=64, steps=500, trials=200, query="", limit=120.0):
        """(message, seconds, HTTP statuses seen): the job's message under the panel (or
        the refusal, answered at once)."""
        body = self.body(kind, n, steps, trials, query)
        base = f"{self.url}/_dash-update-component?endId={self.end_id}"
        t0 = time.perf_counter()
        status, answer, _ = post(base, body)
        statuses = [status]
        handle = None
        while status == 200 and time.perf_counter() - t0 < limit:
            data = json.loads(answer)
            if "response" in data:
                # (the panel's status comes as an output, or as a side update: a lost job)
                said = data["response"].get("ex-status") or \
                    data.get("sideUpdate", {}).get("ex-status") or {}
                return said.get("children", ""), time.perf_counter() - t0, statuses
            handle = handle or f"&cacheKey={data['cacheKey']}&job={data['job']}"
            time.sleep(0.5)                    # the panel's polling interval
            status, answer, _ = post(base + handle, body)
            statuses.append(status)
        what = "no answer" if status == 200 else f"HTTP {status}"
        return what, time.perf_counter() - t0, statuses
