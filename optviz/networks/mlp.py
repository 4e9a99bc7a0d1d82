r"""A small fully connected network (an MLP) as a problem optimizers train: its layers,
activation, loss and initial parameters, and its loss and gradient for many parameter
vectors at once.

Parameters. One vector :math:`\theta \in \mathbb{R}^D` in torch's order: layer by layer,
the weight ``[out, in]`` (row-major) then the bias ``[out]``, as ``model.parameters()``
yields them for ``nn.Sequential(nn.Linear, act, ..., nn.Linear)``. Many vectors (rows ×
initializations) go through one call as ``theta[B, D]``: every layer is one batched
matrix product over all of them.

Losses, each torch's with ``reduction="mean"``: ``bce`` (BCEWithLogitsLoss, one logit,
classes 0/1), ``ce`` (CrossEntropyLoss over K logits), ``mse`` (MSELoss).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .data import Dataset

__all__ = ["Network", "ACTIVATIONS", "LOSSES", "INITS", "NetworkError"]

#: the most parameters a network may have, and the most hidden layers
MAX_PARAMS = 20_000
MAX_LAYERS = 10
#: leaky ReLU's slope below 0 (torch's default)
LEAKY = 0.01


def _mean(a: np.ndarray) -> np.ndarray:
    """Each leading entry's mean over the rest, ``[B, ...] -> [B]``."""
    return a.reshape(len(a), -1).sum(axis=1) / (a.size // len(a))


class NetworkError(ValueError):
    """A network that cannot be built or trained: the message names the field and what
    is allowed."""


def _tanh_in_place(z):
    """tanh(z) into ``z`` as sign(z) (1 - e) / (1 + e), e = exp(-2|z|), and as
    z (1 - z²/3) where |z| < 1e-4 (no cancellation near 0): NumPy's exp is vectorized
    where its tanh is not (tanh was a third of a training's time; this is ~40 % faster);
    within 3e-13 of np.tanh relatively (2.3e-16 absolutely), inf and NaN as tanh takes
    them (tests/test_networks.py)."""
    e = np.abs(z)
    small = e < 1e-4
    near = z * z
    near *= -1 / 3
    near += 1
    near *= z
    e *= -2
    np.exp(e, out=e)                             # in (0, 1]: no overflow
    d = e + 1
    np.subtract(1, e, out=e)
    e /= d
    np.copysign(e, z, out=z)
    np.copyto(z, near, where=small)
    return z


def _tanh(z, slope=True, cut=slice(None)):
    a = _tanh_in_place(z)
    if not slope:
        return a, None
    s = a[..., cut, :]
    return a, 1 - s * s


def _sigmoid(z, slope=True, cut=slice(None)):
    z *= 0.5                                     # (through tanh: no overflow warning)
    a = _tanh_in_place(z)
    a += 1
    a *= 0.5
    if not slope:
        return a, None
    s = a[..., cut, :]
    return a, s * (1 - s)


def _relu(z, slope=True, cut=slice(None)):
    return np.maximum(z, 0), (z[..., cut, :] > 0).astype(float) if slope else None


def _leaky_relu(z, slope=True, cut=slice(None)):
    pos = z > 0
    return (np.where(pos, z, LEAKY * z),
            np.where(pos[..., cut, :], 1.0, LEAKY) if slope else None)


#: name -> f(z, slope, cut) -> (activation, its derivative at z[..., cut, :] (the samples
#: backward will need), if ``slope``), z overwritten; torch's derivatives (ReLU's is 0
#: at 0, leaky ReLU's is the slope there)
ACTIVATIONS = {"tanh": _tanh, "relu": _relu, "sigmoid": _sigmoid, "leaky_relu": _leaky_relu}
LOSSES = ("bce", "ce", "mse")
#: name -> what it draws (weights; biases as said)
INITS = {
    "torch": "nn.Linear's default: weight and bias U(-1/√in, 1/√in)",
    "xavier": "Glorot uniform: weight U(±√(6/(in+out))), bias 0",
    "he": "He (Kaiming) normal: weight N(0, 2/in), bias 0",
    "zeros": "every weight and bias 0: no neuron ever differs from its neighbours",
    "small": "weight N(0, 1) × 0.01, bias 0: signals shrink layer by layer",
    "large": "weight N(0, 1) × 10, bias 0: tanh and sigmoid saturate",
}


@dataclass(frozen=True)
class Network:
    """An MLP on ``data``: ``hidden`` widths, one ``activation`` for every hidden layer, a
    ``loss`` (default: bce for two classes, ce for more, mse for regression), and its
    initial parameters: a scheme of :data:`INITS` drawn once per seed of ``seeds``, or
    ``init`` given as arrays (one set, or a list of sets: per layer weight then bias)."""

    data: Dataset
    hidden: tuple = (8, 8)
    activation: str = "tanh"
    loss: str | None = None
    init: object = "torch"
    seeds: tuple = (0,)
    shapes: list = field(init=False, repr=False, compare=False)
    _slices: list = field(init=False, repr=False, compare=False)
    _layer_starts: np.ndarray = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        if not isinstance(self.data, Dataset):
            raise NetworkError("data: expected a Dataset (optviz.networks.make_dataset or "
                               "from_arrays)")
        hidden = tuple(self.hidden)
        if len(hidden) > MAX_LAYERS or not all(
                isinstance(h, (int, np.integer)) and 1 <= h <= 512 for h in hidden):
            raise NetworkError(f"hidden: {self.hidden!r}; allowed up to {MAX_LAYERS} layers "
                               "of 1 to 512 units")
        object.__setattr__(self, "hidden", tuple(int(h) for h in hidden))
        if self.activation not in ACTIVATIONS:
            raise NetworkError(f"activation: unknown {self.activation!r}; choose one of "
                               f"{', '.join(ACTIVATIONS)}")
        loss = self.loss or ("mse" if self.data.classes == 0 else
                             "bce" if self.data.classes == 2 else "ce")
        if loss not in LOSSES:
            raise NetworkError(f"loss: unknown {loss!r}; choose one of {', '.join(LOSSES)}")
        if (loss == "mse") != (self.data.classes == 0):
            raise NetworkError(f"loss: {loss} does not fit "
                               f"{'regression' if self.data.classes == 0 else 'classes'}; "
                               f"{'mse' if self.data.classes == 0 else 'bce or ce'} does")
        if loss == "bce" and self.data.classes != 2:
            raise NetworkError(f"loss: bce takes two classes, the data has "
                               f"{self.data.classes}; use ce")
        object.__setattr__(self, "loss", loss)
        out = self.data.outputs if loss != "ce" else max(2, self.data.classes)
        widths = [self.data.features, *self.hidden, out]
        shapes = []
        for a, b in zip(widths[:-1], widths[1:]):
            shapes += [(b, a), (b,)]
        object.__setattr__(self, "shapes", shapes)
        slices, at = [], 0
        for shape in shapes:
            n = int(np.prod(shape))
            slices.append(slice(at, at + n))
            at += n
        object.__setattr__(self, "_slices", slices)
        object.__setattr__(self, "_layer_starts", np.array([sl.start for sl in slices[::2]]))
        if self.size > MAX_PARAMS:
            raise NetworkError(f"hidden: {self.size} parameters; allowed at most "
                               f"{MAX_PARAMS} (fewer or narrower layers)")
        seeds = tuple(self.seeds)
        if not 1 <= len(seeds) <= 64 or not all(isinstance(s, (int, np.integer))
                                                 for s in seeds):
            raise NetworkError(f"seeds: {self.seeds!r}; allowed 1 to 64 whole numbers")
        object.__setattr__(self, "seeds", tuple(int(s) for s in seeds))
        if isinstance(self.init, str) and self.init not in INITS:
            raise NetworkError(f"init: unknown scheme {self.init!r}; choose one of "
                               f"{', '.join(INITS)} or give the arrays")

    # -- the parameter vector -------------------------------------------------------------

    @property
    def widths(self) -> list[int]:
        return [self.shapes[0][1]] + [s[0] for s in self.shapes[::2]]

    @property
    def layers(self) -> int:
        return len(self.shapes) // 2

    @property
    def size(self) -> int:
        """D, the number of parameters."""
        return self._slices[-1].stop

    @property
    def slices(self) -> list[slice]:
        """Each tensor's slice of θ, in torch's ``parameters()`` order."""
        return self._slices

    def tensors(self, theta: np.ndarray) -> list[np.ndarray]:
        """θ ``[..., D]`` as the per-tensor views ``[..., out, in]`` and ``[..., out]``."""
        lead = theta.shape[:-1]
        return [theta[..., sl].reshape(lead + s) for sl, s in zip(self.slices, self.shapes)]

    def flatten(self, tensors) -> np.ndarray:
        """Per-layer arrays (torch's layout) -> θ ``[D]``; checked against the shapes."""
        tensors = list(tensors)
        if len(tensors) != len(self.shapes):
            raise NetworkError(f"init: {len(tensors)} arrays; this network has "
                               f"{len(self.shapes)} (a weight and a bias per layer)")
        out = []
        for i, (t, s) in enumerate(zip(tensors, self.shapes)):
            a = np.asarray(t, dtype=float)
            if a.shape != s:
                raise NetworkError(f"init[{i}]: shape {a.shape}; expected {s}")
            if not np.isfinite(a).all():
                raise NetworkError(f"init[{i}]: holds NaN or infinite values")
            out.append(a.ravel())
        return np.concatenate(out)

    def initial(self) -> np.ndarray:
        """θ₀ for every initialization, ``[inits, D]``: the given arrays, or the scheme
        drawn with each seed (numpy's generator: the same seed, the same θ₀)."""
        if not isinstance(self.init, str):
            sets = list(self.init)
            if self._is_set(sets):
                sets = [sets]                       # one set of arrays
            if not 1 <= len(sets) <= 64:
                raise NetworkError(f"init: {len(sets)} sets of arrays; allowed 1 to 64")
            return np.stack([self.flatten(s) for s in sets])
        out = np.empty((len(self.seeds), self.size))
        for k, seed in enumerate(self.seeds):
            rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(8,)))
            parts = []
            for i in range(0, len(self.shapes), 2):
                fan_out, fan_in = self.shapes[i]
                w, b = self._draw(rng, fan_in, fan_out)
                parts += [w.ravel(), b]
            out[k] = np.concatenate(parts)
        return out

    def _is_set(self, arrays) -> bool:
        """Whether ``arrays`` is one set (a weight and a bias per layer), not a list of
        sets."""
        try:          # (a list of sets: its first item is arrays of several shapes)
            return len(arrays) == len(self.shapes) and \
                np.asarray(arrays[0], dtype=float).ndim in (1, 2)
        except (TypeError, ValueError):
            return False

    def _draw(self, rng, fan_in, fan_out):
        shape, scheme = (fan_out, fan_in), self.init
        zeros = np.zeros(fan_out)
        if scheme == "torch":
            bound = 1 / np.sqrt(fan_in)
            return rng.uniform(-bound, bound, shape), rng.uniform(-bound, bound, fan_out)
        if scheme == "xavier":
            bound = np.sqrt(6 / (fan_in + fan_out))
            return rng.uniform(-bound, bound, shape), zeros
        if scheme == "he":
            return rng.normal(0, np.sqrt(2 / fan_in), shape), zeros
        if scheme == "zeros":
            return np.zeros(shape), zeros
        return rng.normal(0, 1, shape) * (0.01 if scheme == "small" else 10.0), zeros

    # -- loss and gradient ----------------------------------------------------------------

    def forward(self, theta: np.ndarray, X: np.ndarray, slopes: bool = True,
                fit: int | None = None):
        """The output ``[B, N, out]`` for θ ``[B, D]`` on inputs ``X`` ``[N, features]``,
        and what backward needs (each layer's input and, with ``slopes``, the activation's
        derivative), for the first ``fit`` samples only if given (the rest are only
        evaluated)."""
        ts = self.tensors(theta)
        act = ACTIVATIONS[self.activation]
        cut = slice(None) if fit is None else slice(0, fit)
        a, kept = X, []
        for i in range(self.layers):
            W, b = ts[2 * i], ts[2 * i + 1]
            z = np.matmul(a, W.swapaxes(-1, -2))
            z += b[:, None, :]
            if i < self.layers - 1:
                nxt, slope = act(z, slopes, cut)
                kept.append((a[..., cut, :], slope))
                a = nxt
            else:
                kept.append((a[..., cut, :], None))
        return z, kept

    def loss_of(self, z: np.ndarray, y: np.ndarray, derivative: bool = True):
        """(loss ``[B]``, its derivative with respect to the output z, or None without
        ``derivative``) for targets y."""
        n = z.shape[1]
        if self.loss == "bce":
            t = y[None, :, None].astype(float)
            e = np.exp(-np.abs(z))               # softplus and the sigmoid from one exp
            loss = np.maximum(z, 0)
            loss -= t * z
            loss += np.log1p(e)                  # (= logaddexp(0, z), as NumPy does it)
            if not derivative:
                return _mean(loss), None
            d = np.where(z >= 0, 1.0, e)
            d /= e + 1
            d -= t
            d /= n
            return _mean(loss), d
        if self.loss == "ce":
            top = z.max(axis=2, keepdims=True)
            e = np.exp(z - top)
            total = e.sum(axis=2, keepdims=True)
            picked = np.take_along_axis(z, np.broadcast_to(y[None, :, None],
                                                           z.shape[:2] + (1,)), 2)
            loss = _mean(np.log(total) + top - picked)
            if not derivative:
                return loss, None
            d = e / total
            np.put_along_axis(d, np.broadcast_to(y[None, :, None], z.shape[:2] + (1,)),
                              np.take_along_axis(d, np.broadcast_to(
                                  y[None, :, None], z.shape[:2] + (1,)), 2) - 1, 2)
            return loss, d / n
        diff = z - y[None]
        return _mean(diff * diff), 2 * diff / diff[0].size if derivative else None

    def loss_grad(self, theta: np.ndarray, X: np.ndarray, y: np.ndarray,
                  accuracy: bool = False, held: int = 0):
        """(loss ``[B]``, gradient ``[B, D]``, each layer's gradient norm ``[B, layers]``)
        at θ ``[B, D]`` on (X, y): backpropagation, batched over B. With ``accuracy``,
        the share classified right ``[B]`` too, from the same forward pass. With
        ``held``, the last ``held`` samples of (X, y) are not fitted, only evaluated in
        that forward pass (a training's test set at every step): their loss and share
        right ``[B]`` come last."""
        fit = len(X) - held
        z, kept = self.forward(theta, X, fit=fit if held else None)
        out_held = ()
        if held:
            zh, z, yh, y = z[:, fit:], z[:, :fit], y[fit:], y[:fit]
            out_held = (self.loss_of(zh, yh, False)[0], self.accuracy_of(zh, yh))
        right = self.accuracy_of(z, y) if accuracy else None
        loss, dz = self.loss_of(z, y)
        ts = self.tensors(theta)
        grad = np.empty_like(theta)
        gs = self.tensors(grad)
        # (the sum over samples as a product with ones: a quarter of the time of
        # dz.sum(axis=1), a reduction along the middle axis)
        ones = np.ones((1, dz.shape[1]))
        for i in range(self.layers - 1, -1, -1):
            np.matmul(dz.swapaxes(-1, -2), kept[i][0], out=gs[2 * i])
            np.matmul(ones, dz, out=gs[2 * i + 1][:, None, :])
            if i:
                dz = np.matmul(dz, ts[2 * i])
                dz *= kept[i - 1][1]
        # each layer's norm: its weight and bias are one stretch of θ
        norms = np.sqrt(np.add.reduceat(grad * grad, self._layer_starts, axis=1))
        return (loss, grad, norms) + ((right,) if accuracy else ()) + out_held

    def evaluate(self, theta: np.ndarray, X: np.ndarray, y: np.ndarray):
        """(loss ``[B]``, share classified right ``[B]``) on (X, y), one forward pass;
        NaN for data with no samples (and accuracy NaN for regression)."""
        if len(X) == 0:
            return np.full(theta.shape[0], np.nan), np.full(theta.shape[0], np.nan)
        z = self.forward(theta, X, slopes=False)[0]
        return self.loss_of(z, y, False)[0], self.accuracy_of(z, y)

    def probabilities(self, z: np.ndarray) -> np.ndarray:
        """What the outputs z ``[..., out]`` say: the probability of class 1 (bce), each
        class's (ce, softmax), or the prediction itself (mse)."""
        if self.loss == "bce":
            return 0.5 * (1 + np.tanh(0.5 * z))
        if self.loss == "ce":
            e = np.exp(z - z.max(axis=-1, keepdims=True))
            return e / e.sum(axis=-1, keepdims=True)
        return z

    def accuracy_of(self, z: np.ndarray, y: np.ndarray) -> np.ndarray:
        """The share of outputs z ``[B, N, out]`` that name the class y ``[B]`` (NaN for
        regression)."""
        if self.data.classes == 0 or z.shape[1] == 0:
            return np.full(z.shape[0], np.nan)
        guess = (z[..., 0] > 0).astype(np.int64) if self.loss == "bce" else z.argmax(2)
        return (guess == y[None]).mean(axis=1)

