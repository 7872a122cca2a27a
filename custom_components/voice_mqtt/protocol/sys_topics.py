"""The broker's own topics: protocol.md section 4, broker health.

mosquitto publishes plain-text figures on `$SYS/broker/...` every sys_interval
(10 s by default). voice_mqtt reads four of them; other brokers publish other
layouts or none. mosquitto also publishes, retained, the state of each of its
bridges to another broker (`1` connected, `0` not) when the bridge's
notifications are on. Pure Python: no Home Assistant import.
"""

from __future__ import annotations

from enum import StrEnum
import math
from typing import Final

from .values import MAX_INTEGER, MAX_NAME_LENGTH, ProtocolError, Rejection


class BrokerFigure(StrEnum):
    """A figure the broker publishes about itself."""

    UPTIME = "uptime"  # seconds since the broker started
    VERSION = "version"
    CLIENTS = "clients"  # clients connected now
    RECEIVED = "received"  # messages received a minute, averaged over a minute


SYS_TOPICS: Final = {
    "$SYS/broker/uptime": BrokerFigure.UPTIME,
    "$SYS/broker/version": BrokerFigure.VERSION,
    "$SYS/broker/clients/connected": BrokerFigure.CLIENTS,
    "$SYS/broker/load/messages/received/1min": BrokerFigure.RECEIVED,
}

type BrokerValue = int | float | str

# mosquitto's default notification topic of a bridge, by its remote client id.
BRIDGE_STATE_FILTER: Final = "$SYS/broker/connection/+/state"
_BRIDGE_PREFIX: Final = "$SYS/broker/connection/"
_BRIDGE_SUFFIX: Final = "/state"


def parse_bridge_state(topic: str, raw: bytes | bytearray | str) -> tuple[str, bool]:
    """Return a bridge's remote client id and whether it is connected, or raise."""
    if not (topic.startswith(_BRIDGE_PREFIX) and topic.endswith(_BRIDGE_SUFFIX)):
        raise ProtocolError(Rejection.INVALID_TOPIC, "not a bridge's state")
    client_id = topic[len(_BRIDGE_PREFIX) : -len(_BRIDGE_SUFFIX)]
    if not client_id or "/" in client_id:
        raise ProtocolError(Rejection.INVALID_ID, "not a bridge's client id")
    value = bytes(raw) if isinstance(raw, bytes | bytearray) else raw.encode()
    match value.strip():
        case b"1":
            return client_id, True
        case b"0":
            return client_id, False
        case _:
            raise ProtocolError(
                Rejection.INVALID_FIELD, "a bridge's state must be 0 or 1"
            )


def _invalid(figure: BrokerFigure, expected: str) -> ProtocolError:
    return ProtocolError(Rejection.INVALID_FIELD, f"{figure} must be {expected}")


def parse_sys_message(
    topic: str, raw: bytes | bytearray | str
) -> tuple[BrokerFigure, BrokerValue]:
    """Return which figure a $SYS message gives and its value, or raise.

    Uptime is "1234 seconds" (mosquitto) or "1234"; counts are whole numbers;
    the load is a decimal ("12.34"); the version is a short text.
    """
    if (figure := SYS_TOPICS.get(topic)) is None:
        raise ProtocolError(Rejection.UNKNOWN_TYPE, "not a broker figure")
    if len(raw) > MAX_NAME_LENGTH:
        raise ProtocolError(Rejection.OVERSIZE, f"{len(raw)} bytes")
    if isinstance(raw, bytes | bytearray):
        try:
            text = bytes(raw).decode("utf-8").strip()
        except UnicodeDecodeError as err:
            raise ProtocolError(Rejection.NOT_UTF8, str(err)) from None
    else:
        text = raw.strip()
    match figure:
        case BrokerFigure.VERSION:
            if not text or not text.isprintable():
                raise _invalid(figure, "printable text")
            return figure, text
        case BrokerFigure.UPTIME:
            number, _, unit = text.partition(" ")
            if unit not in ("", "seconds"):
                raise _invalid(figure, "a number of seconds")
            return figure, _count(figure, number)
        case BrokerFigure.CLIENTS:
            return figure, _count(figure, text)
        case BrokerFigure.RECEIVED:
            try:
                rate = float(text)
            except ValueError:
                raise _invalid(figure, "a number") from None
            if not math.isfinite(rate) or rate < 0:
                raise ProtocolError(Rejection.OUT_OF_RANGE, f"{figure} out of range")
            return figure, rate


def _count(figure: BrokerFigure, text: str) -> int:
    if not text.isascii() or not text.isdigit():
        raise _invalid(figure, "a whole number of at least 0")
    value = int(text)
    if value > MAX_INTEGER:
        raise ProtocolError(Rejection.OUT_OF_RANGE, f"{figure} beyond 64 bits")
    return value
