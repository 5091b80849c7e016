"""The q parser and matcher on their own (no HTTP)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.emulator import Tenant, TenantSpec, lucene
from tests.emulator_tests.api import get

USER = {
    "user_id": "samlp|acme-saml|jane@acme.example",
    "email": "jane@acme.example",
    "logins_count": 120,
    "created_at": "2025-06-01T10:00:00.000Z",
    "identities": [{"connection": "acme-saml", "provider": "samlp"}],
    "app_metadata": {"role": "admin"},
}


def hit(q: str, record: dict = USER) -> bool:
    return lucene.matches(lucene.parse(q), record)


def test_quoted_value_with_pipes_matches_exactly():
    assert hit('user_id:"samlp|acme-saml|jane@acme.example"')
    assert not hit('user_id:"samlp|acme-saml|jane"')


def test_dotted_field_reaches_into_lists_and_objects():
    assert hit('identities.connection:"acme-saml"')
    assert hit('app_metadata.role:"admin"')
    assert not hit('app_metadata.role:"member"')


def test_numeric_range_compares_numbers_not_text():
    assert hit("logins_count:[100 TO *]")
    assert not hit("logins_count:[200 TO *]")
    assert hit("logins_count:[9 TO 1000}")  # "9" > "120" as text


def test_wildcard_in_a_bare_value():
    assert hit("email:*@acme.example")
    assert not hit("email:*@globex.example")


def test_not_excludes():
    assert not hit('NOT app_metadata.role:"admin"')
    assert hit('-email:"x@y.z"')


def test_adjacent_clauses_without_operator_are_ored_like_lucene():
    assert hit('email:"nobody@x" app_metadata.role:"admin"')


@pytest.mark.parametrize("q", ["date:[a TO b", "email:", '(email:"x"', 'email:"open', "justtext"])
def test_syntax_errors_are_reported(q):
    with pytest.raises(lucene.QuerySyntaxError):
        lucene.parse(q)


def test_exact_values_pins_the_user_of_a_conjunction():
    node = lucene.parse('user_id:"a|1" AND date:[2026-01-01 TO *]')
    assert lucene.exact_values(node, "user_id") == {"a|1"}
    either = lucene.parse('user_id:"a|1" OR user_id:"b|2"')
    assert lucene.exact_values(either, "user_id") == {"a|1", "b|2"}
    assert lucene.exact_values(lucene.parse('user_id:"a|1" OR type:s'), "user_id") is None


def test_date_window_bounds_the_dates_a_query_can_match():
    jan = datetime(2026, 1, 1, tzinfo=timezone.utc).timestamp()
    feb = datetime(2026, 2, 1, tzinfo=timezone.utc).timestamp()
    node = lucene.parse('user_id:"a|1" AND date:[2026-01-01 TO 2026-02-01}')
    assert lucene.date_window(node) == (jan, feb)
    assert lucene.date_window(lucene.parse("date:[2026-01-01 TO *]")) == (jan, float("inf"))
    assert lucene.date_window(lucene.parse('date:[2026-01-01 TO *] OR type:"s"')) is None
    assert lucene.date_window(lucene.parse('type:"s"')) is None


def test_searching_a_date_window_finds_what_a_full_scan_finds(emulator):
    newest = emulator.tenant.all_events()[40]["date"][:19]
    q = f'date:[* TO {newest}] AND NOT type:"zz_none"'
    found = get(emulator, "/api/v2/logs", q=q, per_page=100).json()
    node = lucene.parse(q)
    expected = [e for e in emulator.tenant.all_events() if lucene.matches(node, e)]
    assert 0 < len(expected) < 75
    assert {e["log_id"] for e in found} == {e["log_id"] for e in expected}


_NOW = datetime(2026, 5, 1, tzinfo=timezone.utc)
_EVENTS = Tenant.generate(TenantSpec(users=3, events_per_user=60, seed=9, now=_NOW)).all_events()


@settings(max_examples=60, deadline=None)
@given(st.integers(min_value=0, max_value=20 * 24 * 3600))
def test_splitting_a_window_at_any_second_loses_and_duplicates_nothing(offset):
    low, high = _NOW - timedelta(days=20), _NOW
    split = low + timedelta(seconds=offset)

    def count(q: str) -> int:
        node = lucene.parse(q)
        return sum(lucene.matches(node, e) for e in _EVENTS)

    fmt = "%Y-%m-%dT%H:%M:%S"
    whole = count(f"date:[{low:{fmt}} TO {high:{fmt}}]")
    left = count(f"date:[{low:{fmt}} TO {split:{fmt}}}}")
    right = count(f"date:[{split:{fmt}} TO {high:{fmt}}]")
    assert left + right == whole == len(_EVENTS)
