"""The arithmetic of a pass read in slices: which spans of the log are out, and who reads what.

Pure: no HTTP. Hypothesis draws logs (sorted log_ids over an hour), slice boundaries, the order
in which slices report progress, and threads that take, read and cut slices of a log held in
memory. What must hold whatever the draw: the prefix is the end of the run of spans joined to
the start, the spans beyond it and the gaps partition the rest exactly, and readers sharing a
board never lose or repeat an event.
"""

from __future__ import annotations

import bisect
import datetime
import random
import threading
from dataclasses import dataclass

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tap_auth0_userlogs.events.coverage import LogCoverage
from tap_auth0_userlogs.events.log_ids import log_id_at, log_id_order, log_id_time
from tap_auth0_userlogs.sources.slices import MIN_PAGES, MIN_SPAN, Slice, SliceBoard

UTC = datetime.timezone.utc
BASE = datetime.datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
LOG_SECONDS = 3600
PAGE = 100  # Auth0's largest page, which SliceBoard estimates pages by

PURE = settings(max_examples=150, deadline=None, derandomize=True, database=None)


@dataclass(frozen=True)
class Event:
    """What SliceBoard reads of an event: its log_id."""

    log_id: str


def at(second: float) -> datetime.datetime:
    return BASE + datetime.timedelta(seconds=second)


def boundary(second: int) -> str:
    """A position made from a time, as a pass makes them."""
    return log_id_at(at(second))


def event_id(second: int, sequence: int) -> str:
    """An event's log_id: `900`, its ingestion second, a 39-digit sequence (never all zeros)."""
    return "900" + at(second).strftime("%Y%m%d%H%M%S") + f"{sequence:039d}"


def key(position: str) -> tuple[int, str]:
    return log_id_order(position)


@st.composite
def logs(draw, max_events: int = 300) -> list[str]:
    """Sorted log_ids over an hour after BASE: some seconds hold many events, most none."""
    seconds = draw(st.lists(st.integers(0, LOG_SECONDS - 1), max_size=max_events))
    return sorted(event_id(s, n + 1) for n, s in enumerate(sorted(seconds)))


@st.composite
def cut_points(draw) -> list[str]:
    """Slice boundaries: the pass's start (before every event), then whole seconds in order."""
    seconds = draw(st.sets(st.integers(1, LOG_SECONDS), max_size=8))
    return [log_id_at(at(0) - datetime.timedelta(seconds=1)), *map(boundary, sorted(seconds))]


def within(log: list[str], after: str, upto: str | None) -> list[str]:
    """The log_ids after `after`, up to `upto` (None: to the end)."""
    return [e for e in log if key(e) > key(after) and (upto is None or key(e) <= key(upto))]


# ------------------------------------------------------------------ LogCoverage


def progress_steps(log: list[str], bounds: list[str], rng: random.Random) -> list[list[str]]:
    """Per slice, the positions its reader reports in turn: some of its events, then its end.

    A finished slice reports its end (SliceBoard sets `reached` to it); the last slice ends
    at its last event; some slices stop early, as a killed pass leaves them.
    """
    steps = []
    for n, after in enumerate(bounds):
        upto = bounds[n + 1] if n + 1 < len(bounds) else None
        events = within(log, after, upto)
        reached = sorted(rng.sample(events, rng.randint(0, len(events))), key=key)
        finished = rng.random() < 0.7
        if finished:
            reached.append(upto if upto is not None else (events[-1] if events else after))
        steps.append(reached)
    return steps


def contiguous_prefix(bounds: list[str], reached: list[str]) -> str:
    """The end of the run of slices joined to the start: a slice joins the next at its end."""
    for n, position in enumerate(reached):
        if n + 1 == len(bounds) or position != bounds[n + 1]:
            return position
    raise AssertionError("unreachable")


def assert_partition(coverage: LogCoverage, start: str, log: list[str], out: set[str]) -> None:
    """Prefix, spans beyond it and gaps tile the log from `start` on, and hold `out` exactly."""
    prefix, beyond, gaps = coverage.prefix, coverage.beyond, coverage.gaps()
    expected_gaps, end = [], prefix
    for after, upto in beyond:
        assert key(end) < key(after) < key(upto), (end, after, upto)
        expected_gaps.append((end, after))
        end = upto
    expected_gaps.append((end, None))
    assert gaps == expected_gaps
    for log_id in log:
        in_prefix = key(start) < key(log_id) <= key(prefix)
        in_spans = sum(1 for after, upto in beyond if key(after) < key(log_id) <= key(upto))
        in_gaps = sum(
            1
            for after, upto in gaps
            if key(after) < key(log_id) and (upto is None or key(log_id) <= key(upto))
        )
        assert in_prefix + in_spans + in_gaps == 1, log_id
        assert (in_prefix or in_spans == 1) == (log_id in out), log_id


@PURE
@given(log=logs(), bounds=cut_points(), seed=st.integers(0, 2**32 - 1))
def test_the_prefix_is_the_run_of_spans_joined_to_the_start(log, bounds, seed):
    rng = random.Random(seed)
    steps = progress_steps(log, bounds, rng)
    # Interleave the slices' reports in a random order, each slice's in its own order.
    order = [n for n, reports in enumerate(steps) for _ in reports]
    rng.shuffle(order)
    start = bounds[0]
    coverage = LogCoverage(start)
    reached = list(bounds)
    cursor = [0] * len(steps)
    for n in order:
        reached[n] = steps[n][cursor[n]]
        cursor[n] += 1
        coverage.cover(bounds[n], reached[n])

        assert coverage.prefix == contiguous_prefix(bounds, reached)
        out = {e for n, after in enumerate(bounds) for e in within(log, after, reached[n])}
        assert_partition(coverage, start, log, out)

    # Covering again what is out changes nothing, in whole or in part.
    before = (coverage.prefix, coverage.beyond, coverage.gaps())
    for n, after in enumerate(bounds):
        coverage.cover(after, reached[n])
        for step in steps[n]:
            if key(step) <= key(reached[n]):
                coverage.cover(after, step)
    coverage.cover(start, coverage.prefix)
    assert (coverage.prefix, coverage.beyond, coverage.gaps()) == before

    # A resume rebuilds the same coverage from what STATE stores: the prefix and the spans.
    resumed = LogCoverage(coverage.prefix, coverage.beyond)
    assert (resumed.prefix, resumed.beyond, resumed.gaps()) == before


def test_spans_join_the_prefix_as_the_gap_before_them_closes():
    start, middle, end = boundary(0), boundary(100), boundary(200)
    coverage = LogCoverage(start)
    coverage.cover(middle, event_id(150, 1))
    coverage.cover(end, event_id(250, 1))

    assert coverage.prefix == start
    assert coverage.beyond == [(middle, event_id(150, 1)), (end, event_id(250, 1))]

    coverage.cover(event_id(150, 1), end)  # the middle slice reaches its end

    assert coverage.beyond == [(middle, event_id(250, 1))]
    coverage.cover(start, middle)
    assert coverage.prefix == event_id(250, 1)
    assert coverage.beyond == []
    assert coverage.gaps() == [(event_id(250, 1), None)]


# ------------------------------------------------------------------ SliceBoard: cut


@PURE
@given(log=logs(), bounds=cut_points(), data=st.data())
def test_cut_keeps_what_lies_up_to_the_end_and_finishes_past_it(log, bounds, data):
    gaps = list(zip(bounds, [*bounds[1:], None], strict=True))
    board = SliceBoard(gaps, events_per_second=None, until=at(LOG_SECONDS))
    piece = board.take()
    assert piece is not None
    slice_events = within(log, piece.after, piece.upto)
    # A page as checkpoint mode serves it: the next events after `reached`, of any length.
    after = within(log, piece.reached, None)
    size = data.draw(st.integers(0, 2 * PAGE), label="page size")
    page = after[: min(size, PAGE)]

    kept, finished = board.cut(piece, [Event(e) for e in page])

    assert [e.log_id for e in kept] == [e for e in page if e in slice_events]
    past_the_end = piece.upto is not None and any(e not in slice_events for e in page)
    assert finished == (not page or past_the_end)
    if finished and piece.upto is not None:
        assert piece.reached == piece.upto  # nothing else lies in it
    elif kept:
        assert piece.reached == kept[-1].log_id


def test_a_page_ending_exactly_at_the_end_is_not_the_last():
    upto = event_id(10, 5)
    board = SliceBoard([(boundary(0), upto)], events_per_second=None, until=at(60))
    piece = board.take()

    kept, finished = board.cut(piece, [Event(event_id(5, 1)), Event(upto)])
    assert (len(kept), finished) == (2, False)
    kept, finished = board.cut(piece, [Event(event_id(11, 1))])
    assert (kept, finished, piece.reached) == ([], True, upto)


def test_the_last_slice_ends_only_at_an_empty_page():
    board = SliceBoard([(boundary(0), None)], events_per_second=None, until=at(60))
    piece = board.take()

    kept, finished = board.cut(piece, [Event(event_id(s, 1)) for s in range(100, 200)])
    assert (len(kept), finished) == (100, False)
    assert board.cut(piece, []) == ([], True)
    assert piece.reached == event_id(199, 1)
    assert board.take() is None


# ------------------------------------------------------------------ SliceBoard: take


def seconds_left(piece: Slice, until: datetime.datetime) -> float:
    end = log_id_time(piece.upto) if piece.upto is not None else until
    return (end - log_id_time(piece.reached)).total_seconds()


def worth_a_cut(piece: Slice, rate: float | None, until: datetime.datetime) -> bool:
    left = seconds_left(piece, until)
    pages_in_a_half = (rate or 0.0) * left / 2 / PAGE
    return (
        not piece.searching
        and left >= 2 * MIN_SPAN.total_seconds()
        and pages_in_a_half >= MIN_PAGES
    )


def test_pending_slices_go_first_in_order():
    bounds = [boundary(s) for s in (0, 600, 1200)]
    gaps = list(zip(bounds, [*bounds[1:], None], strict=True))
    board = SliceBoard(gaps, events_per_second=100.0, until=at(LOG_SECONDS))

    taken = [board.take() for _ in gaps]

    assert [(p.after, p.upto, p.reached) for p in taken] == [(a, u, a) for a, u in gaps]


@PURE
@given(
    bounds=cut_points(),
    rate=st.one_of(st.none(), st.floats(0.01, 500)),
    reads=st.lists(st.integers(0, LOG_SECONDS), max_size=9),
    searching=st.lists(st.booleans(), max_size=9),
    until_second=st.integers(1, LOG_SECONDS + 600),
    until_micro=st.integers(0, 999_999),
)
def test_take_splits_the_slice_with_most_time_left_between_reached_and_end(
    bounds, rate, reads, searching, until_second, until_micro
):
    until = at(until_second) + datetime.timedelta(microseconds=until_micro)
    gaps = list(zip(bounds, [*bounds[1:], None], strict=True))
    board = SliceBoard(gaps, events_per_second=rate, until=until)
    active = [board.take() for _ in gaps]
    # Each reader has read into its slice some way (an event at a second inside it).
    for piece, second, search in zip(active, reads, searching, strict=False):
        end = log_id_time(piece.upto) if piece.upto else at(LOG_SECONDS + 1)
        moment = min(at(second), end - datetime.timedelta(seconds=1))
        inside = event_id(int((moment - BASE).total_seconds()), 7)
        if key(piece.after) < key(inside) and (piece.upto is None or key(inside) < key(piece.upto)):
            board.cut(piece, [Event(inside)])
        if search:
            board.search(piece, searching=True)
    candidates = [p for p in active if worth_a_cut(p, rate, until)]
    most_left = max((seconds_left(p, until) for p in candidates), default=None)
    before = {id(p): (p.after, p.upto, p.reached) for p in active}

    later = board.take()

    if not candidates:
        assert later is None
        assert not board.has_work()
        return
    victims = [p for p in active if p.upto == later.after and before[id(p)][1] != p.upto]
    assert len(victims) == 1
    victim = victims[0]
    after, old_upto, reached = before[id(victim)]
    left = seconds_left(Slice(after, old_upto, reached), until)
    assert left == most_left
    assert (rate or 0.0) * left / 2 / PAGE >= MIN_PAGES
    # A whole second, strictly between how far the victim was read and its end.
    cut_at = log_id_time(later.after)
    assert later.after == log_id_at(cut_at)
    assert key(reached) < key(later.after)
    if old_upto is not None:
        assert key(later.after) < key(old_upto)
    else:
        assert cut_at < until
    middle = log_id_time(reached) + datetime.timedelta(seconds=left / 2)
    assert abs((cut_at - middle).total_seconds()) < 1
    assert (later.upto, later.reached) == (old_upto, later.after)
    assert (victim.after, victim.reached) == (after, reached)


def test_no_cut_without_a_rate_or_while_searching():
    gaps = [(boundary(0), None)]
    unknown = SliceBoard(gaps, events_per_second=None, until=at(LOG_SECONDS))
    assert unknown.take() is not None
    assert unknown.take() is None

    board = SliceBoard(gaps, events_per_second=1000.0, until=at(LOG_SECONDS))
    piece = board.take()
    board.search(piece, searching=True)
    assert board.take() is None
    board.search(piece, searching=False)
    assert board.take() is not None


@pytest.mark.parametrize("rate", [None, 0.5, 5.0, 50.0])
def test_a_slice_under_min_pages_a_half_is_never_cut(rate):
    # The smallest span whose half holds MIN_PAGES pages at this rate, less one second.
    board_rate = rate or 1.0
    too_short = int(2 * MIN_PAGES * PAGE / board_rate) - 1
    board = SliceBoard(
        [(boundary(0), boundary(too_short))], events_per_second=rate, until=at(LOG_SECONDS)
    )
    assert board.take() is not None
    assert board.take() is None

    long_enough = max(too_short + 2, 2 * int(MIN_SPAN.total_seconds()))
    board = SliceBoard(
        [(boundary(0), boundary(long_enough))], events_per_second=rate, until=at(LOG_SECONDS)
    )
    assert board.take() is not None
    assert (board.take() is not None) == (rate is not None)


# ------------------------------------------------------------------ readers sharing a board


class MemoryLog:
    """A tenant's log held in memory, read as checkpoint mode reads it: after a position."""

    def __init__(self, log_ids: list[str]) -> None:
        self._ids = log_ids
        self._keys = [key(e) for e in log_ids]

    def after(self, position: str, take: int) -> list[Event]:
        start = bisect.bisect_right(self._keys, key(position))
        return [Event(e) for e in self._ids[start : start + take]]


@st.composite
def busy_logs(draw) -> list[str]:
    """A few thousand sorted log_ids: dense bursts and quiet stretches over an hour."""
    bursts = draw(st.lists(st.tuples(st.integers(0, LOG_SECONDS - 60), st.integers(1, 60),
                                     st.integers(1, 40)), min_size=1, max_size=12))  # fmt: skip
    seconds = [s + n % width for s, width, count in bursts for n in range(count * width // 4 + 1)]
    return sorted(event_id(s, n + 1) for n, s in enumerate(sorted(seconds)))


@settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(
    log=busy_logs(),
    bounds=cut_points(),
    readers=st.integers(1, 6),
    rate=st.one_of(st.none(), st.floats(0.05, 50)),
    page=st.integers(1, PAGE),
    seed=st.integers(0, 2**32 - 1),
)
def test_readers_sharing_a_board_read_every_event_once(log, bounds, readers, rate, page, seed):
    gaps = list(zip(bounds, [*bounds[1:], None], strict=True))
    board = SliceBoard(gaps, events_per_second=rate, until=at(LOG_SECONDS))
    memory = MemoryLog(log)
    read: list[str] = []
    lock = threading.Lock()
    errors: list[BaseException] = []

    def reader(n: int) -> None:
        rng = random.Random(seed + n)
        try:
            while (piece := board.take()) is not None:
                while True:
                    # The page is fetched outside the board's lock: others cut in meanwhile.
                    events = memory.after(piece.reached, rng.randint(1, page))
                    if rng.random() < 0.3:
                        threading.Event().wait(0.0005)
                    kept, finished = board.cut(piece, events)
                    with lock:
                        read.extend(e.log_id for e in kept)
                    if finished:
                        break
        except BaseException as exc:  # the test thread raises it
            errors.append(exc)

    threads = [threading.Thread(target=reader, args=(n,)) for n in range(readers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    assert not any(thread.is_alive() for thread in threads)
    assert sorted(read, key=key) == within(log, bounds[0], None)
    assert len(read) == len(set(read))
    assert board.take() is None
