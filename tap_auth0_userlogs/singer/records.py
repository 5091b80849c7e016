"""RECORD messages of log events, written the fast way where nothing changes them.

singer-sdk conforms every record to the schema and builds a message object for it. Events are
already in the schema's shape (`events.fields.normalize_event`), so records skip conformance;
and a pass page's events, decoded only as far as routing needs (`events.pages`), go out as the
JSON they arrived in unless a stream map or a deselected field has to change them.
"""

from __future__ import annotations

import typing as t
from functools import cached_property

from singer_sdk.mapper import SameRecordTransform
from typing_extensions import override

from tap_auth0_userlogs.events.dates import utc_now
from tap_auth0_userlogs.events.fields import normalize_event
from tap_auth0_userlogs.events.pages import DecodedEvent, as_dict
from tap_auth0_userlogs.singer.sdk_compat import StreamHooks, pop_deselected_record_properties

if t.TYPE_CHECKING:
    from collections.abc import Mapping

    from singer_sdk import Stream, Tap

    from tap_auth0_userlogs.auth0.session import TenantSession
    from tap_auth0_userlogs.events.pages import LogEvent
    from tap_auth0_userlogs.settings import Settings
    from tap_auth0_userlogs.singer.state_writer import PacedStateWriter
    from tap_auth0_userlogs.singer.writer import FastSingerWriter


class TapShared(t.Protocol):
    """What the tap shares with its streams; read once a sync begins, never at discovery."""

    @property
    def settings(self) -> Settings: ...

    @property
    def tenant_session(self) -> TenantSession: ...

    @property
    def record_writer(self) -> FastSingerWriter: ...

    @property
    def paced_state(self) -> PacedStateWriter: ...

    @property
    def streams(self) -> Mapping[str, Stream]: ...


class LogEventRecords(StreamHooks):
    """A stream of log events: records written without conformance, in batches where it may."""

    def __init__(self, tap: Tap, shared: TapShared) -> None:
        super().__init__(tap)
        self.shared = shared
        # When the records being written were read from Auth0 (the message's time_extracted).
        self.extracted_at = utc_now()

    def mark_extracted(self) -> None:
        """The records that follow were read from Auth0 just now."""
        self.extracted_at = utc_now()

    def write_events(self, events: list[LogEvent]) -> None:
        """RECORD messages of events from a pass page, in one batch where no map changes them."""
        domain = self.shared.settings.tenant_domain
        records: list[t.Any] = []
        whole: list[LogEvent] = events
        if self.records_as_json:
            records = [e for e in events if type(e) is not DecodedEvent]
            whole = (
                [e for e in events if type(e) is DecodedEvent] if len(records) < len(events) else []
            )
        for event in whole:
            self.write_record(normalize_event(as_dict(event), domain))
        for record in records:
            record.tenant_domain = domain  # a struct of the event's own fields
        if records:
            self.shared.record_writer.write_record_structs(self.name, records, self.extracted_at)
        if events:
            self.mark_state_changed()

    @override
    def write_record(self, record: dict[str, t.Any]) -> None:
        """singer-sdk's record path without its per-record type conformance.

        `normalize_event` already gives every record the schema's shape (unknown fields in
        `extra_fields`, JSON-native values), so conforming it again changes nothing.
        """
        if self.catalog_deselects_fields:
            pop_deselected_record_properties(record, self.schema, self.mask)
        writer = self.shared.record_writer
        for stream_map in self.stream_maps:
            mapped = stream_map.transform(record)
            if mapped is not None:
                writer.write_record(stream_map.stream_alias, mapped, self.extracted_at)
        self.mark_state_changed()

    @cached_property
    def records_as_json(self) -> bool:
        """Whether records may be written straight from JSON: no stream map, no field dropped."""
        maps = self.stream_maps
        return (
            not self.catalog_deselects_fields
            and len(maps) == 1
            and type(maps[0]) is SameRecordTransform
            and maps[0].stream_alias == self.name
            and not maps[0].flattening_enabled
        )

    @cached_property
    def catalog_deselects_fields(self) -> bool:
        """Whether the catalog leaves some field of the schema out."""
        return not all(self.mask.values())
