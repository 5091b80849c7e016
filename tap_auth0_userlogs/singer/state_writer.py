"""Writing STATE messages cheaply, and as often as is affordable.

singer-sdk deep-copies the whole state and converts it through dataclasses on every STATE
message; with one partition per user that is quadratic in the number of users. This writer
serializes the state once with msgspec and skips a write when it would cost more than
`MAX_STATE_SHARE` of the time since the previous one, so small tenants get a STATE after
every user and very large ones one every few seconds. A skipped STATE never loses an
event: users finished after the last STATE are read again from their older bookmarks.
"""

from __future__ import annotations

import time
import typing as t

from tap_auth0_userlogs.json_codec import dumps

if t.TYPE_CHECKING:
    from tap_auth0_userlogs.singer.writer import FastSingerWriter

# At most this share of the sync's time goes into writing STATE messages...
MAX_STATE_SHARE = 0.05
# ...unless a write is this cheap (a state of a few hundred users): then always write.
ALWAYS_AFFORDABLE_SECONDS = 0.0005


class PacedStateWriter:
    """Drop-in for the SDK's StateWriter: writes STATE lines, skipping exact repeats."""

    def __init__(self, writer: FastSingerWriter) -> None:
        self._writer = writer
        self._last_line: str | None = None
        self._last_write_end = time.monotonic()
        self._last_write_cost = 0.0
        self._preparation = 0.0

    def prepared(self, seconds: float) -> None:
        """The next STATE took `seconds` to prepare (bookmarks moved for it): its cost too."""
        self._preparation += seconds

    def write_state(self, state: t.Mapping[str, t.Any]) -> None:
        """Write `state` unless it is the same as the last one written."""
        started = time.monotonic()
        line = dumps({"type": "STATE", "value": state})
        if line != self._last_line:
            self._writer.write_line(line)
            self._last_line = line
        self._last_write_end = time.monotonic()
        self._last_write_cost = self._last_write_end - started + self._preparation
        self._preparation = 0.0

    def state_due(self) -> bool:
        """True when another STATE now would stay within the time budget for STATE messages."""
        if self._last_write_cost <= ALWAYS_AFFORDABLE_SECONDS:
            return True
        since = time.monotonic() - self._last_write_end
        return self._last_write_cost <= MAX_STATE_SHARE * (since + self._last_write_cost)
