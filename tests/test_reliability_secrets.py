"""No access token, client secret or Authorization header in anything the tap prints.

Every reliability test records what the tap printed (its Singer messages, its log at DEBUG,
its stderr, the tracebacks of its failures) and checks it for every token the emulator issued,
the client secret and any Authorization header. This file adds the outputs the other tests do
not produce: each fault kind in turn, --about, --discover, a crash, and an upstream that echoes
what it was sent.
"""

from __future__ import annotations

import json

import pytest

from tests.emulator import TenantSpec
from tests.emulator.faults import KINDS
from tests.reliability_support import Seen, Upstream, run_tap_process
from tests.tap_support import client_credentials, run_sync, tap_config

pytest_plugins = ["tests.reliability_support"]

TENANT = TenantSpec(users=3, events_per_user=15, seed=41)
JSON = {"Content-Type": "application/json"}
UPSTREAM_TOKEN = "upstream-issued-token-" + "k" * 40


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_no_secret_in_any_output_under_the_fault(emulator_factory, transcript, fast_waits, kind):
    emulator = transcript.watch(emulator_factory(TENANT))
    runs = []
    for config in (client_credentials(emulator), tap_config(emulator)):
        emulator.faults.add(kind, endpoint="token", count=1, hang_seconds=2)
        emulator.faults.add(kind, endpoint="user_logs", count=2, after=1, hang_seconds=2)
        runs.append(run_sync({**config, "request_timeout": 0.5}, allow_failure=True))
        emulator.faults.clear()

    for result in runs:
        transcript.record(result.messages)
        transcript.record_error(result.error)
    assert transcript.leaks() == []


def test_no_secret_in_cli_output_at_debug_level(emulator, tmp_path, transcript):
    transcript.watch(emulator)
    emulator.faults.add("503", endpoint="user_logs", count=1)
    emulator.faults.add("revoke_token", endpoint="user_logs", count=1, after=2)
    emulator.faults.add("truncated", endpoint="user_logs", count=1, after=3)
    wrong_secret = "not-" + emulator.client_secret
    transcript.add_secret(wrong_secret)

    synced = run_tap_process(tmp_path, client_credentials(emulator))
    refused = run_tap_process(tmp_path, client_credentials(emulator, client_secret=wrong_secret))

    synced.record_into(transcript)
    refused.record_into(transcript)
    assert synced.returncode == 0, synced.stderr[-2000:]
    assert refused.returncode == 1
    assert "DEBUG" in synced.stderr
    assert transcript.leaks() == []


@pytest.mark.parametrize(
    "args",
    [("--about",), ("--about", "--format=json"), ("--about", "--format=markdown"), ("--discover",)],
    ids=["about", "about-json", "about-markdown", "discover"],
)
def test_no_secret_in_about_or_discover_output(emulator, tmp_path, transcript, args):
    transcript.watch(emulator)

    runs = [
        run_tap_process(tmp_path, config, args=args)
        for config in (tap_config(emulator), client_credentials(emulator))
    ]

    for run in runs:
        run.record_into(transcript)
        assert run.returncode == 0, run.stderr[-2000:]
    assert transcript.leaks() == []


def serve_events(events: list[dict]):
    """An upstream that issues a token and answers every log request with `events`."""

    def answer(seen: Seen) -> tuple[int, dict, bytes]:
        if seen.path.startswith("/oauth/token"):
            body = {"access_token": UPSTREAM_TOKEN, "expires_in": 86400, "token_type": "Bearer"}
            return 200, JSON, json.dumps(body).encode()
        return 200, JSON, json.dumps(events).encode()

    return answer


def upstream_config(upstream: Upstream, **credentials) -> dict:
    config = {"domain": "acme.auth0.com", "api_url": upstream.base_url, "user_ids": ["auth0|a"]}
    return {**config, **(credentials or {"access_token": "static-" + "t" * 40})}


def test_no_secret_in_crash_output(tmp_path, transcript):
    broken = [{"log_id": "90020260101000000000000000000000000000000000000000001", "date": "soon"}]
    with Upstream(serve_events(broken)) as upstream:
        crashed = run_tap_process(
            tmp_path, upstream_config(upstream, client_id="m2m", client_secret="s" * 48)
        )

    crashed.record_into(transcript)
    transcript.add_secret("s" * 48)
    for header in upstream.authorizations():
        transcript.add_secret(header.removeprefix("Bearer "))
    assert crashed.returncode != 0
    assert "Traceback" in crashed.stderr  # it did crash, with all a crash prints
    assert upstream.authorizations()
    assert transcript.leaks() == []


def echo_authorization(seen: Seen) -> tuple[int, dict, bytes]:
    """A proxy that quotes the request's Authorization header in its error message."""
    message = f"Request rejected: {seen.headers.get('Authorization')}"
    return 400, JSON, json.dumps({"statusCode": 400, "message": message}).encode()


def echo_token_request(seen: Seen) -> tuple[int, dict, bytes]:
    """A token endpoint that quotes the form it was sent in its error description."""
    body = {"error": "invalid_client", "error_description": f"Rejected: {seen.body.decode()}"}
    return 401, JSON, json.dumps(body).encode()


def test_no_token_in_output_when_the_upstream_quotes_the_request(tmp_path, transcript):
    with Upstream(echo_authorization) as upstream:
        run = run_tap_process(tmp_path, upstream_config(upstream))

    run.record_into(transcript)
    transcript.add_secret("t" * 40)
    assert run.returncode == 1
    assert transcript.leaks() == []


def test_no_secret_in_output_when_the_token_endpoint_quotes_the_form(tmp_path, transcript):
    with Upstream(echo_token_request) as upstream:
        run = run_tap_process(
            tmp_path, upstream_config(upstream, client_id="m2m", client_secret="s" * 48)
        )

    run.record_into(transcript)
    transcript.add_secret("s" * 48)
    assert run.returncode == 1
    assert transcript.leaks() == []
