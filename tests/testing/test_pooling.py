"""Pooled testing as plain functions (R6.3, JS79-14): sizes, splitting, and what each member's
state is after the pool's result and the retests. Hypothesis explores pools of every size."""

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from epigrid.testing import pooling

T0 = datetime(2020, 6, 20, 10, tzinfo=UTC)
sizes = st.sampled_from(pooling.POOL_SIZES)


def test_it_accepts_only_pools_of_5_10_or_20():
    for size in (5, 10, 20):
        assert pooling.check_size(size) == size
    for size in (0, 1, 4, 6, 11, 50):
        with pytest.raises(pooling.PoolError) as exc:
            pooling.check_size(size)
        assert exc.value.code == "pool_size"


@given(size=sizes, members=st.integers(0, 25))
def test_it_refuses_the_swab_that_overfills_a_pool(size, members):
    if members < size:
        pooling.check_can_add(size, members)
    else:
        with pytest.raises(pooling.PoolError):
            pooling.check_can_add(size, members)


@given(items=st.lists(st.integers(), max_size=200), size=sizes)
def test_it_splits_a_queue_into_full_tubes_in_order(items, size):
    pools = pooling.split_into_pools(items, size)
    assert [x for pool in pools for x in pool] == items
    assert all(len(pool) == size for pool in pools[:-1])
    assert not pools or 1 <= len(pools[-1]) <= size


@given(size=sizes, data=st.data())
def test_it_makes_every_member_of_a_negative_pool_negative(size, data):
    members = list(range(data.draw(st.integers(1, size))))
    states = pooling.member_states("negative", members, {}, pool_reported_at=T0, at=T0)
    assert [s.state for s in states] == [pooling.CLEARED] * len(members)
    assert pooling.pool_status("negative", states) == "negative"


@given(size=sizes, data=st.data())
def test_it_flags_every_member_of_a_positive_pool_at_once(size, data):
    members = list(range(data.draw(st.integers(1, size))))
    states = pooling.member_states("positive", members, {}, pool_reported_at=T0, at=T0)
    assert all(s.state == pooling.FLAGGED for s in states)
    assert all(s.retest_due == T0 + timedelta(hours=12) and not s.overdue for s in states)
    assert pooling.pool_status("positive", states) == "retesting"


@given(
    size=sizes,
    data=st.data(),
)
def test_it_keeps_only_the_true_positives_positive_after_the_retests(size, data):
    members = list(range(data.draw(st.integers(1, size))))
    truth = {m: data.draw(st.sampled_from(["negative", "positive"])) for m in members}
    # the pool is positive because at least one member is
    truth[members[0]] = "positive"
    states = pooling.member_states(
        "positive", members, truth, pool_reported_at=T0, at=T0 + timedelta(hours=5)
    )
    positives = {s.member for s in states if s.state == pooling.CONFIRMED}
    assert positives == {m for m, r in truth.items() if r == "positive"}
    assert all(s.state == pooling.CLEARED for s in states if s.member not in positives)
    assert pooling.pool_status("positive", states) == "resolved"


@given(size=sizes, data=st.data(), hours=st.floats(0, 72))
def test_it_keeps_a_member_whose_retest_is_lost_flagged_and_overdue_after_12_hours(size, data, hours):
    members = list(range(data.draw(st.integers(2, size))))
    lost = data.draw(st.sampled_from(members))
    results = {m: "negative" for m in members if m != lost}
    at = T0 + timedelta(hours=hours)
    states = {
        s.member: s for s in pooling.member_states("positive", members, results, pool_reported_at=T0, at=at)
    }
    assert states[lost].state == pooling.FLAGGED
    assert states[lost].overdue == (hours > 12)
    assert all(states[m].state == pooling.CLEARED for m in results)
    assert pooling.pool_status("positive", list(states.values())) == "retesting"


def test_it_lets_an_individual_result_win_over_the_pool():
    states = pooling.member_states("negative", ["a", "b"], {"b": "positive"}, pool_reported_at=T0, at=T0)
    assert [s.state for s in states] == [pooling.CLEARED, pooling.CONFIRMED]


def test_it_waits_while_the_pool_has_no_result_and_refuses_unknown_results():
    assert [s.state for s in pooling.member_states(None, [1, 2], {})] == [pooling.WAITING] * 2
    with pytest.raises(pooling.PoolError):
        pooling.member_states("maybe", [1], {})
    with pytest.raises(pooling.PoolError):
        pooling.member_states("positive", [1], {1: "unclear"})
