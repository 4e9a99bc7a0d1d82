"""Class mode's operations on its storage: classes, challenges, students and their tries,
each a short transaction through the store (store.py), with the rules of rules.py.

A class has a join code, a key the instructor holds, and the setup on the projector (the
page's link query) with a version students poll. A challenge is posed from that setup
(rules.pose: the engine's scene, the knobs, the goal, the price). A student's first try
claims a name for that browser (a random token the page keeps; the server makes one for
a script that sends none): nobody else can try under it, nor under a name that looks
like it. The instructor can remove a name, which frees its seat, or block it. Every
refusal is a :class:`~optviz.web.classroom.rules.ClassError`.
"""
from __future__ import annotations

import contextlib
import functools
import json
import re
import secrets
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from ..controls import SPEEDS
from . import maps as class_maps
from . import names as nm
from . import rules
from .guard import score_slot
from .rules import ClassError, hash_key, key_matches, limits, valid_code, valid_id
from .schema import bests, challenges, classes, joined, maps, students, submissions

__all__ = ["create_class", "get_class", "set_state", "set_show_names", "add_challenge",
           "close_challenge", "submit", "remove_submission", "results", "results_csv",
           "list_students", "remove_student", "block_student", "challenge_map",
           "set_playback", "join", "me", "counts",
           "MAX_CHALLENGES", "MAX_TRIES", "PAGE"]

#: Challenges one class may pose; tries one student may make of one challenge; tries one
#: results page holds at most.
MAX_CHALLENGES = 100
MAX_TRIES = 200
PAGE = 500
_TOKEN = re.compile(r"[A-Za-z0-9_-]{16,100}")


# -- the statements of the hot paths (a try, a follower's poll), built once: SQLAlchemy
# then reuses their compiled form and cache key (a statement built per call costs ~3x)
_B = sa.bindparam
_Q_CLASS = sa.select(classes).where(classes.c.code == _B("code"))
_Q_ONE = {t.name: sa.select(t).where(t.c.id == _B("rid")).where(t.c.class_code == _B("code"))
          for t in (challenges, students)}
_Q_NAMED = sa.select(students).where(students.c.class_code == _B("code")) \
    .where(students.c.skeleton == _B("skeleton"))
_Q_SPEND = students.update().where(students.c.id == _B("sid")) \
    .where(students.c.blocked.is_(False)).where(sa.or_(
        students.c.last_submit_at.is_(None), students.c.last_submit_at <= _B("before"))) \
    .values(last_submit_at=_B("now"))
_Q_TRIES = sa.select(sa.func.count()).select_from(submissions) \
    .where(submissions.c.challenge_id == _B("cid")).where(submissions.c.student_id == _B("sid"))
_Q_JOINED = sa.select(sa.func.count()).select_from(joined) \
    .where(joined.c.class_code == _B("code"))
_Q_LATEST = sa.select(challenges).where(challenges.c.class_code == _B("code")) \
    .order_by(challenges.c.id.desc()).limit(1)


def _no_class() -> ClassError:
    return ClassError(404, "no class with this code", "code")


# -- classes ----------------------------------------------------------------------------

def create_class(store, state: Any = "", creator: str = "?") -> dict:
    """A new class: {"code", "key"} (the key is shown once and never stored). At most
    Limits.created_per_hour a client (``creator``, its address) and
    created_total_per_hour in all (429 past either)."""
    state = rules.setup_query(state)
    lim = limits()
    who = hash_key(creator)
    now = store.now()
    _purge(store)
    key = rules.new_key()
    with store.write() as conn:
        hour = conn.execute(sa.select(sa.func.count()).select_from(classes)
                            .where(classes.c.created_at > now - 3600)
                            .where(classes.c.creator == who)).scalar()
        if hour >= lim.created_per_hour:
            raise ClassError(429, f"at most {lim.created_per_hour} new classes an hour from "
                             "one address; use one you made, or wait", retry_after=600)
        total = conn.execute(sa.select(sa.func.count()).select_from(classes)
                             .where(classes.c.created_at > now - 3600)).scalar()
        if total >= lim.created_total_per_hour:
            raise ClassError(429, "this server has made as many classes as it makes in an "
                             "hour; try again later", retry_after=600)
        for _ in range(20):
            code = rules.new_code()
            if conn.execute(sa.select(classes.c.code).where(classes.c.code == code)).first():
                continue                              # that code is taken: another
            conn.execute(classes.insert().values(
                code=code, key_hash=hash_key(key), state=state, version=1, show_names=False,
                created_at=now, touched_at=now, creator=who))
            return {"code": code, "key": key}
    raise ClassError(503, "no free class code; try again", retry_after=1)


def _class_row(conn, code: str, store, *, touch: bool = False):
    row = conn.execute(_Q_CLASS, {"code": code}).mappings().first()
    if row is None:
        raise _no_class()
    now = store.now()
    idle = limits().idle_hours * 3600
    if row["closed_at"] is None and now - row["touched_at"] > idle:
        if touch:
            conn.execute(classes.update().where(classes.c.code == code).values(closed_at=now))
        row = {**row, "closed_at": now}
    if row["closed_at"] is not None:
        raise ClassError(404, "this class has closed (idle for a day, or ended)", "code")
    if touch and now - row["touched_at"] > 60:     # (a minute's precision is plenty)
        conn.execute(classes.update().where(classes.c.code == code).values(touched_at=now))
    return row


def _keyed(conn, code, store, key, *, touch=True):
    row = _class_row(conn, code, store, touch=touch)
    if not key_matches(row["key_hash"], key):
        raise ClassError(403, "X-Class-Key: missing or not this class's key")
    return row


def get_class(store, code: str) -> dict:
    """What a student follows: {"version", "state", "playback", "challenge",
    "server_time"} (no key, no results). ``playback``: {"playing", "frame", "speed",
    "at"} as the projector last set it, or None; ``server_time`` lets a page count a
    challenge's time down on the server's clock. (Each changes the version, which
    followers poll with ETag: what changes without it, as who joined, is in counts().)"""
    code = valid_code(code)
    with store.read() as conn:
        row = _class_row(conn, code, store)
        ch = conn.execute(_Q_LATEST, {"code": code}).mappings().first()
    playback = None if row["playing"] is None else {
        "playing": bool(row["playing"]), "frame": row["frame"], "speed": row["speed"],
        "at": row["played_at"]}
    return {"version": row["version"], "state": row["state"], "playback": playback,
            "challenge": _challenge_view(ch, store.now()) if ch else None,
            "server_time": store.now()}


def _bump(conn, code: str) -> None:
    """A new version for followers (a challenge, a closed one, a removed try)."""
    conn.execute(classes.update().where(classes.c.code == code)
                 .values(version=classes.c.version + 1))


def set_state(store, code: str, key: Any, state: Any) -> dict:
    """The instructor's setup, for every follower: {"version"}."""
    code = valid_code(code)
    query = rules.setup_query(state)
    with store.write() as conn:
        row = _keyed(conn, code, store, key)
        version = row["version"] + (query != row["state"])
        conn.execute(classes.update().where(classes.c.code == code)
                     .values(state=query, version=version))
    return {"version": version}


def set_show_names(store, code: str, key: Any, show: Any) -> dict:
    code = valid_code(code)
    if not isinstance(show, bool):
        raise ClassError(400, "show_names: true or false", "show_names")
    with store.write() as conn:
        _keyed(conn, code, store, key)
        conn.execute(classes.update().where(classes.c.code == code).values(show_names=show))
    return {"show_names": show}


def set_playback(store, code: str, key: Any, body: Any) -> dict:
    """The projector's playback, for every follower: ``body`` {"playing": bool, "frame":
    0..5000, "speed": one of the play bar's SPEEDS}; {"version"}."""
    code = valid_code(code)
    if not isinstance(body, dict) or not isinstance(body.get("playing"), bool):
        raise ClassError(400, "playing: true or false", "playing")
    frame, speed = body.get("frame"), body.get("speed", 1)
    if not isinstance(frame, int) or isinstance(frame, bool) or \
            not 0 <= frame <= rules.MAX_CHALLENGE_STEPS:
        raise ClassError(400, f"frame: a whole number in [0, {rules.MAX_CHALLENGE_STEPS}]",
                         "frame")
    if speed not in SPEEDS or isinstance(speed, bool):
        raise ClassError(400, "speed: one of " + ", ".join(f"{v:g}" for v in SPEEDS),
                         "speed")
    with store.write() as conn:
        row = _keyed(conn, code, store, key)
        conn.execute(classes.update().where(classes.c.code == code).values(
            playing=body["playing"], frame=frame, speed=float(speed), played_at=store.now(),
            version=row["version"] + 1))
    return {"version": row["version"] + 1}


#: Browsers counted as joined in one class, at most (past it the count stops growing).
MAX_JOINED = 5000


def join(store, code: str, body: Any) -> dict:
    """A browser opened the class (``body`` {"token"}): counted once, for "N joined" on
    the projector, whether or not it tries. {"joined": true}."""
    code = valid_code(code)
    token = _token(body if isinstance(body, dict) else {})
    who = hash_key(token)
    with store.read() as conn:
        _class_row(conn, code, store)
        if conn.execute(sa.select(joined.c.at).where(joined.c.class_code == code)
                        .where(joined.c.token_hash == who)).first():
            return {"joined": True}
        many = conn.execute(sa.select(sa.func.count()).select_from(joined)
                            .where(joined.c.class_code == code)).scalar() >= MAX_JOINED
    if not many:
        with contextlib.suppress(sa.exc.IntegrityError):     # (twice at once: once)
            with store.write() as conn:
                conn.execute(joined.insert().values(class_code=code, token_hash=who,
                                                    at=store.now()))
    return {"joined": True}


def counts(store, code: str, key: Any) -> dict:
    """The projector's counts (the instructor's): {"joined" (browsers that opened the
    class, or its names if more), "students" (names with a seat)}."""
    code = valid_code(code)
    with store.read() as conn:
        _keyed(conn, code, store, key, touch=False)
        came = conn.execute(_Q_JOINED, {"code": code}).scalar()
        seated = conn.execute(sa.select(sa.func.count()).select_from(students)
                              .where(students.c.class_code == code)
                              .where(students.c.blocked.is_(False))).scalar()
    return {"joined": max(came, seated), "students": seated}


# -- challenges ---------------------------------------------------------------------------

def _open(ch, now: float) -> bool:
    return ch["closed_at"] is None and ch["scene"] is not None and (
        ch["closes_at"] is None or now < ch["closes_at"])


def _challenge_view(ch, now: float) -> dict:
    out = {"id": ch["id"], "knobs": json.loads(ch["knobs"]), "goal": json.loads(ch["goal"]),
           "steps": ch["steps"], "state": ch["setup"], "closes_at": ch["closes_at"],
           "open": _open(ch, now)}
    if ch["knob_map"]:
        knob_map = json.loads(ch["knob_map"])
        out["symbols"] = {k: m["symbol"] for k, m in knob_map.items()}
        out["ranges"] = {k: [m["low"], m["high"]] for k, m in knob_map.items()}
        out["text"] = rules.challenge_text(out["goal"], knob_map, out["knobs"], ch["steps"])
    return out


def _posed(ch) -> rules.Challenge:
    if ch["scene"] is None:
        raise ClassError(409, "this challenge is closed")
    return rules.challenge_from(ch["setup"], ch["scene"], ch["row_index"], ch["knobs"],
                                ch["knob_map"], ch["goal"], ch["price"])


def add_challenge(store, code: str, key: Any, body: Any) -> dict:
    """A challenge from the class's current setup: {"id", "price", "map_side"}. ``body``:
    {"knobs": [...], "goal": {...}, "steps": N, "minutes": optional time limit}. Priced
    here (rules.pose, maps.map_side): refused with what to reduce if a try, or the class
    picture's map, would cost more than its budget."""
    code = valid_code(code)
    with store.read() as conn:                   # the key before anything else
        row = _keyed(conn, code, store, key, touch=False)
    minutes = body.get("minutes") if isinstance(body, dict) else None
    if minutes is not None and (not isinstance(minutes, (int, float)) or
                                isinstance(minutes, bool) or not 0.1 <= minutes <= 600):
        raise ClassError(400, "minutes: a time limit in [0.1, 600], or none", "minutes")
    posed = rules.pose(row["state"], body)
    side = class_maps.map_side(posed)
    with store.write() as conn:
        row = _keyed(conn, code, store, key)
        count = conn.execute(sa.select(sa.func.count()).select_from(challenges)
                             .where(challenges.c.class_code == code)).scalar()
        if count >= MAX_CHALLENGES:
            raise ClassError(409, f"a class poses at most {MAX_CHALLENGES} challenges; "
                             "start a new class")
        now = store.now()
        conn.execute(challenges.update().where(challenges.c.class_code == code)
                     .where(challenges.c.closed_at.is_(None)).values(closed_at=now))
        new = conn.execute(challenges.insert().values(
            class_code=code, setup=posed.setup, knobs=json.dumps(list(posed.knobs)),
            goal=json.dumps(posed.goal), steps=posed.steps, created_at=now,
            closes_at=now + 60 * minutes if minutes else None,
            scene=posed.scene.to_json(), row_index=posed.row,
            knob_map=json.dumps(posed.knob_map), price=posed.price, map_side=side))
        _bump(conn, code)
    return {"id": int(new.inserted_primary_key[0]), "price": posed.price, "map_side": side,
            "text": posed.text()}


def _one(conn, table, code: str, rid: Any, what: str):
    """Row ``rid`` of ``table`` (challenges, students) if it is of class ``code``, else
    404 (an id no table could hold too)."""
    rid = valid_id(rid, what)
    row = conn.execute(_Q_ONE[table.name], {"rid": rid, "code": code}).mappings().first()
    if row is None:
        raise ClassError(404, f"no such {what} in this class")
    return row


def _challenge(conn, code: str, cid: Any):
    return _one(conn, challenges, code, cid, "challenge")


def close_challenge(store, code: str, key: Any, cid: Any) -> dict:
    code = valid_code(code)
    with store.write() as conn:
        _keyed(conn, code, store, key)
        ch = _challenge(conn, code, cid)
        if ch["closed_at"] is None:
            conn.execute(challenges.update().where(challenges.c.id == ch["id"])
                         .values(closed_at=store.now()))
        _bump(conn, code)
    return {"id": ch["id"], "open": False}


def challenge_map(store, code: str, key: Any, cid: Any) -> dict:
    """The class picture's map (the instructor's): see maps.request_map."""
    code = valid_code(code)
    with store.read() as conn:
        _keyed(conn, code, store, key, touch=False)
        ch = _challenge(conn, code, cid)
    if ch["scene"] is None:
        return {"status": "none", "map": None}
    return class_maps.request_map(store, ch["id"], _posed(ch), ch["map_side"] or 0)


# -- students and their tries -------------------------------------------------------------

def _token(body: dict) -> str:
    token = body.get("token")
    if token is None:
        return secrets.token_urlsafe(24)
    if not isinstance(token, str) or not _TOKEN.fullmatch(token):
        raise ClassError(400, "token: 16 to 100 letters, digits, - or _ (the page makes "
                         "one; a script may leave it out and keep the one it is given)",
                         "token")
    return token


def _refuse(row, name: str, token: str, now: float) -> None:
    """ClassError if the browser holding ``token`` may not try now under ``name``, whose
    student is ``row``: blocked, another browser's (or a name like another's), or tried
    less than a second ago."""
    if row["blocked"]:
        raise ClassError(403, f"name: {name!r} was blocked by the instructor", "name")
    if row["token_hash"] is not None and not key_matches(row["token_hash"], token):
        said = f"{name!r} is taken" if row["name"] == name else \
            f"{name!r} looks like {row['name']!r}, which is taken"
        raise ClassError(409, f"name: {said} in this class; choose another name", "name")
    _spent(row["last_submit_at"] is None or now - row["last_submit_at"] >=
           1 / limits().per_second, name)


def _spent(ok: bool, name: str) -> None:
    if not ok:
        per = limits().per_second
        raise ClassError(429, f"name {name!r}: at most {per:g} try a second", "name",
                         retry_after=1 / per)


def _seat_free(conn, code: str) -> None:
    students_max = limits().students
    seated = conn.execute(sa.select(sa.func.count()).select_from(students)
                          .where(students.c.class_code == code)
                          .where(students.c.blocked.is_(False))).scalar()
    if seated >= students_max:
        raise ClassError(409, f"this class is full ({students_max} students); ask the "
                         "instructor to free a seat")


def _claim(conn, store, code: str, name: str, token: str, seen=None) -> tuple[int, int]:
    """(id, number) of the student ``name`` for the browser holding ``token``: claimed
    now if nobody has it, refused if another browser has it or a name like it, or if it
    is blocked; then the student's rate limit, checked and spent in the same
    transaction. ``seen``: the student as a read a moment ago found it (its token
    checked): then only spending its try is left, unless it changed meanwhile."""
    now = store.now()
    before = now - 1 / limits().per_second
    if seen is not None and seen["token_hash"] is not None and conn.execute(
            _Q_SPEND, {"sid": seen["id"], "now": now, "before": before}).rowcount:
        return int(seen["id"]), int(seen["number"])
    named = {"code": code, "skeleton": nm.skeleton(name)}
    row = conn.execute(_Q_NAMED, named).mappings().first()
    if row is None:                     # (PostgreSQL: new names one at a time, and the
        conn.execute(sa.select(classes.c.code).where(classes.c.code == code)  # one that
                     .with_for_update())                  # waited sees who went first)
        row = conn.execute(_Q_NAMED, named).mappings().first()
    if row is None:
        _seat_free(conn, code)
        number = (conn.execute(sa.select(sa.func.max(students.c.number))
                               .where(students.c.class_code == code)).scalar() or 0) + 1
        new = conn.execute(students.insert().values(
            class_code=code, number=number, name=name, skeleton=named["skeleton"],
            token_hash=hash_key(token), blocked=False, created_at=now, last_submit_at=now))
        return int(new.inserted_primary_key[0]), number
    _refuse({**row, "last_submit_at": None}, name, token, now)
    if row["token_hash"] is None:                   # (a name kept from before tokens)
        conn.execute(students.update().where(students.c.id == row["id"])
                     .values(token_hash=hash_key(token)))
    _spent(conn.execute(_Q_SPEND, {"sid": row["id"], "now": now, "before": before})
           .rowcount, name)
    return int(row["id"]), int(row["number"])


def submit(store, code: str, cid: Any, body: Any) -> dict:
    """A student's try: {"id", "result", "token", "student"}, committed before it is
    answered. Every limit is checked before the simulation (the class and challenge
    open, the values in range, the name the browser's, a seat, one try a second,
    MAX_TRIES), and claimed in the one transaction that keeps the result."""
    code = valid_code(code)
    if not isinstance(body, dict):
        raise ClassError(400, "expected a JSON object with name and values")
    try:
        name = nm.normalize(body.get("name"))
    except nm.NameError_ as e:
        raise ClassError(400, f"name: {e}", "name") from None
    token = _token(body)
    with store.read() as conn:
        cls = _class_row(conn, code, store)
        ch = _challenge(conn, code, cid)
        if not _open(ch, store.now()):
            raise ClassError(409, "this challenge is closed")
        posed = _posed(ch)
        values = rules.check_values(posed, body.get("values"))
        row = conn.execute(_Q_NAMED, {"code": code, "skeleton": nm.skeleton(name)}) \
            .mappings().first()
        if row is None:
            _seat_free(conn, code)
        else:
            _refuse(row, name, token, store.now())
            if conn.execute(_Q_TRIES, {"cid": ch["id"], "sid": row["id"]}).scalar() >= \
                    MAX_TRIES:
                raise ClassError(409, f"at most {MAX_TRIES} tries a student in one "
                                 "challenge")
    result = rules.cached_score(posed, values)
    if result is None:
        with score_slot():
            result = rules.score(posed, values)
    a, b, c = rules.rank_key(posed.goal["kind"], result)
    with store.write() as conn:
        now = store.now()
        if now - cls["touched_at"] > 60:            # (a minute's precision is plenty)
            conn.execute(classes.update().where(classes.c.code == code)
                         .values(touched_at=now))
        sid, number = _claim(conn, store, code, name, token, row)
        new = conn.execute(submissions.insert(), dict(
            challenge_id=ch["id"], name=name, values=json.dumps(values), created_at=now,
            removed=False, student_id=sid, rank_a=a, rank_b=b, rank_c=c, **result))
        tid = int(new.inserted_primary_key[0])
        _better(conn, ch["id"], sid, tid, (a, b, c))
    return {"id": tid, "result": result, "token": token, "student": number}


@functools.cache
def _upsert_best(dialect: str):
    insert = (sqlite_insert if dialect == "sqlite" else pg_insert)(bests)
    kept = (bests.c.rank_a, bests.c.rank_b, bests.c.rank_c)
    new = (insert.excluded.rank_a, insert.excluded.rank_b, insert.excluded.rank_c)
    return insert.on_conflict_do_update(
        index_elements=[bests.c.challenge_id, bests.c.student_id],
        set_={"submission_id": insert.excluded.submission_id,
              **{c.name: n for c, n in zip(kept, new)}},
        where=sa.tuple_(*new) < sa.tuple_(*kept))


def _better(conn, cid: int, sid: int, tid: int, key: tuple) -> None:
    """Make try ``tid`` (rank ``key``) the student's best if it is better than theirs
    (one statement: an insert that updates the row it meets only if ``key`` is
    better)."""
    conn.execute(_upsert_best(conn.dialect.name), dict(
        challenge_id=cid, student_id=sid, submission_id=tid, rank_a=key[0], rank_b=key[1],
        rank_c=key[2]))


def _rebest(conn, cid: int, sid: int) -> None:
    """The student's best of challenge ``cid`` again from their tries left."""
    conn.execute(bests.delete().where(bests.c.challenge_id == cid)
                 .where(bests.c.student_id == sid))
    top = conn.execute(
        sa.select(submissions.c.id, submissions.c.rank_a, submissions.c.rank_b,
                  submissions.c.rank_c)
        .where(submissions.c.challenge_id == cid).where(submissions.c.student_id == sid)
        .where(submissions.c.removed.is_(False))
        .order_by(submissions.c.rank_a, submissions.c.rank_b, submissions.c.rank_c,
                  submissions.c.id).limit(1)).first()
    if top is not None:
        _better(conn, cid, sid, top.id, (top.rank_a, top.rank_b, top.rank_c))


def remove_submission(store, code: str, key: Any, cid: Any, tid: Any) -> dict:
    code = valid_code(code)
    tid = valid_id(tid, "submission")
    with store.write() as conn:
        _keyed(conn, code, store, key)
        ch = _challenge(conn, code, cid)
        sub = conn.execute(sa.select(submissions.c.student_id).where(submissions.c.id == tid)
                           .where(submissions.c.challenge_id == ch["id"])).first()
        if sub is None:
            raise ClassError(404, "no such submission")
        conn.execute(submissions.update().where(submissions.c.id == tid).values(removed=True))
        if sub.student_id is not None:
            _rebest(conn, ch["id"], sub.student_id)
        _bump(conn, code)
    return {"id": tid, "removed": True}


def list_students(store, code: str, key: Any) -> dict:
    """Every name of the class (the instructor's): {"students": [{"id", "number", "name",
    "blocked", "tries"}], "seats"}."""
    code = valid_code(code)
    with store.read() as conn:
        _keyed(conn, code, store, key, touch=False)
        tries = sa.select(submissions.c.student_id, sa.func.count().label("n")) \
            .where(submissions.c.removed.is_(False)).group_by(submissions.c.student_id) \
            .subquery()
        rows = conn.execute(
            sa.select(students.c.id, students.c.number, students.c.name, students.c.blocked,
                      sa.func.coalesce(tries.c.n, 0).label("tries"))
            .select_from(students.outerjoin(tries, tries.c.student_id == students.c.id))
            .where(students.c.class_code == code).order_by(students.c.number)).mappings().all()
    return {"students": [dict(r) for r in rows], "seats": limits().students}


def _student(conn, code: str, sid: Any):
    return _one(conn, students, code, sid, "student")


def _forget_tries(conn, sid: int) -> None:
    conn.execute(submissions.update().where(submissions.c.student_id == sid)
                 .values(removed=True))
    conn.execute(bests.delete().where(bests.c.student_id == sid))


def remove_student(store, code: str, key: Any, sid: Any) -> dict:
    """Remove a name: its tries leave the board, its seat is free, and the name may be
    claimed again (by anyone)."""
    code = valid_code(code)
    with store.write() as conn:
        _keyed(conn, code, store, key)
        row = _student(conn, code, sid)
        _forget_tries(conn, row["id"])
        conn.execute(students.delete().where(students.c.id == row["id"]))
        _bump(conn, code)
    return {"id": row["id"], "removed": True}


def block_student(store, code: str, key: Any, sid: Any, blocked: Any) -> dict:
    """Block a name (``blocked`` true): its tries leave the board, its seat is free, and
    neither it nor a name like it can try again; false lets it back in."""
    code = valid_code(code)
    if not isinstance(blocked, bool):
        raise ClassError(400, "blocked: true or false", "blocked")
    with store.write() as conn:
        _keyed(conn, code, store, key)
        row = _student(conn, code, sid)
        if blocked:
            _forget_tries(conn, row["id"])
        conn.execute(students.update().where(students.c.id == row["id"])
                     .values(blocked=blocked))
        _bump(conn, code)
    return {"id": row["id"], "blocked": blocked}


# -- results ------------------------------------------------------------------------------

def _try(s) -> dict:
    return {"id": s["id"], "student": s["number"], "name": s["name"],
            "values": json.loads(s["values"]), "loss": s["loss"],
            "reached_at": s["reached_at"], "diverged_at": s["diverged_at"],
            "created_at": s["created_at"]}


_TRY_COLUMNS = (submissions.c.id, students.c.number, submissions.c.name,
                submissions.c["values"], submissions.c.loss, submissions.c.reached_at,
                submissions.c.diverged_at, submissions.c.created_at)


def results(store, code: str, key: Any, cid: Any, after: Any = 0, top: int = 10) -> dict:
    """A challenge's results (the instructor's): {"challenge", "show_names", "students"
    (names with a seat), "tried" (students with a try), "joined" (browsers that opened
    the class, or the seats if more), "board" (the ``top`` best tries,
    one a student), "tries" (the tries after id ``after``, in order, at most PAGE),
    "next" (the id to ask after next time)}. The projector asks only for what it has not
    seen."""
    code = valid_code(code)
    try:
        after = int(after)
    except (TypeError, ValueError, OverflowError):
        raise ClassError(400, "after: the id of the last try seen (a whole number)",
                         "after") from None
    after = min(max(after, 0), rules.MAX_ID)
    with store.read() as conn:
        row = _keyed(conn, code, store, key, touch=False)
        ch = _challenge(conn, code, cid)
        seated = conn.execute(sa.select(sa.func.count()).select_from(students)
                              .where(students.c.class_code == code)
                              .where(students.c.blocked.is_(False))).scalar()
        tried = conn.execute(sa.select(sa.func.count()).select_from(bests)
                             .where(bests.c.challenge_id == ch["id"])).scalar()
        came = conn.execute(_Q_JOINED, {"code": code}).scalar()
        board = conn.execute(
            sa.select(*_TRY_COLUMNS)
            .select_from(bests.join(submissions, submissions.c.id == bests.c.submission_id)
                         .join(students, students.c.id == bests.c.student_id))
            .where(bests.c.challenge_id == ch["id"])
            .order_by(bests.c.rank_a, bests.c.rank_b, bests.c.rank_c, bests.c.submission_id)
            .limit(max(1, min(int(top), 100)))).mappings().all()
        new = conn.execute(
            sa.select(*_TRY_COLUMNS)
            .select_from(submissions.join(students, students.c.id == submissions.c.student_id))
            .where(submissions.c.challenge_id == ch["id"]).where(submissions.c.id > after)
            .where(submissions.c.removed.is_(False))
            .order_by(submissions.c.id).limit(PAGE)).mappings().all()
    tries = [_try(s) for s in new]
    return {"challenge": _challenge_view(ch, store.now()), "show_names": row["show_names"],
            "version": row["version"], "students": seated, "tried": tried,
            "joined": max(came, seated),
            "board": [_try(s) for s in board], "tries": tries,
            "next": tries[-1]["id"] if tries else after}


def me(store, code: str, cid: Any, token: Any) -> dict:
    """A student's own standing in a challenge, for the browser holding ``token``:
    {"student", "name", "best" (their best try, or None), "rank" (1 is the best), "of"
    (students with a try)}; {"student": None} for a browser that has not tried."""
    code = valid_code(code)
    if not isinstance(token, str) or not _TOKEN.fullmatch(token):
        raise ClassError(400, "X-Student-Token: this browser's token", "token")
    with store.read() as conn:
        _class_row(conn, code, store)
        ch = _challenge(conn, code, cid)
        mine = conn.execute(
            sa.select(students.c.number, students.c.name, bests.c.submission_id,
                      bests.c.rank_a, bests.c.rank_b, bests.c.rank_c)
            .select_from(students.outerjoin(bests, sa.and_(
                bests.c.student_id == students.c.id, bests.c.challenge_id == ch["id"])))
            .where(students.c.class_code == code)
            .where(students.c.token_hash == hash_key(token))
            .order_by(bests.c.rank_a.is_(None), bests.c.rank_a, bests.c.rank_b,
                      bests.c.rank_c, bests.c.submission_id).limit(1)).mappings().first()
        of = conn.execute(sa.select(sa.func.count()).select_from(bests)
                          .where(bests.c.challenge_id == ch["id"])).scalar()
        if mine is None:
            return {"student": None, "of": of}
        out = {"student": mine["number"], "name": mine["name"], "best": None, "rank": None,
               "of": of}
        if mine["submission_id"] is None:
            return out
        key = sa.tuple_(bests.c.rank_a, bests.c.rank_b, bests.c.rank_c,
                        bests.c.submission_id)
        ahead = conn.execute(sa.select(sa.func.count()).select_from(bests)
                             .where(bests.c.challenge_id == ch["id"])
                             .where(key < sa.tuple_(mine["rank_a"], mine["rank_b"],
                                                    mine["rank_c"], mine["submission_id"]))
                             ).scalar()
        best = conn.execute(sa.select(*_TRY_COLUMNS).select_from(
            submissions.join(students, students.c.id == submissions.c.student_id))
            .where(submissions.c.id == mine["submission_id"])).mappings().first()
    return {**out, "best": _try(best), "rank": ahead + 1}


def results_csv(store, code: str, key: Any, cid: Any) -> str:
    """Every try of a challenge, ranked, as CSV (rules.results_csv)."""
    code = valid_code(code)
    with store.read() as conn:
        _keyed(conn, code, store, key, touch=False)
        ch = _challenge(conn, code, cid)
        rows = conn.execute(
            sa.select(*_TRY_COLUMNS)
            .select_from(submissions.join(students, students.c.id == submissions.c.student_id))
            .where(submissions.c.challenge_id == ch["id"])
            .where(submissions.c.removed.is_(False))
            .order_by(submissions.c.rank_a, submissions.c.rank_b, submissions.c.rank_c,
                      submissions.c.id)).mappings().all()
    return rules.results_csv(json.loads(ch["knobs"]), [_try(s) for s in rows])


def _purge(store) -> None:
    """Delete the classes closed (or idle) longer than the keep time, with their
    challenges, students and tries."""
    lim = limits()
    now = store.now()
    cutoff = now - lim.idle_hours * 3600 - lim.keep_days * 86400
    with store.write() as conn:
        old = [r[0] for r in conn.execute(sa.select(classes.c.code).where(sa.or_(
            classes.c.touched_at < cutoff,
            sa.and_(classes.c.closed_at.is_not(None),
                    classes.c.closed_at < now - lim.keep_days * 86400))).limit(200))]
        if not old:
            return
        ids = sa.select(challenges.c.id).where(challenges.c.class_code.in_(old))
        for table in (submissions, bests, maps):
            conn.execute(table.delete().where(table.c.challenge_id.in_(ids)))
        conn.execute(challenges.delete().where(challenges.c.class_code.in_(old)))
        conn.execute(students.delete().where(students.c.class_code.in_(old)))
        conn.execute(classes.delete().where(classes.c.code.in_(old)))
