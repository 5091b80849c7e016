"""The contract with singer-sdk's private API: each hook the tap relies on is still there, and used.

A failure names the hook; tap_auth0_userlogs/sdk_compat.py is the one module to adapt.
"""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import pytest

from tap_auth0_userlogs.singer import sdk_compat
from tap_auth0_userlogs.singer.streams import UserLogsStream
from tap_auth0_userlogs.tap import TapAuth0UserLogs
from tests.emulator import TenantSpec
from tests.tap_support import run_sync, tap_config

PACKAGE = Path(sdk_compat.__file__).parent
HOOKS = [
    (cls, name, params) for cls, names in sdk_compat.HOOKS.items() for name, params in names.items()
]


@pytest.fixture(scope="module")
def tap() -> TapAuth0UserLogs:
    return TapAuth0UserLogs(
        config={"domain": "acme.us.auth0.com", "access_token": "x" * 20, "user_ids": ["auth0|a"]},
        setup_mapper=False,
    )


@pytest.mark.parametrize(
    ("cls", "name", "params"), HOOKS, ids=[f"{c.__name__}.{n}" for c, n, _ in HOOKS]
)
def test_the_hook_is_still_there(tap, cls, name, params):
    owner = tap if cls.__name__ == "Tap" else tap.streams["user_logs"]
    assert isinstance(owner, cls)
    found = inspect.getattr_static(owner, name, None)
    if found is None:
        found = owner.__dict__.get(name, inspect.getattr_static(type(owner), name, None))
    assert found is not None or name in vars(owner), f"singer-sdk's {cls.__name__} has no {name}"
    if params is not None:
        sdk_method = getattr(cls, name)
        got = tuple(inspect.signature(sdk_method).parameters)
        assert got == params, f"singer-sdk's {cls.__name__}.{name} now takes {got}"


def test_no_other_module_touches_the_private_api():
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        if path.name == "sdk_compat.py":
            continue
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and _imports_private_sdk(node):
                offenders.append(f"{path.name}: from {node.module} import ...")
            private = {
                name for names in sdk_compat.HOOKS.values() for name in names if name[0] == "_"
            }
            if isinstance(node, ast.Attribute) and node.attr in private:
                offenders.append(f"{path.name}:{node.lineno}: .{node.attr}")
            if isinstance(node, ast.FunctionDef) and node.name in private:
                offenders.append(f"{path.name}:{node.lineno}: def {node.name}")
    assert offenders == []


def _imports_private_sdk(node: ast.ImportFrom) -> bool:
    module = node.module or ""
    return module.startswith("singer_sdk") and (
        any(part.startswith("_") for part in module.split("."))
        or any(alias.name.startswith("_") for alias in node.names)
    )


def test_singer_sdk_still_calls_each_hook(emulator_factory, monkeypatch):
    emulator = emulator_factory(TenantSpec(users=3, events_per_user=4, seed=3))
    called: set[str] = set()
    for name in ("make_state_manager", "record_emitted", "write_record"):
        original = getattr(UserLogsStream, name)

        def spy(self, *args, _name=name, _original=original, **kwargs):
            called.add(_name)
            return _original(self, *args, **kwargs)

        monkeypatch.setattr(UserLogsStream, name, spy)

    result = run_sync(tap_config(emulator, strategy="per_user"))

    assert sorted(result.log_ids()) == sorted(emulator.tenant.expected_log_ids())
    assert called == {"make_state_manager", "record_emitted", "write_record"}
