"""The Flask side of the page: health check, security headers, request size limit.

Configuration comes from the environment (documented in the README):

- ``OPTVIZ_FRAME_ANCESTORS``: who may embed the page in an iframe, as a CSP
  ``frame-ancestors`` source list (default ``'self'``; e.g. ``'self' https://lms.example.edu``).
- ``OPTVIZ_MAX_BODY``: largest request body in bytes (default 262144); larger ones get 413.
"""
from __future__ import annotations

import os

from flask import Flask, jsonify

__all__ = ["harden"]

DEFAULT_MAX_BODY = 256 * 1024


def harden(server: Flask, version: str) -> None:
    """Add /healthz, the security headers and the body limit to ``server``."""
    server.config["MAX_CONTENT_LENGTH"] = int(os.environ.get("OPTVIZ_MAX_BODY",
                                                             DEFAULT_MAX_BODY))
    ancestors = os.environ.get("OPTVIZ_FRAME_ANCESTORS", "'self'").strip() or "'self'"

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
