"""``python -m benchmarks.naive_tenant_log JOB_JSON RESULT_JSON``: the tenant-log baseline.

What Matatika/tap-auth0 (the Meltano Hub's default Auth0 tap) does for its logs stream on a
first sync, written here from its described behaviour: ask ``/api/v2/logs`` for the oldest
event (``sort=date:1&per_page=1``), then read the tenant's log in checkpoint mode from that
event's log_id (``from=…&take=100``), following the ``Link`` header until a page is empty. It
needs no user list, and gets every event of the tenant, those of no user too.

A 429 (or 5xx) is retried blindly as singer-sdk's ``RESTStream`` does by default: exponential
waits of 2, 4, 8 and 16 seconds plus up to one second of jitter, five tries in all, the
``x-ratelimit-*`` headers never read. Five failures in a row end the run. One session, so one
kept-alive connection, as singer-sdk uses.

Every event delivered is written to ``delivered`` as ``log_id<TAB>user_id<TAB>date``.
"""

from __future__ import annotations

import json
import random
import sys
import time
from pathlib import Path
from typing import Any, TextIO

import requests

TOO_MANY_REQUESTS = 429
SERVER_ERROR = 500
TAKE = 100
MAX_TRIES = 5
FIRST_WAIT_SECONDS = 2.0


class GaveUp(Exception):
    """Five answers in a row were 429 or 5xx."""


class Reader:
    """One pass over the tenant's log, counting what it costs."""

    def __init__(self, job: dict[str, Any], delivered: TextIO) -> None:
        self.base_url = job["base_url"]
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {job['token']}"
        self.delivered = delivered
        self.tally = {"requests": 0, "events": 0, "rate_limited": 0, "retry_wait": 0.0}

    def get(self, url: str, params: dict[str, Any] | None = None) -> requests.Response:
        """One answer that is neither 429 nor 5xx, after blind retries."""
        for attempt in range(MAX_TRIES):
            response = self.session.get(url, params=params, timeout=60)
            self.tally["requests"] += 1
            if response.status_code < SERVER_ERROR and response.status_code != TOO_MANY_REQUESTS:
                response.raise_for_status()
                return response
            self.tally["rate_limited"] += response.status_code == TOO_MANY_REQUESTS
            if attempt + 1 < MAX_TRIES:
                wait = FIRST_WAIT_SECONDS * 2**attempt + random.random()
                self.tally["retry_wait"] += wait
                time.sleep(wait)
        raise GaveUp(f"{MAX_TRIES} tries answered 429 or 5xx")

    def deliver(self, events: list[dict[str, Any]]) -> None:
        for event in events:
            user_id = event.get("user_id") or ""
            self.delivered.write(f"{event['log_id']}\t{user_id}\t{event['date']}\n")
        self.tally["events"] += len(events)

    def run(self) -> None:
        logs_url = f"{self.base_url}/api/v2/logs"
        oldest = self.get(logs_url, {"sort": "date:1", "per_page": 1}).json()
        if not oldest:
            return
        self.deliver(oldest)
        url: str | None = logs_url
        params: dict[str, Any] | None = {"from": oldest[0]["log_id"], "take": TAKE}
        while url is not None:
            response = self.get(url, params)
            events = response.json()
            if not events:
                return
            self.deliver(events)
            url, params = response.links.get("next", {}).get("url"), None


def main() -> None:
    job = json.loads(Path(sys.argv[1]).read_text())
    started = time.monotonic()
    with open(job["delivered"], "w", encoding="utf-8") as delivered:
        reader = Reader(job, delivered)
        try:
            reader.run()
            outcome = "ok"
        except (GaveUp, requests.RequestException) as error:
            outcome = f"failed: {error}"
    result = {**reader.tally, "seconds": time.monotonic() - started, "outcome": outcome}
    Path(sys.argv[2]).write_text(json.dumps(result))


if __name__ == "__main__":
    main()
