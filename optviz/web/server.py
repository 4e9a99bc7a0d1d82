"""The Flask side of the page: health check, security headers, request size limit, and a
check of every callback request's envelope before Dash sees it.

Configuration comes from the environment (documented in the README):

- ``OPTVIZ_FRAME_ANCESTORS``: who may embed the page in an iframe, as a CSP
  ``frame-ancestors`` source list (default ``'self'``; e.g. ``'self' https://lms.example.edu``).
- ``OPTVIZ_MAX_BODY``: largest request body in bytes (default 262144); larger ones get 413.

And the page's static parts are made once per worker (:func:`serve_static_once`): a page
open asked the server for ~125 ms of CPU on plain HTTP (gzip; 56 ms with zstd), mostly
compressing plotly.min.js (4.8 MB) and MathJax again for every student, and the same
again on every reload, since those scripts are revalidated, not cached, by the browser.
"""
from __future__ import annotations

import functools
import mimetypes
import os

from dash.exceptions import DependencyException
from dash.fingerprint import check_fingerprint
from flask import Flask, Response, jsonify, request

__all__ = ["harden", "envelope_error", "serve_static_once", "static_key", "csp",
           "public_base"]


def public_base() -> str:
    """The address users reach this server at, without a trailing slash:
    OPTVIZ_PUBLIC_URL (what the administrator gives the room, e.g.
    http://192.168.1.20:8050 or https://optviz.example.edu) if set, else the address the
    current request came to. Join links and the Python download's install line use it."""
    base = os.environ.get("OPTVIZ_PUBLIC_URL", "").strip().rstrip("/")
    if not base.startswith(("http://", "https://")):
        base = request.host_url.rstrip("/")
    return base

DEFAULT_MAX_BODY = 256 * 1024
#: Most compressed bodies a worker keeps (a page needs ~25 an encoding; a bound whatever
#: is asked).
MAX_STATIC_BODIES = 128


def envelope_error(body, callback_map) -> str | None:
    """Why a POST to /_dash-update-component is malformed, or None if its shape is what
    the Dash renderer sends. (Stock Dash answers most malformed envelopes with a 500;
    the values inside are checked later, at optviz.web.controls.)"""
    if not isinstance(body, dict):
        return "the request body must be a JSON object"
    output = body.get("output")
    if not isinstance(output, str) or output not in callback_map:
        return "unknown output"
    spec = callback_map[output]
    inputs, state = body.get("inputs"), body.get("state", [])
    if not isinstance(inputs, list) or len(inputs) != len(spec.get("inputs", [])):
        return f"expected {len(spec.get('inputs', []))} inputs"
    if not isinstance(state, list) or len(state) != len(spec.get("state", [])):
        return f"expected {len(spec.get('state', []))} states"
    for item in inputs + state:
        items = item if isinstance(item, list) else [item]
        if len(items) > 200 or not all(isinstance(i, dict) and "id" in i and
                                       isinstance(i.get("property"), str) for i in items):
            return "each input must be {id, property, value}"
    outputs = body.get("outputs")
    multi = output.startswith("..")
    n_out = len(output[2:-2].split("...")) if multi else 1

    def is_dep(o):
        return isinstance(o, dict) and "id" in o and isinstance(o.get("property"), str)

    def is_out(o):
        return is_dep(o) or (isinstance(o, list) and len(o) <= 200 and all(map(is_dep, o)))
    if multi:
        if not isinstance(outputs, list) or len(outputs) != n_out or \
                not all(map(is_out, outputs)):
            return f"outputs must list the callback's {n_out} outputs"
    elif not (is_out(outputs) if output.startswith("{") else is_dep(outputs)):
        return "outputs must be {id, property}"      # a list only for a pattern's matches
    named = output[2:-2].split("...") if multi else [output]
    for part, o in zip(named, outputs if multi else [outputs]):
        # "id.property" (a duplicate output's property ends in "@<hash>" on both sides);
        # pattern-matching ids are objects
        if isinstance(o, dict) and isinstance(o["id"], str) and \
                part != f"{o['id']}.{o['property']}":
            return f"outputs do not match the callback's ({part.split('@')[0]})"
    changed = body.get("changedPropIds", [])
    if not isinstance(changed, list) or not all(isinstance(c, str) for c in changed):
        return "changedPropIds must be a list of strings"
    return None


def csp(ancestors: str, script_hashes=()) -> str:
    """The Content-Security-Policy: scripts only from this server (and Dash's inline
    bootstrap, by its hash), no plugins, no base-URI or form tricks. Styles may be inline
    (Dash and Plotly set style attributes); images and workers may be data: and blob:
    (Plotly's image export, MathJax)."""
    return "; ".join([
        "default-src 'self'",
        "script-src 'self' " + " ".join(script_hashes),
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: blob:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "worker-src 'self' blob:",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        f"frame-ancestors {ancestors}",
    ])


def harden(server: Flask, version: str, callback_map=None, script_hashes=(),
           jobs_health=None, classes_health=None) -> None:
    """Add /healthz, the security headers (``script_hashes``: the CSP hashes of the
    page's inline scripts, ``Dash.csp_hashes()``), the body limit, the envelope check
    and quiet 4xx answers where stock Dash answers 500. ``jobs_health()`` says whether
    the background jobs' backend answers and ``classes_health()`` whether class mode's
    database can be written: /healthz reports both, and says "degraded" with the reason
    (still 200: the page itself works) when one cannot."""
    server.config["MAX_CONTENT_LENGTH"] = int(os.environ.get("OPTVIZ_MAX_BODY",
                                                             DEFAULT_MAX_BODY))
    ancestors = os.environ.get("OPTVIZ_FRAME_ANCESTORS", "'self'").strip() or "'self'"

    @server.before_request
    def check_envelope():
        if request.method == "POST" and request.path.endswith("/_dash-update-component") \
                and callback_map is not None:
            try:
                body = request.get_json(silent=True)
            except RecursionError:                 # (a body nested 100,000 deep)
                return jsonify(error="the request body is nested too deeply"), 400
            reason = envelope_error(body, callback_map)
            if reason:
                return jsonify(error=reason), 400
        return None

    @server.errorhandler(DependencyException)
    def unknown_script(_e):
        # a script Dash does not serve (a typo, "../../etc/passwd"): stock Dash answers
        # 500 and writes every script it serves to the log
        return jsonify(error="no such file"), 404

    @server.get("/healthz")
    def healthz():
        parts = {name: check() for name, check in (("jobs", jobs_health),
                                                   ("classes", classes_health)) if check}
        ok = all(part.get("ok") for part in parts.values())
        return jsonify(status="ok" if ok else "degraded", version=version, **parts)

    security = [("X-Content-Type-Options", "nosniff"),
                ("Referrer-Policy", "strict-origin-when-cross-origin"),
                ("Content-Security-Policy", csp(ancestors, script_hashes))]
    server.config["OPTVIZ_SECURITY_HEADERS"] = security

    @server.after_request
    def headers(response):
        for name, value in security:
            response.headers.setdefault(name, value)
        return response


def static_key(req) -> str:
    """The key of a static body for flask-compress's cache (``COMPRESS_CACHE_KEY``): a
    Dash component script by package and path (its version fingerprint removed, so that
    no URL variant makes another entry), the page's assets (its CSS and scripts, and
    Plotly's cartesian bundle: 1.5 MB, 60 ms to gzip for every new visitor) and the layout
    and the callback list by path; "" for everything else, which is never cached (the
    callbacks' answers above all)."""
    if req.method != "GET":
        return ""
    path = req.path
    if "/_dash-component-suites/" in path:
        return "suites:" + check_fingerprint(path.split("/_dash-component-suites/", 1)[1])[0]
    if "/assets/" in path:
        return "assets:" + path.split("/assets/", 1)[1]
    if path.endswith(("/_dash-layout", "/_dash-dependencies")):
        return path
    return ""


class StaticBodies:
    """flask-compress's cache backend (``COMPRESS_CACHE_BACKEND``: ``get``/``set``): keeps
    the compressed body of what :func:`static_key` names, at most MAX_STATIC_BODIES."""

    def __init__(self):
        self._bodies: dict[str, bytes] = {}

    def get(self, key: str) -> bytes | None:
        return self._bodies.get(key)

    def set(self, key: str, body: bytes) -> None:
        # flask-compress keys are "<encoding>;<static_key>": ";" at the end is no key
        if not key.endswith(";") and len(self._bodies) < MAX_STATIC_BODIES:
            self._bodies.setdefault(key, body)


def serve_static_once(app) -> None:
    """Make the page's static parts once per worker: each script compressed once per
    encoding (flask-compress's cache, see static_key) and the layout's JSON (a static
    tree, ~10 ms to serialize) once. Call before ``Compress(app.server)``."""
    server = app.server
    server.config.update(COMPRESS_CACHE_KEY=static_key, COMPRESS_CACHE_BACKEND=StaticBodies)
    layout_path = app.config.routes_pathname_prefix + "_dash-layout"

    @functools.cache
    def layout_json() -> bytes:
        return app.serve_layout().get_data()

    assets_path = app.config.requests_pathname_prefix + "assets/"
    folder = os.path.realpath(app.config.assets_folder)

    @functools.lru_cache(maxsize=32)
    def asset(name: str) -> tuple[bytes, str] | None:
        path = os.path.realpath(os.path.join(folder, name))
        if not path.startswith(folder + os.sep) or not os.path.isfile(path):
            return None
        with open(path, "rb") as f:
            return f.read(), mimetypes.guess_type(path)[0] or "application/octet-stream"

    @server.before_request
    def layout_once():
        if request.method == "GET" and request.path == layout_path:
            return Response(layout_json(), mimetype="application/json")
        # The assets from memory, as one body: Flask's files are streamed, and
        # flask-compress gzips no stream (a plain-HTTP browser got the 1.5 MB Plotly
        # bundle uncompressed) and caches none
        if request.method == "GET" and request.path.startswith(assets_path):
            found = asset(request.path[len(assets_path):])
            if found is not None:
                r = Response(found[0], mimetype=found[1])
                r.headers["Cache-Control"] = "no-cache"
                r.add_etag()
                return r.make_conditional(request)
        return None
