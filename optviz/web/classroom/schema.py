"""Class mode's tables and the migrations that make them (store.py opens and guards the
database they live in).

Tables: ``classes`` (a join code, the hash of the instructor's key, the setup students
follow as the page's link query and its version), ``challenges`` (the scene in the
engine's units, which knobs move which hyperparameter, the goal, the price),
``students`` (a name claimed in a class by a browser's token, its seat, its rate limit),
``submissions`` (a student's values and the result the server computed), ``bests`` (each
student's best try of a challenge: the leaderboard), ``maps`` (the class picture's map,
computed once per challenge), ``misses`` (unknown codes looked up, per client and
minute, shared by every worker) and ``health``. ``schema_version`` holds the number of
the last migration applied: :data:`MIGRATIONS` are applied in order, each once, inside a
transaction (``Store.migrate``).
"""
from __future__ import annotations

import json

import sqlalchemy as sa

from . import names as nm
from . import rules

__all__ = ["MIGRATIONS", "metadata", "classes", "challenges", "submissions", "students",
           "bests", "maps", "misses", "health", "joined", "schema_version"]

metadata = sa.MetaData()

classes = sa.Table(
    "classes", metadata,
    sa.Column("code", sa.String(6), primary_key=True),
    sa.Column("key_hash", sa.String(64), nullable=False),      # sha256 of the key, hex
    sa.Column("state", sa.Text, nullable=False, default=""),    # the page's link query
    sa.Column("version", sa.Integer, nullable=False, default=1),
    sa.Column("show_names", sa.Boolean, nullable=False, default=False),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("touched_at", sa.Float, nullable=False),
    sa.Column("closed_at", sa.Float, nullable=True),
)

challenges = sa.Table(
    "challenges", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("class_code", sa.String(6), sa.ForeignKey("classes.code", ondelete="CASCADE"),
              nullable=False, index=True),
    sa.Column("setup", sa.Text, nullable=False),                # the link query it starts from
    sa.Column("knobs", sa.Text, nullable=False),                # JSON list
    sa.Column("goal", sa.Text, nullable=False),                 # JSON object
    sa.Column("steps", sa.Integer, nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("closes_at", sa.Float, nullable=True),            # a time limit, or none
    sa.Column("closed_at", sa.Float, nullable=True),
)

submissions = sa.Table(
    "submissions", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("challenge_id", sa.Integer,
              sa.ForeignKey("challenges.id", ondelete="CASCADE"), nullable=False),
    sa.Column("name", sa.String(24), nullable=False),
    sa.Column("values", sa.Text, nullable=False),               # JSON {knob: number}
    sa.Column("loss", sa.Float, nullable=True),                 # None: diverged
    sa.Column("reached_at", sa.Integer, nullable=True),
    sa.Column("diverged_at", sa.Integer, nullable=True),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("removed", sa.Boolean, nullable=False, default=False),
    sa.Index("submissions_by_student", "challenge_id", "name", "created_at"),
)

schema_version = sa.Table(
    "schema_version", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("version", sa.Integer, nullable=False),
)

# -- added by migration 2 ---------------------------------------------------------------

students = sa.Table(
    "students", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("class_code", sa.String(6), sa.ForeignKey("classes.code", ondelete="CASCADE"),
              nullable=False),
    sa.Column("number", sa.Integer, nullable=False),            # "student 7", per class
    sa.Column("name", sa.String(100), nullable=False),
    sa.Column("skeleton", sa.String(400), nullable=False),      # names.skeleton(name)
    sa.Column("token_hash", sa.String(64), nullable=True),      # the claiming browser's
    sa.Column("blocked", sa.Boolean, nullable=False, default=False),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("last_submit_at", sa.Float, nullable=True),
    sa.UniqueConstraint("class_code", "skeleton", name="students_one_name"),
    sa.UniqueConstraint("class_code", "number", name="students_one_number"),
)

bests = sa.Table(
    "bests", metadata,
    sa.Column("challenge_id", sa.Integer, sa.ForeignKey("challenges.id", ondelete="CASCADE"),
              primary_key=True),
    sa.Column("student_id", sa.Integer, sa.ForeignKey("students.id", ondelete="CASCADE"),
              primary_key=True),
    sa.Column("submission_id", sa.Integer, nullable=False),
    # the submission's rank key (rules.rank_key), copied for an ordered index
    sa.Column("rank_a", sa.Integer, nullable=False),
    sa.Column("rank_b", sa.Integer, nullable=False),
    sa.Column("rank_c", sa.Float, nullable=False),
    sa.Index("bests_ranked", "challenge_id", "rank_a", "rank_b", "rank_c", "submission_id"),
)

maps = sa.Table(
    "maps", metadata,
    sa.Column("challenge_id", sa.Integer, sa.ForeignKey("challenges.id", ondelete="CASCADE"),
              primary_key=True),
    sa.Column("status", sa.String(10), nullable=False),         # running, done, failed
    sa.Column("attempts", sa.Integer, nullable=False, default=1),
    sa.Column("lease_until", sa.Float, nullable=False),         # running: retried after
    sa.Column("data", sa.Text, nullable=True),                  # done: JSON
    sa.Column("error", sa.Text, nullable=True),                 # failed: why
)

misses = sa.Table(
    "misses", metadata,
    sa.Column("client", sa.String(64), primary_key=True),       # sha256 of the address
    sa.Column("minute", sa.Integer, primary_key=True),
    sa.Column("count", sa.Integer, nullable=False),
)

health = sa.Table(
    "health", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("at", sa.Float, nullable=False),
)

#: Columns migration 2 adds to tables of migration 1 (table, column).
_V2_COLUMNS = [
    (classes, sa.Column("creator", sa.String(64), nullable=True)),
    (challenges, sa.Column("scene", sa.Text, nullable=True)),      # Scene JSON, engine units
    (challenges, sa.Column("row_index", sa.Integer, nullable=True)),
    (challenges, sa.Column("knob_map", sa.Text, nullable=True)),   # JSON, see rules.py
    (challenges, sa.Column("price", sa.Float, nullable=True)),     # seconds a try
    (challenges, sa.Column("map_side", sa.Integer, nullable=True)),
    (submissions, sa.Column("student_id", sa.Integer, nullable=True)),
    (submissions, sa.Column("rank_a", sa.Integer, nullable=True)),
    (submissions, sa.Column("rank_b", sa.Integer, nullable=True)),
    (submissions, sa.Column("rank_c", sa.Float, nullable=True)),
]
for _table, _column in _V2_COLUMNS:
    _table.append_column(_column)
# -- added by migration 3 ---------------------------------------------------------------

joined = sa.Table(
    "joined", metadata,
    sa.Column("class_code", sa.String(6), sa.ForeignKey("classes.code", ondelete="CASCADE"),
              primary_key=True),
    sa.Column("token_hash", sa.String(64), primary_key=True),  # a browser that opened it
    sa.Column("at", sa.Float, nullable=False),
)

#: Columns migration 3 adds: the projector's playback, which followers follow too.
_V3_COLUMNS = [
    (classes, sa.Column("playing", sa.Boolean, nullable=True)),
    (classes, sa.Column("frame", sa.Integer, nullable=True)),
    (classes, sa.Column("speed", sa.Float, nullable=True)),
    (classes, sa.Column("played_at", sa.Float, nullable=True)),
]
for _table, _column in _V3_COLUMNS:
    _table.append_column(_column)

#: Indexes migration 2 adds to tables of migration 1.
_V2_INDEXES = [sa.Index("classes_created", classes.c.created_at),
               sa.Index("submissions_in_order", submissions.c.challenge_id, submissions.c.id),
               sa.Index("submissions_by_student_id", submissions.c.challenge_id,
                        submissions.c.student_id)]


def _create_v1(conn) -> None:
    """1: classes, challenges, submissions."""
    for table in (classes, challenges, submissions):
        table.create(conn, checkfirst=True)


def _add_columns(conn, columns) -> None:
    """ALTER TABLE ... ADD COLUMN for each (table, column) the database lacks."""
    for table, column in columns:
        if column.name not in {c["name"] for c in sa.inspect(conn).get_columns(table.name)}:
            kind = column.type.compile(dialect=conn.dialect)
            conn.exec_driver_sql(f"ALTER TABLE {table.name} ADD COLUMN {column.name} {kind}")


def _create_v2(conn) -> None:
    """2: challenges in the engine's units and priced; students who own their names and
    seats; each student's best try; the class picture's map; unknown codes counted for
    every worker; the health probe's row; the creator of a class (a database made by 1
    before these columns existed gets them here; one made since has them already; the
    index on tries by student too). Challenges and names of migration 1 are carried over:
    an old challenge's scene is made from its setup, each name of a class becomes a
    student (numbered in order; with no token, its first try that brings one claims
    it)."""
    _add_columns(conn, _V2_COLUMNS)
    for table in (students, bests, maps, misses, health):
        table.create(conn, checkfirst=True)
    for index in _V2_INDEXES:
        index.create(conn, checkfirst=True)
    _carry_over_v1(conn)


def _carry_over_v1(conn) -> None:
    """Migration 2's carrying over of what migration 1 kept: each challenge put in the
    engine's units, each name of a class made a student, each submission given its
    student, its rank key and its place among the student's bests."""
    now = conn.execute(sa.select(sa.func.max(challenges.c.created_at))).scalar() or 0
    for ch in conn.execute(sa.select(challenges).where(challenges.c.scene.is_(None))
                           ).mappings().all():
        old = json.loads(ch["goal"])
        goal = {k: v for k, v in old.items() if k in ("kind", "epsilon", "row")}
        try:
            posed = rules.pose(ch["setup"], {"knobs": json.loads(ch["knobs"]),
                                             "goal": goal, "steps": ch["steps"]})
        except rules.ClassError:                # (no longer priced within the budget)
            conn.execute(challenges.update().where(challenges.c.id == ch["id"])
                         .values(closed_at=ch["closed_at"] or now))
            continue
        conn.execute(challenges.update().where(challenges.c.id == ch["id"]).values(
            scene=posed.scene.to_json(), row_index=posed.row, goal=json.dumps(posed.goal),
            knob_map=json.dumps(posed.knob_map), price=posed.price, map_side=0))
    owners: dict[tuple[str, str], int] = {}
    numbers: dict[str, int] = {}
    rows = conn.execute(
        sa.select(submissions.c.id, submissions.c.name, submissions.c.loss,
                  submissions.c.reached_at, submissions.c.diverged_at,
                  submissions.c.removed, submissions.c.created_at,
                  challenges.c.class_code, challenges.c.id.label("cid"), challenges.c.goal)
        .select_from(submissions.join(challenges)).where(submissions.c.student_id.is_(None))
        .order_by(submissions.c.id)).mappings().all()
    for s in rows:
        code = s["class_code"]
        key = nm.skeleton(s["name"])
        if (code, key) not in owners:
            numbers[code] = numbers.get(code, 0) + 1
            owners[code, key] = conn.execute(students.insert().values(
                class_code=code, number=numbers[code], name=s["name"][:100], skeleton=key,
                token_hash=None, blocked=False, created_at=s["created_at"])
            ).inserted_primary_key[0]
        sid = owners[code, key]
        a, b, c = rules.rank_key(json.loads(s["goal"])["kind"], s)
        conn.execute(submissions.update().where(submissions.c.id == s["id"]).values(
            student_id=sid, rank_a=a, rank_b=b, rank_c=c))
        if s["removed"]:
            continue
        best = conn.execute(sa.select(bests).where(bests.c.challenge_id == s["cid"])
                            .where(bests.c.student_id == sid)).mappings().first()
        if best is None:
            conn.execute(bests.insert().values(challenge_id=s["cid"], student_id=sid,
                                               submission_id=s["id"], rank_a=a, rank_b=b,
                                               rank_c=c))
        elif (a, b, c) < (best["rank_a"], best["rank_b"], best["rank_c"]):
            conn.execute(bests.update().where(bests.c.challenge_id == s["cid"])
                         .where(bests.c.student_id == sid)
                         .values(submission_id=s["id"], rank_a=a, rank_b=b, rank_c=c))


def _create_v3(conn) -> None:
    """3: the projector's playback (playing or paused, the frame, the speed, when), which
    students follow with its setup; the browsers that joined a class (counted on the
    projector whether or not they tried)."""
    _add_columns(conn, _V3_COLUMNS)
    joined.create(conn, checkfirst=True)


#: The schema's migrations, in order: each takes a connection inside a transaction. A new
#: column or table is a new function at the end; released ones are never edited.
MIGRATIONS = [_create_v1, _create_v2, _create_v3]
