"""Class mode: one live lecture, an instructor's projector and every student's page.

A class has a join code (six characters without look-alikes), a key the instructor holds
(never stored: its SHA-256 is, compared in constant time), and the setup on the
projector (the page's link query) with a version students poll. A challenge fixes a
setup, the knobs students may turn, a goal and a number of steps; a submission is a
student's name and knob values, and the server computes its result itself from the
challenge's setup through the page's own validation (:func:`score`): nothing a student
sends is taken as a result. Every failure is a :class:`ClassError` with an HTTP status
and a message that names the field and what it may be.
"""
from __future__ import annotations

import functools
import hashlib
import hmac
import json
import math
import os
import secrets
import time
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from ..controls import PAGE_LIMITS, ControlError, scene_from_controls
from ..links import LIVE_KEYS, ROW_KEYS, controls_from_query, query_from_controls
from .store import Store, challenges, classes, submissions

__all__ = ["ClassError", "create_class", "get_class", "set_state", "add_challenge",
           "close_challenge", "submit", "results", "results_csv", "KNOBS", "limits"]

#: The join code's alphabet: no 0/O, 1/I/L, so a code read off a projector is typed right.
ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 6
#: The knobs a challenge may open, by their link names (the controls links.py maps them
#: to): the page's global sliders, or a row's own value as "<row>:<knob>" ("adam:lr").
KNOBS = LIVE_KEYS
ROW_KNOBS = {k: v for k, v in ROW_KEYS.items() if k in KNOBS}
MAX_NAME = 24
MAX_STATE = 2000            # characters of a setup's query (a page's link is ~200)
MAX_CHALLENGE_STEPS = 5000


class ClassError(Exception):
    """A refused request: ``status`` (400, 403, 404, 409, 429) and a message that says what
    to change."""

    def __init__(self, status: int, message: str, field: str | None = None,
                 retry_after: float | None = None):
        super().__init__(message)
        self.status, self.message, self.field, self.retry_after = \
            status, message, field, retry_after

    def body(self) -> dict:
        return {"error": self.message, **({"field": self.field} if self.field else {})}


@dataclass(frozen=True)
class Limits:
    students: int = 500          # names with a submission, per class
    per_second: float = 1.0      # submissions a student may make each second
    idle_hours: float = 24.0     # a class untouched this long is closed ...
    keep_days: float = 7.0       # ... and deleted this long after


def limits() -> Limits:
    """The limits, from OPTVIZ_CLASS_STUDENTS, OPTVIZ_CLASS_SUBMIT_PER_SECOND,
    OPTVIZ_CLASS_IDLE_HOURS and OPTVIZ_CLASS_KEEP_DAYS (defaults: 500, 1, 24, 7)."""
    def number(text, default):
        try:
            v = float(text if text is not None else default)
        except ValueError:
            return default
        return v if math.isfinite(v) and v > 0 else default
    return Limits(int(number(os.environ.get("OPTVIZ_CLASS_STUDENTS"), 500)),
                  number(os.environ.get("OPTVIZ_CLASS_SUBMIT_PER_SECOND"), 1.0),
                  number(os.environ.get("OPTVIZ_CLASS_IDLE_HOURS"), 24.0),
                  number(os.environ.get("OPTVIZ_CLASS_KEEP_DAYS"), 7.0))


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8", "replace")).hexdigest()


def _new_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def valid_code(code: Any) -> str:
    """The code, upper-cased, if it could be one (else 404: no such class)."""
    if not isinstance(code, str) or len(code) != CODE_LENGTH:
        raise ClassError(404, "no class with this code")
    code = code.upper()
    if any(c not in ALPHABET for c in code):
        raise ClassError(404, "no class with this code")
    return code


def _setup_query(state: Any) -> str:
    """A setup as the page's link query, checked as the page checks a link: text, bounded,
    every value within its range (the canonical query of what it parses to)."""
    if not isinstance(state, str):
        raise ClassError(400, "state: expected the page's link query as text", "state")
    if len(state) > MAX_STATE:
        raise ClassError(400, f"state: at most {MAX_STATE} characters", "state")
    setup, problems = controls_from_query(state.lstrip("?"))
    if problems:
        raise ClassError(400, "state: " + "; ".join(problems), "state")
    try:
        scene_from_controls(setup)
    except ControlError as e:
        raise ClassError(400, f"state: {e}", "state") from None
    return query_from_controls(setup)


# -- classes ----------------------------------------------------------------------------------

def create_class(store: Store, state: str = "") -> dict:
    """A new class: {"code", "key"} (the key is shown once and never stored)."""
    _purge(store)
    state = _setup_query(state)
    key = secrets.token_urlsafe(24)                  # 192 random bits
    now = store.now()
    for _ in range(20):
        code = _new_code()
        try:
            with store.engine.begin() as conn:
                conn.execute(classes.insert().values(
                    code=code, key_hash=_hash(key), state=state, version=1,
                    show_names=False, created_at=now, touched_at=now))
            return {"code": code, "key": key}
        except sa.exc.IntegrityError:                # that code is taken: another
            continue
    raise ClassError(503, "no free class code; try again")


def _class_row(conn, code: str, store: Store, *, touch: bool = False):
    row = conn.execute(sa.select(classes).where(classes.c.code == code)).mappings().first()
    if row is None:
        raise ClassError(404, "no class with this code")
    now = store.now()
    idle = limits().idle_hours * 3600
    if row["closed_at"] is None and now - row["touched_at"] > idle:
        conn.execute(classes.update().where(classes.c.code == code).values(closed_at=now))
        row = {**row, "closed_at": now}
    if row["closed_at"] is not None:
        raise ClassError(404, "this class has closed (idle for a day, or ended)")
    if touch:
        conn.execute(classes.update().where(classes.c.code == code).values(touched_at=now))
    return row


def check_key(row, key: Any) -> None:
    """403 unless ``key`` is the class's (compared in constant time)."""
    given = _hash(key) if isinstance(key, str) and 0 < len(key) <= 200 else ""
    if not hmac.compare_digest(given, row["key_hash"]):
        raise ClassError(403, "X-Class-Key: missing or not this class's key")


def get_class(store: Store, code: str) -> dict:
    """What a student follows: {"version", "state", "challenge"} (no key, no results)."""
    code = valid_code(code)
    with store.engine.begin() as conn:
        row = _class_row(conn, code, store)
        ch = conn.execute(
            sa.select(challenges).where(challenges.c.class_code == code)
            .order_by(challenges.c.id.desc()).limit(1)).mappings().first()
    return {"version": row["version"], "state": row["state"],
            "challenge": _challenge_view(ch, store.now()) if ch else None}


def _challenge_view(ch, now: float) -> dict:
    closed = ch["closed_at"] is not None or (ch["closes_at"] is not None
                                             and now >= ch["closes_at"])
    return {"id": ch["id"], "knobs": json.loads(ch["knobs"]), "goal": json.loads(ch["goal"]),
            "steps": ch["steps"], "state": ch["setup"], "closes_at": ch["closes_at"],
            "open": not closed}


def set_state(store: Store, code: str, key: Any, state: Any) -> dict:
    """The instructor's setup, for every follower: {"version"}."""
    code = valid_code(code)
    query = _setup_query(state)
    with store.engine.begin() as conn:
        row = _class_row(conn, code, store, touch=True)
        check_key(row, key)
        version = row["version"] + (query != row["state"])
        conn.execute(classes.update().where(classes.c.code == code)
                     .values(state=query, version=version))
    return {"version": version}


def set_show_names(store: Store, code: str, key: Any, show: Any) -> dict:
    code = valid_code(code)
    if not isinstance(show, bool):
        raise ClassError(400, "show_names: true or false", "show_names")
    with store.engine.begin() as conn:
        check_key(_class_row(conn, code, store, touch=True), key)
        conn.execute(classes.update().where(classes.c.code == code).values(show_names=show))
    return {"show_names": show}


# -- challenges -------------------------------------------------------------------------------

def _knobs(knobs: Any, setup: dict) -> list[str]:
    rows = {r["uid"] for r in setup["rows"] if r.get("on")}
    if not isinstance(knobs, list) or not 1 <= len(knobs) <= 4:
        raise ClassError(400, "knobs: a list of 1 to 4 of " + ", ".join(KNOBS) +
                         ", or <row>:<knob> for a row that is on", "knobs")
    out = []
    for k in knobs:
        ok = isinstance(k, str) and (k in KNOBS or (
            k.count(":") == 1 and k.split(":")[0] in rows and k.split(":")[1] in ROW_KNOBS))
        if not ok or k in out:
            raise ClassError(400, f"knobs: {str(k)[:30]!r} is not one of " + ", ".join(KNOBS) +
                             " or <row>:<knob> for a row that is on (rows on: " +
                             ", ".join(sorted(rows)) + ")", "knobs")
        out.append(k)
    return out


def _scored_row(rows: list[str], knobs: list[str]) -> str | None:
    """The row a challenge scores when the instructor names none: the first row on that
    every knob moves (a μ knob on GD, which has no momentum, would change nothing)."""
    from ...optimizers import OPTIMIZERS
    from ..controls import row_name
    wanted = {KNOBS[k] for k in knobs if k in KNOBS} - {"lr_log10", "noise"}
    for uid in rows:
        if wanted <= set(OPTIMIZERS[row_name(uid)].knobs):
            return uid
    return rows[0] if rows else None


def _goal(goal: Any, setup: dict, surface_floor: float | None, knobs: list[str]) -> dict:
    rows = [r["uid"] for r in setup["rows"] if r.get("on")]
    if not isinstance(goal, dict) or goal.get("kind") not in ("reach", "lowest"):
        raise ClassError(400, 'goal: {"kind": "reach", "epsilon": e} (L - L* <= e within '
                         'the steps) or {"kind": "lowest"} (the lowest loss at the last '
                         'step)', "goal")
    row = goal.get("row", _scored_row(rows, knobs))
    if row not in rows:
        raise ClassError(400, "goal.row: one of the rows that are on: " + ", ".join(rows),
                         "goal")
    out = {"kind": goal["kind"], "row": row}
    if goal["kind"] == "reach":
        eps = goal.get("epsilon")
        if not isinstance(eps, (int, float)) or isinstance(eps, bool) or \
                not (1e-12 <= eps <= 1e6):
            raise ClassError(400, "goal.epsilon: a number in [1e-12, 1e6]", "goal")
        if surface_floor is None:
            raise ClassError(400, "goal: this surface has no minimum to reach; use "
                             '{"kind": "lowest"}', "goal")
        out["epsilon"] = float(eps)
    return out


def add_challenge(store: Store, code: str, key: Any, body: Any) -> dict:
    """A challenge from the class's current setup: {"id"}. ``body``: {"knobs": [...],
    "goal": {...}, "steps": N, "minutes": optional time limit}."""
    from ...plots import _floor
    code = valid_code(code)
    with store.engine.connect() as conn:          # the key before anything else
        check_key(_class_row(conn, code, store), key)
        conn.rollback()
    if not isinstance(body, dict):
        raise ClassError(400, "expected a JSON object with knobs, goal and steps")
    steps = body.get("steps")
    if not isinstance(steps, int) or isinstance(steps, bool) or \
            not 1 <= steps <= MAX_CHALLENGE_STEPS:
        raise ClassError(400, f"steps: a whole number in [1, {MAX_CHALLENGE_STEPS}]", "steps")
    minutes = body.get("minutes")
    if minutes is not None and (not isinstance(minutes, (int, float)) or
                                isinstance(minutes, bool) or not 0.1 <= minutes <= 600):
        raise ClassError(400, "minutes: a time limit in [0.1, 600], or none", "minutes")
    with store.engine.begin() as conn:
        row = _class_row(conn, code, store, touch=True)
        check_key(row, key)
        setup, _ = controls_from_query(row["state"])
        setup["steps"] = steps
        try:
            scene = scene_from_controls(setup)
        except ControlError as e:
            raise ClassError(400, f"steps: {e}", "steps") from None
        knobs = _knobs(body.get("knobs"), setup)
        goal = _goal(body.get("goal"), setup, _floor(scene.get_surface()), knobs)
        now = store.now()
        conn.execute(challenges.update().where(challenges.c.class_code == code)
                     .where(challenges.c.closed_at.is_(None)).values(closed_at=now))
        result = conn.execute(challenges.insert().values(
            class_code=code, setup=query_from_controls(setup), knobs=json.dumps(knobs),
            goal=json.dumps(goal), steps=steps, created_at=now,
            closes_at=now + 60 * minutes if minutes else None))
        version = row["version"] + 1               # followers see the new challenge
        conn.execute(classes.update().where(classes.c.code == code).values(version=version))
    return {"id": int(result.inserted_primary_key[0])}


def _challenge(conn, code: str, cid: Any):
    if not isinstance(cid, int) or cid < 1:
        raise ClassError(404, "no such challenge in this class")
    ch = conn.execute(sa.select(challenges).where(challenges.c.id == cid)
                      .where(challenges.c.class_code == code)).mappings().first()
    if ch is None:
        raise ClassError(404, "no such challenge in this class")
    return ch


def close_challenge(store: Store, code: str, key: Any, cid: Any) -> dict:
    code = valid_code(code)
    with store.engine.begin() as conn:
        check_key(_class_row(conn, code, store, touch=True), key)
        ch = _challenge(conn, code, cid)
        if ch["closed_at"] is None:
            conn.execute(challenges.update().where(challenges.c.id == cid)
                         .values(closed_at=store.now()))
        conn.execute(classes.update().where(classes.c.code == code)
                     .values(version=classes.c.version + 1))
    return {"id": cid, "open": False}


# -- submissions ------------------------------------------------------------------------------

def _name(name: Any) -> str:
    if not isinstance(name, str) or not name.strip():
        raise ClassError(400, f"name: 1 to {MAX_NAME} characters", "name")
    name = " ".join(name.split())                   # no control characters, one space
    if len(name) > MAX_NAME or any(not c.isprintable() for c in name):
        raise ClassError(400, f"name: 1 to {MAX_NAME} printable characters", "name")
    return name


def _values(values: Any, knobs: list[str]) -> dict[str, float]:
    if not isinstance(values, dict) or set(values) - set(knobs) or not values:
        raise ClassError(400, "values: an object of numbers for the challenge's knobs: " +
                         ", ".join(knobs), "values")
    out = {}
    for k, v in values.items():
        if not isinstance(v, (int, float)) or isinstance(v, bool) or not math.isfinite(v):
            raise ClassError(400, f"values.{k}: a finite number", "values")
        out[k] = float(v)
    return out


@functools.lru_cache(maxsize=4096)
def score(setup: str, values_json: str, goal_json: str) -> dict:
    """The result of a challenge's ``setup`` (link query) with a student's knob values,
    computed here through the page's validation and budget (ClassError 400 naming the
    knob): {"loss", "reached_at", "diverged_at"}. Identical submissions are computed
    once per worker."""
    from ...plots import _floor
    from ..callbacks import _run
    values, goal = json.loads(values_json), json.loads(goal_json)
    controls, _ = controls_from_query(setup)
    for knob, v in values.items():
        if ":" in knob:
            uid, name = knob.split(":")
            for r in controls["rows"]:
                if r["uid"] == uid:
                    r[ROW_KNOBS[name]] = v
        elif knob == "lr":                       # (the slider's log10, in α's terms)
            lo, hi = (10.0 ** e for e in PAGE_LIMITS["lr_log10"])
            if not lo <= v <= hi:
                raise ClassError(400, f"values.lr: {v:g} is not a learning rate in "
                                 f"[{lo:g}, {hi:g}]", "values")
            controls["lr_log10"] = math.log10(v)
        else:
            controls[KNOBS[knob]] = v
    try:
        scene = scene_from_controls(controls)
        run = _run(scene)
    except ControlError as e:
        raise ClassError(400, f"values: {e}", "values") from None
    i = [r["uid"] for r in controls["rows"] if r.get("on")].index(goal["row"])
    loss = run.loss[i, 0]
    div = int(run.diverged_at[i, 0])
    reached = None
    if goal["kind"] == "reach" and div < 0:
        gap = loss - _floor(scene.get_surface())
        hits = gap <= goal["epsilon"]
        reached = int(hits.argmax()) if hits.any() else None
    final = float(loss[-1])
    return {"loss": final if div < 0 and math.isfinite(final) else None,
            "reached_at": reached, "diverged_at": div if div >= 0 else None}


def submit(store: Store, code: str, cid: Any, body: Any) -> dict:
    """A student's try: {"id", "result"}, committed before it is answered."""
    code = valid_code(code)
    if not isinstance(body, dict):
        raise ClassError(400, "expected a JSON object with name and values")
    name = _name(body.get("name"))
    lim = limits()
    with store.engine.connect() as conn:          # read what the result needs
        _class_row(conn, code, store)
        ch = _challenge(conn, code, cid)
        conn.rollback()
    view = _challenge_view(ch, store.now())
    if not view["open"]:
        raise ClassError(409, "this challenge is closed")
    values = _values(body.get("values"), view["knobs"])
    result = score(ch["setup"], json.dumps(values, sort_keys=True), ch["goal"])
    now = store.now()
    with store.engine.begin() as conn:
        last = conn.execute(
            sa.select(sa.func.max(submissions.c.created_at))
            .where(submissions.c.challenge_id == cid).where(submissions.c.name == name)
        ).scalar()
        if last is not None and now - last < 1 / lim.per_second:
            raise ClassError(429, f"name {name!r}: at most {lim.per_second:g} submission a "
                             "second", "name", retry_after=1 / lim.per_second - (now - last))
        if last is None:
            students = conn.execute(
                sa.select(sa.func.count(sa.distinct(submissions.c.name)))
                .select_from(submissions.join(challenges))
                .where(challenges.c.class_code == code)
                .where(submissions.c.name != name)).scalar()
            known = conn.execute(
                sa.select(submissions.c.id).select_from(submissions.join(challenges))
                .where(challenges.c.class_code == code).where(submissions.c.name == name)
                .limit(1)).first()
            if known is None and students >= lim.students:
                raise ClassError(409, f"this class is full ({lim.students} students)")
        new = conn.execute(submissions.insert().values(
            challenge_id=cid, name=name, values=json.dumps(values), created_at=now,
            removed=False, **result))
        conn.execute(classes.update().where(classes.c.code == code).values(touched_at=now))
    return {"id": int(new.inserted_primary_key[0]), "result": result}


def remove_submission(store: Store, code: str, key: Any, cid: Any, sid: Any) -> dict:
    code = valid_code(code)
    if not isinstance(sid, int) or sid < 1:
        raise ClassError(404, "no such submission")
    with store.engine.begin() as conn:
        check_key(_class_row(conn, code, store, touch=True), key)
        _challenge(conn, code, cid)
        done = conn.execute(submissions.update().where(submissions.c.id == sid)
                            .where(submissions.c.challenge_id == cid).values(removed=True))
        if not done.rowcount:
            raise ClassError(404, "no such submission")
    return {"id": sid, "removed": True}


def _rank_key(goal: dict):
    def key(s):
        loss = s["loss"] if s["loss"] is not None else math.inf
        if goal["kind"] == "reach":
            return (s["reached_at"] is None, s["reached_at"] or 0, loss)
        return (loss,)
    return key


def results(store: Store, code: str, key: Any, cid: Any) -> dict:
    """Every submission of a challenge (the instructor's): ranked best first."""
    code = valid_code(code)
    with store.engine.begin() as conn:
        row = _class_row(conn, code, store)
        check_key(row, key)
        ch = _challenge(conn, code, cid)
        subs = conn.execute(sa.select(submissions).where(submissions.c.challenge_id == cid)
                            .where(submissions.c.removed.is_(False))
                            .order_by(submissions.c.id)).mappings().all()
        joined = conn.execute(
            sa.select(sa.func.count(sa.distinct(submissions.c.name)))
            .select_from(submissions.join(challenges))
            .where(challenges.c.class_code == code)).scalar()
    goal = json.loads(ch["goal"])
    items = [{"id": s["id"], "name": s["name"], "values": json.loads(s["values"]),
              "loss": s["loss"], "reached_at": s["reached_at"],
              "diverged_at": s["diverged_at"], "created_at": s["created_at"]} for s in subs]
    ranked = sorted(items, key=_rank_key(goal))
    return {"challenge": _challenge_view(ch, store.now()), "show_names": row["show_names"],
            "students": joined, "submissions": ranked}


def results_csv(data: dict) -> str:
    import csv
    import io
    knobs = data["challenge"]["knobs"]
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(["rank", "id", "name", *knobs, "loss", "reached_at", "diverged_at",
                "submitted_at"])
    for rank, s in enumerate(data["submissions"], start=1):
        # (a name a spreadsheet would run as a formula is written as text)
        name = "'" + s["name"] if s["name"][:1] in "=+-@\t\r" else s["name"]
        w.writerow([rank, s["id"], name, *(s["values"].get(k, "") for k in knobs),
                    "" if s["loss"] is None else repr(s["loss"]),
                    "" if s["reached_at"] is None else s["reached_at"],
                    "" if s["diverged_at"] is None else s["diverged_at"],
                    time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(s["created_at"]))])
    return out.getvalue()


def _purge(store: Store) -> None:
    """Delete the classes closed (or idle) longer than the keep time, with their
    challenges and submissions."""
    lim = limits()
    cutoff = store.now() - lim.idle_hours * 3600 - lim.keep_days * 86400
    with store.engine.begin() as conn:
        old = [r[0] for r in conn.execute(sa.select(classes.c.code).where(sa.or_(
            classes.c.touched_at < cutoff,
            sa.and_(classes.c.closed_at.is_not(None),
                    classes.c.closed_at < store.now() - lim.keep_days * 86400))))]
        if not old:
            return
        ids = sa.select(challenges.c.id).where(challenges.c.class_code.in_(old))
        conn.execute(submissions.delete().where(submissions.c.challenge_id.in_(ids)))
        conn.execute(challenges.delete().where(challenges.c.class_code.in_(old)))
        conn.execute(classes.delete().where(classes.c.code.in_(old)))


#: The class picture's map: final loss over this many α and as many β (the Explore
#: heatmap's machinery), computed once per challenge and worker.
MAP_SIDE = 32


def challenge_map(store: Store, code: str, key: Any, cid: Any) -> dict:
    """The map the class picture draws its submissions over (the instructor's): the final
    loss of the challenge's row over log α x β, when its knobs are α and μ/β₁ (global or
    the row's own) and the row has a momentum or β₁; else {"map": None}."""
    code = valid_code(code)
    with store.engine.connect() as conn:
        check_key(_class_row(conn, code, store), key)
        ch = _challenge(conn, code, cid)
        conn.rollback()
    return {"map": _map(ch["setup"], ch["knobs"], ch["goal"])}


@functools.lru_cache(maxsize=64)
def _map(setup: str, knobs_json: str, goal_json: str) -> dict | None:
    import numpy as np

    from ... import explore
    from ..controls import row_name
    knobs, goal = json.loads(knobs_json), json.loads(goal_json)
    row = goal["row"]
    if sorted(k.split(":")[-1] for k in knobs) != ["lr", "mu"] or \
            any(":" in k and k.split(":")[0] != row for k in knobs):
        return None
    name = row_name(row)
    if not explore.has_beta(name):
        return None
    scene = scene_from_controls(controls_from_query(setup)[0])
    lo, hi = PAGE_LIMITS["lr_log10"]
    lrs, betas = np.logspace(lo, hi, MAP_SIDE), np.linspace(0, 0.999, MAP_SIDE)
    sweep = explore.grid_sweep(scene.surface, name, lrs, betas, start=tuple(scene.starts[0]),
                               steps=scene.steps, surface_params=dict(scene.surface_params))
    z = np.where(sweep.diverged, np.nan, np.log10(np.maximum(sweep.loss, 1e-16)))
    return {"lr": lrs.tolist(), "mu": betas.tolist(),
            "z": [[None if not math.isfinite(v) else round(float(v), 3) for v in r] for r in z]}
