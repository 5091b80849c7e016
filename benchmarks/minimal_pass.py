"""``python -m benchmarks.minimal_pass JOB_JSON OUT_JSON``: the least a pass can do, as a yardstick.

Reads the tenant's log in checkpoint mode from a position to its end, one page at a time, with
the standard library's HTTP client on one kept-alive connection and no retries, pacing, state
or Singer machinery, but decodes each page and writes each record as the tap does
(``log_events``: structs of raw fields, one RECORD line each, to /dev/null), skipping events of
no user. What a pass costs beyond this is the tap's own
overhead; what this costs is the floor of the machine and the language for that work.
``JOB_JSON`` holds ``base_url``, ``token`` and ``from``; ``OUT_JSON`` gets events, requests,
seconds and CPU seconds.
"""

from __future__ import annotations

import http.client
import json
import sys
import time
from pathlib import Path
from urllib.parse import urlencode, urlsplit

from tap_auth0_userlogs.log_events import DecodedEvent, decode_page, record_json


def main() -> None:
    job = json.loads(Path(sys.argv[1]).read_text())
    base = urlsplit(job["base_url"])
    connection = http.client.HTTPConnection(base.hostname or "127.0.0.1", base.port)
    headers = {"Authorization": f"Bearer {job['token']}"}
    path = "/api/v2/logs?" + urlencode({"from": job["from"], "take": 100})
    head, tail = b'{"type":"RECORD","stream":"user_logs","record":', b',"time_extracted":"-"}'
    events = requests = 0
    started, cpu_started = time.monotonic(), time.process_time()
    with Path("/dev/null").open("wb") as out:
        while True:
            connection.request("GET", path, headers=headers)
            response = connection.getresponse()
            body = response.read()
            requests += 1
            page = decode_page(body)
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
            link = response.getheader("Link") or ""
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
