"""What a run costs before it runs, and the deadline that backs the estimate.

Budgets are in cost, not in counts: 5000 steps of GD on the bowl take a few milliseconds,
5000 steps of 24 rows on the sigmoid network with minibatches and the state inspector
take seconds. :func:`estimate` prices a Scene from what its parts declare:

* each kernel group's update (``Optimizer.step_us``, microseconds a step on a few points;
  the rows of one kernel share it; half of it where the fused update serves, not with
  the state inspector on), and its elementwise work on every point;
* the surface's gradient (``Surface.cost``: microseconds per call on a few points, and
  work per point in units of one elementwise add; a formula's comes from its compiled
  tapes), and what an optimizer evaluates itself (``Optimizer.evaluations``: Newton's
  Hessian, random search's value);
* per point and step, what the engine itself writes (path, loss, gradient);
* a minibatch's draw.

The figures are those of the reference machine (2-core x86-64, NumPy 2.4);
``benchmarks/abuse.py`` prints each estimate beside the measured time. An estimate is a
price, not a promise: :class:`Deadline` backs it inside the engine's step loop, so a
run that costs more than it was priced at stops with :class:`CostError` all the same.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

from .optimizers import OPTIMIZERS

__all__ = ["CostError", "Deadline", "Estimate", "estimate", "check"]

#: Seconds per unit of elementwise work (one add) on one point.
UNIT_SECONDS = 1.2e-9
#: Units of elementwise work per point an update costs for each microsecond of its
#: ``step_us`` (an update's NumPy calls each touch both coordinates of every point).
KERNEL_UNITS_PER_US = 3.0
#: Seconds per point and step for what the engine records (path and loss; as much again
#: for the gradient), and, in simulate_final, for its bookkeeping of where points settle.
POINT_SECONDS = 2.5e-8
FINAL_POINT_SECONDS = 9e-8
#: Seconds per step the engine's own loop costs (copies, the checks every 16 steps).
STEP_SECONDS = 1e-6
#: A minibatch draw (Generator.choice without replacement) per step.
BATCH_SECONDS = 6e-5
#: The kernels' share of their step_us on a page's few points: the moment-based ones
#: share one fused update there (optviz.fused); with the state inspector on none do.
FUSED_FACTOR = 0.5


class CostError(ValueError):
    """A run costs more than its budget, or ran past its deadline. ``control`` names what
    to reduce first (the page shows the message there)."""

    def __init__(self, message: str, control: str = "steps"):
        super().__init__(message)
        self.control = control


@dataclass(frozen=True)
class Estimate:
    """The price of a run: ``seconds`` in all, ``per_step`` of it for each step."""

    seconds: float
    per_step: float
    steps: int

    def steps_within(self, budget: float) -> int:
        """How many steps the same run could take within ``budget`` seconds."""
        return max(0, int(budget / self.per_step)) if self.per_step > 0 else self.steps


def estimate(scene, *, record_state: bool = False, record_grad: bool = True,
             final: bool = False, check: bool = False) -> Estimate:
    """The price of simulating ``scene`` (a validated Scene) on the reference machine.
    ``final``: simulate_final, which records only where each point ends; ``check``: and
    the gradient check of every recorded point (the page's: one gradient and five values
    of the full loss a point)."""
    surface = scene.get_surface()
    c = surface.cost
    specs = scene.optimizers
    n_starts = len(scene.starts)
    points = len(specs) * n_starts
    kernels = {OPTIMIZERS[o.name].kernel for o in specs}
    us = sum(OPTIMIZERS[k].step_us for k in kernels) * (1.0 if record_state else FUSED_FACTOR)
    kernel_units = KERNEL_UNITS_PER_US * sum(OPTIMIZERS[o.name].step_us for o in specs) \
        * n_starts
    share = 1.0                                       # of the samples a gradient reads
    if surface.dataset is not None and scene.batch_size is not None:
        share = scene.batch_size / surface.dataset.n
    record = FINAL_POINT_SECONDS if final else \
        POINT_SECONDS * (1 + record_grad + 2 * record_state)
    per_step = STEP_SECONDS + 1e-6 * (us + c.grad_us) + kernel_units * UNIT_SECONDS + \
        points * (share * c.grad * UNIT_SECONDS + record)
    if scene.batch_size is not None:
        per_step += BATCH_SECONDS
    # what some optimizers evaluate themselves (Newton's Hessian, random search's value,
    # a line search's values and gradients): per kernel group a call, per point the work
    calls = {"hess": (c.hess_us, c.hess), "value": (c.value_us, c.value),
             "grad": (c.grad_us, c.grad)}
    for kernel in kernels:
        entry = OPTIMIZERS[kernel]
        mine = [o for o in specs if OPTIMIZERS[o.name].kernel == kernel]
        if entry.point_us:      # an update that loops over its points: a call per point
            for o in mine:
                per_step += 1e-6 * n_starts * entry.point_us(o.hparams)
                for what, n in entry.evaluations_for(o.hparams).items():
                    extra_us, units = calls[what]
                    per_step += n * n_starts * (1e-6 * extra_us + units * UNIT_SECONDS)
            continue
        for what, n in entry.evaluations_for(mine[0].hparams).items():  # a call per group
            extra_us, units = calls[what]
            per_step += n * (1e-6 * extra_us + len(mine) * n_starts * units * UNIT_SECONDS)
    if check:
        per_step += points * (c.grad + 5 * c.value) * UNIT_SECONDS
    return Estimate(seconds=per_step * scene.steps, per_step=per_step, steps=scene.steps)


def check(scene, budget: float, *, what: str = "this run", reduce=("fewer rows",),
          **kw) -> Estimate:
    """The estimate of ``scene``, or CostError naming what to reduce when it is over
    ``budget`` seconds (``what`` names the work; ``reduce``, what else to offer than
    fewer steps)."""
    est = estimate(scene, **kw)
    if est.seconds <= budget:
        return est
    fits = est.steps_within(budget)
    what_to = []
    if fits >= 1:
        what_to.append(f"at most {fits} steps with these settings")
    if len(scene.optimizers) > 1 or len(scene.starts) > 1:
        what_to.extend(reduce)
    if scene.batch_size is not None:
        what_to.append("a larger minibatch")
    if kw.get("record_state"):
        what_to.append("the state inspector off")
    if kw.get("check"):
        what_to.append("the gradient check off")
    if scene.surface.startswith("formula:"):
        what_to.append("a simpler formula")
    raise CostError(f"steps: {what} would take about {est.seconds:.2g} s of the server's "
                    f"time, more than its {budget:g} s; try " +
                    ", or ".join(what_to or ["fewer steps"]))


class Deadline:
    """A point in time (``time.monotonic()``) a run must finish by; the engine calls
    :meth:`check` every few steps. ``seconds=None`` never expires."""

    __slots__ = ("at", "seconds", "what")

    def __init__(self, seconds: float | None, what: str = "this run"):
        self.seconds, self.what = seconds, what
        self.at = None if seconds is None else time.monotonic() + seconds

    def check(self) -> None:
        if self.at is not None and time.monotonic() > self.at:
            raise CostError(f"steps: {self.what} took longer than {self.seconds:g} s and "
                            "was stopped; use fewer steps, or try again when the server is "
                            "less busy")
