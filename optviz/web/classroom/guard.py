"""What stands between a class and a hostile client: who the client is, how many unknown
codes it may try, how many classes it may create, and how much of the machine scoring
may take.

* **The client** is the connection's address; behind a reverse proxy, the address the
  proxy says it forwarded for (``X-Forwarded-For``), believed only from the proxies the
  administrator names in ``OPTVIZ_TRUSTED_PROXIES`` (addresses or networks, comma
  separated). Anyone else could write any address there.
* **Unknown codes** are counted per client and minute in the database, so every worker
  (and every web container on one PostgreSQL) shares the count: past MISSES_PER_MINUTE
  a client's lookups of codes that do not exist are answered 429, and past
  MISSES_PER_MINUTE_TOTAL everyone's are. Lookups of a class that exists are never
  counted nor refused: a lecture hall behind one address keeps following its class
  whatever one student there guesses.
* **Scoring** holds one of SCORE_SLOTS machine-wide slots (a lock file each, released by
  the kernel if the process dies) while it simulates; a try that finds none free within
  SCORE_WAIT seconds is answered 503 with Retry-After, and the page tries again. Scoring
  can thus take at most SCORE_SLOTS cores, whatever a class submits, and following and
  the page keep the rest.
"""
from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import ipaddress
import os
import tempfile
import time

import sqlalchemy as sa

from .rules import ClassError
from .schema import misses

__all__ = ["client", "trusted_proxies", "check_miss", "score_slot", "changed", "stamp",
           "machine_dir", "MISSES_PER_MINUTE",
           "MISSES_PER_MINUTE_TOTAL", "SCORE_SLOTS", "SCORE_WAIT"]

#: Lookups of codes that do not exist one client may make a minute (all workers
#: together) ...
MISSES_PER_MINUTE = 30
#: ... and every client together (a guesser with many addresses).
MISSES_PER_MINUTE_TOTAL = 600
#: Machine-wide slots for scoring tries (OPTVIZ_SCORE_SLOTS; default: half the cores).
SCORE_SLOTS = max(1, int(os.environ.get("OPTVIZ_SCORE_SLOTS", (os.cpu_count() or 2) // 2)))
#: Seconds a try waits for a slot before it is answered 503.
SCORE_WAIT = 1.0


def trusted_proxies(text: str | None = None) -> list:
    """The networks of OPTVIZ_TRUSTED_PROXIES (``text``), e.g. "127.0.0.1, 10.0.0.0/8";
    entries that are not addresses are ignored."""
    text = os.environ.get("OPTVIZ_TRUSTED_PROXIES", "") if text is None else text
    out = []
    for part in text.split(","):
        try:
            out.append(ipaddress.ip_network(part.strip(), strict=False))
        except ValueError:
            continue
    return out


def _trusted(address: str, proxies) -> bool:
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return False
    return any(ip in net for net in proxies)


def client(remote_addr: str | None, forwarded_for: str | None, proxies=None) -> str:
    """The client's address: ``remote_addr``, unless that is a trusted proxy; then the
    right-most address of ``forwarded_for`` that is not one (the one the first proxy
    we trust heard from)."""
    proxies = trusted_proxies() if proxies is None else proxies
    address = (remote_addr or "?")[:64]
    if not proxies or not _trusted(address, proxies) or not forwarded_for:
        return address
    for hop in reversed(forwarded_for.split(",")[-20:]):
        hop = hop.strip()
        if not _trusted(hop, proxies):
            return hop[:64] or address
    return address


def _hashed(address: str) -> str:
    return hashlib.sha256(address.encode("utf-8", "replace")).hexdigest()


def check_miss(store, address: str) -> None:
    """Count one lookup of an unknown code by ``address``; ClassError 429 (with
    Retry-After) if it, or every client together, is past its limit this minute."""
    now = store.now()
    minute = int(now // 60)
    retry = 60 - now % 60
    who = _hashed(address)
    with store.write() as conn:
        mine = conn.execute(sa.select(misses.c.count).where(misses.c.client == who)
                            .where(misses.c.minute == minute)).scalar() or 0
        if mine >= MISSES_PER_MINUTE:
            raise ClassError(429, "too many unknown class codes; wait a minute",
                             retry_after=retry)
        total = conn.execute(sa.select(sa.func.coalesce(sa.func.sum(misses.c.count), 0))
                             .where(misses.c.minute == minute)).scalar()
        if total >= MISSES_PER_MINUTE_TOTAL:
            raise ClassError(429, "too many unknown class codes are being tried; wait a "
                             "minute", retry_after=retry)
        if mine:
            conn.execute(misses.update().where(misses.c.client == who)
                         .where(misses.c.minute == minute).values(count=misses.c.count + 1))
        else:
            conn.execute(misses.insert().values(client=who, minute=minute, count=1))
            conn.execute(misses.delete().where(misses.c.minute < minute - 1))


def machine_dir(name: str) -> str:
    """A folder every process of this machine shares (in OPTVIZ_CACHE_DIR, else the
    temporary folder), made again if a cleaner removed it."""
    base = os.environ.get("OPTVIZ_CACHE_DIR") or os.path.join(tempfile.gettempdir(),
                                                              "optviz-cache")
    path = os.path.join(base, name)
    os.makedirs(path, exist_ok=True)
    return path


def _slots_dir() -> str:
    return machine_dir("slots")


def changed(code: str) -> None:
    """Say to every worker of this machine that class ``code`` changed (a stamp file's
    time): their copies of what followers see are stale at once, not FOLLOW_SECONDS
    later."""
    path = os.path.join(machine_dir("classes"), code)
    with open(path, "a"):
        os.utime(path)


def stamp(code: str) -> int:
    """When class ``code`` last changed on this machine (0: not since the folder was
    made)."""
    try:
        return os.stat(os.path.join(machine_dir_cached(), code)).st_mtime_ns
    except OSError:
        return 0


_CLASSES_DIR: list = []


def machine_dir_cached() -> str:
    """machine_dir("classes"), looked up once (a poll asks it; the folder is made again
    by changed() if it goes)."""
    if not _CLASSES_DIR:
        _CLASSES_DIR.append(machine_dir("classes"))
    return _CLASSES_DIR[0]


@contextlib.contextmanager
def slot(kind: str, slots: int, wait: float):
    """Hold one of ``slots`` machine-wide slots of ``kind`` (an exclusive lock on one of
    ``slots`` files) for the block; ClassError 503 if none is free within ``wait``
    seconds (``wait`` None: wait as long as it takes)."""
    folder = _slots_dir()
    deadline = None if wait is None else time.monotonic() + wait
    while True:
        for k in range(slots):
            fd = os.open(os.path.join(folder, f"{kind}-{k}.lock"), os.O_RDWR | os.O_CREAT,
                         0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as e:
                os.close(fd)
                if e.errno not in (errno.EAGAIN, errno.EACCES):
                    raise
                continue
            try:
                yield
                return
            finally:
                os.close(fd)                     # (closing releases the lock)
        if deadline is not None and time.monotonic() > deadline:
            raise ClassError(503, "the server is busy scoring other tries; yours will be "
                             "sent again in a moment", retry_after=1)
        time.sleep(0.005)


def score_slot():
    """A slot for scoring one try (see the module's docstring)."""
    return slot("score", SCORE_SLOTS, SCORE_WAIT)
