r"""Learning-rate schedules: pure functions of the update index ``t = 0 .. steps-1``.

``make_schedule(name, steps, **params)`` checks its arguments and returns
``f(t: ndarray[int], base_lr: ndarray) -> ndarray`` (broadcasting), the rate update
``t`` uses. Each equals a ``torch.optim.lr_scheduler`` stepped once after every
``optimizer.step()`` (tests/test_torch_parity.py):

- ``constant``: :math:`\alpha_0` (no scheduler)
- ``step``: :math:`\alpha_0 \gamma^{\lfloor t / \text{step\_size} \rfloor}` (StepLR)
- ``exponential``: :math:`\alpha_0 \gamma^t` (ExponentialLR)
- ``cosine``: :math:`\eta_{min} + (\alpha_0 - \eta_{min})(1 + \cos(\pi t / T_{max}))/2`
  (CosineAnnealingLR)
- ``linear``: :math:`\alpha_0 (s + (e - s) \min(t, T) / T)` (LinearLR)
- ``inverse_sqrt``: :math:`\alpha_0 / \sqrt{t + 1}`, the slides' :math:`\alpha_0/\sqrt{t}`
  with t counted from 1 (LambdaLR)

``warmup = W`` (any schedule): factor :math:`(t+1)/W` for :math:`t < W`; then the
schedule runs over the remaining ``steps - W`` updates from its own index 0 (torch:
LambdaLR with that factor). Defaults that torch leaves to the user are tied to the run:
``T_max`` and ``total_iters`` default to the updates after warmup, ``step_size`` to a
quarter of them; ``linear`` decays to 0 by default, as on the slides (torch's LinearLR
defaults, 1/3 to 1 over 5 updates, are a warmup, which ``warmup`` already is).
"""
from __future__ import annotations

from collections.abc import Callable

import numpy as np

__all__ = ["SCHEDULES", "SCHEDULE_PARAMS", "make_schedule"]

Schedule = Callable[[np.ndarray, np.ndarray], np.ndarray]

#: parameters of each schedule: name -> (default or None = tied to the run, low, high)
SCHEDULE_PARAMS: dict[str, dict[str, tuple]] = {
    "constant": {},
    "step": {"step_size": (None, 1, 20000), "gamma": (0.5, 0.0, 1.0)},
    "exponential": {"gamma": (0.99, 0.0, 1.0)},
    "cosine": {"T_max": (None, 1, 20000), "eta_min": (0.0, 0.0, 100.0)},
    "linear": {"start_factor": (1.0, 0.0, 1.0), "end_factor": (0.0, 0.0, 1.0),
               "total_iters": (None, 1, 20000)},
    "inverse_sqrt": {},
}
SCHEDULES = tuple(SCHEDULE_PARAMS)
INT_PARAMS = {"step_size", "T_max", "total_iters"}


def _decay(name: str, n: int, p: dict) -> Schedule:
    """The schedule without warmup, over ``n`` updates."""
    if name == "constant":
        return lambda t, lr: lr * np.ones_like(t, dtype=float)
    if name == "step":
        size, gamma = p["step_size"] or max(1, n // 4), p["gamma"]
        return lambda t, lr: lr * gamma ** (t // size)
    if name == "exponential":
        gamma = p["gamma"]
        return lambda t, lr: lr * gamma ** t
    if name == "cosine":
        T, eta_min = p["T_max"] or n, p["eta_min"]
        return lambda t, lr: eta_min + (lr - eta_min) * (1 + np.cos(np.pi * t / T)) / 2
    if name == "linear":
        s, e, T = p["start_factor"], p["end_factor"], p["total_iters"] or n
        return lambda t, lr: lr * (s + (e - s) * np.minimum(t, T) / T)
    if name == "inverse_sqrt":
        return lambda t, lr: lr / np.sqrt(t + 1.0)
    raise ValueError(f"schedule: unknown name {name!r}; choose one of {', '.join(SCHEDULES)}")


def make_schedule(name: str, steps: int, warmup: int = 0, **params) -> Schedule:
    """Checked schedule ``f(t, base_lr) -> lr``; raises ValueError naming the bad field."""
    if name not in SCHEDULE_PARAMS:
        raise ValueError(f"schedule: unknown name {name!r}; choose one of {', '.join(SCHEDULES)}")
    spec = SCHEDULE_PARAMS[name]
    unknown = set(params) - set(spec)
    if unknown:
        raise ValueError(f"schedule.{sorted(unknown)[0]}: not a parameter of {name!r} "
                         f"(it takes {', '.join(spec) or 'none'})")
    if not 0 <= warmup < steps:
        raise ValueError(f"schedule.warmup: {warmup!r} is outside [0, steps - 1 = {steps - 1}]")
    for key, value in params.items():
        _, low, high = spec[key]
        if key in INT_PARAMS:
            ok = isinstance(value, (int, np.integer)) and not isinstance(value, bool)
        else:
            ok = isinstance(value, (int, float, np.number)) and not isinstance(value, bool)
        if not ok or not np.isfinite(value) or not low <= value <= high:
            kind = "an integer" if key in INT_PARAMS else "a number"
            raise ValueError(f"schedule.{key}: {value!r} is not {kind} in [{low:g}, {high:g}]")
    p = {k: params.get(k, d) for k, (d, _, _) in spec.items()}
    decay = _decay(name, steps - warmup, p)
    if not warmup:
        return decay

    def warmed(t, lr):
        t = np.asarray(t)
        return np.where(t < warmup, lr * (t + 1.0) / warmup,
                        decay(np.maximum(t - warmup, 0), lr))
    return warmed
