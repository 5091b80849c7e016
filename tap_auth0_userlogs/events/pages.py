"""Pages of the tenant's log, decoded just enough to route each event and emit it.

A pass reads up to a million events a run, and decoding each event into Python objects and
encoding it again cost more CPU than everything else the tap does with it. Here an event is
decoded into a struct of every field the schema names: the fields the tap routes by
(`log_id`, `user_id`, `date`, `type`) and `scope` (which becomes a list) as Python values, every
other field as its raw JSON, written out again byte for byte (integers of any size stay
exact). An event with a field the schema does not name is decoded whole, as a DecodedEvent,
and normalized like a per-user page, which keeps such fields in `extra_fields`.
"""

from __future__ import annotations

import re
import typing as t

import msgspec

from tap_auth0_userlogs.events.fields import KNOWN_FIELDS, TENANT_DOMAIN, normalize_scope
from tap_auth0_userlogs.json_codec import loads

# Decoded as Python values; a null or absent one is None, and left out of the record.
_ROUTED: dict[str, t.Any] = {
    "user_id": str | None,
    "date": str | None,
    "type": str | None,
    "scope": list[str] | str | None,
    TENANT_DOMAIN: str | None,
}
_RAW_FIELDS = sorted(KNOWN_FIELDS - _ROUTED.keys() - {"log_id"})


def _attribute(field: str) -> str:
    """A Python name for a field (`$event_schema` and `_id` are fields too)."""
    return "f_" + re.sub(r"\W", "_", field)


# An event of only known fields, and the record it becomes (built by `decode_page`): the routed
# fields as values (None, when null or absent, is left out of the record), the others raw and
# UNSET when absent, so that they stay absent.
EventRecord: t.Any = msgspec.defstruct(
    "EventRecord",
    [("log_id", str)]
    + [(field, kind, None) for field, kind in _ROUTED.items()]
    + [(_attribute(f), msgspec.Raw | msgspec.UnsetType, msgspec.UNSET) for f in _RAW_FIELDS],
    rename={_attribute(f): f for f in _RAW_FIELDS},
    forbid_unknown_fields=True,
    omit_defaults=True,
)


class LogEvent(t.Protocol):
    """What the tap routes an event by, whichever way it was decoded."""

    log_id: str
    user_id: str | None
    date: str | None
    type: str | None


class DecodedEvent:
    """An event decoded whole: one with a field the schema does not name, or from a search."""

    __slots__ = ("date", "event", "log_id", "type", "user_id")

    def __init__(self, event: dict[str, t.Any]) -> None:
        self.event = event
        self.log_id: str = event["log_id"]
        self.user_id: str | None = event.get("user_id")
        self.date: str | None = event.get("date")
        self.type: str | None = event.get("type")


_PAGE = msgspec.json.Decoder(list[msgspec.Raw])
_RECORD = msgspec.json.Decoder(EventRecord)
_ENCODER = msgspec.json.Encoder()


def decode_page(body: bytes) -> list[LogEvent] | t.Any:
    """A page of `/api/v2/logs` as events; a body that is JSON but no list, decoded as is.

    Raises ValueError when the body is not JSON, as every decoder given to the API must.
    """
    if b"\n" in body or b"\r" in body:
        # Raw fields would carry the line breaks of indented JSON into one-line messages.
        decoded = loads(body)
        return [DecodedEvent(e) for e in decoded] if isinstance(decoded, list) else decoded
    try:
        parts = _PAGE.decode(body)
    except msgspec.ValidationError:
        return loads(body)
    return [_event(part) for part in parts]


def _event(part: msgspec.Raw) -> LogEvent:
    try:
        record = _RECORD.decode(part)
    except msgspec.ValidationError:
        return DecodedEvent(loads(bytes(part)))
    if isinstance(record.scope, str):
        record.scope = normalize_scope(record.scope)
    return t.cast("LogEvent", record)


def record_json(record: t.Any, tenant_domain: str) -> bytes:
    """The record of an event decoded as a struct, its tenant set, as JSON."""
    record.tenant_domain = tenant_domain
    return _ENCODER.encode(record)


def as_dict(event: LogEvent) -> dict[str, t.Any]:
    """The event as a dict (for stream maps and field selection, which need one)."""
    if isinstance(event, DecodedEvent):
        return event.event
    return t.cast("dict[str, t.Any]", loads(_ENCODER.encode(event)))
