"""Users-export jobs: created pending, completed after a few polls, with a short-lived download."""

from __future__ import annotations

import csv
import gzip
import io
import json
import secrets
import threading
import time
from dataclasses import dataclass
from typing import Any

from tests.emulator import lucene
from tests.emulator.errors import ApiError
from tests.emulator.payloads import CONNECTIONS
from tests.emulator.tenant import Tenant
from tests.emulator.timestamps import iso_ms, utcnow

DEFAULT_FIELDS = ("user_id", "email", "name", "created_at", "updated_at", "last_login")


@dataclass
class ExportJob:
    id: str
    format: str
    fields: list[dict[str, str]]
    connection_id: str | None
    limit: int | None
    created_at: str
    polls: int = 0
    location_token: str | None = None
    location_expires: float | None = None  # time.monotonic() deadline of the download link
    content: bytes | None = None

    @property
    def connection(self) -> str | None:
        by_id = {c.id: c.name for c in CONNECTIONS.values()}
        return by_id.get(self.connection_id) if self.connection_id else None

    def describe(self, status: str, base_url: str) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": "users_export",
            "status": status,
            "id": self.id,
            "created_at": self.created_at,
            "format": self.format,
            "fields": self.fields,
        }
        if self.connection_id:
            body |= {"connection_id": self.connection_id, "connection": self.connection}
        if self.limit is not None:
            body["limit"] = self.limit
        if status == "completed":
            suffix = "json.gz" if self.format == "json" else "csv.gz"
            body["location"] = f"{base_url}/exports/{self.id}/{self.location_token}/users.{suffix}"
        return body


class DownloadExpired(Exception):
    """The export's download link is past its 60 seconds."""


class ExportJobs:
    """The tenant's export jobs; ``pending_polls`` polls answer pending before completion."""

    def __init__(self, pending_polls: int = 1, link_ttl: float = 60.0) -> None:
        self.pending_polls = pending_polls
        self.link_ttl = link_ttl
        self._lock = threading.Lock()
        self._jobs: dict[str, ExportJob] = {}

    def create(self, body: Any, base_url: str) -> dict[str, Any]:
        if not isinstance(body, dict):
            raise _invalid("the body must be a JSON object")
        export_format = body.get("format", "csv")
        if export_format not in ("json", "csv"):
            raise _invalid("format must be json or csv")
        fields = body.get("fields") or [{"name": name} for name in DEFAULT_FIELDS]
        if not isinstance(fields, list) or not all(
            isinstance(f, dict) and isinstance(f.get("name"), str) for f in fields
        ):
            raise _invalid("fields must be a list of {name, export_as?} objects")
        connection_id = body.get("connection_id")
        if connection_id is not None and connection_id not in {c.id for c in CONNECTIONS.values()}:
            raise _invalid(f"connection {connection_id} does not exist")
        limit = body.get("limit")
        if limit is not None and (not isinstance(limit, int) or limit < 1):
            raise _invalid("limit must be a positive integer")
        job = ExportJob(
            id="job_" + secrets.token_hex(8),
            format=export_format,
            fields=fields,
            connection_id=connection_id,
            limit=limit,
            created_at=iso_ms(utcnow()),
        )
        with self._lock:
            self._jobs[job.id] = job
        return job.describe("pending", base_url)

    def poll(self, job_id: str, tenant: Tenant, base_url: str) -> dict[str, Any]:
        with self._lock:
            job = self._jobs.get(job_id)
            if job is None:
                raise ApiError(404, "The job does not exist.", "inexistent_job")
            job.polls += 1
            if job.polls <= self.pending_polls:
                return job.describe("pending", base_url)
            if job.content is None:
                job.content = _export(job, tenant)
            # Each completed answer hands out a fresh link, as Auth0 signs a new URL per poll.
            job.location_token = secrets.token_urlsafe(16)
            job.location_expires = time.monotonic() + self.link_ttl
            return job.describe("completed", base_url)

    def download(self, job_id: str, token: str) -> bytes | None:
        """The gzipped export; None if unknown, DownloadExpired once the link has lapsed."""
        with self._lock:
            job = self._jobs.get(job_id)
            if job is None or job.content is None or token != job.location_token:
                return None
            if job.location_expires is not None and time.monotonic() > job.location_expires:
                raise DownloadExpired(job_id)
            return job.content


def _invalid(message: str) -> ApiError:
    return ApiError(400, f"Payload validation error: {message}", "invalid_body")


def _export(job: ExportJob, tenant: Tenant) -> bytes:
    users = tenant.search_users(lambda _: True)
    if job.connection is not None:
        users = [u for u in users if job.connection in lucene.values_at(u, "identities.connection")]
    if job.limit is not None:
        users = users[: job.limit]
    columns = [(f["name"], f.get("export_as") or f["name"]) for f in job.fields]
    if "user_id" not in {name for name, _ in columns}:
        columns.insert(0, ("user_id", "user_id"))
    rows = [
        {label: _field(user, name) for name, label in columns if _field(user, name) is not None}
        for user in users
    ]
    if job.format == "json":
        text = "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)
    else:
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow([label for _, label in columns])
        for row in rows:
            writer.writerow([_csv_cell(row.get(label)) for _, label in columns])
        text = out.getvalue()
    return gzip.compress(text.encode(), mtime=0)


def _field(user: dict[str, Any], name: str) -> Any:
    values = lucene.values_at(user, name)
    return values[0] if values else None


def _csv_cell(value: Any) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else json.dumps(value)
