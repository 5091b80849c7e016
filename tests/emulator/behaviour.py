"""What Auth0 leaves undocumented, as knobs; each default is the documented or likeliest reading.

See auth0-api.md section 8. A tap must cope with every setting; tests pick one per run.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Literal, get_args

from tests.emulator.log_ids import ingestion_time

RatelimitReset = Literal["next_token", "bucket_full"]
DeletedUserLogs = Literal["empty", "404"]
ExpiredCheckpoint = Literal["400", "oldest"]

CHOICES: dict[str, tuple[str, ...]] = {
    "ratelimit_reset": get_args(RatelimitReset),
    "deleted_user_logs": get_args(DeletedUserLogs),
    "expired_checkpoint": get_args(ExpiredCheckpoint),
}
SECONDS = frozenset({"late_log_id_seconds"})  # knobs that take a number of seconds, >= 0
LOG_ID_RANGES = frozenset({"refuse_checkpoints_from"})  # knobs that take two log_ids, or None


@dataclass(frozen=True)
class Behaviour:
    # /api/v2/users?include_totals=true reports total as at most 1,000 ("1,000 or more").
    cap_user_totals: bool = True
    # x-ratelimit-reset: the epoch second the next token is added (docs), or the one the
    # bucket is full again (a node-auth0 maintainer's reading).
    ratelimit_reset: RatelimitReset = "next_token"
    # 429 answers carry Retry-After (whole seconds until a token); none is documented.
    retry_after: bool = False
    # /api/v2/users/{id}/logs of a deleted or unknown user: 200 [] or 404 inexistent_user.
    deleted_user_logs: DeletedUserLogs = "empty"
    # /api/v2/logs?from=<log_id past retention>: 400, or 200 from the oldest retained event.
    expired_checkpoint: ExpiredCheckpoint = "400"
    # Checkpoint mode orders by log_id so that an event indexed late gets a later one; whether
    # a late event can get a log_id below one already served is undocumented. Above 0, events
    # added while serving get a log_id whose time is up to this many seconds before the one
    # they would get (now, or the newest log_id's time if later): a client resuming from the
    # last log_id it read can miss them unless it starts that many seconds earlier.
    late_log_id_seconds: float = 0
    # Checkpoint mode (/api/v2/logs with from or take) answered 400 every time, as when Auth0
    # refuses it for a tenant; search mode (q, page, per_page, sort) keeps working.
    refuse_checkpoints: bool = False
    # Checkpoint reads whose from is a log_id within these two (inclusive) answered 400: a
    # refusal in the middle of a pass. A JSON list of two log_ids is accepted too.
    refuse_checkpoints_from: tuple[str, str] | None = None

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name in LOG_ID_RANGES:
                # Frozen: a list (from JSON) is stored as the tuple it stands for.
                object.__setattr__(self, f.name, _log_id_range(f.name, value))
                continue
            if f.name in SECONDS:
                if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
                    raise ValueError(f"{f.name} must be a number of seconds >= 0, got {value!r}")
                continue
            allowed = CHOICES.get(f.name, (True, False))
            if value not in allowed:
                raise ValueError(f"{f.name} must be one of {allowed}, got {value!r}")

    def refuses_checkpoint(self, start: str | None) -> bool:
        """Whether a checkpoint read from ``start`` (None: from the oldest event) answers 400."""
        if self.refuse_checkpoints:
            return True
        if self.refuse_checkpoints_from is None or start is None:
            return False
        first, last = self.refuse_checkpoints_from
        return first <= start <= last


def _log_id_range(name: str, value: object) -> tuple[str, str] | None:
    if value is None:
        return None
    if not isinstance(value, list | tuple) or len(value) != 2:
        raise ValueError(f"{name} must be None or two log_ids (first, last), got {value!r}")
    first, last = value
    for log_id in (first, last):
        try:
            ingestion_time(log_id)
        except (TypeError, ValueError):
            raise ValueError(f"{name} must hold two log_ids, got {log_id!r}") from None
    if first > last:
        raise ValueError(f"{name} must be (first, last) with first <= last, got {value!r}")
    return (first, last)
