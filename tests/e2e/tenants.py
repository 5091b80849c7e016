"""Several emulated tenants in one Meltano project: the `inherit_from` extractors of the docs.

The project is this repository's meltano.yml plus the tenant extractors of
docs/many-tenants.md, written to a temporary folder and run on the plugins already installed in
.meltano/, so the documented configuration is what the tests run.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from tests.e2e.meltano_cli import EXTRACTOR, REPO_ROOT
from tests.emulator import Emulator

MANY_TENANTS_PAGE = REPO_ROOT / "docs" / "many-tenants.md"
# Printed at the end of the test session (tests/e2e/conftest.py), for the page's figures.
FIGURES: list[str] = []


def documented_tenant_extractors() -> list[dict[str, Any]]:
    """The extractors that inherit from the tap in the page's first meltano.yml block."""
    block = MANY_TENANTS_PAGE.read_text().split("```yaml\n", 1)[1].split("```", 1)[0]
    extractors = yaml.safe_load(block)["plugins"]["extractors"]
    return [e for e in extractors if e.get("inherit_from") == EXTRACTOR]


def documented_sql_blocks() -> list[str]:
    """The page's SQL blocks (the key migration), in order."""
    return [b.split("```", 1)[0] for b in MANY_TENANTS_PAGE.read_text().split("```sql\n")[1:]]


def write_project(folder: Path, extractors: list[dict[str, Any]]) -> Path:
    """A meltano.yml in `folder`: this repository's, with `extractors` added."""
    project = yaml.safe_load((REPO_ROOT / "meltano.yml").read_text())
    project["plugins"]["extractors"].extend(extractors)
    (folder / "meltano.yml").write_text(yaml.safe_dump(project, sort_keys=False))
    return folder


def env_prefix(plugin: str) -> str:
    """Meltano's prefix for a plugin's setting variables: tap-auth0-acme -> TAP_AUTH0_ACME_."""
    return plugin.upper().replace("-", "_") + "_"


@dataclass
class EmulatedTenant:
    """One tenant: its extractor in the project, the emulator serving it, the users it reads."""

    extractor: str
    emulator: Emulator
    users: list[str]

    @property
    def domain(self) -> str:
        return self.emulator.domain

    def settings(self, page_size: int, lookback_minutes: int) -> dict[str, Any]:
        """The extractor's own settings variables, pointing it at its emulator."""
        prefix = env_prefix(self.extractor)
        return {
            f"{prefix}API_URL": self.emulator.base_url,
            f"{prefix}ACCESS_TOKEN": self.emulator.static_token,
            f"{prefix}USER_IDS": self.users,
            f"{prefix}PAGE_SIZE": page_size,
            f"{prefix}LOOKBACK_MINUTES": lookback_minutes,
        }

    def expected_log_ids(self) -> set[str]:
        return self.emulator.tenant.expected_log_ids(user_ids=self.users)

    def newest_event(self) -> dict[str, datetime.datetime]:
        """user_id -> the date of that user's newest event in this tenant."""
        tenant = self.emulator.tenant
        return {u: max(parse_moment(e["date"]) for e in tenant.events_for(u)) for u in self.users}


@dataclass(frozen=True)
class Pace:
    """How hard one tenant's run pressed on its rate limit, from the emulator's request log."""

    extractor: str
    requests: int
    rate_limited: int
    started: float  # time.monotonic() of the first request
    finished: float  # ... and of the last answer
    limit: float  # requests per second the bucket refills
    burst: int

    @property
    def seconds(self) -> float:
        return self.finished - self.started

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds

    @property
    def share_of_limit(self) -> float:
        """Requests sent over the most the bucket allows in the same time (burst included)."""
        return self.requests / (self.burst + self.limit * self.seconds)

    def overlap(self, other: Pace) -> float:
        """Seconds during which both runs were sending requests."""
        return max(0.0, min(self.finished, other.finished) - max(self.started, other.started))

    def line(self) -> str:
        return (
            f"{self.extractor}: {self.requests} requests in {self.seconds:.1f} s = "
            f"{self.per_second:.2f}/s against a limit of {self.limit:g}/s (burst {self.burst}): "
            f"{self.share_of_limit:.0%} of what the bucket allows; "
            f"{self.rate_limited} rate-limited (429)"
        )


def pace_of(tenant: EmulatedTenant, limit: float, burst: int) -> Pace:
    """The pace of every request the tenant's emulator served since its counters were reset."""
    log = tenant.emulator.request_log
    return Pace(
        extractor=tenant.extractor,
        requests=len(log),
        rate_limited=sum(1 for r in log if r.status == 429),
        started=min(r.started for r in log),
        finished=max(r.finished or r.started for r in log),
        limit=limit,
        burst=burst,
    )


def parse_moment(moment: str) -> datetime.datetime:
    parsed = datetime.datetime.fromisoformat(moment.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=datetime.timezone.utc)
