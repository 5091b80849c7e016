"""Users-export jobs: create, poll until completed, download gzipped NDJSON within 60 s."""

from __future__ import annotations

import gzip
import json
import time

import requests

from tests.emulator import TenantSpec
from tests.emulator.payloads import CONNECTIONS
from tests.emulator_tests.api import TIMEOUT, get


def create(emulator, body: dict) -> requests.Response:
    return requests.post(
        f"{emulator.base_url}/api/v2/jobs/users-exports",
        json=body,
        headers={"Authorization": f"Bearer {emulator.static_token}"},
        timeout=TIMEOUT,
    )


def completed(emulator, job_id: str, polls: int = 5) -> dict:
    for _ in range(polls):
        job = get(emulator, f"/api/v2/jobs/{job_id}").json()
        if job["status"] == "completed":
            return job
    raise AssertionError(f"job {job_id} never completed")


def test_export_starts_pending(emulator):
    response = create(emulator, {"format": "json", "fields": [{"name": "email"}]})
    assert response.status_code == 201
    job = response.json()
    assert (job["type"], job["status"]) == ("users_export", "pending")
    assert job["id"].startswith("job_")
    assert "created_at" in job


def test_first_poll_is_pending_the_next_completed(emulator):
    job_id = create(emulator, {"format": "json"}).json()["id"]
    statuses = [get(emulator, f"/api/v2/jobs/{job_id}").json()["status"] for _ in range(2)]
    assert statuses == ["pending", "completed"]


def test_download_is_gzipped_ndjson_of_every_user_with_requested_fields(emulator_factory):
    emulator = emulator_factory(TenantSpec(users=12, events_per_user=0, seed=5))
    job_id = create(emulator, {"format": "json", "fields": [{"name": "created_at"}]}).json()["id"]
    location = completed(emulator, job_id)["location"]
    assert location.startswith(emulator.base_url)
    lines = gzip.decompress(requests.get(location, timeout=5).content).splitlines()
    rows = [json.loads(line) for line in lines]
    assert [r["user_id"] for r in rows] == emulator.tenant.user_ids()
    assert all(set(r) == {"user_id", "created_at"} for r in rows)


def test_connection_and_limit_narrow_the_export(emulator_factory):
    emulator = emulator_factory(TenantSpec(users=30, events_per_user=0, seed=5))
    body = {"format": "json", "connection_id": CONNECTIONS["google-oauth2"].id, "limit": 2}
    location = completed(emulator, create(emulator, body).json()["id"])["location"]
    rows = gzip.decompress(requests.get(location, timeout=5).content).splitlines()
    assert len(rows) == 2
    assert all(json.loads(r)["user_id"].startswith("google-oauth2|") for r in rows)


def test_download_link_expires(emulator_factory):
    emulator = emulator_factory(None, export_link_ttl=0.2)
    location = completed(emulator, create(emulator, {"format": "json"}).json()["id"])["location"]
    assert requests.get(location, timeout=5).status_code == 200
    time.sleep(0.3)
    assert requests.get(location, timeout=5).status_code == 403


def test_unknown_job_is_404(emulator):
    response = get(emulator, "/api/v2/jobs/job_doesnotexist")
    assert response.status_code == 404
