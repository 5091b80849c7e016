"""``python -m benchmarks.sdk_writer CONFIG``: the tap's record path against singer-sdk's fast one.

singer-sdk ships a msgspec message writer (``singer_sdk.contrib.msgspec.MsgSpecWriter``) and
lets a stream turn type conformance off (``TYPE_CONFORMANCE_LEVEL = NONE``). This runs the
same sync twice in subprocesses, once as the tap is and once with those two SDK settings and
the SDK's own record writing put back (STATE is written as the tap writes it, whose
quadratic cost in the SDK is another matter), and prints each run's CPU seconds, peak RSS,
records and whether their record lines decode to the same records. Figures, not a test.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import tempfile
import time
import typing as t
from pathlib import Path

from singer_sdk.contrib.msgspec import MsgSpecWriter
from singer_sdk.helpers.conform import TypeConformanceLevel

from tap_auth0_userlogs.singer.sdk_compat import StreamHooks
from tap_auth0_userlogs.singer.state_writer import PacedStateWriter
from tap_auth0_userlogs.singer.streams import LogEventTypesStream, UserLogsStream
from tap_auth0_userlogs.tap import TapAuth0UserLogs

if t.TYPE_CHECKING:
    from singer_sdk.streams import Stream


class SdkRecordsStream(UserLogsStream):
    """user_logs with singer-sdk's record writing and no type conformance."""

    TYPE_CONFORMANCE_LEVEL = TypeConformanceLevel.NONE
    write_record = StreamHooks.write_record
    records_as_json = False


class _Lines:
    """Where the tap's STATE writer puts its lines: straight to stdout, as MsgSpecWriter does."""

    def write_line(self, line: str) -> None:
        sys.stdout.buffer.write(line.encode() + b"\n")
        sys.stdout.flush()


class SdkWriterTap(TapAuth0UserLogs):
    """The tap with singer-sdk's msgspec writer; STATE as the tap writes it, to compare records."""

    message_writer_class = MsgSpecWriter

    def use_state_writer(self, writer: t.Any) -> None:
        super().use_state_writer(PacedStateWriter(t.cast("t.Any", _Lines())))

    def discover_streams(self) -> list[Stream]:
        return [SdkRecordsStream(self, self), LogEventTypesStream(self)]


def measure(variant: str, config: Path, out: Path) -> dict[str, t.Any]:
    started = time.monotonic()
    with out.open("wb") as stdout:
        subprocess.run(
            [sys.executable, "-m", "benchmarks.sdk_writer", "--run", variant, str(config)],
            stdout=stdout,
            stderr=subprocess.DEVNULL,
            check=True,
        )
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    records = {}
    with out.open("rb") as lines:
        for line in lines:
            message = json.loads(line)
            if message["type"] == "RECORD" and message["stream"] == "user_logs":
                records[message["record"]["log_id"]] = message["record"]
    return {"wall": time.monotonic() - started, "usage": usage, "records": records}


def main() -> None:
    if sys.argv[1] == "--run":
        tap = SdkWriterTap if sys.argv[2] == "sdk" else TapAuth0UserLogs
        sys.argv = [sys.argv[0], "--config", sys.argv[3]]
        tap.cli()
        return
    config = Path(sys.argv[1])
    with tempfile.TemporaryDirectory() as scratch:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        ours = measure("tap", config, Path(scratch, "tap.jsonl"))
        middle = ours["usage"]
        sdk = measure("sdk", config, Path(scratch, "sdk.jsonl"))
    cpu_ours = middle.ru_utime + middle.ru_stime - before.ru_utime - before.ru_stime
    after = sdk["usage"]
    cpu_sdk = after.ru_utime + after.ru_stime - middle.ru_utime - middle.ru_stime
    count = len(ours["records"])
    print(f"records: tap {count:,}, sdk {len(sdk['records']):,}")
    print(f"same records: {ours['records'] == sdk['records']}")
    print(f"tap's record path: {cpu_ours:.1f} CPU s ({count / cpu_ours:,.0f} records/CPU s)")
    rate, ratio = count / cpu_sdk, cpu_sdk / cpu_ours
    print(f"singer-sdk msgspec writer, no conformance: {cpu_sdk:.1f} CPU s ({rate:,.0f} "
          f"records/CPU s), {ratio:.2f}x the tap's CPU")  # fmt: skip


if __name__ == "__main__":
    main()
