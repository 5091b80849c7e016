"""``python -m tests.emulator``: its help, its start-up lines, its env file and its shutdown."""

from __future__ import annotations

import contextlib
import json
import shlex
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.emulator import Tenant, TenantSpec
from tests.emulator.behaviour import Behaviour
from tests.emulator.cli import build_parser, emulator_from, event_count, spec_from, tenant_from
from tests.emulator.plans import PLANS

REPO_ROOT = Path(__file__).resolve().parents[2]
KNOBS = [
    "--port",
    "--host",
    "--users",
    "--events-per-user",
    "--seed",
    "--now",
    "--history-days",
    "--latency-ms",
    "--jitter-ms",
    "--rate-limit",
    "--burst",
    "--logs-rate-limit",
    "--logs-burst",
    "--users-rate-limit",
    "--users-burst",
    "--fault-rate",
    "--retention-days",
    "--token-ttl",
    "--domain",
    "--heavy-user-events",
    "--job-pending-polls",
    "--write-env",
    "--plan",
    "--profile",
    "--events-per-minute",
    "--true-user-totals",
    "--ratelimit-reset",
    "--retry-after",
    "--deleted-user-logs",
    "--expired-checkpoint",
    "--late-log-id-seconds",
    "--backlog-events",
    "--backlog-users",
    "--backlog-hours",
    "--max-concurrent-requests",
    "--refuse-checkpoints",
    "--refuse-checkpoints-from",
    "--scenario",
    "--write-truth",
]


def run_module(*args: str, **kwargs) -> subprocess.Popen[str]:
    command = [sys.executable, "-m", "tests.emulator", *args]
    return subprocess.Popen(command, cwd=REPO_ROOT, stdout=subprocess.PIPE, text=True, **kwargs)


@contextlib.contextmanager
def serving(*args: str) -> Iterator[dict[str, str]]:
    """The module started with ``args``, as its start-up lines; it must stop 0 on SIGTERM."""
    with run_module(*args) as process:
        try:
            assert process.stdout is not None
            lines = [process.stdout.readline().strip() for _ in range(8)]
            yield dict(line.split(": ", 1) for line in lines)
            process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=10) == 0
        finally:
            if process.poll() is None:
                process.kill()


def test_help_documents_every_knob():
    result = subprocess.run(
        [sys.executable, "-m", "tests.emulator", "--help"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    missing = [knob for knob in KNOBS if knob not in result.stdout]
    assert missing == []
    documented = {a.option_strings[0] for a in build_parser()._actions if a.option_strings}
    assert documented - {"-h"} == set(KNOBS)


@pytest.mark.parametrize(("text", "value"), [("25", 25), ("5-40", (5, 40))])
def test_events_per_user_takes_a_count_or_a_range(text, value):
    assert event_count(text) == value


def test_busy_profile_is_the_busy_tenant_spec():
    assert spec_from(build_parser().parse_args(["--profile", "busy"])) == TenantSpec.busy()


def test_flags_given_with_a_profile_override_it():
    args = build_parser().parse_args(
        ["--profile", "busy", "--users", "500", "--history-days", "0.5", "--seed", "4"]
    )
    assert spec_from(args) == TenantSpec.busy(users=500, history_hours=12, seed=4)


def test_undocumented_behaviour_flags_reach_the_emulator():
    args = build_parser().parse_args(
        [
            "--true-user-totals",
            "--ratelimit-reset", "bucket_full",
            "--retry-after",
            "--deleted-user-logs", "404",
            "--expired-checkpoint", "oldest",
            "--late-log-id-seconds", "30",
        ]
    )  # fmt: skip
    emulator = emulator_from(args, Tenant.generate(TenantSpec(users=1, events_per_user=0)))
    assert emulator.behaviour == Behaviour(
        cap_user_totals=False,
        ratelimit_reset="bucket_full",
        retry_after=True,
        deleted_user_logs="404",
        expired_checkpoint="oldest",
        late_log_id_seconds=30,
    )
    assert emulator.tenant.late_log_id_seconds == 30


def test_checkpoint_refusal_and_private_cloud_flags_reach_the_emulator():
    first, last = "900" + "20260101000000" + "0" * 39, "900" + "20260102000000" + "0" * 39
    args = build_parser().parse_args(
        ["--refuse-checkpoints", "--refuse-checkpoints-from", first, last,
         "--plan", "private-cloud-performance", "--max-concurrent-requests", "200"]
    )  # fmt: skip
    emulator = emulator_from(args, Tenant.generate(TenantSpec(users=1, events_per_user=0)))
    assert emulator.behaviour == Behaviour(
        refuse_checkpoints=True, refuse_checkpoints_from=(first, last)
    )
    assert emulator.plan == PLANS["private-cloud-performance"]
    assert emulator.max_concurrent_requests == 200


def test_without_behaviour_flags_the_emulator_behaves_as_documented():
    args = build_parser().parse_args([])
    emulator = emulator_from(args, Tenant.generate(TenantSpec(users=1, events_per_user=0)))
    assert emulator.behaviour == Behaviour()
    assert (emulator.plan, emulator.retention_days) == (None, 30)
    assert emulator.max_concurrent_requests is None


def test_plan_flag_sets_the_plan_and_retention_flag_overrides_it():
    args = build_parser().parse_args(["--plan", "essentials", "--retention-days", "2"])
    emulator = emulator_from(args, Tenant.generate(TenantSpec(users=1, events_per_user=0)))
    assert emulator.plan == PLANS["essentials"]
    assert emulator.retention_days == 2


def test_backlog_flags_shape_the_tenants_backlog():
    args = build_parser().parse_args(
        ["--profile", "busy", "--backlog-events", "1000000", "--backlog-users", "800",
         "--backlog-hours", "6"]
    )  # fmt: skip
    spec = spec_from(args)
    assert (spec.backlog_events, spec.backlog_users, spec.backlog_hours) == (1_000_000, 800, 6)
    assert spec.events_per_minute == 40  # the profile is kept


def test_without_backlog_flags_there_is_no_backlog():
    assert spec_from(build_parser().parse_args([])).backlog_events == 0


def test_without_a_profile_the_tenant_is_the_small_default():
    spec = spec_from(build_parser().parse_args(["--users", "4"]))
    assert (spec.users, spec.events_per_user, spec.history_days) == (4, 20, 20)
    assert spec.events_per_minute == 0


def test_started_emulator_prints_its_settings_serves_and_stops_on_sigterm(tmp_path):
    env_file = tmp_path / "emulator.env"
    args = ("--port", "0", "--users", "4", "--seed", "3", "--write-env", str(env_file))
    with serving(*args) as values:
        assert {"base_url", "domain", "token", "client_id", "client_secret"} <= set(values)
        headers = {"Authorization": f"Bearer {values['token']}"}
        users = requests.get(f"{values['base_url']}/api/v2/users", headers=headers, timeout=5)
        assert len(users.json()) == 4
        pairs = (line.split("=", 1) for line in env_file.read_text().splitlines())
        settings = {key: shlex.split(value)[0] for key, value in pairs}
        assert settings["AUTH0_EMULATOR_URL"] == values["base_url"]
        assert settings["AUTH0_EMULATOR_TOKEN"] == values["token"]
        assert settings["AUTH0_EMULATOR_CLIENT_SECRET"] == values["client_secret"]
        user_ids = [u["user_id"] for u in users.json()]
        assert json.loads(settings["AUTH0_EMULATOR_USER_IDS"]) == user_ids


def test_planted_scenario_is_shaped_by_seed_and_now_only():
    args = build_parser().parse_args(
        ["--scenario", "planted", "--seed", "4", "--now", "2026-02-03T04:05:06Z"]
    )
    tenant, truth = tenant_from(args)
    assert truth is not None
    assert (truth.seed, truth.now.isoformat()) == (4, "2026-02-03T04:05:06+00:00")
    assert tenant.event_count == truth.events
    assert tenant_from(build_parser().parse_args([]))[1] is None


def test_a_scenario_and_a_profile_exclude_each_other():
    with pytest.raises(SystemExit):
        build_parser().parse_args(["--scenario", "planted", "--profile", "busy"])


def test_write_truth_needs_a_scenario(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "tests.emulator", "--write-truth", str(tmp_path / "truth.json")],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 2
    assert "--write-truth needs --scenario" in result.stderr


def test_started_planted_scenario_writes_its_truth_and_serves_it(tmp_path):
    truth_file = tmp_path / "truth.json"
    args = ("--port", "0", "--scenario", "planted", "--seed", "2", "--write-truth", str(truth_file))
    with serving(*args) as values:
        truth = json.loads(truth_file.read_text())
        assert int(values["events"]) == truth["events"]
        assert int(values["users"]) == truth["users"]
        headers = {"Authorization": f"Bearer {values['token']}"}
        response = requests.get(
            f"{values['base_url']}/api/v2/logs",
            params={"q": f'ip:"{truth["stuffing"]["ip"]}"', "per_page": 1},
            headers=headers,
            timeout=5,
        )
        assert response.json()[0]["ip"] == truth["stuffing"]["ip"]
