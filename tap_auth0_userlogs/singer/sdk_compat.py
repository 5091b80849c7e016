"""Every use of singer-sdk's private API, fenced in one module.

singer-sdk offers no public way to do a few things this tap needs: replace its STATE writer
and its partition state manager (both cost quadratic time with a partition per user), update a
bookmark once per user instead of once per record, write records without per-record type
conformance, validate settings beyond the JSON schema, stop on a signal with a non-zero exit,
read `.env` files and environment variables with a clear error, order the streams, run a sync
that writes its own records, and act at the end of a stream's sync (singer-sdk marks `sync` and
`load_streams` final). Each private import and hook is here and nowhere else; the rest of the
package uses the public names these classes give them. `HOOKS` lists every private member used
anywhere (and the final methods overridden), and tests/test_sdk_compat.py fails, naming the
hook, when a singer-sdk release renames, moves or changes one.
"""

from __future__ import annotations

import typing as t

from singer_sdk import Stream, Tap
from singer_sdk.configuration._dict_config import parse_environment_config
from singer_sdk.helpers._catalog import pop_deselected_record_properties
from singer_sdk.helpers._classproperty import classproperty
from singer_sdk.streams._state import StreamStateManager
from typing_extensions import override

if t.TYPE_CHECKING:
    from types import FrameType

    from singer_sdk.helpers import types

__all__ = [
    "HOOKS",
    "StreamHooks",
    "StreamStateManager",
    "TapHooks",
    "classproperty",
    "parse_environment_config",
    "pop_deselected_record_properties",
]

# The private names used, by the singer-sdk class that must still have them, with the
# parameters each method must still take.
HOOKS: dict[type, dict[str, tuple[str, ...] | None]] = {
    Tap: {
        "_state_writer": None,
        "_validate_config": ("self", "raise_errors"),
        "_handle_termination": ("self", "signum", "frame"),
        "_env_var_config": None,
        "_env_var_prefix": None,
        "load_streams": ("self",),  # public, but final
    },
    Stream: {
        "_tap_state": None,
        "_state_manager": None,
        "_increment_stream_state": ("self", "latest_record", "context"),
        "_write_record_message": ("self", "record"),
        "_write_state_message": ("self",),
        "_write_schema_message": ("self",),
        "_finalize_state": ("self", "state"),
        "sync": ("self", "context"),  # public, but final
    },
    # A private class: every member IndexedStateManager and the streams use.
    StreamStateManager: {
        "__init__": (
            "self",
            "stream_name",
            "tap_state",
            "is_sorted",
            "check_sorted",
            "tap_name",
            "state_partitioning_keys",
        ),
        "stream_state": None,
        "get_context_state": ("self", "context"),
        "get_state_partition_context": ("self", "context"),
        "is_flushed": None,
    },
}


class TapHooks(Tap):
    """A Tap whose private hooks call public methods a subclass overrides."""

    def use_state_writer(self, writer: t.Any) -> None:
        """Write every STATE message through `writer` (it needs a `write_state(state)`)."""
        self._state_writer = writer

    @override
    def _validate_config(self, *, raise_errors: bool = True) -> list[str]:
        errors = super()._validate_config(raise_errors=raise_errors)
        return errors or self.settings_problems(raise_errors=raise_errors)

    def settings_problems(self, *, raise_errors: bool) -> list[str]:
        """Problems the JSON schema cannot express, once the SDK's validation passed."""
        return []

    @override
    def _handle_termination(self, signum: int, frame: FrameType | None) -> None:
        self.on_termination(signum)

    def on_termination(self, signum: int) -> None:
        """SIGTERM or SIGINT arrived; singer-sdk's own handling by default."""
        super()._handle_termination(signum, None)

    # singer-sdk marks load_streams final; overriding it is the only way to order streams.
    @override  # type: ignore[misc]
    def load_streams(self) -> list[Stream]:
        return self.order_streams(super().load_streams())

    def order_streams(self, streams: list[Stream]) -> list[Stream]:
        """The order streams sync in; singer-sdk's by default."""
        return streams

    @classproperty
    @override
    def _env_var_config(cls) -> dict[str, t.Any]:
        schema = cls.config_jsonschema
        cls.append_builtin_config(schema)
        return cls.environment_settings(schema, cls._env_var_prefix)

    @classmethod
    def environment_settings(cls, schema: dict[str, t.Any], prefix: str) -> dict[str, t.Any]:
        """Settings from environment variables named `prefix` + setting."""
        return parse_environment_config(schema, prefix)


class StreamHooks(Stream):
    """A Stream whose private hooks call public methods a subclass overrides."""

    # singer-sdk marks sync final; a sync of one's own and its end have no other hook.
    @override  # type: ignore[misc]
    def sync(self, context: types.Context | None = None) -> None:
        finished = False
        try:
            self.run_sync(context)
            finished = True
        finally:
            self.after_sync(finished=finished)

    def run_sync(self, context: types.Context | None) -> None:
        """The sync itself: singer-sdk's (get_records once per partition) by default."""
        super().sync(context)

    def begin_own_sync(self) -> None:
        """For a sync that writes its own records: what singer-sdk's does before them."""
        self.logger.info(
            "Beginning sync of '%s' in %s mode", self.name, self.replication_method.lower()
        )
        if self.selected:
            self._write_schema_message()

    def end_own_sync(self) -> None:
        """For a sync that writes its own records: the stream's state finalized and written."""
        self._finalize_state(self.stream_state)
        self._write_state_message()

    def after_sync(self, *, finished: bool) -> None:
        """The stream's sync ended, whole (`finished`) or by an exception."""

    def mark_state_changed(self) -> None:
        """The state moved since the last STATE message: the next one must be written."""
        self.state_manager.is_flushed = False

    @property
    @override
    def state_manager(self) -> StreamStateManager:
        if self._state_manager is None:
            self._state_manager = self.make_state_manager(
                tap_name=self.tap_name,
                stream_name=self.name,
                tap_state=self._tap_state,
                state_partitioning_keys=self.state_partitioning_keys,
                is_sorted=self.is_sorted,
                check_sorted=self.check_sorted,
            )
        return self._state_manager

    def make_state_manager(self, **kwargs: t.Any) -> StreamStateManager:
        """The stream's state manager, given singer-sdk's arguments for it."""
        return StreamStateManager(**kwargs)

    @override
    def _increment_stream_state(
        self, latest_record: dict[str, t.Any], *, context: types.Context | None = None
    ) -> None:
        self.record_emitted(latest_record, context)

    def record_emitted(self, record: dict[str, t.Any], context: types.Context | None) -> None:
        """A record went out: singer-sdk moves the bookmark by default."""
        self.advance_bookmark(record, context)

    def advance_bookmark(self, record: dict[str, t.Any], context: types.Context | None) -> None:
        """singer-sdk's bookmark update for `record`."""
        super()._increment_stream_state(record, context=context)

    @override
    def _write_record_message(self, record: dict[str, t.Any]) -> None:
        self.write_record(record)

    def write_record(self, record: dict[str, t.Any]) -> None:
        """Write one RECORD message (and its mapped copies): singer-sdk's way by default."""
        super()._write_record_message(record)

    def write_state_now(self) -> None:
        """A STATE message now, if the state changed since the last one."""
        self._write_state_message()
