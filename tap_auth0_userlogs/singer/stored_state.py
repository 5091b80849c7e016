"""What earlier runs left in `user_logs`'s state, read as plain data.

The state is singer-sdk's partitioned shape plus the pass position: on the stream, the position
in the tenant's log (every event up to it is out; the name predates passes) and whether it
covers every user of the tenant (a run with neither user_ids nor user_query); on each
partition, the user's `date` bookmark and the position that user is in sync with. The keys
keep the names 0.1.0 wrote (tests/test_state_compat.py).
"""

from __future__ import annotations

import typing as t

POSITION_KEY = "log_checkpoint"
EVERY_USER_KEY = "log_checkpoint_every_user"
BOOKMARK_KEY = "replication_key_value"


def covering_position(stream_state: t.Mapping[str, t.Any], every_user: bool) -> str | None:
    """The stored position, when a pass from it serves this run's users."""
    position = stream_state.get(POSITION_KEY)
    if not isinstance(position, str) or not position:
        return None
    if stream_state.get(EVERY_USER_KEY):
        return position
    # It names some users only: a run over every user must start again from the start.
    return None if every_user else position


def by_user(stream_state: t.Mapping[str, t.Any], key: str) -> dict[str, t.Any]:
    """user_id -> the value of `key` in that user's partition (None where it has none)."""
    return {
        partition["context"]["user_id"]: partition.get(key)
        for partition in stream_state.get("partitions", [])
    }
