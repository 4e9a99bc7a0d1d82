"""The Flask side of the page: health check, security headers, request size limit, and a
check of every callback request's envelope before Dash sees it.

Configuration comes from the environment (documented in the README):

- ``OPTVIZ_FRAME_ANCESTORS``: who may embed the page in an iframe, as a CSP
  ``frame-ancestors`` source list (default ``'self'``; e.g. ``'self' https://lms.example.edu``).
- ``OPTVIZ_MAX_BODY``: largest request body in bytes (default 262144); larger ones get 413.
"""
from __future__ import annotations

import os

from flask import Flask, jsonify, request

__all__ = ["harden", "envelope_error"]

DEFAULT_MAX_BODY = 256 * 1024


def envelope_error(body, callback_map) -> str | None:
    """Why a POST to /_dash-update-component is malformed, or None if its shape is what
    the Dash renderer sends. (Stock Dash answers most malformed envelopes with a 500;
    the values inside are checked later, at optviz.controls.)"""
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
    elif not is_out(outputs):
        return "outputs must be {id, property}"
    changed = body.get("changedPropIds", [])
    if not isinstance(changed, list) or not all(isinstance(c, str) for c in changed):
        return "changedPropIds must be a list of strings"
    return None


def harden(server: Flask, version: str, callback_map=None) -> None:
    """Add /healthz, the security headers, the body limit and the envelope check."""
    server.config["MAX_CONTENT_LENGTH"] = int(os.environ.get("OPTVIZ_MAX_BODY",
                                                             DEFAULT_MAX_BODY))
    ancestors = os.environ.get("OPTVIZ_FRAME_ANCESTORS", "'self'").strip() or "'self'"

    @server.before_request
    def check_envelope():
        if request.method == "POST" and request.path.endswith("/_dash-update-component") \
                and callback_map is not None:
            reason = envelope_error(request.get_json(silent=True), callback_map)
            if reason:
                return jsonify(error=reason), 400
        return None

    @server.get("/healthz")
    def healthz():
        return jsonify(status="ok", version=version)

    @server.after_request
    def headers(response):
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
        response.headers.setdefault("Content-Security-Policy",
                                    f"frame-ancestors {ancestors}")
        return response
