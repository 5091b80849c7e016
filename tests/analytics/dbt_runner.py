"""dbt itself, from the venv Meltano installed for the dbt-duckdb or dbt-postgres plugin.

Tests call dbt directly (no Meltano start-up per command) with the same project, profiles and
environment variables the plugins set, and keep dbt's target/ and logs/ in a folder of their
own so that runs never share state with the developer's or with each other.
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.e2e.meltano_cli import REPO_ROOT, base_environment

PROJECT_DIR = REPO_ROOT / "transform"
PLUGINS = {"duckdb": "dbt-duckdb", "postgres": "dbt-postgres"}
RUN_TIMEOUT_SECONDS = 240


class DbtFailed(AssertionError):
    """dbt exited non-zero; the message carries the end of its output."""


def dbt_executable(adapter: str) -> Path:
    """The dbt that `meltano install` put into the plugin's venv."""
    executable = REPO_ROOT / ".meltano" / "utilities" / PLUGINS[adapter] / "venv" / "bin" / "dbt"
    if not executable.is_file():
        raise FileNotFoundError(f"{executable} missing: `meltano install` installs it")
    return executable


@dataclass
class RunResults:
    """What one dbt command did: node unique_id -> status, and its output."""

    statuses: dict[str, str]
    output: str

    def with_status(self, status: str) -> list[str]:
        return sorted(node for node, s in self.statuses.items() if s == status)


@dataclass
class Dbt:
    """dbt for one warehouse: `dbt("build")` runs `dbt build` and returns its RunResults."""

    adapter: str
    work_dir: Path
    settings: dict[str, Any] = field(default_factory=dict)

    @property
    def target_dir(self) -> Path:
        return self.work_dir / "target"

    def env(self) -> dict[str, str]:
        env = base_environment()
        env.update(
            DBT_PROJECT_DIR=str(PROJECT_DIR),
            DBT_PROFILES_DIR=str(PROJECT_DIR / "profiles"),
            DBT_TARGET=self.adapter,
            DBT_TARGET_PATH=str(self.target_dir),
            DBT_LOG_PATH=str(self.work_dir / "logs"),
        )
        env.update({name: str(value) for name, value in self.settings.items()})
        return env

    def compiled_sql(self, model: str) -> str:
        """The SQL the last command compiled for `model`."""
        (path,) = (self.target_dir / "compiled").rglob(f"{model}.sql")
        return path.read_text()

    def __call__(self, *args: str) -> RunResults:
        done = subprocess.run(
            [str(dbt_executable(self.adapter)), *args],
            cwd=REPO_ROOT,
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=RUN_TIMEOUT_SECONDS,
            check=False,
        )
        output = done.stdout + done.stderr
        if done.returncode != 0:
            raise DbtFailed(f"dbt {' '.join(args)} exited {done.returncode}\n{output[-20000:]}")
        results_file = self.target_dir / "run_results.json"
        results = json.loads(results_file.read_text()) if results_file.exists() else {}
        statuses = {r["unique_id"]: r["status"] for r in results.get("results", [])}
        return RunResults(statuses, output)
