"""Running Meltano on this repository's meltano.yml, each pipeline with its own system database.

Meltano runs as a subprocess in the repository root, so `meltano install` puts the plugins in
the repository's .meltano/ once per test session. Each pipeline gets its own SQLite system
database (where Meltano keeps state) and all settings come from environment variables. A test
may run another project (a meltano.yml in a temporary folder) on the same installed plugins.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[2]
ENVIRONMENT = "dev"
EXTRACTOR = "tap-auth0-userlogs"
# A run here takes seconds; a stuck one fails with its log well before pytest's own timeout.
RUN_TIMEOUT_SECONDS = 120

# Settings of the developer's own shell (a real tenant, a real warehouse) must not leak in.
_FOREIGN_SETTINGS = re.compile(r"^(TAP_AUTH0_USERLOGS_|TARGET_|MELTANO_|DBT_)")


class MeltanoFailed(AssertionError):
    """A Meltano command exited non-zero; the message carries its output."""


def find_meltano() -> Path:
    """The meltano executable: $MELTANO (set by `make test`), .venv-meltano/, or PATH."""
    candidates = [
        os.environ.get("MELTANO"),
        str(REPO_ROOT / ".venv-meltano" / "bin" / "meltano"),
        shutil.which("meltano"),
    ]
    for candidate in candidates:
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return Path(candidate)
    raise FileNotFoundError(
        "meltano not found: run `make test` (it installs Meltano into .venv-meltano/)"
    )


def base_environment() -> dict[str, str]:
    """This process's environment without Meltano, tap or target settings."""
    env = {k: v for k, v in os.environ.items() if not _FOREIGN_SETTINGS.match(k)}
    env.update(
        MELTANO_ENVIRONMENT=ENVIRONMENT,
        MELTANO_CLI_DISABLE_VERSION_CHECK="true",
        MELTANO_SEND_ANONYMOUS_USAGE_STATS="false",
        MELTANO_CLI_LOG_FORMAT="uncolored",
        NO_COLOR="1",
    )
    return env


@dataclass
class Meltano:
    """One Meltano command line; `env` holds the settings every command of it gets."""

    executable: Path
    env: dict[str, str] = field(default_factory=base_environment)
    project: Path = REPO_ROOT

    def __call__(self, *args: str, timeout: float = 240) -> str:
        """Run `meltano ARGS` in the repository root; its stdout, or MeltanoFailed."""
        return self._exec(args, timeout).stdout

    def _exec(self, args: tuple[str, ...], timeout: float) -> subprocess.CompletedProcess[str]:
        # Its own process group, so a hung tap or target is killed along with Meltano.
        process = subprocess.Popen(
            [str(self.executable), *args],
            cwd=self.project,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        try:
            stdout, stderr = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            stdout, stderr = process.communicate()
            raise MeltanoFailed(
                f"meltano {' '.join(args)} did not finish within {timeout:.0f}s\n"
                f"--- stdout ---\n{stdout[-20000:]}\n--- stderr ---\n{stderr[-20000:]}"
            ) from None
        if process.returncode != 0:
            raise MeltanoFailed(
                f"meltano {' '.join(args)} exited {process.returncode}\n"
                f"--- stdout ---\n{stdout[-20000:]}\n--- stderr ---\n{stderr[-20000:]}"
            )
        return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)

    def pipeline(self, system_db: Path, **settings: Any) -> Meltano:
        """A command line with its own state store and these settings (env var name -> value)."""
        env = dict(self.env)
        env["MELTANO_DATABASE_URI"] = f"sqlite:///{system_db}"
        for name, value in settings.items():
            env[name] = value if isinstance(value, str) else json.dumps(value)
        return Meltano(self.executable, env, self.project)

    def in_project(self, project: Path) -> Meltano:
        """This command line on the meltano.yml in `project`, with this repository's plugins."""
        env = dict(self.env)
        # Meltano's folder of installed plugins, so the other project needs no install.
        env["MELTANO_SYS_DIR_ROOT"] = str(REPO_ROOT / ".meltano")
        return Meltano(self.executable, env, project)

    def run(self, loader: str, extractor: str = EXTRACTOR, *more_blocks: str) -> str:
        """`meltano run EXTRACTOR LOADER [MORE_BLOCKS]`; Meltano's and the plugins' log."""
        done = self._exec(("run", extractor, loader, *more_blocks), timeout=RUN_TIMEOUT_SECONDS)
        return done.stderr + done.stdout

    def state(self, loader: str, extractor: str = EXTRACTOR) -> dict[str, Any]:
        """The Singer state Meltano stored for the pipeline from `extractor` into `loader`."""
        out = self("state", "get", f"{ENVIRONMENT}:{extractor}-to-{loader}")
        return json.loads(out[out.index("{") :])


def user_bookmarks(state: dict[str, Any]) -> dict[str, str]:
    """user_id -> the `date` bookmark, from the user_logs stream's per-user partitions."""
    partitions = state["singer_state"]["bookmarks"]["user_logs"]["partitions"]
    return {p["context"]["user_id"]: p["replication_key_value"] for p in partitions}
