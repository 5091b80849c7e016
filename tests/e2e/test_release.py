"""The release works for someone who never cloned this repository.

The wheel and sdist are built as `make dist` builds them; the wheel goes into a clean venv with
its dependencies from the package index, and Meltano Hub users get the extractor from
meltano-hub.yml with `meltano add ... --from-ref`. Both then extract from the emulator.

Durations on a busy 2-core machine: building ~15 s (once per module); the clean venv ~70 s, of
which ~55 s is pip fetching the dependencies from the index; the Meltano project ~65 s.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tarfile
import venv
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from tests.e2e.meltano_cli import EXTRACTOR, REPO_ROOT, Meltano, MeltanoFailed, find_meltano
from tests.e2e.pipeline import connection_settings
from tests.emulator import Emulator, TenantSpec
from tests.tap_support import advertised_settings

TENANT = TenantSpec(users=3, events_per_user=30, seed=5)
HUB_FILE = REPO_ROOT / "meltano-hub.yml"
# The one place the version is written (tomllib is not in Python 3.10).
VERSION = re.search(
    r'^version = "([^"]+)"$', (REPO_ROOT / "pyproject.toml").read_text(), re.MULTILINE
).group(1)
# Settings of the developer's shell must not reach the tap (nor Meltano) under test.
_FOREIGN = re.compile(r"^(TAP_AUTH0_USERLOGS_|TARGET_|MELTANO_|PYTHONPATH$|VIRTUAL_ENV$)")


@dataclass(frozen=True)
class Dist:
    wheel: Path
    sdist: Path


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Dist:
    """The wheel and sdist, built in an isolated environment and checked by twine."""
    out = tmp_path_factory.mktemp("dist")
    build = [sys.executable, "-m", "build", "--outdir", str(out), str(REPO_ROOT)]
    subprocess.run(build, check=True, capture_output=True, timeout=300)
    (wheel,) = out.glob("*.whl")
    (sdist,) = out.glob("*.tar.gz")
    check = [sys.executable, "-m", "twine", "check", "--strict", str(wheel), str(sdist)]
    subprocess.run(check, check=True, capture_output=True, timeout=120)
    return Dist(wheel, sdist)


def clean_environment(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not _FOREIGN.match(k)}
    env.update(
        MELTANO_CLI_DISABLE_VERSION_CHECK="true",
        MELTANO_SEND_ANONYMOUS_USAGE_STATS="false",
        MELTANO_CLI_LOG_FORMAT="uncolored",
        NO_COLOR="1",
    )
    env.update(extra)
    return env


def emulator_settings(emulator: Emulator, **overrides: str) -> dict[str, str]:
    settings = {
        **connection_settings(emulator),
        "TAP_AUTH0_USERLOGS_USER_IDS": json.dumps(emulator.tenant.user_ids()),
    }
    settings.update(overrides)
    return settings


def record_log_ids(singer_output: str) -> list[str]:
    messages = [json.loads(line) for line in singer_output.splitlines() if line.startswith("{")]
    return [
        m["record"]["log_id"]
        for m in messages
        if m["type"] == "RECORD" and m["stream"] == "user_logs"
    ]


# --------------------------------------------------------------------------- the wheel


@pytest.fixture(scope="module")
def installed(dist: Dist, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A venv holding only the wheel and what it depends on; its `tap-auth0-userlogs`."""
    root = tmp_path_factory.mktemp("clean-venv")
    venv.create(root / "venv", with_pip=True)
    pip = [str(root / "venv" / "bin" / "python"), "-m", "pip", "install", "--quiet"]
    subprocess.run([*pip, str(dist.wheel)], check=True, timeout=600, env=clean_environment())
    return root / "venv" / "bin" / EXTRACTOR


def run_installed(executable: Path, cwd: Path, *args: str, **env: str) -> str:
    done = subprocess.run(
        [str(executable), *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
        cwd=cwd,  # not the repository: nothing may come from the checkout
        env=clean_environment(**env),
    )
    assert done.returncode == 0, done.stderr[-5000:]
    assert "Traceback" not in done.stderr
    return done.stdout


def test_wheel_holds_the_package_and_no_tests(dist: Dist) -> None:
    names = subprocess.run(
        [sys.executable, "-m", "zipfile", "-l", str(dist.wheel)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "tap_auth0_userlogs/tap.py" in names
    assert "tap_auth0_userlogs/events/type_codes.tsv" in names
    assert "tests/" not in names
    assert dist.wheel.name == f"tap_auth0_userlogs-{VERSION}-py3-none-any.whl"


def test_the_license_text_ships_in_the_wheel_and_the_sdist(dist: Dist) -> None:
    license_text = (REPO_ROOT / "LICENSE").read_bytes()
    assert b"Apache License" in license_text
    assert b"Version 2.0, January 2004" in license_text
    dist_info = f"tap_auth0_userlogs-{VERSION}.dist-info"
    with zipfile.ZipFile(dist.wheel) as wheel:
        assert wheel.read(f"{dist_info}/licenses/LICENSE") == license_text
        metadata = wheel.read(f"{dist_info}/METADATA").decode()
    assert "License-Expression: Apache-2.0" in metadata
    assert "License-File: LICENSE" in metadata
    with tarfile.open(dist.sdist) as sdist:
        member = sdist.extractfile(f"tap_auth0_userlogs-{VERSION}/LICENSE")
        assert member is not None
        assert member.read() == license_text


def test_the_sdist_holds_the_docs_pages(dist: Dist) -> None:
    pages = {f"docs/{page.name}" for page in (REPO_ROOT / "docs").glob("*.md")}
    with tarfile.open(dist.sdist) as sdist:
        prefix = f"tap_auth0_userlogs-{VERSION}/"
        names = {name.removeprefix(prefix) for name in sdist.getnames()}

    assert pages
    assert pages <= names


def test_installed_wheel_reports_its_version_and_settings(installed: Path, tmp_path) -> None:
    about = json.loads(run_installed(installed, tmp_path, "--about", "--format=json"))

    assert about["version"] == VERSION
    assert about["settings"]["properties"].keys() == advertised_settings().keys()


def test_installed_wheel_discovers_and_syncs_from_the_emulator(installed: Path, tmp_path) -> None:
    with Emulator(TENANT) as emulator:
        settings = emulator_settings(emulator)
        catalog = json.loads(
            run_installed(installed, tmp_path, "--config", "ENV", "--discover", **settings)
        )
        run_installed(installed, tmp_path, "--config", "ENV", "--test", **settings)
        synced = run_installed(installed, tmp_path, "--config", "ENV", **settings)
        expected = emulator.tenant.expected_log_ids()

    assert {s["tap_stream_id"] for s in catalog["streams"]} == {
        "user_logs",
        "log_event_types",
        "tenant_logs",
    }
    log_ids = record_log_ids(synced)
    assert sorted(log_ids) == sorted(expected)


# --------------------------------------------------------------------------- Meltano Hub


def hub_project(tmp_path: Path) -> tuple[Meltano, Path]:
    """An empty Meltano project, and Meltano running in it."""
    project = tmp_path / "project"
    project.mkdir()
    (project / "meltano.yml").write_text(
        "project_id: tap-auth0-userlogs-hub-test\n"
        "default_environment: dev\n"
        "environments:\n"
        "  - name: dev\n"
    )
    env = clean_environment(MELTANO_ENVIRONMENT="dev")
    return Meltano(find_meltano(), env), project


def in_project(meltano: Meltano, project: Path, *args: str, timeout: float = 240) -> str:
    return meltano("--cwd", str(project), *args, timeout=timeout)


def extractor_of(project: Path) -> dict:
    plugins = yaml.safe_load((project / "meltano.yml").read_text())["plugins"]
    (plugin,) = [p for p in plugins["extractors"] if p["name"] == EXTRACTOR]
    return plugin


def test_hub_definition_gives_every_setting_its_kind_sensitivity_and_description(
    tmp_path: Path,
) -> None:
    meltano, project = hub_project(tmp_path)

    # The command as Meltano Hub users type it.
    in_project(
        meltano, project, "add", "extractor", EXTRACTOR, "--from-ref", str(HUB_FILE), "--no-install"
    )

    plugin = extractor_of(project)
    advertised = advertised_settings()
    settings = {s["name"]: s for s in plugin["settings"]}
    assert settings.keys() == advertised.keys()
    for name, prop in advertised.items():
        assert settings[name]["kind"], name
        assert settings[name]["description"] == " ".join(prop["description"].split()), name
        assert bool(settings[name].get("sensitive")) == bool(prop.get("secret")), name
    assert {n for n, s in settings.items() if s.get("sensitive")} == {
        "access_token",
        "client_secret",
    }
    assert plugin["pip_url"] == EXTRACTOR
    assert plugin["executable"] == EXTRACTOR
    assert plugin["settings_group_validation"] == [
        ["domain", "access_token"],
        ["domain", "client_id", "client_secret"],
    ]

    # Meltano keeps a sensitive setting out of meltano.yml.
    in_project(meltano, project, "config", "set", EXTRACTOR, "client_secret", "hub-test-secret-42")
    assert "hub-test-secret-42" not in (project / "meltano.yml").read_text()
    assert "hub-test-secret-42" in (project / ".env").read_text()


@pytest.fixture(scope="module")
def hub_extractor(dist: Dist, tmp_path_factory: pytest.TempPathFactory) -> tuple[Meltano, Path]:
    """A Meltano project with the extractor added from meltano-hub.yml and installed.

    Its pip_url points at the built wheel instead of the package index, where this version
    is not published yet.
    """
    meltano, project = hub_project(tmp_path_factory.mktemp("hub"))
    in_project(meltano, project, "add", EXTRACTOR, "--from-ref", str(HUB_FILE), "--no-install")
    config = yaml.safe_load((project / "meltano.yml").read_text())
    (plugin,) = config["plugins"]["extractors"]
    plugin["pip_url"] = str(dist.wheel)
    (project / "meltano.yml").write_text(yaml.safe_dump(config, sort_keys=False))
    in_project(meltano, project, "install", "--plugin-type", "extractor", EXTRACTOR, timeout=600)
    return meltano, project


def with_settings(meltano: Meltano, settings: dict[str, str]) -> Meltano:
    return Meltano(meltano.executable, {**meltano.env, **settings})


def test_meltano_config_test_passes_with_good_credentials(hub_extractor) -> None:
    meltano, project = hub_extractor
    with Emulator(TENANT) as emulator:
        out = in_project(
            with_settings(meltano, emulator_settings(emulator)),
            project,
            "config",
            "test",
            EXTRACTOR,
        )

    assert "Plugin configuration is valid" in out


def test_meltano_config_test_fails_on_a_wrong_token_with_the_taps_line(hub_extractor) -> None:
    meltano, project = hub_extractor
    token = "wrong-token-for-meltano-config-test"
    with Emulator(TENANT) as emulator:
        settings = emulator_settings(emulator, TAP_AUTH0_USERLOGS_ACCESS_TOKEN=token)
        with pytest.raises(MeltanoFailed) as failure:
            in_project(with_settings(meltano, settings), project, "config", "test", EXTRACTOR)

    output = str(failure.value)
    assert "Plugin configuration is invalid" in output
    assert "Auth0 refused the token" in output
    assert "'access_token'" in output
    assert token not in output
    assert "Traceback" not in output


def test_meltano_config_test_names_a_missing_scope(hub_extractor) -> None:
    meltano, project = hub_extractor
    with Emulator(TENANT) as emulator:
        token = emulator.issue_token(scopes=["read:users"])
        settings = emulator_settings(emulator, TAP_AUTH0_USERLOGS_ACCESS_TOKEN=token)
        with pytest.raises(MeltanoFailed) as failure:
            in_project(with_settings(meltano, settings), project, "config", "test", EXTRACTOR)

    output = str(failure.value)
    assert "Plugin configuration is invalid" in output
    assert "needs the scope read:logs or read:logs_users" in output
    assert "Traceback" not in output


def test_meltano_config_test_fails_at_once_on_an_unresolvable_domain(hub_extractor) -> None:
    meltano, project = hub_extractor
    settings = {
        "TAP_AUTH0_USERLOGS_DOMAIN": "nosuch.invalid",
        "TAP_AUTH0_USERLOGS_ACCESS_TOKEN": "a-token-for-nowhere",
        "TAP_AUTH0_USERLOGS_USER_IDS": '["auth0|1"]',
    }
    with pytest.raises(MeltanoFailed) as failure:
        in_project(
            with_settings(meltano, settings), project, "config", "test", EXTRACTOR, timeout=60
        )

    output = str(failure.value)
    assert "nosuch.invalid does not resolve" in output
    assert "'domain'" in output
    assert "Retrying" not in output


def test_hub_extractor_extracts_every_event(hub_extractor) -> None:
    meltano, project = hub_extractor
    with Emulator(TENANT) as emulator:
        out = in_project(
            with_settings(meltano, emulator_settings(emulator)), project, "invoke", EXTRACTOR
        )
        expected = emulator.tenant.expected_log_ids()

    assert sorted(record_log_ids(out)) == sorted(expected)
