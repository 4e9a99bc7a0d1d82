r"""Surfaces from data: the empirical risk of a two-weight model on a small dataset.

Each dataset is made here from a fixed seed (no downloads), n = 64 samples, and each
surface is :math:`L(w) = \frac1n \sum_i \ell_i(w)` with the per-sample losses, their
gradients and the full Hessian written out:

* ``data_linear`` - linear regression :math:`\hat y = w_1 x + w_2` with squared error
  :math:`\ell_i = \frac12 (w_1 x_i + w_2 - y_i)^2`. The inputs are centred far from zero
  (mean 3), so the Hessian :math:`\begin{bmatrix} \overline{x^2} & \bar x \\ \bar x & 1
  \end{bmatrix}` is ill-conditioned: the lecture's narrow valley, made by the data.
* ``data_logistic`` - logistic regression :math:`p = \sigma(w_1 x_{i1} + w_2 x_{i2})`
  with cross-entropy, on two overlapping Gaussian blobs (so the minimum is finite).
* ``data_sigmoid_net`` - the lectures' scalar network with two weights,
  :math:`\hat y = \sigma(w_2\, \sigma(w_1 x))` with squared error: where the sigmoids
  saturate the gradient vanishes, a plateau.

``batch_grad_xy(x, y, idx)`` is the gradient of the loss over the samples ``idx``: the
engine's minibatches (``Scene(batch_size=b)``) draw ``idx`` without replacement, the same
draw for every optimizer, so full-batch GD, SGD and minibatch SGD differ exactly as the
lectures say: :math:`\operatorname{Var}[\bar g_B] = \frac{\sigma^2}{b}\frac{n-b}{n-1}`.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

__all__ = ["Dataset", "DATASETS", "N_SAMPLES", "data_surfaces", "sample_mean"]

N_SAMPLES = 64


def _sigmoid(z):
    return 0.5 * (1.0 + np.tanh(0.5 * z))        # no overflow for large |z|


def sample_mean(a):
    """``np.mean(a, -1)``, bit for bit, without its Python wrapper (~10 us a call: on the
    engine's hot path, two calls a step were a third of a page request on these
    surfaces)."""
    return np.add.reduce(a, -1) / a.shape[-1]


@dataclass(frozen=True)
class Dataset:
    """Inputs ``x`` [n] or [n, 2], targets ``y`` [n], and the model's name."""

    name: str
    model: str            # "linear", "logistic" or "sigmoid_net"
    x: np.ndarray
    y: np.ndarray

    @property
    def n(self) -> int:
        return len(self.y)

    # per-sample quantities, broadcast: w1, w2 of shape S -> arrays S + (len(idx),)
    def losses(self, w1, w2, idx=slice(None)):
        w1, w2 = np.asarray(w1)[..., None], np.asarray(w2)[..., None]
        x, y = self.x[idx], self.y[idx]
        if self.model == "linear":
            return 0.5 * (w1 * x + w2 - y) ** 2
        if self.model == "logistic":
            z = w1 * x[:, 0] + w2 * x[:, 1]
            # cross-entropy, stable: log(1 + e^z) - y z
            return np.logaddexp(0.0, z) - y * z
        h = _sigmoid(w1 * x)
        return 0.5 * (_sigmoid(w2 * h) - y) ** 2

    def grads(self, w1, w2, idx=slice(None)):
        w1, w2 = np.asarray(w1)[..., None], np.asarray(w2)[..., None]
        x, y = self.x[idx], self.y[idx]
        if self.model == "linear":
            r = w1 * x + w2 - y
            return r * x, r
        if self.model == "logistic":
            r = _sigmoid(w1 * x[:, 0] + w2 * x[:, 1]) - y
            return r * x[:, 0], r * x[:, 1]
        h = _sigmoid(w1 * x)
        o = _sigmoid(w2 * h)
        d = (o - y) * o * (1 - o)                 # dl/d(w2 h)
        return d * w2 * h * (1 - h) * x, d * h

    def mean_grads(self, w1, w2):
        """The full-batch gradient, :meth:`grads` averaged over every sample, with the
        sums over samples done as matrix products: the engine's hot path (a page's six
        rows: 2-3x faster than reducing the per-sample arrays; equal to round-off)."""
        if self.model == "sigmoid_net":       # (its two sigmoids dominate: plain means)
            gx, gy = self.grads(w1, w2)
            return sample_mean(gx), sample_mean(gy)
        x, y, n = self.x, self.y, self.n
        features = self._features                                 # [n, 2]
        if self.model == "linear":
            r = np.asarray(w1)[..., None] * x + (np.asarray(w2)[..., None] - y)
        else:                                                     # logistic: z = X w
            if np.shape(w1) != np.shape(w2):                      # (a grid's x and y)
                w1, w2 = np.broadcast_arrays(w1, w2)
            w = np.concatenate((np.asarray(w1)[..., None], np.asarray(w2)[..., None]), -1)
            r = _sigmoid(w @ self._inputs_t) - y
        g = r @ features / n                                      # [..., 2]
        return g[..., 0], g[..., 1]

    @functools.cached_property
    def _features(self) -> np.ndarray:
        """Per-sample features ``[n, 2]``: ``[x_i, 1]`` for the linear model (its
        gradient is ``r_i [x_i, 1]``), the inputs for the logistic one."""
        if self.model == "linear":
            return np.stack([self.x, np.ones_like(self.x)], -1)
        return np.ascontiguousarray(self.x)

    @functools.cached_property
    def _inputs_t(self) -> np.ndarray:
        """The logistic model's inputs transposed, ``[2, n]``: ``z = [w1, w2] @ X^T``."""
        return np.ascontiguousarray(self.x.T)

    def hessian(self, w1, w2):
        """Mean Hessian (hxx, hxy, hyy) of the full loss."""
        w1, w2 = np.asarray(w1)[..., None], np.asarray(w2)[..., None]
        x, y = self.x, self.y
        if self.model == "linear":
            one = np.ones_like(w1 * x)
            return (np.mean(one * x * x, -1), np.mean(one * x, -1), np.mean(one, -1))
        if self.model == "logistic":
            p = _sigmoid(w1 * x[:, 0] + w2 * x[:, 1])
            s = p * (1 - p)
            return (np.mean(s * x[:, 0] ** 2, -1), np.mean(s * x[:, 0] * x[:, 1], -1),
                    np.mean(s * x[:, 1] ** 2, -1))
        h = _sigmoid(w1 * x)
        hp = h * (1 - h)                           # h'(w1 x) / x
        hpp = hp * (1 - 2 * h)                     # h''(w1 x) / x^2
        o = _sigmoid(w2 * h)
        op = o * (1 - o)
        opp = op * (1 - 2 * o)
        e = o - y
        # l = e^2 / 2 with o = s(w2 h(w1 x)): chain rule twice
        do_dw1 = op * w2 * hp * x
        do_dw2 = op * h
        d2o_dw1 = opp * (w2 * hp * x) ** 2 + op * w2 * hpp * x * x
        d2o_dw12 = opp * w2 * hp * x * h + op * hp * x
        d2o_dw2 = opp * h * h
        return (np.mean(do_dw1 ** 2 + e * d2o_dw1, -1),
                np.mean(do_dw1 * do_dw2 + e * d2o_dw12, -1),
                np.mean(do_dw2 ** 2 + e * d2o_dw2, -1))

    def predict(self, w1, w2, x):
        """The model's output at inputs ``x`` (for the page's fit panel)."""
        if self.model == "linear":
            return w1 * x + w2
        if self.model == "logistic":
            return _sigmoid(w1 * x[..., 0] + w2 * x[..., 1])
        return _sigmoid(w2 * _sigmoid(w1 * x))


def _make() -> dict[str, Dataset]:
    rng = np.random.default_rng(20261122)
    n = N_SAMPLES
    x = rng.normal(3.0, 1.0, n)
    linear = Dataset("data_linear", "linear", x, 1.5 * x - 2.0 + rng.normal(0, 0.5, n))
    labels = (np.arange(n) % 2).astype(float)
    centres = np.where(labels[:, None] > 0, [1.0, 0.6], [-0.6, -1.0])
    blobs = centres + rng.normal(0, 1.0, (n, 2))
    logistic = Dataset("data_logistic", "logistic", blobs, labels)
    xs = rng.uniform(-3, 3, n)
    target = _sigmoid(3.0 * _sigmoid(2.0 * xs) - 1.5)
    net = Dataset("data_sigmoid_net", "sigmoid_net", xs,
                  np.clip(target + rng.normal(0, 0.03, n), 0, 1))
    return {d.name: d for d in (linear, logistic, net)}


#: Every dataset by surface name.
DATASETS: dict[str, Dataset] = _make()


#: SurfaceCost of each data surface (all 64 samples, on arrays too large for the cache;
#: see optviz.surfaces.SurfaceCost)
_COSTS = {"data_linear": (360, 5, 420, 19, 260, 6), "data_logistic": (540, 9, 830, 28, 1400, 8),
          "data_sigmoid_net": (1900, 18, 2750, 48, 630, 11)}


def data_surfaces(surface_factory, cost) -> list:
    """The three data surfaces, built by ``surface_factory(name, label, latex, teaches,
    fns, view, start, minima, saddles, dataset, cost)`` (optviz.surfaces._surface), with
    ``cost(...)`` their SurfaceCost."""
    out = []
    specs = {
        "data_linear": ("Data: linear regression", r"\frac1n\sum_i \tfrac12(w_1x_i+w_2-y_i)^2",
                        "Inputs far from zero make the regression's valley narrow: the "
                        "ill-conditioned quadratic, from data.", (-2, 5, -12, 8), (-1.0, 6.0)),
        "data_logistic": ("Data: logistic regression",
                          r"\frac1n\sum_i \log(1+e^{z_i}) - y_i z_i,\ z_i = w_1x_{i1}+w_2x_{i2}",
                          "Cross-entropy on overlapping classes: convex, with a curved, "
                          "flat-bottomed valley.", (-4, 6, -4, 6), (-3.0, 5.0)),
        "data_sigmoid_net": ("Data: scalar sigmoid network",
                             r"\frac1n\sum_i \tfrac12(\sigma(w_2\,\sigma(w_1x_i))-y_i)^2",
                             "Where the sigmoids saturate the gradient vanishes: a plateau "
                             "that stalls plain gradient descent.", (-6, 8, -6, 10),
                             (-5.5, 9.0)),
    }
    for name, (label, latex, teaches, view, start) in specs.items():
        d = DATASETS[name]

        def value_xy(x, y, d=d):
            return sample_mean(d.losses(x, y))

        def grad_xy(x, y, d=d):
            return d.mean_grads(x, y)

        def hess_xy(x, y, d=d):
            return d.hessian(x, y)

        minima = _minimum(value_xy, grad_xy, hess_xy, view)
        out.append(surface_factory(name, label, latex, teaches, (value_xy, grad_xy, hess_xy),
                                   view, start, minima=minima, dataset=d,
                                   cost=cost(*_COSTS[name])))
    return out


def _minimum(value_xy, grad_xy, hess_xy, view):
    """The lowest point of a grid over ``view`` (refined later by Newton's method)."""
    xs, ys = np.linspace(view[0], view[1], 141), np.linspace(view[2], view[3], 141)
    X, Y = np.meshgrid(xs, ys)
    Z = value_xy(X, Y)
    i = np.unravel_index(np.argmin(Z), Z.shape)
    return [(float(X[i]), float(Y[i]))]
