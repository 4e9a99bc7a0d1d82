"""The datasets networks learn: the lectures' and TensorFlow Playground's toy problems,
seeded, with a noise level and a train/test split, and a user's own arrays.

Every dataset is two features in the box [-1, 1]² (scaled so), so a decision boundary is
drawn over the same box for all of them. ``y`` is an int class for classification (0..K-1)
and a float target for regression.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

__all__ = ["Dataset", "DATASETS", "make_dataset", "from_arrays", "DataError"]

#: the most samples a dataset may hold (train and test together)
MAX_SAMPLES = 5000


class DataError(ValueError):
    """A dataset that cannot be made: the message names the field and what is allowed."""


@dataclass(frozen=True)
class Dataset:
    """Samples split into train and test: ``X`` float64 ``[n, features]``, ``y`` int64
    ``[n]`` (classes) or float64 ``[n, outputs]`` (regression)."""

    name: str
    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    classes: int                 # 0: regression

    @property
    def features(self) -> int:
        return self.X_train.shape[1]

    @property
    def outputs(self) -> int:
        """Width of the network's last layer: 1 for two classes (a logit), K for K > 2,
        the target's width for regression."""
        if self.classes == 0:
            return self.y_train.shape[1]
        return 1 if self.classes == 2 else self.classes


def _xor(rng, n):
    X = rng.uniform(-1, 1, (n, 2))
    X += np.sign(X) * 0.05                         # (the playground's small margin)
    return X, (X[:, 0] * X[:, 1] > 0).astype(np.int64)


def _circles(rng, n):
    inner = n // 2
    r = np.concatenate([rng.uniform(0, 0.45, inner), rng.uniform(0.65, 1.0, n - inner)])
    a = rng.uniform(0, 2 * np.pi, n)
    return np.stack([r * np.cos(a), r * np.sin(a)], 1), (np.arange(n) < inner).astype(np.int64)


def _moons(rng, n):
    half = n // 2
    a = rng.uniform(0, np.pi, n)
    up = np.arange(n) < half
    x = np.where(up, np.cos(a), 1 - np.cos(a))
    y = np.where(up, np.sin(a), 0.5 - np.sin(a))
    X = np.stack([(x - 0.5) / 1.5, (y - 0.25) / 1.5], 1)
    return X, (~up).astype(np.int64)


def _spiral(arms):
    def make(rng, n):
        k = np.arange(n) % arms
        r = rng.uniform(0.05, 1.0, n)
        a = 1.75 * np.pi * r + 2 * np.pi * k / arms
        return np.stack([r * np.cos(a), r * np.sin(a)], 1), k.astype(np.int64)
    return make


def _blobs(rng, n):
    centers = np.array([[-0.5, -0.4], [0.5, -0.4], [0.0, 0.5]])
    k = np.arange(n) % 3
    return centers[k] + rng.normal(0, 0.18, (n, 2)), k.astype(np.int64)


def _regression(rng, n):
    X = rng.uniform(-1, 1, (n, 2))
    return X, (np.sin(2.5 * X[:, 0]) * np.cos(1.5 * X[:, 1]))[:, None]


#: name -> (maker(rng, n) -> (X, y), classes, what it teaches)
DATASETS: dict[str, tuple[Callable, int, str]] = {
    "xor": (_xor, 2, "two classes in opposite quadrants: no straight line separates them"),
    "circles": (_circles, 2, "a disc inside a ring: the boundary must close"),
    "moons": (_moons, 2, "two interleaved half circles"),
    "spiral": (_spiral(2), 2, "two arms wound round each other: hard for a small net"),
    "spiral3": (_spiral(3), 3, "three arms: softmax over three classes"),
    "blobs": (_blobs, 3, "three Gaussian clusters: three classes, almost linear"),
    "regression": (_regression, 0, "a smooth surface sin(2.5x)·cos(1.5y) to fit"),
}


def make_dataset(name: str = "xor", *, n: int = 200, noise: float = 0.1,
                 test_fraction: float = 0.25, seed: int = 0) -> Dataset:
    """The built-in dataset ``name`` with ``n`` samples in all, Gaussian noise of standard
    deviation ``noise`` added to the features (and to a regression's target), a
    ``test_fraction`` held out; the same seed gives the same samples."""
    if name not in DATASETS:
        raise DataError(f"dataset: unknown dataset {name!r}; choose one of "
                        f"{', '.join(DATASETS)}")
    if not isinstance(n, (int, np.integer)) or not 8 <= n <= MAX_SAMPLES:
        raise DataError(f"dataset.n: {n!r} samples; allowed 8 to {MAX_SAMPLES}")
    if not isinstance(noise, (int, float)) or not 0 <= noise <= 1:
        raise DataError(f"dataset.noise: {noise!r}; allowed 0 to 1")
    if not isinstance(test_fraction, (int, float)) or not 0 <= test_fraction <= 0.8:
        raise DataError(f"dataset.test_fraction: {test_fraction!r}; allowed 0 to 0.8")
    maker, classes, _ = DATASETS[name]
    rng = np.random.default_rng(np.random.SeedSequence(int(seed), spawn_key=(7,)))
    X, y = maker(rng, int(n))
    X = X + rng.normal(0, noise, X.shape)
    if classes == 0:
        y = y + rng.normal(0, noise, y.shape)
    order = rng.permutation(int(n))
    n_test = int(round(test_fraction * n)) if test_fraction == 0 else \
        max(1, int(round(test_fraction * n)))           # (a share asked for: one at least)
    test, train = order[:n_test], order[n_test:]
    return Dataset(name, X[train], y[train], X[test], y[test], classes)


def from_arrays(X, y, *, X_test=None, y_test=None, classes: int | None = None,
                name: str = "own") -> Dataset:
    """A user's own data: ``X`` ``[n, features]``, ``y`` ``[n]`` of int classes 0..K-1
    or ``[n]`` / ``[n, outputs]`` of floats (regression; ``classes=0``). Checked: finite,
    matching lengths, at most MAX_SAMPLES, classes numbered from 0."""
    def features(v, field):
        a = np.asarray(v, dtype=float)
        if a.ndim != 2 or not 1 <= a.shape[1] <= 64 or not 1 <= a.shape[0] <= MAX_SAMPLES:
            raise DataError(f"{field}: shape {a.shape}; expected [samples, features] with "
                            f"1 to {MAX_SAMPLES} samples and 1 to 64 features")
        if not np.isfinite(a).all():
            raise DataError(f"{field}: holds NaN or infinite values")
        return a

    def targets(v, field, n):
        a = np.asarray(v)
        if a.shape[0] != n:
            raise DataError(f"{field}: {a.shape[0]} targets for {n} samples")
        if not np.isfinite(a.astype(float)).all():
            raise DataError(f"{field}: holds NaN or infinite values")
        return a

    X = features(X, "X")
    y = targets(y, "y", len(X))
    has_test = X_test is not None or y_test is not None
    if has_test and (X_test is None or y_test is None):
        raise DataError("X_test, y_test: give both or neither")
    Xt = features(X_test, "X_test") if has_test else X[:0]
    if Xt.shape[1] != X.shape[1]:
        raise DataError(f"X_test: {Xt.shape[1]} features, X has {X.shape[1]}")
    yt = targets(y_test, "y_test", len(Xt)) if has_test else y[:0]
    if classes is None:
        classes = 0 if np.issubdtype(y.dtype, np.floating) else int(y.max()) + 1
    if classes == 0:
        y, yt = (a.astype(float)[:, None] if a.ndim == 1 else a.astype(float)
                 for a in (y, yt))
        if yt.shape[1] != y.shape[1]:
            raise DataError(f"y_test: {yt.shape[1]} outputs, y has {y.shape[1]}")
    else:
        if not 2 <= classes <= 64:
            raise DataError(f"classes: {classes}; allowed 2 to 64 (0 for regression)")
        for a, field in ((y, "y"), (yt, "y_test")):
            if a.size and (np.any(a != np.round(a)) or a.min() < 0 or a.max() >= classes):
                raise DataError(f"{field}: classes must be whole numbers 0 to {classes - 1}")
        y, yt = y.astype(np.int64).ravel(), yt.astype(np.int64).ravel()
    return Dataset(name, X, y, Xt, yt, int(classes))
