r"""Your own surface: a formula in x and y, checked by a whitelist, never run as code.

``formula_surface("x**2 + 3*sin(y)*x")`` is a :class:`~optviz.surfaces.Surface` like the
built-in ones (Scene accepts ``surface="formula:<text>"``):

1. **Parse.** Python's :mod:`ast` parses the text (``mode="eval"``) and :func:`parse`
   walks the tree, keeping only numbers, ``x``, ``y``, ``pi``, ``e``, ``+ - * / **``,
   unary minus and the functions in :data:`FUNCTIONS`, into a small tree of tuples of
   its own. Anything else is refused with a :class:`FormulaError` saying what and where
   ("unknown name 'z' at column 7"). Before that, the length, the nesting depth of
   parentheses and the size of numbers are bounded, so ``9**9**9`` or ten thousand
   parentheses are refused in microseconds. The text itself is never given to ``eval``,
   ``exec``, ``compile`` or a symbolic library.
2. **Differentiate.** :func:`derivative` applies the usual rules to the tree (with a
   little constant folding), giving the gradient and the Hessian as trees.
3. **Evaluate.** :func:`evaluate` walks a tree with NumPy ufuncs on whole arrays: it is
   vectorized like every surface, and the only operations it can perform are the
   whitelisted ones.
4. **Look around.** The view box is [-5, 5]^2 unless set (:data:`VIEW_PARAMS`); the
   minima are the points of an 81 x 81 grid over it lower than their eight neighbours,
   refined with Newton's method and kept where the Hessian is positive definite, lowest
   first. The start lies 70 % of the way from the lowest minimum to the farthest corner
   of the box.
"""
from __future__ import annotations

import ast
import functools
import math

import numpy as np

__all__ = ["FormulaError", "parse", "derivative", "evaluate", "formula_surface", "VIEW_PARAMS",
           "FORMULA_PARAMS",
           "FUNCTIONS", "MAX_LENGTH", "MAX_DEPTH", "MAX_EXPONENT", "PREFIX"]

PREFIX = "formula:"
MAX_LENGTH = 200          # characters
MAX_DEPTH = 20            # nested parentheses / calls / operators
MAX_NUMBER = 1e6          # |constants|
MAX_EXPONENT = 16         # |n| in a ** n (a number: x**y is refused)
MAX_NODES = 120
#: A formula's view box can be set (``Scene(surface_params=...)``): name -> (default,
#: low, high). The minima are searched in that box.
VIEW_PARAMS = {"x_min": (-5.0, -1e3, 1e3), "x_max": (5.0, -1e3, 1e3),
               "y_min": (-5.0, -1e3, 1e3), "y_max": (5.0, -1e3, 1e3)}
#: ... and so can its minima, instead of the grid search's: up to four points
#: ``min1_x, min1_y, ...`` (name -> (default, low, high); no default: given in pairs).
MAX_GIVEN_MINIMA = 4
MINIMA_PARAMS = {f"min{i}_{c}": (math.nan, -1e3, 1e3)
                 for i in range(1, MAX_GIVEN_MINIMA + 1) for c in "xy"}
FORMULA_PARAMS = {**VIEW_PARAMS, **MINIMA_PARAMS}

#: name -> (NumPy function, derivative as a function of the argument tree)
FUNCTIONS = ("sin", "cos", "tan", "exp", "log", "sqrt", "abs", "tanh", "sinh", "cosh")
_CONSTANTS = {"pi": math.pi, "e": math.e}
_BINOPS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**"}


class FormulaError(ValueError):
    """A formula is refused; the message says what and where."""


# -- 1. parse ------------------------------------------------------------------------------

def _pre_check(text: str) -> None:
    if not isinstance(text, str):
        raise FormulaError(f"formula: expected text, got {type(text).__name__}")
    if not text.strip():
        raise FormulaError("formula: empty; type an expression in x and y, e.g. x**2 + 3*y**2")
    if len(text) > MAX_LENGTH:
        raise FormulaError(f"formula: {len(text)} characters; at most {MAX_LENGTH}")
    depth = deepest = 0
    for i, ch in enumerate(text):
        if ch == "(":
            depth += 1
            deepest = max(deepest, depth)
            if deepest > MAX_DEPTH:
                raise FormulaError(f"formula: parentheses nested deeper than {MAX_DEPTH} "
                                   f"at column {i + 1}")
        elif ch == ")":
            depth -= 1
            if depth < 0:
                raise FormulaError(f"formula: unmatched ')' at column {i + 1}")
    if depth:
        raise FormulaError("formula: a '(' is never closed")


def parse(text: str) -> tuple:
    """The checked tree of ``text``, or FormulaError. Trees are tuples:
    ("num", v), ("var", "x"|"y"), (op, a, b) for + - * /, ("**", a, n) with a number n,
    ("neg", a), ("call", name, a)."""
    _pre_check(text)
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as e:
        col = f" at column {e.offset}" if e.offset else ""
        raise FormulaError(f"formula: not an expression{col} ({e.msg})") from None
    except (ValueError, RecursionError, MemoryError):
        raise FormulaError("formula: not an expression") from None
    count = [0]
    out = _node(tree.body, 0, count)
    return out


def _where(node) -> str:
    return f" at column {getattr(node, 'col_offset', 0) + 1}"


def _node(node, depth: int, count: list) -> tuple:
    count[0] += 1
    if count[0] > MAX_NODES:
        raise FormulaError(f"formula: more than {MAX_NODES} terms")
    if depth > 2 * MAX_DEPTH:
        raise FormulaError(f"formula: nested deeper than {MAX_DEPTH}{_where(node)}")
    if isinstance(node, ast.Constant):
        v = node.value
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise FormulaError(f"formula: {v!r} is not a number{_where(node)}")
        if not abs(v) <= MAX_NUMBER:
            raise FormulaError(f"formula: the number {str(v)[:20]} is larger than "
                               f"{MAX_NUMBER:g}{_where(node)}")
        return ("num", float(v))
    if isinstance(node, ast.Name):
        if node.id in ("x", "y"):
            return ("var", node.id)
        if node.id in _CONSTANTS:
            return ("num", _CONSTANTS[node.id])
        hint = " (a function needs parentheses)" if node.id in FUNCTIONS else ""
        raise FormulaError(f"formula: unknown name {node.id[:20]!r}{_where(node)}{hint}; "
                           "use x, y, pi, e")
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        inner = _node(node.operand, depth + 1, count)
        return _neg(inner) if isinstance(node.op, ast.USub) else inner
    if isinstance(node, ast.BinOp) and type(node.op) in _BINOPS:
        op = _BINOPS[type(node.op)]
        left = _node(node.left, depth + 1, count)
        if op == "**":
            n = _exponent(node.right)
            return ("**", left, n)
        return _make(op, left, _node(node.right, depth + 1, count))
    if isinstance(node, ast.Call):
        f = node.func
        if isinstance(f, ast.Attribute):
            raise FormulaError(f"formula: attribute access not allowed{_where(node)}")
        if not isinstance(f, ast.Name) or f.id not in FUNCTIONS:
            name = f.id if isinstance(f, ast.Name) else type(f).__name__
            raise FormulaError(f"formula: unknown function {name[:20]!r}{_where(node)}; "
                               f"use {', '.join(FUNCTIONS)}")
        if len(node.args) != 1 or node.keywords:
            raise FormulaError(f"formula: {f.id}() takes one argument{_where(node)}")
        return ("call", f.id, _node(node.args[0], depth + 1, count))
    what = {ast.Attribute: "attribute access", ast.Subscript: "subscripts",
            ast.Lambda: "lambda", ast.Compare: "comparisons", ast.BoolOp: "and/or",
            ast.IfExp: "if/else", ast.List: "lists", ast.Tuple: "tuples",
            ast.Dict: "dicts", ast.Set: "sets", ast.JoinedStr: "strings"}.get(
        type(node), type(node).__name__)
    if isinstance(node, ast.BinOp):
        what = f"the operator {type(node.op).__name__}"
    raise FormulaError(f"formula: {what} not allowed{_where(node)}; use numbers, x, y, pi, "
                       f"e, + - * / **, and {', '.join(FUNCTIONS)}")


def _exponent(node) -> float:
    sign = 1.0
    while isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        sign = -sign if isinstance(node.op, ast.USub) else sign
        node = node.operand
    if isinstance(node, ast.Name) and node.id in _CONSTANTS:
        return sign * _CONSTANTS[node.id]
    if not isinstance(node, ast.Constant) or isinstance(node.value, bool) \
            or not isinstance(node.value, (int, float)):
        raise FormulaError(f"formula: an exponent must be a number{_where(node)} "
                           f"(for a^b write exp(b*log(a)))")
    if not abs(node.value) <= MAX_EXPONENT:
        raise FormulaError(f"formula: the exponent {str(node.value)[:20]} is outside "
                           f"[-{MAX_EXPONENT}, {MAX_EXPONENT}]{_where(node)}")
    return sign * float(node.value)


# -- 2. differentiate (with constant folding) ----------------------------------------------

def _is(t, v) -> bool:
    return t[0] == "num" and t[1] == v


def _neg(a):
    if a[0] == "num":
        return ("num", -a[1])
    if a[0] == "neg":
        return a[1]
    return ("neg", a)


def _make(op, a, b):
    if a[0] == "num" and b[0] == "num":
        with np.errstate(all="ignore"):
            v = {"+": a[1] + b[1], "-": a[1] - b[1], "*": a[1] * b[1],
                 "/": a[1] / b[1] if b[1] != 0 else math.nan}[op]
        if math.isfinite(v):
            return ("num", v)
    if op == "+":
        if _is(a, 0):
            return b
        if _is(b, 0):
            return a
    if op == "-":
        if _is(b, 0):
            return a
        if _is(a, 0):
            return _neg(b)
    if op == "*":
        if _is(a, 0) or _is(b, 0):
            return ("num", 0.0)
        if _is(a, 1):
            return b
        if _is(b, 1):
            return a
    if op == "/" and _is(b, 1):
        return a
    return (op, a, b)


def derivative(t: tuple, var: str) -> tuple:
    """d t / d var, as a tree."""
    kind = t[0]
    if kind == "num":
        return ("num", 0.0)
    if kind == "var":
        return ("num", 1.0 if t[1] == var else 0.0)
    if kind == "neg":
        return _neg(derivative(t[1], var))
    if kind in ("+", "-"):
        return _make(kind, derivative(t[1], var), derivative(t[2], var))
    if kind == "*":
        a, b = t[1], t[2]
        return _make("+", _make("*", derivative(a, var), b), _make("*", a, derivative(b, var)))
    if kind == "/":
        a, b = t[1], t[2]
        num = _make("-", _make("*", derivative(a, var), b), _make("*", a, derivative(b, var)))
        return _make("/", num, ("**", b, 2.0))
    if kind == "**":
        a, n = t[1], t[2]
        if n == 0:
            return ("num", 0.0)
        inner = ("num", 1.0) if n == 1 else ("**", a, n - 1)
        return _make("*", _make("*", ("num", n), inner), derivative(a, var))
    if kind == "call":
        f, a = t[1], t[2]
        da = derivative(a, var)
        if _is(da, 0):
            return ("num", 0.0)
        outer = {
            "sin": lambda: ("call", "cos", a),
            "cos": lambda: _neg(("call", "sin", a)),
            "tan": lambda: _make("/", ("num", 1.0), ("**", ("call", "cos", a), 2.0)),
            "exp": lambda: ("call", "exp", a),
            "log": lambda: _make("/", ("num", 1.0), a),
            "sqrt": lambda: _make("/", ("num", 0.5), ("call", "sqrt", a)),
            "abs": lambda: ("call", "sign", a),      # 0 at 0, as NumPy's sign
            "tanh": lambda: _make("-", ("num", 1.0), ("**", ("call", "tanh", a), 2.0)),
            "sinh": lambda: ("call", "cosh", a),
            "cosh": lambda: ("call", "sinh", a),
            "sign": lambda: ("num", 0.0),
        }[f]()
        return _make("*", outer, da)
    raise FormulaError(f"formula: cannot differentiate {kind!r}")


# -- 3. evaluate ---------------------------------------------------------------------------

_UFUNCS = {"sin": np.sin, "cos": np.cos, "tan": np.tan, "exp": np.exp, "log": np.log,
           "sqrt": np.sqrt, "abs": np.abs, "tanh": np.tanh, "sinh": np.sinh,
           "cosh": np.cosh, "sign": np.sign}


def evaluate(t: tuple, x, y):
    """The tree at arrays ``x``, ``y`` (broadcast): only whitelisted NumPy operations."""
    kind = t[0]
    if kind == "num":
        return t[1]
    if kind == "var":
        return x if t[1] == "x" else y
    if kind == "neg":
        return -evaluate(t[1], x, y)
    if kind == "call":
        return _UFUNCS[t[1]](evaluate(t[2], x, y))
    a = evaluate(t[1], x, y)
    if kind == "**":
        n = t[2]
        return a * a if n == 2 else np.power(a, n)
    b = evaluate(t[2], x, y)
    if kind == "+":
        return a + b
    if kind == "-":
        return a - b
    if kind == "*":
        return a * b
    return np.divide(a, b)          # also for two Python floats: x/0 is inf, not an error


def to_latex(t: tuple) -> str:
    """The tree as LaTeX (for the page)."""
    kind = t[0]
    if kind == "num":
        v = t[1]
        return {math.pi: r"\pi", math.e: "e"}.get(v, f"{v:g}")
    if kind == "var":
        return t[1]
    if kind == "neg":
        return "-" + _paren(t[1], 2)
    if kind == "call":
        if t[1] == "abs":
            return rf"\left|{to_latex(t[2])}\right|"
        if t[1] == "sqrt":
            return rf"\sqrt{{{to_latex(t[2])}}}"
        return rf"\{t[1]}\left({to_latex(t[2])}\right)"
    if kind == "**":
        return f"{_paren(t[1], 4)}^{{{t[2]:g}}}"
    if kind == "/":
        return rf"\frac{{{to_latex(t[1])}}}{{{to_latex(t[2])}}}"
    prec = {"+": 1, "-": 1, "*": 2}[kind]
    op = {"+": " + ", "-": " - ", "*": r" \, "}[kind]
    return _paren(t[1], prec) + op + _paren(t[2], prec + (kind == "-"))


def _paren(t, prec) -> str:
    p = {"+": 1, "-": 1, "*": 2, "/": 3, "neg": 2, "**": 4}.get(t[0], 5)
    s = to_latex(t)
    return rf"\left({s}\right)" if p < prec else s


# -- 4. the surface ------------------------------------------------------------------------

@functools.lru_cache(maxsize=64)
def formula_surface(text: str, x_min: float = -5.0, x_max: float = 5.0,
                    y_min: float = -5.0, y_max: float = 5.0, **given_minima: float):
    """The Surface of formula ``text`` on the view box [x_min, x_max] x [y_min, y_max]
    (FormulaError if refused); ``min1_x=.., min1_y=.., ...`` give its minima instead of
    the grid search (each polished by Newton's method when that converges nearby)."""
    from .surfaces import Surface

    if not (x_min < x_max and y_min < y_max):
        raise FormulaError(f"view: x from {x_min:g} to {x_max:g}, y from {y_min:g} to "
                           f"{y_max:g} is empty; the minimum must be below the maximum")
    box = (float(x_min), float(x_max), float(y_min), float(y_max))
    tree = parse(text)
    gx, gy = derivative(tree, "x"), derivative(tree, "y")
    hxx, hxy, hyy = derivative(gx, "x"), derivative(gx, "y"), derivative(gy, "y")

    def full(t, x, y):
        v = evaluate(t, x, y)
        shape = np.shape(x)
        if shape != np.shape(y):                  # (the engine's x and y always agree)
            shape = np.broadcast_shapes(shape, np.shape(y))
        return v if np.shape(v) == shape else np.broadcast_to(v, shape).copy()

    def value_xy(x, y):
        with np.errstate(all="ignore"):
            return full(tree, x, y)

    def grad_xy(x, y):
        with np.errstate(all="ignore"):
            return full(gx, x, y), full(gy, x, y)

    def hess_xy(x, y):
        with np.errstate(all="ignore"):
            return full(hxx, x, y), full(hxy, x, y), full(hyy, x, y)

    fns = (value_xy, grad_xy, hess_xy)
    given = _given_minima(given_minima)
    if given:
        view, minima, saddles = box, _polished(fns, given), []
    else:
        view, minima, saddles = _look_around(fns, box)
    x0, x1, y0, y1 = view
    low = minima[0] if minima else ((x0 + x1) / 2, (y0 + y1) / 2)
    # start: 70 % of the way from the lowest minimum to the farthest corner of the box
    corner = max(((x0, y0), (x0, y1), (x1, y0), (x1, y1)),
                 key=lambda c: (c[0] - low[0]) ** 2 + (c[1] - low[1]) ** 2)
    start = (low[0] + 0.7 * (corner[0] - low[0]), low[1] + 0.7 * (corner[1] - low[1]))
    short = text if len(text) <= 40 else text[:37] + "..."
    bound = {} if box == (-5.0, 5.0, -5.0, 5.0) else dict(zip(VIEW_PARAMS, box))
    bound.update(given_minima)
    return Surface(
        name=PREFIX + text, label=f"formula: {short}", latex=to_latex(tree), bound=bound,
        teaches="Your own surface: its gradient and Hessian are differentiated from the "
                "formula, its minima found by a grid search.",
        value_xy=value_xy, grad_xy=grad_xy, hess_xy=hess_xy, view=view,
        default_start=(float(start[0]), float(start[1])),
        minima=tuple(minima), saddles=tuple(saddles))


def _given_minima(params: dict) -> list[tuple[float, float]]:
    """The points of ``min1_x, min1_y, ...`` (FormulaError for a half-given point)."""
    for k in params:
        if k not in MINIMA_PARAMS:
            raise FormulaError(f"formula: no parameter {k!r}")
    points = []
    for i in range(1, MAX_GIVEN_MINIMA + 1):
        x, y = params.get(f"min{i}_x"), params.get(f"min{i}_y")
        if (x is None) != (y is None):
            raise FormulaError(f"minima: point {i} needs both min{i}_x and min{i}_y")
        if x is not None:
            points.append((float(x), float(y)))
    return points


def _polished(fns, points):
    """Given minima, each moved to the exact stationary point Newton's method finds
    within 0.1 of it (else kept as given), lowest first."""
    from .surfaces import _refine
    value_xy = fns[0]
    out = []
    for (x, y), (rx, ry) in zip(points, _refine(fns, points)):
        near = math.isfinite(rx) and math.isfinite(ry) and abs(rx - x) + abs(ry - y) < 0.1
        out.append((rx, ry) if near else (x, y))
    return sorted(out, key=lambda m: float(value_xy(np.float64(m[0]), np.float64(m[1]))))


def _look_around(fns, box=(-5.0, 5.0, -5.0, 5.0), n=81):
    """(view box, minima lowest first, approximate saddles) from a grid search: grid
    points lower than their 8 neighbours, refined by Newton's method, kept if they stay
    in the box with a positive definite Hessian."""
    from .surfaces import _refine

    value_xy, grad_xy, hess_xy = fns
    xs, ys = np.linspace(box[0], box[1], n), np.linspace(box[2], box[3], n)
    X, Y = np.meshgrid(xs, ys)
    Z = np.asarray(value_xy(X, Y), dtype=float)
    Z = np.where(np.isfinite(Z), Z, np.inf)
    core = Z[1:-1, 1:-1]
    lower = np.ones_like(core, dtype=bool)
    for di in (-1, 0, 1):
        for dj in (-1, 0, 1):
            if di or dj:
                lower &= core < Z[1 + di:n - 1 + di, 1 + dj:n - 1 + dj]
    idx = np.argwhere(lower & np.isfinite(core))[:20]
    candidates = [(float(X[i + 1, j + 1]), float(Y[i + 1, j + 1])) for i, j in idx]
    minima = []
    for x, y in _refine(fns, candidates):
        a, b, d = (float(v) for v in hess_xy(np.float64(x), np.float64(y)))
        inside = box[0] <= x <= box[1] and box[2] <= y <= box[3]
        if inside and a > 0 and a * d - b * b > 0 and \
                all(abs(x - mx) + abs(y - my) > 1e-6 for mx, my in minima):
            minima.append((x, y))
    minima.sort(key=lambda m: float(value_xy(np.float64(m[0]), np.float64(m[1]))))
    return tuple(box), minima[:8], []
