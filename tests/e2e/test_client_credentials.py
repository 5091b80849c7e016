"""The second way to authenticate, a client id and secret, works through Meltano (into JSONL)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.e2e.meltano_cli import Meltano
from tests.e2e.pipeline import TENANT, selected_users, tap_settings
from tests.emulator import Emulator


@dataclass
class JsonlRun:
    output: Path
    expected: set[str]
    token_requests: int


@pytest.fixture(scope="module")
def jsonl_run(meltano: Meltano, tmp_path_factory: pytest.TempPathFactory) -> Iterator[JsonlRun]:
    tmp = tmp_path_factory.mktemp("client-credentials")
    with Emulator(TENANT) as emulator:
        users = selected_users(emulator)
        settings = tap_settings(emulator, users)
        del settings["TAP_AUTH0_USERLOGS_ACCESS_TOKEN"]
        pipeline = meltano.pipeline(
            tmp / "meltano.db",
            **settings,
            TAP_AUTH0_USERLOGS_CLIENT_ID=emulator.client_id,
            TAP_AUTH0_USERLOGS_CLIENT_SECRET=emulator.client_secret,
            TARGET_JSONL_DESTINATION_PATH=str(tmp / "out"),
        )
        (tmp / "out").mkdir()
        pipeline.run("target-jsonl")
        yield JsonlRun(
            tmp / "out",
            emulator.tenant.expected_log_ids(user_ids=users),
            emulator.counters.requests(endpoint="token"),
        )


def test_client_credentials_fetch_a_token(jsonl_run: JsonlRun) -> None:
    assert jsonl_run.token_requests >= 1


def test_jsonl_file_holds_every_selected_event_once(jsonl_run: JsonlRun) -> None:
    lines = (jsonl_run.output / "user_logs.jsonl").read_text().splitlines()
    log_ids = [json.loads(line)["log_id"] for line in lines]
    assert sorted(log_ids) == sorted(jsonl_run.expected)
