"""Pytest fixtures: a started emulator per test, on a free port, stopped at teardown.

Register with ``pytest_plugins = ["tests.emulator.pytest_plugin"]`` in a conftest.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.emulator.server import Emulator
from tests.emulator.tenant import Tenant, TenantSpec

DEFAULT_SPEC = TenantSpec(users=3, events_per_user=25, seed=7)

EmulatorFactory = Callable[..., Emulator]


@pytest.fixture
def emulator_factory() -> Iterator[EmulatorFactory]:
    """``emulator_factory(spec_or_tenant_or_None, **emulator_kwargs)`` -> a started Emulator."""
    started: list[Emulator] = []

    def make(spec: TenantSpec | Tenant | None = None, **kwargs: Any) -> Emulator:
        emulator = Emulator(spec if spec is not None else DEFAULT_SPEC, **kwargs)
        emulator.start()
        started.append(emulator)
        return emulator

    yield make
    for emulator in started:
        emulator.stop()


@pytest.fixture
def emulator(emulator_factory: EmulatorFactory) -> Emulator:
    """A started emulator serving a small tenant: 3 users with 25 events each."""
    return emulator_factory(DEFAULT_SPEC)
