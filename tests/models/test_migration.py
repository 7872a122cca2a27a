"""The v0 to v1 migration: a message heard on both layouts counts once."""

from __future__ import annotations

from hypothesis import given, strategies as st

from custom_components.voice_mqtt.models.migration import DuplicateFilter
from custom_components.voice_mqtt.protocol import Layout


def test_duplicate_filter_pairs_across_layouts_only() -> None:
    duplicates = DuplicateFilter(window=10)
    assert not duplicates.is_duplicate(Layout.CURRENT, "a", 0)
    assert not duplicates.is_duplicate(Layout.CURRENT, "a", 0), "same layout twice"
    assert duplicates.is_duplicate(Layout.LEGACY, "a", 1)
    assert duplicates.is_duplicate(Layout.LEGACY, "a", 1)
    assert not duplicates.is_duplicate(Layout.LEGACY, "a", 1), "both twins used"
    assert len(duplicates) == 3  # paired entries wait for their expiry
    # Unpaired messages expire after the window.
    assert not duplicates.is_duplicate(Layout.CURRENT, "b", 20)
    assert len(duplicates) == 1


def test_duplicate_filter_is_bounded() -> None:
    duplicates = DuplicateFilter(window=10, max_pending=3)
    for key in range(5):
        duplicates.is_duplicate(Layout.CURRENT, key, 0)
    assert len(duplicates) == 3
    assert not duplicates.is_duplicate(Layout.LEGACY, 0, 0), "forgotten"
    assert duplicates.is_duplicate(Layout.LEGACY, 4, 0)


@given(
    st.lists(st.tuples(st.sampled_from(list(Layout)), st.integers(0, 3)), max_size=60)
)
def test_duplicate_filter_keeps_one_of_each_pair(
    arrivals: list[tuple[Layout, int]],
) -> None:
    # Every message sent once per layout is kept exactly once, in any order.
    duplicates = DuplicateFilter(window=1000)
    kept: dict[int, int] = {}
    sent: dict[tuple[Layout, int], int] = {}
    for layout, key in arrivals:
        sent[(layout, key)] = sent.get((layout, key), 0) + 1
        if not duplicates.is_duplicate(layout, key, 0):
            kept[key] = kept.get(key, 0) + 1
    for key in {key for _, key in arrivals}:
        current = sent.get((Layout.CURRENT, key), 0)
        legacy = sent.get((Layout.LEGACY, key), 0)
        assert kept[key] == max(current, legacy)
