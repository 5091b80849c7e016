"""Users read ahead: while the next user in partition order is slow, the other threads keep
reading users of their own, as many as USERS_AHEAD_PER_THREAD each and no more."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

from tap_auth0_userlogs.sources.user_log import (
    USERS_AHEAD_PER_THREAD,
    PrefetchingReader,
    UserCutoff,
)

THREADS = 2
USERS = 40
# The user being written, and ahead of it the threads' share and two more.
UNDER_WAY = 1 + THREADS * USERS_AHEAD_PER_THREAD + 2
WAIT_SECONDS = 5


class SlowFirstUser:
    """Serves one page per user; the first user's page waits until enough others started."""

    def __init__(self, others_needed: int) -> None:
        self.started: list[str] = []
        self.others_needed = others_needed
        self._enough = threading.Event()
        self._lock = threading.Lock()
        self.started_when_released: int | None = None
        self.started_a_moment_later: int | None = None

    def pages(self, user: UserCutoff) -> Iterator[list[dict[str, Any]]]:
        with self._lock:
            self.started.append(user.user_id)
            if len(self.started) - 1 >= self.others_needed:
                self._enough.set()
        if user.user_id == "user-0":
            if not self._enough.wait(WAIT_SECONDS):
                msg = f"only {len(self.started) - 1} other users started while user-0 was read"
                raise AssertionError(msg)
            self.started_when_released = len(self.started)
            time.sleep(0.2)
            self.started_a_moment_later = len(self.started)
        yield [{"log_id": user.user_id}]


def read_all(reader: SlowFirstUser) -> list[str]:
    users = [UserCutoff(f"user-{n}", None) for n in range(USERS)]
    prefetching = PrefetchingReader(
        reader,  # type: ignore[arg-type]
        iter(users),
        in_flight=lambda: THREADS,
        max_in_flight=THREADS,
    )
    try:
        return [
            event["log_id"]
            for user in users
            for page in prefetching.pages(user.user_id)
            for event in page
        ]
    finally:
        prefetching.close()


def test_other_users_are_read_while_the_next_one_is_slow():
    reader = SlowFirstUser(others_needed=UNDER_WAY - 1)
    assert read_all(reader) == [f"user-{n}" for n in range(USERS)]
    assert sorted(reader.started) == sorted(f"user-{n}" for n in range(USERS))


def test_no_more_users_than_allowed_are_under_way():
    reader = SlowFirstUser(others_needed=UNDER_WAY - 1)
    read_all(reader)
    assert reader.started_when_released == UNDER_WAY
    assert reader.started_a_moment_later == UNDER_WAY
