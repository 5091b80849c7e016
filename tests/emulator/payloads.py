"""Realistic Auth0 user objects and log event payloads, drawn from a seeded random generator.

Shapes follow /work/shared/auth0-api.md section 4: fields vary by event type and even within one
type (``scope`` as a string or a list, ``details.prompts[].identity`` as a number or a string),
and some events carry fields no schema knows, because real tenants do.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import itertools
import random
import string
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from tests.emulator.timestamps import iso_ms

_ALNUM = string.ascii_letters + string.digits


@dataclass(frozen=True)
class Connection:
    """One identity provider connection of the tenant."""

    name: str
    provider: str  # the user_id prefix, e.g. "google-oauth2"
    strategy: str
    strategy_type: str  # database, social, enterprise or passwordless
    is_social: bool

    @functools.cached_property
    def id(self) -> str:
        # Derived from the name so a connection keeps its id across tenants and seeds.
        digest = hashlib.sha256(self.name.encode()).digest()
        return "con_" + "".join(_ALNUM[b % len(_ALNUM)] for b in digest[:16])


CONNECTIONS: dict[str, Connection] = {
    c.provider: c
    for c in (
        Connection("Username-Password-Authentication", "auth0", "auth0", "database", False),
        Connection("google-oauth2", "google-oauth2", "google-oauth2", "social", True),
        Connection("acme-saml", "samlp", "samlp", "enterprise", False),
        Connection("contoso-azure", "waad", "waad", "enterprise", False),
        Connection("email", "email", "email", "passwordless", False),
        Connection("sms", "sms", "sms", "passwordless", False),
    )
}
PROVIDERS = tuple(CONNECTIONS)
_PROVIDER_CUM_WEIGHTS = tuple(itertools.accumulate((40, 20, 10, 10, 10, 10)))

_FIRST_NAMES = (
    "Ada", "Bruno", "Chioma", "Dmitri", "Elena", "Farah", "Goran", "Hana", "Ines", "Jonas",
    "Kwame", "Lucia", "Mateo", "Nadia", "Oskar", "Priya", "Quentin", "Rosa", "Sven", "Tomoko",
)  # fmt: skip
_LAST_NAMES = (
    "Abara", "Berg", "Castillo", "Dubois", "Eriksen", "Fontaine", "Garcia", "Haddad", "Ivanova",
    "Jensen", "Kowalski", "Lindqvist", "Moreau", "Nakamura", "Okafor", "Petrov", "Silva", "Tanaka",
)  # fmt: skip

# country_code|country_code3|country_name|city|latitude|longitude|time_zone|continent|subdivision
_LOCATION_ROWS = """
US|USA|United States|San Francisco|37.7749|-122.4194|America/Los_Angeles|NA|CA|California
US|USA|United States|Austin|30.2672|-97.7431|America/Chicago|NA|TX|Texas
GB|GBR|United Kingdom|London|51.5072|-0.1276|Europe/London|EU|ENG|England
DE|DEU|Germany|Berlin|52.52|13.405|Europe/Berlin|EU|BE|Land Berlin
BR|BRA|Brazil|São Paulo|-23.5505|-46.6333|America/Sao_Paulo|SA|SP|São Paulo
JP|JPN|Japan|Tokyo|35.6762|139.6503|Asia/Tokyo|AS|13|Tokyo
IN|IND|India|Bengaluru|12.9716|77.5946|Asia/Kolkata|AS|KA|Karnataka
AU|AUS|Australia|Sydney|-33.8688|151.2093|Australia/Sydney|OC|NSW|New South Wales
SG|SGP|Singapore|Singapore|1.3521|103.8198|Asia/Singapore|AS||
NG|NGA|Nigeria|Lagos|6.5244|3.3792|Africa/Lagos|AF|LA|Lagos
"""


def _location_rows() -> tuple[dict[str, Any], ...]:
    rows = []
    for line in _LOCATION_ROWS.strip().splitlines():
        code, code3, country, city, lat, lon, tz, continent, sub_code, sub_name = line.split("|")
        row: dict[str, Any] = {
            "country_code": code,
            "country_code3": code3,
            "country_name": country,
            "city_name": city,
            "latitude": float(lat),
            "longitude": float(lon),
            "time_zone": tz,
            "continent_code": continent,
        }
        if sub_code:
            row |= {"subdivision_code": sub_code, "subdivision_name": sub_name}
        rows.append(row)
    return tuple(rows)


LOCATIONS = _location_rows()

USER_AGENTS = (
    ("Chrome 120.0.0 / Mac OS X 10.15.7", False),
    ("Firefox 121.0.0 / Windows 10.0.0", False),
    ("Edge 120.0.0 / Windows 10.0.0", False),
    ("Safari 17.1.0 / Mac OS X 10.15.7", False),
    ("Mobile Safari 17.2.0 / iOS 17.2.1", True),
    ("Chrome Mobile 120.0.0 / Android 14.0.0", True),
)
SERVER_USER_AGENT = ("node.js 20.11.0 / Linux 5.15.0", False)

_ORGANIZATIONS = (("org_W7nXq2Lk9PbR4sTd", "acme-partners"), ("org_c3Hv8ZyQm1JfA6eU", "globex"))

# code -> (description when not null, weight in generated tenants)
EVENT_TYPES: dict[str, tuple[str, int]] = {
    "s": ("Successful login", 30),
    "ssa": ("Successful silent authentication", 8),
    "f": ("Failed login", 3),
    "fp": ("Wrong email or password.", 5),
    "fu": ("Wrong email or password.", 2),
    "fsa": ("Login required", 2),
    "ss": ("Successful signup", 1),
    "scp": ("Password changed successfully", 2),
    "slo": ("User successfully logged out", 6),
    "seccft": ("Client Credentials for Access Token", 4),
    "sepft": ("Password for Access Token", 3),
    "sapi": ("Update a User", 3),
    "mgmt_api_read": ("API GET operation returning secrets completed successfully", 3),
    "gd_start_auth": ("Second factor started", 2),
    "gd_send_sms": ("SMS sent to +1*******", 2),
    "gd_auth_succeed": ("Authenticated with MFA", 4),
    "gd_enrollment_complete": ("Guardian enrollment complete", 1),
    "api_limit": ("Global limit has been reached", 1),
    "sv": ("Email verified", 1),
    "zz_new_type": ("A type code no published list knows", 1),
}
# Codes generated tenants never draw, described as scenarios (planted.py) emit them.
DESCRIPTIONS: dict[str, str] = {
    "fs": "Password is too weak",
    "seacft": "Authorization Code for Access Token",
    "sertft": "Refresh Token for Access Token",
    "gd_send_pn": "Push notification sent",
    "gd_auth_rejected": "User rejected the push notification",
    "limit_mu": "Blocked IP address.",
    "limit_wc": "Blocked account: too many failed login attempts from this IP address",
    "ublkdu": "User block released",
    "pwd_leak": "Login attempt with a password found in a data breach",
    "signup_pwd_leak": "Signup attempt with a password found in a data breach",
    "reset_pwd_leak": "Password reset with a password found in a data breach",
}
_PUSH_TYPES = frozenset({"gd_send_pn", "gd_auth_rejected"})
_SERVER_TYPES = frozenset({"seccft", "sapi", "mgmt_api_read", "api_limit"})
_TYPE_CODES = tuple(EVENT_TYPES)
_TYPE_CUM_WEIGHTS = tuple(itertools.accumulate(EVENT_TYPES[c][1] for c in _TYPE_CODES))


# One draw per string, not per character: busy tenants generate tens of thousands of events.
def _hex(rng: random.Random, n: int) -> str:
    return f"{rng.getrandbits(4 * n):0{n}x}"


def _alnum(rng: random.Random, n: int) -> str:
    return "".join(rng.choices(_ALNUM, k=n))


def _digits(rng: random.Random, n: int) -> str:
    return str(rng.randint(1, 9)) + "".join(rng.choices(string.digits, k=n - 1))


def pick_provider(rng: random.Random) -> str:
    return rng.choices(PROVIDERS, cum_weights=_PROVIDER_CUM_WEIGHTS)[0]


def make_client(rng: random.Random, name: str) -> dict[str, str]:
    """An application of the tenant as it appears in events."""
    return {"client_id": _alnum(rng, 32), "client_name": name}


def _waad_id(rng: random.Random) -> str:
    # Azure AD object ids are base64 and routinely contain '/', '+' and '=' padding.
    raw = base64.b64encode(rng.randbytes(31)).decode()
    return raw[:7] + "/" + raw[8:20] + "+" + raw[21:]


def make_user(
    rng: random.Random, provider: str, created_at: datetime, now: datetime
) -> dict[str, Any]:
    """An Auth0 user object created at ``created_at`` from identity provider ``provider``."""
    connection = CONNECTIONS[provider]
    first, last = rng.choice(_FIRST_NAMES), rng.choice(_LAST_NAMES)
    local = f"{first}.{last}{rng.randint(1, 999)}".lower()
    email_domain = {
        "google-oauth2": "gmail.com",
        "samlp": "acme.example",
        "waad": "contoso.example",
    }
    email = f"{local}@{email_domain.get(provider, 'example.com')}"
    phone = "+1" + _digits(rng, 10)
    identity_id = {
        "auth0": _hex(rng, 24),
        "google-oauth2": _digits(rng, 21),
        "samlp": f"{connection.name}|{email}",
        "waad": _waad_id(rng),
        "email": _hex(rng, 24),
        "sms": phone,
    }[provider]
    span = max((now - created_at).total_seconds(), 1.0)
    last_login = created_at + timedelta(seconds=span * rng.uniform(0.6, 1.0))
    updated_at = last_login + timedelta(seconds=rng.uniform(0, 5))
    user: dict[str, Any] = {
        "user_id": f"{provider}|{identity_id}",
        "created_at": iso_ms(created_at),
    }
    if provider == "sms":
        user |= {"phone_number": phone, "phone_verified": True, "name": phone, "nickname": phone}
    else:
        user |= {
            "email": email,
            "email_verified": provider != "auth0" or rng.random() < 0.8,
            "name": f"{first} {last}",
            "nickname": local.split(".")[0],
            "given_name": first,
            "family_name": last,
        }
    user |= {
        "picture": f"https://s.gravatar.com/avatar/{_hex(rng, 32)}?s=480&r=pg&d=mp",
        "updated_at": iso_ms(updated_at),
        "last_login": iso_ms(last_login),
        "last_ip": _ipv4(rng),
        "logins_count": int(rng.paretovariate(1.2) * 3),
        "identities": [
            {
                "provider": provider,
                "connection": connection.name,
                "user_id": identity_id,
                "isSocial": connection.is_social,
            }
        ],
        "app_metadata": {"role": "admin" if rng.random() < 0.15 else "member"},
        "user_metadata": {"locale": rng.choice(("en", "de", "pt-BR", "ja"))},
    }
    return user


def _ipv4(rng: random.Random) -> str:
    return ".".join(str(1 + b % 254) for b in rng.randbytes(4))


def _ip(rng: random.Random) -> str:
    if rng.random() < 0.1:
        return "2001:db8:" + ":".join(f"{rng.randint(0, 0xFFFF):x}" for _ in range(6))
    return _ipv4(rng)


def pick_type(rng: random.Random) -> str:
    return rng.choices(_TYPE_CODES, cum_weights=_TYPE_CUM_WEIGHTS)[0]


@dataclass(frozen=True)
class EventContext:
    """What every event of one tenant shares."""

    tenant_name: str
    clients: tuple[dict[str, str], ...]

    @property
    def hostname(self) -> str:
        return f"{self.tenant_name}.us.auth0.com"

    @property
    def machine_clients(self) -> tuple[dict[str, str], ...]:
        """Applications that get tokens for themselves (client credentials), not for a user."""
        return tuple(c for c in self.clients if c["client_name"].endswith("(M2M)")) or self.clients


def make_event(
    rng: random.Random,
    ctx: EventContext,
    user: dict[str, Any],
    type_code: str,
    date: datetime,
) -> dict[str, Any]:
    """One log event of ``user``; the caller adds ``log_id`` and ``_id``."""
    provider = user["user_id"].split("|", 1)[0]
    connection = CONNECTIONS.get(provider, CONNECTIONS["auth0"])
    server_side = type_code in _SERVER_TYPES
    client = rng.choice(ctx.clients)
    user_agent, is_mobile = SERVER_USER_AGENT if server_side else rng.choice(USER_AGENTS)
    user_name = user.get("email") or user.get("phone_number") or user.get("name")
    description = describe(type_code)
    event: dict[str, Any] = {
        "date": iso_ms(date),
        "type": type_code,
        "description": None if rng.random() < 0.15 else description,
    }
    if not server_side:
        event |= {"connection": connection.name, "connection_id": connection.id}
    event |= {
        "client_id": None if rng.random() < 0.05 else client["client_id"],
        "client_name": client["client_name"],
        "ip": _ip(rng),
        "hostname": ctx.hostname if rng.random() < 0.8 else "login.acme.example",
        "user_id": user["user_id"],
        "user_name": user_name,
    }
    if server_side or rng.random() < 0.6:
        event["audience"] = (
            f"https://{ctx.hostname}/api/v2/" if server_side else "https://api.acme.example/"
        )
    roll = rng.random()
    if roll < 0.45:
        event["scope"] = "openid profile email offline_access"
    elif roll < 0.8:
        event["scope"] = ["openid", "profile", "email"] if not server_side else ["read:users"]
    if not server_side:
        event |= {"strategy": connection.strategy, "strategy_type": connection.strategy_type}
    event |= {
        "isMobile": is_mobile,
        "user_agent": user_agent,
        "details": _details(rng, type_code, user, connection, date),
        "location_info": _location(rng),
        "security_context": {
            "ja3": _hex(rng, 32),
            "ja4": f"t13d1516h2_{_hex(rng, 12)}_{_hex(rng, 12)}",
        },
        "$event_schema": {"version": "1.0.0"},
        "tenant_name": ctx.tenant_name,
        "environment_name": "prod-us-3",
    }
    if not server_side and rng.random() < 0.4:
        event["auth0_client"] = {
            "name": "auth0-react",
            "version": "2.2.4",
            "env": {"auth0-spa-js": "2.1.3"},
        }
    if rng.random() < 0.2:
        org_id, org_name = rng.choice(_ORGANIZATIONS)
        event |= {"organization_id": org_id, "organization_name": org_name}
    if rng.random() < 0.5:
        event["references"] = {"correlation_id": _hex(rng, 32)}
    if not server_side and rng.random() < 0.3:
        # Seen on logins through a linked or enterprise identity.
        event |= {
            "identity_user_id": user["user_id"].split("|")[-1],
            "session_connection": connection.name,
            "client_ip": event["ip"],
        }
    if rng.random() < 0.03:
        event["risk_assessment"] = {
            "confidence": rng.choice(("low", "medium", "high")),
            "version": "1",
            "assessments": {
                "NewDevice": {"confidence": "medium", "code": "no_match"},
                "ImpossibleTravel": {
                    "confidence": "high",
                    "code": "minimal_travel_from_last_login",
                },
            },
        }
    return event


def describe(type_code: str) -> str:
    """The description Auth0 gives events of ``type_code`` ("" for a code it does not know)."""
    if type_code in EVENT_TYPES:
        return EVENT_TYPES[type_code][0]
    return DESCRIPTIONS.get(type_code, "")


def make_event_of_no_user(
    rng: random.Random,
    ctx: EventContext,
    type_code: str,
    date: datetime,
    user_name: str,
) -> dict[str, Any]:
    """An event about no account: a login or signup as ``user_name`` (typed by whoever tried),
    or an IP block. Auth0 leaves ``user_id`` out altogether, not null."""
    typed = {"user_id": "auth0|", "email": user_name, "name": user_name}
    event = make_event(rng, ctx, typed, type_code, date)
    del event["user_id"]
    event.pop("identity_user_id", None)
    return event


def make_client_event(rng: random.Random, ctx: EventContext, date: datetime) -> dict[str, Any]:
    """A client-credentials exchange (``seccft``): an application's event, with no user at all."""
    client = rng.choice(ctx.machine_clients)
    management_api = rng.random() < 0.7
    event: dict[str, Any] = {
        "date": iso_ms(date),
        "type": "seccft",
        "description": EVENT_TYPES["seccft"][0] if rng.random() < 0.8 else "",
        "connection_id": "",
        "client_id": client["client_id"],
        "client_name": client["client_name"],
        "ip": _ipv4(rng),
        "user_agent": SERVER_USER_AGENT[0],
        "isMobile": False,
        "hostname": ctx.hostname,
        "audience": f"https://{ctx.hostname}/api/v2/"
        if management_api
        else "https://api.acme.example/",
        "scope": "read:users read:logs" if management_api else ["read:reports"],
        "details": {},
        "location_info": _location(rng),
        "security_context": {
            "ja3": _hex(rng, 32),
            "ja4": f"t13d1516h2_{_hex(rng, 12)}_{_hex(rng, 12)}",
        },
        "$event_schema": {"version": "1.0.0"},
        "tenant_name": ctx.tenant_name,
        "environment_name": "prod-us-3",
    }
    return event


def _location(rng: random.Random) -> dict[str, Any]:
    return dict(rng.choice(LOCATIONS))


def _millis(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


_ERROR_MESSAGES = {
    "f": "Callback URL mismatch.",
    "fp": "Wrong email or password.",
    "fu": "Wrong email or password.",
    "fsa": "Login required",
    "fs": "PasswordStrengthError: Password is too weak",
    "pwd_leak": "This password has been leaked and a different one needs to be used.",
    "signup_pwd_leak": "This password has been leaked and a different one needs to be used.",
    "reset_pwd_leak": "This password has been leaked and a different one needs to be used.",
}


def _details(
    rng: random.Random,
    type_code: str,
    user: dict[str, Any],
    connection: Connection,
    date: datetime,
) -> dict[str, Any] | None:
    completed = _millis(date)
    started = completed - rng.randint(800, 40_000)
    if type_code in ("s", "ss", "ssa"):
        identity_id = (
            user["identities"][0]["user_id"] if user.get("identities") else user["user_id"]
        )
        # Real payloads carry the identity as a number for some connections, a string for others.
        identity: int | str = int(identity_id) if identity_id.isdigit() else identity_id
        if rng.random() < 0.3:
            identity = rng.randint(10**8, 10**9)
        return {
            "prompts": [
                {
                    "name": "prompt-authenticate",
                    "completedAt": completed - 120,
                    "connection": connection.name,
                    "connection_id": connection.id,
                    "strategy": connection.strategy,
                    "identity": identity,
                    "stats": {"loginsCount": user.get("logins_count", 0)},
                    "elapsedTime": completed - 120 - started,
                },
                {
                    "name": "login",
                    "flow": "universal-login",
                    "initiatedAt": started,
                    "completedAt": completed,
                    "user_id": user["user_id"],
                    "user_name": user.get("email") or user.get("name"),
                    "timers": {"rules": rng.randint(1, 40)},
                    "elapsedTime": completed - started,
                },
            ],
            "initiatedAt": started,
            "completedAt": completed,
            "elapsedTime": completed - started,
            "session_id": _alnum(rng, 32),
            "stats": {"loginsCount": user.get("logins_count", 0)},
        }
    if type_code in _ERROR_MESSAGES:
        message = _ERROR_MESSAGES[type_code]
        error: dict[str, Any] = {"message": message}
        if rng.random() < 0.5:
            error |= {"oauthError": "invalid_grant", "type": "request-error"}
        return {"error": error}
    if type_code in ("mgmt_api_read", "sapi"):
        method = "get" if type_code == "mgmt_api_read" else rng.choice(("patch", "post", "delete"))
        return {
            "request": {
                "method": method,
                "path": f"/api/v2/users/{user['user_id']}",
                "channel": "api",
                "ip": _ipv4(rng),
            },
            "response": {"statusCode": 200 if method != "delete" else 204, "body": {}},
        }
    if type_code == "slo":
        return {"return_to": "https://app.acme.example/", "session_id": _alnum(rng, 32)}
    if type_code in _PUSH_TYPES:
        return {"authenticator": {"type": "push"}}
    if type_code.startswith("gd_"):
        details: dict[str, Any] = {"authenticator": {"type": rng.choice(("sms", "otp", "push"))}}
        if type_code == "gd_send_sms":
            details["to"] = "+1" + "*" * 6 + _digits(rng, 4)
        return details
    if type_code == "api_limit":
        return {"bucket": "global", "limit": 50, "period_seconds": 1}
    if type_code == "zz_new_type":
        return {"novel": {"shape": rng.choice(("a", "b")), "count": rng.randint(0, 9)}}
    return None if rng.random() < 0.3 else {}
