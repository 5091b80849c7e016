"""The subset of Lucene query syntax Auth0 accepts in ``q`` for /api/v2/logs and /api/v2/users.

Supported: ``field:value`` and ``field:"quoted value"`` (``*`` wildcards in bare values),
ranges ``field:[a TO b]`` (inclusive), ``{a TO b}`` (exclusive), mixed brackets and ``*`` open
ends, ``AND``/``&&``, ``OR``/``||``, ``NOT``/``-``, parentheses. AND binds tighter than OR and
two clauses with no operator between them are OR'ed, as in Lucene. Dotted fields reach into
objects and lists (``identities.connection``). Date bounds may omit the time of day, which then
means midnight UTC.
"""

from __future__ import annotations

import fnmatch
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tests.emulator.timestamps import parse_time

Record = dict[str, Any]
_DATE_PREFIX = re.compile(r"\d{4}-\d{2}-\d{2}")


class QuerySyntaxError(ValueError):
    """``q`` is not in the supported syntax."""


@dataclass(frozen=True)
class Term:
    field: str
    value: str
    quoted: bool


@dataclass(frozen=True)
class Bound:
    text: str
    number: float | None
    timestamp: float | None

    @classmethod
    def of(cls, text: str) -> Bound:
        try:
            number: float | None = float(text)
        except ValueError:
            number = None
        return cls(text, number, _timestamp(text) if _DATE_PREFIX.match(text) else None)


@dataclass(frozen=True)
class Range:
    field: str
    low: Bound | None  # None: open end (*)
    high: Bound | None
    low_inclusive: bool
    high_inclusive: bool


@dataclass(frozen=True)
class And:
    left: Node
    right: Node


@dataclass(frozen=True)
class Or:
    left: Node
    right: Node


@dataclass(frozen=True)
class Not:
    operand: Node


Node = Term | Range | And | Or | Not


def _timestamp(text: str) -> float | None:
    try:
        return parse_time(text).timestamp()
    except ValueError:
        return None


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def fail(self, why: str) -> QuerySyntaxError:
        return QuerySyntaxError(f"{why} at position {self.pos} in {self.text!r}")

    def skip_space(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos].isspace():
            self.pos += 1

    def at_end(self) -> bool:
        self.skip_space()
        return self.pos >= len(self.text)

    def keyword(self, *words: str) -> bool:
        """Consume one of ``words`` if it stands next, as a whole word."""
        self.skip_space()
        for word in words:
            end = self.pos + len(word)
            if self.text.startswith(word, self.pos):
                if (
                    word.isalpha()
                    and end < len(self.text)
                    and not (self.text[end].isspace() or self.text[end] == "(")
                ):
                    continue
                self.pos = end
                return True
        return False

    def parse(self) -> Node:
        node = self.parse_or()
        if not self.at_end():
            raise self.fail("unexpected text")
        return node

    def parse_or(self) -> Node:
        node = self.parse_and()
        while not self.at_end() and self.text[self.pos] != ")":
            self.keyword("OR", "||")
            node = Or(node, self.parse_and())
        return node

    def parse_and(self) -> Node:
        node = self.parse_not()
        while self.keyword("AND", "&&"):
            node = And(node, self.parse_not())
        return node

    def parse_not(self) -> Node:
        if self.keyword("NOT", "-", "!"):
            return Not(self.parse_not())
        return self.parse_primary()

    def parse_primary(self) -> Node:
        if self.at_end():
            raise self.fail("expected a clause")
        if self.text[self.pos] == "(":
            self.pos += 1
            node = self.parse_or()
            if not self.keyword(")"):
                raise self.fail("expected ')'")
            return node
        match = re.compile(r"[\w.$@-]+").match(self.text, self.pos)
        if match is None or not self.text.startswith(":", match.end()):
            raise self.fail("expected field:value")
        field = match.group()
        self.pos = match.end() + 1
        if self.pos < len(self.text) and self.text[self.pos] in "[{":
            return self.parse_range(field)
        if self.pos < len(self.text) and self.text[self.pos] == '"':
            return Term(field, self.quoted(), quoted=True)
        value = self.bare(stop=")")
        if not value:
            raise self.fail(f"missing value for {field}")
        return Term(field, value, quoted=False)

    def parse_range(self, field: str) -> Range:
        low_inclusive = self.text[self.pos] == "["
        self.pos += 1
        low = self.bound()
        if not self.keyword("TO"):
            raise self.fail("expected TO in range")
        high = self.bound()
        self.skip_space()
        if self.pos >= len(self.text) or self.text[self.pos] not in "]}":
            raise self.fail("expected ']' or '}'")
        high_inclusive = self.text[self.pos] == "]"
        self.pos += 1
        return Range(field, low, high, low_inclusive, high_inclusive)

    def bound(self) -> Bound | None:
        self.skip_space()
        if self.pos < len(self.text) and self.text[self.pos] == '"':
            return Bound.of(self.quoted())
        text = self.bare(stop="]}")
        if not text:
            raise self.fail("missing range bound")
        return None if text == "*" else Bound.of(text)

    def quoted(self) -> str:
        self.pos += 1
        out: list[str] = []
        while self.pos < len(self.text):
            char = self.text[self.pos]
            if char == "\\" and self.pos + 1 < len(self.text):
                out.append(self.text[self.pos + 1])
                self.pos += 2
                continue
            self.pos += 1
            if char == '"':
                return "".join(out)
            out.append(char)
        raise self.fail("unterminated quote")

    def bare(self, stop: str) -> str:
        out: list[str] = []
        while self.pos < len(self.text):
            char = self.text[self.pos]
            if char.isspace() or char in stop:
                break
            if char == "\\" and self.pos + 1 < len(self.text):
                char = self.text[self.pos + 1]
                self.pos += 1
            out.append(char)
            self.pos += 1
        return "".join(out)


def parse(text: str) -> Node | None:
    """The query tree of ``text``; None for an empty query (which matches everything)."""
    if not text.strip():
        return None
    return _Parser(text).parse()


def values_at(record: Record, path: str) -> list[Any]:
    """Every value at a dotted ``path``, descending into lists."""
    current: list[Any] = [record]
    for part in path.split("."):
        found: list[Any] = []
        for item in current:
            if isinstance(item, dict) and part in item:
                value = item[part]
                found.extend(value if isinstance(value, list) else [value])
        current = found
    return current


def _as_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _term_matches(term: Term, value: Any) -> bool:
    if value is None:
        return False
    text = _as_text(value)
    if not term.quoted and ("*" in term.value or "?" in term.value):
        return fnmatch.fnmatchcase(text, term.value)
    return text == term.value


def _compare(value: Any, bound: Bound) -> float | None:
    """Sign of value - bound, or None when they cannot be compared."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        if bound.number is None:
            return None
        return float(value) - bound.number
    if isinstance(value, str):
        if bound.timestamp is not None and _DATE_PREFIX.match(value):
            stamp = _timestamp(value)
            return None if stamp is None else stamp - bound.timestamp
        return (value > bound.text) - (value < bound.text)
    return None


def _in_range(node: Range, value: Any) -> bool:
    if value is None:
        return False
    if node.low is not None:
        sign = _compare(value, node.low)
        if sign is None or sign < 0 or (sign == 0 and not node.low_inclusive):
            return False
    if node.high is not None:
        sign = _compare(value, node.high)
        if sign is None or sign > 0 or (sign == 0 and not node.high_inclusive):
            return False
    return True


def matches(node: Node | None, record: Record) -> bool:
    """Whether ``record`` satisfies the query tree ``node``."""
    if node is None:
        return True
    if isinstance(node, Term):
        return any(_term_matches(node, v) for v in values_at(record, node.field))
    if isinstance(node, Range):
        return any(_in_range(node, v) for v in values_at(record, node.field))
    if isinstance(node, And):
        return matches(node.left, record) and matches(node.right, record)
    if isinstance(node, Or):
        return matches(node.left, record) or matches(node.right, record)
    return not matches(node.operand, record)


def matcher(node: Node | None) -> Callable[[Record], bool]:
    return lambda record: matches(node, record)


def exact_values(node: Node | None, field: str) -> set[str] | None:
    """The only values ``field`` can take in a match, if the query pins them; else None.

    Lets a search for one user's events start from that user's events instead of all of them.
    """
    if isinstance(node, Term):
        exact = node.quoted or not ("*" in node.value or "?" in node.value)
        return {node.value} if node.field == field and exact else None
    if isinstance(node, And):
        left, right = exact_values(node.left, field), exact_values(node.right, field)
        if left is None or right is None:
            return left if right is None else right
        return left & right
    if isinstance(node, Or):
        left, right = exact_values(node.left, field), exact_values(node.right, field)
        return None if left is None or right is None else left | right
    return None


def date_window(node: Node | None, field: str = "date") -> tuple[float, float] | None:
    """Epoch seconds ``field`` must lie within (inclusive) in a match, if the query pins it.

    A superset is fine: it only narrows which events a search looks at, the match decides.
    """
    if isinstance(node, Range) and node.field == field:
        low = -math.inf if node.low is None else node.low.timestamp
        high = math.inf if node.high is None else node.high.timestamp
        return None if low is None or high is None else (low, high)
    if isinstance(node, And):
        left, right = date_window(node.left, field), date_window(node.right, field)
        if left is None or right is None:
            return left if right is None else right
        return max(left[0], right[0]), min(left[1], right[1])
    if isinstance(node, Or):
        left, right = date_window(node.left, field), date_window(node.right, field)
        if left is None or right is None:
            return None
        return min(left[0], right[0]), max(left[1], right[1])
    return None
