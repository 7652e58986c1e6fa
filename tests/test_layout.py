"""The package layout of issue 9: no import circle in ``ckanext/``, plugins that only wire, one reader per option."""
from __future__ import annotations

import ast
import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
PKG = ROOT / "ckanext" / "sharing"


def _module_name(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path, modules: set[str]) -> set[str]:
    """Every ckanext.sharing module imported anywhere in the file (function-level imports included)."""
    found: set[str] = set()
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        else:
            continue
        found.update(n for n in names if n in modules)
    return found


def _graph() -> dict[str, set[str]]:
    files = {_module_name(p): p for p in PKG.rglob("*.py")}
    modules = set(files)
    graph = {}
    for name, path in files.items():
        deps = _imports(path, modules)
        # importing a.b.c runs a/__init__ and a/b/__init__ too (not counted for the module's own packages,
        # which Python has already started importing when the module runs)
        own = {".".join(name.split(".")[:i]) for i in range(1, name.count(".") + 1)}
        deps |= {".".join(d.split(".")[:i]) for d in set(deps) for i in range(3, d.count(".") + 1)} - own
        graph[name] = {d for d in deps if d != name and d in modules}
    return graph


def find_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every import circle found by a depth-first walk of the graph."""
    state: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[list[str]] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for dep in sorted(graph.get(node, ())):
            if state.get(dep) == 1:
                cycles.append(stack[stack.index(dep):] + [dep])
            elif dep not in state:
                visit(dep)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node)
    return cycles


def test_no_import_circle():
    """No module of ckanext/sharing imports itself through others (checked on the source, all imports)."""
    cycles = find_cycles(_graph())
    assert cycles == [], "\n".join(" -> ".join(c) for c in cycles)


def test_the_circle_check_can_fail():
    """The circle finder reports a planted circle, and the real graph has edges to check."""
    assert find_cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == [["a", "b", "c", "a"]]
    graph = _graph()
    assert "ckanext.sharing.access.facts" in graph["ckanext.sharing.workflow.transitions"]


def test_plugins_only_wire():
    """plugin.py files hold one class of one-line delegations: no loops, no queries, no logic."""
    for path in PKG.rglob("plugin.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            assert not isinstance(node, (ast.For, ast.While, ast.If, ast.Try, ast.With)), (path, node.lineno)
        classes = [n for n in tree.body if isinstance(n, ast.ClassDef)]
        assert len(classes) == 1, path


def test_options_are_read_only_through_config():
    """Every ckanext.sharing.* option is declared, and only config.py names the keys (no second default)."""
    declared = {o["key"] for g in yaml.safe_load((PKG / "config_declaration.yaml").read_text())["groups"]
                for o in g["options"]}
    readers = (PKG / "config.py").read_text(encoding="utf-8")
    for name in declared:
        assert f'"{name.split(".", 2)[2]}"' in readers, f"no typed reader for {name}"
    pattern = re.compile(r"config\.get\(\s*[\"']ckanext\.sharing\.|config\[\s*[\"']ckanext\.sharing\.")
    offenders = [str(p.relative_to(ROOT)) for p in PKG.rglob("*.py") if p.name != "config.py"
                 and pattern.search(p.read_text(encoding="utf-8"))]
    assert offenders == []
