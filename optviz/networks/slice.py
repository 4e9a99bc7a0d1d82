r"""The exact slice of a network's loss on a plane, as a :class:`~optviz.surface.Surface`.

:math:`L(a, b) = L(\theta_0 + a u + b v)`: its gradient is :math:`(u \cdot \nabla L,
v \cdot \nabla L)` (exact: backpropagation, then two dot products) and its Hessian
:math:`(u^\top H u, u^\top H v, v^\top H v)` (central differences of the exact gradient
along u and v). Optimizers raced on it see the loss the contour shows: no projection (Li,
Farkhoor, Liu & Yosinski 2018 train in such a subspace).

A slice is named by text, as a formula is, so that it goes wherever a surface goes (a
Scene, a link, Explore, a challenge): ``"net:"`` then ``key=value`` pairs joined by ``;``,
each optional:

    net:data=xor;n=200;noise=0.1;test=0.25;seed=0;hidden=8-8;act=tanh;init=xavier;
        init_seed=0;loss=auto;plane=random;plane_seed=0;span=1

``test`` is the share of the samples held out; ``loss`` is ``auto`` (BCE for two classes,
cross-entropy for more, MSE for a regression) or one of bce, ce, mse that fits the data.

``plane`` is ``random`` (two filter-normalized directions, ``plane_seed``) or ``hessian``
(its two sharpest directions at the init); ``span`` the half-width of the view box. The
planes that need a training first (PCA, two rows' ends) are :func:`slice_surface`'s.
"""
from __future__ import annotations

import functools

import numpy as np

from ..surface import Surface, SurfaceCost
from .data import DATASETS, DataError, make_dataset
from .mlp import ACTIVATIONS, INITS, LOSSES, Network, NetworkError
from .planes import CHUNK, Plane, hessian_plane, random_plane

__all__ = ["PREFIX", "slice_surface", "named_slice", "DEFAULTS"]

PREFIX = "net:"
MAX_LENGTH = 300
#: the keys of a named slice and their defaults
DEFAULTS = {"data": "xor", "n": "200", "noise": "0.1", "test": "0.25", "seed": "0",
            "hidden": "8-8", "act": "tanh", "init": "xavier", "init_seed": "0",
            "loss": "auto", "plane": "random", "plane_seed": "0", "span": "1"}
#: the most parameters a named slice's network may have: every evaluation of the slice
#: is a forward pass (and a backward) of the whole network on all its samples
MAX_SLICE_PARAMS = 2000


def slice_surface(network: Network, plane: Plane, *, span: float = 1.0, name: str = "",
                  data: str = "train", view: tuple | None = None) -> Surface:
    """``network``'s loss on ``plane`` (its train or test data) as a Surface over the box
    [-span, span]² (or ``view``, (a_min, a_max, b_min, b_max)), starting at the plane's
    origin (0, 0)."""
    X, y = ((network.data.X_train, network.data.y_train) if data == "train"
            else (network.data.X_test, network.data.y_test))
    u, v = plane.u, plane.v

    def chunks(x, y_, fn):
        x, y_ = np.broadcast_arrays(np.asarray(x, float), np.asarray(y_, float))
        pts = plane.point(x.ravel(), y_.ravel())
        parts = [fn(pts[lo:lo + CHUNK]) for lo in range(0, len(pts), CHUNK)] or \
            [fn(pts[:0])]
        return x.shape, [np.concatenate(p) for p in zip(*parts)]

    def value_xy(x, y_):
        shape, (out,) = chunks(x, y_, lambda p: (network.evaluate(p, X, y)[0],))
        return out.reshape(shape)

    def grad_xy(x, y_):
        def fn(p):
            g = network.loss_grad(p, X, y)[1]
            return g @ u, g @ v
        shape, (ga, gb) = chunks(x, y_, fn)
        return ga.reshape(shape), gb.reshape(shape)

    def hess_xy(x, y_, h=1e-5):
        def fn(p):
            n = len(p)
            both = np.concatenate([p + h * u, p - h * u, p + h * v, p - h * v])
            g = network.loss_grad(both, X, y)[1]
            hu = (g[:n] - g[n:2 * n]) / (2 * h)
            hv = (g[2 * n:3 * n] - g[3 * n:]) / (2 * h)
            return hu @ u, (hu @ v + hv @ u) / 2, hv @ v
        shape, (haa, hab, hbb) = chunks(x, y_, fn)
        return haa.reshape(shape), hab.reshape(shape), hbb.reshape(shape)

    work = float(network.size * max(1, len(X)))          # multiply-adds of one forward pass
    label = f"{network.data.name} net {'-'.join(map(str, network.hidden))} ({plane.kind} plane)"
    return Surface(
        name=name or PREFIX + plane.kind, label=label,
        latex=r"L(\theta_0 + a\,u + b\,v)",
        teaches=("The exact loss of a real network on a plane through its parameters: the "
                 "optimizers here see only this slice, so the contour is the loss they "
                 "feel (a projection of a full training would not be)."),
        value_xy=value_xy, grad_xy=grad_xy, hess_xy=hess_xy,
        view=view or (-span, span, -span, span), default_start=(0.0, 0.0),
        axes=("a (θ = θ₀ + a u + b v)", "b (along v)"),
        # (the per-call figures: a forward and backward pass's NumPy calls, measured on a
        # page's six points by benchmarks.abuse's way: ~0.9 ms for a gradient of 2-8-8-1)
        cost=SurfaceCost(grad=3 * work, grad_us=300.0 * network.layers, hess=12 * work,
                         hess_us=1200.0 * network.layers, value=work,
                         value_us=220.0 * network.layers))


def named_slice(text: str) -> Surface:
    """The slice a ``net:`` name describes (:data:`DEFAULTS` for what it leaves out);
    NetworkError naming the key for anything else."""
    if not isinstance(text, str) or len(text) > MAX_LENGTH:
        raise NetworkError(f"surface: a network slice's name is text of at most "
                           f"{MAX_LENGTH} characters")
    out = _named(text[len(PREFIX):] if text.startswith(PREFIX) else text)
    if isinstance(out, Exception):
        raise out
    return out


@functools.lru_cache(maxsize=16)
def _named(body: str):
    try:
        return _build(body)
    except (NetworkError, DataError) as e:               # (remembered, not raised again)
        return NetworkError(str(e))


def read_keys(body: str, defaults: dict, field: str = "surface") -> tuple[dict, dict]:
    """(every key with its value, the keys given) of ``key=value;...`` text whose keys
    are those of ``defaults``; NetworkError naming ``field`` for anything else."""
    given = {}
    for part in filter(None, body.split(";")):
        key, eq, value = part.partition("=")
        key = key.strip()
        if not eq or key not in defaults:
            raise NetworkError(f"{field}: {part[:30]!r} in a network's name; keys are "
                               f"{', '.join(defaults)}")
        given[key] = value.strip()
    return {**defaults, **given}, given


def _value(k: dict, key: str, low, high, cast, what: str, field: str):
    try:
        v = cast(k[key])
    except ValueError:
        raise NetworkError(f"{field}.{key}: {k[key][:20]!r} is not {what}") from None
    if not low <= v <= high:
        shown = (lambda x: f"{x:g}") if cast is float else str
        raise NetworkError(f"{field}.{key}: {shown(v)}; allowed {shown(low)} to {shown(high)}")
    return v


def whole(k: dict, key: str, low: int, high: int, field: str = "surface") -> int:
    """Key ``key`` of ``k`` as a whole number in [low, high], or NetworkError."""
    return _value(k, key, low, high, int, "a whole number", field)


def number(k: dict, key: str, low: float, high: float, field: str = "surface") -> float:
    """Key ``key`` of ``k`` as a number in [low, high], or NetworkError."""
    return _value(k, key, low, high, float, "a number", field)


def network_from(k: dict, field: str = "surface") -> Network:
    """The network the keys data, n, noise, test, seed, hidden, act, init, init_seed and
    loss of ``k`` describe (at most MAX_SLICE_PARAMS parameters), or NetworkError naming
    the key."""
    for key, choices in (("data", DATASETS), ("act", ACTIVATIONS), ("init", INITS),
                         ("loss", ("auto",) + LOSSES)):
        if k[key] not in choices:
            raise NetworkError(f"{field}.{key}: {k[key][:30]!r}; choose one of "
                               f"{', '.join(choices)}")
    try:
        hidden = tuple(int(h) for h in k["hidden"].split("-")) if k["hidden"] else ()
    except ValueError:
        raise NetworkError(f"{field}.hidden: {k['hidden'][:30]!r}; widths joined by -, "
                           "as 8-8") from None
    data = make_dataset(k["data"], n=whole(k, "n", 8, 1000, field),
                        noise=number(k, "noise", 0, 1, field),
                        test_fraction=number(k, "test", 0.05, 0.8, field),
                        seed=whole(k, "seed", 0, 2**31, field))
    try:
        net = Network(data, hidden=hidden, activation=k["act"], init=k["init"],
                      loss=None if k["loss"] == "auto" else k["loss"],
                      seeds=(whole(k, "init_seed", 0, 2**31, field),))
    except NetworkError as e:              # (each names its key: hidden, loss, ...)
        raise NetworkError(f"{field}.{e}") from None
    if net.size > MAX_SLICE_PARAMS:
        raise NetworkError(f"{field}.hidden: {net.size} parameters; allowed at most "
                           f"{MAX_SLICE_PARAMS} on the page (fewer or narrower layers)")
    return net


def _build(body: str) -> Surface:
    k, given = read_keys(body, DEFAULTS)
    if k["plane"] not in ("random", "hessian"):
        raise NetworkError(f"surface.plane: {k['plane'][:30]!r}; choose one of random, "
                           "hessian")
    net = network_from(k)
    theta = net.initial()[0]
    plane = random_plane(net, theta, whole(k, "plane_seed", 0, 2**31)) \
        if k["plane"] == "random" else hessian_plane(net, theta)
    canonical = PREFIX + ";".join(f"{key}={k[key]}" for key in DEFAULTS if key in given)
    return slice_surface(net, plane, span=number(k, "span", 1e-3, 100), name=canonical)
