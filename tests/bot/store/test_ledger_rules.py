"""The ledger's rules as pure functions: what may be claimed, retried, continued or settled, and when."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from bot.models import RunRecord, RunState
from bot.store import ledger_rules as rules

AT = datetime(2026, 8, 21, 9, 0, tzinfo=UTC)
DAY = date(2026, 8, 21)


def run(state: str = RunState.CLAIMED, **changes: object) -> RunRecord:
    return RunRecord("C1", DAY, state, "r1", AT).replace(**changes)


def test_a_day_is_claimed_once_and_only_a_failed_run_again_with_one_more_attempt() -> None:
    fresh = run()
    assert rules.claimed_again(fresh, None) is fresh
    again = rules.claimed_again(run(run_id="r2"), run(RunState.FAILED, attempts=2))
    assert again is not None and (again.run_id, again.attempts) == ("r2", 3)
    for state in (RunState.CLAIMED, RunState.POSTED, RunState.NOTHING):
        assert rules.claimed_again(run(run_id="r2"), run(state)) is None


@pytest.mark.parametrize("state", [RunState.POSTED, RunState.NOTHING])
def test_a_finished_run_is_never_failed(state: str) -> None:
    with pytest.raises(ValueError, match="already finished"):
        rules.check_may_fail(run(), run(state))
    rules.check_may_fail(run(), run(RunState.CLAIMED))  # a claim may fail


def test_attempts_never_count_down() -> None:
    assert rules.keep_attempts(run(attempts=1), run(attempts=3)).attempts == 3
    assert rules.keep_attempts(run(attempts=4), run(attempts=3)).attempts == 4


def test_last_day_only_moves_forward() -> None:
    newer = run(days=(date(2026, 8, 19), date(2026, 8, 20)))
    assert rules.advanced_last_day(None, newer) == date(2026, 8, 20)
    assert rules.advanced_last_day(date(2026, 8, 19), newer) == date(2026, 8, 20)
    assert rules.advanced_last_day(date(2026, 8, 20), newer) is None
    assert rules.advanced_last_day(date(2026, 8, 25), newer) is None
    assert rules.advanced_last_day(None, run()) is None  # a run without days moves nothing


def test_a_failed_run_is_retried_after_a_back_off_that_grows_with_its_attempts() -> None:
    failed = run(RunState.FAILED, attempts=2)
    assert not rules.may_retry(failed, AT + timedelta(minutes=9))
    assert rules.may_retry(failed, AT + timedelta(minutes=10))
    assert not rules.may_retry(failed.replace(attempts=rules.MAX_ATTEMPTS), AT + timedelta(days=1))
    assert not rules.may_retry(run(RunState.POSTED), AT + timedelta(days=1))


def test_a_digest_cut_short_is_continued_later_and_a_whole_one_never() -> None:
    cut = run(RunState.POSTED, unsent=("2608.00001",))
    assert not rules.may_continue(cut, AT + timedelta(minutes=4))
    assert rules.may_continue(cut, AT + timedelta(minutes=5))
    assert not rules.may_continue(run(RunState.POSTED), AT + timedelta(days=1))
    assert not rules.may_continue(cut.replace(attempts=rules.MAX_ATTEMPTS), AT + timedelta(days=1))


def test_a_claim_is_orphaned_only_after_its_lease() -> None:
    lease = timedelta(minutes=15)
    assert not rules.is_orphaned(run(), AT + timedelta(minutes=14), lease)
    assert rules.is_orphaned(run(), AT + lease, lease)
    assert not rules.is_orphaned(run(RunState.POSTED), AT + timedelta(days=1), lease)
