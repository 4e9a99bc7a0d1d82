"""The lectures' 2-D demos, each one click away: a named page setup plus what to watch.

A scenario is a *page setup*: the control values :func:`optviz.controls.scene_from_controls`
reads (surface, rows with their own settings, global sliders, schedule, steps, start), so
that loading one puts every control where the scenario needs it and the student can go on
from there. ``scenario_scene(name)`` is the Scene it shows; tests/test_scenarios.py checks
each caption's claim on the engine's output.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from .controls import default_controls, scene_from_controls
from .optimizers import OPTIMIZERS
from .scene import Scene

__all__ = ["Scenario", "SCENARIOS", "scenario_controls", "scenario_scene"]


@dataclass(frozen=True)
class Scenario:
    name: str                 # the URL key: ?scenario=<name>
    title: str
    caption: str              # two sentences: what to watch, from the lectures
    setup: dict[str, Any] = field(default_factory=dict)


def _rows(*rows) -> list[dict]:
    """Rows given as uid or (uid, {overrides}); all on."""
    out = []
    for r in rows:
        uid, over = (r, {}) if isinstance(r, str) else r
        out.append({"uid": uid, "on": True, **over})
    return out


def _LR(alpha: float) -> float:
    """The lr slider's value (log10 alpha; 6 decimals, as a link carries it)."""
    return round(math.log10(alpha), 6)


# torch's default rates, but none above 0.001 for the methods that step by the gradient
# itself (ASGD's 0.01 leaves this valley in five steps, as GD's would); SGD also keeps
# torch's default momentum, 0 (the global mu would make it draw Momentum's path again)
_PLAIN = {n for n, o in OPTIMIZERS.items() if o.kernel in ("sgd", "asgd")}
_ALL = [(n, {"lr": min(OPTIMIZERS[n].hyper["lr"].default, 1e-3) if n in _PLAIN
             else OPTIMIZERS[n].hyper["lr"].default, **({"beta1": 0.0} if n == "sgd" else {})})
        for n in OPTIMIZERS]

_LIST = [
    Scenario(
        "lr-diagnostics", "Learning-rate diagnostics",
        "Three GD runs on 0.1 w₁² + 2 w₂² with α = 0.01, 0.48 and 0.51: the first makes slow "
        "progress, the second oscillates in w₂ but converges, the third is unstable. "
        "The w₂ curvature is 4, so GD is stable only for α < 2/4 = 0.5.",
        {"surface": "ill_conditioned", "steps": 500, "lr_log10": _LR(0.01),
         "rows": _rows(("gd", {"lr": 0.01}), ("gd~2", {"lr": 0.48}), ("gd~3", {"lr": 0.51}))}),
    Scenario(
        "ill-conditioned", "Ill-conditioned valley: GD, momentum, Nesterov",
        "GD zig-zags across the narrow direction and crawls along the long one. Momentum "
        "averages the zig-zag away and builds up speed along the valley; Nesterov's "
        "look-ahead damps the overshoot.",
        {"surface": "ill_conditioned", "steps": 300, "lr_log10": _LR(0.03), "beta1": 0.9,
         "rows": _rows("gd", "momentum", "nesterov")}),
    Scenario(
        "saddle", "Saddle point x² − y²",
        "Started on the ridge, GD slides into the saddle and stalls there, since the gradient "
        "across the ridge is almost zero. Noise, momentum and Adam's normalised step escape; "
        "Newton's method jumps straight to the saddle, where its model has its stationary point.",
        {"surface": "saddle", "steps": 200, "lr_log10": _LR(0.01), "beta1": 0.9,
         "start": [-1.8, 0.001],
         "rows": _rows("gd", ("sgd", {"beta1": 0.0, "noise": 0.5}), "momentum", "adam",
                       ("newton", {"lr": 1.0}))}),
    Scenario(
        "local-minimum", "Gradient descent with a local minimum",
        "GD from this start settles in the shallow local minimum on the right. Momentum "
        "carries enough speed over the bump to reach the deeper global minimum on the left.",
        {"surface": "local_minimum", "steps": 500, "lr_log10": _LR(0.01), "beta1": 0.9,
         "rows": _rows("gd", "momentum")}),
    Scenario(
        "adagrad-stalls", "AdaGrad stalls, RMSProp does not",
        "AdaGrad divides by the square root of the sum of all past squared gradients, so on "
        "a long path its step decays to zero before it reaches the minimum. RMSProp's leaky "
        "average forgets old gradients and keeps moving (open the state inspector to see the "
        "effective rates).",
        {"surface": "rosenbrock", "steps": 500, "lr_log10": _LR(0.02), "beta2": 0.99,
         "rows": _rows("adagrad", "rmsprop")}),
    Scenario(
        "noise-ball", "SGD noise ball",
        "The same SGD with smaller batches (more gradient noise σ) ends in a larger ball "
        "around the minimum at a constant rate. A decaying schedule (here α × 0.3 every "
        "100 steps) shrinks the ball.",
        {"surface": "bowl", "steps": 400, "lr_log10": _LR(0.05), "beta1": 0.0,
         "schedule": "step", "step_size": 100, "gamma": 0.3, "noise": 2.0,
         "rows": _rows(("sgd", {"noise": 0.5, "constant": True}),
                       ("sgd~2", {"noise": 1.0, "constant": True}),
                       ("sgd~3", {"noise": 2.0, "constant": True}),
                       ("sgd~4", {"noise": 2.0}))}),
    Scenario(
        "bias-correction", "Adam's bias correction",
        "The moments start at zero, so without correction the first steps are scaled by "
        "(1 − β₁)/√(1 − β₂) ≈ 3.2: about 3.2 α per coordinate instead of α. Bias correction "
        "divides that start-up bias out; scrub through the first steps to compare.",
        {"surface": "ill_conditioned", "steps": 50, "lr_log10": _LR(0.1), "beta1": 0.9,
         "beta2": 0.999, "rows": _rows("adam", "adam_nobias")}),
    Scenario(
        "weight-decay", "Weight decay: Adam + L2 vs AdamW",
        "Adam's weight_decay adds λw to the gradient, which the adaptive denominator then "
        "rescales, so it minimises L + λ‖w‖²/2 at Adam's pace. AdamW decays the weights "
        "directly by α λ w, decoupled from the gradient statistics, and ends somewhere else.",
        {"surface": "rosenbrock", "steps": 1000, "lr_log10": _LR(0.05),
         "rows": _rows(("adam", {"weight_decay": 0.5}), ("adamw", {"weight_decay": 0.5}))}),
    Scenario(
        "warmup-cosine", "Warmup + cosine against a constant rate",
        "Both rows are Adam with the same α and the same gradient noise; one ramps the rate "
        "up over 40 steps and then anneals it along a cosine to zero, the lectures' "
        "recommended default. The annealed row settles close to the minimum while the "
        "constant one keeps bouncing.",
        {"surface": "ill_conditioned", "steps": 400, "lr_log10": _LR(0.3), "noise": 1.0,
         "schedule": "cosine", "warmup": 40,
         "rows": _rows("adam", ("adam~2", {"constant": True}))}),
    Scenario(
        "all-optimizers", "All optimizers on Rosenbrock",
        "Every optimizer with torch's default learning rate (at most 0.001 for those that "
        "step by the gradient itself), from the same start on the banana-shaped valley. "
        "Watch who finds the valley floor, who follows it to (1, 1), and how far the "
        "second-order Newton step gets in a few steps.",
        {"surface": "rosenbrock", "steps": 1000, "lr_log10": _LR(0.001), "rows": _rows(*_ALL)}),
]

#: Every scenario by URL key, in menu order.
SCENARIOS: dict[str, Scenario] = {s.name: s for s in _LIST}


def scenario_controls(name: str) -> dict[str, Any]:
    """The full page setup of scenario ``name`` (KeyError if unknown)."""
    s = SCENARIOS[name]
    controls = default_controls(s.setup.get("surface"))
    controls.update(s.setup)
    controls["scenario"] = name
    return controls


def scenario_scene(name: str) -> Scene:
    return scene_from_controls(scenario_controls(name))
