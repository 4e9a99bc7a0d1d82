r"""Random search: the method that uses no gradient at all, the lectures' strawman."""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from .base import Optimizer, lr_param, planes

__all__ = ["ENTRIES", "DRAWS_AHEAD"]


def random_search_init(w, hp):
    cand = np.empty_like(w)
    return SimpleNamespace(loss=None,          # L(w), kept between updates
                           cand=cand, cx=cand[:, :1], cy=cand[:, 1:], z=(), used=0)


#: random numbers random search takes from its stream at once, for as many updates as fit
#: (at most 64): the same numbers in the same order as one draw per update, and a draw
#: costs as much as two elementwise calls on a page's few points
DRAWS_AHEAD = 65536


def random_search_update(w, g, s, lr, t, hp, ctx):
    r"""Random search: try :math:`w' = w + \alpha z`, :math:`z \sim N(0, I)`; keep it if
    :math:`L(w') < L(w)`. Uses no gradient at all; alpha is the search radius.
    """
    if ctx.tensors is None:                    # a surface's points: x and y planes
        p = planes(s, w, g)

        def loss_at(points):
            return ctx.surface.value_xy(points[:, :1], points[:, 1:])
        here = p.w
    else:                                      # a network's: D parameters a point
        loss_at, here = ctx.value_points, w
    if s.loss is None:                         # afterwards L(w) is the last accepted L(w')
        s.loss = np.broadcast_to(loss_at(here), g[:, :1].shape).astype(float)
    if s.used == len(s.z):
        # z is drawn coordinate plane by coordinate plane, ``[coordinates, rows, points]``
        # per update, the order of earlier versions: a saved scene keeps its path
        k = max(1, min(64, DRAWS_AHEAD // w.size))
        s.z = ctx.rng.standard_normal((k, w.shape[1], len(w), w.shape[2])) \
            .transpose(0, 2, 1, 3)
        s.used = 0
    z = s.z[s.used]
    s.used += 1
    cand = np.add(w, np.multiply(z, lr, s.cand), s.cand)      # w + alpha z
    cand_loss = loss_at(cand)
    better = cand_loss < s.loss
    np.copyto(w, cand, where=better)
    np.copyto(s.loss, cand_loss, where=better)


def random_search_tex(x):
    return (rf"w' = w_t + {x.rate}z,\ z \sim N(0, I),\quad "
            r"w_{t+1} = w' \text{ if } L(w') < L(w_t) \text{ else } w_t")


ENTRIES = [
    Optimizer("random_search", "Random search", random_search_init, random_search_update,
              {"lr": lr_param(0.1)}, random_search_tex, step_us=10, color="#CC6677",
              evaluations={"value": 1}, random=True),
]
