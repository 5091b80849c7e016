"""``python -m benchmarks.naive JOB_JSON RESULT_JSON``: the naive sequential baseline.

What a plain curl script does: for each user, ``GET /api/v2/users/{id}/logs`` page after page
(100 events a page) until a short page, one request at a time on a fresh connection, a 429
answered by sleeping one second and asking again, any other error ending that user. It stops
after the user during which ``budget_seconds`` ran out, so big scenarios measure a subset.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

import requests

TOO_MANY_REQUESTS = 429


def fetch_user(base_url: str, token: str, user_id: str, per_page: int, tally: dict) -> None:
    """Every page of one user's log, newest first, counted into ``tally``."""
    url = f"{base_url}/api/v2/users/{quote(user_id, safe='')}/logs"
    headers = {"Authorization": f"Bearer {token}"}
    page = 0
    while True:
        params = {"page": page, "per_page": per_page, "sort": "date:-1"}
        # requests.get, not a Session: like curl, a new connection per request.
        response = requests.get(url, params=params, headers=headers, timeout=60)
        tally["requests"] += 1
        if response.status_code == TOO_MANY_REQUESTS:
            tally["rate_limited"] += 1
            time.sleep(1)
            continue
        if response.status_code != 200:
            tally["errors"] += 1
            return
        events = len(response.json())
        tally["events"] += events
        if events < per_page:
            return
        page += 1


def run(job: dict[str, Any]) -> dict[str, Any]:
    tally = {"users": 0, "requests": 0, "events": 0, "rate_limited": 0, "errors": 0}
    started = time.monotonic()
    for user_id in job["user_ids"]:
        fetch_user(job["base_url"], job["token"], user_id, job.get("per_page", 100), tally)
        tally["users"] += 1
        if time.monotonic() - started >= job["budget_seconds"]:
            break
    tally["seconds"] = time.monotonic() - started
    return tally


def main() -> None:
    job = json.loads(Path(sys.argv[1]).read_text())
    Path(sys.argv[2]).write_text(json.dumps(run(job)))


if __name__ == "__main__":
    main()
