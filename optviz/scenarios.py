"""The lectures' 2-D demos, each one click away: a Scene plus what to watch.

A scenario is a :class:`~optviz.scene.Scene` in the engine's own units (α = 0.48 is
0.48), and the values of the page's global knobs (α, μ/β₁, β₂/ρ, σ) it sets: a row whose
own value equals the knob's follows the knob when a student moves it, the others keep
their own. The page translates a scenario to its controls
(:func:`optviz.web.controls.scenario_controls`); tests/test_scenarios.py checks each
caption's claim on the engine's output, and that the page shows the very same Scene.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from .optimizers import OPTIMIZERS
from .scene import OptimizerSpec as O
from .scene import Scene, ScheduleSpec

__all__ = ["Scenario", "SCENARIOS", "scenario_scene"]


@dataclass(frozen=True)
class Scenario:
    name: str                 # the URL key: ?scenario=<name>
    title: str
    caption: str              # two sentences: what to watch, from the lectures
    scene: Scene
    #: the page's global knobs, in the engine's units: lr, beta1 (μ/β₁), beta2 (β₂/ρ)
    knobs: Mapping[str, float] = field(default_factory=dict)
    #: True: the page trains the scene's network (the scene's surface is that network's
    #: slice, ``net:...``) in all its parameters, ``train:...`` with the same keys
    #: (optviz.training.train with the scene's rows, steps and schedule), instead of
    #: racing on the slice
    train: bool = False


def _all_optimizers() -> list[O]:
    """Every optimizer at torch's defaults, except no rate above 0.001 for the methods that
    step by the gradient itself (ASGD's 0.01 leaves the valley in five steps, as GD's would)."""
    rows = []
    for name, o in OPTIMIZERS.items():
        lr = o.hyper["lr"].default
        rows.append(O(name, lr=min(lr, 1e-3) if o.kernel in ("sgd", "asgd") else lr))
    return rows


_CONSTANT = ScheduleSpec("constant")

_LIST = [
    Scenario(
        "lr-diagnostics", "Learning-rate diagnostics",
        "Three GD runs on 0.1 w₁² + 2 w₂² with α = 0.01, 0.48 and 0.51: the first makes slow "
        "progress, the second oscillates in w₂ but converges, the third is unstable. "
        "The w₂ curvature is 4, so GD is stable only for α < 2/4 = 0.5.",
        Scene("ill_conditioned", [O("gd", lr=0.01), O("gd", lr=0.48), O("gd", lr=0.51)],
              steps=500),
        {"lr": 0.01}),
    Scenario(
        "ill-conditioned", "Ill-conditioned valley: GD, momentum, Nesterov",
        "GD zig-zags across the narrow direction and crawls along the long one. Momentum "
        "averages the zig-zag away and builds up speed along the valley; Nesterov's "
        "look-ahead damps the overshoot.",
        Scene("ill_conditioned", [O("gd", lr=0.03), O("momentum", lr=0.03, momentum=0.9),
                                  O("nesterov", lr=0.03, momentum=0.9)], steps=300),
        {"lr": 0.03, "beta1": 0.9}),
    Scenario(
        "saddle", "Saddle point x² − y²",
        "Started on the ridge, GD slides into the saddle and stalls there, since the gradient "
        "across the ridge is almost zero. Noise, momentum and Adam's normalised step escape; "
        "Newton's method jumps straight to the saddle, where its model has its stationary point.",
        Scene("saddle", [O("gd", lr=0.01), O("sgd", lr=0.01, momentum=0.0, noise=0.5),
                         O("momentum", lr=0.01, momentum=0.9),
                         O("adam", lr=0.01, betas=(0.9, 0.999)), O("newton", lr=1.0)],
              starts=[(-1.8, 0.001)], steps=200),
        {"lr": 0.01, "beta1": 0.9}),
    Scenario(
        "local-minimum", "Gradient descent with a local minimum",
        "GD from this start settles in the shallow local minimum on the right. Momentum "
        "carries enough speed over the bump to reach the deeper global minimum on the left.",
        Scene("local_minimum", [O("gd", lr=0.01), O("momentum", lr=0.01, momentum=0.9)],
              steps=500),
        {"lr": 0.01, "beta1": 0.9}),
    Scenario(
        "adagrad-stalls", "AdaGrad stalls, RMSProp does not",
        "AdaGrad divides by the square root of the sum of all past squared gradients, so on "
        "a long path its step decays to zero before it reaches the minimum. RMSProp's leaky "
        "average forgets old gradients and keeps moving (open the state inspector to see the "
        "effective rates).",
        Scene("rosenbrock", [O("adagrad", lr=0.02), O("rmsprop", lr=0.02, alpha=0.99)],
              steps=500),
        {"lr": 0.02, "beta2": 0.99}),
    Scenario(
        "noise-ball", "SGD noise ball",
        "The same SGD with smaller batches (more gradient noise σ) ends in a larger ball "
        "around the minimum at a constant rate. A decaying schedule (here α × 0.3 every "
        "100 steps) shrinks the ball.",
        Scene("bowl", [O("sgd", lr=0.05, noise=0.5, schedule=_CONSTANT),
                       O("sgd", lr=0.05, noise=1.0, schedule=_CONSTANT),
                       O("sgd", lr=0.05, schedule=_CONSTANT), O("sgd", lr=0.05)],
              noise=2.0, schedule=ScheduleSpec("step", step_size=100, gamma=0.3), steps=400),
        {"lr": 0.05, "beta1": 0.0}),
    Scenario(
        "bias-correction", "Adam's bias correction",
        "Started 1.5 from the minimum with α = 1: the moments start at zero, so without the "
        "correction the first step is (1 − β₁)/√(1 − β₂) ≈ 3.2 α per coordinate and jumps "
        "far past the minimum, while Adam's corrected first step is α and lands beside it. "
        "Scrub through the first steps to compare; the corrected run stays ahead to the end.",
        Scene("bowl", [O("adam", lr=1.0), O("adam_nobias", lr=1.0)], starts=[(1.5, 1.5)],
              steps=40),
        {"lr": 1.0, "beta1": 0.9, "beta2": 0.999}),
    Scenario(
        "weight-decay", "Weight decay: Adam + L2 vs AdamW",
        "Adam's weight_decay adds λw to the gradient, which the adaptive denominator then "
        "rescales, so it minimises L + λ‖w‖²/2 at Adam's pace. AdamW decays the weights "
        "directly by α λ w, decoupled from the gradient statistics, and ends somewhere else.",
        Scene("rosenbrock", [O("adam", lr=0.05, weight_decay=0.5),
                             O("adamw", lr=0.05, weight_decay=0.5)], steps=1000),
        {"lr": 0.05}),
    Scenario(
        "warmup-cosine", "Warmup + cosine against a constant rate",
        "Both rows are Adam with the same α and the same gradient noise; one ramps the rate "
        "up over 40 steps and then anneals it along a cosine to zero, the lectures' "
        "recommended default. The annealed row settles close to the minimum while the "
        "constant one keeps bouncing.",
        Scene("ill_conditioned", [O("adam", lr=0.3), O("adam", lr=0.3, schedule=_CONSTANT)],
              noise=1.0, schedule=ScheduleSpec("cosine", warmup=40), steps=400),
        {"lr": 0.3}),
    Scenario(
        "second-order", "Second order: Newton against L-BFGS",
        "Newton's method uses the exact Hessian and reaches (1, 1) in six steps. L-BFGS "
        "builds its curvature from the gradients it has seen and gets within 10⁻⁴ in under "
        "100 steps, in under 45 with a line search, which pays for it with extra function "
        "evaluations (the state inspector counts them); GD is still in the valley.",
        Scene("rosenbrock", [O("gd", lr=0.001), O("newton"), O("lbfgs"), O("lbfgs_wolfe")],
              steps=150),
        {"lr": 0.001}),
    Scenario(
        "network-slice", "A real network's loss, on a random plane",
        "Six optimizers on a random plane through a 2-8-8-1 tanh network's initialization "
        "(XOR): each ends near ln 2 ≈ 0.69, a coin toss, as no point of this plane does "
        "better. Trained in all 105 parameters, momentum reaches 0.05 in the same 200 steps: "
        "a slice shows the loss a race feels, not where training goes.",
        Scene("net:", [O("gd", lr=0.1), O("momentum", lr=0.1, momentum=0.9),
                       O("nesterov", lr=0.1, momentum=0.9), O("adagrad", lr=0.1),
                       O("rmsprop", lr=0.01, alpha=0.99), O("adam", lr=0.01)], steps=200),
        {"lr": 0.1, "beta1": 0.9, "beta2": 0.99}),
    Scenario(
        "network-lr", "Learning-rate diagnostics on a real network",
        "GD trains a 2-8-8-1 tanh network on XOR at α = 0.01, 0.3 and 10: too low barely "
        "moves (0.67 after 300 steps), 0.3 falls steadily below 0.15, 10 jumps past 10 and "
        "ends above its start. The learning curves show the lectures' three shapes.",
        Scene("net:", [O("gd", lr=0.01), O("gd", lr=0.3), O("gd", lr=10.0)], steps=300),
        {"lr": 0.3}, train=True),
    Scenario(
        "vanishing-gradients", "Vanishing gradients in a deep sigmoid network",
        "Five hidden sigmoid layers (Xavier) on circles: the first layer's gradient starts "
        "over 1000 times under the last's (dotted, solid), GD stays on the ln 2 plateau and "
        "Adam, scaling each step by its own gradient, leaves it. With act=relu;init=he in "
        "the link, GD fits.",
        Scene("net:data=circles;hidden=8-8-8-8-8;act=sigmoid",
              [O("gd", lr=0.5), O("adam", lr=0.01)], steps=300),
        {"lr": 0.5}, train=True),
    Scenario(
        "initialization", "Initialization of a deep tanh network",
        "Four tanh layers drawn at N(0, 0.01²): the gradients shrink layer by layer, and "
        "GD and momentum sit on the ln 2 plateau. In the network panel's init: zeros keeps "
        "each unit its neighbours' twin, xavier and he train (momentum and Adam below "
        "0.02), large saturates (every row ends above 0.5).",
        Scene("net:data=circles;hidden=8-8-8-8;init=small",
              [O("gd", lr=0.1), O("momentum", lr=0.1, momentum=0.9), O("adam", lr=0.01)],
              steps=300),
        {"lr": 0.1, "beta1": 0.9}, train=True),
    Scenario(
        "network-spirals", "SGD with momentum against Adam on the spirals",
        "Two arms wound round each other, a 2-16-16-1 tanh network: Adam at 0.01 fits them "
        "(below 0.02 after 500 steps, over 90 % of the test points), SGD with momentum at "
        "0.1 is still above 0.15. The decision boundaries show the arms each has wound.",
        Scene("net:data=spiral;hidden=16-16",
              [O("momentum", lr=0.1, momentum=0.9), O("adam", lr=0.01)], steps=500),
        {"lr": 0.1, "beta1": 0.9}, train=True),
    Scenario(
        "overparameterization", "Overparameterization: a narrow and a wide network",
        "Two tanh units on XOR from init seed 1: both rows stop near 0.42 with a quadrant "
        "wrong; from init seeds 0 to 7 Adam reaches 0.26 three times and never fits. Set "
        "hidden to 32 in the network panel: from every seed Adam fits (below 0.01) and "
        "momentum classifies over 95 % of the training points.",
        Scene("net:hidden=2;init_seed=1",
              [O("adam", lr=0.05), O("momentum", lr=0.1, momentum=0.9)], steps=400),
        {"lr": 0.05, "beta1": 0.9}, train=True),
    Scenario(
        "batch-size", "Batch size: the noise of minibatches",
        "Minibatches of 16 of the 150 training samples (σ = 1): the training loss rises on "
        "a fifth of GD's steps and more of Adam's, and the paths wander on the plane. Set "
        "σ to 0, the full batch: GD's loss never rises.",
        Scene("net:data=moons", [O("gd", lr=0.1), O("adam", lr=0.01)], steps=200,
              noise=1.0),
        {"lr": 0.1}, train=True),
    Scenario(
        "all-optimizers", "All optimizers on Rosenbrock",
        "Every optimizer with torch's default learning rate (at most 0.001 for those that "
        "step by the gradient itself), from the same start on the banana-shaped valley. "
        "Watch who finds the valley floor, who follows it to (1, 1), and how far the "
        "second-order Newton step gets in a few steps.",
        Scene("rosenbrock", _all_optimizers(), steps=1000),
        {"lr": 0.001}),
]

#: Every scenario by URL key, in menu order.
SCENARIOS: dict[str, Scenario] = {s.name: s for s in _LIST}


def scenario_scene(name: str) -> Scene:
    """The Scene of scenario ``name`` (KeyError if unknown)."""
    return SCENARIOS[name].scene
