"""What a simulated device answers to a command that asks for an answer.

protocol.md section 4: a command whose payload carries a messageId is answered
on the device's response topic with the same messageId. Devices answer
`get_status` with their status, uptime and firmware, the commands they act on
with their new status, and anything else with an error.
"""

from __future__ import annotations

from typing import Any, Final

from .script import ACTED_ON, DeviceState

FIRMWARE: Final = "simulator-1.0.0"


def answer_payload(
    command: str,
    data: dict[str, Any],
    state: DeviceState,
    *,
    uptime: int,
    refusal: str | None = None,
    position_ms: int | None = None,
) -> dict[str, Any] | None:
    """Return the answer to a command, or None when it asked for none.

    state is the device's state after the command; refusal, why it refused;
    position_ms where it has got to now (default: where the state says).
    """
    message_id = data.get("messageId")
    if not isinstance(message_id, str) or not message_id:
        return None
    if refusal is not None:
        return _answer(message_id, "error", {"error": refusal})
    if command == "get_status":
        result = {
            "status": state.status,
            "positionMs": state.position_ms if position_ms is None else position_ms,
            "sessionId": state.session_id,
            "uptime": uptime,
            "firmware": FIRMWARE,
        }
        return _answer(message_id, "success", result)
    if command in ACTED_ON:
        return _answer(message_id, "success", {"status": state.status})
    return _answer(message_id, "error", {"error": f"unknown command {command}"})


def _answer(message_id: str, status: str, result: dict[str, Any]) -> dict[str, Any]:
    return {"messageId": message_id, "status": status, "result": result}
