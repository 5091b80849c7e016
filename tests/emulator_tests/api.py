"""Small HTTP helpers for the emulator's own tests (real requests over loopback)."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

import requests

from tests.emulator import Emulator

TIMEOUT = 10
_LINK = re.compile(r'^<(?P<url>[^>]+)>; rel="next"$')


def user_logs_path(user_id: str) -> str:
    """The path of one user's logs, the id percent-encoded as a single segment."""
    return f"/api/v2/users/{quote(user_id, safe='')}/logs"


def get(
    emulator: Emulator,
    path: str,
    *,
    token: str | None = None,
    timeout: float = TIMEOUT,
    **params: Any,
) -> requests.Response:
    """GET ``path`` with the static token (or ``token``; "" sends no Authorization header)."""
    token = emulator.static_token if token is None else token
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return requests.get(emulator.base_url + path, params=params, headers=headers, timeout=timeout)


def log_ids(response: requests.Response) -> list[str]:
    body = response.json()
    events = body["logs"] if isinstance(body, dict) else body
    return [event["log_id"] for event in events]


def next_url(response: requests.Response) -> str:
    """The URL of a checkpoint page's ``Link: <...>; rel="next"`` header."""
    match = _LINK.match(response.headers["Link"])
    assert match, response.headers.get("Link")
    return match.group("url")


def follow(emulator: Emulator, url: str) -> requests.Response:
    """GET a full URL (a next link) with the static token."""
    headers = {"Authorization": f"Bearer {emulator.static_token}"}
    return requests.get(url, headers=headers, timeout=TIMEOUT)


def read_checkpoints(emulator: Emulator, take: int = 100, **params: Any) -> list[str]:
    """log_ids of every page in checkpoint mode, following next links to the empty page."""
    return [event["log_id"] for event in read_checkpoint_events(emulator, take, **params)]


def read_checkpoint_events(
    emulator: Emulator, take: int = 100, **params: Any
) -> list[dict[str, Any]]:
    """Every event of every page in checkpoint mode, following next links to the empty page."""
    response = get(emulator, "/api/v2/logs", take=take, **params)
    collected: list[dict[str, Any]] = []
    while page := response.json():
        collected += page
        response = follow(emulator, next_url(response))
    return collected


def token_request(emulator: Emulator, **overrides: str) -> requests.Response:
    """POST /oauth/token with the default client's credentials, ``overrides`` applied."""
    form = {
        "grant_type": "client_credentials",
        "client_id": emulator.client_id,
        "client_secret": emulator.client_secret,
        "audience": f"https://{emulator.domain}/api/v2/",
    } | overrides
    return requests.post(emulator.base_url + "/oauth/token", data=form, timeout=TIMEOUT)
