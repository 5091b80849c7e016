"""The names of the tap's streams: in its catalog, its state and its targets' tables."""

from __future__ import annotations

USER_LOGS = "user_logs"
LOG_EVENT_TYPES = "log_event_types"
TENANT_LOGS = "tenant_logs"
# Every stream, in the order the tap syncs them.
STREAMS = (USER_LOGS, LOG_EVENT_TYPES, TENANT_LOGS)
