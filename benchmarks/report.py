"""The table printed for each scenario: one column per run, then its targets and notes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from benchmarks import completeness
from benchmarks.measure import Figures

LABEL_WIDTH = 30
COLUMN_WIDTH = 19
DASH = "-"


def count(value: int | None) -> str:
    """A count with thousands separators, or a dash."""
    return DASH if value is None else f"{value:,}"


def number(value: float | None, digits: int = 1) -> str:
    """A figure to ``digits`` decimals, or a dash."""
    return DASH if value is None else f"{value:,.{digits}f}"


def percent(value: float | None) -> str:
    """A share as a percentage, or a dash."""
    return DASH if value is None else f"{100 * value:.1f} %"


def days(count: float) -> str:
    """``1 day``, ``30 days``."""
    return f"{count:g} day" + ("" if count == 1 else "s")


def _ratio(value: float | None) -> str:
    return DASH if value is None else f"{value:.2f}x"


def per_minimum(figures: Figures) -> str:
    """Requests as a multiple of the fewest the run could have made."""
    if figures.requests is None or not figures.minimum:
        return DASH
    return f"{figures.requests / figures.minimum:.2f} (min {figures.minimum:,})"


def _rate_limited(figures: Figures) -> str:
    if figures.rate_limited is None:
        return DASH
    if not figures.requests:
        return f"{figures.rate_limited:,}"
    return f"{figures.rate_limited:,} ({100 * figures.rate_limited / figures.requests:.1f} %)"


def speedup(figures: Figures, baseline: Figures | None) -> float | None:
    """How many times faster than the naive baseline the sync was, per user synced."""
    if baseline is None or figures is baseline:
        return None
    if not (baseline.sync and baseline.users and figures.sync and figures.users):
        return None
    return (baseline.sync / baseline.users) / (figures.sync / figures.users)


Row = tuple[str, Callable[[Figures, Figures | None], str]]
ROWS: list[Row] = [
    ("users", lambda f, b: count(f.users)),
    ("events", lambda f, b: count(f.events)),
    ("requests", lambda f, b: count(f.requests)),
    ("requests / minimum", lambda f, b: per_minimum(f)),
    ("wall time, s", lambda f, b: number(f.wall)),
    ("sync time, s", lambda f, b: number(f.sync)),
    ("events/s (sync time)", lambda f, b: number(f.events_per_s, 0)),
    ("requests/s (emulator side)", lambda f, b: number(f.requests_per_s)),
    ("share of rate limit used", lambda f, b: percent(f.limit_share)),
    ("busiest 10 s, requests/s", lambda f, b: number(f.busiest_10s)),
    ("429s", lambda f, b: _rate_limited(f)),
    ("peak concurrency", lambda f, b: count(f.peak_concurrency)),
    ("peak RSS, MB", lambda f, b: number(f.peak_rss_mb, 0)),
    ("CPU time, s", lambda f, b: number(f.cpu)),
    ("speed-up vs naive, per user", lambda f, b: _ratio(speedup(f, b))),
]


def _of(found: dict[str, Any] | None, part: str, whole: str) -> str:
    if found is None or part not in found:
        return DASH
    return f"{found[part]:,} / {found[whole]:,}"


def _found(figures: Figures, tally: Callable[[dict[str, Any]], int]) -> str:
    found = figures.completeness
    return DASH if found is None else count(tally(found))


def _endpoints(figures: Figures, *names: str) -> str:
    if figures.by_endpoint is None:
        return DASH
    return f"{sum(figures.by_endpoint.get(name, 0) for name in names):,}"


def _binding_share(figures: Figures) -> str:
    shares = figures.bucket_shares
    if not shares:
        return DASH
    name = max(shares, key=lambda bucket: shares[bucket])
    return f"{percent(shares[name])} ({name})"


def time_ratio(figures: Figures) -> float | None:
    """How many times as long the baseline this run is set against took (sync times)."""
    baseline = figures.versus
    if baseline is None or not baseline.ok or not (baseline.sync and figures.sync):
        return None
    return baseline.sync / figures.sync


# The rows of scenarios that discover users and check every event against the tenant.
COMPLETENESS_ROWS: list[Row] = [
    ("users found / in tenant", lambda f, b: _of(f.completeness, "users_found", "users")),
    (
        "  with events / with events",
        lambda f, b: _of(f.completeness, "users_with_events_found", "users_with_events"),
    ),
    ("events delivered / expected", lambda f, b: _of(f.completeness, "found", "expected")),
    ("events missed", lambda f, b: _found(f, lambda found: found["missing"])),
    ("events not expected", lambda f, b: _found(f, completeness.extra)),
    ("requests", lambda f, b: count(f.requests)),
    ("  /users/{id}/logs", lambda f, b: _endpoints(f, "user_logs")),
    ("  /logs (search, checkpoint)", lambda f, b: _endpoints(f, "logs")),
    ("  /users (search)", lambda f, b: _endpoints(f, "users", "user")),
    ("  /jobs (user export)", lambda f, b: _endpoints(f, "jobs", "export")),
    ("wall time, s", lambda f, b: number(f.wall)),
    ("sync time, s", lambda f, b: number(f.sync)),
    ("requests/s (emulator side)", lambda f, b: number(f.requests_per_s)),
    ("share of rate limit used", lambda f, b: _binding_share(f)),
    ("busiest 10 s, requests/s", lambda f, b: number(f.busiest_10s)),
    ("429s", lambda f, b: _rate_limited(f)),
    ("peak concurrency", lambda f, b: count(f.peak_concurrency)),
    ("baseline's time / this", lambda f, b: _ratio(time_ratio(f))),
]


@dataclass
class Target:
    """A figure the issue asks for, what was measured, and whether it is met."""

    text: str
    measured: str
    met: bool | None  # None: not judged (not available yet, or only reported)
    verdict: str = ""

    @classmethod
    def unmeasured(cls, text: str, run: Figures) -> Target:
        """The target of a run that did not happen (setting not available yet) or failed."""
        return cls(text, run.status, None, _status_cell(run))

    def status(self) -> str:
        if self.verdict:
            return self.verdict
        if self.met is None:
            return "reported"
        return "met" if self.met else "MISSED"


@dataclass
class Report:
    """What one scenario prints."""

    title: str
    conditions: str
    columns: list[Figures] = field(default_factory=list)
    baseline: Figures | None = None
    targets: list[Target] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    rows: list[Row] = field(default_factory=lambda: ROWS)

    def failed_runs(self) -> list[str]:
        """The labels of runs that failed (a run of a setting not available yet did not)."""
        columns = [*self.columns, *([self.baseline] if self.baseline else [])]
        return [c.label for c in columns if c.status.startswith("failed")]

    def render(self) -> str:
        lines = [f"== {self.title}", f"   {self.conditions}", ""]
        columns = [*self.columns, *([self.baseline] if self.baseline else [])]
        header = "".ljust(LABEL_WIDTH) + "".join(_cell(c.label) for c in columns)
        lines.append(header.rstrip())
        for name, value in self.rows:
            cells = []
            for column in columns:
                if column.ok:
                    cells.append(_cell(value(column, self.baseline)))
                else:
                    # A run that did not happen or failed: its status once, then blanks.
                    first = name == self.rows[0][0]
                    cells.append(_cell(_status_cell(column) if first else ""))
            lines.append((f"   {name}".ljust(LABEL_WIDTH) + "".join(cells)).rstrip())
        notes = [*self.notes]
        for column in columns:
            if not column.ok and column.status != "not available yet":
                notes.append(f"{column.label}: {column.status}")
            notes.extend(f"{column.label}: {note}" for note in column.notes)
            if column.completeness is not None:
                found = completeness.describe(
                    column.completeness, stopped=column.stopped_after is not None
                )
                notes.extend(f"{column.label}: {note}" for note in found)
        if notes:
            lines.append("")
            lines.extend(f"   * {note}" for note in notes)
        if self.targets:
            lines.append("")
            lines.append("   Targets")
            width = max(len(t.text) for t in self.targets)
            for target in self.targets:
                lines.append(
                    f"   [{target.status()}] ".ljust(23)
                    + f"{target.text.ljust(width)}  {target.measured}"
                )
        return "\n".join(lines) + "\n"


def _cell(text: str) -> str:
    return text.rjust(COLUMN_WIDTH - 1)[: COLUMN_WIDTH - 1].rjust(COLUMN_WIDTH)


def _status_cell(column: Figures) -> str:
    return column.status if column.status == "not available yet" else "failed"
