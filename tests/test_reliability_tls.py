"""Certificates are always verified: a server the tap cannot trust never sees a credential.

The untrusted server is a loopback HTTPS server with a fresh self-signed certificate. The tap
must refuse it with a clear certificate error before sending any request, so neither the token
nor the client secret reaches it; no setting and no environment variable turns this off.
"""

from __future__ import annotations

import re

import pytest

from tap_auth0_userlogs.auth0.errors import TapUserError
from tests.reliability_support import Upstream, self_signed_tls
from tests.tap_support import advertised_settings, run_sync

pytest_plugins = ["tests.reliability_support"]

STATIC = {"access_token": "static-" + "t" * 40}
CLIENT = {"client_id": "m2m-app", "client_secret": "s" * 48}
# What a setting that turned verification off would be called.
VERIFICATION_WORDS = re.compile(r"verify|ssl|tls|insecure|cert|ca_bundle", re.IGNORECASE)


@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    """A server TLS context with a self-signed certificate, made once for the module."""
    return self_signed_tls(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def untrusted(certificate):
    """An HTTPS server with a certificate no trust store has; it answers as Auth0 would."""

    def answer(seen):
        return 200, {"Content-Type": "application/json"}, b"[]"

    with Upstream(answer, tls=certificate) as upstream:
        yield upstream


def config_for(upstream: Upstream, credentials: dict) -> dict:
    config = {"domain": "acme.auth0.com", "api_url": upstream.base_url, "user_ids": ["auth0|a"]}
    return {**config, **credentials}


@pytest.mark.parametrize("credentials", [STATIC, CLIENT], ids=["static token", "client secret"])
def test_untrusted_certificate_fails_with_a_clear_line_and_no_credential_sent(
    untrusted, transcript, fast_waits, credentials
):
    transcript.add_secret(STATIC["access_token"])
    transcript.add_secret(CLIENT["client_secret"])

    result = run_sync(config_for(untrusted, credentials), allow_failure=True)

    transcript.record(result.messages)
    transcript.record_error(result.error)
    assert isinstance(result.error, TapUserError)
    assert "certificate verify failed" in str(result.error)
    assert "\n" not in str(result.error)
    assert untrusted.connections >= 1  # the tap did try,
    assert untrusted.seen == []  # but no request, so no credential, got through


@pytest.mark.parametrize(
    "variables",
    [
        {"CURL_CA_BUNDLE": ""},
        {"REQUESTS_CA_BUNDLE": ""},
        {"PYTHONHTTPSVERIFY": "0"},
        {"TAP_AUTH0_USERLOGS_VERIFY": "false"},
        {"TAP_AUTH0_USERLOGS_VERIFY_SSL": "false"},
    ],
    ids=lambda v: next(iter(v)),
)
def test_no_environment_variable_turns_verification_off(
    untrusted, transcript, fast_waits, monkeypatch, variables
):
    for name, value in variables.items():
        monkeypatch.setenv(name, value)

    result = run_sync(config_for(untrusted, STATIC), allow_failure=True)

    transcript.record(result.messages)
    transcript.record_error(result.error)
    assert "certificate verify failed" in str(result.error)
    assert untrusted.seen == []


def test_no_setting_can_turn_verification_off():

    settings = advertised_settings()
    assert [name for name in settings if VERIFICATION_WORDS.search(name)] == []


def test_untrusted_certificate_is_not_retried(untrusted, fast_waits):
    result = run_sync(config_for(untrusted, STATIC), allow_failure=True)

    assert "certificate verify failed" in str(result.error)
    assert untrusted.connections == 1
