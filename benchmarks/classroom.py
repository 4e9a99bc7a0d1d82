"""A lecture hall against one server: ``python -m benchmarks.classroom`` (starts its own
gunicorn with gunicorn.conf.py and a fresh SQLite file; ``--db-url`` for PostgreSQL).

300 simulated students follow a class (each polls ``GET /api/classes/CODE`` twice a second
with If-None-Match, as the page does) and try the README's challenge (Rosenbrock, α and
μ, 300 steps) every ~10 s with values from a small set, each under its own name and
token, sending a try again after Retry-After when the server answers 429 or 503 (as the
page does); the instructor changes the setup every 3 s and the projector asks for the
results every 2 s, only the tries it has not seen. Three phases: the students only
follow (``--phase-seconds``), then only try (as many tries as the class would make in
that time, without polling), then the whole class for ``--seconds``. Reported:

1. follow delay: from the instructor's PUT answered to each student's first answer with
   the new version, p50 / p95; and to the new setup drawn on the pages of a few real
   students (headless Chromium, ``--browsers``), the page's own application included
                                                               (target p95 <= 1.5 s)
2. a try, from the first request to its 201 (retries included), p50 / p95
                                                               (target p95 <= 500 ms)
3. errors (any answer but 200, 201, 304 and the 429/503 retried) (target 0)
4. every acknowledged try in the results                       (target: all)
5. the server's CPU per poll (the following phase) and per try (the trying phase), each
   measured with only that kind of request in flight (in the whole class the two share
   the cores with 300 client threads, and each costs more), and the server's CPU a
   second in the whole class                                   (targets 1 ms and 5 ms)

The students run in this process's threads, on the same two cores as the server: the
latencies include the load generator's own cost; the CPU figures are the server's only.
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import socket
import statistics
import sys
import tempfile
import threading
import time
import urllib.parse

import psutil

from benchmarks.server import gunicorn, server_cpu

#: Seconds between a student's polls, as the page polls (assets/optviz_class.js POLL_MS).
POLL = 0.5


def call(port, method, path, body=None, headers=None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request(method, path, body=None if body is None else json.dumps(body),
                     headers={"Content-Type": "application/json", **(headers or {})})
        r = conn.getresponse()
        data = r.read()
        return r.status, r.headers, (json.loads(data) if data else None)
    finally:
        conn.close()


def poll(port, path, etag):
    """A follower's poll, as lean as a client can be: (status, ETag, body or None). The
    300 students run on the server's two cores; http.client's parsing of every answer's
    headers made them take a fifth of the machine (students' devices are not the
    server's), so the poll, 95 % of their requests, is written and read here by hand."""
    request = (f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n" +
               (f"If-None-Match: {etag}\r\n" if etag else "") + "\r\n").encode()
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(request)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    answer = b"".join(chunks)
    head, _, body = answer.partition(b"\r\n\r\n")
    status = int(head[9:12])
    tag = next((line[5:].strip().decode() for line in head.split(b"\r\n")
                if line[:5].lower() == b"etag:"), None)
    return status, tag, (json.loads(body) if status == 200 else None)


def percentile(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))] if values else float("nan")


class Hall:
    """The class, its students, the instructor and the projector, and what they saw."""

    def __init__(self, port, students):
        self.port, self.students = port, students
        self.lock = threading.Lock()
        self.changes = {}           # version -> when the instructor's PUT was answered
        self.seen, self.tries, self.errors, self.acked = [], [], [], []
        self.polls = 0
        self.following, self.trying = threading.Event(), threading.Event()
        self.stop = threading.Event()
        status, _, made = call(port, "POST", "/api/classes", {"state": "surface=rosenbrock"})
        self.code, self.key = made["code"], made["key"]
        status, _, ch = call(port, "POST", f"/api/classes/{self.code}/challenges",
                             {"knobs": ["lr", "mu"], "goal": {"kind": "reach",
                                                             "epsilon": 1e-3},
                              "steps": 300}, {"X-Class-Key": self.key})
        self.cid = ch["id"]

    def student(self, i, start):
        rng = random.Random(i)
        etag, version = None, 0
        next_try = None
        start.wait()
        while not self.stop.is_set():
            t0 = time.monotonic()
            if self.following.is_set():
                status, tag, data = poll(self.port, f"/api/classes/{self.code}", etag)
                now = time.monotonic()
                with self.lock:
                    self.polls += 1
                    if status == 200:
                        if data["version"] > version and data["version"] in self.changes:
                            self.seen.append(now - self.changes[data["version"]])
                    elif status != 304:
                        self.errors.append(("GET", status))
                if status == 200:
                    etag, version = tag, data["version"]
            now = time.monotonic()
            if self.trying.is_set():
                if next_try is None:
                    next_try = now + rng.uniform(0, 10)
                elif now >= next_try:
                    self.try_once(i, rng)
                    next_try = time.monotonic() + rng.uniform(8, 12)
            else:
                next_try = None
            self.stop.wait(max(0.0, POLL - (time.monotonic() - t0)))

    def try_once(self, i, rng):
        values = {"lr": rng.choice([5e-4, 1e-3, 2e-3, 4e-3]),
                  "mu": rng.choice([0.5, 0.9, 0.95, 0.99])}
        body = {"name": f"student {i}", "token": f"token-of-student-{i:04d}",
                "values": values}
        t0 = time.monotonic()
        for _ in range(10):
            status, headers, data = call(
                self.port, "POST", f"/api/classes/{self.code}/challenges/{self.cid}/"
                "submissions", body)
            if status in (429, 503):                # sent again, as the page does
                time.sleep(float(headers.get("Retry-After", 1)))
                continue
            break
        with self.lock:
            self.tries.append(time.monotonic() - t0)
            if status == 201:
                self.acked.append(data["id"])
            else:
                self.errors.append(("POST", status))

    def instructor(self, until):
        lr = 0.001
        self.put_at = {}                        # lr -> the PUT answered (epoch seconds)
        while time.monotonic() < until:
            time.sleep(3)
            lr = float(f"{lr * 1.1:.3g}")
            query = urllib.parse.urlencode({"surface": "rosenbrock", "lr": lr})
            status, _, body = call(self.port, "PUT", f"/api/classes/{self.code}/state",
                                   {"state": query}, {"X-Class-Key": self.key})
            with self.lock:
                self.changes[body["version"]] = time.monotonic()
                self.put_at[f"{lr:g}"] = time.time()

    def projector(self):
        after = 0
        while not self.stop.is_set():
            status, _, res = call(self.port, "GET", f"/api/classes/{self.code}/challenges/"
                                  f"{self.cid}/results?after={after}",
                                  headers={"X-Class-Key": self.key})
            if status == 200:
                after = res["next"]
            self.stop.wait(2)

    def stored(self):
        ids, after = set(), 0
        while True:
            status, _, res = call(self.port, "GET", f"/api/classes/{self.code}/challenges/"
                                  f"{self.cid}/results?after={after}",
                                  headers={"X-Class-Key": self.key})
            if not res["tries"]:
                return ids
            ids |= {t["id"] for t in res["tries"]}
            after = res["next"]


#: In each real student's page: when a new run is drawn, its link and the time.
RECORD_DRAWS = """() => { window.__draws = []; let last = null;
  setInterval(() => { const m = window.__optvizDrawn;
    if (m && m !== last) { last = m;
      window.__draws.push([Date.now() / 1000, location.search]); } }, 10); }"""


def open_browsers(url, code, n):
    """``n`` real students' pages (headless Chromium) following the class: (stop, pages)."""
    from playwright.sync_api import sync_playwright

    from tests.conftest import CHROMIUM_ARGS
    play = sync_playwright().start()
    browser = play.chromium.launch(executable_path=os.environ.get("CHROMIUM",
                                                                  "/usr/bin/chromium"),
                                   args=CHROMIUM_ARGS)
    pages = []
    for _ in range(n):
        page = browser.new_context(viewport={"width": 1280, "height": 720}).new_page()
        page.goto(f"{url}/c/{code}")
        page.wait_for_selector("#graph .js-plotly-plot", timeout=120000)
        page.wait_for_function("() => window.optvizClass && window.optvizClass.data",
                               timeout=60000)
        page.evaluate(RECORD_DRAWS)
        pages.append(page)

    def stop():
        browser.close()
        play.stop()
    return stop, pages


def drawn_delays(pages, put_at) -> list[float]:
    """Seconds from each PUT answered to each page drawing that setup."""
    out = []
    for page in pages:
        for t, search in page.evaluate("window.__draws"):
            lr = urllib.parse.parse_qs(search.lstrip("?")).get("lr", [None])[0]
            if lr in put_at and t >= put_at[lr]:
                out.append(t - put_at[lr])
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--students", type=int, default=300)
    ap.add_argument("--seconds", type=float, default=60, help="following and trying")
    ap.add_argument("--phase-seconds", type=float, default=20,
                    help="following only, then trying only")
    ap.add_argument("--browsers", type=int, default=3,
                    help="real students in headless Chromium, for the drawn follow delay")
    ap.add_argument("--db-url", help="a database to use (default: a fresh SQLite file)")
    ap.add_argument("--postgres", action="store_true",
                    help="a throwaway PostgreSQL server of Debian's package")
    args = ap.parse_args(argv)
    if args.postgres:
        from tests.conftest import PostgresServer
        pg = PostgresServer()
        try:
            return main([a for a in (argv or sys.argv[1:]) if a != "--postgres"] +
                        ["--db-url", pg.url])
        finally:
            pg.remove()
    db_url = args.db_url or f"sqlite:///{tempfile.mkdtemp(prefix='optviz-class-')}/c.db"
    with gunicorn(OPTVIZ_DB_URL=db_url, OPTVIZ_CLASS_STUDENTS=str(args.students + 10)) \
            as (proc, url):
        hall = Hall(int(url.rsplit(":", 1)[1]), args.students)
        start = threading.Barrier(args.students + 1)
        threads = [threading.Thread(target=hall.student, args=(i, start), daemon=True)
                   for i in range(args.students)]
        hall.following.set()
        for t in threads:
            t.start()
        start.wait()
        time.sleep(2)                                  # (everyone has polled once)

        def phase():
            cpu, polls, tries = server_cpu(proc.pid), hall.polls, len(hall.tries)
            time.sleep(args.phase_seconds)
            return (server_cpu(proc.pid) - cpu, hall.polls - polls,
                    len(hall.tries) - tries)
        cpu, polls, _ = phase()                        # 1. following only
        per_poll = cpu / max(1, polls)
        hall.following.clear()
        hall.trying.set()
        time.sleep(10)                                 # (every student's first try)
        cpu, _, tried = phase()                        # 2. trying only
        per_try = cpu / max(1, tried)
        hall.tries.clear()
        hall.following.set()                           # 3. the whole class
        projector = threading.Thread(target=hall.projector, daemon=True)
        projector.start()
        close, pages = open_browsers(url, hall.code, args.browsers) if args.browsers \
            else (lambda: None, [])
        cpu0, t0 = server_cpu(proc.pid), time.monotonic()
        hall.instructor(time.monotonic() + args.seconds)
        cpu_second = (server_cpu(proc.pid) - cpu0) / (time.monotonic() - t0)
        time.sleep(3)                                  # the last change reaches everyone
        drawn = drawn_delays(pages, hall.put_at)
        close()
        hall.stop.set()
        for t in [*threads, projector]:
            t.join(30)
        missing = set(hall.acked) - hall.stored()
    print(f"{args.students} students; following only {args.phase_seconds:.0f} s, trying "
          f"only {args.phase_seconds:.0f} s, then the whole class {args.seconds:.0f} s "
          f"({len(hall.changes)} setup changes); database {db_url.split(':')[0]}")
    print(f"follow delay, delivered: p50 {percentile(hall.seen, 0.5):.2f} s, p95 "
          f"{percentile(hall.seen, 0.95):.2f} s over {len(hall.seen)} deliveries; drawn on "
          f"{len(pages)} real students' pages: p50 {percentile(drawn, 0.5):.2f} s, p95 "
          f"{percentile(drawn, 0.95):.2f} s over {len(drawn)}  (target p95 <= 1.5 s)")
    print(f"a try: p50 {1e3 * percentile(hall.tries, 0.5):.0f} ms, p95 "
          f"{1e3 * percentile(hall.tries, 0.95):.0f} ms over {len(hall.tries)} tries "
          f"(median {1e3 * statistics.median(hall.tries or [0]):.0f} ms)  "
          "(target p95 <= 500 ms)")
    print(f"errors: {len(hall.errors)} {sorted(set(hall.errors))[:5]}  (target 0)")
    print(f"acknowledged tries in the results: {len(hall.acked) - len(missing)} of "
          f"{len(hall.acked)}  (target: all)")
    me = psutil.Process().cpu_times()
    print(f"the students' client (this process): {me.user + me.system:.1f} CPU-s in all")
    print(f"server CPU: {1e3 * per_poll:.2f} ms a poll ({polls} polls), {1e3 * per_try:.2f} "
          f"ms a try ({tried} tries)  (targets 1 ms and 5 ms); the whole class "
          f"{cpu_second:.2f} CPU-s a second")


if __name__ == "__main__":
    main()
