"""The class picture's map: the final loss of a two-knob challenge over a grid of both
knobs' values (log α, linear μ, β₂ or σ), which the projector draws every try over.

* **Priced when the challenge is posed** (:func:`map_side`): the largest of SIDES that
  fits MAP_BUDGET, or the challenge is refused with what to reduce.
* **Computed once, off the request** (:func:`request_map`): the first request claims the
  map in the database (a row with a lease) and starts a background process, at a lower
  priority than the web workers, holding the machine's one map slot; every request
  meanwhile is answered "computing". The process writes the map (or why it failed) to
  the database, where every worker reads it: a recycled or killed web worker never
  starts it again. A process killed before it wrote anything leaves a lease that runs
  out: the next request claims the map once more, and after MAX_ATTEMPTS the map is
  marked failed. At most MAX_RUNNING maps are claimed at once on a database.
"""
from __future__ import annotations

import json
import math
import os
import time

import numpy as np
import sqlalchemy as sa

from ...cost import CostError, Deadline
from ...cost import check as check_cost
from ...engine import simulate_final
from . import rules
from .guard import slot
from .schema import maps

__all__ = ["map_side", "request_map", "compute", "MAP_BUDGET", "SIDES"]

#: Grid sides tried in turn, finest first.
SIDES = (32, 24, 16)
#: The most a map may cost, in seconds of the engine on the reference machine
#: (OPTVIZ_MAP_SECONDS), and the deadline of its process (wall-clock; it runs at a
#: lower priority and waits for the slot).
MAP_BUDGET = float(os.environ.get("OPTVIZ_MAP_SECONDS", "10"))
MAP_DEADLINE = 120.0
#: A claim's lease: a process that has not finished by then is taken for dead.
LEASE = MAP_DEADLINE + 60
MAX_ATTEMPTS = 2
MAX_RUNNING = 2


def _axis(m: dict, side: int) -> np.ndarray:
    if m["log"]:
        return np.logspace(math.log10(m["low"]), math.log10(m["high"]), side)
    return np.linspace(m["low"], m["high"], side)


def _scene(ch: rules.Challenge, side: int):
    """The challenge's scored row at every pair of the two knobs' values: row
    ``j * side + i`` has knob 0 at its i-th value and knob 1 at its j-th."""
    kx, ky = ch.knobs
    xs, ys = _axis(ch.knob_map[kx], side), _axis(ch.knob_map[ky], side)
    base = ch.scene.optimizers[ch.row]
    rows = []
    for y in ys:
        for x in xs:
            spec = base
            for knob, v in ((kx, x), (ky, y)):
                param = ch.knob_map[knob]["param"]
                # (the global σ as the row's own noise: the same for this row)
                spec = rules._set(spec, "noise" if param == "scene.noise" else param,
                                  float(v))
            rows.append(spec)
    return ch.scene.replace(optimizers=rows), xs, ys


def map_side(ch: rules.Challenge) -> int:
    """The side of the challenge's map (0: it has none, not two knobs); ClassError (400)
    naming what to reduce if even the coarsest map costs more than MAP_BUDGET."""
    if len(ch.knobs) != 2 or ch.goal.get("training"):      # (a network's: no map)
        return 0
    for side in SIDES:
        scene, _, _ = _scene(ch, side)
        try:
            check_cost(scene, MAP_BUDGET, what=f"the class picture's map ({side} x {side} "
                       "runs)", reduce=(), final=True, record_grad=False)
            return side
        except CostError as e:
            error = e
    raise rules.ClassError(400, str(error), "steps")


def compute(ch: rules.Challenge, side: int, deadline: Deadline | None = None) -> dict:
    """The map: {"knobs", "x", "y", "z"}, z[j][i] the log10 of the final loss at
    (x[i], y[j]), None where the run diverged."""
    scene, xs, ys = _scene(ch, side)
    run = simulate_final(scene, deadline=deadline)
    loss = run.loss[:, 0].reshape(side, side)
    bad = (run.diverged_at[:, 0] >= 0).reshape(side, side) | ~np.isfinite(loss)
    with np.errstate(all="ignore"):
        z = np.log10(np.maximum(loss, 1e-16))
    return {"knobs": list(ch.knobs), "x": xs.tolist(), "y": ys.tolist(),
            "z": [[None if bad[j, i] else round(float(z[j, i]), 3) for i in range(side)]
                  for j in range(side)]}


def request_map(store, cid: int, ch: rules.Challenge, side: int) -> dict:
    """{"status": "done", "map"}, {"status": "computing"}, {"status": "failed", "error"}
    or {"status": "none"} (the challenge has no map); claims and starts the map's
    process when nobody has, or when the last claim's lease ran out."""
    if not side:
        return {"status": "none", "map": None}
    now = store.now()
    with store.read() as conn:
        row = conn.execute(sa.select(maps).where(maps.c.challenge_id == cid)).mappings().first()
    if row is not None:
        if row["status"] == "done":
            return {"status": "done", "map": json.loads(row["data"])}
        if row["status"] == "failed":
            return {"status": "failed", "map": None, "error": row["error"]}
        if row["lease_until"] > now:
            return {"status": "computing", "map": None}
    with store.write() as conn:                    # claim it (again), or mark it failed
        row = conn.execute(sa.select(maps).where(maps.c.challenge_id == cid)).mappings().first()
        if row is not None and (row["status"] != "running" or row["lease_until"] > now):
            return {"status": "computing" if row["status"] == "running" else row["status"],
                    "map": None}
        if row is not None and row["attempts"] >= MAX_ATTEMPTS:
            error = "the map's computation stopped twice before it finished"
            conn.execute(maps.update().where(maps.c.challenge_id == cid)
                         .values(status="failed", error=error))
            return {"status": "failed", "map": None, "error": error}
        running = conn.execute(sa.select(sa.func.count()).select_from(maps)
                               .where(maps.c.status == "running")
                               .where(maps.c.lease_until > now)).scalar()
        if running >= MAX_RUNNING:
            return {"status": "computing", "map": None}    # (claimed when one finishes)
        if row is None:
            conn.execute(maps.insert().values(challenge_id=cid, status="running", attempts=1,
                                              lease_until=now + LEASE))
        else:
            conn.execute(maps.update().where(maps.c.challenge_id == cid).values(
                attempts=row["attempts"] + 1, lease_until=now + LEASE))
    _start(store, cid, ch, side)
    return {"status": "computing", "map": None}


def _start(store, cid, ch, side) -> None:
    """The map's process: forked twice, so that it is nobody's child to wait for (a web
    worker that gunicorn recycles exits at once) and runs on its own."""
    pid = os.fork()
    if pid:
        os.waitpid(pid, 0)                         # (the middle process exits at once)
        return
    try:
        if os.fork():
            os._exit(0)
        _work(store, cid, ch, side)
    finally:
        os._exit(0)


def _work(store, cid, ch, side) -> None:
    # (the parent's connections stay its own: store._forget_connections_after_fork)
    try:
        os.nice(10)
    except OSError:
        pass
    t0 = time.monotonic()
    try:
        with slot("map", 1, None):
            left = MAP_DEADLINE - (time.monotonic() - t0)
            data = compute(ch, side, Deadline(max(1.0, left), "the class picture's map"))
        values = {"status": "done", "data": json.dumps(data, allow_nan=False)}
    except Exception as e:                         # noqa: BLE001 - said on the projector
        values = {"status": "failed", "error": f"the map could not be computed: {e}"[:300]}
    for _ in range(20):                            # (the database may be busy a moment)
        try:
            with store.write() as conn:
                conn.execute(maps.update().where(maps.c.challenge_id == cid).values(**values))
            return
        except Exception:                          # noqa: BLE001
            time.sleep(1)
