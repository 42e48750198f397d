"""The ledger's rules, written once for every backend (the SQLite ledger beside the TinyDB file, and
PostgreSQL). Pure: each backend reads the stored record inside its own transaction and asks these.

The rules are what "at most one post per channel and day, never the same paper twice" rests on:

* a day is claimed once; only a FAILED run (Slack refused before anything was posted) may be claimed
  again, and that counts an attempt;
* a finished run (POSTED or NOTHING) is never marked FAILED: that would make the day claimable again,
  i.e. a second post;
* attempts are never counted down by a caller holding an older copy of the record;
* ``last_day`` (the newest Hugging Face day a channel has had) only moves forward;
* runs are listed by local date, then claim time, then channel.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from bot.models import RunRecord, RunState

__all__ = [
    "MAX_ATTEMPTS",
    "RETRY_FAILED_AFTER",
    "advanced_last_day",
    "check_may_fail",
    "claimed_again",
    "is_open",
    "is_orphaned",
    "keep_attempts",
    "may_continue",
    "may_retry",
    "require_state",
    "run_order",
]


def require_state(record: RunRecord, method: str, *allowed: str) -> None:
    """A wrong state here is a caller bug that would break "at most one post a day": fail loudly."""
    if record.state not in allowed:
        raise ValueError(f"{method} needs a record in state {' or '.join(allowed)}, got {record.state!r}")


def claimed_again(record: RunRecord, existing: RunRecord | None) -> RunRecord | None:
    """What ``claim_run`` stores: the record itself for a new day, the record with one more attempt
    over a FAILED run, ``None`` (refused) over any other run."""
    if existing is None:
        return record
    if existing.state != RunState.FAILED:
        return None
    return record.replace(attempts=existing.attempts + 1)


def check_may_fail(record: RunRecord, stored: RunRecord | None) -> None:
    if stored is not None and stored.state in (RunState.POSTED, RunState.NOTHING):
        # FAILED would make a finished day claimable again, i.e. a second post.
        raise ValueError(f"fail_run: the run of {record.channel_id} on {record.local_date} already finished")


def keep_attempts(record: RunRecord, stored: RunRecord | None) -> RunRecord:
    """The caller's record predates ``claim_run``'s attempts bump; never count attempts down."""
    if stored is None or stored.attempts <= record.attempts:
        return record
    return record.replace(attempts=stored.attempts)


def advanced_last_day(current: date | None, record: RunRecord) -> date | None:
    """The channel's new ``last_day`` after ``record`` finished, or ``None`` when it does not move:
    a late or re-run post must not make old days new again."""
    newest = max(record.days) if record.days else None
    if newest is None or (current is not None and newest <= current):
        return None
    return newest


def is_open(record: RunRecord) -> bool:
    """Still CLAIMED, or owing a continuation: its papers are spoken for."""
    return record.state == RunState.CLAIMED or bool(record.unsent)


# When a run may be tried again: a FAILED day (Slack refused before anything was posted), or a digest
# cut short (``unsent``), waits this long times its attempt number, up to MAX_ATTEMPTS attempts.
RETRY_FAILED_AFTER = timedelta(minutes=5)
MAX_ATTEMPTS = 5


def may_retry(record: RunRecord, now: datetime) -> bool:
    """A failed run whose back-off has passed and that has attempts left."""
    return (
        record.state == RunState.FAILED
        and record.attempts < MAX_ATTEMPTS
        and now >= record.claimed_at + RETRY_FAILED_AFTER * record.attempts
    )


def may_continue(record: RunRecord, now: datetime) -> bool:
    """A digest cut short after its first message(s), due for its continuation."""
    return (
        record.state == RunState.POSTED
        and bool(record.unsent)
        and record.attempts < MAX_ATTEMPTS
        and now >= record.claimed_at + RETRY_FAILED_AFTER * record.attempts
    )


def is_orphaned(record: RunRecord, now: datetime, lease: timedelta) -> bool:
    """A claim older than the lease: the process that made it died before recording the outcome
    (callers exclude the claims their own threads are still posting)."""
    return record.state == RunState.CLAIMED and now - record.claimed_at >= lease


def run_order(record: RunRecord) -> tuple[date, float, str]:
    return record.local_date, record.claimed_at.timestamp(), record.channel_id
