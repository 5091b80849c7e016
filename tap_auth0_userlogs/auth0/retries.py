"""Retrying what may work on a later try: one policy for every request, the token's included.

Transient failures (5xx, resets, timeouts, bodies that are not JSON) are retried after about
0.5, 1, 2, 4 and 8 s with full jitter; then the run fails with one line. A failure the next
try would meet too (a certificate that does not verify, a name that does not resolve) fails
at once.
"""

from __future__ import annotations

import typing as t

import backoff
import requests

from tap_auth0_userlogs.auth0.errors import TransientAPIError, fails_at_once

TRANSIENT_TRIES = 6
TRANSIENT_BACKOFF_FACTOR = 0.5
MAX_WAIT_SECONDS = 30

TRANSIENT_EXCEPTIONS = (
    TransientAPIError,
    ConnectionResetError,
    requests.exceptions.Timeout,
    requests.exceptions.ConnectionError,
    requests.exceptions.ChunkedEncodingError,
    requests.exceptions.ContentDecodingError,
)

F = t.TypeVar("F", bound=t.Callable[..., t.Any])


def retrying_transient_failures(
    function: F, on_retry: t.Callable[[t.Any], None] | None = None
) -> F:
    """`function`, tried again on transient failures; `on_retry` hears of each retry."""
    return backoff.on_exception(
        backoff.expo,
        TRANSIENT_EXCEPTIONS,
        max_tries=TRANSIENT_TRIES,
        # Read as each call starts, so that tests can shorten the waits.
        factor=lambda: TRANSIENT_BACKOFF_FACTOR,
        max_value=MAX_WAIT_SECONDS,
        jitter=backoff.full_jitter,
        giveup=fails_at_once,
        on_backoff=on_retry,
        logger=None,
    )(function)
