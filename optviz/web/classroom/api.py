"""Class mode's JSON API (the page uses it; so can scripts and an LMS). See docs/classes.md.

    POST /api/classes                                   -> 201 {"code", "key", "url"}
    GET  /api/classes/CODE                              -> {"version", "state", "values",
                                                           "playback", "challenge"}
                                                           (ETag: the version; 304)
    GET  /api/classes/CODE/qr.svg                       -> the join address as a QR code
    PUT  /api/classes/CODE/state           (key)        {"state": "<query>"}
    PUT  /api/classes/CODE/names           (key)        {"show_names": bool}
    POST /api/classes/CODE/challenges      (key)        {"knobs", "goal", "steps"} -> 201
    POST /api/classes/CODE/challenges/ID/close   (key)
    POST /api/classes/CODE/challenges/ID/submissions    {"name", "values", "token"} -> 201
    DELETE /api/classes/CODE/challenges/ID/submissions/SID   (key)
    GET  /api/classes/CODE/challenges/ID/results  (key) JSON (?after=ID), or ?format=csv
    GET  /api/classes/CODE/challenges/ID/map      (key) the class picture's map (202 while
                                                           it is computed)
    PUT  /api/classes/CODE/playback        (key)        {"playing", "frame", "speed"}
    POST /api/classes/CODE/join                         {"token"}: counted as joined
    GET  /api/classes/CODE/challenges/ID/me             (X-Student-Token) own rank, best
    GET  /api/classes/CODE/counts          (key)        {"joined", "students"}
    GET  /api/classes/CODE/students        (key)        every name, its seat and tries
    PUT  /api/classes/CODE/students/SID    (key)        {"blocked": bool}
    DELETE /api/classes/CODE/students/SID  (key)        the name removed, its seat freed

The key travels in the X-Class-Key header. Refusals are JSON {"error", "field"} with
400 (bad input), 403 (key), 404 (code), 409 (closed, full, taken), 429 (too often) or
503 (busy, or the database cannot do its part), the last two with Retry-After.
"""
from __future__ import annotations

import contextlib
import functools
import io
import logging
import time

import sqlalchemy as sa
from flask import Blueprint, Response, jsonify, request

from ..callbacks import follow_values
from ..server import public_base
from . import classes as cl
from .guard import changed, check_miss, client, stamp
from .rules import ClassError, valid_code
from .store import StorageError, open_store

__all__ = ["blueprint", "classes_health", "prepare_store", "fast_follow", "FOLLOW_SECONDS",
           "seen_setup"]

blueprint = Blueprint("classes", __name__)


def _client() -> str:
    return client(request.remote_addr, request.headers.get("X-Forwarded-For"))


def _body():
    try:
        data = request.get_json(silent=True)
    except (RecursionError, ValueError):          # nested 100,000 deep; 5000-digit numbers
        raise ClassError(400, "the request body is nested too deeply or holds a number "
                         "too long") from None
    if data is None:
        raise ClassError(400, "expected a JSON body (Content-Type: application/json)")
    return data


def _key():
    return request.headers.get("X-Class-Key")


def _answer(status: int, body: dict, retry_after: float | None = None):
    r = jsonify(body)
    r.status_code = status
    if retry_after is not None:
        r.headers["Retry-After"] = str(max(1, round(retry_after)))
    return r


@blueprint.errorhandler(ClassError)
def _refused(e: ClassError):
    if e.status == 404 and e.field == "code":     # an unknown code: counted, and limited
        try:
            check_miss(open_store(), _client())
        except ClassError as limited:
            e = limited
        except StorageError as down:
            return _unavailable(down)
        else:
            e = ClassError(404, e.message)        # (the field is the route's, not the body's)
    return _answer(e.status, e.body(), e.retry_after)


@blueprint.errorhandler(StorageError)
def _unavailable(e: StorageError):
    return _answer(503, {"error": "class mode is unavailable: " + e.message},
                   e.retry_after)


@blueprint.errorhandler(sa.exc.IntegrityError)
def _collided(_e):
    # two requests made the same thing at once (the rules re-read what they claim, so
    # this is a last resort): the later one is asked to send it again
    return _answer(409, {"error": "another request changed this at the same moment; "
                                  "send it again"}, 1)


def join_url(code: str) -> str:
    """The address students join at: the server's public address (server.public_base:
    OPTVIZ_PUBLIC_URL, else the address this request came to), then /c/CODE."""
    return f"{public_base()}/c/{code}"


@blueprint.post("/api/classes")
def create():
    data = _body() if request.content_length else {}
    state = data.get("state", "") if isinstance(data, dict) else None
    made = cl.create_class(open_store(), state, _client())
    made["url"] = join_url(made["code"])
    return jsonify(made), 201


#: A class as its followers see it, kept this long in each worker: 300 students polling
#: twice a second ask the database a few times a second, not 600. A change made on this
#: machine ends every worker's copy at once (guard.changed: a stamp file); one made on
#: another machine (several web containers on one PostgreSQL) is seen at most this much
#: later.
FOLLOW_SECONDS = 0.5
_followed: dict[str, tuple[float, int, dict]] = {}


def _fresh(code: str):
    """This worker's copy of class ``code`` if it is still the class, else None."""
    hit = _followed.get(code)
    if hit and time.monotonic() - hit[0] < FOLLOW_SECONDS and hit[1] == stamp(code):
        return hit[2]
    return None


def seen_setup(code: str) -> str | None:
    """Class ``code``'s setup (its query string) if this worker holds a fresh copy of the
    class, else None: never a database read (the index page's first picture asks it for
    every open of /c/CODE, guessed codes included)."""
    data = _fresh(code.upper()) if isinstance(code, str) and len(code) < 16 else None
    return data["state"] or "" if data is not None else None


def _follow_data(code: str) -> dict:
    code = valid_code(code)
    data = _fresh(code)
    if data is not None:
        return data
    mark = stamp(code)
    data = {**cl.get_class(open_store(), code), "url": join_url(code)}
    # the setup's control values, parsed once here rather than by every following page
    data["values"] = follow_values(data["state"] or "")
    if len(_followed) > 1000:                     # bounded whatever the codes
        _followed.clear()
    _followed[code] = (time.monotonic(), mark, data)
    return data


@blueprint.after_request
def _forget(response):
    """A change is seen by every follower at once (a try, or a browser joining, changes
    nothing a follower sees)."""
    if request.method != "GET" and request.view_args and "code" in request.view_args \
            and request.endpoint not in ("classes.submit", "classes.join") \
            and response.status_code < 400:
        code = str(request.view_args["code"]).upper()
        _followed.pop(code, None)
        with contextlib.suppress(OSError, ValueError):
            changed(valid_code(code))
    return response


def fast_follow(wsgi_app, headers):
    """``wsgi_app`` with a follower's poll of a class it has seen answered before Flask
    (304 from this worker's copy, when it is fresh and the ETag matches: 300 students
    polling once a second made Flask's share of a poll twice gunicorn's); ``headers``: the
    security headers every answer carries. Anything else goes to ``wsgi_app``."""
    prefix, extra = "/api/classes/", [("Cache-Control", "no-cache"), *headers]

    def app(environ, start_response):
        path, asked = environ.get("PATH_INFO", ""), environ.get("HTTP_IF_NONE_MATCH")
        if asked and environ.get("REQUEST_METHOD") == "GET" and \
                len(path) == len(prefix) + 6 and path.startswith(prefix):
            data = _fresh(path[len(prefix):].upper())
            if data is not None and asked == f'"{data["version"]}"':
                start_response("304 NOT MODIFIED", [("ETag", asked), *extra])
                return [b""]
        return wsgi_app(environ, start_response)
    return app


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


@functools.lru_cache(maxsize=64)
def _qr_svg(url: str) -> bytes:
    import segno
    out = io.BytesIO()
    segno.make(url, error="m").save(out, kind="svg", scale=10, border=2, xmldecl=False)
    return out.getvalue()


@blueprint.get("/api/classes/<code>/qr.svg")
def qr(code):
    """The class's join address as a QR code (SVG, scalable to a lecture hall's wall)."""
    url = _follow_data(code)["url"]               # (404 for a class that does not exist)
    return Response(_qr_svg(url),
                    mimetype="image/svg+xml", headers={"Cache-Control": "max-age=86400"})


def _field(name):
    data = _body()
    return data.get(name) if isinstance(data, dict) else None


@blueprint.put("/api/classes/<code>/state")
def state(code):
    return jsonify(cl.set_state(open_store(), code, _key(), _field("state")))


@blueprint.put("/api/classes/<code>/playback")
def playback(code):
    return jsonify(cl.set_playback(open_store(), code, _key(), _body()))


@blueprint.post("/api/classes/<code>/join")
def join(code):
    return jsonify(cl.join(open_store(), code, _body()))


@blueprint.get("/api/classes/<code>/challenges/<int:cid>/me")
def me(code, cid):
    return jsonify(cl.me(open_store(), code, cid, request.headers.get("X-Student-Token")))


@blueprint.put("/api/classes/<code>/names")
def names(code):
    return jsonify(cl.set_show_names(open_store(), code, _key(), _field("show_names")))


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
    data = cl.challenge_map(open_store(), code, _key(), cid)
    return jsonify(data), 202 if data["status"] == "computing" else 200


@blueprint.get("/api/classes/<code>/challenges/<int:cid>/results")
def results(code, cid):
    if request.args.get("format") == "csv":
        text = cl.results_csv(open_store(), code, _key(), cid)
        return Response(text.encode("utf-8"), mimetype="text/csv", headers={
            "Content-Disposition": f"attachment; filename=optviz-class-{valid_code(code)}"
                                   f"-{cid}.csv"})
    return jsonify(cl.results(open_store(), code, _key(), cid,
                              request.args.get("after", "0")[:20]))


@blueprint.get("/api/classes/<code>/counts")
def counts(code):
    return jsonify(cl.counts(open_store(), code, _key()))


@blueprint.get("/api/classes/<code>/students")
def students(code):
    return jsonify(cl.list_students(open_store(), code, _key()))


@blueprint.put("/api/classes/<code>/students/<int:sid>")
def block(code, sid):
    return jsonify(cl.block_student(open_store(), code, _key(), sid, _field("blocked")))


@blueprint.delete("/api/classes/<code>/students/<int:sid>")
def unseat(code, sid):
    return jsonify(cl.remove_student(open_store(), code, _key(), sid))


def prepare_store() -> None:
    """Make (SQLite) and migrate class mode's database when the app starts; a database
    that does not answer then is tried again by the first request that needs it (the
    page itself never needs it)."""
    try:
        open_store(create=True)
    except StorageError as e:
        logging.getLogger("optviz").warning("class mode's database: %s", e.message)


def classes_health() -> dict:
    """Class mode's part of /healthz: {"ok", "database", "problem"} (a real write)."""
    try:
        return open_store().health()
    except StorageError as e:
        return {"ok": False, "problem": e.message}
