"""The Meltano Singer SDK's standard tap tests, on every stream, against the emulator."""

from __future__ import annotations

import pytest
from singer_sdk.testing import get_tap_test_class

from tap_auth0_userlogs.tap import TapAuth0UserLogs
from tests.emulator import Emulator, Tenant, TenantSpec
from tests.tap_support import tap_config

# The standard suite takes its config when the class is built, so the tenant starts here.
# Tenant-wide events, a third of them of no user (client-credentials exchanges), so that
# tenant_logs has records too.
_EMULATOR = Emulator(
    Tenant.generate(
        TenantSpec(users=3, events_per_user=40, seed=21, events_per_minute=0.05,
                   client_event_share=0.3)
    )
)  # fmt: skip
_EMULATOR.start()


def every_stream_selected(config: dict) -> dict:
    """The tap's catalog with every stream selected: tenant_logs is not, by default."""
    catalog = TapAuth0UserLogs(config=config, setup_mapper=False).catalog_dict
    for stream in catalog["streams"]:
        for entry in stream["metadata"]:
            if not entry["breadcrumb"]:
                entry["metadata"]["selected"] = True
    return catalog


@pytest.fixture(scope="module", autouse=True)
def _stop_emulator():
    yield
    _EMULATOR.stop()


_CONFIG = tap_config(_EMULATOR, page_size=25)
TestTapAuth0UserLogs = get_tap_test_class(
    tap_class=TapAuth0UserLogs, config=_CONFIG, catalog=every_stream_selected(_CONFIG)
)
