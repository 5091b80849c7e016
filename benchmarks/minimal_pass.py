"""``python -m benchmarks.minimal_pass JOB_JSON OUT_JSON``: the least a pass can do, as a yardstick.

Reads the tenant's log in checkpoint mode from a position to its end, one page at a time, with
urllib3 and no retries, pacing, state or Singer machinery, but decodes each page and writes
each record as the tap does (``events.pages``: structs of raw fields, one RECORD line each, to
stdout, which the benchmark reads through a pipe as it reads the tap's), skipping events of
no user. What a pass costs beyond this is the tap's own overhead; what this costs is the
floor of the machine and the language for that work.
``JOB_JSON`` holds ``base_url``, ``token`` and ``from``; ``OUT_JSON`` gets events, requests,
seconds and CPU seconds.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import urllib3

from tap_auth0_userlogs.events.pages import DecodedEvent, decode_page, record_json


def main() -> None:
    job = json.loads(Path(sys.argv[1]).read_text())
    base = urlsplit(job["base_url"])
    pool = urllib3.HTTPConnectionPool(base.hostname, base.port, retries=False)
    headers = {"Authorization": f"Bearer {job['token']}"}
    path = "/api/v2/logs?" + urlencode({"from": job["from"], "take": 100})
    head, tail = b'{"type":"RECORD","stream":"user_logs","record":', b',"time_extracted":"-"}'
    events = requests = 0
    started, cpu_started = time.monotonic(), time.process_time()
    out = sys.stdout.buffer
    while True:
        response = pool.request("GET", path, headers=headers)
        requests += 1
        page = decode_page(response.data)
        if not page:
            break
        lines = [
            head
            + (
                json.dumps(event.event).encode()
                if type(event) is DecodedEvent
                else record_json(event, "tenant")
            )
            + tail
            for event in page
            if event.user_id
        ]
        out.write(b"\n".join(lines) + b"\n")
        events += len(lines)
        link = response.headers["Link"]
        next_url = urlsplit(link[link.index("<") + 1 : link.index(">")])
        path = f"{next_url.path}?{next_url.query}"
    done = {
        "events": events,
        "requests": requests,
        "seconds": time.monotonic() - started,
        "cpu_seconds": time.process_time() - cpu_started,
    }
    Path(sys.argv[2]).write_text(json.dumps(done))


if __name__ == "__main__":
    main()
