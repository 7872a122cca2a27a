"""Which devices share each session: the groups their media players show.

Pure Python (no Home Assistant imports). A device's status names its session
(protocol.md section 4); every device that names the same one is in its
group. Kept as an index so that a group is read without going through the
fleet, and so that a device moving between sessions says exactly whose
group changed.
"""

from __future__ import annotations


class Sessions:
    """The devices in each session, as their statuses last said."""

    def __init__(self) -> None:
        """Start with no session."""
        self._members: dict[str, set[str]] = {}
        self._session_of: dict[str, str] = {}

    def place(self, device_id: str, session_id: str | None) -> set[str]:
        """Put a device in a session (None: in none); return whose group changed.

        The answer holds the other members of the session it left and of the
        one it joined, not the device itself; it is empty when the device
        stays where it was.
        """
        old = self._session_of.get(device_id)
        if old == session_id:
            return set()
        changed: set[str] = set()
        if old is not None:
            members = self._members[old]
            members.discard(device_id)
            changed |= members
            if not members:
                del self._members[old]
        if session_id is None:
            del self._session_of[device_id]
        else:
            self._session_of[device_id] = session_id
            members = self._members.setdefault(session_id, set())
            changed |= members
            members.add(device_id)
        return changed

    def forget(self, device_id: str) -> set[str]:
        """Take a removed device out of its session; return whose group changed."""
        return self.place(device_id, None)

    def session_of(self, device_id: str) -> str | None:
        """Return the session a device is in, None if in none."""
        return self._session_of.get(device_id)

    def members(self, session_id: str) -> frozenset[str]:
        """Return the ids of the devices in a session (none if it has none)."""
        return frozenset(self._members.get(session_id, ()))
