"""Did a client get every event and every user? Its output against what the emulator holds.

A client's events are written as ``log_id<TAB>user_id<TAB>date`` lines and the users it found
one a line; the emulator's ``compare`` command reads both files and sets them against every
retained event of every current user (sets of log_ids, not counts), as of the comparison.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import msgspec

Call = Callable[..., dict[str, Any]]


class _Event(msgspec.Struct):
    """The fields of a user_logs record the comparison reads."""

    log_id: str
    date: str
    user_id: str | None = None


class _Message(msgspec.Struct):
    """A Singer message, its record left raw: only user_logs records are decoded further."""

    type: str
    stream: str | None = None
    record: msgspec.Raw = msgspec.Raw()  # empty (falsy) when the message has none
    value: dict[str, Any] | None = None


# Typed decoding skips every other field: a few hundred thousand records take seconds.
_MESSAGE = msgspec.json.Decoder(_Message)
_EVENT = msgspec.json.Decoder(_Event)


def of_tap(call: Call, stdout: Path, folder: Path) -> dict[str, Any]:
    """Compare a tap's Singer output: its user_logs records, and its final state's users."""
    delivered = folder / "delivered.tsv"
    users = folder / "users.txt"
    last_state: dict[str, Any] | None = None
    found: set[str] = set()
    with stdout.open("rb") as lines, delivered.open("w", encoding="utf-8") as out:
        for line in lines:
            message = _MESSAGE.decode(line)
            if message.type == "RECORD" and message.stream == "user_logs" and message.record:
                event = _EVENT.decode(message.record)
                out.write(event_line(event.log_id, event.user_id, event.date))
                found.add(event.user_id or "")
            elif message.type == "STATE":
                last_state = message.value
    # A user read one by one has a partition in the state, events or not; one served by a
    # pass over the tenant's log may only show in its events.
    bookmarks = (last_state or {}).get("bookmarks", {})
    partitions = (bookmarks.get("user_logs") or {}).get("partitions", [])
    found |= {p["context"]["user_id"] for p in partitions}
    users.write_text("".join(f"{user_id}\n" for user_id in found if user_id))
    return call("compare", path=str(delivered), users_path=str(users))


def of_log_reader(call: Call, delivered: Path) -> dict[str, Any]:
    """Compare a reader of the tenant's log: the users it found are those of its events."""
    users = delivered.with_suffix(".users.txt")
    with delivered.open(encoding="utf-8") as lines:
        found = {line.split("\t")[1] for line in lines}
    users.write_text("".join(f"{user_id}\n" for user_id in found if user_id))
    return call("compare", path=str(delivered), users_path=str(users))


def event_line(log_id: str, user_id: str | None, date: str) -> str:
    """The line ``compare`` reads for one event."""
    return f"{log_id}\t{user_id or ''}\t{date}\n"


def plural(count: int, noun: str) -> str:
    return f"{count:,} {noun}" + ("" if count == 1 else "s")


def extra(found: dict[str, Any]) -> int:
    """Events delivered that the tenant does not expect (each kind the emulator tells apart)."""
    return sum(v for k, v in found.items() if k.startswith("extra_"))


def describe(found: dict[str, Any], *, stopped: bool = False) -> list[str]:
    """Notes on what a comparison found beyond the table's figures.

    ``stopped``: the run was stopped on its time budget, so the events it did not deliver were
    not read rather than missed, and go unmentioned.
    """
    notes = []
    if found["missing"] and not stopped:
        notes.append(
            f"missed {plural(found['missing'], 'event')} of "
            f"{plural(found['missing_users'], 'user')}, "
            f"{found['missing_of_heavy_users']:,} of those events of users past the 1,000 cap"
        )
    kinds = {
        "extra_no_user": "of no user (client-credentials exchanges)",
        "extra_expired": "past retention by the time of the comparison",
        "extra_unknown_user": "of users no longer in the tenant",
        "extra_other": "not in the tenant at all",
    }
    parts = [f"{found[k]:,} {text}" for k, text in kinds.items() if found.get(k)]
    if parts:
        notes.append("delivered beyond the expected events: " + "; ".join(parts))
    if found.get("duplicates"):
        notes.append(f"{found['duplicates']:,} events delivered twice (or more)")
    if found.get("users_unknown"):
        notes.append(f"{found['users_unknown']:,} users found that the tenant does not have")
    return notes
