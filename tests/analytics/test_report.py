"""The HTML report of the fixture's marts, opened in headless Chromium.

Each chart must draw a bar for every non-zero figure the fixture plants, sized in proportion;
the fixture's hostile event (markup and script in user_name, user_agent and description) must
show as text, and nothing in the page may run or fetch anything.
"""

from __future__ import annotations

import json

import pytest

from tests.analytics.browser import evaluate_page
from tests.analytics.raw_events import named
from transform.report.__main__ import main

ACME = "acme.eu.auth0.com"
PROBE = """JSON.stringify({
  title: document.title,
  scripts: document.scripts.length,
  fetching: document.querySelectorAll('[src], [href], link, iframe, object, embed, img').length,
  charts: Object.fromEntries([...document.querySelectorAll('svg[data-chart]')].map(svg => [
    svg.dataset.chart,
    [...svg.querySelectorAll('rect.mark')].map(m => {
      const box = m.getBBox();
      return {category: m.dataset.category, series: m.dataset.series || null,
              width: box.width, height: box.height};
    }),
  ])),
  tables: Object.fromEntries([...document.querySelectorAll('table[id]')].map(t => [
    t.id, [...t.rows].slice(1).map(r => [...r.cells].map(c => c.textContent)),
  ])),
})"""


@pytest.fixture(scope="module")
def page(duckdb_fixture, tmp_path_factory) -> dict:
    out = tmp_path_factory.mktemp("report") / "report.html"
    main(["--duckdb", str(duckdb_fixture.marts.path), "--out", str(out), "--tenant", ACME])
    return json.loads(evaluate_page(out.as_uri(), PROBE))


def drawn(page: dict, chart: str) -> list[dict]:
    return [m for m in page["charts"][chart] if m["width"] > 0 and m["height"] > 0]


def test_the_page_loads_nothing_and_runs_nothing(page):
    assert page["title"] == f"Auth0 report: {ACME}"  # the planted scripts would rename it
    assert page["scripts"] == 0
    assert page["fetching"] == 0


def test_logins_and_failures_per_day_drew_a_bar_per_nonzero_figure(page):
    bars = drawn(page, "logins-per-day")
    # Six days with successful logins, two with failed ones, one with an `f`.
    assert [m["series"] for m in bars].count("successful logins") == 6
    failed = {m["category"]: m["height"] for m in bars if m["series"] == "failed logins"}
    assert set(failed) == {"2026-03-01", "2026-03-02"}
    assert failed["2026-03-02"] / failed["2026-03-01"] == pytest.approx(13 / 10, rel=0.01)
    assert [m["category"] for m in bars if m["series"].startswith("failed (")] == ["2026-03-02"]


def test_threat_classes_per_hour_drew_one_bar_per_hour(page):
    bars = {m["category"]: m["series"] for m in drawn(page, "threats-per-hour")}
    assert bars == {
        "03-01 20:00": "credential stuffing",
        "03-02 03:00": "credential stuffing",
        "03-02 05:00": "credential stuffing",
        "03-02 14:00": "MFA bypass",
        "03-02 16:00": "credential stuffing",
        "03-03 05:00": "signup attack",
    }


def test_mfa_funnel_and_top_ips_are_in_proportion(page):
    funnel = {m["category"]: m["width"] for m in drawn(page, "mfa-funnel")}
    assert list(funnel) == ["challenges started", "factors sent", "passed", "failed or rejected"]
    assert funnel["factors sent"] / funnel["passed"] == pytest.approx(6, rel=0.01)
    ips = {m["category"]: m["width"] for m in drawn(page, "top-ips")}
    assert list(ips) == ["203.0.113.66", "198.51.100.7", "45.0.0.13"]
    assert ips["203.0.113.66"] / ips["45.0.0.13"] == pytest.approx(12, rel=0.01)


def test_hostile_log_fields_show_as_text(page):
    hostile = named("hostile")
    (row,) = (r for r in page["tables"]["top-ips-table"] if r[0] == hostile["ip"])
    assert hostile["user_name"] in row
    assert hostile["user_agent"] in row
    reasons = [r[1] for r in page["tables"]["failure-reasons"]]
    assert hostile["description"] in reasons
