"""Auth0's log_ids, and the positions in the tenant's log they name.

A log_id is `900` + YYYYMMDDhhmmss (its ingestion second) + digits: undocumented, seen in real
data. So `900` + a time + zeros sorts before every event ingested in that second, which is how
Elastic's Auth0 integration starts its passes, and log_ids of one width order as text.
"""

from __future__ import annotations

import datetime

_LOG_ID_TIME = slice(3, 17)
_LOG_ID_TAIL = "0" * 39


def log_id_at(moment: datetime.datetime) -> str:
    """A position just before every event Auth0 ingested from `moment`'s second on."""
    utc = moment.astimezone(datetime.timezone.utc)
    return "900" + utc.strftime("%Y%m%d%H%M%S") + _LOG_ID_TAIL


def log_id_time(log_id: str) -> datetime.datetime | None:
    """The ingestion second a log_id carries, if it has the layout seen in real data."""
    digits = log_id[_LOG_ID_TIME]
    if len(digits) != 14 or not digits.isdigit():
        return None
    try:  # by hand: strptime costs ten times as much, and slices ask at every page
        return datetime.datetime(
            int(digits[:4]),
            int(digits[4:6]),
            int(digits[6:8]),
            int(digits[8:10]),
            int(digits[10:12]),
            int(digits[12:]),
            tzinfo=datetime.timezone.utc,
        )
    except ValueError:
        return None


def log_id_order(log_id: str) -> tuple[int, str]:
    """Sort key of log_ids as Auth0 orders them: numbers of one width, compared as text."""
    return (len(log_id), log_id)


def is_after(log_id: str, position: str) -> bool:
    """Whether `log_id` comes after `position` in the tenant's log."""
    return log_id_order(log_id) > log_id_order(position)


def held_back(position: str, margin: datetime.timedelta) -> str:
    """`position`, moved `margin` earlier, for events Auth0 may file below served log_ids."""
    moment = log_id_time(position)
    if not margin or moment is None:
        return position
    earlier = log_id_at(moment - margin)
    return min(position, earlier, key=log_id_order)
