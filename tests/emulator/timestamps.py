"""Auth0's timestamps: ISO-8601, UTC, milliseconds, trailing ``Z``."""

from __future__ import annotations

from datetime import datetime, timezone


def iso_ms(moment: datetime) -> str:
    """``2026-01-02T03:04:05.678Z``."""
    m = moment.astimezone(timezone.utc)
    # Formatted by hand: strftime costs several times more, and busy tenants format thousands.
    return (
        f"{m.year:04d}-{m.month:02d}-{m.day:02d}T{m.hour:02d}:{m.minute:02d}:{m.second:02d}"
        f".{m.microsecond // 1000:03d}Z"
    )


def parse_time(value: datetime | str) -> datetime:
    """A datetime from ISO-8601 text (date only, ``Z`` suffix allowed) or a datetime.

    Naive values are taken as UTC.
    """
    if isinstance(value, str):
        text = value.strip()
        value = datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith("Z") else text)
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def utcnow() -> datetime:
    return datetime.now(timezone.utc)
