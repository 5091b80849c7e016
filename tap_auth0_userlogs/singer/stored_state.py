"""`user_logs`'s state: what earlier runs left, and what this run moves forward.

The state is singer-sdk's partitioned shape plus the pass position: on the stream, the position
in the tenant's log (every event up to it is out; the name predates passes), whether it
covers every user of the tenant (a run with neither user_ids nor user_query) and, while a pass
read in slices is unfinished, the spans beyond the position that are out already; on each
partition, the user's `date` bookmark and the position that user is in sync with. The keys
keep the names 0.1.0 wrote (tests/test_state_compat.py).
"""

from __future__ import annotations

import typing as t

from tap_auth0_userlogs.events.dates import AUTH0_DATE_LENGTH, is_later, parse_date
from tap_auth0_userlogs.survey import StoredProgress

if t.TYPE_CHECKING:
    import datetime
    from collections.abc import Iterable, Mapping

    from tap_auth0_userlogs.events.coverage import Span
    from tap_auth0_userlogs.singer.partition_state import IndexedStateManager

POSITION_KEY = "log_checkpoint"
EVERY_USER_KEY = "log_checkpoint_every_user"
SPANS_KEY = "log_checkpoint_spans"
BOOKMARK_KEY = "replication_key_value"
# The replication key every bookmark is on.
REPLICATION_KEY = "date"
# singer-sdk's record of the newest value emitted in this run, promoted to the bookmark at the end.
PROGRESS_KEY = "progress_markers"


def covering_position(stream_state: Mapping[str, t.Any], every_user: bool) -> str | None:
    """The stored position, when a pass from it serves this run's users."""
    position = stream_state.get(POSITION_KEY)
    if not isinstance(position, str) or not position:
        return None
    if stream_state.get(EVERY_USER_KEY):
        return position
    # It names some users only: a run over every user must start again from the start.
    return None if every_user else position


def stored_spans(stream_state: Mapping[str, t.Any]) -> tuple[Span, ...]:
    """The spans beyond the position that a pass read before it stopped."""
    return tuple((after, upto) for after, upto in stream_state.get(SPANS_KEY) or ())


def by_user(stream_state: Mapping[str, t.Any], key: str) -> dict[str, t.Any]:
    """user_id -> the value of `key` in that user's partition (None where it has none)."""
    return {
        partition["context"]["user_id"]: partition.get(key)
        for partition in stream_state.get("partitions", [])
    }


class UserLogsState:
    """Reads and moves `user_logs`'s bookmarks and pass position, in singer-sdk's state."""

    def __init__(self, manager: IndexedStateManager) -> None:
        self._manager = manager
        # Partitions kept at hand: a pass's STATE updates touch thousands of users at once.
        self._users: dict[str, dict[str, t.Any]] = {}

    def stored(self, every_user: bool) -> StoredProgress:
        """What earlier runs left, for the survey."""
        stream_state = self._manager.stream_state
        position = covering_position(stream_state, every_user)
        return StoredProgress(
            position=position,
            spans=stored_spans(stream_state) if position else (),
            bookmarks={
                user: mark for user, mark in by_user(stream_state, BOOKMARK_KEY).items() if mark
            },
            positions={
                user: mark for user, mark in by_user(stream_state, POSITION_KEY).items() if mark
            },
        )

    def user(self, user_id: str) -> dict[str, t.Any]:
        """A user's partition, created when missing."""
        state = self._users.get(user_id)
        if state is None:
            state = self._users[user_id] = self._manager.get_context_state({"user_id": user_id})
        return state

    def bookmark(self, user_id: str) -> datetime.datetime | None:
        """The date of the newest event earlier runs emitted for the user."""
        value = self.user(user_id).get(BOOKMARK_KEY)
        return parse_date(value) if value else None

    def hold_bookmark(self, user_id: str) -> None:
        """Start the user's progress at its bookmark, so the bookmark can only move forward.

        singer-sdk promotes the newest date emitted in this run; a run that emits only older
        (late-indexed) events must not move the bookmark back.
        """
        state = self.user(user_id)
        if state.get(BOOKMARK_KEY) and PROGRESS_KEY not in state:
            state[PROGRESS_KEY] = {
                "replication_key": REPLICATION_KEY,
                BOOKMARK_KEY: state[BOOKMARK_KEY],
            }

    def advance_bookmarks(self, newest: Mapping[str, str]) -> None:
        """Each user's bookmark to its newest date emitted, where that is later."""
        # A pass updates thousands of users at every STATE: the lookups are kept inline.
        users = self._users
        for user_id, date in newest.items():
            state = users.get(user_id) or self.user(user_id)
            current = state.get(BOOKMARK_KEY)
            if current is None:
                state["replication_key"] = REPLICATION_KEY
            elif len(date) == len(current) == AUTH0_DATE_LENGTH:
                if date <= current:  # Auth0's dates of one width order as text
                    continue
            elif not is_later(date, current):
                continue
            state[BOOKMARK_KEY] = date

    def set_spans(self, spans: Iterable[Span]) -> None:
        """The spans beyond the position that are out (none: the key goes, as 0.1.0 wrote)."""
        _set_spans(self._manager.stream_state, spans)

    def set_position(self, position: str, users: Iterable[str] | None) -> None:
        """Store the pass position and whom it covers (None: every user of the tenant)."""
        stream_state = self._manager.stream_state
        stream_state[POSITION_KEY] = position
        if users is None:
            stream_state[EVERY_USER_KEY] = True
            return
        stream_state.pop(EVERY_USER_KEY, None)
        for user_id in users:
            self.user(user_id)[POSITION_KEY] = position


class TenantLogsState:
    """`tenant_logs`'s state: the position in the tenant's log its events are out up to, and
    the spans beyond it a killed pass read already. No partitions: no user to key them by."""

    def __init__(self, stream_state: t.Callable[[], dict[str, t.Any]]) -> None:
        self._stream_state = stream_state

    def position(self) -> str | None:
        """Where a pass for these events starts after; None before the first run."""
        position = self._stream_state().get(POSITION_KEY)
        return position if isinstance(position, str) and position else None

    def spans(self) -> tuple[Span, ...]:
        """The spans beyond the position that are out already."""
        return stored_spans(self._stream_state())

    def set_position(self, position: str, spans: Iterable[Span]) -> None:
        """The position reached, and the spans out beyond it."""
        stream_state = self._stream_state()
        stream_state[POSITION_KEY] = position
        _set_spans(stream_state, spans)


def _set_spans(stream_state: dict[str, t.Any], spans: Iterable[Span]) -> None:
    """Store the spans beyond the position; none: the key goes, as earlier releases wrote."""
    stored = [[after, upto] for after, upto in spans]
    if stored:
        stream_state[SPANS_KEY] = stored
    else:
        stream_state.pop(SPANS_KEY, None)
