"""The shape of the house (docs/architecture.md), read from the code's own imports.

Every module stands on a floor; it may import only modules on its own floor or below, and on
its own floor only from its own app or an app listed before it in APPS. No import cycle between
modules, counting imports inside functions too (a lazy import that only hides a cycle is still
one). No underscore-private name is imported from another module.

A new module that lands on no floor fails the test: say where it belongs.
"""

from __future__ import annotations

import ast
import fnmatch
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
APPS = (
    "fund",
    "outbox",
    "readlog",
    "priorities",
    "countries",
    "grants",
    "reports",
    "seeds",
    "config",
    "bench",
)

# Floor by the module's role, ground floor first; the first pattern that matches decides.
FLOORS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("kernel", ("fund", "fund.*")),
    (
        "models",
        ("*.models", "*.models.*", "countries.reference", "priorities.reference", "grants.cycles"),
    ),
    ("selectors", ("*.selectors", "*.selectors.*", "reports.iati.facts")),
    (
        "services",
        (
            "*.services",
            "*.services.*",
            "grants.notifications",
            "reports.mail",
            "reports.schedules",
            "reports.iati.*",
            "readlog.inspection",
        ),
    ),
    (
        "doors",
        (
            "*.admin",
            "*.admin.*",
            "*.api",
            "*.api.*",
            "*.resources",
            "*.tasks",
            "*.management.*",
            "*.templatetags.*",
            "*.apps",
            "*.middleware",
            "*.views",
            "readlog.urls",
            "config.checks",
            "seeds",
            "seeds.*",
        ),
    ),
    ("top", ("config", "config.*", "bench", "bench.*", "manage")),
)
FLOOR_NAMES = [name for name, _patterns in FLOORS]


def project_modules() -> dict[str, Path]:
    modules = {}
    for app in APPS:
        for path in (ROOT / app).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            parts = path.relative_to(ROOT).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            modules[".".join(parts)] = path
    modules["manage"] = ROOT / "manage.py"
    return modules


MODULES = project_modules()


def is_empty_package(module: str) -> bool:
    """A package's `__init__` that imports nothing holds nothing: it stands nowhere."""
    path = MODULES[module]
    return path.name == "__init__.py" and not any(
        isinstance(node, ast.Import | ast.ImportFrom)
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
    )


def floor_of(module: str) -> int | None:
    if is_empty_package(module):
        return 0
    for number, (_name, patterns) in enumerate(FLOORS):
        if any(fnmatch.fnmatchcase(module, pattern) for pattern in patterns):
            return number
    return None


def app_of(module: str) -> int:
    return APPS.index(module.split(".")[0]) if module != "manage" else len(APPS)


def imports_of(module: str) -> list[tuple[str, list[str], int]]:
    """(imported project module, names taken from it, line) for every import in the file."""
    path = MODULES[module]
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] in APPS:
                    found.append((alias.name, [], node.lineno))
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join([*base, *([node.module] if node.module else [])])
            else:
                target = node.module or ""
            if target.split(".")[0] not in APPS:
                continue
            names = []
            for alias in node.names:
                if f"{target}.{alias.name}" in MODULES:  # `from grants import services`
                    found.append((f"{target}.{alias.name}", [], node.lineno))
                else:
                    names.append(alias.name)
            if names:
                found.append((target, names, node.lineno))
    return [(target, names, line) for target, names, line in found if target in MODULES]


GRAPH = {module: imports_of(module) for module in MODULES}


def test_every_module_stands_on_a_floor():
    homeless = sorted(module for module in MODULES if floor_of(module) is None)
    assert not homeless, f"add these modules to FLOORS: {homeless}"


def test_nothing_imports_upward():
    upward = []
    for module, imports in GRAPH.items():
        here = (floor_of(module), app_of(module))
        for target, _names, line in imports:
            there = (floor_of(target), app_of(target))
            if there > here:
                upward.append(
                    f"{module}:{line} ({FLOOR_NAMES[here[0]]}) imports {target} "
                    f"({FLOOR_NAMES[there[0]]})"
                )
    assert not upward, "imports that run back up:\n" + "\n".join(upward)


def parents(module: str) -> set[str]:
    """The packages whose `__init__` runs before a module of theirs can be imported."""
    parts = module.split(".")
    return {".".join(parts[:n]) for n in range(1, len(parts))} & set(MODULES)


def test_no_import_cycle():
    # Importing a.b.c runs a/__init__ and a/b/__init__ first: a cycle through another
    # package's face is a cycle too (a module's own packages are already being imported).
    graph = {
        module: {
            dep
            for target, _n, _l in imports
            for dep in {target, *parents(target)}
            if dep != module and dep not in parents(module)
        }
        for module, imports in GRAPH.items()
    }
    try:
        TopologicalSorter(graph).prepare()
    except CycleError as error:
        raise AssertionError(f"import cycle: {' -> '.join(error.args[1])}") from None


def test_no_private_name_crosses_a_module():
    crossing = [
        f"{module}:{line} takes {name} from {target}"
        for module, imports in GRAPH.items()
        for target, names, line in imports
        for name in names
        if name.startswith("_") and target != module
    ]
    assert not crossing, "\n".join(crossing)


def test_the_check_sees_a_planted_upward_import_and_cycle():
    """The check itself can fail: a model importing a service is caught."""
    assert (floor_of("grants.services.plans"), app_of("grants.services.plans")) > (
        floor_of("grants.models"),
        app_of("grants.models"),
    )
    planted = {"a": {"b"}, "b": {"a"}}
    try:
        TopologicalSorter(planted).prepare()
    except CycleError:
        return
    raise AssertionError("a planted cycle was not found")
