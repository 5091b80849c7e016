"""What an Auth0 log event looks like: its schema and the one normal form the tap emits."""

from __future__ import annotations

import typing as t

from singer_sdk import typing as th

# Free-form objects whose shape varies by event type: kept whole, never flattened or pruned.
FREE_FORM = th.ObjectType(additional_properties=True)

LOCATION_INFO = th.ObjectType(
    th.Property("country_code", th.StringType),
    th.Property("country_code3", th.StringType),
    th.Property("country_name", th.StringType),
    th.Property("city_name", th.StringType),
    th.Property("latitude", th.NumberType),
    th.Property("longitude", th.NumberType),
    th.Property("time_zone", th.StringType),
    th.Property("continent_code", th.StringType),
    th.Property("subdivision_code", th.StringType),
    th.Property("subdivision_name", th.StringType),
    additional_properties=True,
)

SECURITY_CONTEXT = th.ObjectType(
    th.Property("ja3", th.StringType),
    th.Property("ja4", th.StringType),
    additional_properties=True,
)

EXTRA_FIELDS = "extra_fields"
TENANT_DOMAIN = "tenant_domain"

LOG_EVENT_SCHEMA = th.PropertiesList(
    th.Property(
        TENANT_DOMAIN,
        th.StringType,
        required=True,
        description="The tenant the event came from: the extractor's `domain` setting, "
        "normalized (e.g. acme.us.auth0.com); part of the key with log_id",
    ),
    th.Property(
        "log_id",
        th.StringType,
        required=True,
        description="Id of the event, unique within its tenant",
    ),
    th.Property("date", th.DateTimeType, description="When the event happened (UTC)"),
    th.Property("type", th.StringType, description="Event type code; see log_event_types"),
    th.Property("description", th.StringType),
    th.Property("user_id", th.StringType),
    th.Property("user_name", th.StringType),
    th.Property("connection", th.StringType),
    th.Property("connection_id", th.StringType),
    th.Property("client_id", th.StringType),
    th.Property("client_name", th.StringType),
    th.Property("ip", th.StringType),
    th.Property("client_ip", th.StringType),
    th.Property("hostname", th.StringType),
    th.Property("audience", th.StringType),
    th.Property(
        "scope",
        th.ArrayType(th.StringType),
        description="Granted scopes, always a list (Auth0 sends a list or a spaced string)",
    ),
    th.Property("strategy", th.StringType),
    th.Property("strategy_type", th.StringType),
    th.Property("isMobile", th.BooleanType),
    th.Property("user_agent", th.StringType),
    th.Property("details", FREE_FORM),
    th.Property("security_context", SECURITY_CONTEXT),
    th.Property("location_info", LOCATION_INFO),
    th.Property("_id", th.StringType),
    th.Property("tenant_name", th.StringType),
    th.Property("$event_schema", FREE_FORM),
    th.Property("environment_name", th.StringType),
    th.Property("auth0_client", FREE_FORM),
    th.Property("organization_id", th.StringType),
    th.Property("organization_name", th.StringType),
    th.Property("identity_user_id", th.StringType),
    th.Property("references", FREE_FORM),
    th.Property("session_connection", th.StringType),
    th.Property(
        EXTRA_FIELDS,
        FREE_FORM,
        description="Top-level fields Auth0 sent that this schema does not name yet",
    ),
).to_dict()

KNOWN_FIELDS = frozenset(LOG_EVENT_SCHEMA["properties"]) - {EXTRA_FIELDS}


def normalize_scope(scope: t.Any) -> list[str] | None:
    """`scope` as a list of strings, whether Auth0 sent a list or a space-separated string."""
    if scope is None:
        return None
    if isinstance(scope, str):
        return scope.split()
    if isinstance(scope, list):
        return [str(item) for item in scope]
    return [str(scope)]


def normalize_event(event: dict[str, t.Any], tenant_domain: str) -> dict[str, t.Any]:
    """The record to emit: its tenant, scope as a list, unknown fields kept in `extra_fields`.

    Works in place on the decoded event, which nothing else holds on to.
    """
    unknown = event.keys() - KNOWN_FIELDS
    if unknown:
        event[EXTRA_FIELDS] = {key: event.pop(key) for key in unknown}
    # Set last: it names where the tap read the event, whatever Auth0 put in the event.
    event[TENANT_DOMAIN] = tenant_domain
    scope = event.get("scope")
    if scope is not None and not (
        isinstance(scope, list) and all(isinstance(s, str) for s in scope)
    ):
        event["scope"] = normalize_scope(scope)
    return event
