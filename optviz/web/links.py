"""The page setup in the URL's query string, and back: shareable links.

A link is readable and short, e.g.::

    ?surface=saddle&lr=0.01&mu=0.9&steps=200&start=-1.8,0.001&rows=gd,sgd:mu=0:sigma=0.5,adam

Keys: ``scenario``, ``surface``, ``f``, ``fv`` and ``fm`` (the formula, its view box and
minima, with ``surface=formula``), ``view`` (3d), ``lr`` (alpha, not its log), ``mu`` (mu
/ beta1), ``b2`` (beta2 / rho), ``sigma`` (noise), ``sched``, ``gamma``, ``every`` (step
size), ``warmup``, ``steps``, ``seed``, ``clip``, ``b`` (minibatch size), ``start`` (x,y),
``rows`` (the rows that are on, comma-separated, each ``uid`` followed by ``:key=value``
overrides among lr, mu, b2, sigma, wd and the flag ``const``) and ``live`` (mid-run
changes, ``step:lr=..:mu=..:b2=..:sigma=..`` comma-separated). Missing keys take their
defaults.

:func:`controls_from_query` trusts nothing: it only builds the dict the page's controls
take; a value that is not even the right kind (text where a number goes, an unknown
surface) is left at its default and reported, so a damaged link still opens a working
page. Ranges are checked where every control is checked, in
:func:`optviz.web.controls.scene_from_controls`.
"""
from __future__ import annotations

import math
from typing import Any
from urllib.parse import parse_qs, urlencode

from ..scenarios import SCENARIOS
from ..schedules import SCHEDULES
from ..surfaces import SURFACES
from .controls import (
    FORMULA,
    LIVE_CONTROLS,
    ControlError,
    alpha,
    default_controls,
    known_surface,
    row_name,
    scenario_controls,
    scene_from_controls,
)

__all__ = ["query_from_controls", "controls_from_query", "MAX_QUERY", "ROW_KEYS", "LIVE_KEYS"]

#: Longer query strings are refused (a full 24-row setup with changes is ~1.5 KB).
MAX_QUERY = 4000

_NUMBERS = {"mu": "beta1", "b2": "beta2", "sigma": "noise", "gamma": "gamma",
            "every": "step_size", "warmup": "warmup", "steps": "steps", "seed": "seed",
            "clip": "clip_norm", "b": "batch_size"}
#: a row's overrides, link key -> row setting (class mode's row knobs read it too)
ROW_KEYS = {"lr": "lr", "mu": "beta1", "b2": "beta2", "sigma": "noise", "wd": "weight_decay"}
#: the sliders a live change (and a class challenge) turns, link key -> control
LIVE_KEYS = {"lr": "lr_log10", "mu": "beta1", "b2": "beta2", "sigma": "noise"}


def _fmt(v: float) -> str:
    """Shortest text that reads back as the same number (0.48, not 0.47999999999999998;
    steps=80, not 80.0: a number box hands whole numbers over as floats)."""
    if isinstance(v, float) and v.is_integer() and abs(v) < 1e15:
        return str(int(v))
    return repr(v) if isinstance(v, float) else str(v)


def _alpha(lr_log10: float) -> str:
    """alpha for a link from the log slider's value (read back by _log_alpha)."""
    return f"{alpha(lr_log10):g}"


def _log_alpha(text: str) -> float:
    v = _float(text)
    if v <= 0:
        raise ValueError(text)
    return math.log10(v)


def _reference(scenario: str | None, surface: str | None) -> dict[str, Any]:
    """What a link starts from: the scenario's setup (else the defaults), moved to
    ``surface`` with that surface's suggested rate and start if it names another one."""
    c = scenario_controls(scenario) if scenario in SCENARIOS else default_controls(surface)
    if known_surface(surface) and surface != c["surface"]:
        c.update(surface=surface, lr_log10=default_controls(surface)["lr_log10"], start=None)
    return c


def _row_text(r: dict) -> str:
    parts = [r["uid"]] + [f"{k}={_fmt(float(r[name]))}" for k, name in ROW_KEYS.items()
                          if r.get(name) not in (None, "")]
    return ":".join(parts + (["const"] if r.get("constant") else []))


def query_from_controls(c: dict[str, Any]) -> str:
    """The query string (no '?') of a validated setup: only what differs from where
    :func:`controls_from_query` starts, so the default page has an empty query."""
    scenario = c.get("scenario") if c.get("scenario") in SCENARIOS else None
    ref = _reference(scenario, c["surface"])
    out: dict[str, str] = {}
    if scenario:
        out["scenario"] = scenario
    if c["surface"] != (scenario_controls(scenario)["surface"] if scenario
                        else default_controls()["surface"]):
        out["surface"] = c["surface"]
    if c["surface"] == FORMULA:
        out["f"] = c.get("formula") or ""
        if c.get("formula_view"):
            out["fv"] = str(c["formula_view"])
        if c.get("formula_minima"):
            out["fm"] = str(c["formula_minima"])
    if c.get("view") == "3d":
        out["view"] = "3d"
    if alpha(c["lr_log10"]) != alpha(ref["lr_log10"]):
        out["lr"] = _alpha(c["lr_log10"])
    for key, name in _NUMBERS.items():
        if c.get(name) != ref.get(name) and c.get(name) is not None:
            out[key] = _fmt(c[name])
    if (c.get("schedule") or "constant") != (ref.get("schedule") or "constant"):
        out["sched"] = c["schedule"]
    start = c.get("start")
    if start is None and ref.get("start") is not None and c["surface"] in SURFACES:
        start = SURFACES[c["surface"]].default_start   # (the scenario's start is another)
    if start is not None and list(start) != list(ref.get("start") or []):
        out["start"] = ",".join(_fmt(float(v)) for v in start)
    rows = [_row_text(r) for r in c.get("rows") or [] if r.get("on")]
    if rows != [_row_text(r) for r in ref["rows"] if r.get("on")]:
        out["rows"] = ",".join(rows)
    if c.get("changes"):
        out["live"] = ",".join(
            f"{step}:" + ":".join(f"{k}={_alpha(v[name]) if k == 'lr' else _fmt(float(v[name]))}"
                                  for k, name in LIVE_KEYS.items())
            for step, v in c["changes"])
    return urlencode(out, safe=",:~=;")


def _float(text: str) -> float:
    v = float(text)
    if not math.isfinite(v):
        raise ValueError(text)
    return v


def controls_from_query(search: str | None) -> tuple[dict[str, Any], list[str]]:
    """The setup a query string describes (with or without '?'), and a list of what was
    ignored. ``scenario=<name>`` starts from that scenario; other keys override it."""
    problems: list[str] = []
    search = (search or "").lstrip("?")
    if len(search) > MAX_QUERY:
        return default_controls(), [f"link: longer than {MAX_QUERY} characters, ignored"]
    q = {k: v[-1] for k, v in parse_qs(search, keep_blank_values=True).items()}
    name = q.get("scenario")
    if name and name not in SCENARIOS:
        problems.append(f"link: unknown scenario {name[:30]!r}")
    if "surface" in q and not known_surface(q["surface"]):
        problems.append(f"link: unknown surface {q['surface'][:30]!r}")
    c = _reference(name, q.get("surface"))
    if "f" in q:
        c["formula"] = q["f"][:300]          # checked where every control is checked
    if "fv" in q:
        c["formula_view"] = q["fv"][:80]
    if "fm" in q:
        c["formula_minima"] = q["fm"][:120]
    if q.get("view") in ("2d", "3d"):
        c["view"] = q["view"]

    def number(key, to, convert=_float):
        if key in q:
            try:
                c[to] = convert(q[key])
            except ValueError:
                problems.append(f"link: {key}={q[key][:20]!r} is not a number")

    number("lr", "lr_log10", _log_alpha)
    for key, name in _NUMBERS.items():
        number(key, name)
    if "sched" in q:
        if q["sched"] in SCHEDULES:
            c["schedule"] = q["sched"]
        else:
            problems.append(f"link: unknown schedule {q['sched'][:30]!r}")
    if "start" in q:
        try:
            x, y = (_float(v) for v in q["start"].split(","))
            c["start"] = [x, y]
        except ValueError:
            problems.append(f"link: start={q['start'][:30]!r} is not a point x,y")
    if "rows" in q:
        rows = _rows(q["rows"], problems)
        if rows:
            c["rows"] = rows
    if "live" in q:
        c["changes"] = _changes(q["live"], problems)
    return _mend(c, _reference(q.get("scenario"), c["surface"]), problems), problems


#: the setup's keys behind each control a ControlError names
_CONTROL_KEYS = {"lr": ("lr_log10",), "beta1": ("beta1",), "beta2": ("beta2",),
                 "noise": ("noise",), "steps": ("steps",), "seed": ("seed",),
                 "schedule": ("schedule", "gamma", "step_size", "warmup"),
                 "gamma": ("gamma",), "step_size": ("step_size",), "warmup": ("warmup",),
                 "start": ("start",), "clip_norm": ("clip_norm",),
                 "batch_size": ("batch_size",), "rows": ("rows",), "live": ("changes",),
                 "formula": ("formula", "formula_view", "formula_minima")}


def _mend(c: dict[str, Any], ref: dict[str, Any], problems: list[str]) -> dict[str, Any]:
    """A damaged link still opens a working page: each value the page would refuse
    (steps=-5, a warmup past the steps, a row's junk override) takes the value the link
    started from, and ``problems`` says so."""
    for _ in range(len(_CONTROL_KEYS) + 8):
        try:
            scene_from_controls(c)
            return c
        except ControlError as e:
            if e.control.startswith("row:"):
                uid = e.control[4:]
                c["rows"] = [{"uid": r["uid"], "on": r.get("on", True)}
                             if r.get("uid") == uid else r for r in c["rows"]]
            elif e.control in _CONTROL_KEYS:
                for key in _CONTROL_KEYS[e.control]:
                    c[key] = ref.get(key)
            else:
                return c                  # (the page says what; nothing to fall back on)
            problems.append(f"link: {e}; ignored")
    return c


def _rows(text: str, problems: list[str]) -> list[dict]:
    rows, seen = [], set()
    for item in text.split(",")[:40]:
        uid, *opts = item.split(":")
        try:
            row_name(uid)
        except ControlError:
            problems.append(f"link: unknown optimizer row {uid[:30]!r}")
            continue
        if uid in seen:
            continue
        seen.add(uid)
        row: dict[str, Any] = {"uid": uid, "on": True}
        for opt in opts:
            key, _, value = opt.partition("=")
            if key == "const" and not value:
                row["constant"] = True
            elif key in ROW_KEYS:
                try:
                    row[ROW_KEYS[key]] = _float(value)
                except ValueError:
                    problems.append(f"link: {uid} {key}={value[:20]!r} is not a number")
            else:
                problems.append(f"link: {uid} has no setting {key[:20]!r}")
        rows.append(row)
    return rows


def _changes(text: str, problems: list[str]) -> list:
    out = []
    for item in text.split(",")[:40]:
        step, *opts = item.split(":")
        try:
            change: dict[str, float] = {}
            for opt in opts:
                key, _, value = opt.partition("=")
                name = LIVE_KEYS[key]
                change[name] = _log_alpha(value) if key == "lr" else _float(value)
            if set(change) != set(LIVE_CONTROLS):
                raise ValueError
            out.append([int(step), change])
        except (KeyError, ValueError, OverflowError):
            problems.append(f"link: live change {item[:40]!r} is not "
                            "step:lr=..:mu=..:b2=..:sigma=..")
            return []
    return out
