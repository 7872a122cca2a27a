"""Which devices share each session: the groups media players show."""

from __future__ import annotations

from hypothesis import given, strategies as st

from custom_components.voice_mqtt.models.sessions import Sessions


def test_joining_and_leaving_say_whose_group_changed() -> None:
    sessions = Sessions()
    assert sessions.place("VR_1", "S_1") == set(), "alone: nobody else to tell"
    assert sessions.place("VR_2", "S_1") == {"VR_1"}
    assert sessions.place("VR_3", "S_2") == set()
    assert sessions.members("S_1") == {"VR_1", "VR_2"}
    assert sessions.place("VR_2", "S_1") == set(), "a repeated status moves nobody"
    # From one session to another: the members of both.
    assert sessions.place("VR_2", "S_2") == {"VR_1", "VR_3"}
    assert sessions.members("S_1") == {"VR_1"}
    assert sessions.session_of("VR_2") == "S_2"
    assert sessions.place("VR_1", None) == set()
    assert sessions.members("S_1") == frozenset()
    assert sessions.session_of("VR_1") is None
    assert sessions.forget("VR_3") == {"VR_2"}
    assert sessions.forget("VR_9") == set(), "never placed"


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["A", "B", "C", "D"]),
            st.sampled_from([None, "S_1", "S_2"]),
        )
    )
)
def test_the_index_is_what_the_statuses_said(
    moves: list[tuple[str, str | None]],
) -> None:
    sessions = Sessions()
    said: dict[str, str | None] = {}
    for device, session in moves:
        before = {
            other: sessions.members(where)
            for other, where in said.items()
            if where is not None
        }
        changed = sessions.place(device, session)
        said[device] = session
        after = {
            other: sessions.members(where)
            for other, where in said.items()
            if where is not None
        }
        # Exactly the others whose group is not what it was are told.
        assert changed == {
            other
            for other in set(before) | set(after)
            if other != device and before.get(other) != after.get(other)
        }
    for device, session in said.items():
        assert sessions.session_of(device) == session
        if session is not None:
            assert device in sessions.members(session)
