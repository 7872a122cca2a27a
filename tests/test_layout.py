"""The layout ARCHITECTURE.md describes, checked: sizes, layers, module names."""

from __future__ import annotations

import ast
from pathlib import Path

from homeassistant.const import Platform
import pytest

from custom_components.voice_mqtt import PLATFORMS

PACKAGE = Path(__file__).parents[1] / "custom_components" / "voice_mqtt"
MODULES = sorted(PACKAGE.rglob("*.py"))
# The dashboard card's ES modules, served as they are: the same size rule.
SCRIPTS = sorted((PACKAGE / "frontend").glob("*.js"))

MAX_MODULE_LINES = 400
MAX_CLASS_LINES = 250
MAX_FUNCTION_LINES = 60

# Bottom to top: a module may import its own layer and those below, never
# one above. A new module must be placed here (and in ARCHITECTURE.md).
LAYERS: tuple[frozenset[str], ...] = (
    frozenset({"const", "protocol", "compat"}),
    frozenset({"presence"}),
    frozenset({"turns"}),
    frozenset({"room", "fleet", "migration"}),
    frozenset(
        {
            "listeners",
            "limits",
            "settings",
            "stats",
            "connection",
            "conversations",
            "journal",
            "fleet_health",
            "issues",
            "health",
            "registry",
            "persistence",
            "timers",
            "snapshot",
            "answers",
            "broker_health",
            "card",
            "history",
        }
    ),
    frozenset({"hub"}),
    frozenset(
        {"entity", "services", "calls", "history_api", "diagnostics", "config_flow"}
    ),
    frozenset(
        {
            "sensor",
            "binary_sensor",
            "event",
            "logbook",
            "repairs",
            "automation_targets",
            "device_trigger",
            "device_condition",
        }
    ),
    frozenset({"__init__"}),
)


def _name(path: Path) -> str:
    relative = path.relative_to(PACKAGE)
    return relative.parts[0] if len(relative.parts) > 1 else relative.stem


def _layer(module: str) -> int:
    for index, layer in enumerate(LAYERS):
        if module in layer:
            return index
    pytest.fail(f"{module} is in no layer of tests/test_layout.py")


def _ids(path: Path) -> str:
    return str(path.relative_to(PACKAGE))


@pytest.mark.parametrize("path", MODULES, ids=_ids)
def test_every_module_is_readable_in_one_sitting(path: Path) -> None:
    source = path.read_text()
    assert len(source.splitlines()) <= MAX_MODULE_LINES
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ClassDef):
            limit = MAX_CLASS_LINES
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            limit = MAX_FUNCTION_LINES
        else:
            continue
        assert node.end_lineno is not None
        length = node.end_lineno - node.lineno + 1
        assert length <= limit, f"{node.name} has {length} lines"


@pytest.mark.parametrize("path", SCRIPTS, ids=_ids)
def test_every_script_of_the_card_is_readable_in_one_sitting(path: Path) -> None:
    assert len(path.read_text().splitlines()) <= MAX_MODULE_LINES


@pytest.mark.parametrize("path", MODULES, ids=_ids)
def test_no_import_runs_back_up(path: Path) -> None:
    module = _name(path)
    if module == "protocol":
        return  # checked by test_protocol: the package imports only itself
    layer = _layer(module)
    above = [
        node.module
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.ImportFrom)
        and node.level == 1
        and node.module is not None
        and _layer(node.module.partition(".")[0]) > layer
    ]
    assert not above, f"{module} imports from a layer above it: {above}"


def test_every_module_has_a_layer() -> None:
    placed = set().union(*LAYERS)
    assert {_name(path) for path in MODULES} == placed


def test_no_module_carries_the_name_of_a_platform_it_is_not() -> None:
    # hassfest takes a module named after an entity platform for that platform.
    platforms = {platform.value for platform in Platform}
    ours = {platform.value for platform in PLATFORMS}
    assert {_name(path) for path in MODULES} & platforms == ours


# What Home Assistant 2026.8, the oldest release supported (hacs.json), lacks:
# modules, and names a module may import only for annotations. Only compat.py
# takes the modules, with a fallback; so the suite on the newest release
# catches a new use before the one on the oldest does.
NOT_IN_OLDEST_MODULES = ("probatio", "homeassistant.components.binary_sensor.const")
NOT_IN_OLDEST_NAMES = {"AnyDeviceEntry"}


def _runtime_imports(tree: ast.Module) -> list[ast.Import | ast.ImportFrom]:
    """Return the imports that run, leaving out `if TYPE_CHECKING:` blocks."""
    typing_only = {
        id(inner)
        for node in ast.walk(tree)
        if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING"
        for statement in node.body
        for inner in ast.walk(statement)
    }
    return [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom) and id(node) not in typing_only
    ]


@pytest.mark.parametrize("path", MODULES, ids=_ids)
def test_only_compat_imports_what_the_oldest_home_assistant_lacks(path: Path) -> None:
    if _name(path) == "compat":
        return
    found = []
    for node in _runtime_imports(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        else:
            modules = [node.module or ""] if node.level == 0 else []
            found += [a.name for a in node.names if a.name in NOT_IN_OLDEST_NAMES]
        found += [name for name in modules if name.startswith(NOT_IN_OLDEST_MODULES)]
    assert not found, f"take these from compat.py (or for annotations only): {found}"
