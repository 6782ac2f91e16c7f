"""The direction of imports (ARCHITECTURE.md): domain code never imports web code, handlers never import
other handlers, and no two modules of the app import each other."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "clinic"
# Web code: what reads requests and renders pages, and what wires the app together.
WEB = {"clinic.web", "clinic.templating", "clinic.routes", "clinic.app", "clinic.main", "clinic.targets",
       "clinic.health", "clinic.security", "clinic.accounts.sessions", "clinic.sync.pwa", "clinic.cli",
       "clinic.__main__", "clinic.access_table", "clinic.serving"}


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def is_web(name: str) -> bool:
    return name in WEB or name.endswith(".handlers")


def imports(path: Path, *, top_level_only: bool = False) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    nodes = tree.body if top_level_only else list(ast.walk(tree))
    found: set[str] = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            # `from clinic.visits import handlers` imports the module clinic.visits.handlers
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


MODULES = {module_name(path): path for path in PACKAGE.rglob("*.py")}


def app_imports(name: str, *, top_level_only: bool = False) -> set[str]:
    return {other for other in imports(MODULES[name], top_level_only=top_level_only) if other in MODULES} - {name}


def test_domain_code_never_imports_web_code() -> None:
    wrong = {}
    for name, path in MODULES.items():
        if is_web(name):
            continue
        found = {other for other in imports(path) if is_web(other) or other.split(".")[0] == "starlette"}
        if found:
            wrong[name] = sorted(found)
    assert not wrong, f"domain modules importing web code: {wrong}"


def test_handlers_never_import_other_handlers() -> None:
    wrong = {name: sorted(other for other in app_imports(name) if other.endswith(".handlers"))
             for name in MODULES if name.endswith(".handlers")}
    assert not {name: found for name, found in wrong.items() if found}


def test_no_two_modules_import_each_other() -> None:
    graph = {name: app_imports(name) for name in MODULES}
    state: dict[str, str] = {}
    cycles: list[list[str]] = []

    def visit(name: str, trail: list[str]) -> None:
        state[name] = "open"
        for other in sorted(graph[name]):
            if state.get(other) == "open":
                cycles.append(trail[trail.index(other):] + [other] if other in trail else [name, other])
            elif other not in state:
                visit(other, [*trail, other])
        state[name] = "done"

    for name in sorted(graph):
        if name not in state:
            visit(name, [name])
    # A package's __init__ imported by its own submodules is the package itself, not a cycle.
    real = [cycle for cycle in cycles if not all(c == cycle[0] or c.startswith(cycle[0] + ".") or
                                                 cycle[0].startswith(c + ".") for c in cycle)]
    assert not real, f"import cycles: {real}"


def test_the_layer_rules_see_real_imports() -> None:
    # The checks above would pass vacuously if the parser saw nothing.
    assert "clinic.web" in app_imports("clinic.routes")
    assert "clinic.visits.service" in app_imports("clinic.sync.replay")
    assert is_web("clinic.visits.handlers") and not is_web("clinic.visits.service")
