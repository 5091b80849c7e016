"""The report as one HTML page: inline CSS and SVG, no script, nothing fetched.

Log fields are written by whoever attempts a login (user_name, user_agent, description), so
every value goes through `escape` on its way into the page, and the page's Content Security
Policy forbids scripts besides.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Sequence
from html import escape
from typing import Any

from transform.report.charts import PALETTE, Series, bar_chart, column_chart
from transform.report.figures import Figures

STYLE = """
body { font: 14px/1.45 system-ui, sans-serif; color: #111827; margin: 24px auto;
       max-width: 800px; padding: 0 16px; }
h1 { font-size: 22px; margin-bottom: 2px; } h2 { font-size: 17px; margin-top: 28px; }
.muted { color: #6b7280; } .cards { display: flex; flex-wrap: wrap; gap: 10px; }
.card { border: 1px solid #e5e7eb; border-radius: 6px; padding: 8px 12px; min-width: 130px; }
.card b { display: block; font-size: 20px; }
table { border-collapse: collapse; width: 100%; font-size: 12px; margin-top: 8px; }
th, td { border-bottom: 1px solid #e5e7eb; padding: 4px 6px; text-align: left;
         vertical-align: top; word-break: break-word; }
th { background: #f9fafb; } td.n { text-align: right; }
svg text { font: 11px system-ui, sans-serif; fill: #374151; }
svg .grid { stroke: #e5e7eb; } svg .empty { fill: #6b7280; }
"""
# No script of any kind; inline styles and inline SVG only.
CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"


def text(value: Any) -> str:
    """A value as page text, escaped; empty for nothing."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else ""
    if isinstance(value, float):
        return f"{value:,.0f}"
    if isinstance(value, datetime.datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    return escape(str(value))


def cell(value: Any) -> str:
    numeric = isinstance(value, int | float) and not isinstance(value, bool)
    return f'<td class="n">{text(value)}</td>' if numeric else f"<td>{text(value)}</td>"


def table(table_id: str, headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(map(cell, row)) + "</tr>" for row in rows)
    if not body:
        body = f'<tr><td colspan="{len(headers)}" class="muted">None.</td></tr>'
    return f'<table id="{escape(table_id)}"><tr>{head}</tr>{body}</table>'


def card(label: str, value: Any) -> str:
    return f'<div class="card"><b>{text(value)}</b>{escape(label)}</div>'


def flags(row: dict[str, Any], names: dict[str, str]) -> str:
    return ", ".join(label for column, label in names.items() if row.get(column))


def percent(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f}%" if whole else "n/a"


def header(figures: Figures, generated_at: datetime.datetime) -> str:
    others = [t for t in figures.tenants if t != figures.tenant]
    also = f" The warehouse also holds: {escape(', '.join(others))}." if others else ""
    return (
        f"<h1>Auth0 activity and threats: {escape(figures.tenant)}</h1>"
        f'<p class="muted">Events from {text(figures.first_day)} to {text(figures.last_day)}, '
        f"read from the analytics marts; generated {text(generated_at)} UTC.{also}</p>"
    )


def key_figures(figures: Figures) -> str:
    latest = figures.active_users[-1] if figures.active_users else {}
    passed, failed = figures.mfa.get("successes", 0), figures.mfa.get("failures", 0)
    cards = [
        card(
            f"active users on {latest.get('activity_date', '')}",
            latest.get("daily_active_users", 0),
        ),
        card("active in the last 30 days", latest.get("active_users_30d", 0)),
        card("active this calendar month (billed)", latest.get("monthly_active_users", 0)),
        card("MFA success rate", percent(passed, passed + failed)),
        card("users seen", figures.users.get("users", 0)),
        card("users with MFA", figures.users.get("mfa_enrolled", 0)),
        card("dormant users", figures.users.get("dormant", 0)),
    ]
    return f'<div class="cards" id="key-figures">{"".join(cards)}</div>'


def columns_of(
    chart: str,
    title: str,
    rows: list[dict[str, Any]],
    categories: list[str],
    series: dict[str, tuple[str, str]],
    *,
    stacked: bool = False,
) -> str:
    """A column chart of some columns of mart rows: column -> (legend, colour)."""
    drawn = [Series(label, [row[c] for row in rows], color) for c, (label, color) in series.items()]
    return column_chart(chart, title, categories, drawn, stacked=stacked)


def logins_per_day(figures: Figures) -> str:
    return "<h2>Logins and failed logins per day</h2>" + columns_of(
        "logins-per-day",
        "Successful and failed logins per day",
        figures.daily,
        [row["event_date"].isoformat() for row in figures.daily],
        {
            "successful_logins": ("successful logins", PALETTE[0]),
            "failed_logins": ("failed logins", PALETTE[1]),
            "failed_logins_activity_page": ("failed (Activity page, f only)", PALETTE[2]),
        },
    )


def threats_per_hour(figures: Figures) -> str:
    return "<h2>Threats per hour (Security Center's classes)</h2>" + columns_of(
        "threats-per-hour",
        "Credential stuffing, signup attack and MFA bypass events per hour",
        figures.threats,
        [row["event_hour"].strftime("%m-%d %H:00") for row in figures.threats],
        {
            "credential_stuffing_events": ("credential stuffing", PALETTE[1]),
            "signup_attack_events": ("signup attack", PALETTE[2]),
            "mfa_bypass_events": ("MFA bypass", PALETTE[3]),
        },
        stacked=True,
    )


def mfa_funnel(figures: Figures) -> str:
    steps = [
        ("challenges started", figures.mfa.get("challenges_started", 0)),
        ("factors sent", figures.mfa.get("sends", 0)),
        ("passed", figures.mfa.get("successes", 0)),
        ("failed or rejected", figures.mfa.get("failures", 0)),
    ]
    return (
        "<h2>MFA funnel</h2>"
        + bar_chart("mfa-funnel", "MFA challenges, factors sent, passed, failed", steps, PALETTE[4])
        + f'<p class="muted">The most pushes or SMS one user got in one hour: '
        f"{figures.mfa_max_push_or_sms}; users at the fatigue threshold: "
        f"{figures.mfa_fatigue_users}.</p>"
    )


IP_FLAGS = {"brute_force": "brute force", "credential_stuffing": "stuffing",
            "signup_flood": "signup flood"}  # fmt: skip
LOGIN_FLAGS = {
    "is_new_country": "new country",
    "is_impossible_travel": "travel speed",
    "is_risk_new_device": "Auth0: new device",
    "is_risk_impossible_travel": "Auth0: impossible travel",
    "is_risk_untrusted_ip": "Auth0: untrusted IP",
}


def top_ips(figures: Figures) -> str:
    bars = [(str(row["ip"]), row["failed_logins"]) for row in figures.top_ips]
    columns = ["IP", "country", "failed logins", "most usernames in an hour", "blocks",
               "flags", "last username", "last user agent"]  # fmt: skip
    rows = [
        [row["ip"], row["country_code"], row["failed_logins"], row["most_usernames_in_an_hour"],
         row["blocks"], flags(row, IP_FLAGS), row["last_user_name"], row["last_user_agent"]]
        for row in figures.top_ips
    ]  # fmt: skip
    return (
        "<h2>Top failing IPs</h2>"
        + bar_chart("top-ips", "Failed logins per IP", bars, PALETTE[1])
        + table("top-ips-table", columns, rows)
    )


def tables(figures: Figures) -> str:
    reasons = [
        [row["type"], row["reason"], row["type_description"], row["events"]]
        for row in figures.failure_reasons
    ]
    protection = [
        [row["type"], row["protection"], row["events"], row["most_ips_in_a_day"]]
        for row in figures.attack_protection
    ]
    logins = [
        [row["event_at"], row["user_name"], row["ip"], row["country_code"],
         row["previous_country_code"], row["travel_speed_kmh"], flags(row, LOGIN_FLAGS),
         row["user_agent"]]
        for row in figures.suspicious_logins
    ]  # fmt: skip
    return (
        "<h2>Why logins and signups fail</h2>"
        + table("failure-reasons", ["type", "what Auth0 says", "the type", "events"], reasons)
        + "<h2>Attack Protection</h2>"
        + table("attack-protection", ["type", "protection", "events", "most IPs a day"], protection)
        + "<h2>Suspicious logins</h2>"
        + table(
            "suspicious-logins",
            ["when", "username", "IP", "country", "from", "km/h", "why", "user agent"],
            logins,
        )
    )


def render(figures: Figures, generated_at: datetime.datetime) -> str:
    body = "".join(
        (
            header(figures, generated_at),
            key_figures(figures),
            logins_per_day(figures),
            threats_per_hour(figures),
            mfa_funnel(figures),
            top_ips(figures),
            tables(figures),
        )
    )
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>Auth0 report: {escape(figures.tenant)}</title><style>{STYLE}</style></head>"
        f"<body>{body}</body></html>\n"
    )
