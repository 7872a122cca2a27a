"""Where the Home Assistant releases voice_mqtt supports keep things apart.

voice_mqtt runs on Home Assistant 2026.8 and later (hacs.json). The package
takes these names from here only: each is looked up where the newest release
keeps it, then where 2026.8 does. mypy checks against the newest; the suite
runs on both (scripts/test --ha oldest).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from homeassistant.components.binary_sensor.const import BinarySensorDeviceClass
    import probatio as vol
else:
    try:
        # Home Assistant validates with probatio from 2026.9 on.
        import probatio as vol
    except ModuleNotFoundError:  # 2026.8: voluptuous, whose API probatio keeps
        import voluptuous as vol
    try:
        from homeassistant.components.binary_sensor.const import (
            BinarySensorDeviceClass,
        )
    except ModuleNotFoundError:  # before 2026.10 the package itself held it
        from homeassistant.components.binary_sensor import BinarySensorDeviceClass

__all__ = ["BinarySensorDeviceClass", "vol"]
