"""The planted scenario: an ordinary tenant with known attacks and habits planted at known times.

``planted_tenant(seed, now)`` returns the Tenant and a PlantedTruth saying exactly what was
planted (planted_truth.py), for tests that check analytics find it. Over 28 days a few dozen
people log in from home (ordinary.py); into that go a credential-stuffing burst from one IP
ending in an IP block, a signup flood from three IPs, an MFA push-fatigue user, a user logging
in from two continents an hour apart, dormant users, breached-password events, a brute-force
block and its release, Auth0 risk assessments, refresh tokens used from many IPs, and markup
typed into logged fields. Each burst has a quiet hour of its own: no ordinary event falls in
it. Attackers use documentation (TEST-NET) addresses, the mobile user carrier (CGNAT) ones;
ordinary people never do. Deterministic for a given seed and ``now``.
"""

from __future__ import annotations

import math
import random
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields, is_dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from tests.emulator import payloads
from tests.emulator.actors import Actor, IpPool, event_of_no_user, location_in, user_event
from tests.emulator.ordinary import Calendar, Person, machine_events, make_person, ordinary_events
from tests.emulator.planted_truth import (
    Background,
    BreachedPasswords,
    BruteForceBlock,
    CredentialStuffing,
    DormantUser,
    HostileValues,
    ImpossibleTravel,
    Login,
    MfaFatigue,
    PlantedTruth,
    RefreshTokenSpread,
    RiskAssessed,
    SignupFlood,
)
from tests.emulator.tenant import APP_NAMES, Tenant, indexing_delay
from tests.emulator.timestamps import iso_ms, parse_time, utcnow

TENANT_NAME = "acme-prod"
HISTORY_DAYS = 28
ORDINARY_USERS = 36
DORMANT_USERS = 3
DORMANT_WINDOW_DAYS = (27, 22)  # dormant users' sessions fall this many days before now
MACHINE_EVENTS_PER_DAY = 4  # client-credentials exchanges of each machine application

# The planted hours, as whole hours before the hour ``now`` falls in.
BRUTE_FORCE_HOUR, RELEASE_HOUR = -98, -96
STUFFING_HOUR = -74
SIGNUP_FLOOD_HOUR = -40
TRAVEL_HOURS = (-30, -29)
MFA_HOUR = -26
PWD_LEAK_HOURS = (-120, -60)
RESET_LEAK_HOUR = -55
SIGNUP_LEAK_HOUR = -150
QUIET_HOURS = (
    BRUTE_FORCE_HOUR, RELEASE_HOUR, STUFFING_HOUR, SIGNUP_FLOOD_HOUR, *TRAVEL_HOURS, MFA_HOUR,
    *PWD_LEAK_HOURS, RESET_LEAK_HOUR, SIGNUP_LEAK_HOUR,
)  # fmt: skip
UNTRUSTED_LOGIN_HOUR = -10
BENIGN_RISK_HOURS = (-50, -20)
REFRESH_FIRST_HOUR = -48

STUFFING_IP, STUFFING_CITY = "203.0.113.66", "Lagos"
STUFFING_COUNTS = {"fu": 120, "fp": 12, "f": 3}
STUFFING_TARGETS = 5
STUFFING_AGENT = ("Chrome 119.0.0 / Linux 0.0.0", False)
SIGNUP_CITY = "Singapore"
SIGNUP_PLAN = {
    "192.0.2.10": {"fs": 25, "signup_pwd_leak": 3, "ss": 4},
    "192.0.2.11": {"fs": 20, "signup_pwd_leak": 2, "ss": 3},
    "192.0.2.12": {"fs": 15, "signup_pwd_leak": 1, "ss": 2},
}
BRUTE_FORCE_IP, BRUTE_FORCE_CITY, BRUTE_FORCE_FAILURES = "198.51.100.77", "São Paulo", 10
MFA_ATTACKER_IP, MFA_SENDS, MFA_REJECTS = "198.51.100.150", 14, 12
TRAVEL_CITIES, TRAVEL_IP = ("Berlin", "Tokyo"), "192.0.2.201"
DENY_LISTED_IP = "203.0.113.200"
REFRESH_IPS = tuple(f"100.64.{n + 1}.{17 + 3 * n}" for n in range(9))
TOKEN_CODES = ("seacft", "sertft")
HOSTILE_USER_NAME = "<script>alert(1)</script>"
HOSTILE_USER_AGENT = '<img src=x onerror=alert(2)> "Chrome" 120.0.0 / Windows 10.0.0'
HOSTILE_DESCRIPTION = "Wrong email or password.</td><td onmouseover=\"alert('3')\">"

# What ordinary activity never exceeds (ordinary.py's design), checked on every tenant made.
BACKGROUND_LIMITS = {
    "max_failed_logins_per_ip_hour": 1,
    "max_mfa_challenges_per_user_hour": 1,
    "max_signups_per_ip_hour": 1,
    "max_token_ips_per_user_client": 2,
    "countries_per_user": 1,
}
FAILED_LOGIN_CODES = frozenset({"f", "fp", "fu"})
MFA_CHALLENGE_CODES = frozenset({"gd_send_pn", "gd_send_sms"})
SIGNUP_CODES = frozenset({"ss", "fs", "signup_pwd_leak"})
LOGIN_CODES = frozenset({"s", "ssa", "ss"})
# Auth0's successful logins alone (no silent auth, no signup): a user's last login.
LOGIN_SUCCESS_CODES = frozenset({"s", "scoa", "sens"})
BREACHED_CODES = ("pwd_leak", "signup_pwd_leak", "reset_pwd_leak")
EARTH_RADIUS_KM = 6371.0
_PENDING = "pending-log-id:"  # stands for a log_id until the tenant has given them out


def planted_tenant(seed: int = 0, now: datetime | None = None) -> tuple[Tenant, PlantedTruth]:
    """The planted scenario's tenant as of ``now`` (default: the current second), and its truth.

    Serve it with ``now`` near the real time: the emulator's retention counts from the clock.
    """
    moment = parse_time(now) if now is not None else utcnow()
    return _Scenario(seed, moment.replace(microsecond=0)).build()


@dataclass
class _Book:
    """The events drafted so far, each with the time Auth0 indexed it."""

    rng: random.Random
    drafts: list[tuple[datetime, dict[str, Any]]] = field(default_factory=list)

    def add(self, event: dict[str, Any]) -> str:
        """Keep ``event``; returns a stand-in for its log_id, resolved once the tenant exists."""
        self.drafts.append((parse_time(event["date"]) + indexing_delay(self.rng), event))
        return f"{_PENDING}{len(self.drafts) - 1}"

    def add_all(self, events: Iterable[dict[str, Any]]) -> list[str]:
        return [self.add(event) for event in events]

    def events(self) -> list[dict[str, Any]]:
        return [event for _, event in self.drafts]


@dataclass
class _Roles:
    """The ordinary people who also have something planted."""

    travel: Person
    mfa: Person
    brute_forced: Person
    targets: list[Person]
    leakers: list[Person]
    reset: Person
    untrusted: Person
    benign: list[Person]
    refresh: Person


class _Scenario:
    """One build of the scenario: its random draws, its calendar and the events drafted."""

    def __init__(self, seed: int, now: datetime) -> None:
        self.seed = seed
        self.now = now
        self.rng = random.Random(f"planted:{seed}")
        self.top = now.replace(minute=0, second=0)
        self.calendar = Calendar(
            start=now - timedelta(days=HISTORY_DAYS),
            end=now - timedelta(minutes=10),
            quiet_hours={self.hour(h) for h in QUIET_HOURS},
        )
        self.clients = tuple(payloads.make_client(self.rng, name) for name in APP_NAMES)
        self.ctx = payloads.EventContext(TENANT_NAME, self.clients)
        self.pool = IpPool(self.rng)
        self.book = _Book(self.rng)
        self.new_users: list[dict[str, Any]] = []

    def hour(self, offset: int) -> datetime:
        return self.top + timedelta(hours=offset)

    def at(self, hour: int, seconds: float) -> datetime:
        """``seconds`` into the planted ``hour``, at a random millisecond as Auth0's dates are."""
        return self.later(self.hour(hour), seconds)

    def later(self, moment: datetime, seconds: float) -> datetime:
        return moment + timedelta(seconds=seconds, milliseconds=self.rng.randint(0, 999))

    def client(self, name: str) -> dict[str, str]:
        return next(c for c in self.clients if c["client_name"] == name)

    # ----------------------------------------------------------------- the whole scenario

    def build(self) -> tuple[Tenant, PlantedTruth]:
        people, dormant = self._people()
        roles = self._cast(people)
        for person in [*people, *dormant]:
            self.book.add_all(ordinary_events(self.rng, self.ctx, self.calendar, person))
        servers = {
            c["client_id"]: Actor(
                self.pool.take(), location_in("San Francisco"), payloads.SERVER_USER_AGENT, c
            )
            for c in self.ctx.machine_clients
        }
        self.book.add_all(
            machine_events(self.rng, self.ctx, self.calendar, servers, MACHINE_EVENTS_PER_DAY)
        )
        ordinary = len(self.book.drafts)
        background = self._background(self.book.events())
        planted = self._plant(roles)
        users = [p.user for p in (*people, *dormant)] + self.new_users
        tenant, log_ids = Tenant.assembled(
            now=self.now,
            users=users,
            events=self.book.drafts,
            seed=self.seed,
            tenant_name=TENANT_NAME,
            history_days=HISTORY_DAYS,
            clients=self.clients,
        )
        events = self.book.events()
        truth = PlantedTruth(
            seed=self.seed,
            now=self.now,
            tenant_name=TENANT_NAME,
            events=len(events),
            events_without_user=sum(1 for e in events if "user_id" not in e),
            users=len(users),
            dormant=tuple(_dormancy(p, events) for p in dormant),
            dormant_for_days=DORMANT_WINDOW_DAYS[1],
            background=replace(
                background, active_within_days=_active_within(events, dormant, self.now)
            ),
            **planted,
        )
        _check_new_countries(events, truth.impossible_travel)
        _check_ordinary_untouched(events[:ordinary], self.calendar)
        return tenant, _resolved(truth, log_ids)

    def _people(self) -> tuple[list[Person], list[Person]]:
        rng, calendar = self.rng, self.calendar
        window = (calendar.start, calendar.end)
        created = sorted(
            self.now - timedelta(seconds=rng.uniform(3600, 730 * 86400))
            for _ in range(ORDINARY_USERS)
        )
        people = [make_person(rng, self.ctx, self.pool, c, window) for c in created]
        dormant_window = (
            self.now - timedelta(days=DORMANT_WINDOW_DAYS[0]),
            self.now - timedelta(days=DORMANT_WINDOW_DAYS[1]),
        )
        dormant = [
            make_person(
                rng,
                self.ctx,
                self.pool,
                self.now - timedelta(days=rng.uniform(200, 700)),
                dormant_window,
            )
            for _ in range(DORMANT_USERS)
        ]
        return people, dormant

    def _cast(self, people: list[Person]) -> _Roles:
        """Pick the people planted events happen to, and fit their habits to it."""
        existing = [p for p in people if not p.signs_up]
        with_password = [p for p in existing if p.has_password]
        needed = 3 + STUFFING_TARGETS + 3
        if len(with_password) < needed:
            raise RuntimeError(f"seed {self.seed}: fewer than {needed} users with a password")
        picked = self.rng.sample(with_password, needed)
        mfa, brute_forced, reset = picked[:3]
        targets, leakers = picked[3 : 3 + STUFFING_TARGETS], picked[3 + STUFFING_TARGETS :][:2]
        others = self.rng.sample([p for p in existing if p not in picked], 5)
        travel, untrusted, refresh, *benign = others
        roles = _Roles(
            travel, mfa, brute_forced, targets, leakers, reset, untrusted, benign, refresh
        )
        travel.home = dict(location_in(TRAVEL_CITIES[0]))
        mfa.mfa = "gd_send_pn"
        refresh.client = self.client("Acme Web")
        refresh.agent = next(a for a in payloads.USER_AGENTS if not a[1])
        # No ordinary event of theirs near what is planted, so nothing blurs it.
        first, second = self.hour(TRAVEL_HOURS[0]), self.hour(TRAVEL_HOURS[1])
        travel.blocked.append((first - timedelta(hours=22), second + timedelta(hours=22)))
        around = timedelta(hours=3)
        untrusted_at = self.hour(UNTRUSTED_LOGIN_HOUR)
        untrusted.blocked.append((untrusted_at - around, untrusted_at + around))
        for person, offset in zip(benign, BENIGN_RISK_HOURS, strict=True):
            person.blocked.append((self.hour(offset) - around, self.hour(offset) + around))
        return roles

    def _plant(self, roles: _Roles) -> dict[str, Any]:
        stuffing, hostile = self._stuffing(roles.targets)
        flood = self._signup_flood()
        mfa, mfa_risk = self._mfa_fatigue(roles.mfa)
        travel, travel_risk = self._travel(roles.travel)
        breached = self._breached(roles, flood)
        risk = [travel_risk, mfa_risk, *self._risk_logins(roles)]
        return {
            "stuffing": stuffing,
            "signup_flood": flood,
            "mfa_fatigue": mfa,
            "impossible_travel": travel,
            "breached": breached,
            "brute_force": self._brute_force(roles.brute_forced),
            "risk_assessed": tuple(sorted(risk, key=lambda r: r.date)),
            "refresh_tokens": self._refresh_tokens(roles.refresh),
            "hostile": hostile,
        }

    # ----------------------------------------------------------------- the plants

    def _stuffing(self, targets: list[Person]) -> tuple[CredentialStuffing, HostileValues]:
        rng, ctx = self.rng, self.ctx
        actor = Actor(
            STUFFING_IP, location_in(STUFFING_CITY), STUFFING_AGENT, self.client("Acme Web")
        )
        attempts = [code for code, n in STUFFING_COUNTS.items() for _ in range(n)]
        rng.shuffle(attempts)
        start = self.hour(STUFFING_HOUR) + timedelta(minutes=7)
        taken = {p.user.get("email") for p in targets}
        log_ids: list[str] = []
        targeted: list[str] = []
        hostile: dict[str, Any] = {}
        for n, code in enumerate(attempts):
            moment = self.later(start, 11 * n)
            if code == "fu":
                event = self._hostile_or_plain(len(hostile), moment, actor, taken, hostile)
            else:
                person = targets[n % len(targets)]
                targeted.append(person.user_id)
                event = user_event(rng, ctx, person.user, code, moment, actor)
            log_id = self.book.add(event)
            log_ids.append(log_id)
            for name, value in hostile.items():
                if value is None:
                    hostile[name] = log_id
        block = event_of_no_user(
            rng, ctx, "limit_mu", self.later(start, 11 * len(attempts) + 5), actor, ""
        )
        del block["user_name"]  # an IP block names no account
        block["details"] = {"ip": STUFFING_IP}
        block_log_id = self.book.add(block)
        counts = {**STUFFING_COUNTS, "limit_mu": 1}
        stuffing = CredentialStuffing(
            ip=STUFFING_IP,
            country_code=actor.location["country_code"],
            hour=self.hour(STUFFING_HOUR),
            counts=counts,
            failed_logins=sum(STUFFING_COUNTS.values()),
            events_without_user=counts["fu"] + counts["limit_mu"],
            targeted_user_ids=tuple(sorted(set(targeted))),
            block_log_id=block_log_id,
            log_ids=(*log_ids, block_log_id),
        )
        values = HostileValues(HOSTILE_USER_NAME, HOSTILE_USER_AGENT, HOSTILE_DESCRIPTION, hostile)
        return stuffing, values

    def _hostile_or_plain(
        self,
        planted: int,
        moment: datetime,
        actor: Actor,
        taken: set[Any],
        hostile: dict[str, Any],
    ) -> dict[str, Any]:
        """A failed login of a made-up username; the first three carry markup, one field each."""
        rng, ctx = self.rng, self.ctx
        user_name = self._made_up_email(taken)
        if planted == 0:
            hostile["user_name"] = None  # filled with the log_id once the event is kept
            return event_of_no_user(rng, ctx, "fu", moment, actor, HOSTILE_USER_NAME)
        if planted == 1:
            hostile["user_agent"] = None
            marked = replace(actor, agent=(HOSTILE_USER_AGENT, False))
            return event_of_no_user(rng, ctx, "fu", moment, marked, user_name)
        event = event_of_no_user(rng, ctx, "fu", moment, actor, user_name)
        if planted == 2:
            hostile["description"] = None
            event["description"] = HOSTILE_DESCRIPTION
        return event

    def _made_up_email(self, taken: set[Any]) -> str:
        while True:
            first = self.rng.choice(("j", "m", "a", "k", "s", "t")) + self.rng.choice(
                ("smith", "lee", "brown", "khan", "novak", "rossi")
            )
            domain = self.rng.choice(("mail.example", "webmail.example", "inbox.example"))
            email = f"{first}{self.rng.randint(1, 9999)}@{domain}"
            if email not in taken:
                taken.add(email)
                return email

    def _signup_flood(self) -> SignupFlood:
        rng, ctx = self.rng, self.ctx
        actors = {
            ip: Actor(
                ip,
                location_in(SIGNUP_CITY),
                rng.choice([a for a in payloads.USER_AGENTS if not a[1]]),
                self.client("Acme Web"),
            )
            for ip in SIGNUP_PLAN
        }
        attempts = [
            (ip, code)
            for ip, plan in SIGNUP_PLAN.items()
            for code, n in plan.items()
            for _ in range(n)
        ]
        rng.shuffle(attempts)
        start = self.hour(SIGNUP_FLOOD_HOUR) + timedelta(minutes=5)
        taken: set[Any] = set()
        log_ids, new_user_ids = [], []
        for n, (ip, code) in enumerate(attempts):
            moment = self.later(start, 34 * n)
            if code == "ss":
                user = payloads.make_user(rng, "auth0", moment - timedelta(seconds=1), self.now)
                user |= {"last_login": user["created_at"], "last_ip": ip, "logins_count": 0}
                user["updated_at"] = user["created_at"]
                self.new_users.append(user)
                new_user_ids.append(user["user_id"])
                event = user_event(rng, ctx, user, code, moment, actors[ip])
            else:
                email = self._made_up_email(taken)
                event = event_of_no_user(rng, ctx, code, moment, actors[ip], email)
            log_ids.append(self.book.add(event))
        totals: Counter[str] = Counter()
        for plan in SIGNUP_PLAN.values():
            totals.update(plan)
        return SignupFlood(
            hour=self.hour(SIGNUP_FLOOD_HOUR),
            ips=tuple(SIGNUP_PLAN),
            counts=dict(totals),
            counts_by_ip={ip: dict(plan) for ip, plan in SIGNUP_PLAN.items()},
            new_user_ids=tuple(new_user_ids),
            log_ids=tuple(log_ids),
        )

    def _mfa_fatigue(self, person: Person) -> tuple[MfaFatigue, RiskAssessed]:
        rng, ctx, user = self.rng, self.ctx, person.user
        agent = next(a for a in payloads.USER_AGENTS if not a[1] and a != person.agent)
        attacker = replace(person.actor(MFA_ATTACKER_IP), agent=agent)
        start = self.hour(MFA_HOUR) + timedelta(minutes=4)
        log_ids = []
        for n in range(MFA_SENDS):
            sent = self.later(start, 180 * n)
            log_ids.append(self.book.add(user_event(rng, ctx, user, "gd_send_pn", sent, attacker)))
            if n < MFA_REJECTS:
                answer = user_event(
                    rng, ctx, user, "gd_auth_rejected", self.later(sent, 25), attacker
                )
                log_ids.append(self.book.add(answer))
        accepted = sent  # the last push is the one accepted
        success = user_event(rng, ctx, user, "gd_auth_succeed", self.later(accepted, 20), attacker)
        log_ids.append(self.book.add(success))
        login = user_event(rng, ctx, user, "s", self.later(accepted, 30), attacker)
        codes = {
            "NewDevice": ("low", "no_match"),
            "ImpossibleTravel": ("high", "minimal_travel_from_last_login"),
            "UntrustedIP": ("high", "not_found_on_deny_list"),
        }
        risk = self._assess(login, "low", codes)
        login_log_id = self.book.add(login)
        log_ids.append(login_log_id)
        fatigue = MfaFatigue(
            user_id=person.user_id,
            ip=MFA_ATTACKER_IP,
            hour=self.hour(MFA_HOUR),
            sends=MFA_SENDS,
            rejects=MFA_REJECTS,
            successes=1,
            login_log_id=login_log_id,
            log_ids=tuple(log_ids),
        )
        return fatigue, replace(risk, log_id=login_log_id)

    def _travel(self, person: Person) -> tuple[ImpossibleTravel, RiskAssessed]:
        rng, ctx = self.rng, self.ctx
        home = person.actor()
        away = replace(home, ip=TRAVEL_IP, location=location_in(TRAVEL_CITIES[1]))
        first_at = self.at(TRAVEL_HOURS[0], 600)
        second_at = first_at + timedelta(hours=1)
        first = user_event(rng, ctx, person.user, "s", first_at, home)
        second = user_event(rng, ctx, person.user, "s", second_at, away)
        codes = {
            "NewDevice": ("low", "no_match"),
            "ImpossibleTravel": ("low", "impossible_travel_from_last_login"),
            "UntrustedIP": ("high", "not_found_on_deny_list"),
        }
        risk = self._assess(second, "low", codes)
        logins = [_login(self.book.add(e), e) for e in (first, second)]
        distance = great_circle_km(logins[0], logins[1])
        travel = ImpossibleTravel(
            user_id=person.user_id,
            first=logins[0],
            second=logins[1],
            distance_km=round(distance, 3),
            hours=1.0,
            speed_kmh=round(distance, 3),  # over exactly one hour
        )
        return travel, replace(risk, log_id=logins[1].log_id)

    def _risk_logins(self, roles: _Roles) -> list[RiskAssessed]:
        """A login from a deny-listed IP, and two whose assessments found nothing."""
        rng, ctx, person = self.rng, self.ctx, roles.untrusted
        at = self.at(UNTRUSTED_LOGIN_HOUR, 25 * 60)
        login = user_event(rng, ctx, person.user, "s", at, person.actor(DENY_LISTED_IP))
        codes = {
            "NewDevice": ("high", "match"),
            "ImpossibleTravel": ("high", "minimal_travel_from_last_login"),
            "UntrustedIP": ("low", "found_on_deny_list"),
        }
        flagged = self._assess(login, "low", codes)
        login["details"]["riskAssessment"]["assessments"]["UntrustedIP"]["details"] = {
            "ip": DENY_LISTED_IP,
            "matches": f"{DENY_LISTED_IP}/32",
            "source": "FIREHOL-1",
            "category": "abuse",
        }
        assessed = [replace(flagged, log_id=self.book.add(login))]
        quiet = {
            "NewDevice": ("high", "match"),
            "ImpossibleTravel": ("high", "minimal_travel_from_last_login"),
            "UntrustedIP": ("high", "not_found_on_deny_list"),
        }
        for person, offset in zip(roles.benign, BENIGN_RISK_HOURS, strict=True):
            at = self.at(offset, rng.randint(5, 50) * 60)
            login = user_event(rng, ctx, person.user, "s", at, person.actor())
            risk = self._assess(login, "high", quiet)
            assessed.append(replace(risk, log_id=self.book.add(login)))
        return assessed

    @staticmethod
    def _assess(
        login: dict[str, Any], confidence: str, codes: Mapping[str, tuple[str, str]]
    ) -> RiskAssessed:
        """Put Auth0's risk assessment into a login's details (log_id filled in by the caller)."""
        assessments: dict[str, dict[str, Any]] = {
            name: {"confidence": level, "code": code} for name, (level, code) in codes.items()
        }
        if "NewDevice" in assessments:
            known = "known" if assessments["NewDevice"]["code"] == "match" else "unknown"
            assessments["NewDevice"]["details"] = {"device": known, "useragent": known}
        login["details"]["riskAssessment"] = {
            "confidence": confidence,
            "version": "1",
            "assessments": assessments,
        }
        return RiskAssessed(
            log_id="",
            user_id=login["user_id"],
            type=login["type"],
            date=parse_time(login["date"]),
            confidence=confidence,
            codes={name: code for name, (_, code) in codes.items()},
            low_confidence=tuple(name for name, (level, _) in codes.items() if level == "low"),
        )

    def _breached(self, roles: _Roles, flood: SignupFlood) -> BreachedPasswords:
        rng, ctx = self.rng, self.ctx
        found: dict[str, list[str]] = defaultdict(list)
        dates: list[tuple[str, datetime]] = []

        def keep(event: dict[str, Any]) -> None:
            found[event["type"]].append(self.book.add(event))
            dates.append((event["type"], parse_time(event["date"])))

        for person, offset in zip(roles.leakers, PWD_LEAK_HOURS, strict=True):
            for minutes in (15, 35):
                at = self.at(offset, minutes * 60)
                keep(user_event(rng, ctx, person.user, "pwd_leak", at, person.actor()))
        for minutes in (5, 8):
            at = self.at(RESET_LEAK_HOUR, minutes * 60)
            keep(user_event(rng, ctx, roles.reset.user, "reset_pwd_leak", at, roles.reset.actor()))
        taken: set[Any] = set()
        for minutes in (30, 31):  # two strangers, so no IP signs up more than ordinary ones do
            stranger = Actor(
                self.pool.take(),
                location_in("London"),
                payloads.USER_AGENTS[1],
                self.client("Acme Web"),
            )
            at = self.at(SIGNUP_LEAK_HOUR, minutes * 60)
            email = self._made_up_email(taken)
            keep(event_of_no_user(rng, ctx, "signup_pwd_leak", at, stranger, email))
        for pending in flood.log_ids:  # the flood's own breached signups
            event = self._event(pending)
            if event["type"] == "signup_pwd_leak":
                found["signup_pwd_leak"].append(pending)
                dates.append(("signup_pwd_leak", parse_time(event["date"])))
        by_day: dict[Any, Counter[str]] = defaultdict(Counter)
        for code, moment in dates:
            by_day[moment.date()][code] += 1
        users = [p.user_id for p in (*roles.leakers, roles.reset)]
        return BreachedPasswords(
            counts={code: len(found[code]) for code in BREACHED_CODES},
            by_day={day: dict(counts) for day, counts in sorted(by_day.items())},
            user_ids=tuple(sorted(users)),
            log_ids={code: tuple(found[code]) for code in BREACHED_CODES},
        )

    def _brute_force(self, person: Person) -> BruteForceBlock:
        rng, ctx, user = self.rng, self.ctx, person.user
        attacker = Actor(
            BRUTE_FORCE_IP, location_in(BRUTE_FORCE_CITY), STUFFING_AGENT, self.client("Acme Web")
        )
        start = self.hour(BRUTE_FORCE_HOUR) + timedelta(minutes=12)
        log_ids = [
            self.book.add(user_event(rng, ctx, user, "fp", self.later(start, 55 * n), attacker))
            for n in range(BRUTE_FORCE_FAILURES)
        ]
        blocked_at = self.later(start, 55 * BRUTE_FORCE_FAILURES + 20)
        block = user_event(rng, ctx, user, "limit_wc", blocked_at, attacker)
        block["details"] = {"ip": BRUTE_FORCE_IP}
        block_log_id = self.book.add(block)
        released_at = self.at(RELEASE_HOUR, 20 * 60)
        release = user_event(rng, ctx, user, "ublkdu", released_at, person.actor())
        release["details"] = {"ip": BRUTE_FORCE_IP}
        release_log_id = self.book.add(release)
        return BruteForceBlock(
            user_id=person.user_id,
            ip=BRUTE_FORCE_IP,
            hour=self.hour(BRUTE_FORCE_HOUR),
            failures=BRUTE_FORCE_FAILURES,
            block_log_id=block_log_id,
            blocked_at=parse_time(block["date"]),
            release_log_id=release_log_id,
            released_at=parse_time(release["date"]),
            log_ids=(*log_ids, block_log_id, release_log_id),
        )

    def _refresh_tokens(self, person: Person) -> RefreshTokenSpread:
        rng, ctx, user = self.rng, self.ctx, person.user
        ios = self.client("Acme iOS")
        phone = next(a for a in payloads.USER_AGENTS if "iOS" in a[0])
        at = self.at(REFRESH_FIRST_HOUR, 5 * 60)
        home = person.actor(client=ios)
        home = replace(home, agent=phone)
        log_ids = [self.book.add(user_event(rng, ctx, user, "seacft", at, home))]
        for n, ip in enumerate(REFRESH_IPS):
            moment = self.later(at, (1 + 5 * n) * 3600 + 15 * 60)
            if self.calendar.is_quiet(moment):
                raise RuntimeError(f"a planted refresh token falls in a quiet hour: {moment}")
            event = user_event(rng, ctx, user, "sertft", moment, replace(home, ip=ip))
            log_ids.append(self.book.add(event))
        exchanges = [
            e
            for e in self.book.events()
            if e.get("user_id") == person.user_id
            and e["client_id"] == ios["client_id"]
            and e["type"] in TOKEN_CODES
        ]
        return RefreshTokenSpread(
            user_id=person.user_id,
            client_id=ios["client_id"],
            client_name=ios["client_name"],
            type_codes=TOKEN_CODES,
            ips=tuple(sorted({e["ip"] for e in exchanges})),
            events=len(exchanges),
            log_ids=tuple(log_ids),
        )

    def _event(self, pending: str) -> dict[str, Any]:
        return self.book.drafts[int(pending.removeprefix(_PENDING))][1]

    # ----------------------------------------------------------------- checks

    def _background(self, events: list[dict[str, Any]]) -> Background:
        """What the ordinary events reach, checked against what ordinary.py promises."""
        failed: Counter[tuple[str, datetime]] = Counter()
        challenges: Counter[tuple[str, datetime]] = Counter()
        signups: Counter[tuple[str, datetime]] = Counter()
        token_ips: dict[tuple[str, str], set[str]] = defaultdict(set)
        countries: dict[str, set[str]] = defaultdict(set)
        for event in events:
            code, hour = event["type"], _hour_of(event)
            if code in FAILED_LOGIN_CODES:
                failed[(event["ip"], hour)] += 1
            if code in MFA_CHALLENGE_CODES:
                challenges[(event["user_id"], hour)] += 1
            if code in SIGNUP_CODES:
                signups[(event["ip"], hour)] += 1
            if code in TOKEN_CODES:
                token_ips[(event["user_id"], event["client_id"])].add(event["ip"])
            if code in LOGIN_CODES:
                countries[event["user_id"]].add(event["location_info"]["country_code"])
        reached = {
            "max_failed_logins_per_ip_hour": max(failed.values(), default=0),
            "max_mfa_challenges_per_user_hour": max(challenges.values(), default=0),
            "max_signups_per_ip_hour": max(signups.values(), default=0),
            "max_token_ips_per_user_client": max(map(len, token_ips.values()), default=0),
            "countries_per_user": max(map(len, countries.values()), default=0),
        }
        over = {k: v for k, v in reached.items() if v > BACKGROUND_LIMITS[k]}
        if over:
            raise RuntimeError(f"seed {self.seed}: ordinary activity exceeds its limits: {over}")
        return Background(
            **reached,
            quiet_hours=tuple(sorted(self.calendar.quiet_hours)),
            active_within_days=0.0,
        )


def great_circle_km(a: Login, b: Login) -> float:
    """The haversine distance between two logins' coordinates."""
    lat1, lon1, lat2, lon2 = map(math.radians, (a.latitude, a.longitude, b.latitude, b.longitude))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(h))


def _login(log_id: str, event: dict[str, Any]) -> Login:
    place = event["location_info"]
    return Login(
        log_id=log_id,
        date=parse_time(event["date"]),
        ip=event["ip"],
        city=place["city_name"],
        country_code=place["country_code"],
        continent_code=place["continent_code"],
        latitude=place["latitude"],
        longitude=place["longitude"],
    )


def _hour_of(event: dict[str, Any]) -> datetime:
    return parse_time(event["date"]).replace(minute=0, second=0, microsecond=0)


def _dormancy(person: Person, events: Sequence[dict[str, Any]]) -> DormantUser:
    own = [e for e in events if e.get("user_id") == person.user_id]
    logins = [e for e in own if e["type"] in LOGIN_SUCCESS_CODES]
    return DormantUser(
        user_id=person.user_id,
        last_event=max(parse_time(e["date"]) for e in own),
        last_login=max((parse_time(e["date"]) for e in logins), default=None),
    )


def _active_within(
    events: Sequence[dict[str, Any]], dormant: Sequence[Person], now: datetime
) -> float:
    """Days since the last event of the least recently active user, dormant ones aside."""
    asleep = {p.user_id for p in dormant}
    last: dict[str, datetime] = {}
    for event in events:
        user_id = event.get("user_id")
        if user_id and user_id not in asleep:
            moment = parse_time(event["date"])
            last[user_id] = max(last.get(user_id, moment), moment)
    days = max((now - m).total_seconds() for m in last.values()) / 86400
    return math.ceil(days * 1000) / 1000  # rounded up: a bound, not an estimate


def _check_new_countries(events: Sequence[dict[str, Any]], travel: ImpossibleTravel) -> None:
    """The far login must be the only successful login from a country new to its user."""
    seen: dict[str, set[str]] = defaultdict(set)
    new = []
    for event in sorted(events, key=lambda e: e["date"]):
        if event["type"] not in LOGIN_CODES or "user_id" not in event:
            continue
        country = event["location_info"]["country_code"]
        known = seen[event["user_id"]]
        if known and country not in known:
            new.append((event["user_id"], event["date"]))
        known.add(country)
    expected = [(travel.user_id, iso_ms(travel.second.date))]
    if new != expected:
        raise RuntimeError(f"logins from a new country: {new}, expected {expected}")


def _check_ordinary_untouched(events: Sequence[dict[str, Any]], calendar: Calendar) -> None:
    quiet = [e["date"] for e in events if calendar.is_quiet(parse_time(e["date"]))]
    if quiet:
        raise RuntimeError(f"ordinary events in quiet hours: {quiet[:3]}")


def _resolved(value: Any, log_ids: list[str]) -> Any:
    """``value`` with every log_id stand-in replaced by the log_id the tenant gave."""
    if isinstance(value, str) and value.startswith(_PENDING):
        return log_ids[int(value.removeprefix(_PENDING))]
    if is_dataclass(value) and not isinstance(value, type):
        changes = {f.name: _resolved(getattr(value, f.name), log_ids) for f in fields(value)}
        return replace(value, **changes)
    if isinstance(value, Mapping):
        return {key: _resolved(item, log_ids) for key, item in value.items()}
    if isinstance(value, tuple):
        return tuple(_resolved(item, log_ids) for item in value)
    return value
