"""The first picture: the page as its index HTML, the plot already drawn, before Dash.

A fresh tab spends ~2 s of its main thread before Dash's page draws its paths: Dash's
scripts, React's first render of the layout, the callback graph, Plotly's bundle and the
contour. The index page therefore carries the page itself (:func:`skeleton`: the layout
rendered to plain, inert HTML with the page's own classes, so the real CSS lays it out
where the real page will be) and what the plot shows (:func:`picture`: the contour's
grid, every row's path, the start, the minima, the legend), drawn by a small inline script
(first_picture.js) onto a canvas in the plot's box as soon as the HTML is parsed. When
React replaces the skeleton, assets/optviz.js moves that canvas and legend into the real
plot's box, and removes them once the real paths are drawn.

The same pipeline as the page computes it (callbacks.compute from the link, within the
page's budget, cached per link): a setup the page would refuse, a 3-D view or a
network's training has no first picture (the skeleton's plot stays empty until Dash
draws it).
"""
from __future__ import annotations

import base64
import functools
import hashlib
import html as html_lib
import json
import math
import os
from typing import Any

import numpy as np

from ..networks.slice import read_keys
from ..plots import _untyped
from ..scenarios import SCENARIOS
from ..surfaces import SURFACES
from . import figures, network_view
from .controls import alpha
from .layout import ID, layout, surface_options

__all__ = ["picture", "skeleton", "app_entry", "SCRIPT", "SCRIPT_HASH"]

#: the inline script that draws the picture (its CSP hash is allowed by the server)
SCRIPT = open(os.path.join(os.path.dirname(os.path.abspath(__file__)),
                           "first_picture.js"), encoding="utf-8").read()
SCRIPT_HASH = "'sha256-" + base64.b64encode(
    hashlib.sha256(SCRIPT.encode()).digest()).decode() + "'"

#: the rows' paths are sent as uint16 over the view box widened this much each side:
#: a pixel is ~1/800 of the box, a step 1/65535 of three boxes; further out, clamped
_WIDEN = 1.0
#: at most this many points of each path (the default scene: all of its 301)
_POINTS = 1200


def _u16(values: np.ndarray, lo: float, hi: float) -> str:
    """``values`` quantized to uint16 over [lo, hi] (clamped), base64."""
    v = np.nan_to_num(np.asarray(values, dtype=float), nan=lo, posinf=hi, neginf=lo)
    q = np.round((np.clip(v, lo, hi) - lo) / ((hi - lo) or 1.0) * 65535).astype("<u2")
    return base64.b64encode(q.tobytes()).decode()


def _levels(zmin: float, zmax: float, n: int = 28) -> tuple[float, float, int]:
    """(start, size, count) of Plotly's automatic contour levels for ``n`` contours
    (plotly.js contour/set_contours: a dummy axis' auto ticks over [zmin, zmax], the
    levels at zmin and zmax themselves dropped; tests/test_browser_first_picture.py
    compares them with Plotly's own)."""
    rough = (zmax - zmin) / n
    if not rough > 0:
        return zmin, 1.0, 1
    base = 10 ** math.floor(math.log10(rough))
    step = base * next((m for m in (2, 5) if m > rough / base), 10)
    pad = 1e-4 * (zmax - zmin)          # (Axes.tickFirst widens the range by 1e-4 of it)
    start = math.ceil((zmin - pad) / step) * step
    end = math.floor((zmax + pad) / step) * step
    if math.isclose(start, zmin, abs_tol=1e-12 * step):
        start += step
    if math.isclose(end, zmax, abs_tol=1e-12 * step):
        end -= step
    if start > end:
        start = end = (start + end) / 2
    return start, step, int(round((end - start) / step)) + 1


def picture(query: str) -> dict | None:
    """What the first picture draws for a link (``query``, with or without "?"): read
    from the very figures the page's first run gets (callbacks.compute), or None where
    the page shows no 2-D contour (see the module's docstring)."""
    from .callbacks import compute  # (callbacks imports the layout this one reads)
    from .links import controls_from_query

    setup, _ = controls_from_query(query)
    if setup.get("view") == "3d":
        return None
    try:
        background, main, _, meta, _, scene = compute({**setup, "inspect": False,
                                                       "check": False})
        teaches = scene.get_surface().teaches
        contour, lay = background["data"][0], background["layout"]
        if contour.get("type") != "contour":
            return None
        xs, ys = _array(contour["x"]), _array(contour["y"])
        zt = _array(contour["z"]).reshape(len(ys), len(xs))     # (float32, as Plotly's)
        x0, x1 = (float(v) for v in lay["xaxis"]["range"])
        y0, y1 = (float(v) for v in lay["yaxis"]["range"])
        titles = [html_lib.unescape(lay[a]["title"]["text"]) for a in ("xaxis", "yaxis")]
        marks = [[[float(a), float(b)] for a, b in zip(t["x"], t["y"])] for t in main["data"][1:3]]
    except Exception:                      # (refused, or anything: the page says why)
        return None
    lo, hi = float(np.min(zt)), float(np.max(zt))
    start, size, count = _levels(lo, hi)
    wx, wy = _WIDEN * (x1 - x0), _WIDEN * (y1 - y0)
    box = [x0 - wx, x1 + wx, y0 - wy, y1 + wy]
    rows = []
    for r in meta["rows"]:
        px, py = _array(r["x"]), _array(r["y"])
        keep = np.unique(np.linspace(0, len(px) - 1, min(len(px), _POINTS)).round()
                         .astype(int))
        rows.append({"uid": r["uid"], "label": r["label"], "color": r["color"],
                     "diverged_at": r["diverged_at"], "final": r["final_loss"],
                     "x": _u16(px[keep], box[0], box[1]),
                     "y": _u16(py[keep], box[2], box[3])})
    return {"view": [x0, x1, y0, y1], "titles": titles, "box": box,
            "grid": {"nx": len(xs), "ny": len(ys), "x": [float(xs[0]), float(xs[-1])],
                     "y": [float(ys[0]), float(ys[-1])], "lo": lo, "hi": hi,
                     "z": _u16(zt.ravel(), lo, hi)},
            "levels": [start, size, count],
            "colors": [list(c) for c in figures.CONTOUR_COLORS],
            "minima": marks[0], "saddles": marks[1],
            "start": meta["start"], "rows": rows, "steps": meta["steps"], "teaches": teaches}


def _array(t) -> np.ndarray:
    """A figure's array (a base64 typed one, or a list) as float64, flat."""
    return np.asarray(_untyped(t), dtype=float).ravel()


# -- the layout as plain HTML -----------------------------------------------------------

_VOID = {"input", "br", "hr", "img"}
#: what a dcc component is drawn as before React: its box, nothing that works
_SKIP = {"Store", "Download", "Location", "Interval"}


def _style(style: dict | None) -> str:
    if not style:
        return ""
    css = ";".join(f"{''.join('-' + c.lower() if c.isupper() else c for c in k)}:{v}"
                   for k, v in style.items())
    return f' style="{html_lib.escape(css)}"'


def _attrs(c, extra: str = "", shown: bool = False) -> str:
    cls = " ".join(x for x in (getattr(c, "className", None), extra) if x)
    out = f' class="{html_lib.escape(cls)}"' if cls else ""
    out += _style(getattr(c, "style", None))
    if getattr(c, "hidden", None) and not shown:
        out += " hidden"
    return out


def _text(v) -> str:
    """Text for HTML; a whole number as one (steps 200, not 200.0)."""
    if isinstance(v, float) and v.is_integer() and abs(v) < 1e15:
        v = int(v)
    return html_lib.escape(str(v))


def _option_label(options, value) -> str | None:
    for o in options or []:
        if isinstance(o, dict) and o.get("value") == value:
            return str(o.get("label"))
    return None


def _dcc(c, texts: dict) -> str:
    kind = c._type
    cid = getattr(c, "id", None)
    cid = cid if isinstance(cid, str) else None
    if kind in _SKIP:
        return ""
    given = texts.get("values", {})
    value = given[cid] if cid in given else getattr(c, "value", None)
    if kind == "Dropdown":
        label = texts.get(cid) or _option_label(getattr(c, "options", None), value) or \
            getattr(c, "placeholder", None) or ""
        return (f'<div{_attrs(c, "skel-dd")}><span class="skel-dd-text">{_text(label)}'
                "</span></div>")
    if kind in ("RadioItems", "Checklist"):
        values = value if isinstance(value, list) else [value]
        typ = "radio" if kind == "RadioItems" else "checkbox"
        items = "".join(
            f'<label><input type="{typ}" tabindex="-1"'
            f'{" checked" if o.get("value") in values else ""}> '
            f'{_render(o.get("label"), {})}</label>'
            for o in (getattr(c, "options", None) or []) if isinstance(o, dict))
        return f"<div{_attrs(c)}>{items}</div>"
    if kind == "Input":
        return (f'<input{_attrs(c)} readonly tabindex="-1" '
                f'value="{_text("" if value is None else value)}"'
                f' placeholder="{_text(getattr(c, "placeholder", None) or "")}">')
    if kind == "Slider":             # (dcc's: a track, and its number box unless told not)
        lo, hi = getattr(c, "min", None), getattr(c, "max", None)
        try:
            at = 100 * (float(value) - float(lo)) / (float(hi) - float(lo))
        except (TypeError, ValueError, ZeroDivisionError):
            at = 0.0
        box = "" if getattr(c, "allow_direct_input", None) is False else \
            f'<input class="skel-slider-box" readonly tabindex="-1" value="{_text(value)}">'
        return (f'<div{_attrs(c, "dash-slider-container skel-slider")}>'
                f'<div class="skel-track" style="--at:{at:.1f}%"></div>{box}</div>')
    if kind == "Graph":
        return f"<div{_attrs(c)}></div>"
    if kind == "Markdown":
        return f"<div{_attrs(c)}>{_text(texts.get(cid, ''))}</div>"
    return f"<div{_attrs(c)}></div>"


def _render(c, texts: dict, shown=frozenset()) -> str:
    if c is None or c is False:
        return ""
    if isinstance(c, (list, tuple)):
        return "".join(_render(x, texts, shown) for x in c)
    if isinstance(c, (str, int, float)):
        return _text(c)
    if c._namespace != "dash_html_components":
        return _dcc(c, texts)
    tag = c._type.lower()
    cid = getattr(c, "id", None)
    cid = cid if isinstance(cid, str) else None
    attrs = _attrs(c, shown=cid in shown)
    if tag in _VOID:
        return f"<{tag}{attrs}>"
    inner = _text(texts[cid]) if cid in texts else \
        _render(getattr(c, "children", None), texts, shown)
    return f"<{tag}{attrs}>{inner}</{tag}>"


@functools.lru_cache(maxsize=1)
def _tree():
    return layout()


def skeleton(query: str, teaches: str | None = None) -> str:
    """The page's layout as inert HTML (no ids: React's page comes with those), the
    link's surface, lesson (``teaches``: the run's, where the picture has one), scenario
    and network named in it."""
    from .links import controls_from_query
    setup, _ = controls_from_query(query)
    name, surface = setup.get("scenario"), setup.get("surface")
    texts = {ID.surface: _option_label(surface_options(surface), surface) or "",
             ID.caption: SCENARIOS[name].caption if name in SCENARIOS else "",
             ID.teaches: teaches if teaches is not None else
             SURFACES[surface].teaches if surface in SURFACES else ""}
    if name in SCENARIOS:
        texts[ID.scenario] = f"{list(SCENARIOS).index(name) + 1}. {SCENARIOS[name].title}"
    # the controls at the link's values (callbacks.setup_values: what the page sets)
    from .callbacks import CONTROLS, setup_values
    values = {CONTROLS[k]: v for k, v in setup_values(setup)["controls"].items()
              if k in CONTROLS and v is not None and k != "surface"}
    if isinstance(values.get(ID.lr), (int, float)):
        texts[ID.lr_text] = f"α = {alpha(values[ID.lr]):g}"
        values[ID.lr_box] = float(f"{alpha(values[ID.lr]):.3g}")
    texts["values"] = values
    shown = set()
    prefix = next((p for p in network_view.NAME_DEFAULTS if str(surface).startswith(p)), None)
    if prefix:                      # (as assets/optviz_panels.js networkBox shows it)
        try:
            keys = read_keys(surface[len(prefix):], network_view.NAME_DEFAULTS[prefix])[0]
            texts[ID.net_summary] = " · ".join(
                [str(keys["data"]), str(keys["hidden"] or "no hidden layer"), str(keys["act"])])
            shown.add(ID.net_box)
        except Exception:
            pass
    return _render(_tree(), texts, shown)


def _json_script(data: Any) -> str:
    text = json.dumps(data, separators=(",", ":"), allow_nan=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


@functools.lru_cache(maxsize=32)
def app_entry(query: str | None) -> str:
    """Dash's ``{%app_entry%}`` for a request with this query string (None: the page's
    setup is not known yet, no picture): the skeleton in React's container, the
    picture's data, and the script that draws it (remembered for
    the 32 latest links: a class opening one demo costs one picture per worker)."""
    data = picture(query) if query is not None else None
    return ('<div id="react-entry-point"><div class="skeleton" aria-hidden="true" inert>'
            + skeleton(query or "", data and data.pop("teaches")) + "</div></div>"
            + (f'<script type="application/json" id="first-picture-data">'
               f"{_json_script(data)}</script>" if data else "")
            + f"<script>{SCRIPT}</script>")
