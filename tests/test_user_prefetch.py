"""Users read ahead: while the next user in partition order is slow, the other threads keep
reading users of their own, as many as USERS_AHEAD_PER_THREAD each (MAX_USERS_AHEAD in all)
and no more."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from tap_auth0_userlogs.sources.user_log import (
    MAX_USERS_AHEAD,
    USERS_AHEAD_PER_THREAD,
    PrefetchingReader,
    UserCutoff,
)

WAIT_SECONDS = 5
# Two threads, and enough threads that the cap on users ahead binds.
THREAD_COUNTS = (2, MAX_USERS_AHEAD // USERS_AHEAD_PER_THREAD + 4)


def under_way(threads: int) -> int:
    """The user being written, and ahead of it the threads' share (capped) and two more."""
    return 1 + min(threads * USERS_AHEAD_PER_THREAD, MAX_USERS_AHEAD) + 2


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


def read_all(reader: SlowFirstUser, threads: int, users: int) -> list[str]:
    cutoffs = [UserCutoff(f"user-{n}", None) for n in range(users)]
    prefetching = PrefetchingReader(
        reader,  # type: ignore[arg-type]
        iter(cutoffs),
        in_flight=lambda: threads,
        max_in_flight=threads,
    )
    try:
        return [
            event["log_id"]
            for user in cutoffs
            for page in prefetching.pages(user.user_id)
            for event in page
        ]
    finally:
        prefetching.close()


@pytest.mark.parametrize("threads", THREAD_COUNTS)
def test_other_users_are_read_while_the_next_one_is_slow(threads):
    users = under_way(threads) + 20
    reader = SlowFirstUser(others_needed=under_way(threads) - 1)
    assert read_all(reader, threads, users) == [f"user-{n}" for n in range(users)]
    assert sorted(reader.started) == sorted(f"user-{n}" for n in range(users))


@pytest.mark.parametrize("threads", THREAD_COUNTS)
def test_no_more_users_than_allowed_are_under_way(threads):
    reader = SlowFirstUser(others_needed=under_way(threads) - 1)
    read_all(reader, threads, under_way(threads) + 20)
    assert reader.started_when_released == under_way(threads)
    assert reader.started_a_moment_later == under_way(threads)
