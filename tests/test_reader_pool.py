"""The reader pool's bounds, without HTTP: how many readers it starts, and how many pages they
may hold while the writer that takes them is slower than they are."""

from __future__ import annotations

import threading
import time

from tap_auth0_userlogs.sources.slices import SliceBoard
from tap_auth0_userlogs.sources.tenant_pass import MAX_PAGES_QUEUED, PassPage, ReaderPool
from tests.test_log_slices import LOG_SECONDS, at, boundary

IN_FLIGHT = 64  # what a roomy bucket asks for
PAGES_PER_SLICE = 3


def board(slices: int) -> SliceBoard:
    pieces = [(boundary(i * 10), boundary((i + 1) * 10)) for i in range(slices)]
    return SliceBoard(pieces, events_per_second=None, until=at(LOG_SECONDS))


class Readers:
    """A fake read of each slice, counting the threads that read and the pages read but not
    yet taken by the writer."""

    def __init__(self, round_trip: float) -> None:
        self.round_trip = round_trip
        self.threads: set[str] = set()
        self.out = 0
        self.most_out = 0
        self._lock = threading.Lock()

    def read(self, piece):
        for _ in range(PAGES_PER_SLICE):
            time.sleep(self.round_trip)
            with self._lock:
                self.threads.add(threading.current_thread().name)
                self.out += 1
                self.most_out = max(self.most_out, self.out)
            yield PassPage([], None)

    def taken(self) -> None:
        with self._lock:
            self.out -= 1


def test_a_caller_busy_with_its_own_work_gets_a_helper_or_two_not_what_the_bucket_allows():
    # The survey waited a round trip for the first page, so one helper joins; then the
    # caller's own work binds (pages come at once), and the readers stop there instead of
    # growing to the 64 in flight a roomy bucket pays for.
    readers = Readers(round_trip=0.0)
    pool = ReaderPool(board(300), readers.read, lambda: IN_FLIGHT, IN_FLIGHT, first_wait=1.0)
    for _ in pool.pages():
        readers.taken()
        busy_until = time.thread_time() + 0.001
        while time.thread_time() < busy_until:  # the caller's own work on each page
            pass

    assert len(readers.threads) <= 4


def test_pages_waiting_for_the_writer_stay_bounded_however_many_readers():
    # Pages come a round trip after they are asked for, so readers are added while the
    # writer keeps up; then it slows down (a slow target), and the readers must wait: each
    # holds at most the page it read, and the queue a fixed number, not a few per reader.
    readers = Readers(round_trip=0.02)
    pool = ReaderPool(board(2000), readers.read, lambda: IN_FLIGHT, IN_FLIGHT, first_wait=1.0)
    started = time.monotonic()
    for _ in pool.pages():
        readers.taken()
        if time.monotonic() - started > 2.0:
            time.sleep(0.003)
        if time.monotonic() - started > 4.0:
            break

    assert len(readers.threads) > MAX_PAGES_QUEUED // 2  # enough readers to outrun the queue
    # The queue, one page held by each reader waiting for room, and the one being written.
    assert readers.most_out <= MAX_PAGES_QUEUED + len(readers.threads) + 1
