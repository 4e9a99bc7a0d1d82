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
import time

import numpy as np

from .surface import Surface, SurfaceCost

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


# -- 4. compile: one graph of shared subexpressions, flat tapes of NumPy calls ---------

#: Most distinct operations in a formula's value, gradient and Hessian together (shared
#: subexpressions counted once). A tape runs one NumPy call per operation, so this bounds
#: what one evaluation costs; building stops as soon as it is passed.
MAX_OPS = 1500
#: Work per element of each operation, in units of one elementwise add on large arrays
#: (the fresh array every operation writes included), measured with NumPy 2.4 on the
#: reference machine (benchmarks.abuse prints the estimate beside the time).
OP_COST = {"+": 2.0, "-": 2.0, "*": 2.0, "neg": 2.0, "/": 2.0, "sq": 2.0, "**": 5.0,
           "sin": 14.0, "cos": 14.0, "tan": 4.0, "exp": 3.0, "log": 3.0, "sqrt": 3.0,
           "abs": 2.0, "tanh": 4.0, "sinh": 4.0, "cosh": 4.0, "sign": 2.0}
#: Microseconds per operation of a tape on a page's few points (one NumPy call and the
#: loop's bookkeeping).
CALL_US = 0.8
_ARITH = {"+": np.add, "-": np.subtract, "*": np.multiply, "/": np.divide}


class _Graph:
    """Hash-consed expression graph: node i is a tuple whose operands are node ids, and the
    same expression is never stored twice, so derivatives share every subexpression (the
    gradient of a 19-level continued fraction is a few hundred nodes, not a tree of
    thousands). The simplifications are those of the tree form (_make): constants folded,
    0 and 1 dropped; ``a + b`` and ``a * b`` are stored with sorted operands, which
    changes no result (IEEE addition and multiplication commute exactly)."""

    def __init__(self, limit: int = MAX_OPS):
        self.nodes: list[tuple] = []
        self.index: dict[tuple, int] = {}
        self.limit = limit
        self._d: dict[tuple[int, str], int] = {}

    def add(self, key: tuple) -> int:
        # 0.0 == -0.0 as dict keys, but 1 / -0 is -inf: a constant's sign is in its key
        ikey = key + (math.copysign(1.0, key[1]),) if key[0] == "num" else key
        i = self.index.get(ikey)
        if i is None:
            if len(self.nodes) >= self.limit:
                raise FormulaError(f"formula: its derivatives take more than {self.limit} "
                                   "operations; write a shorter formula")
            i = self.index[ikey] = len(self.nodes)
            self.nodes.append(key)
        return i

    def num(self, v: float) -> int:
        return self.add(("num", float(v)))

    def value(self, i: int):
        n = self.nodes[i]
        return n[1] if n[0] == "num" else None

    def neg(self, a: int) -> int:
        n = self.nodes[a]
        if n[0] == "num":
            return self.num(-n[1])
        if n[0] == "neg":
            return n[1]
        return self.add(("neg", a))

    def op(self, kind: str, a: int, b: int) -> int:
        va, vb = self.value(a), self.value(b)
        if va is not None and vb is not None:
            with np.errstate(all="ignore"):
                v = {"+": va + vb, "-": va - vb, "*": va * vb,
                     "/": va / vb if vb != 0 else math.nan}[kind]
            if math.isfinite(v):
                return self.num(v)
        if kind == "+":
            if va == 0:
                return b
            if vb == 0:
                return a
        elif kind == "-":
            if vb == 0:
                return a
            if va == 0:
                return self.neg(b)
        elif kind == "*":
            if va == 0 or vb == 0:
                return self.num(0.0)
            if va == 1:
                return b
            if vb == 1:
                return a
        elif kind == "/" and vb == 1:
            return a
        if kind in ("+", "*") and b < a:
            a, b = b, a
        return self.add((kind, a, b))

    def power(self, a: int, n: float) -> int:
        return self.add(("**", a, float(n)))

    def call(self, f: str, a: int) -> int:
        return self.add(("call", f, a))

    def from_tree(self, t: tuple) -> int:
        kind = t[0]
        if kind == "num":
            return self.num(t[1])
        if kind == "var":
            return self.add(t)
        if kind == "neg":
            return self.neg(self.from_tree(t[1]))
        if kind == "call":
            return self.call(t[1], self.from_tree(t[2]))
        if kind == "**":
            return self.power(self.from_tree(t[1]), t[2])
        return self.op(kind, self.from_tree(t[1]), self.from_tree(t[2]))

    def d(self, i: int, var: str) -> int:
        """d node_i / d var (memoized: each node is differentiated once per variable)."""
        key = (i, var)
        out = self._d.get(key)
        if out is None:
            out = self._d[key] = self._derive(i, var)
        return out

    def _derive(self, i: int, var: str) -> int:
        n = self.nodes[i]
        kind = n[0]
        if kind == "num":
            return self.num(0.0)
        if kind == "var":
            return self.num(1.0 if n[1] == var else 0.0)
        if kind == "neg":
            return self.neg(self.d(n[1], var))
        if kind in ("+", "-"):
            return self.op(kind, self.d(n[1], var), self.d(n[2], var))
        if kind == "*":
            a, b = n[1], n[2]
            return self.op("+", self.op("*", self.d(a, var), b), self.op("*", a, self.d(b, var)))
        if kind == "/":
            a, b = n[1], n[2]
            num = self.op("-", self.op("*", self.d(a, var), b), self.op("*", a, self.d(b, var)))
            return self.op("/", num, self.power(b, 2.0))
        if kind == "**":
            a, p = n[1], n[2]
            if p == 0:
                return self.num(0.0)
            inner = self.num(1.0) if p == 1 else self.power(a, p - 1)
            return self.op("*", self.op("*", self.num(p), inner), self.d(a, var))
        f, a = n[1], n[2]                                     # a call
        da = self.d(a, var)
        if self.value(da) == 0:
            return self.num(0.0)
        one = self.num(1.0)
        outer = {
            "sin": lambda: self.call("cos", a),
            "cos": lambda: self.neg(self.call("sin", a)),
            "tan": lambda: self.op("/", one, self.power(self.call("cos", a), 2.0)),
            "exp": lambda: i,
            "log": lambda: self.op("/", one, a),
            "sqrt": lambda: self.op("/", self.num(0.5), i),
            "abs": lambda: self.call("sign", a),              # 0 at 0, as NumPy's sign
            "tanh": lambda: self.op("-", one, self.power(i, 2.0)),
            "sinh": lambda: self.call("cosh", a),
            "cosh": lambda: self.call("sinh", a),
            "sign": lambda: self.num(0.0),
        }[f]()
        return self.op("*", outer, da)


def _square(a):
    return a * a


class Tape:
    """The operations that compute some nodes of a :class:`_Graph`, in order, each one
    NumPy call on whole arrays; every shared subexpression is computed once, and each
    intermediate array is let go after its last use (a basin map's 65,536 points at a
    time hold a few arrays, not one per operation)."""

    def __init__(self, graph: _Graph, outputs: tuple[int, ...]):
        needed, stack = set(), list(outputs)
        while stack:                                  # the nodes the outputs read
            i = stack.pop()
            if i not in needed:
                needed.add(i)
                stack += _operands(graph.nodes[i])
        order = sorted(needed)                        # ids are topological: operands first
        self.size = len(graph.nodes)
        self.outputs = outputs
        self.constants = {i: graph.nodes[i][1] for i in order if graph.nodes[i][0] == "num"}
        self.variables = {i: graph.nodes[i][1] for i in order if graph.nodes[i][0] == "var"}
        last = {}
        code = []
        for i in order:
            n = graph.nodes[i]
            kind = n[0]
            if kind in ("num", "var"):
                continue
            if kind in _ARITH:
                fn, args, name = _ARITH[kind], (n[1], n[2]), kind
            elif kind == "neg":
                fn, args, name = np.negative, (n[1],), "neg"
            elif kind == "**":
                p = n[2]
                fn = _square if p == 2 else functools.partial(_power, p=p)
                args, name = (n[1],), "sq" if p == 2 else "**"
            else:
                fn, args, name = _UFUNCS[n[1]], (n[2],), n[1]
            for a in args:
                last[a] = len(code)
            code.append([i, fn, args, name, ()])
        keep = set(outputs)
        drops: dict[int, list[int]] = {}
        for a, k in last.items():
            if a not in keep and a not in self.constants and a not in self.variables:
                drops.setdefault(k, []).append(a)
        for k, ids in drops.items():
            code[k][4] = tuple(ids)
        self.code = [tuple(c) for c in code]
        #: NumPy calls per evaluation, and the summed relative cost per point (OP_COST)
        self.calls = len(self.code)
        self.cost = float(sum(OP_COST[c[3]] for c in self.code))

    def __call__(self, x, y) -> list:
        vals = [None] * self.size
        for i, v in self.constants.items():
            vals[i] = v
        for i, v in self.variables.items():
            vals[i] = x if v == "x" else y
        for i, fn, args, _, drop in self.code:
            vals[i] = fn(*[vals[a] for a in args])
            for a in drop:
                vals[a] = None
        return [vals[o] for o in self.outputs]


def _operands(n: tuple) -> tuple[int, ...]:
    """The node ids a graph node reads."""
    kind = n[0]
    if kind in _ARITH:
        return n[1], n[2]
    if kind in ("neg", "**"):
        return (n[1],)
    if kind == "call":
        return (n[2],)
    return ()


def _power(a, p):
    return np.power(a, p)


class Compiled:
    """A formula's value, gradient and Hessian as three tapes over one graph, and what an
    evaluation costs: ``calls`` (NumPy calls) and ``cost`` (relative work per point) of
    the gradient, and of the Hessian for second-order methods."""

    def __init__(self, tree: tuple, limit: int = MAX_OPS):
        g = _Graph(limit)
        f = g.from_tree(tree)
        gx, gy = g.d(f, "x"), g.d(f, "y")
        hxx, hxy, hyy = g.d(gx, "x"), g.d(gx, "y"), g.d(gy, "y")
        self.ops = sum(1 for n in g.nodes if n[0] not in ("num", "var"))
        self.value = Tape(g, (f,))
        self.grad = Tape(g, (gx, gy))
        self.hess = Tape(g, (hxx, hxy, hyy))


def compile_formula(text: str) -> Compiled:
    """The checked, compiled form of ``text`` (FormulaError if refused)."""
    return Compiled(parse(text))


# -- 5. the surface ------------------------------------------------------------------------

#: Longest a formula's minima search may take (seconds); past it the candidates refined
#: so far are kept.
SEARCH_SECONDS = 0.3


@functools.lru_cache(maxsize=256)
def _formula_cached(text, x_min, x_max, y_min, y_max, minima_items):
    """formula_surface's work, its refusals cached like its results (a link to a refused
    formula, opened by a whole class, is parsed once per worker)."""
    try:
        return _formula_surface(text, x_min, x_max, y_min, y_max, dict(minima_items))
    except FormulaError as e:
        return e


def formula_surface(text: str, x_min: float = -5.0, x_max: float = 5.0,
                    y_min: float = -5.0, y_max: float = 5.0, **given_minima: float):
    """The Surface of formula ``text`` on the view box [x_min, x_max] x [y_min, y_max]
    (FormulaError if refused); ``min1_x=.., min1_y=.., ...`` give its minima instead of
    the grid search (each polished by Newton's method when that converges nearby).
    Results and refusals are both cached (256 formulas)."""
    try:
        key = (text, float(x_min), float(x_max), float(y_min), float(y_max),
               tuple(sorted((k, float(v)) for k, v in given_minima.items())))
        hash(key)
    except (TypeError, ValueError):
        return _formula_surface(text, x_min, x_max, y_min, y_max, given_minima)
    out = _formula_cached(*key)
    if isinstance(out, FormulaError):
        raise FormulaError(str(out))
    return out


formula_surface.__wrapped__ = lambda text, x_min=-5.0, x_max=5.0, y_min=-5.0, y_max=5.0, \
    **given: _formula_surface(text, x_min, x_max, y_min, y_max, given)
formula_surface.cache_clear = _formula_cached.cache_clear


def _formula_surface(text, x_min, x_max, y_min, y_max, given_minima):
    if not (x_min < x_max and y_min < y_max):
        raise FormulaError(f"view: x from {x_min:g} to {x_max:g}, y from {y_min:g} to "
                           f"{y_max:g} is empty; the minimum must be below the maximum")
    box = (float(x_min), float(x_max), float(y_min), float(y_max))
    tree = parse(text)
    given = _given_minima(given_minima)
    compiled = Compiled(tree)

    def full(values, x, y):
        shape = np.shape(x)
        if shape != np.shape(y):                  # (the engine's x and y always agree)
            shape = np.broadcast_shapes(shape, np.shape(y))
        return [v if np.shape(v) == shape else np.broadcast_to(v, shape).copy()
                for v in values]

    def value_xy(x, y):
        with np.errstate(all="ignore"):
            return full(compiled.value(x, y), x, y)[0]

    def grad_xy(x, y):
        with np.errstate(all="ignore"):
            return tuple(full(compiled.grad(x, y), x, y))

    def hess_xy(x, y):
        with np.errstate(all="ignore"):
            return tuple(full(compiled.hess(x, y), x, y))

    fns = (value_xy, grad_xy, hess_xy)
    deadline = time.monotonic() + SEARCH_SECONDS
    if given:
        view, minima, saddles = box, _polished(fns, given, deadline), []
    else:
        view, minima, saddles = _look_around(fns, box, deadline=deadline)
    x0, x1, y0, y1 = view
    low = minima[0] if minima else ((x0 + x1) / 2, (y0 + y1) / 2)
    # start: 70 % of the way from the lowest minimum to the farthest corner of the box
    corner = max(((x0, y0), (x0, y1), (x1, y0), (x1, y1)),
                 key=lambda c: (c[0] - low[0]) ** 2 + (c[1] - low[1]) ** 2)
    start = (low[0] + 0.7 * (corner[0] - low[0]), low[1] + 0.7 * (corner[1] - low[1]))
    short = text if len(text) <= 40 else text[:37] + "..."
    bound = {} if box == (-5.0, 5.0, -5.0, 5.0) else dict(zip(VIEW_PARAMS, box))
    bound.update(given_minima)
    teaches = ("Your own surface: its gradient and Hessian are differentiated from the "
               "formula, its minima found by a grid search.")
    gx, gy = np.meshgrid(np.linspace(x0, x1, 64), np.linspace(y0, y1, 64))
    if not np.isfinite(value_xy(gx, gy)).all():
        teaches += (" It is not finite in part of its box (it overflows, or leaves its "
                    "domain there): drawn as the highest level, and a path that goes "
                    "there stops as diverged.")
    return Surface(
        name=PREFIX + text, label=f"formula: {short}", latex=to_latex(tree), bound=bound,
        teaches=teaches,
        value_xy=value_xy, grad_xy=grad_xy, hess_xy=hess_xy, view=view,
        default_start=(float(start[0]), float(start[1])),
        minima=tuple(minima), saddles=tuple(saddles), expression=text.strip(),
        cost=SurfaceCost(
            grad=compiled.grad.cost, grad_us=CALL_US * (compiled.grad.calls + 1),
            hess=compiled.hess.cost, hess_us=CALL_US * (compiled.hess.calls + 1),
            value=compiled.value.cost, value_us=CALL_US * (compiled.value.calls + 1)))


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


def _refine_all(fns, points, deadline, iters=50):
    """Newton's method on every point at once (the same arithmetic, point by point, as
    surfaces._refine): a point stops where its Hessian is singular or its step is below
    1e-15; all stop at ``deadline`` (time.monotonic) wherever they are."""
    _, grad_xy, hess_xy = fns
    if not points:
        return ()
    x = np.array([p[0] for p in points], dtype=float)
    y = np.array([p[1] for p in points], dtype=float)
    active = np.ones(len(points), dtype=bool)
    with np.errstate(all="ignore"):
        for _ in range(iters):
            if not active.any() or time.monotonic() > deadline:
                break
            gx, gy = grad_xy(x, y)
            a, b, d = hess_xy(x, y)
            det = a * d - b * b
            active &= det != 0
            dx = (d * gx - b * gy) / det
            dy = (a * gy - b * gx) / det
            x = np.where(active, x - dx, x)
            y = np.where(active, y - dy, y)
            active &= ~(np.abs(dx) + np.abs(dy) < 1e-15)
    return tuple((float(a), float(b)) for a, b in zip(x, y))


def _polished(fns, points, deadline=math.inf):
    """Given minima, each moved to the exact stationary point Newton's method finds
    within 0.1 of it (else kept as given), lowest first."""
    value_xy = fns[0]
    out = []
    for (x, y), (rx, ry) in zip(points, _refine_all(fns, points, deadline)):
        near = math.isfinite(rx) and math.isfinite(ry) and abs(rx - x) + abs(ry - y) < 0.1
        out.append((rx, ry) if near else (x, y))
    return sorted(out, key=lambda m: float(value_xy(np.float64(m[0]), np.float64(m[1]))))


def _look_around(fns, box=(-5.0, 5.0, -5.0, 5.0), n=81, deadline=math.inf):
    """(view box, minima lowest first, approximate saddles) from a grid search: grid
    points lower than their 8 neighbours, refined by Newton's method, kept if they stay
    in the box with a positive definite Hessian."""
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
    refined = _refine_all(fns, candidates, deadline)
    if refined:
        rx = np.array([p[0] for p in refined])
        ry = np.array([p[1] for p in refined])
        with np.errstate(all="ignore"):
            ha, hb, hd = (np.broadcast_to(v, rx.shape) for v in hess_xy(rx, ry))
    for k, (x, y) in enumerate(refined):
        a, b, d = float(ha[k]), float(hb[k]), float(hd[k])
        inside = box[0] <= x <= box[1] and box[2] <= y <= box[3]
        if inside and a > 0 and a * d - b * b > 0 and \
                all(abs(x - mx) + abs(y - my) > 1e-6 for mx, my in minima):
            minima.append((x, y))
    minima.sort(key=lambda m: float(value_xy(np.float64(m[0]), np.float64(m[1]))))
    return tuple(box), minima[:8], []
