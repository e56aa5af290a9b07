"""A signed request is accepted only near its timestamp, and only once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from signoff.integrations.wecom.errors import ReplayedNonce, StaleTimestamp
from signoff.integrations.wecom.freshness import (
    WINDOW,
    MemoryReplayGuard,
    check_fresh,
    refuse_replay,
)
from signoff.service.clock import ManualClock

SENT = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
STAMP = str(int(SENT.timestamp()))


@pytest.mark.parametrize("offset", [0, 1, -1, 300, -300])
def test_a_timestamp_within_five_minutes_either_side_of_now_is_fresh(offset: int) -> None:
    assert check_fresh(STAMP, SENT + timedelta(seconds=offset)) == SENT


@pytest.mark.parametrize("offset", [301, -301, 86_400])
def test_a_timestamp_more_than_five_minutes_away_is_stale(offset: int) -> None:
    with pytest.raises(StaleTimestamp, match="at most 300 s"):
        check_fresh(STAMP, SENT + timedelta(seconds=offset))


def test_the_window_can_be_set() -> None:
    later = SENT + timedelta(seconds=90)

    with pytest.raises(StaleTimestamp):
        check_fresh(STAMP, later, window=timedelta(seconds=60))
    assert check_fresh(STAMP, later, window=timedelta(seconds=120)) == SENT


@pytest.mark.parametrize("timestamp", ["", " ", "abc", "1.5", "-1", "１２３", "9" * 21])
def test_a_timestamp_that_is_not_whole_seconds_is_refused(timestamp: str) -> None:
    with pytest.raises(StaleTimestamp, match="not a whole number"):
        check_fresh(timestamp, SENT)


@pytest.mark.parametrize("timestamp", [STAMP + "000", "9" * 12, "9" * 20])
def test_a_timestamp_far_in_the_future_is_stale_even_when_it_is_no_date(timestamp: str) -> None:
    with pytest.raises(StaleTimestamp, match="s away from now"):
        check_fresh(timestamp, SENT)


def test_a_nonce_is_new_the_first_time_and_seen_the_second() -> None:
    guard = MemoryReplayGuard(ManualClock(SENT))

    assert guard.seen("n1", STAMP) is False
    assert guard.seen("n1", STAMP) is True
    assert guard.seen("n2", STAMP) is False
    assert guard.seen("n1", str(int(STAMP) + 1)) is False


def test_refusing_a_replay_names_the_nonce() -> None:
    guard = MemoryReplayGuard(ManualClock(SENT))
    refuse_replay(guard, "n1", STAMP)

    with pytest.raises(ReplayedNonce) as caught:
        refuse_replay(guard, "n1", STAMP)
    assert caught.value.details == {"nonce": "n1", "timestamp": STAMP}


def test_a_nonce_is_remembered_for_twice_the_window_and_then_forgotten() -> None:
    clock = ManualClock(SENT)
    guard = MemoryReplayGuard(clock)
    guard.seen("n1", STAMP)

    clock.advance(seconds=2 * WINDOW.total_seconds() - 1)
    assert guard.seen("n1", STAMP) is True
    clock.advance(seconds=1)
    assert guard.seen("n2", STAMP) is False
    assert len(guard) == 1  # n1 forgotten, n2 remembered


def test_a_forgotten_nonce_would_be_stale_anyway() -> None:
    clock = ManualClock(SENT - WINDOW)  # the earliest moment STAMP is fresh
    guard = MemoryReplayGuard(clock)
    guard.seen("n1", STAMP)

    clock.advance(seconds=2 * WINDOW.total_seconds())
    with pytest.raises(StaleTimestamp):
        check_fresh(STAMP, clock.now() + timedelta(microseconds=1))
