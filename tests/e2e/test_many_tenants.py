"""Two tenants, one Meltano project, one warehouse: docs/many-tenants.md's extractors.

Both emulated tenants are generated from the same seed at the same instant, so they hold the
very same log_ids: a warehouse keyed on log_id alone would keep one tenant's row of each. They
differ in their users: tap-auth0-acme reads users 1-4, tap-auth0-globex users 3-6, so two users
(the same ids in both tenants, as one Google account signing in to two tenants would be) are
read by both. Each tenant has its own rate limit. Into PostgreSQL the two `meltano run`
processes start together; DuckDB takes one writer at a time, so there they run one after the
other, in one `meltano run`. A second run after new events in both tenants is incremental for
both.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from tap_auth0_userlogs.events.type_codes import load_event_types
from tests.e2e.meltano_cli import Meltano, user_bookmarks
from tests.e2e.pipeline import duckdb_settings, postgres_settings
from tests.e2e.tenants import (
    FIGURES,
    EmulatedTenant,
    Pace,
    documented_tenant_extractors,
    pace_of,
    parse_moment,
    write_project,
)
from tests.e2e.warehouses import SCHEMA, DuckDBWarehouse, PostgresWarehouse, Warehouse
from tests.emulator import Emulator, TenantSpec

LOADERS = ["target-duckdb", "target-postgres"]
USERS = 6
EVENTS_PER_USER = 60
# Pages of 5 events: a full sync costs each tenant about 50 requests, long enough to measure
# its pace at a limit of 4 requests/s, while an incremental run still reads one page per user.
PAGE_SIZE = 5
LOOKBACK_MINUTES = 15
RATE_LIMIT = 4
BURST = 4
# Which of the tenant's users each extractor reads: users 2 and 3 are read by both.
USER_SLICES = (slice(0, 4), slice(2, 6))


@dataclass
class Project:
    loader: str
    tenants: list[EmulatedTenant]
    meltano: Meltano
    warehouse: Warehouse

    def run(self) -> None:
        """Every tenant's pipeline: at once into PostgreSQL, one after the other into DuckDB."""
        if self.loader == "target-duckdb":
            blocks = [name for t in self.tenants for name in (t.extractor, self.loader)]
            self.meltano.run(blocks[1], blocks[0], *blocks[2:])
            return
        with ThreadPoolExecutor(len(self.tenants)) as pool:
            runs = [pool.submit(self.meltano.run, self.loader, t.extractor) for t in self.tenants]
            for run in runs:
                run.result()

    def paces(self) -> list[Pace]:
        return [pace_of(t, RATE_LIMIT, BURST) for t in self.tenants]

    def reset_counters(self) -> None:
        for tenant in self.tenants:
            tenant.emulator.reset_counters()


@dataclass
class Run:
    """What the warehouse, Meltano and the emulators held right after one run."""

    project: Project
    expected: dict[str, set[str]]
    loaded: dict[str, set[str]]
    row_count: int
    bookmarks: dict[str, dict[str, datetime.datetime]]
    newest_event: dict[str, dict[str, datetime.datetime]]
    paces: list[Pace]


@pytest.fixture(scope="module", params=LOADERS)
def project(
    request: pytest.FixtureRequest, meltano: Meltano, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Project]:
    loader: str = request.param
    tmp: Path = tmp_path_factory.mktemp(f"many-tenants-{loader}")
    cluster = request.getfixturevalue("postgres_cluster") if loader == "target-postgres" else None
    if cluster is None:
        warehouse: Warehouse = DuckDBWarehouse(tmp / "warehouse.duckdb")
        target = duckdb_settings(tmp / "warehouse.duckdb")
    else:
        database = cluster.create_database("tenants", "tenants-password", "auth0_tenants")
        # As docs/many-tenants.md advises: two loads starting together on a new database
        # would both try to create the schema, and one would fail.
        with database.connect() as conn:
            conn.execute(f"CREATE SCHEMA {SCHEMA}")
        warehouse = PostgresWarehouse(database)
        target = postgres_settings(database)
    extractors = documented_tenant_extractors()
    now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    emulators = [
        Emulator(
            # The same seed and instant: the same users and log_ids in both tenants.
            TenantSpec(users=USERS, events_per_user=EVENTS_PER_USER, seed=13, now=now,
                       tenant_name=e["name"].removeprefix("tap-auth0-")),
            domain=e["config"]["domain"],
            rate_limit=RATE_LIMIT,
            burst=BURST,
        )
        for e in extractors
    ]  # fmt: skip
    with emulators[0], emulators[1]:
        tenants = [
            EmulatedTenant(e["name"], emulator, emulator.tenant.user_ids()[users])
            for e, emulator, users in zip(extractors, emulators, USER_SLICES, strict=True)
        ]
        settings = {
            name: value
            for tenant in tenants
            for name, value in tenant.settings(PAGE_SIZE, LOOKBACK_MINUTES).items()
        }
        configured = meltano.pipeline(tmp / "meltano.db", **settings, **target)
        in_project = configured.in_project(write_project(tmp, extractors))
        # Meltano creates its system database on first use; two runs at once would both try.
        in_project("state", "list")
        yield Project(loader, tenants, in_project, warehouse)
    if cluster is not None:
        cluster.drop_database("auth0_tenants", owner="tenants")


def _run(project: Project) -> Run:
    project.reset_counters()
    project.run()
    return Run(
        project=project,
        expected={t.domain: t.expected_log_ids() for t in project.tenants},
        loaded=project.warehouse.log_ids_by_tenant(),
        row_count=project.warehouse.row_count("user_logs"),
        bookmarks={
            t.domain: {
                user: parse_moment(date)
                for user, date in user_bookmarks(
                    project.meltano.state(project.loader, t.extractor)
                ).items()
            }
            for t in project.tenants
        },
        newest_event={t.domain: t.newest_event() for t in project.tenants},
        paces=project.paces(),
    )


@pytest.fixture(scope="module")
def first_run(project: Project) -> Run:
    run = _run(project)
    FIGURES.append(f"first run, {project.loader} ({_how(project)}):")
    FIGURES.extend(f"  {pace.line()}" for pace in run.paces)
    acme, globex = run.paces
    FIGURES.append(f"  both sending requests at once for {acme.overlap(globex):.1f} s")
    return run


@pytest.fixture(scope="module")
def second_run(first_run: Run) -> tuple[Run, set[str]]:
    project = first_run.project
    new_events: set[str] = set()
    for tenant in project.tenants:
        for user in (tenant.users[0], tenant.users[-1]):
            new_events.add(tenant.emulator.tenant.add_event(user, type="s")["log_id"])
    return _run(project), new_events


def _how(project: Project) -> str:
    return "one after the other" if project.loader == "target-duckdb" else "two processes at once"


# ---------------------------------------------------------------- first run


def test_the_tenants_share_log_ids_so_a_collision_would_show(first_run: Run) -> None:
    acme, globex = first_run.expected.values()
    assert len(acme & globex) == 2 * EVENTS_PER_USER


def test_each_tenants_rows_are_exactly_its_events(first_run: Run) -> None:
    assert first_run.loaded == first_run.expected


def test_no_row_is_lost_to_a_key_collision(first_run: Run) -> None:
    assert first_run.row_count == sum(len(ids) for ids in first_run.expected.values())
    assert first_run.row_count == len(first_run.project.tenants) * 4 * EVENTS_PER_USER


def test_rows_name_the_configured_domain_of_their_tenant(first_run: Run) -> None:
    domains = {e["config"]["domain"] for e in documented_tenant_extractors()}
    assert set(first_run.loaded) == domains


def test_event_types_load_once_without_a_tenant(first_run: Run) -> None:
    warehouse = first_run.project.warehouse
    assert warehouse.row_count("log_event_types") == len(load_event_types())
    assert "tenant_domain" not in warehouse.column_kinds("log_event_types")


def test_each_tenant_keeps_its_own_state(first_run: Run) -> None:
    assert first_run.bookmarks == first_run.newest_event
    acme, globex = first_run.project.tenants
    assert set(first_run.bookmarks[acme.domain]) != set(first_run.bookmarks[globex.domain])


def test_each_tenant_runs_at_its_own_rate_limit(first_run: Run) -> None:
    for pace in first_run.paces:
        # Near the ceiling, less the few requests the tap leaves to the tenant's own apps.
        assert pace.share_of_limit >= 0.7, pace.line()
        assert pace.rate_limited <= 0.05 * pace.requests, pace.line()


def test_tenants_run_side_by_side_into_postgres_one_by_one_into_duckdb(first_run: Run) -> None:
    acme, globex = first_run.paces
    if first_run.project.loader == "target-postgres":
        assert acme.overlap(globex) >= 0.8 * min(acme.seconds, globex.seconds)
    else:
        # DuckDB takes one writer at a time: a second target-duckdb could not open the file.
        assert acme.overlap(globex) == 0


# ---------------------------------------------------------------- second run


def test_second_run_adds_each_tenants_new_events(second_run: tuple[Run, set[str]]) -> None:
    run, new_events = second_run
    assert new_events <= set().union(*run.loaded.values())
    assert run.loaded == run.expected
    assert run.row_count == sum(len(ids) for ids in run.expected.values())


def test_second_run_is_incremental_for_every_tenant(second_run: tuple[Run, set[str]]) -> None:
    run, _ = second_run
    # One page per user: each tenant starts from its own users' bookmarks.
    assert [p.requests for p in run.paces] == [len(t.users) for t in run.project.tenants]
    assert run.bookmarks == run.newest_event
