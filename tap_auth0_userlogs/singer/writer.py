"""Writing Singer messages fast: msgspec, records written in batches, a flush where it matters.

singer-sdk builds a message object per record, serializes it with simplejson and flushes
stdout after every message. Here a record becomes its JSON line directly (a page of records
decoded as structs: in one call), lines are written in batches, and every non-RECORD message
(SCHEMA, STATE) first writes out the records before it and then flushes, so a target always
has all the records a STATE covers before the STATE.
"""

from __future__ import annotations

import contextlib
import datetime
import signal
import sys
import threading
import typing as t

import msgspec
from singer_sdk.io_base import SingerWriter
from singer_sdk.singerlib import SingerMessageType
from typing_extensions import override

from tap_auth0_userlogs.json_codec import dumps, encode

if t.TYPE_CHECKING:
    from collections.abc import Callable

    from singer_sdk.singerlib.encoding.simple import Message

# Record lines held before one write; small enough to keep a progress feel in the target.
RECORDS_PER_WRITE = 500


class _RecordMessage(msgspec.Struct, gc=False):
    """A RECORD message around a record that msgspec encodes as it is (a struct, say)."""

    type: str
    stream: str
    record: t.Any
    time_extracted: msgspec.Raw


_LINES = msgspec.json.Encoder()
_HELD_SIGNALS = {signal.SIGTERM, signal.SIGINT} if hasattr(signal, "pthread_sigmask") else set()


class FastSingerWriter(SingerWriter):
    """singer-sdk's writer, with batched record lines and a faster encoder."""

    def __init__(self) -> None:
        super().__init__()
        # Lines, or runs of lines, each ending in a line break; and how many lines they hold.
        self._pending: list[bytes] = []
        self._pending_lines = 0
        self._writing = False
        self._after_write: Callable[[], None] | None = None
        self._time_extracted: tuple[datetime.datetime | None, bytes] = (None, b"")
        self._record_heads: dict[str, bytes] = {}

    @override
    def serialize_message(self, message: Message) -> str:
        """One JSON line."""
        return dumps(message.to_dict())

    @override
    def write_message(self, message: Message) -> None:
        """Write one message; anything but a RECORD goes out at once."""
        line = self.serialize_message(message)
        if message.type == SingerMessageType.RECORD:
            self._queue(line.encode())
        else:
            self.write_line(line)

    def write_record(
        self, stream: str, record: dict[str, t.Any], time_extracted: datetime.datetime
    ) -> None:
        """A RECORD message without building a message object first."""
        self.write_record_jsons(stream, [encode(record)], time_extracted)

    def write_record_jsons(
        self, stream: str, records: list[bytes], time_extracted: datetime.datetime
    ) -> None:
        """RECORD messages of records already in JSON."""
        text = self._time_text(time_extracted)
        head = self._record_heads.get(stream)
        if head is None:
            head = self._record_heads[stream] = (
                b'{"type":"RECORD","stream":' + encode(stream) + b',"record":'
            )
        tail = b',"time_extracted":' + text + b"}\n"
        self._hold([head + record + tail for record in records])

    def write_record_structs(
        self, stream: str, records: list[t.Any], time_extracted: datetime.datetime
    ) -> None:
        """RECORD messages of records msgspec encodes as they are: all lines in one call."""
        if not records:
            return
        when = msgspec.Raw(self._time_text(time_extracted))
        messages = [_RecordMessage("RECORD", stream, record, when) for record in records]
        self._pending.append(_LINES.encode_lines(messages))
        self._pending_lines += len(records)
        if self._pending_lines >= RECORDS_PER_WRITE:
            self._write_pending()

    def write_line(self, line: str) -> None:
        """Write the records held so far, then `line`, and flush."""
        self._pending.append(line.encode() + b"\n")
        self._write_pending(flush=True)

    def _time_text(self, time_extracted: datetime.datetime) -> bytes:
        when, text = self._time_extracted
        if when is not time_extracted:
            text = encode(time_extracted)
            self._time_extracted = (time_extracted, text)
        return text

    def _queue(self, line: bytes) -> None:
        self._hold([line + b"\n"])

    def _hold(self, lines: list[bytes]) -> None:
        self._pending.extend(lines)
        self._pending_lines += len(lines)
        if self._pending_lines >= RECORDS_PER_WRITE:
            self._write_pending()

    def when_not_writing(self, action: Callable[[], None]) -> None:
        """Run `action` now, or, if a write is in progress, as soon as it has finished.

        For signal handlers, which Python runs between any two lines of the main thread: one
        that wrote a STATE while record lines were on their way out could put the STATE ahead
        of records it covers, and one that ended the tap there could leave them unwritten.
        """
        if self._writing:
            self._after_write = action
        else:
            action()

    def _write_pending(self, *, flush: bool = False) -> None:
        self._writing = True
        try:
            with _signals_held():
                if self._pending:
                    _write_out(b"".join(self._pending))
                    self._pending.clear()
                    self._pending_lines = 0
                if flush:
                    sys.stdout.flush()
        finally:
            self._writing = False
        action, self._after_write = self._after_write, None
        if action is not None:
            action()


def _write_out(data: bytes) -> None:
    """Bytes to stdout, or text where stdout has no byte buffer (a test capturing it)."""
    buffer = getattr(sys.stdout, "buffer", None)
    if buffer is not None:
        buffer.write(data)
    else:
        sys.stdout.write(data.decode())


@contextlib.contextmanager
def _signals_held() -> t.Iterator[None]:
    """Keep SIGTERM and SIGINT from interrupting a write of the main thread.

    When a signal interrupts a write blocked on a full pipe (a slow target), Python's stdout
    drops the rest of what it was writing, even if the handler returns normally. Blocked in
    the main thread, the signal goes to another thread or waits until the write is done; its
    handler, which always runs in the main thread, then finds `_writing` set and waits too.
    """
    if threading.current_thread() is not threading.main_thread() or not _HELD_SIGNALS:
        yield
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, _HELD_SIGNALS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)
