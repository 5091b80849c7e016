"""Every check of the tap's inputs: settings, state, catalog, JSON files, environment variables.

Each runs before any request, so that a wrong input ends the run with one line naming it
instead of a traceback, or a half-done sync.
"""

from __future__ import annotations

import io
import json
import os
import typing as t

from dotenv import find_dotenv

from tap_auth0_userlogs.auth0.errors import TapUserError
from tap_auth0_userlogs.events.dates import parse_date
from tap_auth0_userlogs.settings import config_problems, unknown_setting_problems
from tap_auth0_userlogs.singer.stored_state import (
    BOOKMARK_KEY,
    EVERY_USER_KEY,
    POSITION_KEY,
    PROGRESS_KEY,
    REPLICATION_KEY,
    SPANS_KEY,
)
from tap_auth0_userlogs.singer.stream_names import STREAMS, TENANT_LOGS, USER_LOGS

# What a state from this tap may hold at the stream level of `user_logs`: singer-sdk's keys
# and the position in the tenant's log, with whom it covers.
_USER_LOGS_STATE_KEYS = frozenset(
    {
        "partitions",
        "replication_key_signpost",
        "starting_replication_value",
        PROGRESS_KEY,
        POSITION_KEY,
        EVERY_USER_KEY,
        SPANS_KEY,
    }
)
# What `tenant_logs` may hold: singer-sdk's keys of a stream without partitions, and the
# position in the tenant's log.
_TENANT_LOGS_STATE_KEYS = frozenset(
    {
        "replication_key",
        BOOKMARK_KEY,
        "replication_key_signpost",
        "starting_replication_value",
        PROGRESS_KEY,
        POSITION_KEY,
        SPANS_KEY,
    }
)
# Top-level keys of a Singer state (singer-python taps also write `currently_syncing`).
_STATE_KEYS = frozenset({"bookmarks", "currently_syncing"})


# Settings


def settings_problems(config: t.Mapping[str, t.Any], known: t.Collection[str]) -> list[str]:
    """One line per setting name the tap does not have, then one per wrong value."""
    return unknown_setting_problems(config, known) + config_problems(config)


# Environment variables


def settings_dotenv() -> str:
    """The `.env` file to read settings from: the working directory's, or none.

    singer-sdk looks for `.env` upwards from where it is installed, which is rarely where a
    user keeps one; Meltano runs the tap in its project, next to the project's `.env`.
    """
    return find_dotenv(usecwd=True) or os.devnull


def refuse_environment(schema: dict[str, t.Any], prefix: str, error: ValueError) -> t.NoReturn:
    """End the run on setting variables singer-sdk could not parse, naming the variable."""
    check_environment(schema, prefix)  # names the variable, where it can tell
    msg = f"Could not read the settings from {prefix}* variables: {error}"
    raise TapUserError(msg) from None


def check_environment(schema: dict[str, t.Any], prefix: str) -> None:
    """Refuse a setting variable singer-sdk could not parse (it would end in a traceback)."""
    for name, prop in schema["properties"].items():
        variable = prefix + name.upper().replace("-", "_")
        raw = os.environ.get(variable)
        if raw is None:
            continue
        expected = _variable_expectation(prop)
        if expected and not _variable_is(raw, expected):
            msg = f"Environment variable {variable} (setting {name!r}) is not {expected}"
            raise TapUserError(msg)


def _variable_expectation(prop: dict[str, t.Any]) -> str | None:
    """What a variable for the setting `prop` must hold, or None when any text will do."""
    types = prop.get("type") or []
    items = (prop.get("items") or {}).get("type") or []
    if "integer" in types:
        return "a whole number"
    # singer-sdk reads an array of strings as comma-separated text, anything else as JSON.
    if "object" in types or ("array" in types and "string" not in items):
        return "JSON"
    return None


def _variable_is(raw: str, expected: str) -> bool:
    if expected == "a whole number":
        return raw.strip().lstrip("+-").isdigit()
    try:
        json.loads(raw)
    except ValueError:
        return False
    return True


# JSON files


def json_kind(value: t.Any) -> str:
    """What `value` is, in JSON's words: "an object", "an array", "a string"..."""
    kinds = {dict: "an object", list: "an array", str: "a string", bool: "a boolean"}
    return kinds.get(type(value), "a number" if isinstance(value, int | float) else "null")


def _no_constants(name: str) -> t.NoReturn:
    # singer-sdk's parser refuses NaN and Infinity too; refuse them here with one line.
    msg = f"{name} is not a JSON value"
    raise ValueError(msg)


def json_object(text: str, what: str, name: str) -> dict[str, t.Any]:
    """`text` parsed as a JSON object, or a TapUserError saying what is wrong with it."""
    try:
        value = json.loads(text, parse_constant=_no_constants)
    except ValueError as exc:
        reason = getattr(exc, "msg", str(exc))
        where = (
            f" at line {exc.lineno}, column {exc.colno}"
            if isinstance(exc, json.JSONDecodeError)
            else ""
        )
        msg = f"The {what} file {name} is not JSON ({reason}{where}): expected a JSON object"
        raise TapUserError(msg) from None
    if not isinstance(value, dict):
        msg = f"The {what} file {name} holds {json_kind(value)}: expected a JSON object"
        raise TapUserError(msg)
    return value


def read_json_object(path: str, what: str) -> dict[str, t.Any]:
    """The JSON object in the file at `path`, or a TapUserError saying why it cannot be had."""
    try:
        with open(path, encoding="utf-8") as file:
            text = file.read()
    except (OSError, UnicodeDecodeError) as exc:
        msg = f"The {what} file {path} cannot be read: {getattr(exc, 'strerror', None) or exc}"
        raise TapUserError(msg) from None
    return json_object(text, what, path)


def check_config_files(paths: t.Iterable[str]) -> None:
    """Refuse the first `--config` file that is not a readable JSON object."""
    for path in paths:
        if path != "ENV":  # variables are read, and checked, in the tap's `_env_var_config`
            read_json_object(path, "config")


def checked_state_file(file: t.IO[str]) -> io.StringIO:
    """The `--state` file, refused with one line unless it holds a JSON object.

    Returned as a fresh file, since singer-sdk reads it after this check has.
    """
    # Its shape is checked by `state_problem` in `load_state`, which in-process callers
    # go through too.
    text, _ = _read_object_file(file, "state")
    return io.StringIO(text)


def checked_catalog_file(file: t.IO[str]) -> io.StringIO:
    """The `--catalog` file, refused with one line unless it is a catalog for this tap.

    Returned as a fresh file, since singer-sdk reads it after this check has.
    """
    text, catalog = _read_object_file(file, "catalog")
    problem = catalog_problem(catalog)
    if problem:
        raise TapUserError(problem)
    return io.StringIO(text)


def _read_object_file(file: t.IO[str], what: str) -> tuple[str, dict[str, t.Any]]:
    """The text of an open file and the JSON object it holds."""
    text = file.read()
    return text, json_object(text, what, getattr(file, "name", what))


# Catalog


def catalog_problem(catalog: dict[str, t.Any]) -> str | None:
    """Why `catalog` is not a Singer catalog for this tap, or None when it is one."""
    streams = catalog.get("streams")
    if not isinstance(streams, list) or not all(
        isinstance(s, dict) and isinstance(s.get("tap_stream_id"), str) for s in streams
    ):
        return (
            "The catalog has no 'streams' list of entries with a 'tap_stream_id': "
            "expected the output of `tap-auth0-userlogs --discover`"
        )
    if not {s["tap_stream_id"] for s in streams} & set(STREAMS):
        return (
            f"The catalog describes none of this tap's streams ({', '.join(STREAMS)}): "
            "it belongs to another tap; run `tap-auth0-userlogs --discover` for this one"
        )
    return None


def selects_tenant_logs(file: t.IO[str] | None) -> bool:
    """Whether a `--catalog` given to `--test` selects `tenant_logs` (given before `--test`
    on the command line, it is read by then)."""
    if file is None:
        return False
    _, catalog = _read_object_file(file, "catalog")
    file.seek(0)
    for stream in catalog.get("streams") or ():
        if isinstance(stream, dict) and stream.get("tap_stream_id") == TENANT_LOGS:
            top = [m for m in stream.get("metadata") or () if not m.get("breadcrumb")]
            return any(m.get("metadata", {}).get("selected") for m in top)
    return False


# State


def state_problem(state: t.Any) -> str | None:
    """Why `state` is not a state this tap wrote, or None when it is one."""
    if not isinstance(state, dict):
        return f"The state is {json_kind(state)}: expected a JSON object such as {{}}"
    unexpected = sorted(set(state) - _STATE_KEYS)
    if unexpected:
        hint = (
            "pass the value of 'singer_state', which `meltano state get` wraps it in"
            if "singer_state" in unexpected
            else "expected a state this tap wrote"
        )
        return f"The state holds {', '.join(map(repr, unexpected[:3]))} at its top: {hint}"
    bookmarks = state.get("bookmarks", {})
    if not isinstance(bookmarks, dict):
        return "The state's 'bookmarks' is not an object: expected a state this tap wrote"
    return _bookmarks_problem(bookmarks)


def _bookmarks_problem(bookmarks: dict[str, t.Any]) -> str | None:
    if bookmarks and not set(bookmarks) & set(STREAMS):
        names = ", ".join(sorted(map(repr, bookmarks))[:3])
        return (
            f"The state has bookmarks for {names} but none for this tap's streams "
            f"({', '.join(STREAMS)}): it is another tap's state"
        )
    for stream in STREAMS:
        if not isinstance(bookmarks.get(stream, {}), dict):
            return f"The state's bookmarks for {stream!r} are not an object"
    return _user_logs_state_problem(bookmarks.get(USER_LOGS, {})) or _tenant_logs_state_problem(
        bookmarks.get(TENANT_LOGS, {})
    )


def _tenant_logs_state_problem(stream_state: dict[str, t.Any]) -> str | None:
    unexpected = sorted(set(stream_state) - _TENANT_LOGS_STATE_KEYS)
    if unexpected:
        names = ", ".join(map(repr, unexpected[:3]))
        return (
            f"The state's bookmarks for 'tenant_logs' hold {names}, which this tap never "
            "writes: expected a position in the tenant's log"
        )
    position = stream_state.get(POSITION_KEY)
    if position is not None and not isinstance(position, str):
        return f"The state's {POSITION_KEY!r} of 'tenant_logs' is not a log_id"
    return _spans_problem(stream_state, TENANT_LOGS)


def _spans_problem(stream_state: dict[str, t.Any], stream: str) -> str | None:
    spans = stream_state.get(SPANS_KEY, [])
    if not isinstance(spans, list) or not all(
        isinstance(span, list) and len(span) == 2 and all(isinstance(p, str) for p in span)
        for span in spans
    ):
        return (
            f"The state's {SPANS_KEY!r} of {stream!r} is not a list of [after, upto] log_id "
            "pairs: expected a state this tap wrote"
        )
    return None


def _user_logs_state_problem(stream_state: dict[str, t.Any]) -> str | None:
    if BOOKMARK_KEY in stream_state:
        return (
            "The state has one bookmark for the whole 'user_logs' stream, but this tap keeps "
            "one per user under 'partitions': it was not written by this tap"
        )
    unexpected = sorted(set(stream_state) - _USER_LOGS_STATE_KEYS)
    if unexpected:
        names = ", ".join(map(repr, unexpected[:3]))
        return (
            f"The state's bookmarks for 'user_logs' hold {names}, which this tap never writes: "
            "expected one bookmark per user under 'partitions'"
        )
    spans = _spans_problem(stream_state, USER_LOGS)
    if spans:
        return spans
    partitions = stream_state.get("partitions", [])
    if not isinstance(partitions, list):
        return "The state's 'partitions' of 'user_logs' is not a list of per-user bookmarks"
    seen: set[str] = set()
    for partition in partitions:
        problem = _partition_problem(partition, seen)
        if problem:
            return problem
    return None


def _partition_problem(partition: t.Any, seen: set[str]) -> str | None:
    """Why one per-user bookmark is not one this tap wrote; adds its user to `seen`."""
    context = partition.get("context") if isinstance(partition, dict) else None
    user_id = context.get("user_id") if isinstance(context, dict) else None
    if not isinstance(user_id, str) or not user_id or set(context or ()) != {"user_id"}:
        return (
            "The state has a 'user_logs' bookmark whose context is not "
            '{"user_id": "..."}: expected one bookmark per user'
        )
    if user_id in seen:
        return f"The state holds two bookmarks for user {user_id}"
    seen.add(user_id)
    if partition.get("replication_key", REPLICATION_KEY) != REPLICATION_KEY:
        return f"The state's bookmark for user {user_id} is not on 'date'"
    return _bookmark_date_problem(user_id, partition.get(BOOKMARK_KEY))


def _bookmark_date_problem(user_id: str, value: t.Any) -> str | None:
    try:
        if value is not None:
            parse_date(value)
    except (TypeError, ValueError, AttributeError):
        return (
            f"The state's bookmark for user {user_id} is {value!r}: expected an ISO-8601 "
            "date such as 2026-01-01T00:00:00.000Z"
        )
    return None
