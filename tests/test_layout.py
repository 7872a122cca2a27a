"""The layout ARCHITECTURE.md describes, checked: layers, names, the table.

The integration's top level holds the file names Home Assistant knows; every
other concern is a package. Imports point down the layers only, and the pure
packages import nothing from Home Assistant. How long a module is, is not
checked: a module is split when it holds two concerns.
"""

from __future__ import annotations

import ast
from pathlib import Path
import re
import subprocess
import sys
import textwrap

from homeassistant.const import Platform
import pytest

from custom_components.voice_mqtt import PLATFORMS

ROOT = Path(__file__).parents[1]
PACKAGE = ROOT / "custom_components" / "voice_mqtt"
MODULES = sorted(PACKAGE.rglob("*.py"))
ARCHITECTURE = (ROOT / "ARCHITECTURE.md").read_text()

# The names Home Assistant, and its developers, know at an integration's top
# level; besides them only the entity platforms voice_mqtt has.
HOME_ASSISTANT_NAMES = frozenset(
    {
        "__init__",
        "const",
        "compat",
        "config_flow",
        "diagnostics",
        "repairs",
        "logbook",
        "services",
        "websocket_api",
        "entity",
        "device_trigger",
        "device_condition",
        "hub",
        "card",
    }
)
MAX_TOP_LEVEL = 20

# Bottom to top: a module may import its own layer and those below, never one
# above. A package is one unit: its modules import each other freely. A new
# package or top-level module must be placed here (and in ARCHITECTURE.md).
LAYERS: tuple[frozenset[str], ...] = (
    frozenset({"const", "compat", "protocol"}),
    frozenset({"models"}),
    frozenset({"broker", "dispatch"}),
    frozenset({"issues", "registry"}),
    frozenset({"fleet", "conversations"}),
    frozenset({"hub", "card"}),
    frozenset({"entity", "services", "diagnostics", "config_flow"}),
    frozenset(
        {
            "websocket_api",
            "sensor",
            "binary_sensor",
            "event",
            "media_player",
            "button",
            "logbook",
            "repairs",
            "device_trigger",
            "device_condition",
        }
    ),
    frozenset({"__init__"}),
)
# Pure Python: nothing from Home Assistant, or from outside the standard
# library, and only from each other; the simulator loads them without it.
PURE = frozenset({"const", "protocol", "models"})


def _unit(path: Path) -> str:
    """Return the package a module is in, or a top-level module's name."""
    relative = path.relative_to(PACKAGE)
    return relative.parts[0] if len(relative.parts) > 1 else relative.stem


def _layer(unit: str) -> int:
    for index, layer in enumerate(LAYERS):
        if unit in layer:
            return index
    pytest.fail(f"{unit} is in no layer of tests/test_layout.py")


def _ids(path: Path) -> str:
    return str(path.relative_to(PACKAGE))


def _relative_imports(path: Path) -> list[str]:
    """Return the units a module imports from within the integration."""
    depth = len(path.relative_to(PACKAGE).parts) - 1  # 0 at the top level
    units = []
    for node in ast.walk(ast.parse(path.read_text())):
        if not isinstance(node, ast.ImportFrom) or node.level == 0:
            continue
        if node.level - 1 < depth:  # within its own package
            units.append(_unit(path))
        elif node.module:
            units.append(node.module.partition(".")[0])
        else:  # `from .. import name`: name is the unit
            units += [alias.name for alias in node.names]
    return units


def _absolute_imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    return {
        alias.name.partition(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    } | {
        (node.module or "").partition(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.level == 0
    }


def test_the_top_level_holds_home_assistant_names_only() -> None:
    top = {path.stem for path in PACKAGE.glob("*.py")}
    platforms = {platform.value for platform in PLATFORMS}
    assert top <= HOME_ASSISTANT_NAMES | platforms, top - HOME_ASSISTANT_NAMES
    assert len(top) <= MAX_TOP_LEVEL


def test_every_module_has_a_layer() -> None:
    placed = set().union(*LAYERS)
    assert {_unit(path) for path in MODULES} == placed


@pytest.mark.parametrize("path", MODULES, ids=_ids)
def test_no_import_runs_back_up(path: Path) -> None:
    unit = _unit(path)
    above = [
        imported
        for imported in _relative_imports(path)
        if _layer(imported) > _layer(unit)
    ]
    assert not above, f"{unit} imports from a layer above it: {above}"


@pytest.mark.parametrize(
    "path", [path for path in MODULES if _unit(path) in PURE], ids=_ids
)
def test_pure_packages_import_the_standard_library_and_each_other(
    path: Path,
) -> None:
    outside = _absolute_imports(path) - set(sys.stdlib_module_names) - {"__future__"}
    assert not outside, f"{_ids(path)} imports {outside}"
    assert set(_relative_imports(path)) <= PURE


@pytest.mark.parametrize("path", sorted((PACKAGE / "protocol").glob("*.py")), ids=_ids)
def test_the_protocol_imports_only_itself(path: Path) -> None:
    assert set(_relative_imports(path)) <= {"protocol"}


def test_the_pure_packages_load_without_home_assistant(tmp_path: Path) -> None:
    """As the simulator loads them: with Home Assistant impossible to import."""
    script = textwrap.dedent(
        """
        import sys

        class NoHomeAssistant:
            def find_spec(self, name, path=None, target=None):
                if name.partition(".")[0] == "homeassistant":
                    raise ImportError("no Home Assistant here")
                return None

        sys.meta_path.insert(0, NoHomeAssistant())
        from simulator.wire import load_pure

        models = load_pure("models")
        from voice_mqtt_pure.models.room import Room
        from voice_mqtt_pure.models.device import Device
        from voice_mqtt_pure.models.settings import Settings
        from voice_mqtt_pure.const import Scope

        assert Room("kitchen").room_id == "kitchen"
        assert Device("VR_1").online is None
        assert Settings.from_entry({}, {}).scheme.voice_root == "v1/voice_assistant"
        assert Scope.ROOM == "room"
        assert not [name for name in sys.modules if name.startswith("homeassistant")]
        print("pure")
        """
    )
    result = subprocess.run(  # noqa: S603 - this interpreter, our own script
        [sys.executable, "-c", script],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "pure"


def test_no_module_carries_the_name_of_a_platform_it_is_not() -> None:
    # hassfest takes a module named after an entity platform for that platform.
    platforms = {platform.value for platform in Platform}
    ours = {platform.value for platform in PLATFORMS}
    names = {path.stem for path in MODULES} | {_unit(path) for path in MODULES}
    assert names & platforms == ours


@pytest.mark.parametrize(
    "path",
    [path for path in MODULES if path.name != "__init__.py" or path.parent == PACKAGE],
    ids=_ids,
)
def test_architecture_names_every_module(path: Path) -> None:
    assert f"`{_ids(path)}`" in ARCHITECTURE, (
        f"{_ids(path)} is missing from ARCHITECTURE.md's table of modules"
    )


@pytest.mark.parametrize(
    "package",
    sorted(path.name for path in PACKAGE.iterdir() if (path / "__init__.py").exists()),
)
def test_architecture_names_every_package(package: str) -> None:
    # In the tree of "The shape", with what it holds.
    assert re.search(rf"^ +{package}/ +\S", ARCHITECTURE, re.MULTILINE)


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
    if _unit(path) == "compat":
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
