"""A hostile class, replayed: ``python -m benchmarks.abuse`` (gunicorn the README's way).

Each attack that once stalled or broke the server, sent as the page (or a script) sends
it, one at a time, with what it cost: HTTP status, seconds, answer size, the server's CPU
seconds for it, and the largest peak memory (VmHWM) of any server process so far. Then
the costliest setup the page accepts on every surface (24 rows, the inspector and the
gradient check on, noise, minibatch 1 on the data surfaces, as many steps as its budget
allows), and a class pressing Explore's "run" at once while a student moves a slider.
Then class mode's attacks: the class picture's map asked again and again, the costliest
challenge the server accepts with a class trying it at once, bots filling the seats,
guessing codes, creating classes, eight tries at once under one name.
Targets: no 5xx; a refusal within 0.2 s; a page request at most ~1 s of CPU; a download
of the largest run within a few seconds and ~300 MB; the processes together <= 4 GB
(PSS); the slider's p95 <= 300 ms while the class explores; no class request past a
second, and the page's GET / within a second while a class attacks.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import tempfile
import threading
import time

from benchmarks.server import Explorer, gunicorn, post, pss_mb, server_cpu, worker_peak_mb
from optviz import OPTIMIZERS, SURFACES
from tests.test_cost import SIN_PRODUCT, continued_fraction
from tests.test_hostile import envelope_with
from tests.test_web import _page_rows_store

ALL = list(OPTIMIZERS)
ROWS24 = [{"uid": u, "on": True} for u in ALL] + \
    [{"uid": f"{u}~2", "on": True} for u in ALL[:24 - len(ALL)]]
CONTINUED_FRACTION = continued_fraction()
AT_MOST = re.compile(r"at most (\d+) steps")


def page(surface="ill_conditioned", rows=None, steps=300, **values):
    """A main-callback request of the page on ``surface`` with ``rows`` on."""
    rows = rows or [{"uid": u, "on": True} for u in ("gd", "momentum", "adam")]
    return envelope_with({"surface": surface, "steps": steps,
                          "rows-store": _page_rows_store(rows), **values})


def download(kind: str, query: str) -> dict:
    """The request of the page's download button ``kind`` (its file, and the note under the
    plot that says why a download was refused)."""
    from app import app
    output = next(k for k in app.callback_map if k.startswith("..download.data..."))
    ids = [d["id"] for d in app.callback_map[output]["inputs"]]
    outputs = [dict(zip(("id", "property"), part.rsplit(".", 1)))
               for part in output.strip(".").split("...")]
    return {"output": output, "outputs": outputs,
            "inputs": [{"id": i, "property": "n_clicks", "value": 1 if i == kind else None}
                       for i in ids],
            "state": [{"id": "query", "property": "data", "value": query}],
            "changedPropIds": [f"{kind}.n_clicks"]}


def query(surface, rows, steps, **more) -> str:
    from optviz.web.controls import default_controls
    from optviz.web.links import query_from_controls
    c = {**default_controls(surface), "rows": rows, "steps": steps, "changes": [],
         "start": None, **more}
    return query_from_controls(c)


class Report:
    def __init__(self, proc, url):
        self.proc, self.url = proc, url
        self.rows = []

    def send(self, what, body, path="/_dash-update-component"):
        cpu0 = server_cpu(self.proc.pid)
        status, answer, seconds = post(self.url + path, body)
        cpu = server_cpu(self.proc.pid) - cpu0
        note = ""
        if status == 200 and answer[:1] == b"{":
            data = json.loads(answer)
            run = data.get("response", {}).get("run", {}).get("data") or {}
            errors = run.get("errors") or {}
            note = "; ".join(errors.values())[:110]
        self.line(what, status, seconds, len(answer), cpu, note)
        return status, answer, note

    def line(self, what, status, seconds, size, cpu, note=""):
        peak = worker_peak_mb(self.proc.pid)
        self.rows.append((status, seconds, cpu))
        print(f"{what:58s} {status:>4} {seconds:7.2f} s {size / 1e6:7.2f} MB "
              f"{cpu:6.2f} CPU-s {peak:6.0f} MB  {note}")


def attacks(r: Report):
    print(f"{'attack':58s} {'HTTP':>4} {'time':>9} {'answer':>10} {'server':>10} "
          f"{'peak':>9}  message")
    gd_newton = [{"uid": "gd", "on": True}, {"uid": "newton", "on": True}]
    for steps in (300, 5000):
        r.send(f"formula: continued fraction, GD + Newton, {steps} steps",
               page("formula", gd_newton, steps, formula=CONTINUED_FRACTION))
        r.send(f"formula: sin(x+y) x 22, Newton, {steps} steps",
               page("formula", [{"uid": "newton", "on": True}], steps, formula=SIN_PRODUCT))
    heavy = dict(noise=5.0, batch=1, inspect=["on"], check=["on"])
    _, _, note = r.send("sigmoid net, 24 rows x 5000, minibatch 1, noise, inspector",
                        page("data_sigmoid_net", ROWS24, 5000, **heavy))
    fits = int(AT_MOST.search(note).group(1)) if AT_MOST.search(note) else 5000
    r.send(f"  ... at the {fits} steps it suggests",
           page("data_sigmoid_net", ROWS24, fits, **heavy))
    q = query("rosenbrock", ROWS24, 5000)
    for kind in ("dl-html", "dl-csv", "dl-json"):
        r.send(f"download {kind[3:].upper()}: Rosenbrock, 24 rows x 5000 steps",
               download(kind, q))
    r.send("JSON nested 100,000 deep", b"[" * 100_000 + b"]" * 100_000)
    body = {**download("dl-csv", ""), "outputs": {"id": "graph", "property": "figure"}}
    r.send("callback outputs that are not the callback's", body)
    t0 = time.perf_counter()
    import urllib.error
    import urllib.request
    try:
        urllib.request.urlopen(r.url + "/_dash-component-suites/dash/../../../../etc/passwd")
        status = 200
    except urllib.error.HTTPError as e:
        status = e.code
    r.line("GET /_dash-component-suites/dash/../../../../etc/passwd", status,
           time.perf_counter() - t0, 0, 0.0)


def costliest_per_surface(r: Report):
    print("\nthe costliest setup the page accepts, per surface (24 rows, inspector, "
          "gradient check, noise; minibatch 1 on data surfaces)")
    cpus = []
    for name, s in SURFACES.items():
        extra = dict(noise=1.0, inspect=["on"], check=["on"])
        if s.dataset is not None:
            extra["batch"] = 1
        _, _, note = r.send(f"  {name}: 5000 steps", page(name, ROWS24, 5000, **extra))
        m = AT_MOST.search(note)
        if m:
            _, _, note = r.send(f"  {name}: {m.group(1)} steps (what fits)",
                                page(name, ROWS24, int(m.group(1)), **extra))
        cpus.append(r.rows[-1][2])
    print(f"largest server CPU of an accepted page request: {max(cpus):.2f} s "
          f"(target ~1 s)")


def explore(r: Report, clients: int):
    print("\nExplore")
    for what, kind, n, steps, surface in (
            ("basin map 64 x 64 x 1000, sigmoid net", "basin", 64, 1000, "data_sigmoid_net"),
            ("basin map 256 x 256 x 1000, sigmoid net", "basin", 256, 1000,
             "data_sigmoid_net"),
            ("basin map 256 x 256 x 500, Himmelblau", "basin", 256, 500, "himmelblau")):
        text, seconds, statuses = Explorer(r.url, f"solo-{n}").run(
            kind, n, steps, query=f"surface={surface}", limit=90)
        r.line(what, max(statuses), seconds, 0, 0.0, text[:110])
    # a class presses "run" at once, while one student moves a slider
    results, lat, stop = [], [], threading.Event()

    def student(i):
        results.append(Explorer(r.url, f"student-{i}").run(
            "basin", 128, 1000, query="surface=himmelblau", limit=120))

    def slider():
        k = 0
        while not stop.is_set():
            status, _, seconds = post(r.url + "/_dash-update-component",
                                      page(steps=300, lr=-1.5 + (k % 20) / 100))
            lat.append((status, seconds))
            k += 1
            time.sleep(0.3)
    pss = []

    def watch():
        while not stop.is_set():
            pss.append(pss_mb(r.proc.pid))
            time.sleep(0.5)
    watcher = threading.Thread(target=watch)
    s = threading.Thread(target=slider)
    s.start()
    watcher.start()
    t0 = time.perf_counter()
    threads = [threading.Thread(target=student, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    stop.set()
    s.join()
    watcher.join()
    busy = [x for x in results if "busy" in x[0]]
    done = [x for x in results if x[0].startswith("basin map")]
    statuses = {st for x in results for st in x[2]} | {st for st, _ in lat}
    q = statistics.quantiles([1000 * x for _, x in lat], n=20)
    print(f"{clients} students press run at once: {len(done)} maps, {len(busy)} answered "
          f"'busy' (longest {max((x[1] for x in busy), default=0):.2f} s), others "
          f"{[x[0][:40] for x in results if x not in busy and x not in done][:3]}; "
          f"{time.perf_counter() - t0:.1f} s in all")
    print(f"  a slider meanwhile: {len(lat)} moves, p50 {q[9]:.0f} ms, p95 {q[18]:.0f} ms "
          f"(target <= 300); HTTP statuses seen {sorted(statuses)}; server PSS max "
          f"{max(pss):.0f} MB (target <= 4096)")


def lost_cache(r: Report, cache: str):
    shutil.rmtree(cache)
    text, seconds, statuses = Explorer(r.url, "after-rm").run(
        "basin", 32, 100, query="surface=himmelblau")
    r.line("the job cache directory removed, then a basin map", max(statuses), seconds, 0,
           0.0, text[:110])


def api(url, method, path, body=None, key=None, headers=None):
    """(status, JSON answer or None, seconds) of a class-mode request."""
    import urllib.error
    import urllib.request
    req = urllib.request.Request(url + path, method=method, data=None if body is None else
                                 json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json",
                                          **({"X-Class-Key": key} if key else {}),
                                          **(headers or {})})
    t0 = time.perf_counter()
    try:
        with urllib.request.urlopen(req, timeout=60) as answer:
            status, data = answer.status, answer.read()
    except urllib.error.HTTPError as e:
        status, data = e.code, e.read()
    try:
        data = json.loads(data) if data else None
    except ValueError:
        data = None
    return status, data, time.perf_counter() - t0


def _at_once(n, fn):
    """fn(i) for i < n, in n threads started together; their results."""
    out, barrier = [None] * n, threading.Barrier(n)

    def one(i):
        barrier.wait()
        out[i] = fn(i)
    threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return out


def _page_meanwhile(url, stop, seconds):
    """GET / every 0.2 s until ``stop``: its times go into ``seconds``."""
    import urllib.request
    while not stop.is_set():
        t0 = time.perf_counter()
        urllib.request.urlopen(url + "/", timeout=60).read()
        seconds.append(time.perf_counter() - t0)
        stop.wait(0.2)


def _costliest_challenge(url, state):
    """A class on ``state`` with the costliest α-μ challenge it accepts: (class, id,
    steps)."""
    _, made, _ = api(url, "POST", "/api/classes", {"state": state})
    body = {"knobs": ["lr", "mu"], "goal": {"kind": "lowest"}, "steps": 5000}
    status, said, _ = api(url, "POST", f"/api/classes/{made['code']}/challenges", body,
                          made["key"])
    steps = 5000
    while status == 400 and AT_MOST.search(said["error"]):
        steps = int(AT_MOST.search(said["error"]).group(1))
        status, said, _ = api(url, "POST", f"/api/classes/{made['code']}/challenges",
                              {**body, "steps": steps}, made["key"])
    return made, said["id"], steps


def classes(r: Report):
    url = r.url
    print("\nclass mode")
    # the class picture's map, asked 60 times at once and every 0.2 s until it is there
    made, cid, steps = _costliest_challenge(url, "surface=data_sigmoid_net&b=1")
    path = f"/api/classes/{made['code']}/challenges/{cid}/map"
    cpu0, t0, page_times, stop = server_cpu(r.proc.pid), time.perf_counter(), [], \
        threading.Event()
    watcher = threading.Thread(target=_page_meanwhile, args=(url, stop, page_times))
    watcher.start()
    flood = _at_once(60, lambda i: api(url, "GET", path, key=made["key"]))
    while api(url, "GET", path, key=made["key"])[0] == 202:
        time.sleep(0.2)
    stop.set()
    watcher.join()
    r.line(f"map of the costliest challenge ({steps} steps) asked 60 times at once",
           max(x[0] for x in flood), max(x[2] for x in flood), 0,
           server_cpu(r.proc.pid) - cpu0,
           f"computed once in {time.perf_counter() - t0:.1f} s; GET / meanwhile max "
           f"{max(page_times):.2f} s")
    # the costliest challenge, tried by 12 students at once, again and again for 15 s
    made, cid, steps = _costliest_challenge(url, "surface=data_sigmoid_net&b=1")
    path = f"/api/classes/{made['code']}/challenges/{cid}/submissions"
    page_times, stop, tries = [], threading.Event(), []
    watcher = threading.Thread(target=_page_meanwhile, args=(url, stop, page_times))
    watcher.start()
    cpu0, end = server_cpu(r.proc.pid), time.monotonic() + 15

    def student(i):
        k = 0
        while time.monotonic() < end:
            k += 1
            t0 = time.perf_counter()
            for _ in range(20):                   # sent again after Retry-After
                status, _, _ = api(url, "POST", path, {
                    "name": f"s{i}", "token": f"token-of-student-{i:04d}",
                    "values": {"lr": 1e-3 * (1 + (i * 37 + k) % 97), "mu": 0.9}})
                if status not in (429, 503):
                    break
                time.sleep(1)
            tries.append((status, time.perf_counter() - t0))
    _at_once(12, student)
    stop.set()
    watcher.join()
    ok = sorted(t for s_, t in tries if s_ == 201)
    r.line(f"costliest challenge ({steps} steps), 12 students trying at once for 15 s",
           max(s_ for s_, _ in tries), max(t for _, t in tries), 0,
           server_cpu(r.proc.pid) - cpu0,
           f"{len(ok)} tries scored, p50 {ok[len(ok) // 2]:.2f} s; GET / meanwhile p95 "
           f"{statistics.quantiles(page_times, n=20)[18]:.2f} s")
    # bots fill the seats; the instructor removes ten; ten real students get in
    made, cid, _ = _costliest_challenge(url, "surface=bowl")
    path = f"/api/classes/{made['code']}/challenges/{cid}/submissions"
    cpu0, t0 = server_cpu(r.proc.pid), time.perf_counter()
    bots = [api(url, "POST", path, {"name": f"bot{i}", "values": {"lr": 0.01}})[0]
            for i in range(510)]
    r.line("510 bot names from one client", max(bots), time.perf_counter() - t0, 0,
           server_cpu(r.proc.pid) - cpu0,
           f"{bots.count(201)} seated, {bots.count(409)} 'class is full'")
    seated = api(url, "GET", f"/api/classes/{made['code']}/students", key=made["key"])[1]
    for s_ in seated["students"][:10]:
        api(url, "DELETE", f"/api/classes/{made['code']}/students/{s_['id']}",
            key=made["key"])
    real = [api(url, "POST", path, {"name": f"real {i}", "values": {"lr": 0.01}})[0]
            for i in range(10)]
    r.line("  ... the instructor removes ten; ten real students try", max(real), 0, 0, 0.0,
           f"{real.count(201)} seated")
    # eight tries at once under one name (a class of its own)
    _, other, _ = api(url, "POST", f"/api/classes/{made['code']}/challenges", {
        "knobs": ["lr"], "goal": {"kind": "lowest"}, "steps": 50}, made["key"])
    api(url, "DELETE", f"/api/classes/{made['code']}/students/"
        f"{seated['students'][10]['id']}", key=made["key"])
    path = f"/api/classes/{made['code']}/challenges/{other['id']}/submissions"
    same = _at_once(8, lambda i: api(url, "POST", path, {
        "name": "same name", "token": "t" * 20, "values": {"lr": 0.01 * (i + 1)}})[0])
    r.line("eight tries at once under one name", max(same), 0, 0, 0.0,
           f"{same.count(201)} taken, {same.count(429)} x 429 (one a second)")
    # guessing codes, from one address; the class it knows still answers
    cpu0, t0 = server_cpu(r.proc.pid), time.perf_counter()
    guesses = [api(url, "GET", f"/api/classes/ZZZ{i:03d}".replace("0", "A")
                   .replace("1", "B"))[0] for i in range(100)]
    r.line("100 unknown codes from one address", max(guesses), time.perf_counter() - t0, 0,
           server_cpu(r.proc.pid) - cpu0,
           f"{guesses.count(404)} x 404, then {guesses.count(429)} x 429; its own class "
           f"{api(url, 'GET', '/api/classes/' + made['code'])[0]}")
    # creating classes
    t0 = time.perf_counter()
    made_ = [api(url, "POST", "/api/classes", {})[0] for _ in range(30)]
    r.line("30 more classes created by the address that made these", max(made_),
           time.perf_counter() - t0, 0, 0.0,
           f"{made_.count(201)} made, {made_.count(429)} x 429 (10 an hour an address)")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clients", type=int, default=40)
    args = ap.parse_args(argv)
    cache = tempfile.mkdtemp(prefix="optviz-abuse-")
    with gunicorn(OPTVIZ_CACHE_DIR=cache, OPTVIZ_DB_URL=f"sqlite:///{cache}/classes.db") \
            as (proc, url):
        r = Report(proc, url)
        attacks(r)
        costliest_per_surface(r)
        explore(r, args.clients)
        lost_cache(r, cache)
        classes(r)
        fives = [x for x in r.rows if x[0] >= 500]
        print(f"\n{len(r.rows)} requests above, {len(fives)} answered 5xx (target 0); "
              f"{os.cpu_count()} cores")


if __name__ == "__main__":
    main()
