"""A class at once: ``python -m benchmarks.load`` (starts gunicorn the README's way).

N simulated students (default 50) on 127.0.0.1, each moving the page's sliders in a
realistic rhythm (a move every 0.2-0.6 s: learning rate, momentum, noise, steps, seed,
sometimes the surface), each move being the exact callback request the page sends, for
30 s. Prints requests/s, p50/p95/p99 latency and errors.
Targets on a 2-core machine: >= 100 callback requests/s, p95 <= 300 ms, zero errors.

``--saturate`` instead sizes a server: for the default scene and for the all-optimizers
scenario in turn, 4 clients send α moves back to back (each as soon as its answer is
back, as a dragged slider does), and it prints the moves answered per second and the
server's CPU per move, hence the moves per second one server core answers: what a class
of N students dragging at once needs is N x (their moves a second) / that.

``--explorers M`` adds M more students pressing Explore's "run" over and over (a basin
map, a sweep or random search of random size, on a random surface; again 1-3 s after
each answer, "busy" included), as the page drives a background job, and samples the
server's memory (PSS of all its processes, job processes included). Targets with 50 +
50 for a minute: slider p95 <= 300 ms, no 5xx, the processes together <= 4 GB.
"""
from __future__ import annotations

import argparse
import collections
import gzip
import http.client
import json
import multiprocessing
import os
import random
import re
import resource
import statistics
import threading
import time

import brotli
from backports import zstd

from benchmarks.server import Explorer, gunicorn, pss_mb, server_cpu
from optviz.web.layout import SUGGESTED_LR
from tests.test_web import _main_callback_request

SURFACES = list(SUGGESTED_LR)
# what Chromium sends on HTTPS and on localhost (a student's browser; checked with the
# tests' Chromium), and how to read each answer
ACCEPT_ENCODING = "gzip, deflate, br, zstd"
DECODE = {"gzip": gzip.decompress, "zstd": zstd.decompress, "br": brotli.decompress}
ENCODINGS: collections.Counter = collections.Counter()      # answers per Content-Encoding
FIG_KEY = re.compile(rb'"fig-key":\s*\{"data":\s*(\[[^\]]*\[[^\]]*\]\])')


def student(port: int, seconds: float, seed: int, results: list, errors: list):
    rng = random.Random(seed)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    state = {"lr": -1.5, "beta1": 0.9, "noise": 0.0, "steps": 300, "seed": 0,
             "surface": "ill_conditioned"}
    key = None                 # the page sends back the figure key it was given
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        time.sleep(rng.uniform(0.2, 0.6))
        move = rng.random()
        if move < 0.5:                                  # the learning-rate slider
            state["lr"] = round(min(1, max(-5, state["lr"] + rng.choice([-0.1, 0.1]))), 2)
        elif move < 0.65:
            state["beta1"] = rng.choice([0.0, 0.5, 0.8, 0.9, 0.95, 0.99])
        elif move < 0.8:
            state["noise"] = rng.choice([0.0, 0.5, 1.0, 2.0])
        elif move < 0.9:
            state["steps"] = rng.choice([100, 300, 500, 1000])
        elif move < 0.97:
            state["seed"] = rng.randrange(1000)
        else:
            state["surface"] = rng.choice(SURFACES)
        body = _main_callback_request(state["lr"], steps=state["steps"],
                                      state={"fig-key": key})
        values = {"beta1": state["beta1"], "noise": state["noise"], "seed": state["seed"],
                  "surface": state["surface"]}
        for item in body["inputs"] + body["state"]:
            if isinstance(item, dict) and item["id"] in values:
                item["value"] = values[item["id"]]
        data = json.dumps(body)
        t0 = time.perf_counter()
        conn, r, payload = _post(conn, port, data)
        ok = payload is not None
        if ok:
            ENCODINGS[r.getheader("Content-Encoding")] += 1
            if r.getheader("Content-Encoding") in DECODE:
                payload = DECODE[r.getheader("Content-Encoding")](payload)
            found = FIG_KEY.search(payload)
            if found:                  # cheaper than parsing 70 KB of JSON per answer
                key = json.loads(found.group(1))
        (results if ok else errors).append((time.perf_counter() - t0, getattr(r, "status", r)))
    conn.close()


def _post(conn, port: int, data: str, timeout: float = 10):
    """POST a callback request: (the connection, now or anew, the response or the
    error, the body read, None unless answered 200)."""
    try:
        conn.request("POST", "/_dash-update-component", body=data,
                     headers={"Content-Type": "application/json",
                              "Accept-Encoding": ACCEPT_ENCODING})
        r = conn.getresponse()
        payload = r.read()
        return conn, r, payload if r.status == 200 else None
    except Exception as e:                              # noqa: BLE001 - counted and shown
        conn.close()
        return http.client.HTTPConnection("127.0.0.1", port, timeout=timeout), e, None


def dragger(port: int, seconds: float, seed: int, rows, surface: str, steps: int,
            lr0: float, results: list, errors: list):
    """Back-to-back α moves around ``lr0`` (log10; a dragged slider: the next as soon as
    the answer is back)."""
    rng = random.Random(seed)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    lr, end = lr0, time.monotonic() + seconds
    while time.monotonic() < end:
        lr = round(min(lr0 + 0.5, max(lr0 - 0.5, lr + rng.choice([-0.01, 0.01]))), 2)
        body = _main_callback_request(lr, steps=steps, rows=rows)
        for item in body["inputs"]:
            if item["id"] == "surface":
                item["value"] = surface
        t0 = time.perf_counter()
        conn, r, payload = _post(conn, port, json.dumps(body), timeout=30)
        (results if payload is not None else errors).append(
            (time.perf_counter() - t0, getattr(r, "status", r)))
    conn.close()


def saturate(seconds: float, clients: int = 4):
    """Moves a second at saturation and the server's CPU per move, per scene: the page's
    default, and the all-optimizers scenario as its link sets the page (each row's own
    rate kept, the α knob moving the rows at its rate)."""
    from optviz.web.links import controls_from_query
    every = controls_from_query("scenario=all-optimizers")[0]
    default = [{"uid": u, "on": True} for u in
               ("gd", "momentum", "nesterov", "adagrad", "rmsprop", "adam")]
    scenes = [("default scene (6 rows x 300 steps)", default, "ill_conditioned", 300, -1.5),
              (f"all-optimizers scenario ({len(every['rows'])} rows x {every['steps']} "
               f"steps, {every['surface']})", every["rows"], every["surface"],
               every["steps"], every["lr_log10"])]
    with gunicorn() as (server, url):
        os.nice(5)
        port = int(url.rsplit(":", 1)[1])
        for name, rows, surface, steps, lr in scenes:
            results, errors = [], []
            threads = [threading.Thread(target=dragger, args=(
                port, seconds, i, rows, surface, steps, lr, results, errors))
                for i in range(clients)]
            cpu0, t0 = server_cpu(server.pid), time.perf_counter()
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            elapsed, cpu = time.perf_counter() - t0, server_cpu(server.pid) - cpu0
            n = len(results)
            lat = sorted(1000 * r[0] for r in results)
            print(f"{name}: {n / elapsed:.1f} moves/s answered by {clients} back-to-back "
                  f"clients ({os.cpu_count()} cores shared with them); server CPU "
                  f"{1e3 * cpu / max(1, n):.1f} ms a move, so {n / max(cpu, 1e-9):.0f} moves "
                  f"a second per server core; latency p50 {statistics.median(lat):.0f} ms; "
                  f"errors {len(errors)}")


def _explorers(url, seconds, count, queue):
    """``count`` explorers (threads of this process) for ``seconds``; their answers and
    HTTP statuses are put on ``queue``."""
    os.nice(5)                 # (see main: the load generator yields to the server)
    answers, statuses = collections.Counter(), collections.Counter()
    threads = [threading.Thread(target=explorer, args=(url, seconds, i, answers, statuses))
               for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    queue.put((answers, statuses))


def explorer(url: str, seconds: float, seed: int, answers: collections.Counter,
             statuses: collections.Counter):
    """A student pressing Explore's "run" again and again until ``seconds`` are up."""
    rng = random.Random(1000 + seed)
    end = time.monotonic() + seconds
    time.sleep(rng.uniform(0, 2))
    client = Explorer(url, f"explorer-{seed}")
    while time.monotonic() < end:
        kind = rng.choice(["basin", "basin", "lr", "grid", "random"])
        text, _, seen = client.run(kind, rng.choice([32, 64, 128, 256]),
                                   rng.choice([100, 300, 500, 1000]),
                                   query=f"surface={rng.choice(SURFACES)}",
                                   limit=max(1.0, end - time.monotonic() + 60))
        statuses.update(seen)
        answers[text.split(";")[0][:34]] += 1
        time.sleep(rng.uniform(1, 3))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--students", type=int, default=50)
    ap.add_argument("--seconds", type=float, default=30)
    ap.add_argument("--explorers", type=int, default=0)
    ap.add_argument("--saturate", action="store_true",
                    help="moves per second per server core, default and all-optimizers")
    args = ap.parse_args(argv)
    if args.saturate:
        saturate(min(args.seconds, 20))
        return
    answers, statuses, pss = collections.Counter(), collections.Counter(), []
    # the README's way: gunicorn with the repository's gunicorn.conf.py
    with gunicorn() as (server, url):
        # the load generator stands in for a class's own machines: on the server's 2
        # cores it yields to the server (niceness 5), so that what is measured is the
        # server, not the client's own threads queueing for the CPU
        os.nice(5)
        port = int(url.rsplit(":", 1)[1])
        results, errors = [], []
        threads = [threading.Thread(target=student, args=(port, args.seconds, i, results,
                                                          errors))
                   for i in range(args.students)]
        # the explorers in a process of their own: a class's browsers do not share one
        # interpreter lock with the students whose latency is measured
        queue = multiprocessing.get_context("fork").Queue()
        explorers = multiprocessing.get_context("fork").Process(
            target=_explorers, args=(url, args.seconds, args.explorers, queue))
        done = threading.Event()

        def watch():
            while not done.is_set():
                pss.append(pss_mb(server.pid))
                time.sleep(1)
        watcher = threading.Thread(target=watch)
        t0 = time.perf_counter()
        client0 = resource.getrusage(resource.RUSAGE_SELF)
        server0 = server_cpu(server.pid)
        watcher.start()
        if args.explorers:
            explorers.start()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.perf_counter() - t0
        client1 = resource.getrusage(resource.RUSAGE_SELF)
        serving = server_cpu(server.pid) - server0
        if args.explorers:
            got_answers, got_statuses = queue.get(timeout=300)
            answers.update(got_answers)
            statuses.update(got_statuses)
            explorers.join()
        done.set()
        watcher.join()
    workers = resource.getrusage(resource.RUSAGE_CHILDREN)     # gunicorn and its workers
    if len(results) < 2:
        raise SystemExit(f"no answers: {len(errors)} errors, e.g. {errors[:3]}")
    lat = sorted(1000 * r[0] for r in results)
    q = statistics.quantiles(lat, n=100)
    print(f"{args.students} students, {args.seconds:.0f} s, gunicorn "
          f"(gunicorn.conf.py defaults): {len(results) / elapsed:.0f} callback requests/s "
          f"(target >= 100)")
    cpu = lambda r: r.ru_utime + r.ru_stime
    n = max(1, len(results) + len(errors))
    print(f"CPU per request: server {1e3 * serving / n:.1f} ms while serving "
          f"({1e3 * cpu(workers) / n:.1f} with its start-up), load client "
          f"{1e3 * (cpu(client1) - cpu(client0)) / n:.1f} ms; both on the same "
          f"{os.cpu_count()} cores")
    print("answers by Content-Encoding: " + ", ".join(f"{k} {v}" for k, v in
                                                      ENCODINGS.most_common()))
    print(f"latency p50 {q[49]:.0f} ms, p95 {q[94]:.0f} ms (target <= 300), p99 {q[98]:.0f} ms;"
          f" errors {len(errors)} (target 0)" + (f": {errors[:3]}" if errors else ""))
    print(f"server memory (PSS of all its processes, sampled every second): max "
          f"{max(pss):.0f} MB, median {statistics.median(pss):.0f} MB (target <= 4096)")
    if args.explorers:
        print(f"{args.explorers} explorers: answers {dict(answers.most_common())}; HTTP "
              f"statuses {dict(statuses)} (target: no 5xx)")


if __name__ == "__main__":
    main()
