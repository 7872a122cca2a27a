"""The broker's own topics: protocol.md section 4, broker health.

mosquitto publishes plain-text figures on `$SYS/broker/...` every sys_interval
(10 s by default). voice_mqtt reads four of them; other brokers publish other
layouts or none. Pure Python: no Home Assistant import.
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
