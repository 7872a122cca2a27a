"""What scripts/soak measures of a running Home Assistant, and how it reads it.

The probe of `/api/` and of the process's memory, what home-assistant.log
says of the soak, the device registry and the entry's diagnostics.
Everything but ApiProbe is a plain function of text or data, tested without
Home Assistant.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
import threading
import time
from typing import Any, Final

from devkit import DOMAIN
from devkit.hass.api import HomeAssistantApi
from devkit.hass.log import log_records
from devkit.processes import rss_bytes

# Option keys that may hold the integration's caps on new rooms and devices;
# the first one found anywhere in the diagnostics (outside "messages") counts.
DEVICE_CAP_KEYS: Final = ("max_devices", "device_cap", "device_limit", "devices_cap")
ROOM_CAP_KEYS: Final = ("max_rooms", "room_cap", "room_limit", "rooms_cap")


@dataclass
class ApiProbe:
    """Asks `GET /api/` every interval seconds; keeps the slowest answer.

    A failed or timed-out request counts as an answer as slow as it took.
    It also samples the memory of the Home Assistant process, for the peak.
    """

    api: HomeAssistantApi
    pid: int
    interval: float = 0.5
    timeout: float = 30.0
    refresh: Callable[[HomeAssistantApi], None] | None = None
    probes: int = 0
    failures: int = 0
    slowest: float = 0.0
    slowest_at: float = 0.0  # seconds after start()
    peak_rss: int = 0
    last_error: str = ""
    _stop: threading.Event = field(default_factory=threading.Event, repr=False)
    _thread: threading.Thread | None = field(default=None, repr=False)
    _started: float = 0.0

    def start(self) -> None:
        """Begin probing in a thread of its own."""
        self._started = time.monotonic()
        self._thread = threading.Thread(
            target=self._run, name="soak-probe", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        """Stop probing; the figures stay."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    def _run(self) -> None:
        token_at = time.monotonic()
        while not self._stop.wait(self.interval):
            if self.refresh is not None and time.monotonic() - token_at > 900:
                self.refresh(self.api)  # access tokens live 30 minutes
                token_at = time.monotonic()
            self.probe_once()

    def probe_once(self) -> None:
        """Ask once and note how long it took."""
        began = time.monotonic()
        try:
            answer = self.api.call("GET", "/api/", timeout=self.timeout)
        except Exception as err:  # noqa: BLE001 - any failure is a slow answer
            self.failures += 1
            self.last_error = f"{type(err).__name__}: {err}"[:200]
        else:
            if not isinstance(answer, dict) or "message" not in answer:
                self.failures += 1
                self.last_error = f"unexpected answer {answer!r:.80}"
        took = time.monotonic() - began
        self.probes += 1
        if took > self.slowest:
            self.slowest, self.slowest_at = took, began - self._started
        self.peak_rss = max(self.peak_rss, rss_bytes(self.pid))


@dataclass
class LogFindings:
    """What the log says about the soak."""

    tracebacks: int = 0  # voice_mqtt's anywhere, any other after the start
    tracebacks_about_voice_mqtt: int = 0
    errors_about_voice_mqtt: int = 0  # ERROR or CRITICAL records
    warnings_from_voice_mqtt: int = 0
    startup_tracebacks_elsewhere: int = 0  # not counted: missing requirements
    records_since: int = 0  # every record once the traffic began
    warnings_since: int = 0
    kinds: Counter[str] = field(default_factory=Counter)


def scan_log(text: str, since: int = 0) -> LogFindings:
    """Count tracebacks and errors; since is where the soak's traffic began.

    Before it, tracebacks that do not mention voice_mqtt are Home Assistant's
    own start-up (integrations whose requirements are not installed): those
    are reported apart and not counted.
    """
    findings = LogFindings()
    for record in log_records(text):
        about = record.about_voice_mqtt
        if record.offset >= since:
            findings.records_since += 1
            findings.warnings_since += record.level == "WARNING"
        if record.level in ("ERROR", "CRITICAL") and about:
            findings.errors_about_voice_mqtt += 1
        if record.level == "WARNING" and record.logger.startswith(
            f"custom_components.{DOMAIN}"
        ):
            findings.warnings_from_voice_mqtt += 1
        if not record.has_traceback:
            continue
        if not about and record.offset < since:
            findings.startup_tracebacks_elsewhere += 1
            continue
        findings.tracebacks += 1
        findings.tracebacks_about_voice_mqtt += about
        findings.kinds[record.signature()] += 1
    return findings


# The registry and the diagnostics --------------------------------------------


def count_entry_devices(
    devices: list[dict[str, Any]], entry_id: str
) -> tuple[int, int, int]:
    """Return the rooms, voice devices and others of an entry in the registry."""
    counts = Counter[str]()
    for device in devices:
        if entry_id not in device.get("config_entries", ()):
            continue
        scope = "other"
        for domain, identifier in device.get("identifiers", ()):
            if domain != DOMAIN:
                continue
            for kind in ("room", "device"):
                if str(identifier).startswith(f"{entry_id}_{kind}_"):
                    scope = kind
        counts[scope] += 1
    return counts["room"], counts["device"], counts["other"]


def find_cap(data: Mapping[str, Any], keys: tuple[str, ...]) -> tuple[str, int] | None:
    """Return the first of keys found in the diagnostics and its value."""
    stack: list[Mapping[str, Any]] = [data]
    while stack:
        node = stack.pop(0)
        for key in keys:
            value = node.get(key)
            if isinstance(value, int) and not isinstance(value, bool):
                return key, value
        stack.extend(
            value
            for key, value in node.items()
            if isinstance(value, Mapping) and key != "messages"
        )
    return None


def flatten(data: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Return nested counters as `rejected.invalid_json`-style keys."""
    flat: dict[str, Any] = {}
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(flatten(value, f"{name}."))
        else:
            flat[name] = value
    return flat
