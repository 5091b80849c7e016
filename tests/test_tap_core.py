"""The Meltano Singer SDK's standard tap tests, on both streams, against the emulator."""

from __future__ import annotations

import pytest
from singer_sdk.testing import get_tap_test_class

from tap_auth0_userlogs.tap import TapAuth0UserLogs
from tests.emulator import Emulator, Tenant, TenantSpec
from tests.tap_support import tap_config

# The standard suite takes its config when the class is built, so the tenant starts here.
_EMULATOR = Emulator(Tenant.generate(TenantSpec(users=3, events_per_user=40, seed=21)))
_EMULATOR.start()


@pytest.fixture(scope="module", autouse=True)
def _stop_emulator():
    yield
    _EMULATOR.stop()


TestTapAuth0UserLogs = get_tap_test_class(
    tap_class=TapAuth0UserLogs, config=tap_config(_EMULATOR, page_size=25)
)
