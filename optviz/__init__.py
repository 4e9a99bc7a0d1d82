"""optviz: many optimizers racing on one 2-D loss surface, for teaching.

    from optviz import Scene, OptimizerSpec, ScheduleSpec, simulate, SURFACES, OPTIMIZERS
"""
from .engine import Run, simulate, simulate_within
from .optimizers import OPTIMIZERS
from .scene import Change, OptimizerSpec, Scene, SceneError, ScheduleSpec
from .surfaces import SURFACES

__all__ = ["Scene", "OptimizerSpec", "ScheduleSpec", "SceneError", "Change", "simulate",
           "simulate_within", "Run", "SURFACES", "OPTIMIZERS", "__version__"]
__version__ = "0.1.0"
