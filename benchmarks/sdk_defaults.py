"""``python -m benchmarks.sdk_defaults --config ...``: the tap with singer-sdk's record path.

The CPU benchmark's yardstick. The tap speeds up writing records by overriding a few of
singer-sdk's hooks (its message writer, the stream's record writing, type conformance); this
tap puts back the SDK's own version of each hook the tap overrides and changes nothing else:
same requests, same paging, same normal form of an event, same STATE cadence (the tap's
checkpoint writer is not on the record path). It names what it restored on stderr.
"""

from __future__ import annotations

import sys
import types
import typing as t

from singer_sdk.helpers.conform import TypeConformanceLevel
from singer_sdk.io_base import SingerWriter
from singer_sdk.streams import Stream

from benchmarks.measure import RESTORED_PREFIX
from tap_auth0_userlogs.tap import TapAuth0UserLogs

# The hooks on the way from a record to a line on stdout.
TAP_HOOKS = ("message_writer_class",)
STREAM_HOOKS = ("TYPE_CONFORMANCE_LEVEL", "_generate_record_messages", "_write_record_message")


def sdk_attribute(cls: type, name: str) -> t.Any:
    """``name`` as the nearest singer_sdk class in ``cls``'s MRO defines it."""
    for klass in cls.__mro__:
        if klass.__module__.startswith("singer_sdk") and name in vars(klass):
            return vars(klass)[name]
    raise AttributeError(name)


def overridden(cls: type, name: str) -> bool:
    """Whether a class outside singer_sdk changes ``name`` for ``cls``."""
    for klass in cls.__mro__:
        if name in vars(klass):
            return not klass.__module__.startswith("singer_sdk")
    return False


def restore_stream(stream: Stream) -> list[str]:
    """Put singer-sdk's record hooks back on ``stream``; the names restored."""
    restored = []
    for name in STREAM_HOOKS:
        if overridden(type(stream), name):
            value = sdk_attribute(type(stream), name)
            if isinstance(value, types.FunctionType):
                value = types.MethodType(value, stream)
            setattr(stream, name, value)
            restored.append(f"{type(stream).__name__}.{name}")
    if stream.TYPE_CONFORMANCE_LEVEL is not TypeConformanceLevel.RECURSIVE:
        # The SDK's default level, in case the tap lowered it where the SDK set it.
        stream.TYPE_CONFORMANCE_LEVEL = TypeConformanceLevel.RECURSIVE  # type: ignore[misc]
        restored.append(f"{type(stream).__name__}.TYPE_CONFORMANCE_LEVEL")
    return restored


class SdkWriter(SingerWriter):
    """singer-sdk's writer, lending the tap's writer any method it lacks.

    Messages take singer-sdk's path; a method only the tap's writer has (the line the tap's
    checkpoint writer writes STATE through, say) still works. The SDK writer flushes every
    message, so lines written either way stay in order.
    """

    def __init__(self) -> None:
        super().__init__()
        self._tap_writer = TapAuth0UserLogs.message_writer_class()

    def __getattr__(self, name: str) -> t.Any:
        if name == "_tap_writer":
            raise AttributeError(name)
        return getattr(self._tap_writer, name)


class SdkDefaultsTap(TapAuth0UserLogs):
    """TapAuth0UserLogs writing its records the way singer-sdk does by default."""

    message_writer_class = SdkWriter

    def discover_streams(self) -> list[Stream]:
        streams = super().discover_streams()
        restored = [name for name in TAP_HOOKS if overridden(TapAuth0UserLogs, name)] + [
            name for stream in streams for name in restore_stream(stream)
        ]
        print(f"{RESTORED_PREFIX}{', '.join(restored) or 'none'}", file=sys.stderr)
        return streams


if __name__ == "__main__":
    SdkDefaultsTap.cli()
