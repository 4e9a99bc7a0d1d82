"""Class mode's JSON API (the page uses it; so can scripts and an LMS). See docs/classes.md.

    POST /api/classes                                   -> 201 {"code", "key", "url"}
    GET  /api/classes/CODE                              -> {"version", "state", "challenge"}
                                                           (ETag: the version; 304)
    GET  /api/classes/CODE/qr.svg                       -> the join address as a QR code
    PUT  /api/classes/CODE/state           (key)        {"state": "<query>"}
    PUT  /api/classes/CODE/names           (key)        {"show_names": bool}
    POST /api/classes/CODE/challenges      (key)        {"knobs", "goal", "steps"} -> 201
    POST /api/classes/CODE/challenges/ID/close   (key)
    POST /api/classes/CODE/challenges/ID/submissions    {"name", "values"} -> 201
    DELETE /api/classes/CODE/challenges/ID/submissions/SID   (key)
    GET  /api/classes/CODE/challenges/ID/results  (key) JSON, or ?format=csv
    GET  /api/classes/CODE/challenges/ID/map      (key) the final loss over log α x β

The key travels in the X-Class-Key header. Refusals are JSON {"error", "field"} with
400 (bad input), 403 (key), 404 (code), 409 (closed, full) or 429 (too often).
"""
from __future__ import annotations

import threading
import time
from collections import defaultdict, deque

from flask import Blueprint, Response, jsonify, request

from . import classes as cl
from .store import open_store

__all__ = ["blueprint", "MISSES_PER_MINUTE"]

#: Lookups of codes that do not exist a client may make a minute (per worker process):
#: past it, 429 (guessing codes is slow: 31^6 codes).
MISSES_PER_MINUTE = 30

blueprint = Blueprint("classes", __name__)
_misses: dict[str, deque] = defaultdict(deque)
_lock = threading.Lock()


def _client() -> str:
    return request.remote_addr or "?"


def _guard_misses() -> None:
    with _lock:
        q = _misses[_client()]
        now = time.monotonic()
        while q and now - q[0] > 60:
            q.popleft()
        if len(q) >= MISSES_PER_MINUTE:
            raise cl.ClassError(429, "too many unknown class codes; wait a minute",
                                retry_after=60 - (now - q[0]))
        if len(_misses) > 10_000:                 # bounded whatever the clients
            _misses.clear()


def _missed() -> None:
    with _lock:
        _misses[_client()].append(time.monotonic())


def _body():
    try:
        data = request.get_json(silent=True)
    except RecursionError:                        # (a body nested 100,000 deep)
        raise cl.ClassError(400, "the request body is nested too deeply") from None
    if data is None:
        raise cl.ClassError(400, "expected a JSON body (Content-Type: application/json)")
    return data


def _key():
    return request.headers.get("X-Class-Key")


@blueprint.errorhandler(cl.ClassError)
def _refused(e: cl.ClassError):
    if e.status == 404:
        _missed()
    r = jsonify(e.body())
    r.status_code = e.status
    if e.retry_after is not None:
        r.headers["Retry-After"] = str(max(1, round(e.retry_after)))
    return r


@blueprint.before_request
def _before():
    _guard_misses()


@blueprint.post("/api/classes")
def create():
    data = _body() if request.content_length else {}
    state = data.get("state", "") if isinstance(data, dict) else None
    made = cl.create_class(open_store(), state)
    made["url"] = request.host_url.rstrip("/") + "/c/" + made["code"]
    return jsonify(made), 201


#: A class as its followers see it, kept this long in each worker: 300 students polling
#: once a second ask the database a few times a second, not 300 (a change reaches them
#: at most this much later).
FOLLOW_SECONDS = 0.25
_followed: dict[str, tuple[float, dict]] = {}


def _follow_data(code: str) -> dict:
    code = cl.valid_code(code)
    now = time.monotonic()
    hit = _followed.get(code)
    if hit and now - hit[0] < FOLLOW_SECONDS:
        return hit[1]
    data = cl.get_class(open_store(), code)
    if len(_followed) > 1000:                     # bounded whatever the codes
        _followed.clear()
    _followed[code] = (now, data)
    return data


@blueprint.after_request
def _forget(response):
    """A change made through this worker is seen by its next follower at once."""
    if request.method != "GET" and request.view_args and "code" in request.view_args:
        _followed.pop(str(request.view_args["code"]).upper(), None)
    return response


@blueprint.get("/api/classes/<code>")
def follow(code):
    data = _follow_data(code)
    etag = f'"{data["version"]}"'
    if request.headers.get("If-None-Match") == etag:
        return Response(status=304, headers={"ETag": etag, "Cache-Control": "no-cache"})
    r = jsonify(data)
    r.headers["ETag"] = etag
    r.headers["Cache-Control"] = "no-cache"
    return r


@blueprint.get("/api/classes/<code>/qr.svg")
def qr(code):
    """The class's join address as a QR code (SVG, scalable to a lecture hall's wall)."""
    import io

    import segno
    code = cl.valid_code(code)
    cl.get_class(open_store(), code)             # (404 for a class that does not exist)
    out = io.BytesIO()
    segno.make(request.host_url.rstrip("/") + "/c/" + code, error="m").save(
        out, kind="svg", scale=10, border=2, xmldecl=False)
    return Response(out.getvalue(), mimetype="image/svg+xml",
                    headers={"Cache-Control": "max-age=86400"})


@blueprint.put("/api/classes/<code>/state")
def state(code):
    data = _body()
    return jsonify(cl.set_state(open_store(), code, _key(),
                                data.get("state") if isinstance(data, dict) else None))


@blueprint.put("/api/classes/<code>/names")
def names(code):
    data = _body()
    return jsonify(cl.set_show_names(open_store(), code, _key(),
                                     data.get("show_names") if isinstance(data, dict) else None))


@blueprint.post("/api/classes/<code>/challenges")
def challenge(code):
    return jsonify(cl.add_challenge(open_store(), code, _key(), _body())), 201


@blueprint.post("/api/classes/<code>/challenges/<int:cid>/close")
def close(code, cid):
    return jsonify(cl.close_challenge(open_store(), code, _key(), cid))


@blueprint.post("/api/classes/<code>/challenges/<int:cid>/submissions")
def submit(code, cid):
    return jsonify(cl.submit(open_store(), code, cid, _body())), 201


@blueprint.delete("/api/classes/<code>/challenges/<int:cid>/submissions/<int:sid>")
def remove(code, cid, sid):
    return jsonify(cl.remove_submission(open_store(), code, _key(), cid, sid))


@blueprint.get("/api/classes/<code>/challenges/<int:cid>/map")
def challenge_map(code, cid):
    return jsonify(cl.challenge_map(open_store(), code, _key(), cid))


@blueprint.get("/api/classes/<code>/challenges/<int:cid>/results")
def results(code, cid):
    data = cl.results(open_store(), code, _key(), cid)
    if request.args.get("format") == "csv":
        return Response(cl.results_csv(data), mimetype="text/csv", headers={
            "Content-Disposition": f"attachment; filename=optviz-class-{code}-{cid}.csv"})
    return jsonify(data)
