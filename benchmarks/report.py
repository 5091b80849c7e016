"""The table printed for each scenario: one column per run, then its targets and notes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from benchmarks.measure import Figures

LABEL_WIDTH = 30
COLUMN_WIDTH = 19
DASH = "-"


def _count(value: int | None) -> str:
    return DASH if value is None else f"{value:,}"


def _number(value: float | None, digits: int = 1) -> str:
    return DASH if value is None else f"{value:,.{digits}f}"


def percent(value: float | None) -> str:
    """A share as a percentage, or a dash."""
    return DASH if value is None else f"{100 * value:.1f} %"


def _ratio(value: float | None) -> str:
    return DASH if value is None else f"{value:.2f}x"


def _per_minimum(figures: Figures) -> str:
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
    ("users", lambda f, b: _count(f.users)),
    ("events", lambda f, b: _count(f.events)),
    ("requests", lambda f, b: _count(f.requests)),
    ("requests / minimum", lambda f, b: _per_minimum(f)),
    ("wall time, s", lambda f, b: _number(f.wall)),
    ("sync time, s", lambda f, b: _number(f.sync)),
    ("events/s (sync time)", lambda f, b: _number(f.events_per_s, 0)),
    ("requests/s (emulator side)", lambda f, b: _number(f.requests_per_s)),
    ("share of rate limit used", lambda f, b: percent(f.limit_share)),
    ("busiest 10 s, requests/s", lambda f, b: _number(f.busiest_10s)),
    ("429s", lambda f, b: _rate_limited(f)),
    ("peak concurrency", lambda f, b: _count(f.peak_concurrency)),
    ("peak RSS, MB", lambda f, b: _number(f.peak_rss_mb, 0)),
    ("CPU time, s", lambda f, b: _number(f.cpu)),
    ("speed-up vs naive, per user", lambda f, b: _ratio(speedup(f, b))),
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

    def render(self) -> str:
        lines = [f"== {self.title}", f"   {self.conditions}", ""]
        columns = [*self.columns, *([self.baseline] if self.baseline else [])]
        header = "".ljust(LABEL_WIDTH) + "".join(_cell(c.label) for c in columns)
        lines.append(header.rstrip())
        for name, value in ROWS:
            cells = []
            for column in columns:
                if column.ok:
                    cells.append(_cell(value(column, self.baseline)))
                else:
                    # A run that did not happen or failed: its status once, then blanks.
                    cells.append(_cell(_status_cell(column) if name == ROWS[0][0] else ""))
            lines.append((f"   {name}".ljust(LABEL_WIDTH) + "".join(cells)).rstrip())
        notes = [*self.notes]
        for column in columns:
            if not column.ok and column.status != "not available yet":
                notes.append(f"{column.label}: {column.status}")
            notes.extend(f"{column.label}: {note}" for note in column.notes)
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
