"""Everything one running emulator shares between the requests it serves."""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass, field

from tests.emulator.auth import Authority
from tests.emulator.behaviour import Behaviour
from tests.emulator.counters import Counters
from tests.emulator.faults import FaultPlan
from tests.emulator.jobs import ExportJobs
from tests.emulator.plans import Plan
from tests.emulator.ratelimit import ConcurrencyCap, RateLimiter
from tests.emulator.tenant import Tenant


@dataclass
class State:
    tenant: Tenant
    authority: Authority
    limiter: RateLimiter
    faults: FaultPlan
    counters: Counters
    jobs: ExportJobs
    plan: Plan | None = None
    concurrency: ConcurrencyCap = field(default_factory=ConcurrencyCap)
    # Replaced whole (never mutated), so a request sees one consistent set of knobs.
    behaviour: Behaviour = field(default_factory=Behaviour)
    latency_ms: float = 0.0
    jitter_ms: float = 0.0
    rng: random.Random = field(default_factory=random.Random)
    base_url: str = ""
    # Handler tasks in flight, so stopping can cancel hung ones instead of waiting them out.
    tasks: set[asyncio.Task[object]] = field(default_factory=set)

    def latency_seconds(self) -> float:
        if not self.latency_ms and not self.jitter_ms:
            return 0.0
        jitter = self.rng.uniform(-self.jitter_ms, self.jitter_ms) if self.jitter_ms else 0.0
        return max(0.0, self.latency_ms + jitter) / 1000
