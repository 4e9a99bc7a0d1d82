"""Class mode's storage: SQLAlchemy Core over an embedded SQLite file (the default) or
PostgreSQL (several web containers serving one class), named by ``OPTVIZ_DB_URL``.

The tables and their migrations are in schema.py; the store applies the migrations not
yet applied when it opens (``optviz db-upgrade`` applies them alone).

Nothing is acknowledged that cannot be kept. A submission answered 201 is committed
(SQLite in WAL mode with ``synchronous=FULL``; PostgreSQL's default durability). Every
transaction goes through :meth:`Store.read` or :meth:`Store.write`, which turn a database
that cannot do its part into :class:`StorageError` (the API answers 503 naming the
problem) and heal when the fault is gone:

* a SQLite file that was deleted, or whose volume went away, is a fault (writing to a
  new file there could be lost with the volume): 503 until it is back; a restart (or
  ``optviz db-upgrade``) starts an empty one on purpose;
* a file *replaced* by another (a backup restored) is opened afresh and migrated;
* a read-only file or folder, a full disk, a locked or unreachable database: 503, the
  pool's connections dropped, so the next request connects anew and succeeds once the
  fault is gone (a connection opened read-only stays so; a PostgreSQL restart leaves
  dead ones);
* a write is checked after its commit too: a file deleted in between is answered 503.

:meth:`Store.health` makes a real write (for ``/healthz``): "degraded" with the reason.
"""
from __future__ import annotations

import contextlib
import os
import threading
import time
from pathlib import Path

import sqlalchemy as sa

from .schema import MIGRATIONS, health, schema_version

__all__ = ["Store", "StorageError", "default_url", "open_store"]

#: The database when OPTVIZ_DB_URL is not set: a SQLite file beside the running app
#: (the Docker image sets OPTVIZ_DB_URL to a file on its volume).
DEFAULT_FILE = "optviz-classes.db"
#: Seconds a SQLite writer waits for another's lock; PostgreSQL's connect and statement
#: timeouts. A request never waits on the database for longer than a few seconds.
LOCK_SECONDS = 5
CONNECT_SECONDS = 3
STATEMENT_MS = 5000
#: Free bytes on a SQLite file's volume below which /healthz says the disk is full. A
#: write can still succeed there (SQLite reuses its WAL's space after a checkpoint) while
#: the next one that must grow the file fails: an administrator hears of it first.
LOW_SPACE_BYTES = 64 * 1024

def default_url() -> str:
    """OPTVIZ_DB_URL, else the SQLite file DEFAULT_FILE in the working directory."""
    return os.environ.get("OPTVIZ_DB_URL") or f"sqlite:///{Path(DEFAULT_FILE).resolve()}"


class StorageError(Exception):
    """The database cannot do its part now: answered 503 with ``message`` (what is wrong,
    named for an administrator) and ``retry_after`` seconds."""

    def __init__(self, message: str, retry_after: float = 5):
        super().__init__(message)
        self.message, self.retry_after = message, retry_after


def _sqlite_path(url: str) -> Path | None:
    """The file of a SQLite URL (None for PostgreSQL or an in-memory database)."""
    u = sa.engine.make_url(url)
    if u.get_backend_name() != "sqlite" or not u.database or u.database == ":memory:":
        return None
    return Path(u.database).resolve()


def _file_id(path: Path) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
        return st.st_dev, st.st_ino
    except OSError:
        return None


def _reason(e: BaseException) -> str:
    """A database error in an administrator's words."""
    text = str(getattr(e, "orig", None) or e).strip().splitlines()[0][:200]
    low = text.lower()
    if "full" in low or "no space" in low:
        return f"the disk or the database is full ({text})"
    if "readonly" in low or "read-only" in low or "read only" in low:
        return f"the database cannot be written ({text})"
    if "locked" in low or "busy" in low:
        return f"the database is busy ({text}); try again"
    if "unable to open" in low or "disk i/o" in low:
        return f"the database file cannot be opened ({text})"
    return f"the database does not answer ({text})"


class Store:
    """The class tables behind one engine; ``migrate()`` brings the schema up to date;
    :meth:`read` and :meth:`write` are the only ways in (see the module's docstring)."""

    def __init__(self, url: str | None = None):
        self.url = url or default_url()
        self.path = _sqlite_path(self.url)
        self.dialect = sa.engine.make_url(self.url).get_backend_name()
        self._opened: tuple[int, int] | None = None     # the SQLite file the pool has open
        self._lock = threading.Lock()
        #: the last fault seen by this process, (time, reason); None once a write succeeds
        self.fault: tuple[float, str] | None = None
        self.engine = self._engine()

    def _engine(self) -> sa.Engine:
        if self.dialect == "sqlite":
            engine = sa.create_engine(self.url, connect_args={"timeout": LOCK_SECONDS})

            @sa.event.listens_for(engine, "connect")
            def _pragmas(dbapi_conn, _record):
                dbapi_conn.isolation_level = None            # transactions begin below
                cur = dbapi_conn.cursor()
                cur.execute("PRAGMA journal_mode=WAL")       # readers never wait for a writer
                cur.execute("PRAGMA synchronous=FULL")       # committed = on disk
                cur.execute("PRAGMA foreign_keys=ON")
                cur.close()

            @sa.event.listens_for(engine, "begin")
            def _begin(conn):
                # a writer takes the write lock at once (waiting up to LOCK_SECONDS): a
                # transaction that read first and then wrote could find another writer
                # had gone first, and fail at once with "database is locked"
                write = conn.get_execution_options().get("optviz_write")
                conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")
            return engine
        return sa.create_engine(
            self.url, pool_pre_ping=True, pool_size=5, max_overflow=5, pool_timeout=5,
            connect_args={"connect_timeout": CONNECT_SECONDS,
                          "options": f"-c statement_timeout={STATEMENT_MS}"})

    # -- the ways in ----------------------------------------------------------------------
    def _check_file(self, writing: bool) -> None:
        """SQLite: the file at the path is the one the pool has open (else it is opened
        afresh and migrated: a backup put back), and writable when ``writing``."""
        if self.path is None:
            return
        now = _file_id(self.path)
        if now is None:
            raise StorageError(f"the class database file {self.path} is missing (deleted, "
                               "or its volume is not mounted); restore it, or restart the "
                               "server to start an empty one")
        if writing or now != self._opened:     # (opening one needs its -shm file written)
            for path in (self.path, self.path.parent):
                if not os.access(path, os.W_OK):
                    raise StorageError(f"the class database cannot be written: {path} is "
                                       "read-only")
        if now != self._opened:                # first use, or another file put there
            with self._lock:
                if now != self._opened:
                    if self._opened is not None:
                        self.engine.dispose()
                    self.migrate()
                    self._opened = now

    @contextlib.contextmanager
    def _transaction(self, writing: bool, lock_wait: float | None = None):
        try:
            self._check_file(writing)
            with self.engine.connect() as conn:
                if writing:
                    conn = conn.execution_options(optviz_write=True)
                if lock_wait is not None and self.dialect == "sqlite":
                    conn.connection.driver_connection.execute(
                        f"PRAGMA busy_timeout = {int(1000 * lock_wait)}")
                try:
                    with conn.begin():
                        yield conn
                finally:
                    if lock_wait is not None and self.dialect == "sqlite":
                        conn.connection.driver_connection.execute(
                            f"PRAGMA busy_timeout = {int(1000 * LOCK_SECONDS)}")
        except sa.exc.IntegrityError:
            raise                               # a rule's (a name taken twice at once)
        except (sa.exc.OperationalError, sa.exc.InterfaceError, sa.exc.InternalError,
                sa.exc.DatabaseError, sa.exc.TimeoutError) as e:
            reason = _reason(e)
            self.fault = (time.time(), reason)
            self.engine.dispose()               # connections that saw it are not reused
            raise StorageError(reason, retry_after=1 if "busy" in reason else 5) from None
        if writing:
            self._check_file(False)             # (the file gone during the write: not kept)
            self.fault = None

    def read(self):
        """A transaction that only reads (``with store.read() as conn``)."""
        return self._transaction(False)

    def write(self):
        """A transaction that writes (on SQLite it holds the write lock from its start)."""
        return self._transaction(True)

    # -- the schema ---------------------------------------------------------------------
    def version(self) -> int:
        """The number of migrations applied (0 for an empty database)."""
        with self.engine.connect() as conn:
            if not sa.inspect(conn).has_table("schema_version"):
                return 0
            row = conn.execute(sa.select(schema_version.c.version)).first()
            return int(row[0]) if row else 0

    def migrate(self) -> int:
        """Apply the migrations not yet applied, each in its own transaction (under a
        lock on PostgreSQL: several workers starting at once apply each one once). A
        database that is up to date is only read."""
        if self.version() >= len(MIGRATIONS):
            return len(MIGRATIONS)
        with self.engine.connect() as conn:
            conn = conn.execution_options(optviz_write=True)
            with conn.begin():
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

    def health(self) -> dict:
        """{"ok", "database", "problem"}: a real write (the health row's time), so a
        read-only, full, missing or unreachable database is reported; on SQLite, a volume
        with less than LOW_SPACE_BYTES free is reported full even when this write fits."""
        out = {"database": self.dialect, "ok": True}
        try:                            # (a second's wait for the lock: /healthz is quick)
            with self._transaction(True, lock_wait=1.0) as conn:
                done = conn.execute(health.update().where(health.c.id == 1)
                                    .values(at=self.now()))
                if not done.rowcount:
                    conn.execute(health.insert().values(id=1, at=self.now()))
        except StorageError as e:
            if "busy" in e.message:             # (others writing: it works)
                out["note"] = "busy"
            else:
                out.update(ok=False, problem=e.message)
        except sa.exc.IntegrityError:
            pass                                   # (two probes inserted the row at once)
        if out["ok"] and self.path is not None:
            try:
                free = os.statvfs(self.path.parent)
                free = free.f_bavail * free.f_frsize
            except OSError:
                free = None
            if free is not None and free < LOW_SPACE_BYTES:
                out.update(ok=False, problem=f"the disk is full ({free} bytes free on the "
                                             f"volume of {self.path})")
        return out


_STORES: dict[str, Store] = {}
_STORES_LOCK = threading.Lock()


def open_store(url: str | None = None, *, create: bool = False) -> Store:
    """The process's Store for ``url`` (default: default_url()), migrated on first use.
    A SQLite file is made only when ``create`` is true (the app does so once, when it
    starts): a worker that finds it missing later answers 503 rather than start an empty
    one. A database that cannot be opened raises StorageError (503), and the next call
    tries again."""
    url = url or default_url()
    store = _STORES.get(url)
    if store is None:
        with _STORES_LOCK:
            store = _STORES.get(url)
            if store is None:
                store = Store(url)
                try:
                    if store.path is not None and not create:
                        store._check_file(False)      # (missing: StorageError)
                    else:
                        store.migrate()
                except (sa.exc.OperationalError, sa.exc.InterfaceError,
                        sa.exc.DatabaseError) as e:
                    store.engine.dispose()
                    raise StorageError(_reason(e)) from None
                _STORES[url] = store
    return store


def _forget_connections_after_fork() -> None:
    """A forked process (a gunicorn worker forked from the app it preloaded, a map's
    process) opens connections of its own: it never uses its parent's."""
    for store in _STORES.values():
        store.engine.dispose(close=False)


os.register_at_fork(after_in_child=_forget_connections_after_fork)
