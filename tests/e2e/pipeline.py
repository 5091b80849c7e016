"""The sample tenant the end-to-end tests extract, and the settings that point Meltano at it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.e2e.postgres import Database
from tests.emulator import Emulator, TenantSpec

# Six users, four of them selected: events of the other two must never land.
TENANT = TenantSpec(users=6, events_per_user=60, seed=11)
SELECTED_USERS = 4
# Small pages, so that a full sync pages through each user's history (60 events: 3 requests)
# while an incremental one needs only the newest page.
PAGE_SIZE = 25
LOOKBACK_MINUTES = 15


def selected_users(emulator: Emulator) -> list[str]:
    return emulator.tenant.user_ids()[:SELECTED_USERS]


def unselected_users(emulator: Emulator) -> list[str]:
    return emulator.tenant.user_ids()[SELECTED_USERS:]


def connection_settings(emulator: Emulator) -> dict[str, str]:
    """Where the emulator is and its static token, as the extractor's environment variables."""
    return {
        "TAP_AUTH0_USERLOGS_DOMAIN": emulator.domain,
        "TAP_AUTH0_USERLOGS_API_URL": emulator.base_url,
        "TAP_AUTH0_USERLOGS_ACCESS_TOKEN": emulator.static_token,
    }


def tap_settings(emulator: Emulator, user_ids: list[str]) -> dict[str, Any]:
    """The extractor's settings as Meltano environment variables, with a static token."""
    return {
        **connection_settings(emulator),
        "TAP_AUTH0_USERLOGS_USER_IDS": user_ids,
        "TAP_AUTH0_USERLOGS_PAGE_SIZE": PAGE_SIZE,
        "TAP_AUTH0_USERLOGS_LOOKBACK_MINUTES": LOOKBACK_MINUTES,
    }


def duckdb_settings(path: Path) -> dict[str, Any]:
    return {"TARGET_DUCKDB_FILEPATH": str(path)}


def postgres_settings(database: Database) -> dict[str, Any]:
    return {
        "TARGET_POSTGRES_HOST": database.host,
        "TARGET_POSTGRES_PORT": database.port,
        "TARGET_POSTGRES_USER": database.user,
        "TARGET_POSTGRES_PASSWORD": database.password,
        "TARGET_POSTGRES_DATABASE": database.dbname,
    }
