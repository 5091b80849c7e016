"""POST /oauth/token and how the Management API treats the tokens it gets."""

from __future__ import annotations

import time

import requests

from tests.emulator_tests.api import TIMEOUT, get, token_request, user_logs_path


def test_client_credentials_grant_issues_a_bearer_token(emulator):
    response = token_request(emulator)
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 86400
    assert body["scope"] == "read:logs read:users"
    assert get(emulator, "/api/v2/users", token=body["access_token"]).status_code == 200


def test_json_body_works_like_a_form(emulator):
    body = {
        "grant_type": "client_credentials",
        "client_id": emulator.client_id,
        "client_secret": emulator.client_secret,
        "audience": f"https://{emulator.domain}/api/v2/",
    }
    response = requests.post(f"{emulator.base_url}/oauth/token", json=body, timeout=TIMEOUT)
    assert response.status_code == 200
    assert response.json()["access_token"]


def test_wrong_secret_is_invalid_client(emulator):
    response = token_request(emulator, client_secret="nope")
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"
    assert set(response.json()) == {"error", "error_description"}


def test_unknown_client_is_invalid_client(emulator):
    assert token_request(emulator, client_id="someone-else").status_code == 401


def test_wrong_audience_is_access_denied(emulator):
    response = token_request(emulator, audience="https://elsewhere.auth0.com/api/v2/")
    assert response.status_code == 403
    assert response.json()["error"] == "access_denied"


def test_other_grant_types_are_unsupported(emulator):
    response = token_request(emulator, grant_type="password")
    assert response.status_code == 400
    assert response.json()["error"] == "unsupported_grant_type"


def test_expired_token_is_refused_with_auth0s_message(emulator_factory):
    emulator = emulator_factory(None, token_ttl=0.3)
    body = token_request(emulator).json()
    assert body["expires_in"] == 0.3
    assert get(emulator, "/api/v2/users", token=body["access_token"]).status_code == 200
    time.sleep(0.4)
    response = get(emulator, "/api/v2/users", token=body["access_token"])
    assert response.status_code == 401
    assert response.json() == {
        "statusCode": 401,
        "error": "Unauthorized",
        "message": "Expired token received for JSON Web Token validation",
        "errorCode": "invalid_token",
    }


def test_revoked_token_is_invalid(emulator):
    token = emulator.issue_token()
    assert get(emulator, "/api/v2/users", token=token).status_code == 200
    emulator.revoke_token(token)
    response = get(emulator, "/api/v2/users", token=token)
    assert response.status_code == 401
    assert response.json()["message"] == "Invalid token"


def test_unknown_and_missing_tokens_are_unauthorized(emulator):
    assert get(emulator, "/api/v2/users", token="made.up.token").status_code == 401
    assert get(emulator, "/api/v2/users", token="").status_code == 401


def test_user_logs_accept_read_logs_users_alone(emulator):
    token = emulator.issue_token(scopes=["read:logs_users"])
    user_id = emulator.tenant.user_ids()[0]
    assert get(emulator, user_logs_path(user_id), token=token).status_code == 200


def test_tenant_log_forbids_a_token_with_read_logs_users_alone(emulator):
    token = emulator.issue_token(scopes=["read:logs_users"])
    for params in ({"take": 10}, {"q": "type:s", "per_page": 10}):
        response = get(emulator, "/api/v2/logs", token=token, **params)
        assert response.status_code == 403
        assert response.json() == {
            "statusCode": 403,
            "error": "Forbidden",
            "message": "Insufficient scope, expected any of: read:logs",
            "errorCode": "insufficient_scope",
        }
    user_id = emulator.tenant.user_ids()[0]
    assert get(emulator, user_logs_path(user_id), token=token).status_code == 200


def test_user_logs_without_a_logs_scope_are_forbidden(emulator):
    token = emulator.issue_token(scopes=["read:users"])
    response = get(emulator, user_logs_path(emulator.tenant.user_ids()[0]), token=token)
    assert response.status_code == 403
    assert response.json() == {
        "statusCode": 403,
        "error": "Forbidden",
        "message": "Insufficient scope, expected any of: read:logs,read:logs_users",
        "errorCode": "insufficient_scope",
    }


def test_added_client_gets_its_own_scopes(emulator):
    emulator.add_client("narrow-app", "s3cret", ["read:logs"])
    body = token_request(emulator, client_id="narrow-app", client_secret="s3cret").json()
    assert body["scope"] == "read:logs"
    assert get(emulator, "/api/v2/logs", token=body["access_token"]).status_code == 200
    assert get(emulator, "/api/v2/users", token=body["access_token"]).status_code == 403
