"""The analytics fixture: raw Auth0 events with known answers, loaded as the tap loads them.

data/raw_events.jsonl holds one event a line, in the form the tap emits it (tenant_domain set,
unknown fields in extra_fields), with the stream it belongs in, the run that loads it (batch 1,
then batch 2: new events, late ones inside the look-back, one re-sent) and, for the events a
test asks about, a name. Two tenants share a user_id and a log_id; events with no user_id are in
tenant_logs, as the tap's stream of that name will write them.

The SCHEMA messages and the log_event_types rows come from a real sync of the tap against an
emulated tenant with no events, every stream selected, so the loaders type every column exactly
as in production.
"""

from __future__ import annotations

import copy
import json
import subprocess
import tempfile
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from tests.e2e.meltano_cli import Meltano, MeltanoFailed
from tests.emulator import Emulator, TenantSpec
from tests.tap_support import catalog_of

FIXTURE = Path(__file__).parent / "data" / "raw_events.jsonl"
TAP = Path(__file__).resolve().parents[2] / ".venv" / "bin" / "tap-auth0-userlogs"
EVENT_STREAMS = ("user_logs", "tenant_logs")


@dataclass(frozen=True)
class RawEvent:
    stream: str
    batch: int
    name: str | None
    record: dict[str, Any]


@cache
def raw_events() -> tuple[RawEvent, ...]:
    rows = [json.loads(line) for line in FIXTURE.read_text().splitlines() if line.strip()]
    return tuple(RawEvent(r["stream"], r["batch"], r.get("name"), r["record"]) for r in rows)


def named(name: str) -> dict[str, Any]:
    """The record of the event the fixture calls `name`."""
    (event,) = (e for e in raw_events() if e.name == name)
    return copy.deepcopy(event.record)


def distinct_events(batches: tuple[int, ...] = (1, 2)) -> set[tuple[str, str]]:
    """(tenant_domain, log_id) of every event loaded by these batches: staging's rows."""
    return {
        (e.record["tenant_domain"], e.record["log_id"]) for e in raw_events() if e.batch in batches
    }


@cache
def tap_messages() -> tuple[dict[str, Any], ...]:
    """The SCHEMA messages and log_event_types RECORDs of one real sync of the tap."""
    with (
        Emulator(TenantSpec(users=1, events_per_user=0, seed=5)) as emulator,
        tempfile.NamedTemporaryFile("w", suffix=".json") as config,
        tempfile.NamedTemporaryFile("w", suffix=".json") as catalog,
    ):
        settings = {
            "domain": emulator.domain,
            "api_url": emulator.base_url,
            "access_token": emulator.static_token,
            "user_ids": emulator.tenant.user_ids(),
        }
        config.write(json.dumps(settings))
        config.flush()
        catalog.write(json.dumps(catalog_of(settings, *EVENT_STREAMS, "log_event_types")))
        catalog.flush()
        output = run_or_fail([str(TAP), "--config", config.name, "--catalog", catalog.name])
    messages = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    return tuple(m for m in messages if m["type"] in ("SCHEMA", "RECORD"))


def singer_input(batch: int) -> str:
    """What the loader reads for one run: the tap's schemas and event types, then the batch."""
    messages = list(tap_messages())
    for event in raw_events():
        if event.batch == batch:
            messages.append({"type": "RECORD", "stream": event.stream, "record": event.record})
    return "".join(json.dumps(m) + "\n" for m in messages)


def load_batch(meltano: Meltano, loader: str, batch: int) -> None:
    """`meltano invoke LOADER` fed one batch, as after a run of the tap."""
    command = [str(meltano.executable), "invoke", loader]
    run_or_fail(command, singer_input(batch), cwd=meltano.project, env=meltano.env)


def run_or_fail(command: list[str], stdin: str | None = None, **options: Any) -> str:
    """A command's stdout; a failure raises with the end of its stderr."""
    done = subprocess.run(
        command, input=stdin, capture_output=True, text=True, timeout=180, check=False, **options
    )
    if done.returncode != 0:
        name = Path(command[0]).name
        raise MeltanoFailed(
            f"{name} {' '.join(command[1:2])} exited {done.returncode}\n{done.stderr[-10000:]}"
        )
    return done.stdout
