"""What the report shows, read from the marts dbt built in a DuckDB warehouse.

One tenant per report: the one named, or the tenant with the most events. Values are returned
as read; escaping them is the page's job.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

TOP = 10


@dataclass
class Figures:
    tenant: str
    tenants: list[str]
    first_day: datetime.date | None = None
    last_day: datetime.date | None = None
    # event_date, successful_logins, failed_logins, failed_logins_activity_page
    daily: list[dict[str, Any]] = field(default_factory=list)
    # auth0__active_users_daily's rows
    active_users: list[dict[str, Any]] = field(default_factory=list)
    # auth0__threats_hourly's rows, of the hours with threats
    threats: list[dict[str, Any]] = field(default_factory=list)
    # challenges started, sends, successes, failures
    mfa: dict[str, int] = field(default_factory=dict)
    mfa_fatigue_users: int = 0
    mfa_max_push_or_sms: int = 0
    top_ips: list[dict[str, Any]] = field(default_factory=list)
    failure_reasons: list[dict[str, Any]] = field(default_factory=list)
    attack_protection: list[dict[str, Any]] = field(default_factory=list)
    suspicious_logins: list[dict[str, Any]] = field(default_factory=list)
    users: dict[str, int] = field(default_factory=dict)


class Marts:
    """Read-only queries on the marts of one DuckDB file."""

    def __init__(self, path: Path, schema: str) -> None:
        self.path, self.schema = path, schema

    def rows(self, sql: str, *params: Any) -> list[dict[str, Any]]:
        with duckdb.connect(str(self.path), read_only=True) as conn:
            result = conn.execute(sql.replace("{schema}", self.schema), list(params))
            columns = [d[0] for d in result.description]
            return [dict(zip(columns, row, strict=True)) for row in result.fetchall()]


def read_figures(path: Path, schema: str = "analytics", tenant: str | None = None) -> Figures:
    marts = Marts(path, schema)
    by_events = marts.rows(
        "SELECT tenant_domain, sum(events) AS events FROM {schema}.auth0__daily_overview "
        "GROUP BY tenant_domain ORDER BY events DESC, tenant_domain"
    )
    tenants = [r["tenant_domain"] for r in by_events]
    if tenant is None and tenants:
        tenant = tenants[0]
    if tenant is None:
        raise SystemExit(f"no events in {path}: run the pipeline and dbt first")
    if tenant not in tenants:
        raise SystemExit(f"no events of tenant {tenant} in {path}; it holds {', '.join(tenants)}")
    figures = Figures(tenant, tenants)
    figures.daily = marts.rows(
        "SELECT event_date, sum(successful_logins) AS successful_logins, "
        "sum(failed_logins) AS failed_logins, "
        "sum(failed_logins_activity_page) AS failed_logins_activity_page "
        "FROM {schema}.auth0__daily_overview WHERE tenant_domain = ? "
        "GROUP BY event_date ORDER BY event_date",
        tenant,
    )
    if figures.daily:
        figures.first_day = figures.daily[0]["event_date"]
        figures.last_day = figures.daily[-1]["event_date"]
    figures.active_users = marts.rows(
        "SELECT * FROM {schema}.auth0__active_users_daily WHERE tenant_domain = ? "
        "ORDER BY activity_date",
        tenant,
    )
    figures.threats = marts.rows(
        "SELECT * FROM {schema}.auth0__threats_hourly WHERE tenant_domain = ? "
        "AND threat_events > 0 ORDER BY event_hour",
        tenant,
    )
    (mfa,) = marts.rows(
        "SELECT coalesce(sum(challenges_started), 0) AS challenges_started, "
        "coalesce(sum(sends), 0) AS sends, coalesce(sum(successes), 0) AS successes, "
        "coalesce(sum(failures), 0) AS failures, coalesce(sum(fatigue_users), 0) AS fatigue, "
        "coalesce(max(max_push_or_sms_one_user_hour), 0) AS max_push "
        "FROM {schema}.auth0__mfa_daily WHERE tenant_domain = ?",
        tenant,
    )
    figures.mfa_fatigue_users = int(mfa.pop("fatigue"))
    figures.mfa_max_push_or_sms = int(mfa.pop("max_push"))
    figures.mfa = {name: int(value) for name, value in mfa.items()}
    figures.top_ips = marts.rows(
        """
        WITH per_ip AS (
            SELECT ip, sum(failed_logins) AS failed_logins,
                   max(distinct_user_names_failed) AS most_usernames_in_an_hour,
                   sum(blocks) AS blocks, bool_or(is_brute_force) AS brute_force,
                   bool_or(is_credential_stuffing) AS credential_stuffing,
                   bool_or(is_signup_flood) AS signup_flood,
                   max(event_hour) AS last_hour
            FROM {schema}.auth0__ip_activity_hourly WHERE tenant_domain = ?
            GROUP BY ip
        )
        SELECT per_ip.*, latest.country_code, latest.last_user_name, latest.last_user_agent
        FROM per_ip
        JOIN {schema}.auth0__ip_activity_hourly AS latest
          ON latest.tenant_domain = ? AND latest.ip = per_ip.ip
         AND latest.event_hour = per_ip.last_hour
        WHERE per_ip.failed_logins > 0
        ORDER BY per_ip.failed_logins DESC, per_ip.ip
        LIMIT ?
        """,
        tenant,
        tenant,
        TOP,
    )
    figures.failure_reasons = marts.rows(
        "SELECT type, reason, max(type_description) AS type_description, sum(events) AS events "
        "FROM {schema}.auth0__failure_reasons_daily WHERE tenant_domain = ? "
        "GROUP BY type, reason ORDER BY events DESC, type, reason LIMIT ?",
        tenant,
        TOP,
    )
    figures.attack_protection = marts.rows(
        "SELECT type, protection, sum(events) AS events, max(distinct_ips) AS most_ips_in_a_day "
        "FROM {schema}.auth0__attack_protection_daily WHERE tenant_domain = ? "
        "GROUP BY type, protection ORDER BY events DESC, type",
        tenant,
    )
    figures.suspicious_logins = marts.rows(
        "SELECT event_at, user_name, ip, country_code, previous_country_code, "
        "travel_speed_kmh, is_new_country, is_impossible_travel, is_risk_new_device, "
        "is_risk_impossible_travel, is_risk_untrusted_ip, user_agent "
        "FROM {schema}.auth0__suspicious_logins WHERE tenant_domain = ? "
        "ORDER BY event_at DESC LIMIT ?",
        tenant,
        TOP,
    )
    (figures.users,) = marts.rows(
        "SELECT count(*) AS users, count(*) FILTER (WHERE is_mfa_enrolled) AS mfa_enrolled, "
        "count(*) FILTER (WHERE is_dormant) AS dormant, "
        "count(*) FILTER (WHERE is_deleted) AS deleted "
        "FROM {schema}.auth0__users WHERE tenant_domain = ?",
        tenant,
    )
    return figures
