"""Bad input ends the tap before any request, with one line naming what is wrong.

Each setting wrong in turn, unknown setting names, malformed or foreign state and catalog files:
the tap runs as a real process against the emulator, and must exit non-zero, print no Singer
message, and send nothing (the emulator's request log stays empty). Whatever the input, the tap
calls no endpoint it does not need.
"""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from singer_sdk.exceptions import ConfigValidationError

from tap_auth0_userlogs.auth0.errors import TapUserError
from tests.reliability_support import (
    FIGURES,
    NEEDED_ENDPOINTS,
    run_tap_process,
    tap_environment,
    user_bookmarks,
)
from tests.tap_support import advertised_settings, run_sync, tap_config

pytest_plugins = ["tests.reliability_support"]

CLIENT = {"access_token": None, "client_id": "m2m-app", "client_secret": "s3cr3t-value"}

# (the setting the error line must name, the settings that make it wrong)
BAD_SETTINGS = [
    ("domain", {"domain": 123}),
    ("domain", {"domain": ""}),
    ("domain", {"domain": None}),
    ("domain", {"domain": "acme.auth0.com/api/v2"}),
    ("domain", {"domain": "acme.auth0.com?tenant=other"}),
    ("domain", {"domain": "me@acme.auth0.com"}),
    ("domain", {"domain": "http://acme.auth0.com"}),
    ("domain", {"domain": "acme.auth0.com:8443"}),
    ("access_token", {"access_token": 42}),
    ("access_token", {"access_token": ""}),
    ("access_token", {"access_token": None}),
    ("access_token", {"client_id": "m2m-app", "client_secret": "s3cr3t-value"}),
    ("client_id", {**CLIENT, "client_id": ["m2m-app"]}),
    ("client_id", {**CLIENT, "client_id": None}),
    ("client_id", {**CLIENT, "client_id": " "}),
    ("client_secret", {**CLIENT, "client_secret": None}),
    ("client_secret", {**CLIENT, "client_secret": {}}),
    ("client_secret", {**CLIENT, "client_secret": ""}),
    ("audience", {"audience": 5}),
    ("audience", {"audience": ""}),
    ("user_ids", {"user_ids": "auth0|5f7c8ec7c33c6c004bbafe82"}),
    ("user_ids", {"user_ids": [1]}),
    ("user_ids", {"user_ids": []}),
    ("user_ids", {"user_ids": ["auth0|a", "auth0|a"]}),
    ("user_ids", {"user_ids": [" auth0|a"]}),
    ("user_ids", {"user_ids": ["auth0|a\n"]}),
    ("user_ids", {"user_ids": ["auth0|\ud800"]}),
    ("user_ids", {"user_ids": [".."]}),
    ("user_ids", {"user_ids": ["../../api/v2/logs"]}),
    ("user_ids", {"user_ids": ["5f7c8ec7c33c6c004bbafe82"]}),
    ("user_query", {"user_ids": None, "user_query": 5}),
    ("user_query", {"user_ids": None, "user_query": ""}),
    ("user_query", {"user_query": "email:*"}),
    ("user_discovery", {"user_discovery": "magic"}),
    ("user_discovery", {"user_discovery": 1}),
    ("start_date", {"start_date": "last tuesday"}),
    ("start_date", {"start_date": 20260101}),
    ("start_date", {"start_date": ""}),
    ("start_date", {"start_date": "2999-01-01T00:00:00Z"}),
    ("page_size", {"page_size": 0}),
    ("page_size", {"page_size": 101}),
    ("page_size", {"page_size": "ten"}),
    ("page_size", {"page_size": 2.5}),
    ("page_size", {"page_size": True}),
    ("lookback_minutes", {"lookback_minutes": -1}),
    ("lookback_minutes", {"lookback_minutes": 7 * 24 * 60 + 1}),
    ("lookback_minutes", {"lookback_minutes": "15"}),
    ("event_types", {"event_types": "s"}),
    ("event_types", {"event_types": [1]}),
    ("event_types", {"event_types": []}),
    ("event_types", {"event_types": [""]}),
    ("request_timeout", {"request_timeout": 0}),
    ("request_timeout", {"request_timeout": -1}),
    ("request_timeout", {"request_timeout": 601}),
    ("request_timeout", {"request_timeout": "30"}),
    ("max_concurrency", {"max_concurrency": 0}),
    ("max_concurrency", {"max_concurrency": 129}),
    ("max_concurrency", {"max_concurrency": "4"}),
    ("strategy", {"strategy": "fastest"}),
    ("strategy", {"strategy": ""}),
    ("max_requests_per_second", {"max_requests_per_second": 0}),
    ("max_requests_per_second", {"max_requests_per_second": "10"}),
    ("max_requests_per_second", {"max_requests_per_second": -1}),
    ("log_id_margin_seconds", {"log_id_margin_seconds": -5}),
    ("log_id_margin_seconds", {"log_id_margin_seconds": "60"}),
    ("api_url", {"api_url": 5}),
    ("api_url", {"api_url": ""}),
    ("api_url", {"api_url": "http://auth0-proxy.example.com"}),
    ("api_url", {"api_url": "http://localhost.attacker.example"}),
    ("api_url", {"api_url": "http://127.0.0.1@attacker.example"}),
    ("api_url", {"api_url": "ftp://127.0.0.1"}),
    ("api_url", {"api_url": "https://user:pw@proxy.example.com"}),
    ("api_url", {"api_url": "https://proxy.example.com?tenant=other"}),
    ("api_url", {"api_url": "https://proxy.example.com:99999"}),
    ("stream_maps", {"stream_maps": 5}),
    ("stream_map_config", {"stream_map_config": []}),
    ("faker_config", {"faker_config": "en_US"}),
    ("flattening_enabled", {"flattening_enabled": "yes"}),
    ("flattening_max_depth", {"flattening_max_depth": "3"}),
    ("flattening_max_key_length", {"flattening_max_key_length": "63"}),
    ("flattening_separator", {"flattening_separator": 5}),
    ("batch_config", {"batch_config": 5}),
    ("acess_token", {"acess_token": "a-typo"}),
    ("userids", {"userids": ["auth0|a"]}),
    ("start-date", {"start-date": "2026-01-01T00:00:00Z"}),
    ("verify_ssl", {"verify_ssl": False}),
]

# (what is wrong, the config file's content)
BAD_CONFIG_FILES = [
    ("not JSON", "domain: acme.auth0.com"),
    ("a NaN", '{"domain": "acme.auth0.com", "access_token": "x", "request_timeout": NaN}'),
    ("a JSON array", '[{"domain": "acme.auth0.com"}]'),
    ("not UTF-8", b'{"domain": "acme\xff.auth0.com"}'),
]

# (the setting the error line must name, the environment variable's value)
BAD_VARIABLES = [
    ("page_size", {"TAP_AUTH0_USERLOGS_PAGE_SIZE": "ten"}),
    ("lookback_minutes", {"TAP_AUTH0_USERLOGS_LOOKBACK_MINUTES": "1.5"}),
    ("request_timeout", {"TAP_AUTH0_USERLOGS_REQUEST_TIMEOUT": "nan"}),
    ("stream_maps", {"TAP_AUTH0_USERLOGS_STREAM_MAPS": "{user_logs: null}"}),
    ("user_ids", {"TAP_AUTH0_USERLOGS_USER_IDS": '["auth0|a", " "]'}),
]

# (what is wrong, the state file's text or JSON value)
BAD_STATES = [
    ("not JSON", "{bookmarks"),
    ("an empty file", ""),
    ("a JSON array", "[]"),
    ("a JSON string", '"user_logs"'),
    ("bookmarks not an object", {"bookmarks": []}),
    ("another tap's state", {"bookmarks": {"issues": {"since": "2026-01-01T00:00:00Z"}}}),
    ("Meltano's wrapper", {"singer_state": {"bookmarks": {}}}),
    (
        "bookmarks keyed by user",
        {"bookmarks": {"user_logs": {"auth0|a": "2026-01-01T00:00:00Z"}}},
    ),
    (
        "one bookmark for the stream",
        {
            "bookmarks": {
                "user_logs": {"replication_key": "date", "replication_key_value": "2026-01-01"}
            }
        },
    ),
    ("partitions not a list", {"bookmarks": {"user_logs": {"partitions": {}}}}),
    (
        "partition without a user",
        {"bookmarks": {"user_logs": {"partitions": [{"context": {"id": "x"}}]}}},
    ),
    (
        "bookmark not a date",
        {
            "bookmarks": {
                "user_logs": {
                    "partitions": [
                        {"context": {"user_id": "auth0|a"}, "replication_key_value": "yesterday"}
                    ]
                }
            }
        },
    ),
    (
        "bookmark a number",
        {
            "bookmarks": {
                "user_logs": {
                    "partitions": [{"context": {"user_id": "auth0|a"}, "replication_key_value": 5}]
                }
            }
        },
    ),
    (
        "two bookmarks for one user",
        {
            "bookmarks": {
                "user_logs": {
                    "partitions": [{"context": {"user_id": "auth0|a"}}] * 2,
                }
            }
        },
    ),
]

BAD_CATALOGS = [
    ("not JSON", "streams: []"),
    ("a JSON array", "[]"),
    ("streams not a list", {"streams": "user_logs"}),
    ("a stream without tap_stream_id", {"streams": [{"stream": "user_logs", "schema": {}}]}),
    (
        "another tap's catalog",
        {"streams": [{"tap_stream_id": "issues", "schema": {"type": "object"}, "metadata": []}]},
    ),
]


def assert_refused_before_any_request(run, emulator, *, naming: str) -> None:
    """Exit 1, no Singer message, no traceback, one ERROR line naming `naming`, no request."""
    assert run.returncode == 1, run.stderr[-2000:]
    assert run.output == ""
    assert "Traceback" not in run.stderr
    errors = run.error_lines()
    assert any(naming in line for line in errors), errors
    assert emulator.request_log == []
    FIGURES.bad_inputs += 1


@pytest.mark.parametrize(
    ("setting", "overrides"),
    BAD_SETTINGS,
    ids=[f"{s}-{i}" for i, (s, _) in enumerate(BAD_SETTINGS)],
)
def test_wrong_setting_ends_before_any_request_naming_it(
    emulator, tmp_path, transcript, setting, overrides
):
    transcript.watch(emulator)

    run = run_tap_process(tmp_path, tap_config(emulator, **overrides))

    run.record_into(transcript)
    assert_refused_before_any_request(run, emulator, naming=f"'{setting}'")


@pytest.mark.parametrize(
    ("problem", "text"), BAD_CONFIG_FILES, ids=[p for p, _ in BAD_CONFIG_FILES]
)
def test_malformed_config_file_ends_before_any_request(
    emulator, tmp_path, transcript, problem, text
):
    transcript.watch(emulator)

    run = run_tap_process(tmp_path, text)

    run.record_into(transcript)
    assert_refused_before_any_request(run, emulator, naming="config")


def test_missing_config_file_ends_before_any_request(emulator, tmp_path, transcript):
    transcript.watch(emulator)
    missing = tmp_path / "no-such-config.json"

    run = run_tap_process(tmp_path, tap_config(emulator), args=("--config", str(missing)))

    run.record_into(transcript)
    assert_refused_before_any_request(run, emulator, naming="no-such-config.json")


@pytest.mark.parametrize(("setting", "variables"), BAD_VARIABLES, ids=[s for s, _ in BAD_VARIABLES])
def test_wrong_setting_variable_ends_before_any_request_naming_it(
    emulator, tmp_path, transcript, setting, variables
):
    transcript.watch(emulator)

    run = run_tap_process(
        tmp_path,
        tap_config(emulator),
        args=("--config", "ENV"),
        env=tap_environment(**variables),
    )

    run.record_into(transcript)
    assert_refused_before_any_request(run, emulator, naming=f"'{setting}'")


def test_wrong_setting_variable_ends_discovery_with_one_line(emulator, tmp_path, transcript):
    # --discover runs outside the sync's error handling in singer-sdk: it must end the same way.
    transcript.watch(emulator)

    run = run_tap_process(
        tmp_path,
        tap_config(emulator),
        args=("--config", "ENV", "--discover"),
        env=tap_environment(TAP_AUTH0_USERLOGS_PAGE_SIZE="ten"),
    )

    run.record_into(transcript)
    assert_refused_before_any_request(run, emulator, naming="'page_size'")


@pytest.mark.parametrize(("setting", "variables"), BAD_VARIABLES, ids=[s for s, _ in BAD_VARIABLES])
def test_wrong_setting_in_a_dotenv_file_ends_before_any_request_naming_it(
    emulator, tmp_path, transcript, setting, variables
):
    transcript.watch(emulator)
    # Only the working directory's .env holds the wrong value, as in a Meltano project.
    project = tmp_path / "project"
    project.mkdir()
    (project / ".env").write_text(
        "".join(f"{name}='{value}'\n" for name, value in variables.items()), encoding="utf-8"
    )

    run = run_tap_process(tmp_path, tap_config(emulator), args=("--config", "ENV"), cwd=project)

    run.record_into(transcript)
    assert_refused_before_any_request(run, emulator, naming=f"'{setting}'")


def test_every_setting_is_tried_wrong():

    advertised = set(advertised_settings())
    assert advertised <= {setting for setting, _ in BAD_SETTINGS}


@pytest.mark.parametrize(("problem", "state"), BAD_STATES, ids=[p for p, _ in BAD_STATES])
def test_malformed_or_foreign_state_ends_before_any_request(
    emulator, tmp_path, transcript, problem, state
):
    transcript.watch(emulator)

    run = run_tap_process(tmp_path, tap_config(emulator), state=state)

    run.record_into(transcript)
    assert_refused_before_any_request(run, emulator, naming="state")


@pytest.mark.parametrize(("problem", "catalog"), BAD_CATALOGS, ids=[p for p, _ in BAD_CATALOGS])
def test_malformed_or_foreign_catalog_ends_before_any_request(
    emulator, tmp_path, transcript, problem, catalog
):
    transcript.watch(emulator)

    run = run_tap_process(tmp_path, tap_config(emulator), catalog=catalog)

    run.record_into(transcript)
    assert_refused_before_any_request(run, emulator, naming="catalog")


@pytest.mark.parametrize("state", [{}, {"bookmarks": {}}], ids=["empty", "no bookmarks"])
def test_an_empty_state_starts_from_scratch(emulator, transcript, state):
    transcript.watch(emulator)

    result = run_sync(tap_config(emulator), state=state)

    transcript.record(result.messages)
    assert set(result.log_ids()) == emulator.tenant.expected_log_ids()


@pytest.mark.parametrize("strategy", ["per_user", "tenant_scan"])
def test_the_state_a_sync_wrote_is_accepted_by_the_next(emulator, transcript, strategy):
    transcript.watch(emulator)
    config = tap_config(emulator, strategy=strategy)
    first = run_sync(config)
    user_id = emulator.tenant.user_ids()[0]
    added = emulator.tenant.add_event(user_id)

    second = run_sync(config, state=first.final_state)

    transcript.record(first.messages, second.messages)
    assert added["log_id"] in second.log_ids()
    assert user_bookmarks(second.final_state).keys() == set(emulator.tenant.user_ids())


def discovered_catalog(tmp_path, emulator) -> dict:
    run = run_tap_process(tmp_path, tap_config(emulator), args=("--discover",))
    return json.loads(run.output)


def deselect(catalog: dict, stream: str, *fields: str) -> dict:
    """`catalog` with `fields` of `stream` (or the whole stream, without fields) deselected."""
    for entry in catalog["streams"]:
        if entry["tap_stream_id"] != stream:
            continue
        for item in entry["metadata"]:
            breadcrumb = item["breadcrumb"]
            whole = not fields and breadcrumb == []
            if whole or (len(breadcrumb) == 2 and breadcrumb[1] in fields):
                item["metadata"]["selected"] = False
    return catalog


def test_catalog_that_deselects_fields_syncs_only_the_selected_ones(emulator, tmp_path, transcript):
    transcript.watch(emulator)
    dropped = ("ip", "user_agent", "location_info", "log_id", "date")
    catalog = deselect(discovered_catalog(tmp_path, emulator), "user_logs", *dropped)

    run = run_tap_process(tmp_path, tap_config(emulator), catalog=catalog)

    run.record_into(transcript)
    assert run.returncode == 0, run.stderr[-2000:]
    records = [
        m["record"] for m in run.messages if m.get("stream") == "user_logs" and "record" in m
    ]
    assert set(r["log_id"] for r in records) == emulator.tenant.expected_log_ids()
    assert all("date" in r for r in records)  # the key and the bookmark's field stay
    assert not {"ip", "user_agent", "location_info"} & set().union(*records)


def test_catalog_that_deselects_user_logs_sends_no_request_for_it(emulator, tmp_path, transcript):
    transcript.watch(emulator)
    catalog = deselect(discovered_catalog(tmp_path, emulator), "user_logs")

    run = run_tap_process(tmp_path, tap_config(emulator), catalog=catalog)

    run.record_into(transcript)
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.log_ids() == []
    assert emulator.request_log == []


# Anything a user id could hold: path syntax, escapes, spaces, any printable Unicode.
ODD_TEXT = st.text(
    alphabet=st.one_of(
        st.sampled_from("/.%?#|\\ +&=;:@"),
        st.characters(codec="utf-8", exclude_categories=["Cc"]),
    ),
    max_size=16,
)
ODD_USER_ID = st.one_of(
    st.builds("{}|{}".format, st.sampled_from(["auth0", "samlp|acme", "waad", "..", ""]), ODD_TEXT),
    ODD_TEXT,
)


ODD_SELECTIONS = st.one_of(
    st.fixed_dictionaries({"user_ids": st.lists(ODD_USER_ID, min_size=1, max_size=3)}),
    st.fixed_dictionaries({"user_ids": st.none(), "user_query": ODD_TEXT}),
    st.fixed_dictionaries(
        {
            "user_ids": st.one_of(st.none(), st.lists(ODD_USER_ID, max_size=2)),
            "user_query": st.one_of(st.none(), ODD_TEXT),
            "event_types": st.one_of(st.none(), st.lists(ODD_TEXT, max_size=2)),
        }
    ),
)


@given(overrides=ODD_SELECTIONS)
@settings(
    max_examples=300,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
def test_no_input_makes_the_tap_call_an_endpoint_it_does_not_need(emulator, transcript, overrides):
    transcript.watch(emulator)
    emulator.reset_counters()
    user_ids = overrides.get("user_ids")

    try:
        result = run_sync(tap_config(emulator, **overrides), allow_failure=True)
    except (ConfigValidationError, TapUserError):
        event("refused before any request")
        assert emulator.request_log == []
        FIGURES.bad_inputs += 1
        return

    event("synced" if result.error is None else "failed on Auth0's answer")
    transcript.record(result.messages)
    transcript.record_error(result.error)
    FIGURES.syncs += 1
    for request in emulator.request_log:
        assert request.endpoint in NEEDED_ENDPOINTS, request.raw_path
        if request.endpoint == "user_logs" and user_ids is not None:
            # The id arrives whole, as one path segment: nothing in it escaped the segment.
            assert request.user_id in user_ids, request.raw_path
