"""The Dash layer: ``create_app()``. Nothing below optviz.web imports it."""
from __future__ import annotations

import os

from dash import Dash
from flask import has_request_context, request
from flask_compress import Compress

from .. import __version__
from .callbacks import register
from .classroom.api import blueprint as class_api
from .classroom.api import classes_health, fast_follow, prepare_store, seen_setup
from .explore_panel import register as register_explore
from .first_picture import SCRIPT_HASH, app_entry
from .jobs import background_manager, jobs_health
from .layout import ID, layout
from .server import harden, serve_static_once
from .wheel import register as register_wheel

__all__ = ["create_app"]

#: The page's CSS and clientside JavaScript, shipped inside the package (so that a
#: pip-installed ``optviz serve`` has them too).
ASSETS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "assets")


#: What the first picture waits for that Dash asks for only once its layout is drawn:
#: Plotly's cartesian bundle (assets/optviz.js hands it to the graphs) and dcc's chunks
#: for the graphs, sliders, menus and the lesson's Markdown. Fetched from the start, beside
#: Dash's own scripts (on a lecture hall's network, 1.5 MB that no longer waits for React).
PRELOADED = ("assets/vendor-plotly-cartesian.min.js",
             "_dash-component-suites/dash/dcc/async-graph.js",
             "_dash-component-suites/dash/dcc/async-slider.js",
             "_dash-component-suites/dash/dcc/async-dropdown.js",
             "_dash-component-suites/dash/dcc/async-markdown.js")


def preloads(prefix: str) -> str:
    """The index page's ``<link rel="preload">`` tags for :data:`PRELOADED`."""
    return "\n".join(f'<link rel="preload" href="{prefix}{path}" as="script">'
                      for path in PRELOADED)


def _picture_query() -> str | None:
    """The setup the index page's first picture draws: the link's; at a class's address
    without one (a student joining), the class's setup where this worker has it at hand
    (no database read for an index page), else None: no picture (the default's would be
    the wrong one)."""
    if not has_request_context():
        return ""
    query = request.query_string.decode("latin-1")
    parts = request.path.strip("/").split("/")
    if not query and len(parts) == 2 and parts[0] == "c":
        return seen_setup(parts[1])
    return query


def create_app() -> Dash:
    """The optviz page, ready for ``app.run()`` or gunicorn (``app.server``)."""
    # long explorations run as background callbacks: Diskcache here, Celery on REDIS_URL
    manager, celery_app = background_manager()
    app = Dash(__name__, title="optviz: optimizers racing on a loss surface",
               assets_folder=ASSETS, update_title=None,
               # served, not put on the page: Plotly's cartesian bundle, which
               # assets/optviz.js has Dash's graphs fetch instead of the full one
               assets_ignore=r"^vendor-",
               background_callback_manager=manager,
               meta_tags=[{"name": "viewport",
                           "content": "width=device-width, initial-scale=1"}])
    app.index_string = app.index_string.replace("<html>", '<html lang="en">', 1).replace(
        "{%css%}", "{%css%}\n" + preloads(app.config.requests_pathname_prefix), 1)
    # the first picture: the page and its plot in the index HTML itself (first_picture.py)
    interpolate = app.interpolate_index

    def index_with_picture(**kwargs):
        kwargs["app_entry"] = app_entry(_picture_query())
        return interpolate(**kwargs)
    app.interpolate_index = index_with_picture
    # a static tree (not a function): Dash registers the component libraries when the
    # layout is assigned, in every gunicorn worker, before any script is requested
    app.layout = layout()
    register(app)
    register_explore(app, ID)
    app.server.register_blueprint(class_api)   # /api/classes (class mode)
    register_wheel(app.server)          # /wheel/optviz-*.whl (the Python download's engine)
    prepare_store()                     # its database made (SQLite) and migrated, once
    app.celery_app = celery_app         # for `celery -A app:celery_app worker`
    # The fastest levels: the base64 typed arrays barely compress further at higher ones.
    # A browser on HTTPS or localhost asks for "gzip, deflate, br, zstd" (Chromium, checked)
    # and gets zstd: a 69 KB page answer in 0.14 ms at level 1 (31 KB), against 1.15 ms for
    # gzip at level 1 (40 KB), which plain-HTTP clients still get (level 6: 8 ms)
    app.server.config.update(COMPRESS_LEVEL=1, COMPRESS_BR_LEVEL=1, COMPRESS_ZSTD_LEVEL=1)
    serve_static_once(app)          # the scripts compressed, the layout serialized, once
    Compress(app.server)
    # /healthz, security headers, request size limit, callback envelopes checked
    harden(app.server, __version__, app.callback_map, [*app.csp_hashes(), SCRIPT_HASH],
           jobs_health, classes_health)
    # a follower's poll of an unchanged class: answered before Flask (classroom.api)
    app.server.wsgi_app = fast_follow(app.server.wsgi_app,
                                      app.server.config["OPTVIZ_SECURITY_HEADERS"])
    # Dash records which component scripts it may serve only while rendering the index
    # page; a gunicorn worker that has not rendered it yet answers those scripts with a
    # 500 (the page loads from another worker). Render it once here, in every worker.
    with app.server.test_request_context("/"):
        app.index()
    return app
