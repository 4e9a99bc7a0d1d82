"""The layout docs/architecture.md describes, kept true: every module imports, imports go
one way (web -> engine and the rest -> optimizers, surfaces, schedules; never back), and
no two modules import each other, directly or around a circle, lazily or not."""
import ast
import importlib
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1] / "optviz"

#: the bottom of the house: what every other part builds on; they import only each other
BASE = ("optviz.optimizers", "optviz.surface", "optviz.surfaces", "optviz.formula",
        "optviz.data", "optviz.networks", "optviz.schedules", "optviz.buffers")


def modules() -> dict[str, pathlib.Path]:
    out = {}
    for path in sorted(ROOT.rglob("*.py")):
        parts = path.relative_to(ROOT.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = path
    return out


def imports(name: str, path: pathlib.Path) -> set[str]:
    """The optviz modules ``name`` imports anywhere in its code (inside functions too),
    except under ``if TYPE_CHECKING:``."""
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found = set()

    def visit(node):
        if isinstance(node, ast.If) and getattr(node.test, "id", "") == "TYPE_CHECKING":
            return
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package.split(".")
            if node.level:
                base = base[:len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module
            found.add(target)
            found.update(f"{target}.{a.name}" for a in node.names)   # from . import adam
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(ast.parse(path.read_text()))
    known = modules()
    return {m for m in found if m in known and m != name}


GRAPH = {name: imports(name, path) for name, path in modules().items()}


@pytest.mark.parametrize("name", sorted(GRAPH))
def test_every_module_imports(name):
    importlib.import_module(name)


#: entry points above the page: the ``optviz serve`` command
ENTRY = ("optviz.__main__",)


def test_nothing_below_the_web_layer_imports_it():
    wrong = {m: sorted(t for t in targets if t.startswith("optviz.web"))
             for m, targets in GRAPH.items()
             if not m.startswith("optviz.web") and m not in ENTRY}
    assert {m: t for m, t in wrong.items() if t} == {}


def test_the_base_imports_only_the_base():
    """Optimizers, surfaces, formulas, data, schedules: nothing of the engine, the scene,
    the cost model, the explorer, the plots or the page."""
    def base(m):
        return any(m == b or m.startswith(b + ".") for b in BASE)
    wrong = {m: sorted(t for t in targets if not base(t))
             for m, targets in GRAPH.items() if base(m)}
    assert {m: t for m, t in wrong.items() if t} == {}


def test_no_import_circle():
    # the package facade (optviz/__init__) re-exports; every other edge must be acyclic
    graph = {m: {t for t in targets if t != "optviz"} for m, targets in GRAPH.items()
             if m != "optviz"}
    # a module imports its package's __init__ when importing a sibling: not an edge back
    graph = {m: {t for t in targets if not m.startswith(t + ".")} for m, targets in graph.items()}
    state, path = {}, []

    def visit(m):
        state[m] = "open"
        path.append(m)
        for t in sorted(graph.get(m, ())):
            if state.get(t) == "open":
                raise AssertionError("import circle: " + " -> ".join(path[path.index(t):] + [t]))
            if t not in state:
                visit(t)
        state[m] = "done"
        path.pop()

    for m in sorted(graph):
        if m not in state:
            visit(m)


def test_no_function_of_the_web_layer_is_longer_than_a_screen():
    """Callbacks and layout as small module-level functions: none over 80 lines."""
    long = []
    for path in sorted((ROOT / "web").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                lines = node.end_lineno - node.lineno + 1
                if lines > 80:
                    long.append(f"{path.name}:{node.name} ({lines} lines)")
    assert long == []


@pytest.mark.parametrize("name", sorted(p.stem for p in (ROOT.parent / "benchmarks").glob("*.py")
                                        if p.stem != "__init__"))
def test_every_benchmark_imports(name):
    """The benchmarks read the engine's internals: a rename there must not break them."""
    importlib.import_module(f"benchmarks.{name}")
