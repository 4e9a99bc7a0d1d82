"""Class mode's storage faults, for real: a gunicorn whose SQLite file lives on a small
tmpfs that the test deletes, replaces, remounts read-only and fills, and a PostgreSQL
server stopped and started in the middle of a class. Each fault is answered with a JSON
503 naming it (never an acknowledgement of a write that cannot be kept), /healthz says
"degraded" with the reason, and the server heals by itself when the fault is gone."""
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import tempfile
import time
import urllib.error
import urllib.request

import pytest

from .conftest import PostgresServer, api_call, class_server


def _serve(db_url, workers=2):
    return class_server(db_url, workers=workers)


_call = api_call


class Class:
    """A class on a server: its challenge, its students' tries and what was acked."""

    def __init__(self, url):
        self.url = url
        status, made, _ = _call(url + "/api/classes", "POST", {"state": "surface=bowl"})
        assert status == 201, made
        self.code, self.key = made["code"], made["key"]
        status, ch, _ = _call(f"{url}/api/classes/{self.code}/challenges", "POST",
                              {"knobs": ["lr"], "goal": {"kind": "lowest"}, "steps": 50},
                              self.key)
        self.cid, self.acked, self.n = ch["id"], [], 0

    def submit(self):
        self.n += 1
        status, body, headers = _call(
            f"{self.url}/api/classes/{self.code}/challenges/{self.cid}/submissions", "POST",
            {"name": f"s{self.n}", "values": {"lr": 0.01}})
        if status == 201:
            self.acked.append(body["id"])
        return status, body, headers

    def health(self):
        return json.loads(urllib.request.urlopen(self.url + "/healthz", timeout=10).read())

    def stored(self):
        ids, after = set(), 0
        while True:
            status, res, _ = _call(f"{self.url}/api/classes/{self.code}/challenges/"
                                   f"{self.cid}/results?after={after}", key=self.key)
            assert status == 200, res
            if not res["tries"]:
                return ids
            ids |= {t["id"] for t in res["tries"]}
            after = res["next"]


def _refused(answer, says):
    status, body, headers = answer
    assert status == 503, (status, body)
    assert says in body["error"] and body["error"].startswith("class mode is unavailable")
    assert int(headers["Retry-After"]) >= 1


def _until(check, seconds=20):
    deadline = time.monotonic() + seconds
    while True:
        got = check()
        if got:
            return got
        assert time.monotonic() < deadline, "not healed in time"
        time.sleep(0.2)


@pytest.fixture
def small_disk():
    """A 3 MB tmpfs: a volume that can be removed, made read-only and filled."""
    path = tempfile.mkdtemp(prefix="optviz-volume-")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", path],
                          capture_output=True, text=True)
    if done.returncode:
        pytest.fail(f"cannot mount a tmpfs for the storage-fault test (needs root): "
                    f"{done.stderr}")
    yield path
    subprocess.run(["umount", "-l", path])
    shutil.rmtree(path, ignore_errors=True)


def test_a_sqlite_file_deleted_replaced_read_only_or_full_is_503_and_heals(small_disk):
    db = os.path.join(small_disk, "classes.db")
    proc, url = _serve(f"sqlite:///{db}")
    try:
        lesson = Class(url)
        assert lesson.submit()[0] == 201 and lesson.health()["status"] == "ok"
        # deleted (a cleaner, an operator, a volume gone): no write is acknowledged
        backup = os.path.join(tempfile.mkdtemp(), "backup.db")
        with sqlite3.connect(db) as src, sqlite3.connect(backup) as dst:
            src.backup(dst)
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(db + suffix):
                os.remove(db + suffix)
        _refused(lesson.submit(), "missing")
        _refused(_call(f"{url}/api/classes/{lesson.code}"), "missing")
        health = lesson.health()
        assert health["status"] == "degraded" and "missing" in health["classes"]["problem"]
        assert urllib.request.urlopen(url + "/", timeout=10).status == 200   # the page works
        # put back (a backup restored: another file): used at once, no restart
        shutil.copy(backup, db)
        assert _until(lambda: lesson.submit()[0] == 201)
        assert lesson.health()["status"] == "ok"
        # read-only: the volume replaced by a read-only one (tmpfs is not remounted
        # read-only while files on it are open for writing)
        copy = os.path.join(tempfile.mkdtemp(), "copy.db")
        with sqlite3.connect(db) as src, sqlite3.connect(copy) as dst:
            src.backup(dst)
        subprocess.run(["umount", "-l", small_disk], check=True)
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", small_disk],
                       check=True)
        shutil.copy(copy, db)
        subprocess.run(["mount", "-o", "remount,ro", small_disk], check=True)
        _refused(lesson.submit(), "cannot be written")
        health = lesson.health()
        assert health["status"] == "degraded" and "cannot be written" in \
            health["classes"]["problem"], health
        subprocess.run(["mount", "-o", "remount,rw", small_disk], check=True)
        assert _until(lambda: lesson.submit()[0] == 201)
        # full
        filler = os.path.join(small_disk, "filler")
        subprocess.run(["dd", "if=/dev/zero", f"of={filler}", "bs=64k"],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        answers = [lesson.submit() for _ in range(40)]   # until a page must be added
        assert all(a[0] in (201, 503) for a in answers)
        full = [a for a in answers if a[0] == 503]
        assert full, "the full disk was never noticed"
        _refused(full[0], "full")
        assert lesson.health()["status"] == "degraded"
        os.remove(filler)
        assert _until(lambda: lesson.submit()[0] == 201)
        assert lesson.health()["status"] == "ok"
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)
    # every acknowledged try is there after a restart
    proc, url = _serve(f"sqlite:///{db}")
    try:
        lesson.url = url
        assert set(lesson.acked) <= lesson.stored()
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)


def test_postgresql_stopped_and_started_in_the_middle_of_a_class():
    pg = PostgresServer()
    proc, url = _serve(pg.url, workers=3)
    try:
        lesson = Class(url)
        assert lesson.submit()[0] == 201
        pg.stop()
        _refused(lesson.submit(), "does not answer")
        _refused(_call(f"{url}/api/classes/{lesson.code}"), "does not answer")
        health = lesson.health()
        assert health["status"] == "degraded" and health["classes"]["ok"] is False
        assert urllib.request.urlopen(url + "/", timeout=10).status == 200
        pg.start()
        assert _until(lambda: lesson.submit()[0] == 201)
        assert _until(lambda: lesson.health()["status"] == "ok")
        # each of the three workers heals, not only the one asked first
        assert all(lesson.submit()[0] == 201 for _ in range(6) if time.sleep(1.05) is None)
        assert set(lesson.acked) <= lesson.stored()
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)
        pg.remove()
