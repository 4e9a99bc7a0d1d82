"""Class mode's storage: SQLAlchemy Core over an embedded SQLite file (the default) or
PostgreSQL (several web containers serving one class), named by ``OPTVIZ_DB_URL``.

Tables: ``classes`` (a join code, the hash of the instructor's key, the setup students
follow as the page's link query and its version), ``challenges`` (the knobs students may
turn, the goal, the steps, the setup they start from) and ``submissions`` (a student's
name and values, and the result the server computed). ``schema_version`` holds the number
of the last migration applied: :data:`MIGRATIONS` are applied in order, each once, inside
a transaction, when the store opens (``optviz db-upgrade`` applies them alone).

Nothing is acknowledged before it is committed: a submission answered 201 is on disk (SQLite
in WAL mode with ``synchronous=FULL``; PostgreSQL's default durability), whatever happens
to the worker that answered it afterwards.
"""
from __future__ import annotations

import os
import time
from pathlib import Path

import sqlalchemy as sa

__all__ = ["Store", "MIGRATIONS", "default_url", "open_store"]

#: The database when OPTVIZ_DB_URL is not set: a SQLite file beside the running app
#: (the Docker image sets OPTVIZ_DB_URL to a file on its volume).
DEFAULT_FILE = "optviz-classes.db"

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


def _create_v1(conn) -> None:
    """1: classes, challenges, submissions."""
    for table in (classes, challenges, submissions):
        table.create(conn, checkfirst=True)


#: The schema's migrations, in order: each takes a connection inside a transaction. A new
#: column or table is a new function at the end; released ones are never edited.
MIGRATIONS = [_create_v1]


def default_url() -> str:
    """OPTVIZ_DB_URL, else the SQLite file DEFAULT_FILE in the working directory."""
    return os.environ.get("OPTVIZ_DB_URL") or f"sqlite:///{Path(DEFAULT_FILE).resolve()}"


def _engine(url: str) -> sa.Engine:
    if url.startswith("sqlite"):
        engine = sa.create_engine(url, connect_args={"timeout": 30})

        @sa.event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn, _record):
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")       # readers never wait for a writer
            cur.execute("PRAGMA synchronous=FULL")       # committed = on disk
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()
        return engine
    return sa.create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=5)


class Store:
    """The class tables behind one engine; ``migrate()`` brings the schema up to date."""

    def __init__(self, url: str | None = None):
        self.url = url or default_url()
        self.engine = _engine(self.url)

    def version(self) -> int:
        """The number of migrations applied (0 for an empty database)."""
        with self.engine.connect() as conn:
            if not sa.inspect(conn).has_table("schema_version"):
                return 0
            row = conn.execute(sa.select(schema_version.c.version)).first()
            return int(row[0]) if row else 0

    def migrate(self) -> int:
        """Apply the migrations not yet applied, each in its own transaction (under a
        lock on PostgreSQL: several workers starting at once apply each one once)."""
        with self.engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(sa.text("SELECT pg_advisory_xact_lock(4242)"))
            schema_version.create(conn, checkfirst=True)
            row = conn.execute(sa.select(schema_version.c.version)).first()
            done = int(row[0]) if row else 0
            for n, step in enumerate(MIGRATIONS[done:], start=done + 1):
                step(conn)
                if row is None:
                    conn.execute(schema_version.insert().values(id=1, version=n))
                    row = (n,)
                else:
                    conn.execute(schema_version.update().values(version=n))
        return len(MIGRATIONS)

    def now(self) -> float:
        return time.time()


_STORES: dict[str, Store] = {}


def open_store(url: str | None = None) -> Store:
    """The process's Store for ``url`` (default: default_url()), migrated on first use."""
    url = url or default_url()
    if url not in _STORES:
        store = Store(url)
        store.migrate()
        _STORES[url] = store
    return _STORES[url]
