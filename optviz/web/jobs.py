"""Background jobs (Explore's maps and sweeps): where they run, how many, for how long,
and what happens when something breaks.

* **Where.** Dash background callbacks, through :func:`background_manager`: on one
  machine the embedded Diskcache manager (a process per job, results in a cache
  directory shared by every web worker; nothing to start), or Celery workers on Redis
  when ``REDIS_URL`` is set.
* **How many.** At most MAX_JOBS run at once on a machine (:func:`job_slot`; Celery: the
  workers' concurrency), and at most MAX_QUEUE wait or run, one per browser
  (:class:`Admission`): past that a click is answered "busy, N explorations ahead" at
  once and nothing is started.
* **For how long.** Each job is priced before it starts and stopped at JOB_SECONDS
  (optviz.cost; see explore_panel.compute).
* **Faults.** A removed cache directory is made again on its next use; a job process is
  not joined by a recycling web worker; with Redis down, a click says "background
  workers unavailable" within about a second, and /healthz reports the backend.
"""
from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import tempfile
import threading
import time
from pathlib import Path

from flask import current_app, g, has_request_context, jsonify, request

__all__ = ["background_manager", "job_slot", "jobs_health", "code_digest", "Admission",
           "install_admission", "lower_priority", "JOB_SECONDS", "JOB_PROCESSES", "MAX_JOBS",
           "MAX_QUEUE"]

#: An exploration's time limit, wall-clock seconds (OPTVIZ_JOB_SECONDS): it is priced
#: against it before it starts (optviz.cost) and stopped when it passes it.
JOB_SECONDS = float(os.environ.get("OPTVIZ_JOB_SECONDS", "60"))

#: Explorations that may run at once on one machine with the Diskcache manager (which
#: starts a process per job): more wait for a slot, so a class pressing "run" together
#: cannot start hundreds of processes. With Celery the workers' concurrency bounds it.
MAX_JOBS = max(1, int(os.environ.get("OPTVIZ_MAX_JOBS", os.cpu_count() or 1)))


def _cache_dir() -> str:
    return os.environ.get("OPTVIZ_CACHE_DIR") or os.path.join(tempfile.gettempdir(),
                                                              "optviz-cache")


#: How often a job waiting for a slot looks again (seconds; a look is a read, and only a
#: slot that looks free is taken in a transaction, which locks the cache's database for
#: every web worker too).
SLOT_POLL = 0.2


def _me() -> tuple:
    """This job's identity as a slot's owner: (pid, process start time, thread)."""
    import psutil
    return os.getpid(), psutil.Process().create_time(), threading.get_ident()


def _alive(owner) -> bool:
    """Whether the process that took a slot still runs (not a zombie, not a reused pid)."""
    import psutil
    try:
        pid, started = owner[0], owner[1]
        p = psutil.Process(pid)
        return p.create_time() == started and p.status() != psutil.STATUS_ZOMBIE
    except (psutil.Error, TypeError, IndexError, ValueError):
        return False


@contextlib.contextmanager
def job_slot(slots: int | None = None):
    """Hold one of ``slots`` (default MAX_JOBS) machine-wide job slots while running; no-op
    on Celery. Slot k is a key in the Diskcache directory (shared by every process) naming
    its owner. A slot whose owner process is gone counts as free: **cancel** kills a job
    with SIGKILL, so its ``finally`` never runs (a counting semaphore lost a slot at every
    cancel, and after two the explorations of the whole machine waited ten minutes)."""
    if os.environ.get("REDIS_URL"):
        yield
        return
    import diskcache
    me, keys = _me(), [f"optviz-explore-slot-{k}" for k in range(slots or MAX_JOBS)]
    with diskcache.Cache(_cache_dir()) as cache:
        mine = None
        while mine is None:
            if any(cache.get(k) is None or not _alive(cache.get(k)) for k in keys):
                with cache.transact():
                    for key in keys:
                        owner = cache.get(key)
                        if owner is None or not _alive(owner):
                            cache.set(key, me)
                            mine = key
                            break
            if mine is None:
                time.sleep(SLOT_POLL)
        try:
            yield
        finally:
            with cache.transact():
                if cache.get(mine) == me:
                    cache.delete(mine)


#: the optviz package's directory
PACKAGE = Path(__file__).resolve().parents[1]


@functools.cache
def code_digest(root: Path = PACKAGE) -> str:
    """A digest of the optviz package's source (``root``), part of every cached result's
    key: results are kept for an hour in a cache directory or on Redis, either of which
    can outlive an upgrade, and a new version must not serve a map the old code drew."""
    h = hashlib.sha256()
    for f in sorted(root.rglob("*.py")):
        h.update(f.relative_to(root).as_posix().encode() + b"\0" + f.read_bytes())
    return h.hexdigest()[:16]


def background_manager():
    """Celery on Redis if REDIS_URL is set (workers: ``celery -A app:celery_app worker``),
    else the embedded Diskcache manager in OPTVIZ_CACHE_DIR (default: a temp dir)."""
    url = os.environ.get("REDIS_URL")
    if url:
        from celery import Celery
        from dash import CeleryManager

        class TaskManager(CeleryManager):
            """Dash's CeleryManager, each task entered in the Admission's registry and
            marked in Redis while it may run: a task whose mark is gone with its state
            (Redis restarted empty) is said to be lost (see _lost)."""

            def call_job_fn(self, key, job_fn, args, context):
                task = super().call_job_fn(key, job_fn, args, context)
                _register(task)
                with contextlib.suppress(Exception):
                    self.handle.backend.client.set(_MARK + str(task), 1,
                                                   ex=int(JOB_SECONDS) + 300)
                return task

            def get_result(self, key, job):
                result = super().get_result(key, job)
                status = has_request_context() and \
                    current_app.config.get("OPTVIZ_JOB_STATUS")
                if result is self.UNDEFINED and job and status and _lost(self, job):
                    # said where the panel says how its job went; the run button is free
                    self.handle.backend.set(self._make_set_props_key(key), json.dumps(
                        {status: {"children": LOST}}))
                return result

            def job_running(self, job):
                return super().job_running(job) and not _lost(self, job)

        celery_app = Celery("optviz", broker=url, backend=url)
        # a worker outlives a Redis restart: it retries the broker for ever (every 1 to 5
        # s: QuickConsumer) and the result store a few times, each try bounded by a short
        # socket timeout; a web worker's calls fail within a second (the page then says
        # "unavailable"). Acks late: a task whose worker died is delivered again.
        celery_app.conf.update(
            result_expires=3600, task_acks_late=True, worker_prefetch_multiplier=1,
            broker_connection_retry_on_startup=True, broker_connection_max_retries=None,
            broker_transport_options={"socket_timeout": 2, "socket_connect_timeout": 1},
            redis_socket_timeout=2, redis_socket_connect_timeout=1,
            result_backend_always_retry=True, result_backend_max_retries=5,
            worker_consumer="optviz.web.jobs:QuickConsumer")
        return TaskManager(celery_app, cache_by=[code_digest], expire=3600), celery_app
    return _job_manager()(_cache_dir(), cache_by=[code_digest], expire=3600), None


def _job_manager():
    """Dash's DiskcacheManager, made to survive two faults of a class server (a class, so
    that importing this module does not import Dash's job machinery)."""
    import diskcache
    from dash import DiskcacheManager

    class JobManager(DiskcacheManager):
        """* The cache directory heals: if it is removed (a /tmp cleaner, an operator),
          the next use makes it again (stock: every job failed until a restart).
        * A job process is not the web worker's child for Python's exit handler: a worker
          that gunicorn recycles (max_requests) exits at once instead of waiting for its
          jobs, which finish and leave their result in the shared cache for any worker."""

        def __init__(self, directory, **kw):
            self._dir = directory
            self._open()
            super().__init__(self._handle, **kw)

        def _open(self):
            self._handle = diskcache.Cache(self._dir)
            self._file = self._db()

        def _db(self):
            """The cache's database file (device, inode): another worker may have made
            the directory again, so that it exists but is not the one this one opened."""
            try:
                st = os.stat(os.path.join(self._dir, "cache.db"))
                return st.st_dev, st.st_ino
            except OSError:
                return None

        @property
        def handle(self):
            if self._db() != self._file or self._file is None:
                with contextlib.suppress(Exception):
                    self._handle.close()
                self._open()
            return self._handle

        @handle.setter
        def handle(self, value):
            self._handle = value

        def terminate_job(self, job):
            """Stop a job (cancel, or its result read): SIGKILL to it and its forked
            helpers, without Dash's wait of up to a second for it to go, which blocked
            the web worker when the job was another worker's child (it cannot reap it)."""
            import psutil
            if not job:
                return
            with contextlib.suppress(psutil.Error, ValueError):
                process = psutil.Process(int(job))
                for p in [*process.children(recursive=True), process]:
                    with contextlib.suppress(psutil.Error):
                        p.kill()
            _reap_children()

        def call_job_fn(self, key, job_fn, args, context):
            import multiprocess.process
            _reap_children()
            pid = super().call_job_fn(key, job_fn, args, context)
            # (the exit handler joins every child it knows of: forget this one)
            for child in list(multiprocess.process._children):
                if child.pid == pid:
                    multiprocess.process._children.discard(child)
            _register(pid)
            return pid

    return JobManager


def _reap_children() -> None:
    """Collect this web worker's finished job processes (they are not multiprocessing's
    to join: see JobManager), so that none lingers as a zombie."""
    with contextlib.suppress(ChildProcessError):
        while os.waitpid(-1, os.WNOHANG)[0]:
            pass


def jobs_health() -> dict:
    """What /healthz says of the background jobs: the backend, and whether it answers
    (Redis pinged within a second; the cache directory writable, made again if gone)."""
    url = os.environ.get("REDIS_URL")
    if url:
        try:
            import redis
            redis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1).ping()
            return {"backend": "celery", "ok": True}
        except Exception as e:                      # (any failure: report, never raise)
            return {"backend": "celery", "ok": False, "error": type(e).__name__}
    try:
        import diskcache
        with diskcache.Cache(_cache_dir()) as cache:
            cache.set("optviz-health", time.time(), expire=60)
        return {"backend": "diskcache", "ok": True}
    except Exception as e:
        return {"backend": "diskcache", "ok": False, "error": type(e).__name__}


#: Processes one basin map runs in (OPTVIZ_JOB_PROCESSES; default the cores, at most 2):
#: forked, at a lower priority than the web workers (JOB_NICE), so that a class's
#: explorations slow the sliders as little as possible.
JOB_PROCESSES = max(1, int(os.environ.get("OPTVIZ_JOB_PROCESSES",
                                          min(2, os.cpu_count() or 1))))
JOB_NICE = 10


def lower_priority() -> None:
    """Run this process (a job's) at niceness JOB_NICE: the web workers come first."""
    with contextlib.suppress(OSError):
        current = os.nice(0)
        if current < JOB_NICE:
            os.nice(JOB_NICE - current)


#: Explorations waiting or running at once, machine-wide with Diskcache, in all with
#: Celery (OPTVIZ_MAX_QUEUE, default 4 x MAX_JOBS): past it a click is refused at once.
MAX_QUEUE = max(1, int(os.environ.get("OPTVIZ_MAX_QUEUE", 4 * MAX_JOBS)))
#: Explorations one browser may have waiting or running at once (a second click cancels
#: the first: Dash sends the old job to be stopped before the new one is admitted).
PER_CLIENT = 1
#: Longest a client id may be (a random UUID from the page; anything else is "anonymous").
MAX_CLIENT_ID = 64
#: The registry's key in the job store.
_REGISTRY = "optviz-jobs"
#: What a click (or a running job's progress) says when the job store does not answer.
UNAVAILABLE = ("explore: background workers unavailable; the rest of the page works. "
               "Try again in a minute.")


class Admission:
    """The registry of explorations waiting or running, shared by every web worker: in
    the Diskcache directory or in Redis. A click is admitted only within PER_CLIENT and
    MAX_QUEUE; the count and the admitted click's entry are one transaction (Diskcache's,
    or a Redis lock), so a burst of clicks on every worker at once admits no more than
    MAX_QUEUE. An admitted click holds a ticket until its job starts (at most
    PENDING_SECONDS); then the job's entry (a process id, or a Celery task id) takes its
    place, pruned when the process is gone or the task is done (or older than its time
    limit allows)."""

    #: How long an admitted click's ticket waits for its job to start.
    PENDING_SECONDS = 30.0

    def __init__(self, redis_url: str | None = None):
        self.redis_url = redis_url

    # -- the store: a dict of entries under a lock ----------------------------------------
    @contextlib.contextmanager
    def _entries(self):
        """The registry (job or ticket -> [client, time, process start or None]) to read
        and change in one transaction; what the block leaves in it is written back."""
        if self.redis_url:
            import redis
            r = redis.Redis.from_url(self.redis_url, socket_timeout=1,
                                     socket_connect_timeout=1)
            with r.lock(_REGISTRY + "-lock", timeout=5, blocking_timeout=2):
                raw = r.get(_REGISTRY)
                entries = json.loads(raw) if raw else {}
                yield entries
                r.set(_REGISTRY, json.dumps(entries))
            return
        import diskcache
        with diskcache.Cache(_cache_dir()) as cache, cache.transact():
            entries = cache.get(_REGISTRY) or {}
            yield entries
            cache.set(_REGISTRY, entries)

    def _live(self, key: str, entry: list, now: float) -> bool:
        client, since, started = entry
        if started is None:                                      # a ticket
            return now - since < self.PENDING_SECONDS
        if self.redis_url:
            return now - since < JOB_SECONDS + 120 and not _task_done(key)
        return _alive((int(key), started))

    def live(self) -> dict[str, list]:
        """Entries of the explorations waiting or running, the finished ones pruned."""
        now = time.time()
        with self._entries() as entries:
            for k in [k for k, v in entries.items() if not self._live(k, v, now)]:
                del entries[k]
            return dict(entries)

    # -- the decision ---------------------------------------------------------------------
    def admit(self, client: str) -> tuple[str | None, str | None]:
        """(why not, None), or (None, a ticket) when a click of ``client`` is admitted."""
        now = time.time()
        try:
            with self._entries() as entries:
                for k in [k for k, v in entries.items() if not self._live(k, v, now)]:
                    del entries[k]
                if sum(1 for c, *_ in entries.values() if c == client) >= PER_CLIENT:
                    return ("explore: your previous exploration is still running; cancel "
                            "it first"), None
                if len(entries) >= MAX_QUEUE:
                    return (f"explore: busy, {len(entries)} explorations are running or "
                            "waiting; nothing was started: try again in a minute"), None
                ticket = "ticket-" + os.urandom(8).hex()
                entries[ticket] = [client, now, None]
                return None, ticket
        except Exception:            # Redis down (or a cache that cannot be written)
            return UNAVAILABLE, None

    def started(self, ticket: str, job) -> None:
        """The job of an admitted click has started: its entry replaces the ticket."""
        started = 0.0
        if not self.redis_url:
            import psutil
            try:
                started = psutil.Process(int(job)).create_time()
            except (psutil.Error, ValueError):
                return
        with self._entries() as entries:
            client = entries.pop(ticket, ["anonymous"])[0]
            entries[str(job)] = [client, time.time(), started]


#: A task's mark in Redis while it may run (set when it is sent, kept JOB_SECONDS + 5 min).
_MARK = "optviz-task-"
#: What the panel says of a task that Redis lost (restarted without its data: the
#: queue, the task's state and its mark gone with it).
LOST = ("explore: this exploration was lost when the background workers' store "
        "restarted; press run to start it again")


def _lost(manager, job) -> bool:
    """Whether task ``job`` is unknown to Redis: still PENDING (Celery's word for a task it
    has never heard of) and without the mark it was sent with."""
    try:
        return manager.get_task(job).status == "PENDING" and \
            not manager.handle.backend.client.exists(_MARK + str(job))
    except Exception:                   # Redis down: "unavailable" says it (see below)
        return False


def _quick_consumer():
    from celery.worker.consumer import Consumer

    class QuickConsumer(Consumer):
        """Celery's consumer, reconnecting to the broker every 1 to 5 s (Celery's own
        waits grow to 30 s: after a minute's outage Explore would wait up to half a
        minute more)."""

        def ensure_connected(self, conn):
            conn.ensure_connection = functools.partial(
                conn.ensure_connection, interval_start=1, interval_step=1, interval_max=5)
            return super().ensure_connected(conn)
    return QuickConsumer


def __getattr__(name):
    if name == "QuickConsumer":          # (Celery imported only by a Celery worker)
        return _quick_consumer()
    raise AttributeError(name)


def _task_done(task_id: str) -> bool:
    from celery.result import AsyncResult
    try:
        return AsyncResult(task_id).ready()
    except Exception:                   # (a result backend that does not answer)
        return False


def client_id(value) -> str:
    """A browser's id as sent (untrusted): a short string, else "anonymous"."""
    return value if isinstance(value, str) and 0 < len(value) <= MAX_CLIENT_ID \
        else "anonymous"


def install_admission(server, output: str, client: str, status: str) -> None:
    """Before Dash starts the background callback ``output`` (its key in the callback
    map; a first request, without cacheKey), ask the Admission: if refused, answer at
    once with the reason in the ``status`` component's children, and start nothing; if
    admitted, remember the browser (component ``client``'s data) for the job's entry."""
    admission = Admission(os.environ.get("REDIS_URL"))
    server.config["OPTVIZ_ADMISSION"] = admission
    server.config["OPTVIZ_JOB_STATUS"] = status         # (where a lost job is said)

    @server.before_request
    def admit():
        if request.method != "POST" or not request.path.endswith("/_dash-update-component") \
                or "cacheKey" in request.args:
            return None
        try:
            body = request.get_json(silent=True)
        except RecursionError:
            return None                          # (the envelope check answers it)
        if not isinstance(body, dict) or body.get("output") != output:
            return None
        sent = [s.get("value") for s in body.get("state") or []
                if isinstance(s, dict) and s.get("id") == client]
        reason, ticket = admission.admit(client_id(sent[0] if sent else None))
        if reason:
            return jsonify(multi=True, response={status: {"children": reason}})
        g.optviz_job_ticket = ticket
        return None

    if admission.redis_url:
        import kombu.exceptions
        import redis.exceptions

        def unavailable(_e):
            """Redis went away under a running job (the page polls its progress): say so
            under the panel, and end the job's polling, instead of answering 500."""
            body = request.get_json(silent=True)
            if isinstance(body, dict) and body.get("output") == output:
                return jsonify(multi=True, response={status: {"children": UNAVAILABLE}})
            return jsonify(error=UNAVAILABLE), 503

        for error in (redis.exceptions.RedisError, kombu.exceptions.OperationalError):
            server.register_error_handler(error, unavailable)


def _register(job) -> None:
    """Enter a job just started for the admitted browser (see install_admission)."""
    if not has_request_context() or job is None:
        return
    from flask import current_app
    admission = current_app.config.get("OPTVIZ_ADMISSION")
    ticket = g.get("optviz_job_ticket")
    if admission is not None and ticket is not None:
        with contextlib.suppress(Exception):
            admission.started(ticket, job)
