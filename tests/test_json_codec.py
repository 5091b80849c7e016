"""The JSON codec reads and writes exactly what the standard library does, only faster."""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tap_auth0_userlogs.json_codec import dumps, loads

# Integers on both sides of the 64-bit range, -2**63 .. 2**64 - 1.
EDGE_INTEGERS = st.sampled_from(
    [2**63 - 1, 2**63, 2**64 - 1, 2**64, -(2**63), -(2**63) - 1, 10**19, -(10**19), 10**30]
)
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | EDGE_INTEGERS
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text()
    | st.from_regex(r"[:,\[ -]{0,3}[0-9]{15,25}", fullmatch=True)  # digit runs inside strings
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=20,
)
# Compact, Auth0-like and indented layouts.
LAYOUTS = st.sampled_from(
    [{"separators": (",", ":")}, {}, {"indent": 2}, {"indent": "\t", "separators": (" ,", " : ")}]
)


def same(left, right) -> bool:
    """Equal, and of the same types all the way down (1 and 1.0 differ here)."""
    if type(left) is not type(right):
        return False
    if isinstance(left, dict):
        return left.keys() == right.keys() and all(same(left[k], right[k]) for k in left)
    if isinstance(left, list):
        return len(left) == len(right) and all(map(same, left, right))
    return left == right


@settings(max_examples=400, deadline=None, derandomize=True)
@given(VALUES, LAYOUTS)
def test_reads_what_the_standard_library_reads(value, layout):
    text = json.dumps(value, **layout).encode()

    assert same(loads(text), json.loads(text))


@settings(max_examples=200, deadline=None, derandomize=True)
@given(VALUES)
def test_writes_text_that_reads_back_the_same(value):
    assert same(json.loads(dumps(value)), value)


@pytest.mark.parametrize("number", [2**64, -(2**63) - 1, 123456789012345678901234567890])
def test_an_integer_past_64_bits_stays_exact(number):
    page = json.dumps([{"details": {"prompts": [{"identity": number}]}}]).encode()

    assert loads(page)[0]["details"]["prompts"][0]["identity"] == number


def test_a_page_of_events_reads_as_the_standard_library_reads_it(emulator):
    user_id = emulator.tenant.user_ids()[0]
    page = json.dumps(emulator.tenant.events_for(user_id)).encode()

    assert same(loads(page), json.loads(page))


def test_what_msgspec_refuses_is_left_to_the_standard_library():
    assert math.isnan(loads(b'{"a": NaN}')["a"])
    assert loads(b"[1e400]") == [math.inf]
    with pytest.raises(ValueError, match="Expecting"):
        loads(b'{"a": ')
