"""The tap's settings: their JSON schema, the checks JSON schema cannot express, and `Settings`.

`Settings` is built once from the validated config and handed to everything that needs a
setting: every value typed, defaults applied, derived values (the base URL, the audience, the
tenant's domain, the look-back as a time span) worked out here and nowhere else.
"""

from __future__ import annotations

import datetime
import difflib
import ipaddress
import math
import re
import typing as t
import unicodedata
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from singer_sdk import typing as th

from tap_auth0_userlogs.events.dates import parse_date

DEFAULT_PAGE_SIZE = 100
# Auth0 indexes most events within seconds but documents log search as "not real-time";
# 15 minutes covers the indexing delays seen in practice and costs no extra request for
# a quiet user, because the first page (newest first) already reaches that far back.
DEFAULT_LOOKBACK_MINUTES = 15
DEFAULT_REQUEST_TIMEOUT = 30
# Requests in flight at most, whatever the bucket would allow: 128 spend 750 requests a second
# (Private Cloud's 1,500 RPS tier) at 150 ms a round trip.
MAX_IN_FLIGHT = 128

CONFIG_SCHEMA = th.PropertiesList(
    th.Property(
        "domain",
        th.StringType,
        required=True,
        title="Auth0 domain",
        description="The tenant's Auth0 domain, e.g. `acme.us.auth0.com` "
        "(an `https://` prefix is accepted).",
        examples=["acme.us.auth0.com"],
    ),
    th.Property(
        "access_token",
        th.StringType,
        secret=True,
        title="Management API token",
        description="A static Management API token with `read:logs` or "
        "`read:logs_users`. Give this, or `client_id` and `client_secret`.",
    ),
    th.Property(
        "client_id",
        th.StringType,
        title="Client ID",
        description="Client ID of a machine-to-machine application authorized for the "
        "Management API (client-credentials grant).",
    ),
    th.Property(
        "client_secret",
        th.StringType,
        secret=True,
        title="Client secret",
        description="Client secret of that application.",
    ),
    th.Property(
        "audience",
        th.StringType,
        title="Audience",
        description="Audience for the client-credentials grant. "
        "Default: `https://{domain}/api/v2/`.",
    ),
    th.Property(
        "user_ids",
        th.ArrayType(th.StringType),
        title="User IDs",
        description="The Auth0 user ids whose events to extract, one partition each, "
        'e.g. `["auth0|5f7c8ec7c33c6c004bbafe82"]`. Default: every user of the tenant '
        "(discovered; needs `read:users`).",
    ),
    th.Property(
        "user_query",
        th.StringType,
        title="User query",
        description="When `user_ids` is not set, extract only users matching this Lucene "
        'query (user search v3), e.g. `app_metadata.role:"admin"`.',
    ),
    th.Property(
        "user_discovery",
        th.StringType,
        default="auto",
        allowed_values=["auto", "search", "export"],
        title="User discovery",
        description="How to list users when `user_ids` is not set: `search` pages "
        "/api/v2/users in created_at windows until each holds fewer than 1,000 users (Auth0 "
        "reports at most 1,000), `export` runs a users-export job (refused on the Free plan: "
        "then the tap searches), `auto` searches fewer than 1,000 users or a `user_query`, "
        "else exports.",
    ),
    th.Property(
        "start_date",
        th.DateTimeType,
        title="Start date",
        description="Ignore events dated before this instant (ISO-8601).",
    ),
    th.Property(
        "page_size",
        th.IntegerType(minimum=1, maximum=100),
        default=DEFAULT_PAGE_SIZE,
        title="Page size",
        description="Events per request (1 to 100; Auth0's maximum is 100).",
    ),
    th.Property(
        "lookback_minutes",
        th.IntegerType(minimum=0, maximum=7 * 24 * 60),
        default=DEFAULT_LOOKBACK_MINUTES,
        title="Look-back (minutes)",
        description="How far before each user's bookmark to read again, because Auth0 "
        "indexes some events late. Re-read events are de-duplicated within a run.",
    ),
    th.Property(
        "event_types",
        th.ArrayType(th.StringType),
        title="Event types",
        description='Keep only events of these type codes, e.g. `["s", "f", "fp"]`. '
        "Default: every type.",
    ),
    th.Property(
        "request_timeout",
        th.NumberType(exclusive_minimum=0, maximum=600),
        default=DEFAULT_REQUEST_TIMEOUT,
        title="Request timeout (seconds)",
        description="Seconds to wait for Auth0 to answer one request before retrying it.",
    ),
    th.Property(
        "max_concurrency",
        th.IntegerType(minimum=1, maximum=MAX_IN_FLIGHT),
        title="Max concurrency",
        description="The most requests in flight at once: users read at once, or slices of "
        "the tenant's log read at once. Default: as many as the tenant's rate limit and the "
        "round trip to Auth0 need, never more than its bucket holds (at most "
        f"{MAX_IN_FLIGHT}). 1 reads one request at a time.",
    ),
    th.Property(
        "strategy",
        th.StringType,
        default="auto",
        allowed_values=["auto", "per_user", "tenant_scan"],
        title="Strategy",
        description="`per_user` reads each selected user's log (one request per user at "
        "least). `tenant_scan` reads the tenant's log (`/api/v2/logs`, 100 events a request "
        "whoever they belong to; needs `read:logs`) in one pass from where the last run "
        "stopped, or from `start_date` (else the oldest event Auth0 keeps) on the first run. "
        "`auto` estimates both before it starts and takes the cheaper.",
    ),
    th.Property(
        "log_id_margin_seconds",
        th.NumberType(minimum=0, maximum=86400),
        default=0,
        title="Log id margin (seconds)",
        description="How far before the newest log_id read a pass over the tenant's log "
        "stores its position, so the next run reads that span again. Auth0 gives an event "
        "indexed late a later log_id; set this only if events can be filed below log_ids "
        "already served, at the cost of re-reading that many seconds of events each run.",
    ),
    th.Property(
        "max_requests_per_second",
        th.NumberType(exclusive_minimum=0),
        title="Max requests per second",
        description="Never send more than this many requests per second, whatever the "
        "rate-limit headers allow: leaves headroom for the tenant's own applications, "
        "which share Auth0's rate limit. Default: as fast as the headers allow.",
    ),
    th.Property(
        "api_url",
        th.StringType,
        title="API base URL",
        description="Override of `https://{domain}` for a proxy or a local emulator. "
        "Plain `http://` is allowed only for loopback hosts.",
    ),
).to_dict()

_DEFAULTS = {
    name: spec["default"] for name, spec in CONFIG_SCHEMA["properties"].items() if "default" in spec
}


def _setting(config: t.Mapping[str, t.Any], name: str) -> t.Any:
    """A setting's value, or the schema's default for it (singer-sdk fills defaults in only
    when it validates the config)."""
    value = config.get(name)
    return _DEFAULTS.get(name) if value is None else value


_HOST_LABEL = re.compile(r"^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$")
_TEXT_SETTINGS = frozenset(
    name for name, prop in CONFIG_SCHEMA["properties"].items() if "string" in prop.get("type", [])
)
# Control characters, lone surrogates and line breaks: invisible in a config, fatal in a URL.
_INVISIBLE_CATEGORIES = frozenset({"Cc", "Cs", "Zl", "Zp"})
USER_ID_EXAMPLE = "auth0|5f7c8ec7c33c6c004bbafe82"


def normalize_domain(raw: str) -> str:
    """Return the bare host name of `domain`, tolerating an `https://` prefix."""
    domain = raw.strip()
    if domain.lower().startswith("https://"):
        domain = domain[len("https://") :]
    return domain.rstrip("/").lower()


def _is_host_name(value: str) -> bool:
    labels = value.split(".")
    return len(value) <= 253 and len(labels) >= 2 and all(map(_HOST_LABEL.match, labels))


def domain_problem(raw: str) -> str | None:
    """Why `raw` is not an acceptable `domain`, or None when it is."""
    domain = normalize_domain(raw)
    if not domain:
        return "setting 'domain' is empty: expected the tenant host name, e.g. acme.us.auth0.com"
    if "@" in domain or "/" in domain or "?" in domain or "#" in domain or ":" in domain:
        return (
            "setting 'domain' must be a bare host name such as acme.us.auth0.com, "
            "without a scheme other than https://, a path, a query, a port or '@'"
        )
    if not _is_host_name(domain):
        return "setting 'domain' is not a host name: expected e.g. acme.us.auth0.com"
    return None


def is_loopback(host: str) -> bool:
    """Whether `host` (a name, an IPv4 or a bracketed IPv6 address) is this machine."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def api_url_problem(raw: str) -> str | None:
    """Why `raw` is not an acceptable `api_url`, or None when it is."""
    try:
        parts = urlsplit(raw.strip())
        host = parts.hostname or ""
        _ = parts.port  # raises on a malformed port
    except ValueError:
        return "setting 'api_url' is not a URL: expected e.g. https://auth0-proxy.example.com"
    if parts.scheme not in {"http", "https"} or not host:
        return (
            "setting 'api_url' must be an http(s) URL with a host, e.g. https://proxy.example.com"
        )
    if parts.username or parts.password or parts.query or parts.fragment:
        return "setting 'api_url' must not carry credentials, a query or a fragment"
    if parts.scheme == "http" and not is_loopback(host):
        return (
            f"setting 'api_url' uses plain http:// for non-loopback host {host!r}: "
            "use https://, or http:// only for 127.0.0.1, ::1 or localhost"
        )
    return None


def auth_problem(config: t.Mapping[str, t.Any]) -> str | None:
    """Why the authentication settings are not exactly one complete method, or None."""
    token = bool(config.get("access_token"))
    client_id = bool(config.get("client_id"))
    client_secret = bool(config.get("client_secret"))
    if token and (client_id or client_secret):
        return (
            "settings 'access_token' and 'client_id'/'client_secret' are both set: "
            "give exactly one way to authenticate"
        )
    if token:
        return None
    if client_id and not client_secret:
        return "setting 'client_secret' is missing: 'client_id' needs its 'client_secret'"
    if client_secret and not client_id:
        return "setting 'client_id' is missing: 'client_secret' needs its 'client_id'"
    if not client_id:
        return (
            "no credentials: set 'access_token' (a Management API token), "
            "or 'client_id' and 'client_secret' (client-credentials grant)"
        )
    return None


def user_ids_problem(config: t.Mapping[str, t.Any]) -> str | None:
    """Why `user_ids` cannot be used, or None when it can (absent means: discover users)."""
    user_ids = config.get("user_ids")
    if user_ids is None:
        return None
    if not user_ids:
        return (
            "setting 'user_ids' is an empty list: list user ids, or remove the setting to "
            "extract every user of the tenant"
        )
    for user_id in user_ids:
        problem = user_id_problem(user_id)
        if problem:
            return problem
    if len(set(user_ids)) != len(user_ids):
        return "setting 'user_ids' lists the same user id more than once"
    return None


def user_id_problem(user_id: str) -> str | None:
    """Why `user_id` is not an Auth0 user id (`provider|id`), or None when it looks like one."""
    if not user_id.strip():
        return "setting 'user_ids' holds an empty user id"
    # repr() shows the stray space or control character the user has to find.
    shown = repr(user_id)
    if user_id != user_id.strip():
        return (
            f"setting 'user_ids' holds {shown}, with spaces around it: "
            f"expected an Auth0 user id such as {USER_ID_EXAMPLE}"
        )
    if any(unicodedata.category(char) in _INVISIBLE_CATEGORIES for char in user_id):
        return (
            f"setting 'user_ids' holds {shown}, which contains a control or invalid "
            f"character: expected an Auth0 user id such as {USER_ID_EXAMPLE}"
        )
    provider, separator, identifier = user_id.partition("|")
    if not (provider and separator and identifier):
        return (
            f"setting 'user_ids' holds {shown}, which is not an Auth0 user id: expected "
            f"the identity provider, '|' and the id, e.g. {USER_ID_EXAMPLE}"
        )
    return None


def event_types_problem(config: t.Mapping[str, t.Any]) -> str | None:
    """Why `event_types` cannot be used, or None when it can (absent means: every type)."""
    codes = config.get("event_types")
    if codes is None:
        return None
    if not codes:
        return (
            "setting 'event_types' is an empty list: list type codes such as "
            '["s", "f"], or remove the setting to keep every type'
        )
    if any(not code.strip() for code in codes):
        return "setting 'event_types' holds an empty type code: expected codes such as s or f"
    return None


def user_query_problem(config: t.Mapping[str, t.Any]) -> str | None:
    """Why `user_query` cannot be used, or None when it can."""
    if config.get("user_query") and config.get("user_ids") is not None:
        return "settings 'user_ids' and 'user_query' are both set: give one or the other"
    return None


def start_date_problem(config: t.Mapping[str, t.Any]) -> str | None:
    """Why `start_date` is not a usable instant, or None when it is (or is absent)."""
    value = config.get("start_date")
    if value is None:
        return None
    try:
        moment = parse_date(str(value))
    except ValueError:
        return f"setting 'start_date' is {value!r}: expected ISO-8601, e.g. 2026-01-01T00:00:00Z"
    if moment > datetime.datetime.now(datetime.timezone.utc):
        return (
            f"setting 'start_date' is {value!r}, which is in the future: no event could be "
            "extracted; expected a past instant, e.g. 2026-01-01T00:00:00Z"
        )
    return None


def unknown_setting_problems(config: t.Mapping[str, t.Any], known: t.Collection[str]) -> list[str]:
    """One line per setting name the tap does not have (a typo would otherwise be ignored)."""
    problems = []
    for name in sorted(set(config) - set(known)):
        guess = difflib.get_close_matches(name, sorted(known), n=1)
        hint = f"did you mean {guess[0]!r}? " if guess else ""
        problems.append(
            f"unknown setting {name!r}: {hint}`tap-auth0-userlogs --about` lists every setting"
        )
    return problems


def empty_problems(config: t.Mapping[str, t.Any]) -> list[str]:
    """Text settings given as empty strings, usually a variable that was never filled in."""
    return [
        f"setting {name!r} is empty: give it a value, or leave the setting out"
        for name, value in config.items()
        if name in _TEXT_SETTINGS and isinstance(value, str) and not value.strip()
    ]


def number_problems(config: t.Mapping[str, t.Any]) -> list[str]:
    """NaN and infinities, which JSON schema bounds do not catch (NaN compares false)."""
    return [
        f"setting {name!r} is {value!r}: expected a finite number"
        for name, value in config.items()
        if isinstance(value, float) and not math.isfinite(value)
    ]


def config_problems(config: t.Mapping[str, t.Any]) -> list[str]:
    """Every problem JSON schema cannot catch, as one line each."""
    # An empty or non-finite value explains every later complaint about the same setting.
    early = empty_problems(config) + number_problems(config)
    if early:
        return early
    problems: list[str | None] = []
    if isinstance(config.get("domain"), str):
        problems.append(domain_problem(config["domain"]))
    if isinstance(config.get("api_url"), str):
        problems.append(api_url_problem(config["api_url"]))
    problems.append(auth_problem(config))
    problems.append(user_ids_problem(config))
    problems.append(user_query_problem(config))
    problems.append(event_types_problem(config))
    problems.append(start_date_problem(config))
    return [p for p in problems if p]


@dataclass(frozen=True)
class Settings:
    """Every setting, typed and with its default, plus the values derived from them."""

    # The normalized `domain`: names the tenant in every record, whatever `api_url` says.
    tenant_domain: str
    # `api_url` when given, else `https://{domain}`.
    base_url: str
    # The client-credentials grant's audience: `audience`, else `https://{domain}/api/v2/`.
    audience: str
    access_token: str | None = field(repr=False)
    client_id: str | None
    client_secret: str | None = field(repr=False)
    user_ids: tuple[str, ...] | None
    user_query: str | None
    user_discovery: str
    start_date: datetime.datetime | None
    page_size: int
    lookback: datetime.timedelta
    # `event_types` as a set; None keeps every type.
    kept_types: frozenset[str] | None
    request_timeout: float
    # The most requests in flight: `max_concurrency`, else MAX_IN_FLIGHT.
    max_concurrency: int
    strategy: str
    log_id_margin: datetime.timedelta
    max_requests_per_second: float | None

    @property
    def every_user(self) -> bool:
        """Neither `user_ids` nor `user_query`: the users are every user of the tenant."""
        return self.user_ids is None and not self.user_query

    @classmethod
    def from_config(cls, config: t.Mapping[str, t.Any]) -> Settings:
        """The settings of a config that passed `config_problems`."""
        domain = normalize_domain(config["domain"])
        api_url = config.get("api_url")
        start_date = config.get("start_date")
        user_ids = config.get("user_ids")
        kept_types = config.get("event_types")
        max_rate = config.get("max_requests_per_second")
        return cls(
            tenant_domain=domain,
            base_url=str(api_url).strip().rstrip("/") if api_url else f"https://{domain}",
            audience=config.get("audience") or f"https://{domain}/api/v2/",
            access_token=config.get("access_token") or None,
            client_id=config.get("client_id") or None,
            client_secret=config.get("client_secret") or None,
            user_ids=tuple(user_ids) if user_ids is not None else None,
            user_query=config.get("user_query") or None,
            user_discovery=str(_setting(config, "user_discovery")),
            start_date=parse_date(str(start_date)) if start_date else None,
            page_size=int(_setting(config, "page_size")),
            lookback=datetime.timedelta(minutes=_setting(config, "lookback_minutes")),
            kept_types=frozenset(kept_types) if kept_types else None,
            request_timeout=float(_setting(config, "request_timeout")),
            max_concurrency=int(config.get("max_concurrency") or MAX_IN_FLIGHT),
            strategy=str(_setting(config, "strategy")),
            log_id_margin=datetime.timedelta(
                seconds=float(_setting(config, "log_id_margin_seconds"))
            ),
            max_requests_per_second=float(max_rate) if max_rate else None,
        )
