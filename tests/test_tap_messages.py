"""The message writer under a stop signal: a STATE never goes out ahead of the records it covers.

On SIGTERM the tap writes the state it reached and exits. Python runs that handler in the main
thread, between any two of its lines: while a write holds the signal back from the main thread,
another thread (a prefetch worker) can take it, and the handler then runs at the next line the
main thread reaches, in the middle of the write. This test runs the installed handler at every
line the writer executes, one run per line, and checks what came out.
"""

from __future__ import annotations

import io
import json
import signal
import sys
from contextlib import redirect_stdout
from pathlib import Path

import pytest

from tap_auth0_userlogs.singer import state_writer
from tap_auth0_userlogs.singer import writer as messages
from tap_auth0_userlogs.singer.state_writer import PacedStateWriter
from tap_auth0_userlogs.singer.writer import FastSingerWriter
from tap_auth0_userlogs.tap import TapAuth0UserLogs

RECORDS = 7
# The writer's own modules: the signal lands at each line run in them.
WRITER_FILES = {Path(messages.__file__).resolve(), Path(state_writer.__file__).resolve()}


@pytest.fixture
def tap(monkeypatch):
    """A tap with its real SIGTERM handler installed; the previous handler comes back after."""
    monkeypatch.setattr(messages, "RECORDS_PER_WRITE", 3)  # several batched writes per run
    previous = signal.getsignal(signal.SIGTERM)
    config = {"domain": "acme.us.auth0.com", "access_token": "t", "user_ids": ["auth0|1"]}
    try:
        yield TapAuth0UserLogs(config=config, validate_config=True)
    finally:
        signal.signal(signal.SIGTERM, previous)


class SignalAtLine:
    """A tracer that runs the installed SIGTERM handler at the n-th line run in the writer."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.lines_seen = 0
        self.handled = False

    def __call__(self, frame, event, arg):
        if Path(frame.f_code.co_filename).resolve() not in WRITER_FILES:
            return None
        return self._line

    def _line(self, frame, event, arg):
        if event == "line":
            if self.lines_seen == self.n:
                self.handled = True
                signal.getsignal(signal.SIGTERM)(signal.SIGTERM, frame)
            self.lines_seen += 1
        return self._line


def sync_stopped_at_line(tap: TapAuth0UserLogs, n: int) -> tuple[list[str], int, SignalAtLine]:
    """Queue records, checkpoint, queue more; SIGTERM at the n-th writer line.

    Returns the lines written, how many records had been handed to the writer in full when the
    tap stopped, and the tracer.
    """
    writer = FastSingerWriter()
    tap.message_writer = writer
    tap.use_state_writer(PacedStateWriter(writer))
    tracer = SignalAtLine(n)
    handed = 0
    out = io.StringIO()
    with redirect_stdout(out):
        sys.settrace(tracer)
        try:
            for number in range(RECORDS):
                writer.write_record("user_logs", {"log_id": str(number)}, tap.initialized_at)
                handed += 1
                if number == RECORDS // 2:
                    tap.state_writer.write_state({"checkpoint": number})
            tap.state_writer.write_state({"checkpoint": "end"})
        except SystemExit:
            pass
        finally:
            sys.settrace(None)
    return out.getvalue().splitlines(), handed, tracer


def test_a_stop_signal_anywhere_in_a_write_leaves_no_record_behind_its_state(tap):
    stops = 0
    for n in range(10_000):
        lines, handed, tracer = sync_stopped_at_line(tap, n)
        if not tracer.handled:
            break  # n is past the last line the writer runs: every point has been tried
        stops += 1
        messages_out = [json.loads(line) for line in lines]  # every line whole
        assert messages_out[-1]["type"] == "STATE", f"signal at writer line {n}"
        records = [m["record"]["log_id"] for m in messages_out if m["type"] == "RECORD"]
        # Every record handed over before the stop went out once, in order, before the STATE.
        assert records == [str(i) for i in range(len(records))], f"signal at writer line {n}"
        assert len(records) >= handed, f"signal at writer line {n}"
    assert stops > 20  # the tracer really walked through the writer's lines
