"""Query parameters with Auth0's validation rules: paging, the 1,000-result cap, sort, booleans."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass

from tests.emulator.errors import MAX_RESULTS, bad_query, paging_cap

DEFAULT_PER_PAGE = 50
MAX_PER_PAGE = 100


@dataclass(frozen=True)
class Paging:
    page: int
    per_page: int

    @property
    def start(self) -> int:
        return self.page * self.per_page

    @property
    def limit(self) -> int:
        """Results on this page, never reaching past the 1,000th."""
        return min(self.per_page, MAX_RESULTS - self.start)


def parse_int(query: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = query.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise bad_query(f"{name} must be an integer, got {raw!r}") from None
    if not low <= value <= high:
        raise bad_query(f"{name} must be between {low} and {high}, got {value}")
    return value


def parse_paging(query: Mapping[str, str], *, paging_needs_per_page: bool) -> Paging:
    """page/per_page; with ``paging_needs_per_page``, ``page`` alone is ignored, as Auth0 does."""
    per_page = parse_int(query, "per_page", DEFAULT_PER_PAGE, 1, MAX_PER_PAGE)
    page = parse_int(query, "page", 0, 0, 2**31 - 1)
    if paging_needs_per_page and "per_page" not in query:
        page = 0
    if page * per_page >= MAX_RESULTS:
        raise paging_cap(page)
    return Paging(page, per_page)


def parse_bool(query: Mapping[str, str], name: str, default: bool = False) -> bool:
    raw = query.get(name)
    if raw is None:
        return default
    if raw.lower() in ("true", "1"):
        return True
    if raw.lower() in ("false", "0"):
        return False
    raise bad_query(f"{name} must be true or false, got {raw!r}")


def parse_sort(
    query: Mapping[str, str], allowed: Collection[str], default: tuple[str, bool]
) -> tuple[str, bool]:
    """``sort=field:1`` (ascending) or ``field:-1`` (descending) -> (field, descending)."""
    raw = query.get("sort")
    if raw is None:
        return default
    field, _, direction = raw.partition(":")
    if field not in allowed or direction not in ("1", "-1"):
        raise bad_query(
            f"sort must be field:1 or field:-1 with field one of {', '.join(sorted(allowed))}"
        )
    return field, direction == "-1"


def parse_fields(query: Mapping[str, str]) -> tuple[set[str] | None, bool]:
    """``fields`` (comma-separated) and ``include_fields`` (default true)."""
    raw = query.get("fields")
    fields = {f.strip() for f in raw.split(",") if f.strip()} if raw else None
    return fields, parse_bool(query, "include_fields", default=True)
