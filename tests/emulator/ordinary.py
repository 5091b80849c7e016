"""Ordinary activity: people who log in from home, now and then with a typo or an MFA prompt.

Made so that no planted signal can arise by chance: a person logs in from one or two home IPs
of one city (no IP is shared between people), through one application, in sessions at least
two hours apart (so at most one failed login per IP and one MFA challenge per person in any
hour), and never in a quiet hour a scenario keeps for what it plants.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from tests.emulator import payloads
from tests.emulator.actors import Actor, IpPool, client_event, event_of_no_user, user_event
from tests.emulator.timestamps import iso_ms

SESSION_GAP = timedelta(hours=2)  # a person's sessions start at least this far apart
RECENT = timedelta(hours=47)  # every person has a session this close to the end of their window
_ATTEMPTS = 500  # random times tried before a required session is given up as impossible
_DESKTOP_AGENTS = tuple(a for a in payloads.USER_AGENTS if not a[1])
_IOS_AGENT = next(a for a in payloads.USER_AGENTS if "iOS" in a[0])
# (offset in seconds from the login, type code, required): optional steps falling outside the
# person's window are left out, a required one outside it moves the whole session.
Step = tuple[float, str, bool]


@dataclass
class Calendar:
    """The span a scenario covers and the hours (UTC) it keeps free of ordinary events."""

    start: datetime
    end: datetime  # no ordinary event after this
    quiet_hours: set[datetime] = field(default_factory=set)

    def is_quiet(self, moment: datetime) -> bool:
        return moment.replace(minute=0, second=0, microsecond=0) in self.quiet_hours


@dataclass
class Person:
    """A user of the tenant and their habits."""

    user: dict[str, Any]
    home: dict[str, Any]  # a payloads.LOCATIONS row
    ips: tuple[str, ...]  # home (and work) IPs, all in the home city
    client: dict[str, str]
    agent: tuple[str, bool]
    mfa: str | None  # the code of the challenge they get: gd_send_pn, gd_send_sms, or None
    activity: float  # the chance of a session on any one day
    window: tuple[datetime, datetime]  # ordinary events only within this
    signs_up: bool = False  # created within the window: the first session is a signup
    blocked: list[tuple[datetime, datetime]] = field(default_factory=list)  # no events within
    sessions: list[datetime] = field(default_factory=list)

    @property
    def user_id(self) -> str:
        return str(self.user["user_id"])

    @property
    def has_password(self) -> bool:
        return self.user_id.startswith("auth0|")

    def actor(self, ip: str | None = None, client: dict[str, str] | None = None) -> Actor:
        return Actor(ip or self.ips[0], self.home, self.agent, client or self.client)


def make_person(
    rng: random.Random,
    ctx: payloads.EventContext,
    pool: IpPool,
    created: datetime,
    window: tuple[datetime, datetime],
) -> Person:
    """A person created at ``created`` whose ordinary events fall within ``window``."""
    provider = "auth0" if rng.random() < 0.6 else payloads.pick_provider(rng)
    user = payloads.make_user(rng, provider, created, window[1])
    client = rng.choice([c for c in ctx.clients if c not in ctx.machine_clients])
    agent = _IOS_AGENT if "iOS" in client["client_name"] else rng.choice(_DESKTOP_AGENTS)
    roll = rng.random()
    mfa = "gd_send_pn" if roll < 0.2 else "gd_send_sms" if roll < 0.3 else None
    ips = (pool.take(), pool.take()) if rng.random() < 0.4 else (pool.take(),)
    return Person(
        user=user,
        home=dict(rng.choice(payloads.LOCATIONS)),
        ips=ips,
        client=client,
        agent=agent,
        mfa=mfa,
        activity=rng.uniform(0.25, 0.6),
        window=(max(window[0], created), window[1]),
        signs_up=created > window[0],
    )


def ordinary_events(
    rng: random.Random, ctx: payloads.EventContext, calendar: Calendar, person: Person
) -> list[dict[str, Any]]:
    """A person's ordinary events: a session on some days, one near the end of their window,
    and a signup first if they were created within it. Updates the user object to match."""
    first, last = person.window
    events: list[dict[str, Any]] = []
    if person.signs_up:
        steps = _steps(rng, person, signup=True)
        signup = _first_fit(calendar, person, first, steps)
        events += _session(rng, ctx, calendar, person, signup, steps)
        first = signup - timedelta(seconds=90)
        person.window = (first, last)  # nothing before the account exists
        person.user["created_at"] = iso_ms(first)
    day = first.replace(hour=0, minute=0, second=0, microsecond=0)
    while day < last:
        if rng.random() < person.activity:
            steps = _steps(rng, person, signup=False)
            for _ in range(5):  # a day whose free hours are taken is simply a quiet day
                moment = day + timedelta(seconds=rng.uniform(0, 86400))
                if _fits(calendar, person, moment, steps):
                    events += _session(rng, ctx, calendar, person, moment, steps)
                    break
        day += timedelta(days=1)
    steps = _steps(rng, person, signup=False)
    recent = _random_fit(rng, calendar, person, max(first, last - RECENT), last, steps)
    events += _session(rng, ctx, calendar, person, recent, steps)
    _sync_user(person, events)
    return events


def machine_events(
    rng: random.Random,
    ctx: payloads.EventContext,
    calendar: Calendar,
    servers: dict[str, Actor],
    per_day: int,
) -> list[dict[str, Any]]:
    """Client-credentials exchanges (no user): ``per_day`` a day for each server's client."""
    events = []
    days = int((calendar.end - calendar.start).total_seconds() // 86400)
    for _ in range(days * per_day):
        for actor in servers.values():
            moment = calendar.start + timedelta(
                seconds=rng.uniform(0, (calendar.end - calendar.start).total_seconds())
            )
            if not calendar.is_quiet(moment):
                events.append(client_event(rng, ctx, moment, actor))
    return events


def _steps(rng: random.Random, person: Person, *, signup: bool) -> list[Step]:
    steps: list[Step] = []
    if signup:
        steps.append((-60, "ss", True))
    elif person.has_password:
        roll = rng.random()
        if roll < 0.06:
            steps.append((-40, "fp", True))  # a mistyped password
        elif roll < 0.09:
            steps.append((-40, "fu", True))  # a mistyped email: no such user
        elif roll < 0.11:
            steps.append((-40, "f", True))  # any other failure, e.g. a stale login page
    if person.mfa:
        steps += [(-25, person.mfa, True), (-8, "gd_auth_succeed", True)]
    login = "ssa" if not steps and rng.random() < 0.25 else "s"
    steps += [(0, login, True), (2, "seacft", True)]
    if rng.random() < 0.35:
        steps.append((rng.uniform(3600, 8 * 3600), "sertft", False))
    if rng.random() < 0.45:
        steps.append((rng.uniform(300, 3 * 3600), "slo", False))
    return steps


def _session(
    rng: random.Random,
    ctx: payloads.EventContext,
    calendar: Calendar,
    person: Person,
    login: datetime,
    steps: list[Step],
) -> list[dict[str, Any]]:
    actor = person.actor(rng.choice(person.ips))
    person.sessions.append(login)
    events = []
    for offset, type_code, _ in steps:
        moment = login + timedelta(seconds=offset)
        if not _free(calendar, person, moment):
            continue  # only optional steps can be outside: _fits checked the required ones
        if type_code == "fu":
            typed = _typo(rng, person.user.get("email") or person.user_id)
            events.append(event_of_no_user(rng, ctx, type_code, moment, actor, typed))
        else:
            events.append(user_event(rng, ctx, person.user, type_code, moment, actor))
    return events


def _free(calendar: Calendar, person: Person, moment: datetime) -> bool:
    first, last = person.window
    if not first <= moment <= last or calendar.is_quiet(moment):
        return False
    return not any(low <= moment <= high for low, high in person.blocked)


def _fits(calendar: Calendar, person: Person, login: datetime, steps: list[Step]) -> bool:
    if any(abs(login - other) < SESSION_GAP for other in person.sessions):
        return False
    moments = (login + timedelta(seconds=offset) for offset, _, required in steps if required)
    return all(_free(calendar, person, moment) for moment in moments)


def _random_fit(
    rng: random.Random,
    calendar: Calendar,
    person: Person,
    low: datetime,
    high: datetime,
    steps: list[Step],
) -> datetime:
    """A login time within [low, high] where the session's ``steps`` fit."""
    for _ in range(_ATTEMPTS):
        moment = low + timedelta(seconds=rng.uniform(0, (high - low).total_seconds()))
        if _fits(calendar, person, moment, steps):
            return moment
    raise RuntimeError(f"no free time for a session of {person.user_id} in {low}..{high}")


def _first_fit(calendar: Calendar, person: Person, start: datetime, steps: list[Step]) -> datetime:
    """The first login time from ``start``, in steps of ten minutes, where ``steps`` fit."""
    moment = start + timedelta(minutes=2)
    while moment <= person.window[1]:
        if _fits(calendar, person, moment, steps):
            return moment
        moment += timedelta(minutes=10)
    raise RuntimeError(f"no free time for the signup of {person.user_id}")


def _typo(rng: random.Random, email: str) -> str:
    """``email`` with two neighbouring characters of its local part swapped (or one doubled)."""
    local, at, domain = email.partition("@")
    if len(local) < 2:
        return local + local + at + domain
    i = rng.randrange(len(local) - 1)
    swapped = local[:i] + local[i + 1] + local[i] + local[i + 2 :]
    if swapped == local:
        swapped = local[: i + 1] + local[i:]
    return swapped + at + domain


def _sync_user(person: Person, events: list[dict[str, Any]]) -> None:
    """Make the user object agree with their events: last login, last IP, logins count."""
    logins = sorted(
        (e for e in events if e["type"] in ("s", "ss") and e.get("user_id")),
        key=lambda e: e["date"],
    )
    if not logins:
        return
    last = logins[-1]
    person.user["last_login"] = last["date"]
    person.user["last_ip"] = last["ip"]
    person.user["updated_at"] = last["date"]
    person.user["logins_count"] = sum(1 for e in logins if e["type"] == "s")
