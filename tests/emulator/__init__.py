"""A local Auth0 Management API emulator for testing the tap without a real tenant.

Modules, one job each:
    tenant      users and log events, generated from a seed (or a busy profile), changeable
                while served
    backlog     a backlog of the tenant log for benchmarks: millions of events derived from
                their index, not stored
    planted     a scenario: ordinary activity with known attacks and habits planted in it
    planted_truth  what the planted scenario planted, as plain exact data
    ordinary    people who log in from home: the planted scenario's background
    actors      events placed at one IP, place, device and application
    plans       Auth0 plans as data: rate limits, log retention, user exports
    behaviour   knobs for what Auth0 leaves undocumented, defaulting to the likeliest reading
    payloads    realistic user objects and event payloads
    log_ids     Auth0's log_id layout (ingestion time + sequence)
    timestamps  Auth0's ISO-8601 millisecond timestamps
    lucene      the q subset of /api/v2/logs and /api/v2/users
    params      paging, the 1,000-result cap, sort and other query parameters
    routes      which path is which endpoint, and its handler
    pipeline    what every request goes through: counting, latency, faults, rate limit, token
    auth        applications and the tokens issued to them
    ratelimit   token buckets, the x-ratelimit-* headers and the cap on requests in flight
    faults      scripted and random fault injection
    jobs        users-export jobs and their downloads
    counters    request counts, concurrency, bytes and the request log
    errors      Auth0-shaped error bodies
    state       what one running emulator shares between requests
    server      the Emulator: aiohttp on its own event loop in a background thread
    cli         ``python -m tests.emulator``
    pytest_plugin  the ``emulator`` and ``emulator_factory`` fixtures
    throughput  ``python -m tests.emulator.throughput``
"""

from tests.emulator.planted import planted_tenant
from tests.emulator.planted_truth import PlantedTruth
from tests.emulator.server import Emulator
from tests.emulator.tenant import Tenant, TenantSpec

__all__ = ["Emulator", "PlantedTruth", "Tenant", "TenantSpec", "planted_tenant"]
