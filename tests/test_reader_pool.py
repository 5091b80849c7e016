"""The reader pool's bounds, without HTTP: readers faster than the writer that takes their pages."""

from __future__ import annotations

import threading
import time

from tap_auth0_userlogs.sources.slices import SliceBoard
from tap_auth0_userlogs.sources.tenant_pass import MAX_PAGES_QUEUED, PassPage, ReaderPool
from tests.test_log_slices import LOG_SECONDS, at, boundary

READERS = 64
PAGES_PER_SLICE = 3


def test_pages_waiting_for_the_writer_stay_bounded_however_many_readers():
    # Memory must stay flat on a fast bucket with many readers: each reader holds at most the
    # page it read, and the queue a fixed number, not a few pages per reader.
    slices = [(boundary(i * 10), boundary((i + 1) * 10)) for i in range(200)]
    board = SliceBoard(slices, events_per_second=None, until=at(LOG_SECONDS))
    lock = threading.Lock()
    out = {"now": 0, "most": 0}

    def read(piece):
        for _ in range(PAGES_PER_SLICE):
            with lock:
                out["now"] += 1
                out["most"] = max(out["most"], out["now"])
            yield PassPage([], None)

    # The survey waited a network round trip for the first page: helpers join at once.
    pool = ReaderPool(board, read, lambda: READERS, READERS, first_wait=1.0)
    taken = 0
    for _ in pool.pages():
        taken += 1
        with lock:
            out["now"] -= 1
        time.sleep(0.001)  # a writer slower than the readers

    assert taken == len(slices) * PAGES_PER_SLICE
    # The queue, one page held by each reader waiting for room, and the one being written.
    assert out["most"] <= MAX_PAGES_QUEUED + READERS + 1
