"""A target keyed on the stream's key, as DuckDB and PostgreSQL keep ``user_logs``.

Loading a tap's output upserts each record on (``tenant_domain``, ``log_id``): a record sent
again by a later run replaces the earlier one, as a keyed target does. Two tables are then
compared row by row on every field but ``time_extracted`` (when the tap read the event, which
no two runs share).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from benchmarks.completeness import event_line

Key = tuple[str, str]


@dataclass(frozen=True)
class Row:
    """One row: its fields as canonical JSON, and what ``compare`` needs to place it."""

    content: str
    user_id: str
    date: str


@dataclass(frozen=True)
class Differences:
    """How two tables differ: keys in one only, and rows of a key whose fields differ."""

    only_left: int
    only_right: int
    differing: int
    example: str | None  # the log_id of one differing or missing row, and what differs

    @property
    def identical(self) -> bool:
        return not (self.only_left or self.only_right or self.differing)


class KeyedTable:
    """The user_logs rows a keyed target holds after loading taps' outputs in turn."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.rows: dict[Key, Row] = {}
        self.records = 0  # records loaded, re-sent ones included

    def load(self, stdout: Path) -> None:
        """Upsert every user_logs RECORD of a tap's Singer output."""
        with stdout.open("rb") as lines:
            for line in lines:
                message = json.loads(line)
                if message["type"] != "RECORD" or message["stream"] != "user_logs":
                    continue
                record = message["record"]
                record.pop("time_extracted", None)
                key = (record.get("tenant_domain") or "", record["log_id"])
                self.rows[key] = Row(
                    json.dumps(record, sort_keys=True),
                    record.get("user_id") or "",
                    record["date"],
                )
                self.records += 1

    def write_delivered(self, path: Path) -> Path:
        """One line per row, in the form the emulator's ``compare`` reads."""
        with path.open("w", encoding="utf-8") as out:
            for (_, log_id), row in self.rows.items():
                out.write(event_line(log_id, row.user_id, row.date))
        return path

    def differences(self, other: KeyedTable) -> Differences:
        only_left = self.rows.keys() - other.rows.keys()
        only_right = other.rows.keys() - self.rows.keys()
        differing = [
            key
            for key, row in self.rows.items()
            if key in other.rows and other.rows[key].content != row.content
        ]
        example = None
        if differing:
            key = differing[0]
            fields = _differing_fields(self.rows[key].content, other.rows[key].content)
            example = f"{key[1]}: {', '.join(fields)} differ"
        elif only_left or only_right:
            key = next(iter(only_left or only_right))
            example = f"{key[1]} is in {self.name if only_left else other.name} only"
        return Differences(len(only_left), len(only_right), len(differing), example)


def _differing_fields(left: str, right: str) -> list[str]:
    a, b = json.loads(left), json.loads(right)
    return sorted(name for name in a.keys() | b.keys() if a.get(name) != b.get(name))
