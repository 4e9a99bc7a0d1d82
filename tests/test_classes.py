"""Class mode's API on a real SQLite file and a real PostgreSQL server: a class's life,
its limits, hostile requests, migrations, and no acknowledged submission lost to a
restart or to a worker killed mid-stream (a real gunicorn)."""
import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

import pytest

from .conftest import ROOT, free_port


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path):
    from optviz.web.classroom import store
    for opened in store._STORES.values():       # each test opens (and migrates) afresh
        opened.engine.dispose()
    store._STORES.clear()
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/classes.db"
    url = request.getfixturevalue("postgres_url")
    import sqlalchemy as sa
    engine = sa.create_engine(url)               # a clean database for each test
    with engine.begin() as conn:
        for table in ("submissions", "challenges", "classes", "schema_version"):
            conn.execute(sa.text(f"DROP TABLE IF EXISTS {table} CASCADE"))
    engine.dispose()
    return url


@pytest.fixture
def client(db_url, monkeypatch):
    monkeypatch.setenv("OPTVIZ_DB_URL", db_url)
    from optviz.web import create_app
    from optviz.web.classroom import api
    api._misses.clear()
    api._followed.clear()
    return create_app().server.test_client()


def new_class(client, state=""):
    r = client.post("/api/classes", json={"state": state})
    assert r.status_code == 201
    return r.get_json()


def challenge(client, made, **body):
    body = {"knobs": ["lr", "mu"], "goal": {"kind": "reach", "epsilon": 1e-3},
            "steps": 300, **body}
    r = client.post(f"/api/classes/{made['code']}/challenges", json=body,
                    headers={"X-Class-Key": made["key"]})
    assert r.status_code == 201, r.get_json()
    return r.get_json()["id"]


def submit(client, code, cid, name, **values):
    return client.post(f"/api/classes/{code}/challenges/{cid}/submissions",
                       json={"name": name, "values": values})


def test_a_class_from_start_to_results(client):
    made = new_class(client, "surface=rosenbrock")
    code, key = made["code"], made["key"]
    assert len(code) == 6 and set(code) <= set("ABCDEFGHJKMNPQRSTUVWXYZ23456789")
    assert made["url"].endswith("/c/" + code) and len(key) >= 32   # >= 128 random bits
    follow = client.get(f"/api/classes/{code}")
    assert follow.get_json() == {"version": 1, "state": "surface=rosenbrock",
                                 "challenge": None}
    etag = follow.headers["ETag"]
    assert client.get(f"/api/classes/{code}", headers={"If-None-Match": etag}).status_code \
        == 304
    assert client.get(f"/api/classes/{code.lower()}").status_code == 200
    # the instructor moves on: followers see a new version, and the key is never shown
    r = client.put(f"/api/classes/{code}/state", json={"state": "surface=rosenbrock&mu=0.95"},
                   headers={"X-Class-Key": key})
    assert r.get_json() == {"version": 2}
    again = client.get(f"/api/classes/{code}", headers={"If-None-Match": etag})
    assert again.status_code == 200 and "mu=0.95" in again.get_json()["state"]
    assert key not in again.get_data(as_text=True)
    cid = challenge(client, made)
    shown = client.get(f"/api/classes/{code}").get_json()["challenge"]
    assert shown["knobs"] == ["lr", "mu"] and shown["open"] and shown["steps"] == 300
    # the server computes every result from the class's setup and the values
    good = submit(client, code, cid, "Ada", lr=0.002, mu=0.95)
    assert good.status_code == 201
    result = good.get_json()["result"]
    assert result["diverged_at"] is None and 0 < result["reached_at"] <= 300
    assert result["loss"] < 1e-3
    slow = submit(client, code, cid, "Bob", lr=0.0005, mu=0.5).get_json()["result"]
    assert slow["reached_at"] is None and slow["loss"] > result["loss"]
    wild = submit(client, code, cid, "Cy", lr=0.09, mu=0.99).get_json()["result"]
    assert wild["diverged_at"] is not None and wild["loss"] is None
    from optviz.web.classroom.classes import score
    assert score.cache_info().hits >= 0          # (computed once per identical try)
    res = client.get(f"/api/classes/{code}/challenges/{cid}/results",
                     headers={"X-Class-Key": key}).get_json()
    assert [s["name"] for s in res["submissions"]] == ["Ada", "Bob", "Cy"]   # ranked
    assert res["students"] == 3 and res["show_names"] is False
    csv = client.get(f"/api/classes/{code}/challenges/{cid}/results?format=csv",
                     headers={"X-Class-Key": key})
    lines = csv.get_data(as_text=True).splitlines()
    assert csv.mimetype == "text/csv" and lines[0].startswith("rank,id,name,lr,mu,loss")
    assert lines[1].startswith("1,") and ",Ada,0.002,0.95," in lines[1] and len(lines) == 4
    # remove a submission, reveal names, close the challenge
    bob = next(s["id"] for s in res["submissions"] if s["name"] == "Bob")
    assert client.delete(f"/api/classes/{code}/challenges/{cid}/submissions/{bob}",
                         headers={"X-Class-Key": key}).status_code == 200
    assert client.put(f"/api/classes/{code}/names", json={"show_names": True},
                      headers={"X-Class-Key": key}).get_json() == {"show_names": True}
    res = client.get(f"/api/classes/{code}/challenges/{cid}/results",
                     headers={"X-Class-Key": key}).get_json()
    assert [s["name"] for s in res["submissions"]] == ["Ada", "Cy"] and res["show_names"]
    assert client.post(f"/api/classes/{code}/challenges/{cid}/close",
                       headers={"X-Class-Key": key}).status_code == 200
    late = submit(client, code, cid, "Dee", lr=0.002, mu=0.9)
    assert late.status_code == 409 and "closed" in late.get_json()["error"]


def test_the_class_picture_map_is_the_challenge_over_every_alpha_and_beta(client):
    import math
    made = new_class(client, "surface=rosenbrock")
    cid = challenge(client, made)
    url = f"/api/classes/{made['code']}/challenges/{cid}/map"
    assert client.get(url).status_code == 403
    m = client.get(url, headers={"X-Class-Key": made["key"]}).get_json()["map"]
    assert len(m["lr"]) == len(m["mu"]) == 32 and len(m["z"]) == 32 and len(m["z"][0]) == 32
    assert m["lr"][0] == pytest.approx(1e-5) and m["mu"][-1] == pytest.approx(0.999)
    finite = [v for row in m["z"] for v in row if v is not None]
    assert finite and all(math.isfinite(v) for v in finite)
    assert len(finite) < 32 * 32                  # large steps diverge: blank cells
    other = challenge(client, made, knobs=["sigma"], goal={"kind": "lowest"})
    assert client.get(f"/api/classes/{made['code']}/challenges/{other}/map",
                      headers={"X-Class-Key": made["key"]}).get_json() == {"map": None}


def test_a_lowest_loss_challenge_ranks_by_the_final_loss_of_its_row(client):
    made = new_class(client, "surface=bowl&rows=gd,adam")
    cid = challenge(client, made, knobs=["adam:lr"], goal={"kind": "lowest", "row": "adam"},
                    steps=50)
    code = made["code"]
    losses = {n: submit(client, code, cid, n, **{"adam:lr": lr}).get_json()["result"]["loss"]
              for n, lr in (("a", 0.001), ("b", 0.3), ("c", 0.03))}
    res = client.get(f"/api/classes/{code}/challenges/{cid}/results",
                     headers={"X-Class-Key": made["key"]}).get_json()
    assert [s["name"] for s in res["submissions"]] == sorted(losses, key=losses.get)


@pytest.mark.parametrize("body, status, field, says", [
    ({"name": "x" * 25, "values": {"lr": 0.01}}, 400, "name", "1 to 24"),
    ({"name": "", "values": {"lr": 0.01}}, 400, "name", "1 to 24"),
    ({"name": "a\u0000b", "values": {"lr": 0.01}}, 400, "name", "printable"),
    ({"name": ["a"], "values": {"lr": 0.01}}, 400, "name", "1 to 24"),
    ({"name": "ok", "values": {"lr": "0.01"}}, 400, "values", "finite number"),
    ({"name": "ok", "values": {"lr": True}}, 400, "values", "finite number"),
    ({"name": "ok", "values": {"lr": 1e308 * 10}}, 400, "values", "finite number"),
    ({"name": "ok", "values": {"lr": 50}}, 400, "values", "[1e-05, 10]"),
    ({"name": "ok", "values": {"lr": -1}}, 400, "values", "[1e-05, 10]"),
    ({"name": "ok", "values": {"mu": 1.5}}, 400, "values", "[0, 0.999]"),
    ({"name": "ok", "values": {"b2": 0.5}}, 400, "values", "lr, mu"),
    ({"name": "ok", "values": {}}, 400, "values", "lr, mu"),
    ({"name": "ok", "values": [0.1]}, 400, "values", "lr, mu"),
    ("not an object", 400, None, "JSON object"),
])
def test_hostile_submissions_are_refused_with_what_to_change(client, body, status, field,
                                                             says):
    made = new_class(client)
    cid = challenge(client, made)
    r = client.post(f"/api/classes/{made['code']}/challenges/{cid}/submissions", json=body)
    assert r.status_code == status
    assert says in r.get_json()["error"] and r.get_json().get("field") == field


def test_keys_codes_and_floods(client, monkeypatch):
    made = new_class(client)
    code, key = made["code"], made["key"]
    url = f"/api/classes/{code}/state"
    for headers in ({}, {"X-Class-Key": "wrong"}, {"X-Class-Key": key[:-1]},
                    {"X-Class-Key": "x" * 10_000}):
        r = client.put(url, json={"state": "lr=0.1"}, headers=headers)
        assert r.status_code == 403 and "X-Class-Key" in r.get_json()["error"]
    cid = challenge(client, made)
    assert client.get(f"/api/classes/{code}/challenges/{cid}/results").status_code == 403
    assert client.post(f"/api/classes/{code}/challenges", json={"knobs": ["lr"]}).status_code \
        == 403
    # bad challenge and state bodies say what is allowed
    for body, says in (({"knobs": ["lr"], "goal": {"kind": "reach", "epsilon": 1e-3},
                         "steps": 0}, "steps"),
                       ({"knobs": ["eval"], "goal": {"kind": "lowest"}, "steps": 10}, "knobs"),
                       ({"knobs": ["lr"], "goal": {"kind": "win"}, "steps": 10}, "goal")):
        r = client.post(f"/api/classes/{code}/challenges", json=body,
                        headers={"X-Class-Key": key})
        assert r.status_code == 400 and r.get_json()["field"] == says
    r = client.put(url, json={"state": "steps=-5"}, headers={"X-Class-Key": key})
    assert r.status_code == 400 and r.get_json()["field"] == "state"
    assert client.put(url, data="{" * 100_000, content_type="application/json",
                      headers={"X-Class-Key": key}).status_code in (400, 413)
    # a student floods: one a second is taken, the rest 429 with Retry-After
    answers = [submit(client, code, cid, "flood", lr=0.01).status_code for _ in range(5)]
    assert answers[0] == 201 and set(answers[1:]) == {429}
    # a full class takes no new student, but its students keep submitting
    monkeypatch.setenv("OPTVIZ_CLASS_STUDENTS", "2")
    assert submit(client, code, cid, "second", lr=0.01).status_code == 201
    full = submit(client, code, cid, "third", lr=0.01)
    assert full.status_code == 409 and "full (2 students)" in full.get_json()["error"]
    time.sleep(1.05)
    assert submit(client, code, cid, "flood", lr=0.02).status_code == 201
    # guessing codes: unknown ones are 404, and past 30 a minute, 429
    statuses = [client.get(f"/api/classes/{c}").status_code
                for c in ("ZZZZZZ", "abc", "AB%00CD", "AAAAA1") * 10]
    assert set(statuses[:30]) == {404} and set(statuses[30:]) == {429}
    assert client.get(f"/api/classes/{code}").status_code == 429   # (that client, a minute)


def test_an_idle_class_closes_and_is_deleted_later(client, monkeypatch):
    from optviz.web.classroom import classes
    from optviz.web.classroom.store import open_store
    made = new_class(client)
    store = open_store()
    now = time.time()
    monkeypatch.setattr(store, "now", lambda: now + 25 * 3600)     # a day and an hour on
    assert client.get(f"/api/classes/{made['code']}").status_code == 404
    monkeypatch.setattr(store, "now", lambda: now + 9 * 86400)     # past the keep time
    classes.create_class(store)                                    # (purges on the way)
    import sqlalchemy as sa
    with store.engine.connect() as conn:
        codes = [r[0] for r in conn.execute(sa.text("SELECT code FROM classes"))]
    assert made["code"] not in codes and len(codes) == 1


def test_migrations_bring_an_empty_database_up_once(db_url):
    import sqlalchemy as sa

    from optviz.web.classroom.store import MIGRATIONS, Store
    store = Store(db_url)
    assert store.version() == 0
    assert store.migrate() == len(MIGRATIONS) == store.version()
    assert store.migrate() == len(MIGRATIONS)                      # idempotent
    names = set(sa.inspect(store.engine).get_table_names())
    assert {"classes", "challenges", "submissions", "schema_version"} <= names
    store.engine.dispose()


# -- a real gunicorn: restarts and killed workers ---------------------------------------------

def _gunicorn(db_url, workers=2):
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "app:server", "-w", str(workers), "--threads", "4",
         "-b", f"127.0.0.1:{port}", "--timeout", "60"], cwd=ROOT,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        env={**os.environ, "OPTVIZ_DB_URL": db_url, "OPTVIZ_CLASS_STUDENTS": "100000"})
    url = f"http://127.0.0.1:{port}"
    for _ in range(600):
        try:
            urllib.request.urlopen(url + "/healthz", timeout=2)
            return proc, url
        except Exception:
            time.sleep(0.1)
    proc.kill()
    pytest.fail("gunicorn did not start")


def _call(url, method="GET", body=None, key=None):
    req = urllib.request.Request(url, method=method,
                                 data=None if body is None else json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json",
                                          **({"X-Class-Key": key} if key else {})})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, None


def _workers(master: int) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(master)], capture_output=True, text=True)
    return [int(p) for p in out.stdout.split()]


def test_no_acknowledged_submission_is_lost_to_a_killed_worker_or_a_restart(db_url):
    proc, url = _gunicorn(db_url)
    try:
        status, made = _call(url + "/api/classes", "POST", {"state": "surface=bowl"})
        assert status == 201
        code, key = made["code"], made["key"]
        status, ch = _call(f"{url}/api/classes/{code}/challenges", "POST",
                           {"knobs": ["lr"], "goal": {"kind": "lowest"}, "steps": 100}, key)
        cid = ch["id"]
        acked, stop = [], threading.Event()

        def stream(t):
            i = 0
            while not stop.is_set():
                i += 1
                try:
                    status, body = _call(
                        f"{url}/api/classes/{code}/challenges/{cid}/submissions", "POST",
                        {"name": f"s{t}-{i}", "values": {"lr": 0.001 * (1 + i % 50)}})
                except Exception:               # the connection the kill cut: not acked
                    continue
                if status == 201:
                    acked.append(body["id"])
        threads = [threading.Thread(target=stream, args=(t,)) for t in range(4)]
        for t in threads:
            t.start()
        time.sleep(1.5)
        killed = _workers(proc.pid)
        for pid in killed:                      # every worker, mid-stream
            os.kill(pid, signal.SIGKILL)
        time.sleep(2.5)                         # gunicorn starts new ones; the stream goes on
        stop.set()
        for t in threads:
            t.join()
        assert len(acked) > 20 and set(_workers(proc.pid)).isdisjoint(killed)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)
    proc, url = _gunicorn(db_url)               # a restarted server
    try:
        status, res = _call(f"{url}/api/classes/{code}/challenges/{cid}/results", key=key)
        assert status == 200
        assert set(acked) <= {s["id"] for s in res["submissions"]}
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)
