"""What the planted scenario put in its tenant, in an analyst's terms: plain, exact data.

Every count here is what the tenant serves; none needs to be derived from the events again.
Hours are UTC and whole (minute 0); type codes are Auth0's. ``as_dict()`` gives JSON values.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from tests.emulator.timestamps import iso_ms


@dataclass(frozen=True)
class CredentialStuffing:
    """One IP trying many usernames within one hour, ended by an IP block."""

    ip: str
    country_code: str
    hour: datetime
    counts: Mapping[str, int]  # type code -> events: fu, fp, f and the one limit_mu
    failed_logins: int  # fu + fp + f
    events_without_user: int  # fu and limit_mu carry no user_id
    targeted_user_ids: tuple[str, ...]  # real users tried (their fp and f events)
    block_log_id: str  # the limit_mu that ends the burst
    log_ids: tuple[str, ...]  # every event of the burst


@dataclass(frozen=True)
class SignupFlood:
    """Signups from a few IPs within one hour, most refused."""

    hour: datetime
    ips: tuple[str, ...]
    counts: Mapping[str, int]  # fs, signup_pwd_leak (both without user_id) and ss
    counts_by_ip: Mapping[str, Mapping[str, int]]  # ip -> type code -> events
    new_user_ids: tuple[str, ...]  # the accounts the ss events created
    log_ids: tuple[str, ...]


@dataclass(frozen=True)
class MfaFatigue:
    """One user bombarded with push notifications in one hour until one is accepted."""

    user_id: str
    ip: str
    hour: datetime
    sends: int  # gd_send_pn in that hour: more than any other user gets in any hour
    rejects: int  # gd_auth_rejected
    successes: int  # gd_auth_succeed
    login_log_id: str  # the s that follows the accepted push
    log_ids: tuple[str, ...]


@dataclass(frozen=True)
class Login:
    """One successful login and where it came from."""

    log_id: str
    date: datetime
    ip: str
    city: str
    country_code: str
    continent_code: str
    latitude: float
    longitude: float


@dataclass(frozen=True)
class ImpossibleTravel:
    """Two consecutive successful logins of one user from two continents, an hour apart."""

    user_id: str
    first: Login
    second: Login  # also the only login from a new country of any user
    distance_km: float  # great-circle (haversine, Earth radius 6,371 km)
    hours: float
    speed_kmh: float


@dataclass(frozen=True)
class DormantUser:
    user_id: str
    last_event: datetime
    last_login: datetime | None  # the newest s, scoa or sens; None: only silent auth and others


@dataclass(frozen=True)
class BreachedPasswords:
    """Every breached-password event of the tenant (no other event has these codes)."""

    counts: Mapping[str, int]  # pwd_leak, signup_pwd_leak, reset_pwd_leak
    by_day: Mapping[date, Mapping[str, int]]  # UTC day -> code -> events
    user_ids: tuple[str, ...]  # users of pwd_leak and reset_pwd_leak (signup_pwd_leak has none)
    log_ids: Mapping[str, tuple[str, ...]]  # code -> log_ids


@dataclass(frozen=True)
class BruteForceBlock:
    """Failed logins into one account from one IP, its limit_wc block, and the release."""

    user_id: str
    ip: str
    hour: datetime  # the failures and the block
    failures: int  # fp events before the block
    block_log_id: str
    blocked_at: datetime
    release_log_id: str  # ublkdu
    released_at: datetime
    log_ids: tuple[str, ...]  # failures, block and release


@dataclass(frozen=True)
class RiskAssessed:
    """An event carrying Auth0's own details.riskAssessment."""

    log_id: str
    user_id: str
    type: str
    date: datetime
    confidence: str  # overall: low, medium or high
    codes: Mapping[str, str]  # assessment (NewDevice, ImpossibleTravel, UntrustedIP) -> code
    low_confidence: tuple[str, ...]  # the assessments whose confidence is low: the flags


@dataclass(frozen=True)
class RefreshTokenSpread:
    """One user's tokens for one application, exchanged from more IPs than anyone else's."""

    user_id: str
    client_id: str
    client_name: str
    type_codes: tuple[str, ...]  # the exchanges counted: seacft and sertft
    ips: tuple[str, ...]  # distinct IPs of those exchanges, sorted
    events: int  # those exchanges of that user and application
    log_ids: tuple[str, ...]


@dataclass(frozen=True)
class HostileValues:
    """Markup an attacker typed into fields Auth0 logs as given; served verbatim."""

    user_name: str
    user_agent: str
    description: str
    log_ids: Mapping[str, str]  # field -> the event carrying it (all in the stuffing burst)


@dataclass(frozen=True)
class Background:
    """What the ordinary activity never exceeds, so that no planted signal arises by chance."""

    max_failed_logins_per_ip_hour: int  # f, fp and fu from one IP in one UTC hour
    max_mfa_challenges_per_user_hour: int  # gd_send_pn and gd_send_sms to one user in an hour
    max_signups_per_ip_hour: int  # ss, fs and signup_pwd_leak from one IP in an hour
    max_token_ips_per_user_client: int  # distinct IPs of seacft/sertft per user and app
    countries_per_user: int  # every user's successful logins come from one country
    quiet_hours: tuple[datetime, ...]  # hours holding planted events only
    active_within_days: float  # every user with events, dormant ones aside, had one this recently


@dataclass(frozen=True)
class PlantedTruth:
    seed: int
    now: datetime
    tenant_name: str
    events: int  # every event of the tenant
    events_without_user: int
    users: int  # user objects served by /api/v2/users
    stuffing: CredentialStuffing
    signup_flood: SignupFlood
    mfa_fatigue: MfaFatigue
    impossible_travel: ImpossibleTravel
    dormant: tuple[DormantUser, ...]
    dormant_for_days: float  # dormant users have had no event for at least this long
    breached: BreachedPasswords
    brute_force: BruteForceBlock
    risk_assessed: tuple[RiskAssessed, ...]  # in date order; no other event has one
    refresh_tokens: RefreshTokenSpread
    hostile: HostileValues
    background: Background

    def as_dict(self) -> dict[str, Any]:
        """The truth as JSON values: times as Auth0 writes them, days as YYYY-MM-DD."""
        data: dict[str, Any] = _jsonable(dataclasses.asdict(self))
        return data


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return iso_ms(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {_jsonable(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value
