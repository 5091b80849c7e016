"""Which spans of the tenant's log are out, and which are still to read.

A span `(after, upto)` holds every event whose log_id lies after `after` and at or before
`upto`. A pass starts with one empty span at its start; spans read in parallel join it as they
meet. The first span's end is the prefix: every event up to it is out, so a later pass may
start there, and the per-user bookmarks may follow it. The spans beyond it are read already;
the gaps between them are what a resumed pass still has to read.
"""

from __future__ import annotations

import typing as t

from tap_auth0_userlogs.events.log_ids import log_id_order

if t.TYPE_CHECKING:
    from collections.abc import Iterable

Span = tuple[str, str]
# A span still to read: after a position, up to another (None: to the log's end).
Gap = tuple[str, "str | None"]


class LogCoverage:
    """The spans of the log that are out, kept joined and in log_id order."""

    def __init__(self, start: str, beyond: Iterable[Span] = ()) -> None:
        self._spans: list[list[str]] = [[start, start]]
        for after, upto in beyond:
            self.cover(after, upto)

    @property
    def prefix(self) -> str:
        """The last position up to which every event is out."""
        return self._spans[0][1]

    @property
    def beyond(self) -> list[Span]:
        """The spans out beyond the prefix, in log_id order."""
        return [(after, upto) for after, upto in self._spans[1:]]

    def gaps(self) -> list[Gap]:
        """What is still to read: between the spans, and after the last one to the log's end."""
        ends = [upto for _, upto in self._spans]
        starts: list[str | None] = [after for after, _ in self._spans[1:]]
        return list(zip(ends, [*starts, None], strict=True))

    def cover(self, after: str, upto: str) -> None:
        """Every event after `after`, up to `upto`, is out."""
        if log_id_order(upto) <= log_id_order(after):
            return
        low, high = log_id_order(after), log_id_order(upto)
        first = self._spans[0]
        if high <= log_id_order(first[1]):
            return  # within the prefix already
        if low < log_id_order(first[0]):
            low = log_id_order(first[0])
            after = first[0]
        kept: list[list[str]] = []
        for span in self._spans:
            span_low, span_high = log_id_order(span[0]), log_id_order(span[1])
            if span_high < low or span_low > high:
                kept.append(span)  # apart: neither overlapping nor touching
                continue
            if span_low < low:
                low, after = span_low, span[0]
            if span_high > high:
                high, upto = span_high, span[1]
        kept.append([after, upto])
        kept.sort(key=lambda span: log_id_order(span[0]))
        self._spans = kept


def all_gaps(*coverages: LogCoverage) -> list[Gap]:
    """What any of `coverages` still has to read, joined, in log_id order."""
    gaps = sorted(
        (gap for coverage in coverages for gap in coverage.gaps()),
        key=lambda gap: log_id_order(gap[0]),
    )
    joined: list[Gap] = []
    for after, upto in gaps:
        if joined:
            last_after, last_upto = joined[-1]
            if last_upto is None or log_id_order(after) <= log_id_order(last_upto):
                # Overlapping or touching: one gap, up to the later end.
                end = (
                    None
                    if last_upto is None or upto is None
                    else max(last_upto, upto, key=log_id_order)
                )
                joined[-1] = (last_after, end)
                continue
        joined.append((after, upto))
    return joined
