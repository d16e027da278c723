"""How one operation's purchases are split into concurrent calls (``lanes_of_distinct_sizes``)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from lead_assets.pipeline.enrich import lanes_of_distinct_sizes


@given(
    n=st.integers(min_value=0, max_value=700),
    group=st.integers(min_value=1, max_value=60),
    lanes=st.integers(min_value=1, max_value=10),
)
def test_every_key_is_in_exactly_one_group_and_each_lane_has_one_size(
    n: int, group: int, lanes: int
) -> None:
    keys = [f"k{i}" for i in range(n)]
    out = lanes_of_distinct_sizes(keys, group, lanes)
    groups = [part for lane in out for part, _ in lane]
    assert sorted(k for part in groups for k in part) == sorted(keys)
    assert all(1 <= len(part) <= group for part in groups)
    for k, lane in enumerate(out):
        # Every group of a lane but its last has the lane's size: one lane runs one call at a time,
        # so the calls in flight together have different sizes whenever group > lanes.
        assert len({len(part) for part, _ in lane[:-1]}) <= 1
        if lane[:-1]:
            assert len(lane[0][0]) == max(group - k, 1)
    assert all(request is None for lane in out for _, request in lane)


def test_the_same_keys_give_the_same_groups() -> None:
    keys = [f"k{i}" for i in range(333)]
    assert lanes_of_distinct_sizes(keys, 50, 4) == lanes_of_distinct_sizes(list(keys), 50, 4)
    sizes = [len(lane[0][0]) for lane in lanes_of_distinct_sizes(keys, 50, 4)]
    assert sizes == [50, 49, 48, 47]
