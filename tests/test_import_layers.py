"""How the packages of ``functions/`` may import each other, read from the source with ``ast``.

Every import counts, wherever it is written: at module top, under ``if TYPE_CHECKING:`` or inside a
function. An import moved into a function still makes one package need the other; it only hides the
loop until someone calls that function first. The units are the sub-packages (``api``, ``pipeline``,
``state``, ...) and the top-level modules (``config``, ``services``, ``__main__``).

Checked here:
- the unit graph has no cycle (docs/development.md, "Module layout");
- the settings document (``functions/settings``) needs only ``config`` and ``matching``, and the verdict
  engine (``functions/matching``) nothing at all: both stay free of storage, Dataverse and the pipeline;
- the app's services (tables, Dataverse client, profile source, settings store, audit log, run queue)
  are built in ``functions/services.py`` only, apart from the modules that define them and preflight.
"""

from __future__ import annotations

import ast
import itertools
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "functions"

#: What a unit may import, for the units whose purity the architecture promises.
ONLY_IMPORTS = {
    "matching": set(),
    "settings": {"config", "matching"},
}

#: Building a service: these calls belong in functions/services.py.
BUILDERS = {"build_client", "build_table_service", "open_tables", "build_profile_source", "SettingsStore",
            "AuditLog", "RunQueue"}
#: ... and where else they may appear: the modules that define them (and compose their own parts), and
#: preflight, which probes with short timeouts and no retries on purpose.
BUILDERS_ALSO_IN = ("functions/services.py", "functions/dataverse/", "functions/state/",
                    "functions/profiles/", "functions/preflight/checks.py")


@dataclass(frozen=True)
class Import:
    source: str  # the importing unit
    target: str  # the imported unit
    where: str  # path:line


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def unit_of(module: str) -> str | None:
    """``functions.state.tables`` -> ``state``; ``functions.config`` -> ``config``; None outside."""
    parts = module.split(".")
    if parts[0] != PACKAGE:
        return None
    if len(parts) == 1:
        return PACKAGE
    return parts[1]


def imported_modules(node: ast.Import | ast.ImportFrom, module: str, is_package: bool) -> Iterator[str]:
    """The modules an import statement names, relative ones resolved against ``module``."""
    if isinstance(node, ast.Import):
        yield from (alias.name for alias in node.names)
        return
    if node.level:
        base = module.split(".") if is_package else module.split(".")[:-1]
        base = base[: len(base) - (node.level - 1)]
        target = ".".join([*base, node.module] if node.module else base)
    else:
        target = node.module or ""
    yield target
    for alias in node.names:  # ``from functions import config`` names a module, not an attribute
        yield f"{target}.{alias.name}"


def imports(root: Path) -> list[Import]:
    """Every import between two different units of the package under ``root``."""
    found: set[Import] = set()
    known_units = {p.name for p in (root / PACKAGE).iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    known_units |= {p.stem for p in (root / PACKAGE).glob("*.py")}
    for path in sorted((root / PACKAGE).rglob("*.py")):
        module = module_name(path, root)
        source = unit_of(module)
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Import | ast.ImportFrom):
                continue
            for name in imported_modules(node, module, path.name == "__init__.py"):
                target = unit_of(name)
                if target in known_units and target != source:
                    where = f"{path.relative_to(root)}:{node.lineno}"
                    found.add(Import(str(source), target, where))
    return sorted(found, key=lambda i: (i.source, i.target, i.where))


def cycles(edges: list[Import]) -> list[list[str]]:
    """The cycles of the unit graph, each as the units along it (first unit repeated at the end)."""
    graph: dict[str, set[str]] = defaultdict(set)
    for edge in edges:
        graph[edge.source].add(edge.target)
    found: list[list[str]] = []
    seen: set[frozenset[str]] = set()

    def walk(unit: str, path: list[str]) -> None:
        for target in sorted(graph[unit]):
            if target == path[0]:
                loop = frozenset(path)
                if loop not in seen:
                    seen.add(loop)
                    found.append([*path, target])
            elif target not in path and target > path[0]:  # each cycle once, from its smallest unit
                walk(target, [*path, target])

    for start in sorted(graph):
        walk(start, [start])
    return found


def describe(loop: list[str], edges: list[Import]) -> str:
    steps = []
    for source, target in itertools.pairwise(loop):
        sites = [e.where for e in edges if e.source == source and e.target == target]
        steps.append(f"{source} -> {target} ({', '.join(sites[:3])})")
    return "; ".join(steps)


def test_the_packages_import_each_other_without_a_cycle() -> None:
    edges = imports(ROOT)
    assert edges, "no imports found: is ROOT right?"
    loops = cycles(edges)
    assert not loops, "import cycles between packages:\n" + "\n".join(describe(loop, edges) for loop in loops)


def test_the_settings_document_and_the_verdict_engine_import_no_storage_dataverse_or_pipeline() -> None:
    edges = imports(ROOT)
    wrong = [e for e in edges if e.source in ONLY_IMPORTS and e.target not in ONLY_IMPORTS[e.source]]
    assert not wrong, "\n".join(f"{e.source} imports {e.target} at {e.where}" for e in wrong)


def test_services_are_built_in_functions_services_only() -> None:
    calls = []
    for path in sorted((ROOT / PACKAGE).rglob("*.py")):
        relative = path.relative_to(ROOT).as_posix()
        if relative.startswith(BUILDERS_ALSO_IN):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call):
                name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
                if name in BUILDERS:
                    calls.append(f"{relative}:{node.lineno} {name}(...)")
    assert not calls, "build these through functions.services.Services:\n" + "\n".join(calls)


# ------------------------------------------------------------------------ the checks find what they should


def _package(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / PACKAGE / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def test_a_cycle_hidden_in_a_function_is_found(tmp_path: Path) -> None:
    root = _package(tmp_path, {
        "__init__.py": "",
        "config.py": "",
        "state/__init__.py": "",
        "state/store.py": "from functions.settings.model import Settings\n",
        "settings/__init__.py": "",
        "settings/model.py": "from functions import config\n\nclass Settings: ...\n",
        "settings/effective.py": "def load():\n    from functions.state.store import Settings\n",
    })
    edges = imports(root)
    assert {(e.source, e.target) for e in edges} == {("state", "settings"), ("settings", "state"),
                                                     ("settings", "config")}
    assert cycles(edges) == [["settings", "state", "settings"]]
    assert "functions/settings/effective.py:2" in describe(["settings", "state", "settings"], edges)


def test_relative_and_type_checking_imports_count_too(tmp_path: Path) -> None:
    root = _package(tmp_path, {
        "__init__.py": "",
        "api/__init__.py": "from . import routes\n",
        "api/routes.py": "from ..pipeline import run\n",
        "pipeline/__init__.py": "",
        "pipeline/run.py": ("from typing import TYPE_CHECKING\n"
                            "if TYPE_CHECKING:\n    from functions.api import routes\n"),
    })
    edges = imports(root)
    assert {(e.source, e.target) for e in edges} == {("api", "pipeline"), ("pipeline", "api")}
    assert cycles(edges) == [["api", "pipeline", "api"]]
