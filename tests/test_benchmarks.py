"""`make bench` must work from a fresh clone: its imports are declared, every scenario runs.

The benchmarks are figures, not tests, and take about 15 minutes; here each scenario runs at a
tiny size (`python -m benchmarks --tiny`) only to prove that it still runs to its report, so a
change that breaks a benchmark fails CI instead of the next person measuring. Nothing here
looks at the figures' values.
"""

from __future__ import annotations

import ast
import importlib
import importlib.metadata
import re
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks.__main__ import SCENARIOS
from benchmarks.measure import run_measured

REPO_ROOT = Path(__file__).resolve().parent.parent
BENCHMARKS = REPO_ROOT / "benchmarks"
# The repository's own packages, importable from its root as `make bench` runs.
LOCAL = {"benchmarks", "tests", "tap_auth0_userlogs"}
# The tiny run's bound on any one sync, so that a hung run fails well within the test timeout.
SYNC_TIMEOUT_SECONDS = 60


def normalized(name: str) -> str:
    """A distribution name as PyPI compares them (PEP 503)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def declared_distributions() -> set[str]:
    """The package's dependencies and those of every dependency group of pyproject.toml."""
    tomllib = pytest.importorskip("tomllib", reason="pyproject.toml is read with Python 3.11+")
    pyproject = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())
    requirements = list(pyproject["project"]["dependencies"])
    for group in pyproject.get("dependency-groups", {}).values():
        requirements += [item for item in group if isinstance(item, str)]  # not include-group
    return {normalized(re.match(r"[A-Za-z0-9._-]+", r)[0]) for r in requirements}


def imported_modules(path: Path) -> set[str]:
    """The top-level names of every absolute import in ``path``."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found


def test_benchmarks_import_only_the_standard_library_and_declared_dependencies():
    declared = declared_distributions()
    providers = importlib.metadata.packages_distributions()
    undeclared = {}
    for path in sorted(BENCHMARKS.glob("*.py")):
        for module in imported_modules(path) - LOCAL - set(sys.stdlib_module_names):
            # Installed as a dependency of a dependency is not declared: a fresh clone may
            # not have it (orjson left the dependencies and broke `make bench`).
            if not declared & {normalized(d) for d in providers.get(module, [])}:
                undeclared.setdefault(path.name, []).append(module)
    assert undeclared == {}


def test_the_import_check_sees_an_undeclared_module(tmp_path):
    # The check above would pass on a module list it cannot read: make sure it reads one.
    sample = tmp_path / "sample.py"
    sample.write_text("import orjson\nfrom urllib3 import util\nfrom . import sibling\n")
    assert imported_modules(sample) == {"orjson", "urllib3"}


@pytest.mark.parametrize("path", sorted(BENCHMARKS.glob("*.py")), ids=lambda path: path.stem)
def test_every_benchmark_module_imports(path):
    # The tiny run below runs the scenarios; this reaches the tools run by hand too
    # (`benchmarks.sdk_writer`), whose imports of the tap's modules a move would break.
    importlib.import_module(f"benchmarks.{path.stem}")


def test_a_measured_process_reports_its_own_peak_memory(tmp_path):
    # Linux charges a program with the peak memory of the process that exec'd it: started
    # straight from a benchmark that once held 200 MB, a small child would report 200 MB.
    held = b"\x01" * (200 * 1024 * 1024)  # written, so every page is resident
    child = [sys.executable, "-c", "pass"]
    run = run_measured(child, stdout=None, stderr=tmp_path / "stderr.log", timeout=60)
    assert run.returncode == 0
    assert run.peak_rss_mb < 100
    assert run.cpu > 0
    assert len(held) == 200 * 1024 * 1024  # held until the child has run


def test_every_scenario_runs_to_its_report_at_a_tiny_size():
    command = [
        sys.executable, "-m", "benchmarks", "--tiny", "--timeout", str(SYNC_TIMEOUT_SECONDS)
    ]  # fmt: skip
    done = subprocess.run(
        command, cwd=REPO_ROOT, capture_output=True, text=True, timeout=170, check=False
    )
    output = done.stdout + done.stderr
    assert "the benchmark itself failed" not in output, output
    assert "Failed:" not in output, output
    assert done.returncode == 0, output
    for name in SCENARIOS:
        # Printed once every report of the scenario is: it ran to the end.
        assert f"   ({name} took " in done.stdout, f"{name} did not finish:\n{output}"
    reports = re.findall(r"^== .+$", done.stdout, flags=re.MULTILINE)
    assert len(reports) >= len(SCENARIOS), done.stdout
