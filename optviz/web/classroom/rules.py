"""The rules of a class, apart from where they are kept (classes.py keeps them).

* **Codes and keys.** A join code is six characters without look-alikes; the key the
  instructor holds is 192 random bits, kept only as its SHA-256, compared in constant
  time.
* **A challenge in the engine's units** (:func:`pose`). When the instructor poses one,
  the class's setup (the page's link query) becomes a :class:`~optviz.scene.Scene`, the
  row the goal scores is chosen, and each knob is mapped to the hyperparameter it moves on
  that row (``lr`` -> α, ``mu`` -> momentum or β₁, ``b2`` -> β₂ or ρ, ``sigma`` -> the
  gradient noise). Its price, what scoring one try costs, is fixed then: a challenge
  whose scoring would pass SCORE_BUDGET (or whose class picture's map would pass the
  map's budget, see maps.py) is refused with what to reduce, so every try it accepts can
  be scored.
* **Scoring** (:func:`score`): a student's values go straight into the scene's
  hyperparameters (``lr: 0.001249`` is α = 0.001249, however it was written) and
  :func:`optviz.engine.simulate_within` runs the scored row, priced and under a
  deadline, as the page runs its own scenes. Only the scored row is simulated (and any
  row that draws random numbers, which the draws of the scored row depend on): every row
  sees the same noise and minibatches, so its path is the one the whole setup would give
  (to round-off: a group of rows shares a fused update that adds in another order).
* **Ranking**: by :func:`rank_key` (reached the goal first, at the earliest step, then
  the lowest loss; diverged last), ties by who submitted first.

Every refusal is a :class:`ClassError` with an HTTP status and a message that names the
field and what it may be.
"""
from __future__ import annotations

import collections
import csv
import functools
import hashlib
import hmac
import io
import json
import math
import os
import secrets
import time
from dataclasses import dataclass
from typing import Any

from ...cost import CostError
from ...cost import check as check_cost
from ...engine import simulate_within
from ...optimizers import OPTIMIZERS
from ...scene import Scene, SceneError
from ..controls import (
    NET_PREFIX,
    ROW_OVERRIDES,
    TRAIN_PREFIX,
    ControlError,
    run_controls,
    scene_from_controls,
)
from ..links import LIVE_KEYS, ROW_KEYS, controls_from_query, query_from_controls

__all__ = ["ClassError", "Limits", "limits", "valid_code", "new_code", "new_key",
           "hash_key", "key_matches", "Challenge", "pose", "score", "cached_score",
           "rank_key", "outcome", "results_csv", "challenge_text", "number_text", "KNOBS",
           "SCORE_BUDGET", "MAX_CHALLENGE_STEPS"]

#: The join code's alphabet: no 0/O, 1/I/L, so a code read off a projector is typed right.
ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 6
#: The knobs a challenge may open, by their link names: the page's global sliders, or a
#: row's own value as "<row>:<knob>" ("adam:lr").
KNOBS = tuple(LIVE_KEYS)
MAX_STATE = 2000            # characters of a setup's query (a page's link is ~200)
MAX_CHALLENGE_STEPS = 5000
#: The most scoring one try may cost, in seconds of the engine on the reference machine
#: (OPTVIZ_SCORE_BUDGET): 300 students trying every 10 s at this price keep one core
#: busy. A costlier challenge is refused when it is posed, with what to reduce.
SCORE_BUDGET = float(os.environ.get("OPTVIZ_SCORE_BUDGET", "0.03"))
#: ... and the deadline that backs the price on a busy machine (wall-clock seconds).
SCORE_SECONDS = 2.0
#: ... and a network's challenge: a try trains the scored row in all its parameters
#: (OPTVIZ_SCORE_TRAINING_BUDGET seconds at most, priced when it is posed)
SCORE_TRAINING_BUDGET = float(os.environ.get("OPTVIZ_SCORE_TRAINING_BUDGET", "0.15"))
#: Largest id a route accepts (ids are 32-bit on PostgreSQL): larger ones are unknown.
MAX_ID = 2**31 - 1


class ClassError(Exception):
    """A refused request: ``status`` (400, 403, 404, 409, 429, 503) and a message that
    says what to change; ``retry_after`` seconds for 429 and 503."""

    def __init__(self, status: int, message: str, field: str | None = None,
                 retry_after: float | None = None):
        super().__init__(message)
        self.status, self.message, self.field, self.retry_after = \
            status, message, field, retry_after

    def body(self) -> dict:
        return {"error": self.message, **({"field": self.field} if self.field else {})}


@dataclass(frozen=True)
class Limits:
    students: int = 500          # names (seats) a class takes
    per_second: float = 1.0      # tries a student may make each second
    idle_hours: float = 24.0     # a class untouched this long is closed ...
    keep_days: float = 7.0       # ... and deleted this long after
    created_per_hour: int = 10   # classes one client may create an hour ...
    created_total_per_hour: int = 200   # ... and every client together


def limits() -> Limits:
    """The limits, from OPTVIZ_CLASS_STUDENTS, OPTVIZ_CLASS_SUBMIT_PER_SECOND,
    OPTVIZ_CLASS_IDLE_HOURS, OPTVIZ_CLASS_KEEP_DAYS, OPTVIZ_CLASSES_PER_HOUR and
    OPTVIZ_CLASSES_PER_HOUR_TOTAL (defaults in :class:`Limits`)."""
    def number(name, default):
        try:
            v = float(os.environ.get(name, default))
        except ValueError:
            return default
        return v if math.isfinite(v) and v > 0 else default
    d = Limits()
    return Limits(int(number("OPTVIZ_CLASS_STUDENTS", d.students)),
                  number("OPTVIZ_CLASS_SUBMIT_PER_SECOND", d.per_second),
                  number("OPTVIZ_CLASS_IDLE_HOURS", d.idle_hours),
                  number("OPTVIZ_CLASS_KEEP_DAYS", d.keep_days),
                  int(number("OPTVIZ_CLASSES_PER_HOUR", d.created_per_hour)),
                  int(number("OPTVIZ_CLASSES_PER_HOUR_TOTAL", d.created_total_per_hour)))


# -- codes and keys ---------------------------------------------------------------------

def new_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def valid_code(code: Any) -> str:
    """The code, upper-cased, if it could be one (else 404: no such class)."""
    if not isinstance(code, str) or len(code) != CODE_LENGTH:
        raise ClassError(404, "no class with this code", "code")
    code = code.upper()
    if any(c not in ALPHABET for c in code):
        raise ClassError(404, "no class with this code", "code")
    return code


def valid_id(value: Any, what: str) -> int:
    """An id from a route (404 for one no table can hold)."""
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= MAX_ID:
        raise ClassError(404, f"no such {what} in this class")
    return value


def new_key() -> str:
    return secrets.token_urlsafe(24)                 # 192 random bits


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8", "replace")).hexdigest()


def key_matches(key_hash: str | None, key: Any) -> bool:
    """Whether ``key`` (untrusted) hashes to ``key_hash``, compared in constant time."""
    given = hash_key(key) if isinstance(key, str) and 0 < len(key) <= 200 else ""
    return key_hash is not None and hmac.compare_digest(given, key_hash)


def _training(setup: dict) -> bool:
    """Whether a setup is a network trained on the page (web/network_view.py)."""
    return isinstance(setup.get("surface"), str) and setup["surface"].startswith(TRAIN_PREFIX)


def setup_query(state: Any) -> str:
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
        if _training(setup):                   # a network trained on every page
            from ..network_view import training_network  # (only for one: its imports)
            training_network(setup["surface"])
            run_controls(setup)
        else:
            scene_from_controls(setup)
    except ControlError as e:
        raise ClassError(400, f"state: {e}", "state") from None
    return query_from_controls(setup)


# -- a challenge in the engine's units ----------------------------------------------------

#: How the slides write each hyperparameter a knob may move.
SYMBOLS = {"lr": "α", "momentum": "μ", "betas.0": "β₁", "betas.1": "β₂", "alpha": "ρ",
           "rho": "ρ", "noise": "σ", "scene.noise": "σ"}
#: The page's control a knob's link name stands for (LIVE_KEYS: lr -> lr_log10, ...), and
#: the optimizer knob it follows (Optimizer.knobs).
_FOLLOWS = {"lr": None, "mu": "beta1", "b2": "beta2", "sigma": None}


@dataclass(frozen=True, eq=False)
class Challenge:
    """A posed challenge: ``scene`` (engine units, the challenge's steps, no live
    changes), the index ``row`` of the scored row, the ``knobs`` students turn (link
    names) and ``knob_map`` (knob -> {"param", "symbol", "low", "high", "log"}: the
    hyperparameter it sets on the scored row, ``scene.noise`` for the global σ), the
    ``goal`` ({"kind": "reach", "epsilon"} or {"kind": "lowest"}, with the row's "row"
    uid and "label") and ``price`` (seconds to score a try). Compared and hashed by
    identity: a stored challenge is read into one object per worker
    (:func:`challenge_from`), which its tries' results are cached by."""

    setup: str
    scene: Scene
    row: int
    knobs: tuple[str, ...]
    knob_map: dict
    goal: dict
    price: float

    @property
    def steps(self) -> int:
        return self.scene.steps

    def text(self) -> str:
        """The challenge as the slides would say it."""
        return challenge_text(self.goal, self.knob_map, self.knobs, self.steps)


_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def number_text(v: float) -> str:
    """A number as a slide writes it: 10⁻³ for 0.001, 5·10⁻⁴ for 0.0005, 0.25 for 0.25."""
    if v == 0 or 1e-2 <= abs(v) < 1e4:
        return f"{v:g}"
    exponent = math.floor(math.log10(abs(v)))
    mantissa = float(f"{v / 10 ** exponent:.3g}")
    if abs(mantissa) >= 10:                      # (9.999 rounded up)
        mantissa, exponent = mantissa / 10, exponent + 1
    power = "10" + str(exponent).translate(_SUPERSCRIPT)
    return power if mantissa == 1 else f"{mantissa:g}·{power}"


def challenge_text(goal: dict, knob_map: dict, knobs, steps: int) -> str:
    """"Momentum: the loss within 10⁻³ of the minimum within 300 steps, turning α and
    μ" (the slides' symbols, the row's name); a network's: "Adam: test accuracy ≥ 90 %
    within 200 steps, turning α"."""
    what = {"reach": lambda: f"the loss within {number_text(goal['epsilon'])} of the minimum",
            "accuracy": lambda: f"test accuracy ≥ {100 * goal['goal']:g} %",
            "lowest": lambda: "the lowest test loss" if goal.get("training")
            else "the lowest loss"}[goal["kind"]]()
    symbols = [knob_map[k]["symbol"] for k in knobs]
    turning = symbols[0] if len(symbols) == 1 else \
        ", ".join(symbols[:-1]) + " and " + symbols[-1]
    when = "after" if goal["kind"] == "lowest" else "within"
    return f"{goal.get('label', goal.get('row'))}: {what} {when} {steps} steps, turning {turning}"


def _moves(knob: str, spec, row: dict) -> str | None:
    """The hyperparameter a global knob (a row knob: its setting) moves on a row of
    ``spec``'s optimizer whose page overrides are ``row``, or None if it moves nothing."""
    name = knob.split(":")[-1]
    own = ":" in knob
    setting = ROW_KEYS[name]                  # the row's override of that knob
    if not own and row.get(setting) not in (None, ""):
        return None                           # the row keeps its own value
    if name == "lr":
        return "lr"
    if name == "sigma":
        return "noise" if own or spec.noise is not None else "scene.noise"
    return OPTIMIZERS[spec.name].knobs.get(_FOLLOWS[name])


def _knob_range(knob: str) -> tuple[float, float, bool]:
    name = knob.split(":")[-1]
    key = {"lr": "lr", "mu": "beta1", "b2": "beta2", "sigma": "noise"}[name]
    low, high = ROW_OVERRIDES[key][1]
    return float(low), float(high), name == "lr"


def _parse_knobs(knobs: Any, rows_on: list[dict]) -> list[str]:
    uids = [r["uid"] for r in rows_on]
    allowed = ", ".join(KNOBS) + ", or <row>:<knob> for a row that is on (rows on: " + \
        ", ".join(uids) + ")"
    if not isinstance(knobs, list) or not 1 <= len(knobs) <= 4:
        raise ClassError(400, "knobs: a list of 1 to 4 of " + allowed, "knobs")
    out = []
    for k in knobs:
        ok = isinstance(k, str) and len(k) <= 60 and (k in KNOBS or (
            k.count(":") == 1 and k.split(":")[0] in uids and k.split(":")[1] in KNOBS))
        if not ok or k in out:
            raise ClassError(400, f"knobs: {str(k)[:30]!r} is not one of " + allowed, "knobs")
        out.append(k)
    return out


def _scored_row(goal: dict, knobs: list[str], rows_on: list[dict], specs) -> int:
    """The index of the row the goal scores: the one it names, else the row a row knob
    names, else the first row that every knob moves (μ moves Momentum, not GD)."""
    uids = [r["uid"] for r in rows_on]
    named = goal.get("row")
    if named is None:
        named = next((k.split(":")[0] for k in knobs if ":" in k), None)
    if named is not None:
        if named not in uids:
            raise ClassError(400, "goal.row: one of the rows that are on: " +
                             ", ".join(uids), "goal")
        candidates = [uids.index(named)]
    else:
        candidates = range(len(uids))
    for i in candidates:
        if all(_moves(k, specs[i], rows_on[i]) and (":" not in k or k.split(":")[0] ==
                                                    uids[i]) for k in knobs):
            return i
    i = candidates[0]
    bad = next(k for k in knobs if not _moves(k, specs[i], rows_on[i]) or
               (":" in k and k.split(":")[0] != uids[i]))
    if named is None:
        raise ClassError(400, f"knobs: no row that is on is moved by every knob ({bad} "
                         f"moves none with the others); turn on a row it moves, or choose "
                         "other knobs", "knobs")
    raise ClassError(400, f"knobs: {bad} does not move {specs[i].label} (goal.row "
                     f"{uids[i]}): it has no such setting or keeps its own value", "knobs")


def _knob_map(knobs: list[str], spec, row: dict) -> dict:
    """Each knob -> {"param" it sets on the scored row (``spec``, its page ``row``),
    "symbol", "low", "high", "log"}."""
    out = {}
    for k in knobs:
        param = _moves(k, spec, row)
        low, high, log = _knob_range(k)
        out[k] = {"param": param, "symbol": SYMBOLS[param], "low": low, "high": high,
                  "log": log}
    return out


def _goal_kind(goal: Any, kinds: tuple, says: str) -> dict:
    """{"kind"} of an (untrusted) goal of one of ``kinds``; ClassError saying ``says``."""
    if not isinstance(goal, dict) or goal.get("kind") not in kinds:
        raise ClassError(400, "goal: " + says, "goal")
    if goal.get("row") is not None and not isinstance(goal.get("row"), str):
        raise ClassError(400, "goal.row: the uid of a row that is on", "goal")
    return {"kind": goal["kind"]}


def _goal(goal: Any, floor: float | None) -> dict:
    out = _goal_kind(goal, ("reach", "lowest"),
                     '{"kind": "reach", "epsilon": e} (the loss within e of the minimum '
                     'within the steps) or {"kind": "lowest"} (the lowest loss at the last '
                     'step)')
    if goal["kind"] == "reach":
        eps = goal.get("epsilon")
        if not isinstance(eps, (int, float)) or isinstance(eps, bool) or \
                not (1e-12 <= eps <= 1e6):
            raise ClassError(400, "goal.epsilon: a number in [1e-12, 1e6]", "goal")
        if floor is None:
            raise ClassError(400, "goal: this surface has no minimum to reach; use "
                             '{"kind": "lowest"}', "goal")
        out["epsilon"] = float(eps)
    return out


def _steps(steps: Any) -> int:
    if not isinstance(steps, int) or isinstance(steps, bool) or \
            not 1 <= steps <= MAX_CHALLENGE_STEPS:
        raise ClassError(400, f"steps: a whole number in [1, {MAX_CHALLENGE_STEPS}]", "steps")
    return steps


def pose(state: str, body: Any) -> Challenge:
    """The challenge ``body`` ({"knobs", "goal", "steps"}) asks of the class's setup
    ``state`` (a link query), in the engine's units and priced; ClassError (400) naming
    the field, or what to reduce when scoring a try would cost more than SCORE_BUDGET."""
    if not isinstance(body, dict):
        raise ClassError(400, "expected a JSON object with knobs, goal and steps")
    steps = _steps(body.get("steps"))
    setup, _ = controls_from_query(state)
    setup.update(steps=steps, changes=[])     # (a challenge starts from the setup's base)
    if _training(setup):
        return _pose_training(setup, body, steps)
    try:
        scene = scene_from_controls(setup)
    except ControlError as e:
        raise ClassError(400, f"steps: {e}", "steps") from None
    rows_on = [r for r in setup["rows"] if r.get("on")]
    knobs = _parse_knobs(body.get("knobs"), rows_on)
    goal = _goal(body.get("goal"), scene.get_surface().min_value)
    i = _scored_row(body.get("goal") or {}, knobs, rows_on, scene.optimizers)
    goal.update(row=rows_on[i]["uid"], label=scene.optimizers[i].label)
    knob_map = _knob_map(knobs, scene.optimizers[i], rows_on[i])
    challenge = Challenge(query_from_controls(setup), scene, i, tuple(knobs), knob_map,
                          goal, 0.0)
    # priced at the values that cost most (noise draws random numbers)
    costliest = {k: m["high"] if "noise" in m["param"] else m["low"]
                 for k, m in knob_map.items()}
    try:
        price = check_cost(_scored_scene(challenge, costliest), SCORE_BUDGET,
                           what="scoring one try", reduce=()).seconds
    except CostError as e:
        raise ClassError(400, str(e), "steps") from None
    return Challenge(challenge.setup, scene, i, tuple(knobs), knob_map, goal, price)


def _training_goal(goal: Any) -> dict:
    out = _goal_kind(goal, ("accuracy", "lowest"),
                     'a network\'s challenge is {"kind": "accuracy", "goal": a} (test '
                     'accuracy at least a within the steps) or {"kind": "lowest"} (the '
                     'lowest test loss at the last step)')
    out["training"] = True
    if goal["kind"] == "accuracy":
        a = goal.get("goal")
        if not isinstance(a, (int, float)) or isinstance(a, bool) or not 0 < a <= 1:
            raise ClassError(400, "goal.goal: a test accuracy in (0, 1], as 0.9", "goal")
        out["goal"] = float(a)
    return out


def _pose_training(setup: dict, body: dict, steps: int) -> Challenge:
    """:func:`pose` for a class that shows a network's training: a try trains the scored
    row in all its parameters with the student's values (web/network_view.py's network,
    σ its minibatch), scored on the test set. The challenge's scene keeps the rows and
    settings on the network's slice (``net:`` with the network's keys); the class picture
    has no map."""
    from ...training import estimate_seconds
    from ..network_view import batch_for, network_keys, training_network
    try:
        net, _, _, name = training_network(setup["surface"])
        rc = run_controls(setup)
    except ControlError as e:
        raise ClassError(400, f"state: {e}", "state") from None
    rows_on = [r for r in setup["rows"] if r.get("on")]
    knobs = _parse_knobs(body.get("knobs"), rows_on)
    own = next((k for k in knobs if k.endswith(":sigma")), None)
    if own or any(o.noise for o in rc.optimizers):
        raise ClassError(400, f"knobs: {own or 'a row'}'s σ: a network's noise is its "
                         "minibatches, the global σ for every row", "knobs")
    goal = _training_goal(body.get("goal"))
    i = _scored_row(body.get("goal") or {}, knobs, rows_on, rc.optimizers)
    spec = rc.optimizers[i]
    goal.update(row=rows_on[i]["uid"], label=spec.label or OPTIMIZERS[spec.name].label)
    knob_map = _knob_map(knobs, spec, rows_on[i])
    body_keys = network_keys(name)
    try:
        scene = Scene(NET_PREFIX + body_keys, list(rc.optimizers), steps=steps,
                      schedule=rc.schedule, noise=rc.noise, seed=rc.seed,
                      clip_norm=rc.clip_norm)
    except SceneError as e:
        raise ClassError(400, f"state: {e}", "state") from None
    # priced at its costliest: the full batch (σ = 0) if σ is a knob
    noise = 0.0 if "sigma" in knobs else rc.noise
    price = estimate_seconds(net, [spec], steps, batch_for(noise, len(net.data.X_train)))
    if price > SCORE_TRAINING_BUDGET:
        raise ClassError(400, f"scoring one try would take about {price:.2g} s, more than "
                         f"the {SCORE_TRAINING_BUDGET:g} s allowed: fewer steps, or a "
                         "smaller network or dataset", "steps")
    return Challenge(query_from_controls(setup), scene, i, tuple(knobs), knob_map, goal, price)


def _score_training(ch: Challenge, values: dict[str, float]) -> dict:
    """A try of a network's challenge: the scored row trained with ``values``."""
    from ...training import train
    from ..network_view import batch_for, training_network
    net, *_ = training_network(TRAIN_PREFIX + ch.scene.surface[len(NET_PREFIX):])
    spec, noise = ch.scene.optimizers[ch.row], ch.scene.noise
    try:
        for knob, v in values.items():
            param = ch.knob_map[knob]["param"]
            if param == "scene.noise":
                noise = v
            else:
                spec = _set(spec, param, v)
        run = train(net, [spec], ch.steps, schedule=ch.scene.schedule,
                    clip_norm=ch.scene.clip_norm, seed=ch.scene.seed,
                    batch_size=batch_for(noise, len(net.data.X_train)),
                    budget=max(SCORE_TRAINING_BUDGET, ch.price))
    except CostError as e:
        raise ClassError(503, str(e), retry_after=2) from None
    except (SceneError, ValueError) as e:            # (NetworkError is a ValueError)
        raise ClassError(400, f"values: {e}", "values") from None
    acc, loss, div = run.test_acc[0, 0], run.test_loss[0, 0], int(run.diverged_at[0, 0])
    reached = None
    if ch.goal["kind"] == "accuracy" and div < 0:
        hits = acc >= ch.goal["goal"]
        reached = int(hits.argmax()) if hits.any() else None
    final = float(loss[-1])
    return {"loss": final if div < 0 and math.isfinite(final) else None,
            "reached_at": reached, "diverged_at": div if div >= 0 else None}


def _set(spec, param: str, value: float):
    """``spec`` (an OptimizerSpec) with ``param`` (e.g. "lr", "betas.1", "noise") set."""
    from ...scene import OptimizerSpec
    hp, noise = spec.hparams, spec.noise
    if param == "noise":
        noise = value
    elif param.startswith("betas."):
        betas = list(hp["betas"])
        betas[int(param[-1])] = value
        hp["betas"] = tuple(betas)
    else:
        hp[param] = value
    return OptimizerSpec(spec.name, label=spec.label, schedule=spec.schedule, noise=noise,
                         **hp)


def _scored_scene(ch: Challenge, values: dict[str, float]) -> Scene:
    """The challenge's scene with ``values`` set, reduced to the scored row and the rows
    that draw random numbers (whose draws depend on how many of them there are)."""
    specs = list(ch.scene.optimizers)
    noise = ch.scene.noise
    for knob, v in values.items():
        param = ch.knob_map[knob]["param"]
        if param == "scene.noise":
            noise = v
        else:
            specs[ch.row] = _set(specs[ch.row], param, v)
    kept = [s for j, s in enumerate(specs) if j == ch.row or OPTIMIZERS[s.name].random]
    return ch.scene.replace(optimizers=kept, noise=noise)


def scored_index(ch: Challenge) -> int:
    """The scored row's index in :func:`_scored_scene`'s rows."""
    return sum(1 for j, s in enumerate(ch.scene.optimizers)
               if j < ch.row and OPTIMIZERS[s.name].random)


def check_values(ch: Challenge, values: Any) -> dict[str, float]:
    """A student's values for (some of) the challenge's knobs, each a finite number within
    its knob's range; ClassError (400) naming the knob."""
    knobs = ", ".join(ch.knobs)
    if not isinstance(values, dict) or not values or len(values) > len(ch.knobs) or \
            set(values) - set(ch.knobs):
        raise ClassError(400, f"values: an object of numbers for the challenge's knobs: "
                         f"{knobs}", "values")
    out = {}
    for k, v in values.items():
        m = ch.knob_map[k]
        try:
            ok = isinstance(v, (int, float)) and not isinstance(v, bool) and \
                math.isfinite(float(v))
        except OverflowError:                      # (an integer of 400 digits)
            ok = False
        if not ok:
            raise ClassError(400, f"values.{k}: a finite number in [{m['low']:g}, "
                             f"{m['high']:g}]", "values")
        v = float(v)
        if not m["low"] <= v <= m["high"]:
            what = "a learning rate" if m["param"] == "lr" else f"a value of {m['symbol']}"
            raise ClassError(400, f"values.{k}: {v:g} is not {what} in [{m['low']:g}, "
                             f"{m['high']:g}]", "values")
        out[k] = v
    return out


#: Results of recent tries, per worker: (challenge, values) -> result. A class tries the
#: same few settings again and again; these are answered without a simulation (nor a
#: scoring slot).
_SCORES: collections.OrderedDict = collections.OrderedDict()
MAX_SCORES = 4096


def cached_score(ch: Challenge, values: dict[str, float]) -> dict | None:
    """The result of a try already scored by this worker, or None."""
    hit = _SCORES.get((ch, json.dumps(values, sort_keys=True)))
    return None if hit is None else dict(hit)


def score(ch: Challenge, values: dict[str, float]) -> dict:
    """The result of a try (checked values): {"loss", "reached_at", "diverged_at"},
    kept for cached_score."""
    key = (ch, json.dumps(values, sort_keys=True))
    if key not in _SCORES:
        _SCORES[key] = _score(ch, values)
        while len(_SCORES) > MAX_SCORES:
            _SCORES.popitem(last=False)
    return dict(_SCORES[key])


def _score(ch: Challenge, values: dict[str, float]) -> dict:
    if ch.goal.get("training"):
        return _score_training(ch, values)
    try:
        scene = _scored_scene(ch, values)
    except SceneError as e:
        raise ClassError(400, f"values: {e}", "values") from None
    try:
        run = simulate_within(scene, max(SCORE_BUDGET, ch.price), seconds=SCORE_SECONDS,
                              what="scoring this try", record_grad=False)
    except CostError as e:
        raise ClassError(503, str(e), retry_after=2) from None
    i = scored_index(ch)
    loss, div = run.loss[i, 0], int(run.diverged_at[i, 0])
    reached = None
    if ch.goal["kind"] == "reach" and div < 0:
        hits = loss - scene.get_surface().min_value <= ch.goal["epsilon"]
        reached = int(hits.argmax()) if hits.any() else None
    final = float(loss[-1])
    return {"loss": final if div < 0 and math.isfinite(final) else None,
            "reached_at": reached, "diverged_at": div if div >= 0 else None}


# -- ranking, words, CSV ----------------------------------------------------------------

def rank_key(kind: str, result: dict) -> tuple[int, int, float]:
    """Sortable: lower is better. Reached the goal (earliest step, then lowest loss),
    then not reached (lowest loss), then diverged."""
    loss = result["loss"]
    if loss is None:
        return (2, 0, 0.0)
    if kind in ("reach", "accuracy"):
        r = result["reached_at"]
        return (0, r, loss) if r is not None else (1, 0, loss)
    return (0, 0, loss)


def outcome(result: dict, goal: dict, steps: int) -> str:
    if result["diverged_at"] is not None:
        return f"diverged at step {result['diverged_at']}"
    loss = ("test L = " if goal.get("training") else "L = ") + f"{result['loss']:.4g}"
    if goal["kind"] in ("reach", "accuracy"):
        r = result["reached_at"]
        return (f"reached at step {r}" if r is not None else "not reached") + f", {loss}"
    return f"{loss} at step {steps}"


def results_csv(knobs: list[str], tries: list[dict]) -> str:
    """Every try as CSV for a spreadsheet: a byte-order mark (Excel reads UTF-8 names),
    every text cell quoted, and a name a spreadsheet would run as a formula written as
    text (a leading ')."""
    out = io.StringIO()
    out.write("\ufeff")
    w = csv.writer(out, quoting=csv.QUOTE_NONNUMERIC, lineterminator="\r\n")
    w.writerow(["rank", "id", "student", "name", *knobs, "loss", "reached_at",
                "diverged_at", "submitted_at"])
    for rank, s in enumerate(tries, start=1):
        name = "'" + s["name"] if s["name"][:1] in "=+-@\t\r|%" else s["name"]
        w.writerow([rank, s["id"], s["student"], name,
                    *(s["values"].get(k, "") for k in knobs),
                    "" if s["loss"] is None else s["loss"],
                    "" if s["reached_at"] is None else s["reached_at"],
                    "" if s["diverged_at"] is None else s["diverged_at"],
                    time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(s["created_at"]))])
    return out.getvalue()


def challenge_from(setup: str, scene_json: str, row: int, knobs_json: str,
                   knob_map_json: str, goal_json: str, price: float) -> Challenge:
    """A stored challenge (classes.py keeps it as text), read once per worker."""
    return _challenge_from(setup, scene_json, row, knobs_json, knob_map_json, goal_json,
                           price)


@functools.lru_cache(maxsize=256)
def _challenge_from(setup, scene_json, row, knobs_json, knob_map_json, goal_json, price):
    return Challenge(setup, Scene.from_json(scene_json), row, tuple(json.loads(knobs_json)),
                     json.loads(knob_map_json), json.loads(goal_json), price)
