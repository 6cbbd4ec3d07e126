"""The shape of the package: small modules, one-way imports, estimators that
do not know the backends (see docs/developer.rst)."""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "skla"
MODULES = sorted(PACKAGE.rglob("*.py"))
MAX_MODULE_LINES = 400
MAX_FUNCTION_CODE_LINES = 60
ESTIMATOR_PACKAGES = ("skla.linear_model", "skla.decomposition")
# Where each layer may not import from: data flow one way, estimator →
# backend → algorithm → component.
FORBIDDEN = {
    "skla._backends": ESTIMATOR_PACKAGES,
    "skla._algorithms": (*ESTIMATOR_PACKAGES, "skla._backends"),
    "skla.components": (*ESTIMATOR_PACKAGES, "skla._backends"),
    "skla._data": (
        *ESTIMATOR_PACKAGES,
        "skla._backends",
        "skla._algorithms",
        "skla.components",
    ),
}


def _name(path):
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


NAMES = {_name(p): p for p in MODULES}


def _imports(path):
    """The skla modules ``path`` imports, at any depth of its code."""
    module, is_package = _name(path), path.name == "__init__.py"
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("skla"))
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".")[: None if is_package else -1]
                base = base[: len(base) - node.level + 1]
                target = ".".join([*base, *([node.module] if node.module else [])])
            else:
                target = node.module or ""
            if not target.startswith("skla"):
                continue
            for alias in node.names:
                sub = f"{target}.{alias.name}"
                found.add(sub if sub in NAMES else target)
    return {name for name in found if name in NAMES and name != module}


GRAPH = {name: _imports(path) for name, path in NAMES.items()}


def _code_lines(node, source_lines):
    body = node.body
    doc = None
    if (
        body
        and isinstance(body[0], ast.Expr)
        and isinstance(body[0].value, ast.Constant)
    ):
        doc = range(body[0].lineno, body[0].end_lineno + 1)
    count = 0
    for number in range(node.lineno, node.end_lineno + 1):
        line = source_lines[number - 1].strip()
        if line and not line.startswith("#") and (doc is None or number not in doc):
            count += 1
    return count


@pytest.mark.parametrize("path", MODULES, ids=lambda p: _name(p))
def test_modules_and_functions_are_small(path):
    source = path.read_text()
    lines = source.splitlines()
    assert len(lines) <= MAX_MODULE_LINES, f"{len(lines)} lines"
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            n = _code_lines(node, lines)
            assert n <= MAX_FUNCTION_CODE_LINES, f"{node.name}: {n} lines of code"


def test_no_import_cycle():
    """Tarjan's strongly connected components of the module graph (imports
    inside functions included): all of size one."""
    index, low, on_stack, stack, cycles = {}, {}, set(), [], []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in GRAPH[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for name in GRAPH:
        if name not in index:
            visit(name)
    assert cycles == []


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_imports_flow_one_way(layer):
    wrong = {
        (name, target)
        for name, targets in GRAPH.items()
        if name == layer or name.startswith(layer + ".")
        for target in targets
        if target.startswith(FORBIDDEN[layer])
    }
    assert wrong == set()


def test_estimators_do_not_know_the_backends():
    """Estimator modules reach the backends through ``backend_for`` only:
    nothing dask- or namespace-specific, no test of which backend it is."""
    for name, path in NAMES.items():
        if not name.startswith(ESTIMATOR_PACKAGES):
            continue
        specific = {
            t
            for t in GRAPH[name]
            if t.startswith(("skla._backends.dask", "skla._backends.array_api"))
        }
        assert specific == set(), name
        source = path.read_text()
        for word in ("is_dask_collection", "namespace_of", "import dask", "Namespace("):
            assert word not in source, f"{name} uses {word}"
