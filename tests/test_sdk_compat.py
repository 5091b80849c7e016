"""The contract with singer-sdk's private API: each hook the tap relies on is still there, and used.

A failure names the hook; tap_auth0_userlogs/sdk_compat.py is the one module to adapt.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
from pathlib import Path

import pytest
from singer_sdk import Stream, Tap

import tap_auth0_userlogs
from tap_auth0_userlogs.singer import sdk_compat
from tap_auth0_userlogs.singer.streams import UserLogsStream
from tap_auth0_userlogs.tap import TapAuth0UserLogs
from tests.emulator import TenantSpec
from tests.tap_support import run_sync, tap_config

PACKAGE = Path(tap_auth0_userlogs.__file__).parent
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
    owner = _instance_of(tap, cls)
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
                name
                for names in sdk_compat.HOOKS.values()
                for name in names
                if name.startswith("_") and not name.startswith("__")
            }
            if isinstance(node, ast.Attribute) and node.attr in private:
                offenders.append(f"{path.name}:{node.lineno}: .{node.attr}")
            if isinstance(node, ast.FunctionDef) and node.name in private:
                offenders.append(f"{path.name}:{node.lineno}: def {node.name}")
    assert offenders == []


def _instance_of(tap: TapAuth0UserLogs, cls: type):
    """The object of the running tap that is a `cls`: the tap, a stream or its state."""
    if cls is Tap:
        return tap
    stream = tap.streams["user_logs"]
    return stream if cls is Stream else stream.state_manager


def test_every_private_member_used_is_listed(tap):
    """Each singer-sdk member the package reaches that is private (its name, or its class's
    module) is in HOOKS, so that the hook test above names it when singer-sdk moves it."""
    listed = {(cls, name) for cls, name, _ in HOOKS}
    unlisted = set()
    for cls, names in _sdk_members_used().items():
        sdk_class = next(base for base in HOOKS_CLASSES if issubclass(cls, base))
        for name in names:
            if _is_private(sdk_class, name) and (sdk_class, name) not in listed:
                unlisted.add(f"{sdk_class.__name__}.{name} (used by {cls.__name__})")
    assert sorted(unlisted) == []


HOOKS_CLASSES = tuple(sdk_compat.HOOKS)


def _is_private(sdk_class: type, name: str) -> bool:
    private_class = any(part.startswith("_") for part in sdk_class.__module__.split("."))
    return (name.startswith("_") and not name.startswith("__")) or (
        private_class and (name == "__init__" or not name.startswith("__"))
    )


def _sdk_members_used() -> dict[type, set[str]]:
    """Our subclass of a HOOKS class -> the members of the singer-sdk class it reaches (through
    `self.`, `super().` or, for stream state, `.state_manager.`) or overrides."""
    used: dict[type, set[str]] = {}
    for cls in _our_sdk_subclasses():
        ours = _our_own_names(cls)
        names = used.setdefault(cls, set())
        for node in ast.walk(ast.parse(inspect.getsource(cls))):
            if isinstance(node, ast.FunctionDef) and _sdk_defines(cls, node.name):
                names.add(node.name)
            reached = isinstance(node, ast.Attribute) and _on_self(node.value)
            if reached and (node.attr not in ours or _sdk_defines(cls, node.attr)):
                names.add(node.attr)
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Attribute)
                and node.value.attr == "state_manager"
            ):
                used.setdefault(sdk_compat.StreamStateManager, set()).add(node.attr)
    return used


def _our_sdk_subclasses() -> list[type]:
    return [
        cls
        for module in _package_modules()
        for cls in vars(module).values()
        if inspect.isclass(cls)
        and cls.__module__ == module.__name__
        and issubclass(cls, HOOKS_CLASSES)
    ]


def _our_own_names(cls: type) -> set[str]:
    """What the package's classes in `cls`'s ancestry define or set on `self` themselves."""
    names: set[str] = set()
    for base in cls.__mro__:
        if base.__module__.startswith("tap_auth0_userlogs"):
            names |= set(vars(base)) | _assigned_on_self(ast.parse(inspect.getsource(base)))
    return names


def _sdk_defines(cls: type, name: str) -> bool:
    return any(
        base.__module__.startswith("singer_sdk") and name in vars(base) for base in cls.__mro__
    )


def _on_self(node: ast.expr) -> bool:
    if isinstance(node, ast.Name):
        return node.id in {"self", "cls"}
    return (
        isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "super"
    )


def _assigned_on_self(tree: ast.AST) -> set[str]:
    """Attributes the class itself sets (`self.x = ...`): its own, not singer-sdk's."""
    return {
        target.attr
        for node in ast.walk(tree)
        if isinstance(node, ast.Assign | ast.AnnAssign)
        for target in (node.targets if isinstance(node, ast.Assign) else [node.target])
        if isinstance(target, ast.Attribute) and _on_self(target.value)
    }


def _package_modules():
    for info in pkgutil.walk_packages([str(PACKAGE)], prefix="tap_auth0_userlogs."):
        yield importlib.import_module(info.name)


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
