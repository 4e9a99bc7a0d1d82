"""Class mode's API on a real SQLite file and a real PostgreSQL server: a class's life,
its limits, hostile requests, migrations, and no acknowledged submission lost to a
restart or to a worker killed mid-stream (a real gunicorn)."""
import json
import os
import signal
import subprocess
import threading
import time

import numpy as np
import pytest

from .conftest import api_call, class_server


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
        for table in ("bests", "maps", "submissions", "students", "challenges", "classes",
                      "misses", "health", "schema_version"):
            conn.execute(sa.text(f"DROP TABLE IF EXISTS {table} CASCADE"))
    engine.dispose()
    return url


@pytest.fixture
def client(db_url, monkeypatch):
    monkeypatch.setenv("OPTVIZ_DB_URL", db_url)
    from optviz.web import create_app
    from optviz.web.classroom import api
    api._followed.clear()
    return create_app().server.test_client()


def new_class(client, state=""):
    r = client.post("/api/classes", json={"state": state})
    assert r.status_code == 201, r.get_json()
    return r.get_json()


def challenge(client, made, **body):
    body = {"knobs": ["lr", "mu"], "goal": {"kind": "reach", "epsilon": 1e-3},
            "steps": 300, **body}
    r = client.post(f"/api/classes/{made['code']}/challenges", json=body,
                    headers={"X-Class-Key": made["key"]})
    assert r.status_code == 201, r.get_json()
    return r.get_json()["id"]


def token_of(name):
    """A browser's token for each name (the page keeps a random one)."""
    import hashlib
    return "t" + hashlib.sha256(name.encode()).hexdigest()[:31]


def submit(client, code, cid, name, token=None, **values):
    return client.post(f"/api/classes/{code}/challenges/{cid}/submissions",
                       json={"name": name, "values": values,
                             "token": token or token_of(name)})


def results(client, made, cid, after=0):
    r = client.get(f"/api/classes/{made['code']}/challenges/{cid}/results?after={after}",
                   headers={"X-Class-Key": made["key"]})
    assert r.status_code == 200, r.get_json()
    return r.get_json()


def test_a_class_from_start_to_results(client):
    made = new_class(client, "surface=rosenbrock")
    code, key = made["code"], made["key"]
    assert len(code) == 6 and set(code) <= set("ABCDEFGHJKMNPQRSTUVWXYZ23456789")
    assert made["url"].endswith("/c/" + code) and len(key) >= 32   # >= 128 random bits
    follow = client.get(f"/api/classes/{code}")
    data = follow.get_json()
    assert {k: data[k] for k in ("version", "state", "challenge", "playback", "url")} == \
        {"version": 1, "state": "surface=rosenbrock", "challenge": None, "playback": None,
         "url": made["url"]}
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
    assert shown["symbols"] == {"lr": "α", "mu": "μ"}          # the slides' symbols
    assert shown["goal"]["row"] == "momentum"                   # μ moves Momentum, not GD
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
    res = results(client, made, cid)
    assert [s["name"] for s in res["board"]] == ["Ada", "Bob", "Cy"]   # ranked
    assert [s["student"] for s in res["board"]] == [1, 2, 3]        # numbered per class
    assert res["students"] == res["tried"] == 3 and res["show_names"] is False
    assert [s["name"] for s in res["tries"]] == ["Ada", "Bob", "Cy"]   # in order
    # the projector asks only for what it has not seen
    assert results(client, made, cid, after=res["next"])["tries"] == []
    csv_text = client.get(f"/api/classes/{code}/challenges/{cid}/results?format=csv",
                          headers={"X-Class-Key": key})
    assert csv_text.mimetype == "text/csv"
    text = csv_text.get_data().decode("utf-8")
    assert text.startswith("\ufeff")                            # Excel reads UTF-8 names
    lines = text[1:].splitlines()
    assert lines[0].startswith('"rank","id","student","name","lr","mu","loss"')
    assert lines[1].startswith('1,') and ',"Ada",0.002,0.95,' in lines[1] and len(lines) == 4
    # remove a submission, reveal names, close the challenge
    bob = next(s["id"] for s in res["board"] if s["name"] == "Bob")
    assert client.delete(f"/api/classes/{code}/challenges/{cid}/submissions/{bob}",
                         headers={"X-Class-Key": key}).status_code == 200
    assert client.put(f"/api/classes/{code}/names", json={"show_names": True},
                      headers={"X-Class-Key": key}).get_json() == {"show_names": True}
    res = results(client, made, cid)
    assert [s["name"] for s in res["board"]] == ["Ada", "Cy"] and res["show_names"]
    assert client.post(f"/api/classes/{code}/challenges/{cid}/close",
                       headers={"X-Class-Key": key}).status_code == 200
    late = submit(client, code, cid, "Dee", lr=0.002, mu=0.9)
    assert late.status_code == 409 and "closed" in late.get_json()["error"]


def _map(client, made, cid, seconds=60):
    """The challenge's map, asked again while it is computed (202)."""
    url = f"/api/classes/{made['code']}/challenges/{cid}/map"
    deadline = time.monotonic() + seconds
    while True:
        r = client.get(url, headers={"X-Class-Key": made["key"]})
        if r.status_code != 202:
            return r
        assert r.get_json() == {"status": "computing", "map": None}
        assert time.monotonic() < deadline, "the map was never computed"
        time.sleep(0.2)


def test_the_class_picture_map_is_computed_once_off_the_request_and_kept(client):
    import math

    import sqlalchemy as sa

    from optviz.engine import simulate
    from optviz.web.classroom import rules
    from optviz.web.classroom.schema import maps
    from optviz.web.classroom.store import open_store
    made = new_class(client, "surface=rosenbrock")
    cid = challenge(client, made)
    url = f"/api/classes/{made['code']}/challenges/{cid}/map"
    assert client.get(url).status_code == 403
    t0 = time.monotonic()
    first = client.get(url, headers={"X-Class-Key": made["key"]})
    assert first.status_code == 202 and time.monotonic() - t0 < 1   # off the request
    m = _map(client, made, cid).get_json()["map"]
    assert m["knobs"] == ["lr", "mu"]
    assert len(m["x"]) == len(m["y"]) == 32 and len(m["z"]) == 32 and len(m["z"][0]) == 32
    assert m["x"][0] == pytest.approx(1e-5) and m["y"][-1] == pytest.approx(0.999)
    finite = [v for row in m["z"] for v in row if v is not None]
    assert finite and all(math.isfinite(v) for v in finite)
    assert len(finite) < 32 * 32                  # large steps diverge: blank cells
    # a cell is the challenge's own row at those values (its schedule, noise, start...)
    store = open_store()
    with store.read() as conn:
        row = conn.execute(sa.text("SELECT * FROM challenges WHERE id = :i"),
                           {"i": cid}).mappings().first()
        kept = conn.execute(sa.select(maps.c.status, maps.c.attempts)
                            .where(maps.c.challenge_id == cid)).first()
    assert tuple(kept) == ("done", 1)             # kept in the database, for every worker
    posed = rules.challenge_from(row["setup"], row["scene"], row["row_index"], row["knobs"],
                                 row["knob_map"], row["goal"], row["price"])
    cells = [(i, j) for j in range(32) for i in range(32) if m["z"][j][i] is not None]
    for i, j in cells[::97]:
        run = simulate(rules._scored_scene(posed, {"lr": m["x"][i], "mu": m["y"][j]}))
        want = run.loss[rules.scored_index(posed), 0, -1]
        assert m["z"][j][i] == pytest.approx(math.log10(max(want, 1e-16)), abs=2e-3)
    other = challenge(client, made, knobs=["sigma"], goal={"kind": "lowest"})
    assert client.get(f"/api/classes/{made['code']}/challenges/{other}/map",
                      headers={"X-Class-Key": made["key"]}).get_json() == \
        {"status": "none", "map": None}


def test_a_map_whose_process_died_is_claimed_once_more_then_said_to_have_failed(client):
    import sqlalchemy as sa

    from optviz.web.classroom.schema import maps
    from optviz.web.classroom.store import open_store
    made = new_class(client, "surface=bowl")
    cid = challenge(client, made, steps=50)
    store = open_store()
    with store.write() as conn:               # a claim whose process was killed long ago
        conn.execute(maps.insert().values(challenge_id=cid, status="running", attempts=1,
                                          lease_until=store.now() - 1))
    assert _map(client, made, cid).get_json()["status"] == "done"     # claimed again
    with store.read() as conn:
        assert conn.execute(sa.select(maps.c.attempts)).scalar() == 2
    cid2 = challenge(client, made, steps=60)
    with store.write() as conn:               # killed twice: not started a third time
        conn.execute(maps.insert().values(challenge_id=cid2, status="running", attempts=2,
                                          lease_until=store.now() - 1))
    r = client.get(f"/api/classes/{made['code']}/challenges/{cid2}/map",
                   headers={"X-Class-Key": made["key"]})
    assert r.status_code == 200 and r.get_json()["status"] == "failed"
    assert "stopped twice" in r.get_json()["error"]


def test_a_lowest_loss_challenge_ranks_by_the_final_loss_of_its_row(client):
    made = new_class(client, "surface=bowl&rows=gd,adam")
    cid = challenge(client, made, knobs=["adam:lr"], goal={"kind": "lowest", "row": "adam"},
                    steps=50)
    code = made["code"]
    losses = {n: submit(client, code, cid, n, **{"adam:lr": lr}).get_json()["result"]["loss"]
              for n, lr in (("a", 0.001), ("b", 0.3), ("c", 0.03))}
    res = results(client, made, cid)
    assert [s["name"] for s in res["board"]] == sorted(losses, key=losses.get)


@pytest.mark.parametrize("body, status, field, says", [
    ({"name": "x" * 25, "values": {"lr": 0.01}}, 400, "name", "1 to 24"),
    ({"name": "", "values": {"lr": 0.01}}, 400, "name", "1 to 24"),
    ({"name": "a\u0000b", "values": {"lr": 0.01}}, 400, "name", "visible characters"),
    ({"name": "\u3164", "values": {"lr": 0.01}}, 400, "name", "HANGUL"),
    ({"name": "a\u200bb", "values": {"lr": 0.01}}, 400, "name", "ZERO WIDTH SPACE"),
    ({"name": "Zalgo\u0300\u0301\u0302\u0303", "values": {"lr": 0.01}}, 400, "name",
     "at most 2 accents"),
    ({"name": "ok", "values": {"lr": 10 ** 400}}, 400, "values", "finite number"),
    ({"name": "ok", "values": {"lr": 0.01}, "token": "short"}, 400, "token", "16 to 100"),
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
    # guessing codes: unknown ones are 404, and past 30 a minute, 429 ... (counted per
    # minute of the clock: the guesses must not straddle a minute's end)
    if time.time() % 60 > 45:
        time.sleep(60.5 - time.time() % 60)
    statuses = [client.get(f"/api/classes/{c}").status_code
                for c in ("ZZZZZZ", "abc", "AB%00CD", "AAAAA2") * 10]
    assert set(statuses[:30]) == {404} and set(statuses[30:]) == {429}
    # ... but a class that exists is never refused to that client (a lecture hall
    # behind one address keeps following whatever one student there guesses)
    assert client.get(f"/api/classes/{code}").status_code == 200
    assert submit(client, code, cid, "second", lr=0.03).status_code == 201


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
    return class_server(db_url, workers=workers, threads=4)


def _call(url, method="GET", body=None, key=None):
    return api_call(url, method, body, key)[:2]


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
        stored, after = set(), 0
        while True:                             # every try, a page at a time
            status, res = _call(f"{url}/api/classes/{code}/challenges/{cid}/results"
                                f"?after={after}", key=key)
            assert status == 200
            if not res["tries"]:
                break
            stored |= {s["id"] for s in res["tries"]}
            after = res["next"]
        assert set(acked) <= stored
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)


# -- every try priced, in the engine's terms ----------------------------------------------

def test_a_challenge_no_try_could_be_scored_on_is_refused_with_what_to_reduce(client):
    import re
    made = new_class(client, "surface=data_sigmoid_net&b=1")
    r = client.post(f"/api/classes/{made['code']}/challenges", headers={"X-Class-Key":
                    made["key"]}, json={"knobs": ["lr", "mu"], "goal": {"kind": "lowest"},
                                        "steps": 5000})
    assert r.status_code == 400 and r.get_json()["field"] == "steps"
    said = r.get_json()["error"]
    assert "scoring one try would take about" in said and "a larger minibatch" in said
    fits = int(re.search(r"at most (\d+) steps", said).group(1))
    assert 10 < fits < 5000
    # what it says fits is accepted, and every try of it is scored, the costliest too
    cid = challenge(client, made, goal={"kind": "lowest"}, steps=fits)
    for name, lr, mu in (("a", 1e-5, 0.0), ("b", 10.0, 0.999), ("c", 0.3, 0.9)):
        r = submit(client, made["code"], cid, name, lr=lr, mu=mu)
        assert r.status_code == 201, r.get_json()


def test_a_challenge_whose_map_would_cost_too_much_is_refused(client, monkeypatch):
    from optviz.web.classroom import maps
    monkeypatch.setattr(maps, "MAP_BUDGET", 0.05)
    made = new_class(client, "surface=rosenbrock")
    r = client.post(f"/api/classes/{made['code']}/challenges", headers={"X-Class-Key":
                    made["key"]}, json={"knobs": ["lr", "mu"], "goal": {"kind": "lowest"},
                                        "steps": 2000})
    assert r.status_code == 400
    assert "the class picture's map (16 x 16 runs) would take" in r.get_json()["error"]
    # a coarser map where the finest does not fit
    assert client.post(f"/api/classes/{made['code']}/challenges", headers={"X-Class-Key":
                       made["key"]}, json={"knobs": ["lr", "mu"], "goal": {"kind": "lowest"},
                                           "steps": 1000}).get_json()["map_side"] in (16, 24)


def test_a_value_scores_the_same_however_it_is_written_and_as_the_engine_runs_it(client):
    from optviz import OptimizerSpec, Scene, simulate
    made = new_class(client, "surface=rosenbrock")
    code = made["code"]
    glob = challenge(client, made, knobs=["lr"], goal={"kind": "lowest", "row": "momentum"},
                     steps=200)
    a = submit(client, code, glob, "a", lr=0.001249).get_json()["result"]
    c = submit(client, code, glob, "c", lr=0.00125).get_json()["result"]
    own = challenge(client, made, knobs=["momentum:lr"], goal={"kind": "lowest"}, steps=200)
    b = submit(client, code, own, "b", **{"momentum:lr": 0.001249}).get_json()["result"]
    assert a == b                               # (0.001249, not the slider's 0.00125)
    run = simulate(Scene("rosenbrock", [OptimizerSpec("sgd", lr=0.001249, momentum=0.9)],
                         starts=[(-1.5, 2.0)], steps=200))
    assert a["loss"] == run.loss[0, 0, -1] and c["loss"] != a["loss"]


@pytest.mark.parametrize("name", sorted(__import__("optviz").OPTIMIZERS))
def test_the_scored_row_alone_is_that_row_of_the_whole_setup(name):
    """Scoring runs only the scored row (and the rows that draw random numbers): its path
    is the one the whole setup gives, noise and minibatches included (to round-off: the
    fused update of a group of rows adds in another order)."""
    from optviz import OPTIMIZERS, OptimizerSpec, Scene, simulate
    from optviz.web.classroom import rules
    others = ["gd", "momentum", "adam", "random_search", "random_search"]
    specs = [OptimizerSpec(n) for n in others[:2]] + [OptimizerSpec(name)] + \
        [OptimizerSpec(n) for n in others[2:]]
    lr = {"lr": 0.05} if OPTIMIZERS[name].hyper["lr"].high >= 0.05 else {}
    scene = Scene("data_logistic", [OptimizerSpec(s.name, **lr) for s in specs],
                  steps=40, noise=0.3, batch_size=8, seed=3)
    posed = rules.Challenge("", scene, 2, ("lr",), {"lr": {"param": "lr", "symbol": "α",
                            "low": 1e-5, "high": 10.0, "log": True}},
                            {"kind": "lowest"}, 0.0)
    alone = simulate(rules._scored_scene(posed, {}))
    whole = simulate(scene)
    i = rules.scored_index(posed)
    assert len(alone.scene.optimizers) < len(scene.optimizers)
    np.testing.assert_allclose(alone.path[i], whole.path[2], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(alone.loss[i], whole.loss[2], rtol=1e-12, atol=1e-12)
    assert (alone.diverged_at[i] == whole.diverged_at[2]).all()


# -- names and seats ----------------------------------------------------------------------

def test_a_name_belongs_to_the_browser_that_claimed_it_and_to_nobody_like_it(client):
    made = new_class(client)
    code, cid = made["code"], challenge(client, made)
    first = submit(client, code, cid, "Ada", token="a" * 20, lr=0.01)
    assert first.status_code == 201 and first.get_json()["token"] == "a" * 20
    time.sleep(1.05)
    assert submit(client, code, cid, "Ada", token="a" * 20, lr=0.02).status_code == 201
    for name, says in (("Ada", "'Ada' is taken"), ("ada", "looks like 'Ada'"),
                       ("\u0410da", "looks like 'Ada'"), ("ＡＤＡ", "'ADA' looks like"),
                       ("  Ada ", "'Ada' is taken")):
        r = submit(client, code, cid, name, token="b" * 20, lr=0.01)
        assert r.status_code == 409 and says in r.get_json()["error"], (name, r.get_json())
        assert r.get_json()["field"] == "name"
    # a script that sends no token is given one, and keeps its name with it
    r = submit(client, code, cid, "Script", token=None, lr=0.01)
    r = client.post(f"/api/classes/{code}/challenges/{cid}/submissions",
                    json={"name": "Script 2", "values": {"lr": 0.01}})
    given = r.get_json()["token"]
    assert r.status_code == 201 and len(given) >= 16
    time.sleep(1.05)
    assert client.post(f"/api/classes/{code}/challenges/{cid}/submissions", json={
        "name": "Script 2", "values": {"lr": 0.02}}).status_code == 409
    assert submit(client, code, cid, "Script 2", token=given, lr=0.02).status_code == 201


def test_seats_are_freed_by_removing_a_name_and_a_blocked_name_stays_out(client, monkeypatch):
    monkeypatch.setenv("OPTVIZ_CLASS_STUDENTS", "3")
    made = new_class(client)
    code, key, cid = made["code"], made["key"], challenge(client, made)
    for bot in ("bot1", "bot2", "bot3"):
        assert submit(client, code, cid, bot, lr=0.01).status_code == 201
    full = submit(client, code, cid, "Real", lr=0.01)
    assert full.status_code == 409 and "full (3 students)" in full.get_json()["error"]
    listed = client.get(f"/api/classes/{code}/students", headers={"X-Class-Key": key})
    assert client.get(f"/api/classes/{code}/students").status_code == 403
    seated = {s["name"]: s for s in listed.get_json()["students"]}
    assert [s["number"] for s in seated.values()] == [1, 2, 3]
    assert all(s["tries"] == 1 and not s["blocked"] for s in seated.values())
    # removing a name frees its seat and its tries leave the board
    r = client.delete(f"/api/classes/{code}/students/{seated['bot1']['id']}",
                      headers={"X-Class-Key": key})
    assert r.status_code == 200
    assert submit(client, code, cid, "Real", lr=0.01).status_code == 201
    assert "bot1" not in [s["name"] for s in results(client, made, cid)["board"]]
    # blocking one frees its seat too, and neither it nor a name like it comes back
    r = client.put(f"/api/classes/{code}/students/{seated['bot2']['id']}",
                   json={"blocked": True}, headers={"X-Class-Key": key})
    assert r.get_json() == {"id": seated["bot2"]["id"], "blocked": True}
    time.sleep(1.05)
    again = submit(client, code, cid, "bot2", lr=0.01)
    assert again.status_code == 403 and "blocked" in again.get_json()["error"]
    assert submit(client, code, cid, "BOT2", token="z" * 20, lr=0.01).status_code in (403, 409)
    assert submit(client, code, cid, "Second real", lr=0.01).status_code == 201
    board = [s["name"] for s in results(client, made, cid)["board"]]
    assert sorted(board) == ["Real", "Second real", "bot3"]
    for bad in ("/students/999999", "/students/" + str(2**63)):
        assert client.delete(f"/api/classes/{code}{bad}",
                             headers={"X-Class-Key": key}).status_code == 404


def test_a_new_name_is_held_to_one_try_a_second_from_its_first(client):
    made = new_class(client)
    code, cid = made["code"], challenge(client, made)
    assert submit(client, code, cid, "new", lr=0.01).status_code == 201
    fast = submit(client, code, cid, "new", lr=0.02)
    assert fast.status_code == 429 and fast.headers["Retry-After"] == "1"


@pytest.mark.parametrize("path", ["/challenges/{big}/submissions", "/challenges/{big}/map",
                                  "/challenges/{big}/results", "/challenges/{big}/close",
                                  "/challenges/1/submissions/{big}"])
@pytest.mark.parametrize("big", [2**31, 2**63, 10**40])
def test_ids_no_table_can_hold_are_unknown_not_errors(client, path, big):
    made = new_class(client)
    challenge(client, made)
    url = f"/api/classes/{made['code']}" + path.format(big=big)
    method = "GET" if path.endswith(("map", "results")) else \
        "DELETE" if "submissions/" in path else "POST"
    r = client.open(url, method=method, headers={"X-Class-Key": made["key"]},
                    json={"name": "a", "values": {"lr": 0.01}})
    assert r.status_code == 404 and "no such" in r.get_json()["error"]


def test_huge_numbers_anywhere_are_refused_with_the_field(client):
    made = new_class(client)
    key = {"X-Class-Key": made["key"]}
    url = f"/api/classes/{made['code']}/challenges"
    for body, field in (({"knobs": ["lr"], "goal": {"kind": "lowest"}, "steps": 10**400},
                         "steps"),
                        ({"knobs": ["lr"], "goal": {"kind": "reach", "epsilon": 10**400},
                          "steps": 10}, "goal"),
                        ({"knobs": ["lr"], "goal": {"kind": "lowest"}, "steps": 10,
                          "minutes": 10**400}, "minutes")):
        r = client.post(url, json=body, headers=key)
        assert r.status_code == 400 and r.get_json()["field"] == field
    cid = challenge(client, made)
    r = client.get(f"{url}/{cid}/results?after={10**400}", headers=key)
    assert r.status_code == 200 and r.get_json()["tries"] == []     # (past every id)
    r = client.get(f"{url}/{cid}/results?after=1e9", headers=key)
    assert r.status_code == 400 and r.get_json()["field"] == "after"
    r = client.post(f"{url}/{cid}/submissions", data='{"name": "a", "values": {"lr": 1' +
                    "0" * 5000 + "}}", content_type="application/json")
    assert r.status_code == 400


def test_results_come_a_page_at_a_time(client, monkeypatch):
    from optviz.web.classroom import classes
    monkeypatch.setattr(classes, "PAGE", 3)
    made = new_class(client)
    code, cid = made["code"], challenge(client, made)
    for i in range(7):
        assert submit(client, code, cid, f"s{i}", lr=0.001 * (i + 1)).status_code == 201
    seen, after, pages = [], 0, 0
    while True:
        res = results(client, made, cid, after)
        if not res["tries"]:
            break
        assert len(res["tries"]) <= 3 and len(res["board"]) <= 10
        seen += [s["name"] for s in res["tries"]]
        after, pages = res["next"], pages + 1
    assert seen == [f"s{i}" for i in range(7)] and pages == 3


def test_the_csv_keeps_a_spreadsheet_from_running_or_splitting_a_name(client):
    import csv
    import io
    made = new_class(client)
    code, cid = made["code"], challenge(client, made)
    names = ["=HYPERLINK(1)", "+1", "-2", "@SUM(A1)", "a,b", "c;d", "Zoë"]
    for n in names:
        assert submit(client, code, cid, n, lr=0.01).status_code == 201
    text = client.get(f"/api/classes/{code}/challenges/{cid}/results?format=csv",
                      headers={"X-Class-Key": made["key"]}).get_data().decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text[1:])))
    got = {r[3] for r in rows[1:]}
    assert got == {"'=HYPERLINK(1)", "'+1", "'-2", "'@SUM(A1)", "a,b", "c;d", "Zoë"}
    for line in text[1:].splitlines()[1:]:          # every text cell quoted
        assert any(f'"{n}"' in line or f"\"'{n}\"" in line for n in names)


def test_class_creation_is_limited_per_client_and_a_proxy_is_believed_only_if_named(
        client, monkeypatch):
    monkeypatch.setenv("OPTVIZ_CLASSES_PER_HOUR", "3")
    made = [client.post("/api/classes", json={}).status_code for _ in range(4)]
    assert made == [201, 201, 201, 429]
    # another address behind a proxy nobody named: still this client
    assert client.post("/api/classes", json={}, headers={
        "X-Forwarded-For": "203.0.113.7"}).status_code == 429
    monkeypatch.setenv("OPTVIZ_TRUSTED_PROXIES", "127.0.0.1, 10.0.0.0/8")
    assert client.post("/api/classes", json={}, headers={
        "X-Forwarded-For": "203.0.113.7"}).status_code == 201
    assert client.post("/api/classes", json={}, headers={
        "X-Forwarded-For": "198.51.100.1, 10.1.2.3"}).status_code == 201
    monkeypatch.setenv("OPTVIZ_CLASSES_PER_HOUR_TOTAL", "5")
    r = client.post("/api/classes", json={}, headers={"X-Forwarded-For": "192.0.2.9"})
    assert r.status_code == 429 and "an hour" in r.get_json()["error"]


def test_the_client_behind_named_proxies():
    from optviz.web.classroom.guard import client, trusted_proxies
    proxies = trusted_proxies("10.0.0.0/8, ::1, junk")
    assert client("10.0.0.5", "1.2.3.4", proxies) == "1.2.3.4"
    assert client("10.0.0.5", "9.9.9.9, 1.2.3.4, 10.0.0.7", proxies) == "1.2.3.4"
    assert client("8.8.8.8", "1.2.3.4", proxies) == "8.8.8.8"         # not a proxy of ours
    assert client("10.0.0.5", None, proxies) == "10.0.0.5"
    assert client("::1", "2001:db8::1", proxies) == "2001:db8::1"


def test_scoring_takes_a_bounded_share_of_the_machine(client, monkeypatch, tmp_path):
    """With every scoring slot taken, a try waits SCORE_WAIT and is answered 503 with
    Retry-After (the page sends it again); with a slot free, it is scored."""
    import fcntl

    from optviz.web.classroom import guard
    monkeypatch.setenv("OPTVIZ_CACHE_DIR", str(tmp_path))
    made = new_class(client)
    code, cid = made["code"], challenge(client, made)
    held = []
    for k in range(guard.SCORE_SLOTS):          # what other workers' scoring would hold
        fd = os.open(os.path.join(guard._slots_dir(), f"score-{k}.lock"),
                     os.O_RDWR | os.O_CREAT)
        fcntl.flock(fd, fcntl.LOCK_EX)
        held.append(fd)
    t0 = time.monotonic()
    lr = 0.01 + 1e-3 * __import__("random").random()           # (never scored before)
    busy = submit(client, code, cid, "waits", lr=lr)
    assert busy.status_code == 503 and busy.headers["Retry-After"] == "1"
    assert guard.SCORE_WAIT <= time.monotonic() - t0 < guard.SCORE_WAIT + 2
    assert "busy" in busy.get_json()["error"]
    for fd in held:
        os.close(fd)
    assert submit(client, code, cid, "waits", lr=lr).status_code == 201


def test_on_gunicorn_eight_tries_at_once_under_one_name_are_one_and_guesses_are_counted_by_all_workers(db_url):  # noqa: E501
    proc, url = _gunicorn(db_url, workers=3)
    try:
        status, made = _call(url + "/api/classes", "POST", {"state": "surface=bowl"})
        code, key = made["code"], made["key"]
        status, ch = _call(f"{url}/api/classes/{code}/challenges", "POST",
                           {"knobs": ["lr"], "goal": {"kind": "lowest"}, "steps": 100}, key)
        barrier, answers = threading.Barrier(8), []

        def one(i):
            barrier.wait()
            answers.append(_call(f"{url}/api/classes/{code}/challenges/{ch['id']}/submissions",
                                 "POST", {"name": "same", "token": "s" * 20,
                                          "values": {"lr": 0.01 * (i + 1)}})[0])
        threads = [threading.Thread(target=one, args=(i,)) for i in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(answers) == [201] + [429] * 7
        status, res = _call(f"{url}/api/classes/{code}/challenges/{ch['id']}/results", key=key)
        assert len(res["tries"]) == 1
        # unknown codes, over new connections answered by any of the 3 workers: 30 a
        # minute in all, then 429; the class that exists still answers
        statuses = [_call(f"{url}/api/classes/ZZZZZ{c}")[0] for c in "ABCDEFGHJK" * 4]
        assert statuses[:30] == [404] * 30 and set(statuses[30:]) == {429}
        assert _call(f"{url}/api/classes/{code}")[0] == 200
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)


def test_the_readme_s_api_example_works_as_written(tmp_path):
    """The README's class API example, run by bash against a real gunicorn (with jq, as
    the README says), gives a try's result and the CSV with it."""
    import re
    import shutil
    from pathlib import Path
    if not shutil.which("jq"):
        pytest.fail("no jq: apt-get install -y jq (the README's example uses it)")
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    block = re.search(r"```bash\n(URL=localhost:8050/api/classes.*?)```", readme, re.S)
    proc, url = class_server(f"sqlite:///{tmp_path}/c.db")
    try:
        script = block.group(1).replace("localhost:8050", url.replace("http://", ""))
        out = subprocess.run(["bash", "-c", "set -euo pipefail\n" + script],
                             capture_output=True, text=True, timeout=60)
        assert out.returncode == 0, out.stderr
        lines = out.stdout.strip().splitlines()
        result = json.loads(lines[0])
        assert result["result"]["reached_at"] is not None and len(result["token"]) >= 16
        assert lines[1].lstrip("\ufeff").startswith('"rank","id","student","name","lr","mu"')
        assert ',"Ada",0.002,0.95,' in lines[2]
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)


# -- a lecture hall: playback, who joined, a student's own rank, the challenge's words -------

def test_playback_is_followed_and_checked(client):
    made = new_class(client)
    code, key = made["code"], made["key"]
    assert client.get(f"/api/classes/{code}").get_json()["playback"] is None
    r = client.put(f"/api/classes/{code}/playback", headers={"X-Class-Key": key},
                   json={"playing": True, "frame": 40, "speed": 5})
    assert r.status_code == 200
    follow = client.get(f"/api/classes/{code}").get_json()
    assert follow["version"] == r.get_json()["version"] == 2
    p = follow["playback"]
    assert (p["playing"], p["frame"], p["speed"]) == (True, 40, 5.0)
    assert abs(p["at"] - follow["server_time"]) < 5
    for body, field in (({"playing": "yes", "frame": 1}, "playing"),
                        ({"playing": True, "frame": -1}, "frame"),
                        ({"playing": True, "frame": 10**400}, "frame"),
                        ({"playing": True, "frame": 3, "speed": 3}, "speed")):
        r = client.put(f"/api/classes/{code}/playback", headers={"X-Class-Key": key},
                       json=body)
        assert r.status_code == 400 and r.get_json()["field"] == field
    assert client.put(f"/api/classes/{code}/playback", json={"playing": False, "frame": 1}
                      ).status_code == 403


def test_joined_counts_each_browser_once_and_a_student_sees_their_own_rank(client):
    made = new_class(client, "surface=rosenbrock")
    code, key = made["code"], made["key"]
    for t in ("a" * 20, "b" * 20, "a" * 20):
        assert client.post(f"/api/classes/{code}/join", json={"token": t}).status_code == 200
    assert client.get(f"/api/classes/{code}/counts", headers={"X-Class-Key": key}
                      ).get_json() == {"joined": 2, "students": 0}
    assert client.get(f"/api/classes/{code}/counts").status_code == 403
    cid = challenge(client, made)
    text = client.get(f"/api/classes/{code}").get_json()["challenge"]["text"]
    assert text == ("Momentum: the loss within 10⁻³ of the minimum within 300 steps, "
                    "turning α and μ")
    me = f"/api/classes/{code}/challenges/{cid}/me"
    assert client.get(me, headers={"X-Student-Token": "c" * 20}).get_json() == \
        {"student": None, "of": 0}
    submit(client, code, cid, "Slow", token="c" * 20, lr=0.0005, mu=0.5)
    submit(client, code, cid, "Fast", token="d" * 20, lr=0.002, mu=0.95)
    mine = client.get(me, headers={"X-Student-Token": "c" * 20}).get_json()
    assert (mine["student"], mine["name"], mine["rank"], mine["of"]) == (1, "Slow", 2, 2)
    assert mine["best"]["values"] == {"lr": 0.0005, "mu": 0.5}
    time.sleep(1.05)
    submit(client, code, cid, "Slow", token="c" * 20, lr=0.002, mu=0.95)   # as good, later
    mine = client.get(me, headers={"X-Student-Token": "c" * 20}).get_json()
    assert mine["rank"] == 2 and mine["best"]["values"]["mu"] == 0.95
    assert client.get(me, headers={"X-Student-Token": "x"}).status_code == 400
    res = results(client, made, cid)
    assert res["joined"] == 2 and [b["name"] for b in res["board"]] == ["Fast", "Slow"]


def test_the_join_address_is_the_one_the_administrator_gives(client, monkeypatch):
    made = new_class(client)
    assert made["url"] == f"http://localhost/c/{made['code']}"
    monkeypatch.setenv("OPTVIZ_PUBLIC_URL", "https://optviz.example.edu/")
    from optviz.web.classroom import api
    api._followed.clear()
    made = new_class(client)
    assert made["url"] == f"https://optviz.example.edu/c/{made['code']}"
    assert client.get(f"/api/classes/{made['code']}").get_json()["url"] == made["url"]
    svg = client.get(f"/api/classes/{made['code']}/qr.svg")
    assert svg.status_code == 200 and svg.mimetype == "image/svg+xml"


def test_a_number_as_a_slide_writes_it():
    from optviz.web.classroom.rules import number_text
    assert [number_text(v) for v in (1e-3, 5e-4, 0.25, 1e-12, 2.5e-6, 3, 9.9996e-5)] == \
        ["10⁻³", "5·10⁻⁴", "0.25", "10⁻¹²", "2.5·10⁻⁶", "3", "10⁻⁴"]


NET = "surface=train:n=120;hidden=6&rows=gd,adam&steps=60"


def test_a_network_challenge_ranks_by_test_accuracy_then_test_loss(client):
    """A class showing a network's training: "test accuracy ≥ a within the steps" scores
    each try by training the scored row with its values (the test set), ranks those that
    reach it by the step, and stores the challenge on the network's slice (no map)."""
    from optviz.training import train
    from optviz.web.network_view import training_network
    made = new_class(client, NET)
    r = client.post(f"/api/classes/{made['code']}/challenges",
                    json={"knobs": ["lr"], "goal": {"kind": "accuracy", "goal": 0.8,
                                                    "row": "adam"}, "steps": 60},
                    headers={"X-Class-Key": made["key"]})
    assert r.status_code == 201, r.get_json()
    posed = r.get_json()
    assert posed["text"] == "Adam: test accuracy ≥ 80 % within 60 steps, turning α"
    assert posed["map_side"] == 0 and 0 < posed["price"] <= 0.15
    net, *_ = training_network("train:n=120;hidden=6")
    got = {}
    for name, lr in (("slow", 1e-4), ("fast", 0.1), ("faster", 0.3)):
        result = submit(client, made["code"], posed["id"], name, lr=lr).get_json()["result"]
        run = train(net, [{"name": "adam", "lr": lr}], 60)
        assert result["loss"] == run.test_loss[0, 0, -1]
        hits = np.nonzero(run.test_acc[0, 0] >= 0.8)[0]
        assert result["reached_at"] == (int(hits[0]) if len(hits) else None)
        got[name] = result
    assert got["slow"]["reached_at"] is None
    board = [s["name"] for s in results(client, made, posed["id"])["board"]]
    reached = sorted((n for n in got if got[n]["reached_at"] is not None),
                     key=lambda n: (got[n]["reached_at"], got[n]["loss"]))
    assert board[:len(reached)] == reached and board[-1] == "slow"


@pytest.mark.parametrize("body, says", [
    ({"knobs": ["lr"], "goal": {"kind": "reach", "epsilon": 0.01}, "steps": 60},
     "a network's challenge is"),
    ({"knobs": ["lr"], "goal": {"kind": "accuracy", "goal": 1.5}, "steps": 60},
     "goal.goal: a test accuracy in (0, 1]"),
    ({"knobs": ["adam:sigma"], "goal": {"kind": "lowest"}, "steps": 60},
     "a network's noise is its minibatches"),
    ({"knobs": ["lr"], "goal": {"kind": "lowest"}, "steps": 5000},
     "scoring one try would take about"),
])
def test_a_network_challenge_it_cannot_score_is_refused_naming_what_to_change(client, body,
                                                                              says):
    made = new_class(client, NET)
    r = client.post(f"/api/classes/{made['code']}/challenges", json=body,
                    headers={"X-Class-Key": made["key"]})
    assert r.status_code == 400 and says in r.get_json()["error"], r.get_json()
