"""Every relative link and #anchor in the documentation leads somewhere.

A link's file must exist, and its anchor must be a heading of the target as GitHub makes
anchors from headings. Links to http(s) addresses are not followed (no machine here reaches
the internet).
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import pytest

from tests.tap_support import REPO_ROOT

TOP_LEVEL = ["README.md", "ARCHITECTURE.md", "CHANGELOG.md"]
DOCUMENTS = sorted([*(REPO_ROOT / name for name in TOP_LEVEL), *(REPO_ROOT / "docs").glob("*.md")])
FENCE = re.compile(r"^ {0,3}(```|~~~)")
HEADING = re.compile(r"^ {0,3}(#{1,6})\s+(.*?)(?:\s+#+)?\s*$")
CODE_SPAN = re.compile(r"(`+)(?!`).*?(?<!`)\1(?!`)")
# [text](target "title") and ![alt](target); reference definitions `[label]: target`.
INLINE_LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]*)>?(?:\s+\"[^\"]*\")?\s*\)")
REFERENCE = re.compile(r"^ {0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)")
EXTERNAL = re.compile(r"^(?:[a-z][a-z0-9+.-]*:|//)", re.IGNORECASE)


def prose_lines(text: str) -> list[str]:
    """The document's lines outside fenced code blocks (code spans are left to the callers)."""
    lines, fenced = [], None
    for line in text.splitlines():
        fence = FENCE.match(line)
        if fence and (fenced is None or fence.group(1) == fenced):
            fenced = fence.group(1) if fenced is None else None
            continue
        if fenced is None:
            lines.append(line)
    return lines


def github_slug(heading: str) -> str:
    """The anchor GitHub gives a heading: its text in lower case, punctuation dropped except
    `-` and `_`, each space a `-`."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link's text only
    text = re.sub(r"<[^>]+>", "", text).replace("`", "").strip().lower()
    kept = (
        c
        for c in text
        if c in " -_" or unicodedata.category(c)[0] in "LNM"  # letters, numbers, marks
    )
    return "".join(kept).replace(" ", "-")


def anchors(text: str) -> set[str]:
    """Every heading's anchor; repeated headings get `-1`, `-2`, ... as on GitHub."""
    seen: set[str] = set()
    for line in prose_lines(text):
        match = HEADING.match(line)
        if not match:
            continue
        slug = base = github_slug(match.group(2))
        count = 0
        while slug in seen:
            count += 1
            slug = f"{base}-{count}"
        seen.add(slug)
    return seen


def link_targets(text: str) -> list[str]:
    """The targets of the document's links, outside code blocks and code spans."""
    targets = []
    for line in prose_lines(text):
        prose = CODE_SPAN.sub("", line)
        targets += INLINE_LINK.findall(prose)
        reference = REFERENCE.match(prose)
        if reference:
            targets.append(reference.group(1))
    return targets


def broken_links(document: Path) -> list[str]:
    """Each relative link of `document` whose file or heading does not exist, and why."""
    broken = []
    for target in link_targets(document.read_text()):
        if not target or EXTERNAL.match(target):
            continue
        path, _, anchor = target.partition("#")
        linked = (document.parent / path).resolve() if path else document
        if not linked.exists():
            broken.append(f"{target}: no file {linked}")
        elif anchor and linked.suffix != ".md":
            broken.append(f"{target}: an anchor into a file that is not Markdown")
        elif anchor and anchor not in anchors(linked.read_text()):
            broken.append(f"{target}: no heading of {linked.name} has the anchor #{anchor}")
    return broken


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda p: str(p.relative_to(REPO_ROOT)))
def test_every_relative_link_and_anchor_leads_somewhere(document: Path) -> None:
    assert broken_links(document) == []


def test_the_readme_links_every_docs_page() -> None:
    linked = {
        (REPO_ROOT / target.partition("#")[0]).resolve()
        for target in link_targets((REPO_ROOT / "README.md").read_text())
        if target.startswith("docs/")
    }

    assert set((REPO_ROOT / "docs").glob("*.md")) <= linked
    assert len(linked) >= 4  # many tenants, performance, reliability, development at least


def test_anchors_are_made_as_github_makes_them() -> None:
    text = "\n".join(
        [
            "# Auth0's limits and what the tap does about them",
            "## Check the settings first: `--test`",
            "## How a run reads: per user, or one pass over the tenant's log",
            "### Existing warehouses keyed on log_id",
            "## Notes",
            "```sh",
            "# Notes (a shell comment, not a heading)",
            "```",
            "## Notes",
            "## Notes",
        ]
    )

    assert anchors(text) == {
        "auth0s-limits-and-what-the-tap-does-about-them",
        "check-the-settings-first---test",
        "how-a-run-reads-per-user-or-one-pass-over-the-tenants-log",
        "existing-warehouses-keyed-on-log_id",
        "notes",
        "notes-1",
        "notes-2",
    }


def test_a_missing_file_or_heading_is_reported(tmp_path: Path) -> None:
    (tmp_path / "other.md").write_text("# Other\n\n## A section\n")
    document = tmp_path / "doc.md"
    document.write_text(
        "\n".join(
            [
                "# Doc",
                "[fine](other.md#a-section) [fine too](#doc) [web](https://example.com/x#y)",
                "[no file](missing.md) [no heading](other.md#no-such-section)",
                "`[in a code span](missing.md)`",
                "```",
                "[in a code block](missing.md)",
                "```",
                "[ref]: #nowhere",
            ]
        )
    )

    assert [line.split(":")[0] for line in broken_links(document)] == [
        "missing.md",
        "other.md#no-such-section",
        "#nowhere",
    ]
