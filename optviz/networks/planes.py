r"""Planes: the 2-D views of a D-dimensional training.

A :class:`Plane` is a point :math:`\theta_0` and two directions u, v of the parameter space;
:math:`\theta(a, b) = \theta_0 + a u + b v`. Four ways to choose one:

- :func:`pca_plane`: one plane shared by every row: the top two principal directions of
  all rows' paths stacked together (each step's :math:`\theta - \theta_0`), with the share
  of the variance each axis explains (Li et al. 2018 take one run's; stacked, the rows are
  compared on the same plane);
- :func:`endpoints_plane`: the plane through the init and two rows' endpoints (Gram–Schmidt);
- :func:`hessian_plane`: the top two eigenvectors of the Hessian at a point (the init, or a
  row's end), with their eigenvalues;
- :func:`random_plane`: two filter-normalized random directions (Li et al. 2018): each
  neuron's row of a Gaussian direction scaled to the norm of that neuron's weights, the
  biases 0.

On a plane: :meth:`Plane.project` gives a path's coordinates and each point's distance
from the plane (a projection is not the path: the distance says how far off it is), and
:func:`plane_loss` the true loss on a grid. :func:`line_loss` is the 1-D view: the loss on
the straight line from the init to a row's end (Goodfellow et al. 2015).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from .mlp import Network, NetworkError

if TYPE_CHECKING:
    from ..training import NetworkRun

__all__ = ["Plane", "pca_plane", "endpoints_plane", "hessian_plane", "random_plane",
           "plane_loss", "line_loss", "hessian"]

#: parameter vectors per forward pass when a grid's loss is computed (memory: a chunk's
#: activations are CHUNK x samples x width floats)
CHUNK = 256


@dataclass(frozen=True)
class Plane:
    """``origin`` [D], axes ``u`` and ``v`` [D] (orthonormal, except a random plane's), and
    what the axes mean: ``explained`` (PCA: each axis's share of the variance) or
    ``curvature`` (Hessian: each axis's eigenvalue)."""

    kind: str
    origin: np.ndarray
    u: np.ndarray
    v: np.ndarray
    explained: tuple | None = None
    curvature: tuple | None = None

    def point(self, a, b) -> np.ndarray:
        """θ(a, b) ``[..., D]`` for coordinates a, b of one shape."""
        a, b = np.broadcast_arrays(np.asarray(a, float), np.asarray(b, float))
        return self.origin + a[..., None] * self.u + b[..., None] * self.v

    def project(self, theta) -> tuple[np.ndarray, np.ndarray]:
        """(coordinates ``[..., 2]``, distance from the plane ``[...]``) of points θ
        ``[..., D]``: the least-squares coordinates in the (u, v) basis."""
        d = np.asarray(theta, float) - self.origin
        basis = np.stack([self.u, self.v])                       # [2, D]
        flat = d.reshape(-1, d.shape[-1])
        coords = np.linalg.solve(basis @ basis.T, basis @ flat.T).T
        rest = flat - coords @ basis
        return (coords.reshape(d.shape[:-1] + (2,)),
                np.sqrt((rest * rest).sum(axis=-1)).reshape(d.shape[:-1]))


def _rows(run: NetworkRun, rows, field: str = "rows") -> list[int]:
    rows = list(range(len(run.optimizers))) if rows is None else list(rows)
    for r in rows:
        if not isinstance(r, (int, np.integer)) or not 0 <= r < len(run.optimizers):
            raise NetworkError(f"plane.{field}: {r!r} is not a row (0 to "
                               f"{len(run.optimizers) - 1})")
    return rows


def _not_diverged(run: NetworkRun, rows, init: int) -> None:
    for r in rows:
        if run.diverged_at[r, init] >= 0:
            raise NetworkError(f"plane.rows: {run.labels[r]} diverged at step "
                               f"{run.diverged_at[r, init]}; a plane of its path means "
                               "nothing: leave it out")


def _check_init(run: NetworkRun, init: int) -> int:
    if not isinstance(init, (int, np.integer)) or not 0 <= init < run.params.shape[1]:
        raise NetworkError(f"plane.init: {init!r}; allowed 0 to {run.params.shape[1] - 1}")
    return int(init)


def pca_plane(run: NetworkRun, rows=None, init: int = 0) -> Plane:
    """The plane through the init spanned by the top two principal directions of every
    chosen row's path (``θ_t - θ_0``, all steps stacked), with each axis's explained
    share of the variance about the init."""
    init = _check_init(run, init)
    rows = _rows(run, rows)
    _not_diverged(run, rows, init)
    origin = run.params[rows[0], init, 0].astype(float)
    stacked = run.params[rows, init].reshape(-1, run.params.shape[-1]).astype(float) - origin
    _, s, vt = np.linalg.svd(stacked, full_matrices=False)
    total = (s * s).sum()
    if len(s) < 2 or s[1] <= 1e-12 * max(s[0], 1e-300):
        raise NetworkError("plane.rows: the paths span less than a plane (they did not "
                           "move, or moved along one line)")
    return Plane("pca", origin, vt[0], vt[1],
                 explained=(float(s[0] ** 2 / total), float(s[1] ** 2 / total)))


def endpoints_plane(run: NetworkRun, first: int, second: int, init: int = 0) -> Plane:
    """The plane through the init and the ends of rows ``first`` and ``second``: u toward
    the first's end, v the second's made orthogonal to it (Gram–Schmidt)."""
    init = _check_init(run, init)
    rows = _rows(run, [first, second], "endpoints")
    _not_diverged(run, rows, init)
    origin = run.params[first, init, 0].astype(float)
    a = run.final[first, init] - origin
    b = run.final[second, init] - origin
    na = np.linalg.norm(a)
    if na == 0:
        raise NetworkError(f"plane.endpoints: {run.labels[first]} ends where it started")
    u = a / na
    b = b - (b @ u) * u
    nb = np.linalg.norm(b)
    if nb <= 1e-12 * na:
        raise NetworkError("plane.endpoints: the two rows end on one line through the "
                           "init; choose rows that end apart")
    return Plane("endpoints", origin, u, b / nb)


def hessian(network: Network, theta, X=None, y=None, h: float = 1e-5) -> np.ndarray:
    """The D×D Hessian of the training loss at θ [D]: central differences of the exact
    gradient along every axis (all 2D gradients in batched calls), symmetrized. Its error
    is about h² times the third derivative, and round-off of 1e-16 / h: ~1e-10 here."""
    X = network.data.X_train if X is None else X
    y = network.data.y_train if y is None else y
    theta = np.asarray(theta, float)
    D = theta.size
    H = np.empty((D, D))
    for lo in range(0, D, CHUNK // 2):
        hi = min(D, lo + CHUNK // 2)
        steps = np.zeros((hi - lo, D))
        steps[np.arange(hi - lo), np.arange(lo, hi)] = h
        both = np.concatenate([theta + steps, theta - steps])
        g = network.loss_grad(both, X, y)[1]
        H[lo:hi] = (g[:hi - lo] - g[hi - lo:]) / (2 * h)
    return (H + H.T) / 2


#: the most parameters a Hessian plane is computed for (D x D floats, 2D gradients)
MAX_HESSIAN = 3000


def hessian_plane(network: Network, theta) -> Plane:
    """The plane through θ along the Hessian's two largest eigenvalues' eigenvectors (the
    directions of sharpest curvature), with the eigenvalues."""
    if network.size > MAX_HESSIAN:
        raise NetworkError(f"plane.kind: a Hessian plane takes a D×D Hessian; this network "
                           f"has {network.size} parameters, allowed {MAX_HESSIAN}")
    theta = np.asarray(theta, float)
    values, vectors = np.linalg.eigh(hessian(network, theta))
    return Plane("hessian", theta.copy(), vectors[:, -1], vectors[:, -2],
                 curvature=(float(values[-1]), float(values[-2])))


def random_plane(network: Network, theta, seed: int = 0) -> Plane:
    """Two filter-normalized random directions through θ: a Gaussian direction whose every
    neuron's row (of each weight matrix) has the norm of that neuron's weights in θ,
    biases 0 (Li et al. 2018, ``ignore=biasbn``). Not orthogonal: coordinates on it are
    in units of the network's own weights."""
    theta = np.asarray(theta, float)
    rng = np.random.default_rng(np.random.SeedSequence(int(seed), spawn_key=(9,)))
    axes = []
    for _ in range(2):
        d = rng.normal(size=theta.size)
        parts = network.tensors(d)
        own = network.tensors(theta)
        for i in range(0, len(parts), 2):
            w, ow = parts[i], own[i]
            norm = np.linalg.norm(w, axis=1, keepdims=True)
            w *= np.linalg.norm(ow, axis=1, keepdims=True) / np.where(norm > 0, norm, 1)
            parts[i + 1][...] = 0.0
        axes.append(d)
    return Plane("random", theta.copy(), axes[0], axes[1])


def plane_loss(network: Network, plane: Plane, a, b, data: str = "train") -> np.ndarray:
    """The true loss at θ(a, b) for every pair of the grid a × b: ``[len(b), len(a)]``
    (rows b, as a contour takes it), on the ``train`` or ``test`` data."""
    if data not in ("train", "test"):
        raise NetworkError(f"plane.data: {data!r}; train or test")
    X, y = ((network.data.X_train, network.data.y_train) if data == "train"
            else (network.data.X_test, network.data.y_test))
    A, B = np.meshgrid(np.asarray(a, float), np.asarray(b, float))
    points = plane.point(A.ravel(), B.ravel())
    out = np.empty(len(points))
    for lo in range(0, len(points), CHUNK):
        out[lo:lo + CHUNK] = network.evaluate(points[lo:lo + CHUNK], X, y)[0]
    return out.reshape(A.shape)


def line_loss(network: Network, start, end, alphas=None, data: str = "train") -> tuple:
    """(alphas, loss): the loss at (1 − α)·start + α·end, α from −0.25 to 1.25 by default
    (Goodfellow et al. 2015's 1-D view of a training)."""
    alphas = np.linspace(-0.25, 1.25, 61) if alphas is None else np.asarray(alphas, float)
    plane = Plane("line", np.asarray(start, float), np.asarray(end, float) - start,
                  np.zeros_like(np.asarray(start, float)))
    return alphas, plane_loss(network, plane, alphas, [0.0], data)[0]
