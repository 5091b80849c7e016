"""Events placed at an actor: one IP and its place, one device and one application.

Generated tenants draw a new IP and place for every event; a scenario needs people who log in
from home and attackers who stay on one IP, so each of its events comes from an Actor.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tests.emulator import payloads

# Public ranges the ordinary IPs are drawn from; documentation (TEST-NET) and shared (CGNAT)
# ranges stay free for what a scenario plants.
_PUBLIC_FIRST_OCTETS = (23, 31, 45, 62, 77, 81, 86, 91, 109, 151, 176, 185, 188, 212, 213)


@dataclass(frozen=True)
class Actor:
    """Where an event comes from."""

    ip: str
    location: dict[str, Any]  # a row of payloads.LOCATIONS
    agent: tuple[str, bool]  # (user_agent, isMobile)
    client: dict[str, str]  # client_id, client_name


def location_in(city: str) -> dict[str, Any]:
    """The payloads.LOCATIONS row of ``city``."""
    for row in payloads.LOCATIONS:
        if row["city_name"] == city:
            return row
    raise ValueError(f"no location row for {city!r}")


class IpPool:
    """Distinct public IPv4 addresses, never one handed out before."""

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng
        self._given: set[str] = set()

    def take(self) -> str:
        while True:
            rest = self._rng.randbytes(3)
            ip = f"{self._rng.choice(_PUBLIC_FIRST_OCTETS)}.{rest[0]}.{rest[1]}.{1 + rest[2] % 254}"
            if ip not in self._given:
                self._given.add(ip)
                return ip


def user_event(
    rng: random.Random,
    ctx: payloads.EventContext,
    user: dict[str, Any],
    type_code: str,
    date: datetime,
    actor: Actor,
) -> dict[str, Any]:
    """An event of ``user`` from ``actor``."""
    return _placed(payloads.make_event(rng, ctx, user, type_code, date), actor)


def event_of_no_user(
    rng: random.Random,
    ctx: payloads.EventContext,
    type_code: str,
    date: datetime,
    actor: Actor,
    user_name: str,
) -> dict[str, Any]:
    """An event of no account (no ``user_id`` at all) from ``actor``, as ``user_name``."""
    return _placed(payloads.make_event_of_no_user(rng, ctx, type_code, date, user_name), actor)


def client_event(
    rng: random.Random, ctx: payloads.EventContext, date: datetime, actor: Actor
) -> dict[str, Any]:
    """A client-credentials exchange (``seccft``) of ``actor``'s application."""
    return _placed(payloads.make_client_event(rng, ctx, date), actor)


def _placed(event: dict[str, Any], actor: Actor) -> dict[str, Any]:
    event["ip"] = actor.ip
    if "client_ip" in event:
        event["client_ip"] = actor.ip
    event["location_info"] = dict(actor.location)
    event["user_agent"], event["isMobile"] = actor.agent
    event["client_id"] = actor.client["client_id"]
    event["client_name"] = actor.client["client_name"]
    # Generated tenants add a top-level risk_assessment now and then; Auth0's own assessment
    # sits in details.riskAssessment, and a scenario plants exactly those.
    event.pop("risk_assessment", None)
    return event
