r"""The optimizers, one ``(init, update)`` pair each, written the way the slides write them.

Arrays. ``w`` and ``g`` are ``ndarray[rows, 2, points]``: per row of this optimizer, the
x and the y coordinates of its points (``w[:, :1]`` and ``w[:, 1:]`` are the x and y of
every point, shaped to broadcast against ``w``). A hyperparameter is either a Python
scalar (all rows agree) or an array with one value per row that broadcasts against ``w``,
so one call steps many configurations at once: a learning-rate sweep is just more rows.

Contract of ``update(w, g, state, lr, t, hp, ctx)``: ``t`` is the 1-based update count
(torch's ``state["step"]`` after its increment), ``lr`` the scheduled rate for this update
(scalar or ``ndarray[rows, 1, 1]``), ``hp`` a namespace of hyperparameters, ``ctx`` the
:class:`StepContext` (surface and random stream, used only by Newton and random search).
``update`` moves ``w`` **in place** and updates the buffers in ``state`` in place:
the engine's speed targets need it, and the buffers are private to one simulation.

Names, hyperparameters and defaults follow ``torch.optim``; with no noise the paths match
torch's to float64 round-off (tests/test_torch_parity.py). Where torch's arithmetic
differs from a slide the docstring says so.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import numpy as np

__all__ = ["Optimizer", "OPTIMIZERS", "StepContext", "HyperParam", "STATE"]

Array = np.ndarray


@dataclass
class StepContext:
    """What a few optimizers need beyond the gradient."""

    surface: Any                     # optviz.surfaces.Surface
    rng: np.random.Generator | None  # random search's own stream (None if no row searches)


def _active(hp, name: str) -> bool:
    """True if hyperparameter ``name`` is non-zero (or true) in some row."""
    return name in hp.active


def _lerp(a: Array, b: Array, weight, tmp: Array | None = None) -> Array:
    """ATen's ``torch.lerp`` (two branches for accuracy), in place on ``a``; ``tmp``, an
    array of a's shape, spares the usual case its two new arrays."""
    if weight.__class__ is float and weight < 0.5:     # the usual case, first and fast
        if tmp is None:
            a += weight * (b - a)
        else:
            a += np.multiply(np.subtract(b, a, tmp), weight, tmp)
    elif isinstance(weight, np.ndarray):
        a[...] = np.where(np.abs(weight) < 0.5, a + weight * (b - a), b - (b - a) * (1 - weight))
    elif abs(weight) < 0.5:
        a += weight * (b - a)
    else:
        a[...] = b - (b - a) * (1 - weight)
    return a


def _numbers(s, hp, derive) -> SimpleNamespace:
    """The numbers an update multiplies arrays by, ``derive(hp) -> dict``, with plain
    numbers turned into 0-d arrays: on a page's few points a NumPy call's overhead is its
    cost, and it takes a 0-d array operand for ~40 % less than a Python float (3.4 against
    5.8 thousand instructions for ``v *= rho``). Kept in the state, derived again only
    when ``hp`` is a new namespace (a Change mid-run); the arithmetic is the same."""
    if s.__dict__.get("numbers_of") is not hp:
        s.numbers_of = hp
        s.numbers = SimpleNamespace(**{k: np.array(v) if isinstance(v, (int, float)) else v
                                       for k, v in derive(hp).items()})
    return s.numbers


def _coupled_l2(g, w, hp):
    """torch's ``weight_decay`` for SGD/Adam/...: L2 added to the gradient, g + lambda w."""
    return g + hp.weight_decay * w if _active(hp, "weight_decay") else g


# -- SGD, momentum, Nesterov ---------------------------------------------------------------

def sgd_init(w, hp):
    momentum = np.asarray(hp.momentum)
    return SimpleNamespace(
        buf=np.zeros_like(w),
        # torch keeps no buffer at momentum 0; the shared buffer equals g there unless
        # dampening scales it, and only then must those rows bypass it
        bypass=(momentum == 0) if _active(hp, "dampening") and not momentum.all() else None)


def sgd_update(w, g, s, lr, t, hp, ctx):
    r"""SGD with optional (Nesterov) momentum, torch's form.

    .. math::
        b_t = \mu b_{t-1} + (1 - \tau) g_t \quad (b_1 = g_1) \\
        d_t = g_t + \mu b_t \text{ (nesterov) or } b_t \\
        w_{t+1} = w_t - \alpha d_t

    Slides (Polyak): :math:`m_{t+1} = \mu m_t - \alpha g_t,\ w_{t+1} = w_t + m_{t+1}`.
    With a constant rate and :math:`\tau = 0` that is the same path (:math:`m = -\alpha b`);
    torch keeps the rate outside the buffer (so a schedule acts at once), starts the buffer
    at the first gradient with no dampening, and ``dampening`` :math:`\tau` is the EMA
    form :math:`(1-\tau)`. Momentum 0 is plain gradient descent (torch keeps no buffer).
    """
    g = _coupled_l2(g, w, hp)
    if not _active(hp, "momentum"):
        w -= lr * g
        return
    b = s.buf
    if t == 1:
        b[...] = g
    else:
        b *= hp.momentum
        b += (1 - hp.dampening) * g if _active(hp, "dampening") else g
    d = np.where(hp.nesterov, g + hp.momentum * b, b) if _active(hp, "nesterov") else b
    if s.bypass is not None:
        d = np.where(s.bypass, g, d)
    w -= lr * d


# -- AdaGrad ------------------------------------------------------------------------------

def adagrad_init(w, hp):
    return SimpleNamespace(v=np.zeros_like(w) + hp.initial_accumulator_value)


def adagrad_update(w, g, s, lr, t, hp, ctx):
    r"""AdaGrad (Duchi et al., 2011).

    .. math::
        v_{t+1} = v_t + g_t^2 \qquad
        w_{t+1} = w_t - \frac{\alpha_t}{\sqrt{v_{t+1}} + \epsilon} \odot g_t, \quad
        \alpha_t = \frac{\alpha}{1 + (t - 1)\,\text{lr\_decay}}

    torch puts eps (1e-10) outside the square root, as the lecture code does
    (``np.sqrt(grad_squared) + 1e-7``); one slide writes :math:`\sqrt{v + \epsilon}`.
    The accumulator only grows, so the effective step decays to zero.
    """
    g = _coupled_l2(g, w, hp)
    clr = lr / (1 + (t - 1) * hp.lr_decay)
    s.v += g * g
    w -= clr * (g / (np.sqrt(s.v) + hp.eps))


# -- RMSProp ------------------------------------------------------------------------------

def rmsprop_init(w, hp):
    return SimpleNamespace(v=np.zeros_like(w), gbar=np.zeros_like(w), buf=np.zeros_like(w))


def rmsprop_update(w, g, s, lr, t, hp, ctx):
    r"""RMSProp (Tieleman & Hinton, 2012): "leaky AdaGrad".

    .. math::
        v_{t+1} = \rho v_t + (1 - \rho) g_t^2 \qquad
        w_{t+1} = w_t - \frac{\alpha}{\sqrt{v_{t+1}} + \epsilon} \odot g_t

    torch calls the decay :math:`\rho` ``alpha`` (default 0.99) and the rate ``lr``.
    ``centered`` subtracts the squared running mean of g; ``momentum`` keeps a buffer of
    the scaled steps, :math:`b = \mu b + g / (\sqrt{v} + \epsilon)`. eps is outside the root.
    """
    g = _coupled_l2(g, w, hp)
    s.v *= hp.alpha
    s.v += (1 - hp.alpha) * (g * g)
    if _active(hp, "centered"):
        _lerp(s.gbar, g, 1 - hp.alpha)
        avg = np.where(hp.centered, np.sqrt(s.v - s.gbar * s.gbar), np.sqrt(s.v))
    else:
        avg = np.sqrt(s.v)
    avg += hp.eps
    if _active(hp, "momentum"):
        s.buf *= hp.momentum
        s.buf += g / avg
        w -= lr * s.buf
    else:
        w -= lr * (g / avg)


# -- Adam, AdamW, "Adam, almost", Adamax, NAdam, RAdam ---------------------------------------

def adam_init(w, hp):
    return SimpleNamespace(m=np.zeros_like(w), v=np.zeros_like(w), tmp=np.empty_like(w),
                           vmax=np.zeros_like(w) if _active(hp, "amsgrad") else None)


def _adam_core(w, g, s, lr, t, hp, decoupled):
    # In place, through one scratch array ``tmp``, in torch's order of operations: on a
    # million starts a new array per operation costs more than the arithmetic (Adam, 1M
    # starts x 100 steps: ~10 % of the run, see benchmarks.engine).
    tmp = s.tmp
    if decoupled:
        w *= 1 - lr * hp.weight_decay         # AdamW: decay the weights, not the gradient
    else:
        g = _coupled_l2(g, w, hp)
    _lerp(s.m, g, 1 - hp.beta1, tmp)            # m <- m + (1 - beta1) (g - m)
    s.v *= hp.beta2                             # v <- beta2 v + (1 - beta2) g^2
    s.v += np.multiply(np.multiply(g, g, tmp), 1 - hp.beta2, tmp)
    bc1 = 1 - hp.beta1 ** t
    bc2_sqrt = (1 - hp.beta2 ** t) ** 0.5       # as torch writes it
    v = s.v
    if s.vmax is not None:
        np.maximum(s.vmax, s.v, out=s.vmax)
        v = np.where(hp.amsgrad, s.vmax, s.v)
    denom = np.add(np.divide(np.sqrt(v, tmp), bc2_sqrt, tmp), hp.eps, tmp)
    w -= np.multiply(np.divide(s.m, denom, tmp), lr / bc1, tmp)   # (lr / bc1) m / denom


def adam_update(w, g, s, lr, t, hp, ctx):
    r"""Adam (Kingma & Ba, 2015), the slides' "full form".

    .. math::
        m_{t+1} = \beta_1 m_t + (1-\beta_1) g_t \qquad
        v_{t+1} = \beta_2 v_t + (1-\beta_2) g_t^2 \\
        \hat m = \frac{m_{t+1}}{1-\beta_1^t} \qquad \hat v = \frac{v_{t+1}}{1-\beta_2^t}
        \qquad w_{t+1} = w_t - \alpha \frac{\hat m}{\sqrt{\hat v} + \epsilon}

    torch adds eps after dividing :math:`\sqrt{v}` by :math:`\sqrt{1-\beta_2^t}`, which is
    the slide's :math:`\sqrt{\hat v} + \epsilon`. ``weight_decay`` is coupled L2 (added to
    g); ``amsgrad`` divides by the running maximum of v instead.
    """
    _adam_core(w, g, s, lr, t, hp, decoupled=False)


def adamw_update(w, g, s, lr, t, hp, ctx):
    r"""AdamW (Loshchilov & Hutter, 2019): Adam with decoupled weight decay.

    .. math:: w \leftarrow w (1 - \alpha_t \lambda) \text{ then the Adam step}

    The decay multiplies the weights by the scheduled rate times lambda, and does not go
    through the moment estimates (Adam's ``weight_decay`` does: coupled L2).
    """
    _adam_core(w, g, s, lr, t, hp, decoupled=True)


def adam_nobias_init(w, hp):
    return SimpleNamespace(m=np.zeros_like(w), v=np.zeros_like(w))


def adam_nobias_update(w, g, s, lr, t, hp, ctx):
    r"""Adam, almost: the slides' version without bias correction.

    .. math::
        m_{t+1} = \beta_1 m_t + (1-\beta_1) g_t \qquad
        v_{t+1} = \beta_2 v_t + (1-\beta_2) g_t^2 \qquad
        w_{t+1} = w_t - \alpha \frac{m_{t+1}}{\sqrt{v_{t+1}} + \epsilon}

    The moments start at zero, so the first step is
    :math:`\alpha (1-\beta_1) g / (\sqrt{1-\beta_2}|g|)`, about :math:`3.2\alpha` per
    coordinate for the default betas: the bias correction exists to remove that.
    """
    s.m *= hp.beta1
    s.m += (1 - hp.beta1) * g
    s.v *= hp.beta2
    s.v += (1 - hp.beta2) * (g * g)
    w -= lr * (s.m / (np.sqrt(s.v) + hp.eps))


def adamax_init(w, hp):
    return SimpleNamespace(m=np.zeros_like(w), u=np.zeros_like(w), tmp=np.empty_like(w))


def adamax_update(w, g, s, lr, t, hp, ctx):
    r"""Adamax (Kingma & Ba, 2015): Adam with the infinity norm.

    .. math::
        m_{t+1} = \beta_1 m_t + (1-\beta_1) g_t \qquad
        u_{t+1} = \max(\beta_2 u_t, |g_t| + \epsilon) \qquad
        w_{t+1} = w_t - \frac{\alpha}{1-\beta_1^t} \frac{m_{t+1}}{u_{t+1}}

    torch adds eps to :math:`|g|` inside the max (the paper has no eps).
    """
    k, tmp = _numbers(s, hp, _adamax_numbers), s.tmp
    g = _coupled_l2(g, w, hp)
    _lerp(s.m, g, 1 - hp.beta1)
    s.u *= k.beta2
    np.maximum(s.u, np.add(np.abs(g, tmp), k.eps, tmp), out=s.u)
    tmp = np.divide(s.m, s.u, tmp)
    tmp *= lr / (1 - hp.beta1 ** t)
    w -= tmp


def _adamax_numbers(hp):
    return {"beta2": hp.beta2, "eps": hp.eps}


def nadam_init(w, hp):
    return SimpleNamespace(m=np.zeros_like(w), v=np.zeros_like(w),
                           mu_product=np.ones_like(np.asarray(hp.beta1, dtype=float)))


def nadam_update(w, g, s, lr, t, hp, ctx):
    r"""NAdam (Dozat, 2016): Adam with Nesterov momentum, torch's momentum schedule.

    .. math::
        \mu_t = \beta_1 (1 - \tfrac12 0.96^{t \psi}) \qquad
        w_{t+1} = w_t - \alpha \frac{1-\mu_t}{1-\prod_{i\le t}\mu_i}
        \frac{g_t}{\sqrt{\hat v}+\epsilon}
        - \alpha \frac{\mu_{t+1}}{1-\prod_{i\le t+1}\mu_i} \frac{m_{t+1}}{\sqrt{\hat v}+\epsilon}

    :math:`\psi` is ``momentum_decay`` (4e-3).
    """
    g = _coupled_l2(g, w, hp)
    mu = hp.beta1 * (1.0 - 0.5 * 0.96 ** (t * hp.momentum_decay))
    mu_next = hp.beta1 * (1.0 - 0.5 * 0.96 ** ((t + 1) * hp.momentum_decay))
    s.mu_product = s.mu_product * mu
    _lerp(s.m, g, 1 - hp.beta1)
    s.v *= hp.beta2
    s.v += (1 - hp.beta2) * (g * g)
    denom = np.sqrt(s.v / (1 - hp.beta2 ** t)) + hp.eps
    w -= (lr * (1.0 - mu) / (1.0 - s.mu_product)) * (g / denom)
    w -= (lr * mu_next / (1.0 - s.mu_product * mu_next)) * (s.m / denom)


def radam_update(w, g, s, lr, t, hp, ctx):
    r"""RAdam (Liu et al., 2020): Adam whose adaptive step is switched on only once the
    variance of :math:`\hat v` is tractable.

    .. math::
        \rho_\infty = \frac{2}{1-\beta_2} - 1 \qquad
        \rho_t = \rho_\infty - \frac{2 t \beta_2^t}{1 - \beta_2^t} \\
        w_{t+1} = w_t - \alpha \hat m \cdot
        \begin{cases} r_t \sqrt{1-\beta_2^t} / (\sqrt{v_{t+1}} + \epsilon) & \rho_t > 5 \\
                      1 & \text{otherwise (plain momentum)} \end{cases}
    """
    g = _coupled_l2(g, w, hp)
    _lerp(s.m, g, 1 - hp.beta1)
    s.v *= hp.beta2
    s.v += (1 - hp.beta2) * (g * g)
    bc2 = 1 - hp.beta2 ** t
    m_hat = s.m / (1 - hp.beta1 ** t)
    rho_inf = 2 / (1 - hp.beta2) - 1
    rho_t = rho_inf - 2 * t * (hp.beta2 ** t) / bc2
    if isinstance(rho_t, float):       # one beta2 for every row: decide in Python
        if rho_t > 5.0:
            r_t = math.sqrt((rho_t - 4) * (rho_t - 2) * rho_inf
                            / ((rho_inf - 4) * (rho_inf - 2) * rho_t))
            w -= m_hat * lr * (math.sqrt(bc2) / (np.sqrt(s.v) + hp.eps)) * r_t
        else:
            w -= m_hat * lr
        return
    rectified = np.asarray(rho_t > 5.0)
    if rectified.any():
        rho_ok = np.where(rectified, rho_t, 6.0)   # keeps the root real where unused
        r_t = np.sqrt((rho_ok - 4) * (rho_ok - 2) * rho_inf
                      / ((rho_inf - 4) * (rho_inf - 2) * rho_ok))
        adaptive = m_hat * lr * (np.sqrt(bc2) / (np.sqrt(s.v) + hp.eps)) * r_t
        step = np.where(rectified, adaptive, m_hat * lr) if not rectified.all() else adaptive
    else:
        step = m_hat * lr
    w -= step


def adadelta_init(w, hp):
    return SimpleNamespace(v=np.zeros_like(w), u=np.zeros_like(w),
                           delta=np.empty_like(w), tmp=np.empty_like(w))


def adadelta_update(w, g, s, lr, t, hp, ctx):
    r"""Adadelta (Zeiler, 2012): RMSProp whose step size is itself a running RMS.

    .. math::
        v_{t+1} = \rho v_t + (1-\rho) g_t^2 \qquad
        \Delta_t = \frac{\sqrt{u_t + \epsilon}}{\sqrt{v_{t+1} + \epsilon}} g_t \\
        u_{t+1} = \rho u_t + (1-\rho) \Delta_t^2 \qquad w_{t+1} = w_t - \alpha \Delta_t

    eps is inside both square roots. torch's ``lr`` (default 1.0) only scales the final
    step; it does not enter u.
    """
    k, tmp, delta = _numbers(s, hp, _adadelta_numbers), s.tmp, s.delta
    g = _coupled_l2(g, w, hp)
    s.v *= k.rho
    s.v += np.multiply(np.multiply(g, g, tmp), k.one_minus_rho, tmp)
    np.sqrt(np.add(s.u, k.eps, delta), delta)
    delta /= np.sqrt(np.add(s.v, k.eps, tmp), tmp)
    delta *= g
    s.u *= k.rho
    s.u += np.multiply(np.multiply(delta, delta, tmp), k.one_minus_rho, tmp)
    w -= np.multiply(delta, lr, tmp)


def _adadelta_numbers(hp):
    return {"rho": hp.rho, "one_minus_rho": 1 - hp.rho, "eps": hp.eps}


# -- beyond torch: sign descent, normalized GD, random search, Newton ---------------------------

def _no_state(w, hp):
    return SimpleNamespace()


def sign_update(w, g, s, lr, t, hp, ctx):
    r"""Sign gradient descent: :math:`w_{t+1} = w_t - \alpha\,\mathrm{sign}(g_t)`.

    Every coordinate moves by exactly alpha whatever the gradient's size: the limit of
    Adam with :math:`\beta_1 = \beta_2 = 0`.
    """
    w -= lr * np.sign(g)


def _planes(s, w, g) -> SimpleNamespace:
    """The x and y planes of ``w`` and ``g`` (``[rows, 1, points]`` views), made once per
    pair of arrays: the engine passes the same two every step, and a slice costs as much
    as an elementwise call on a page's few points."""
    p = s.__dict__.get("planes")
    if p is None or p.w is not w or p.g is not g:
        s.planes = p = SimpleNamespace(w=w, g=g, wx=w[:, :1], wy=w[:, 1:],
                                       gx=g[:, :1], gy=g[:, 1:])
    return p


def normalized_update(w, g, s, lr, t, hp, ctx):
    r"""Normalized gradient descent: :math:`w_{t+1} = w_t - \alpha\, g_t / \lVert g_t \rVert`.

    Steps of length alpha along the gradient direction (no step where g = 0).
    """
    p = _planes(s, w, g)
    norm = np.hypot(p.gx, p.gy)
    # the usual case (no zero norm; count_nonzero costs a third of .all()): the same
    # arithmetic, fewer calls
    if np.count_nonzero(norm) == norm.size:
        w -= g * (lr / norm)
    else:
        w -= lr * np.divide(g, norm, out=np.zeros_like(g), where=norm > 0)


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
    value, p = ctx.surface.value_xy, _planes(s, w, g)
    if s.loss is None:                         # afterwards L(w) is the last accepted L(w')
        s.loss = np.broadcast_to(value(p.wx, p.wy), g[:, :1].shape).astype(float)
    if s.used == len(s.z):
        # z is drawn as x plane then y plane, ``[2, rows, points]`` per update, the order
        # of earlier versions: a saved scene keeps its random-search path
        k = max(1, min(64, DRAWS_AHEAD // w.size))
        s.z = ctx.rng.standard_normal((k, 2, len(w), w.shape[2])).transpose(0, 2, 1, 3)
        s.used = 0
    z = s.z[s.used]
    s.used += 1
    cand = np.add(w, np.multiply(z, lr, s.cand), s.cand)      # w + alpha z
    cand_loss = value(s.cx, s.cy)
    better = cand_loss < s.loss
    np.copyto(w, cand, where=better)
    np.copyto(s.loss, cand_loss, where=better)


def newton_init(w, hp):
    step, bg = np.empty_like(w), np.empty_like(w)
    return SimpleNamespace(step=step, sx=step[:, :1], sy=step[:, 1:],
                           bg=bg, bgy=bg[:, :1], bgx=bg[:, 1:])


def newton_update(w, g, s, lr, t, hp, ctx):
    r"""Damped Newton's method: :math:`w_{t+1} = w_t - \alpha H(w_t)^{-1} g_t`.

    Uses the surface's exact Hessian (and the gradient the point saw, noise included).
    Where H is singular (:math:`|\det H| \le 10^{-12}\,\lVert H \rVert^2`) it falls back to
    a gradient step :math:`w - \alpha g`. On an indefinite Hessian it does **not** fall
    back: the Newton step jumps to the stationary point of the local quadratic model,
    so near a saddle it is *attracted* to the saddle (Dauphin et al., 2014) - the lesson.
    """
    p = _planes(s, w, g)
    a, b, d = ctx.surface.hess_xy(p.wx, p.wy)                   # each [rows, 1, points]
    det = a * d - b * b
    # ||H||^2 = a^2 + d^2 + 2 b^2 = (a + d)^2 - 2 det (fewer calls, and no 0-d times 0-d:
    # a constant entry is a 0-d array, and their product a NumPy scalar, a slow operand)
    scale = np.square(a + d)
    scale -= _TWO * det
    ok = np.abs(det) > _SINGULAR * scale
    if np.count_nonzero(ok) == ok.size:      # the usual case: the same arithmetic, fewer calls
        # H^-1 g = [d gx - b gy, a gy - b gx] / det, plane by plane
        np.multiply(d, p.gx, s.sx)
        np.multiply(a, p.gy, s.sy)
        np.multiply(b, p.gy, s.bgy)
        np.multiply(b, p.gx, s.bgx)
        step = np.subtract(s.step, s.bg, s.step)
        step *= lr / det
    else:
        safe = np.where(ok, det, 1.0)
        gx, gy = p.gx, p.gy
        newton = np.concatenate([d * gx - b * gy, a * gy - b * gx], axis=1) / safe
        step = np.where(ok, newton, g) * lr
    w -= step


_SINGULAR, _TWO = np.array(1e-12), np.array(2.0)


# -- the state inspector -----------------------------------------------------------------
#: What the state inspector shows after each update, per coordinate: ``m`` the first
#: moment or momentum buffer, ``v`` the second moment (AdaGrad's sum, Adamax's u), and
#: ``rate`` the effective learning rate: what the optimizer multiplies its direction (the
#: gradient, or m for the Adam family) by, e.g. alpha / (sqrt(v_hat) + eps) for Adam.
STATE = ("m", "v", "rate")


def sgd_inspect(s, g, lr, t, hp):
    return {"m": s.buf, "rate": lr} if _active(hp, "momentum") else {"rate": lr}


def adagrad_inspect(s, g, lr, t, hp):
    return {"v": s.v, "rate": lr / (1 + (t - 1) * hp.lr_decay) / (np.sqrt(s.v) + hp.eps)}


def rmsprop_inspect(s, g, lr, t, hp):
    out = {"v": s.v, "rate": lr / (np.sqrt(s.v) + hp.eps)}
    if _active(hp, "momentum"):
        out["m"] = s.buf
    return out


def adam_inspect(s, g, lr, t, hp):
    v_hat = s.v / (1 - hp.beta2 ** t)
    return {"m": s.m, "v": s.v, "rate": lr / (np.sqrt(v_hat) + hp.eps)}


def adam_nobias_inspect(s, g, lr, t, hp):
    return {"m": s.m, "v": s.v, "rate": lr / (np.sqrt(s.v) + hp.eps)}


def adamax_inspect(s, g, lr, t, hp):
    return {"m": s.m, "v": s.u, "rate": lr / s.u}


def radam_inspect(s, g, lr, t, hp):
    rho_inf = 2 / (1 - hp.beta2) - 1
    bc2 = 1 - hp.beta2 ** t
    rho_t = rho_inf - 2 * t * (hp.beta2 ** t) / bc2
    rho_ok = np.where(rho_t > 5.0, rho_t, 6.0)
    r_t = np.sqrt((rho_ok - 4) * (rho_ok - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_ok))
    adaptive = lr * r_t * np.sqrt(bc2) / (np.sqrt(s.v) + hp.eps)
    return {"m": s.m, "v": s.v, "rate": np.where(rho_t > 5.0, adaptive, lr)}


def adadelta_inspect(s, g, lr, t, hp):
    # u was updated with this step's delta; the rate this step used is recomputed from it
    return {"v": s.v, "rate": lr * np.sqrt(s.u + hp.eps) / np.sqrt(s.v + hp.eps)}


def rate_only_inspect(s, g, lr, t, hp):
    return {"rate": lr}


def normalized_inspect(s, g, lr, t, hp):
    norm = np.hypot(g[:, :1], g[:, 1:])
    return {"rate": lr / np.where(norm > 0, norm, np.inf)}


def no_inspect(s, g, lr, t, hp):
    return {}


_INSPECT = {"sgd": sgd_inspect, "adagrad": adagrad_inspect, "rmsprop": rmsprop_inspect,
            "adam": adam_inspect, "adamw": adam_inspect, "nadam": adam_inspect,
            "adam_nobias": adam_nobias_inspect, "adamax": adamax_inspect,
            "radam": radam_inspect, "adadelta": adadelta_inspect, "sign": rate_only_inspect,
            "normalized": normalized_inspect}


# -- the registry ---------------------------------------------------------------------------

@dataclass(frozen=True)
class HyperParam:
    """One hyperparameter: default, allowed range, lecture symbol."""

    default: Any
    low: float = 0.0
    high: float = 1.0
    kind: str = "float"          # "float", "bool" or "betas"
    symbol: str = ""
    low_open: bool = False       # True: the range excludes `low`
    high_open: bool = False      # True: the range excludes `high`

    def describe(self) -> str:
        if self.kind == "bool":
            return "true or false"
        lo = "(" if self.low_open else "["
        hi = ")" if self.high_open else "]"
        return f"{lo}{self.low:g}, {self.high:g}{hi}"


def _lr(default):
    return HyperParam(default, 0.0, 100.0, symbol="α", low_open=True)


_WD = HyperParam(0.0, 0.0, 10.0, symbol="λ")
_EPS = HyperParam(1e-8, 0.0, 1.0, symbol="ε", low_open=True)
_BETAS = HyperParam((0.9, 0.999), 0.0, 1.0, kind="betas", symbol="β₁, β₂", high_open=True)
_FLAG = HyperParam(False, kind="bool")


@dataclass(frozen=True)
class Optimizer:
    """A registry entry: what the UI, the docs, the engine and the tests all read."""

    name: str
    label: str
    init: Callable
    update: Callable
    hyper: Mapping[str, HyperParam]
    latex: str
    #: presets of one kernel (gd, momentum, nesterov are sgd) share one call per step
    kernel: str = ""
    #: what one update of a group of its rows costs on a page's few points, in
    #: microseconds on the reference machine (optviz.cost; benchmarks.abuse checks it);
    #: a kernel's rows share it, whatever their number
    step_us: float = 8.0

    @property
    def inspect(self) -> Callable:
        """``inspect(state, g, lr, t, hp) -> {name: array}``: the STATE quantities after
        an update (arrays broadcast against w); {} where there are none."""
        return _INSPECT.get(self.kernel, no_inspect)

    @property
    def defaults(self) -> dict[str, Any]:
        return {k: h.default for k, h in self.hyper.items()}


def _sgd_hyper(lr=1e-3, momentum=0.0, nesterov=False):
    return {"lr": _lr(lr), "momentum": HyperParam(momentum, 0.0, 1.0, symbol="μ", high_open=True),
            "dampening": HyperParam(0.0, 0.0, 1.0, symbol="τ"),
            "nesterov": HyperParam(nesterov, kind="bool"), "weight_decay": _WD}


def _adam_hyper(lr=1e-3, weight_decay=0.0):
    return {"lr": _lr(lr), "betas": _BETAS, "eps": _EPS,
            "weight_decay": HyperParam(weight_decay, 0.0, 10.0, symbol="λ"), "amsgrad": _FLAG}


_SGD_TEX = r"b \leftarrow \mu b + (1-\tau) g,\; w \leftarrow w - \alpha b"
_ADAM_TEX = (r"m \leftarrow \beta_1 m + (1-\beta_1) g,\; v \leftarrow \beta_2 v + (1-\beta_2) g^2,"
             r"\; w \leftarrow w - \alpha \hat m / (\sqrt{\hat v} + \epsilon)")


def _registry() -> dict[str, Optimizer]:
    O = Optimizer
    entries = [
        O("sgd", "SGD", sgd_init, sgd_update, _sgd_hyper(), _SGD_TEX, step_us=6),
        # the presets keep torch's SGD default rate, 1e-3
        O("gd", "GD", sgd_init, sgd_update, _sgd_hyper(),
          r"w \leftarrow w - \alpha g", kernel="sgd", step_us=6),
        O("momentum", "Momentum", sgd_init, sgd_update, _sgd_hyper(momentum=0.9),
          r"m \leftarrow \mu m - \alpha g,\; w \leftarrow w + m", kernel="sgd", step_us=6),
        O("nesterov", "Nesterov", sgd_init, sgd_update,
          _sgd_hyper(momentum=0.9, nesterov=True),
          r"b \leftarrow \mu b + g,\; w \leftarrow w - \alpha (g + \mu b)", kernel="sgd",
          step_us=6),
        O("adagrad", "AdaGrad", adagrad_init, adagrad_update,
          {"lr": _lr(1e-2), "lr_decay": HyperParam(0.0, 0.0, 10.0),
           "weight_decay": _WD,
           "initial_accumulator_value": HyperParam(0.0, 0.0, 1e3),
           "eps": HyperParam(1e-10, 0.0, 1.0, symbol="ε", low_open=True)},
          r"v \leftarrow v + g^2,\; w \leftarrow w - \alpha g / (\sqrt{v} + \epsilon)", step_us=6),
        O("rmsprop", "RMSProp", rmsprop_init, rmsprop_update,
          {"lr": _lr(1e-2), "alpha": HyperParam(0.99, 0.0, 1.0, symbol="ρ", high_open=True),
           "eps": _EPS, "weight_decay": _WD,
           "momentum": HyperParam(0.0, 0.0, 1.0, symbol="μ", high_open=True),
           "centered": _FLAG},
          r"v \leftarrow \rho v + (1-\rho) g^2,\;"
          r" w \leftarrow w - \alpha g / (\sqrt{v} + \epsilon)", step_us=7),
        O("adam", "Adam", adam_init, adam_update, _adam_hyper(), _ADAM_TEX, step_us=10),
        O("adamw", "AdamW", adam_init, adamw_update, _adam_hyper(weight_decay=1e-2),
          r"w \leftarrow w (1 - \alpha\lambda),\; \text{then Adam}", step_us=10),
        O("adam_nobias", "Adam (no bias correction)", adam_nobias_init, adam_nobias_update,
          {"lr": _lr(1e-3), "betas": _BETAS, "eps": _EPS},
          r"w \leftarrow w - \alpha m / (\sqrt{v} + \epsilon)", step_us=8),
        O("adamax", "Adamax", adamax_init, adamax_update,
          {"lr": _lr(2e-3), "betas": _BETAS, "eps": _EPS, "weight_decay": _WD},
          r"u \leftarrow \max(\beta_2 u, |g| + \epsilon),\; w \leftarrow w - \alpha \hat m / u",
          step_us=8),
        O("nadam", "NAdam", nadam_init, nadam_update,
          {"lr": _lr(2e-3), "betas": _BETAS, "eps": _EPS, "weight_decay": _WD,
           "momentum_decay": HyperParam(4e-3, 0.0, 1.0, symbol="ψ")},
          r"\text{Adam with a Nesterov look-ahead on } m", step_us=12),
        O("radam", "RAdam", adam_nobias_init, radam_update,
          {"lr": _lr(1e-3), "betas": _BETAS, "eps": _EPS, "weight_decay": _WD},
          r"\text{Adam, rectified: momentum steps until } \rho_t > 5", step_us=12),
        O("adadelta", "Adadelta", adadelta_init, adadelta_update,
          {"lr": _lr(1.0), "rho": HyperParam(0.9, 0.0, 1.0, symbol="ρ", high_open=True),
           "eps": HyperParam(1e-6, 0.0, 1.0, symbol="ε", low_open=True), "weight_decay": _WD},
          r"\Delta = \sqrt{u+\epsilon} / \sqrt{v+\epsilon}\, g,\; w \leftarrow w - \alpha\Delta",
          step_us=9),
        O("sign", "Sign GD", _no_state, sign_update, {"lr": _lr(0.01)},
          r"w \leftarrow w - \alpha\, \mathrm{sign}(g)", step_us=3),
        O("normalized", "Normalized GD", _no_state, normalized_update, {"lr": _lr(0.01)},
          r"w \leftarrow w - \alpha\, g / \lVert g \rVert", step_us=6),
        O("random_search", "Random search", random_search_init, random_search_update,
          {"lr": _lr(0.1)},
          r"w' = w + \alpha z;\; w \leftarrow w' \text{ if } L(w') < L(w)", step_us=10),
        O("newton", "Newton", newton_init, newton_update, {"lr": _lr(1.0)},
          r"w \leftarrow w - \alpha H^{-1} g", step_us=10),
    ]
    return {o.name: (o if o.kernel else _with_kernel(o)) for o in entries}


def _with_kernel(o: Optimizer) -> Optimizer:
    return Optimizer(o.name, o.label, o.init, o.update, o.hyper, o.latex, kernel=o.name,
                     step_us=o.step_us)


#: Every optimizer by name. Presets (gd, momentum, nesterov) share the ``sgd`` kernel.
OPTIMIZERS: dict[str, Optimizer] = _registry()
