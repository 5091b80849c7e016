"""Auth0 log_id layout: ``900`` + ingestion time (``YYYYMMDDhhmmss``) + a 39-digit sequence.

Every id is 56 characters long, so comparing two ids as strings compares their ingestion order.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone

PREFIX = "900"
SEQUENCE_DIGITS = 39
LENGTH = len(PREFIX) + 14 + SEQUENCE_DIGITS
MAX_SEQUENCE = 10**SEQUENCE_DIGITS - 1

_PATTERN = re.compile(r"900(\d{14})\d{39}")


def format_log_id(ingested_at: datetime, sequence: int) -> str:
    """Build the log_id of an event indexed at ``ingested_at`` with a tenant-unique sequence."""
    if not 0 <= sequence <= MAX_SEQUENCE:
        raise ValueError(f"sequence {sequence} does not fit in {SEQUENCE_DIGITS} digits")
    m = ingested_at.astimezone(timezone.utc)
    stamp = f"{m.year:04d}{m.month:02d}{m.day:02d}{m.hour:02d}{m.minute:02d}{m.second:02d}"
    return f"{PREFIX}{stamp}{sequence:0{SEQUENCE_DIGITS}d}"


def ingestion_time(log_id: str) -> datetime:
    """The ingestion time (to the second, UTC) encoded in ``log_id``; ValueError if malformed."""
    match = _PATTERN.fullmatch(log_id)
    if match is None:
        raise ValueError(f"not an Auth0 log_id: {log_id!r}")
    # Sliced by hand: strptime costs more than the rest of a checkpoint request's checks.
    d = match.group(1)
    parts = (d[0:4], d[4:6], d[6:8], d[8:10], d[10:12], d[12:14])
    return datetime(*map(int, parts), tzinfo=timezone.utc)
