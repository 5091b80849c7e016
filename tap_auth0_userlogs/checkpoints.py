"""Writing STATE messages cheaply, and as often as is affordable.

singer-sdk deep-copies the whole state and converts it through dataclasses on every STATE
message; with one partition per user that is quadratic in the number of users. This writer
serializes the state once with `json` and skips a write when it would cost more than
`MAX_STATE_SHARE` of the time since the previous one, so small tenants get a STATE after
every user and very large ones one every few seconds. A skipped checkpoint never loses an
event: users finished after the last STATE are read again from their older bookmarks.
"""

from __future__ import annotations

import json
import sys
import time
import typing as t

# At most this share of the sync's time goes into writing STATE messages.
MAX_STATE_SHARE = 0.05


class CheckpointWriter:
    """Drop-in for the SDK's StateWriter: writes STATE lines, skipping exact repeats."""

    def __init__(self) -> None:
        self._last_line: str | None = None
        self._last_write_end = time.monotonic()
        self._last_write_cost = 0.0

    def write_state(self, state: t.Mapping[str, t.Any]) -> None:
        """Write `state` unless it is the same as the last one written."""
        started = time.monotonic()
        line = json.dumps({"type": "STATE", "value": state}, separators=(",", ":"))
        if line != self._last_line:
            sys.stdout.write(line + "\n")
            sys.stdout.flush()
            self._last_line = line
        self._last_write_end = time.monotonic()
        self._last_write_cost = self._last_write_end - started

    def checkpoint_due(self) -> bool:
        """True when another STATE now would stay within the time budget for checkpoints."""
        since = time.monotonic() - self._last_write_end
        return self._last_write_cost <= MAX_STATE_SHARE * (since + self._last_write_cost)
