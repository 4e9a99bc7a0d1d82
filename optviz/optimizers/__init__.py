r"""The optimizers: one :class:`Optimizer` entry each, a file per family.

An entry holds everything about its optimizer: state (``init``), update (its docstring
writes the math in the slides' notation and says where torch differs), the state
inspector's view, its LaTeX (one ``tex`` function gives both the slide's symbols and a
row's numbers), its colour, the page's knobs it follows and, where it has them, the fast
path's coefficients (optviz.fused). Every other layer reads :data:`OPTIMIZERS`.

Names, hyperparameters and defaults follow ``torch.optim``; with no noise the paths match
torch's to float64 round-off (tests/test_torch_parity.py).

Adding an optimizer: write it in its family's file and append its entry to that file's
``ENTRIES`` (a new family: a new file, named in ``FAMILIES`` below); see
docs/architecture.md.
"""
from __future__ import annotations

from . import adam, adaptive, search, second_order, sgd, sign
from .base import STATE, HyperParam, Optimizer, StepContext, Tex

__all__ = ["Optimizer", "OPTIMIZERS", "StepContext", "HyperParam", "STATE", "Tex", "FAMILIES"]

#: the family modules, in the order the page lists their optimizers
FAMILIES = (sgd, adaptive, adam, sign, second_order, search)


def _registry() -> dict[str, Optimizer]:
    out: dict[str, Optimizer] = {}
    for family in FAMILIES:
        for entry in family.ENTRIES:
            if entry.name in out:
                raise ValueError(f"optimizer {entry.name!r} is registered twice")
            out[entry.name] = entry.with_kernel()
    for entry in out.values():
        if entry.kernel not in out:
            raise ValueError(f"{entry.name}: its kernel {entry.kernel!r} has no entry")
    return out


#: Every optimizer by name. Presets (gd, momentum, nesterov) share the ``sgd`` kernel.
OPTIMIZERS: dict[str, Optimizer] = _registry()
