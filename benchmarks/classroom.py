"""A lecture hall against one server: ``python -m benchmarks.classroom`` (starts its own
gunicorn with gunicorn.conf.py and a fresh SQLite file; ``--db-url`` for PostgreSQL).

300 simulated students follow a class (each polls ``GET /api/classes/CODE`` once a second
with If-None-Match, as the page does) and submit to its challenge every ~10 s with values
from a small set (a class tries the same few settings: identical runs are computed once
per worker), while the instructor changes the setup every 3 s. Reported:

1. follow delay: from the instructor's PUT answered to each student's first answer with
   the new version, p50 / p95                                  (target p95 <= 2 s)
2. submit latency, p50 / p95                                   (target p95 <= 500 ms)
3. errors (any answer but 200, 201 and 304)                     (target 0)
4. every acknowledged submission in the results                 (target: all)

The students run in this process's threads, on the same two cores as the server: the
figures include the load generator's own cost.
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

from tests.conftest import ROOT, free_port


def serve(db_url: str):
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--config", "gunicorn.conf.py", "app:server"],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        env={**os.environ, "PORT": str(port), "HOST": "127.0.0.1", "OPTVIZ_DB_URL": db_url,
             "GUNICORN_ACCESSLOG": "/dev/null"})
    for _ in range(600):
        try:
            call(port, "GET", "/healthz")
            return proc, port
        except OSError:
            time.sleep(0.1)
    raise SystemExit("the server did not start")


def call(port, method, path, body=None, headers=None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request(method, path, body=None if body is None else json.dumps(body),
                     headers={"Content-Type": "application/json", **(headers or {})})
        r = conn.getresponse()
        data = r.read()
        return r.status, r.getheader("ETag"), (json.loads(data) if data else None)
    finally:
        conn.close()


def percentile(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))] if values else float("nan")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--students", type=int, default=300)
    ap.add_argument("--seconds", type=float, default=30)
    ap.add_argument("--db-url", help="a database to use (default: a fresh SQLite file)")
    args = ap.parse_args(argv)
    db_url = args.db_url or f"sqlite:///{tempfile.mkdtemp(prefix='optviz-class-')}/c.db"
    proc, port = serve(db_url)
    lock = threading.Lock()
    changes = {}                 # version -> when the instructor's PUT was answered
    seen, submits, errors, acked = [], [], [], []
    try:
        status, _, made = call(port, "POST", "/api/classes", {"state": "surface=rosenbrock"})
        code, key = made["code"], made["key"]
        teacher = {"X-Class-Key": key}
        status, _, ch = call(port, "POST", f"/api/classes/{code}/challenges",
                             {"knobs": ["lr", "mu"], "goal": {"kind": "reach", "epsilon": 1e-3},
                              "steps": 300}, teacher)
        cid = ch["id"]
        stop = threading.Event()
        start = threading.Barrier(args.students + 1)

        def student(i):
            rng = random.Random(i)
            etag, version, next_submit = None, 0, time.monotonic() + rng.uniform(1, 10)
            start.wait()
            while not stop.is_set():
                t0 = time.monotonic()
                status, tag, data = call(port, "GET", f"/api/classes/{code}",
                                         headers={"If-None-Match": etag} if etag else {})
                now = time.monotonic()
                if status == 200:
                    etag = tag
                    with lock:
                        if data["version"] > version and data["version"] in changes:
                            seen.append(now - changes[data["version"]])
                    version = data["version"]
                elif status != 304:
                    errors.append(("GET", status))
                if now >= next_submit:
                    values = {"lr": rng.choice([5e-4, 1e-3, 2e-3, 4e-3]),
                              "mu": rng.choice([0.5, 0.9, 0.95, 0.99])}
                    s0 = time.monotonic()
                    status, _, body = call(
                        port, "POST", f"/api/classes/{code}/challenges/{cid}/submissions",
                        {"name": f"student {i}", "values": values})
                    with lock:
                        submits.append(time.monotonic() - s0)
                        if status == 201:
                            acked.append(body["id"])
                        else:
                            errors.append(("POST", status))
                    next_submit = time.monotonic() + rng.uniform(8, 12)
                stop.wait(max(0.0, 1.0 - (time.monotonic() - t0)))

        threads = [threading.Thread(target=student, args=(i,), daemon=True)
                   for i in range(args.students)]
        for t in threads:
            t.start()
        start.wait()
        t_end = time.monotonic() + args.seconds
        lr = 0.001
        while time.monotonic() < t_end:
            time.sleep(3)
            lr = round(lr * 1.1, 6)
            query = urllib.parse.urlencode({"surface": "rosenbrock", "lr": lr})
            status, _, body = call(port, "PUT", f"/api/classes/{code}/state",
                                   {"state": query}, teacher)
            with lock:
                changes[body["version"]] = time.monotonic()
        time.sleep(2)                             # the last change reaches everyone
        stop.set()
        for t in threads:
            t.join()
        status, _, res = call(port, "GET", f"/api/classes/{code}/challenges/{cid}/results",
                              headers=teacher)
        stored = {s["id"] for s in res["submissions"]}
        missing = set(acked) - stored
        print(f"{args.students} students, {args.seconds:.0f} s, {len(changes)} setup changes, "
              f"database {db_url.split(':')[0]}")
        print(f"follow delay: p50 {percentile(seen, 0.5):.2f} s, p95 {percentile(seen, 0.95):.2f}"
              f" s over {len(seen)} deliveries  (target p95 <= 2 s)")
        print(f"submit: p50 {1e3 * percentile(submits, 0.5):.0f} ms, p95 "
              f"{1e3 * percentile(submits, 0.95):.0f} ms over {len(submits)}  "
              f"(target p95 <= 500 ms)")
        print(f"errors: {len(errors)} {sorted(set(errors))[:5]}  (target 0)")
        print(f"acknowledged submissions in the results: {len(acked) - len(missing)} of "
              f"{len(acked)}  (target: all); median submit {statistics.median(submits):.3f} s")
    finally:
        proc.terminate()
        proc.wait(20)


if __name__ == "__main__":
    main()
