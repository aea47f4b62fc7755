"""The emulator's layers (docs/architecture.md, "The emulator's layers"): no import cycle among the modules of
``mrap_constructs.testing`` (function-level imports included), the policy layer loads without the patches, and no
module keeps emulator state in a global."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "mrap_constructs" / "testing"
PREFIX = "mrap_constructs.testing"

#: Module-level mutable objects that are not emulator state, each with why.
NOT_STATE = {
    ("mrap_constructs.testing.replication_context", "_LOCAL"):
        "per-thread request context (is this thread writing a replica; which jobs wait for its request), no data",
    ("mrap_constructs.testing.conformance.cases", "CASES"): "the registry the @case decorators fill at import",
}


def _modules() -> dict[str, Path]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(ROOT).with_suffix("").parts
        found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def import_graph() -> dict[str, dict[str, int]]:
    """``{module: {imported module of the package: line}}`` from every ``import`` statement, at any depth (functions,
    ``TYPE_CHECKING`` blocks, ``__getattr__``), ``from package import module`` resolved to the module."""
    modules = _modules()
    graph: dict[str, dict[str, int]] = {}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
        edges: dict[str, int] = {}
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join(parts + ([node.module] if node.module else []))
                targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base for a in node.names]
            for target in targets:
                if target.startswith(PREFIX) and target in modules and target != name:
                    edges.setdefault(target, node.lineno)
        graph[name] = edges
    return graph


def find_cycle(graph: dict[str, dict[str, int]]) -> list[str] | None:
    """One cycle of ``graph`` as ``[a, b, ..., a]``, or None."""
    state: dict[str, int] = {}  # 1 on the path, 2 done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, {})):
            if state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        path.pop()
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state and (found := visit(start)):
            return found
    return None


def test_find_cycle_names_a_cycle_and_accepts_a_dag():
    assert find_cycle({"a": {"b": 1}, "b": {"c": 1}, "c": {"a": 1}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b": 1, "c": 1}, "b": {"c": 1}, "c": {}}) is None


@pytest.fixture(scope="module")
def graph() -> dict[str, dict[str, int]]:
    """The package's import graph, parsed once for the module's tests (read only)."""
    return import_graph()


def test_the_graph_sees_function_level_imports(graph):
    # fixtures imports local_deploy inside a function only: the walk must still see it.
    assert "mrap_constructs.testing.local_deploy" in graph["mrap_constructs.testing.fixtures"]
    assert "mrap_constructs.testing.moto_patches" in graph["mrap_constructs.testing.patches"]


def test_the_emulator_package_has_no_import_cycle(graph):
    cycle = find_cycle(graph)
    if cycle:
        steps = [f"{a} (line {graph[a][b]}) -> {b}" for a, b in zip(cycle, cycle[1:], strict=False)]
        pytest.fail("import cycle in mrap_constructs.testing:\n  " + "\n  ".join(steps))


@pytest.mark.parametrize(("lower", "upper"), [
    ("mrap_constructs.testing.state", "mrap_constructs.testing.moto_patches"),
    ("mrap_constructs.testing.cfn_models", "mrap_constructs.testing.patches"),
    ("mrap_constructs.testing.batch_operations", "mrap_constructs.testing.dataplane.replication"),
    ("mrap_constructs.testing.moto_patches", "mrap_constructs.testing.emulator"),
    ("mrap_constructs.testing.patches", "mrap_constructs.testing.dataplane.session"),
])
def test_a_layer_does_not_reach_up(lower, upper, graph):
    reached, todo = set(), [lower]
    while todo:
        for nxt in graph[todo.pop()]:
            if nxt not in reached:
                reached.add(nxt)
                todo.append(nxt)
    assert upper not in reached, f"{lower} imports (through {sorted(reached)}) {upper}"


@pytest.mark.parametrize("module", [
    "mrap_constructs._policy_facts", "mrap_constructs.testing.dataplane.role_permissions"])
def test_the_policy_layer_loads_without_the_patches(module, fresh_imports):
    """Importing the policy layer loads neither the patches, nor the emulator, nor moto."""
    loaded = {m for m in fresh_imports[module] if m.startswith(("mrap_constructs.testing.", "moto"))}
    assert not {m for m in loaded if m.split(".")[0] == "moto"}, loaded
    assert loaded <= {"mrap_constructs.testing.dataplane", "mrap_constructs.testing.dataplane.role_permissions"}, loaded


def _mutable(value: ast.expr) -> bool:
    if isinstance(value, (ast.Dict, ast.List, ast.Set)):
        return not (value.keys if isinstance(value, ast.Dict) else value.elts)  # an empty container is a store
    if isinstance(value, ast.Call):
        func = ast.unparse(value.func)
        return func in ("dict", "list", "set", "threading.local", "collections.defaultdict", "defaultdict") and \
            not value.args
    return False


def test_no_module_keeps_emulator_state_in_a_global():
    """State lives in ``state.EmulatorState`` (one per LocalAws); a module-level empty container, thread-local or
    ``global`` statement would be a second place for it."""
    found = []
    for name, path in _modules().items():
        tree = ast.parse(path.read_text(), str(path))
        for node in tree.body:
            value = node.value if isinstance(node, (ast.Assign, ast.AnnAssign)) else None
            targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(
                node, ast.AnnAssign) else []
            for target in targets:
                if value is not None and _mutable(value) and isinstance(target, ast.Name) and \
                        (name, target.id) not in NOT_STATE:
                    found.append(f"{name}.{target.id} (line {node.lineno})")
        found += [f"{name}: global {', '.join(n.names)} (line {n.lineno})" for n in ast.walk(tree)
                  if isinstance(n, ast.Global)]
    assert not found, "module-level state in the emulator: " + "; ".join(found)
