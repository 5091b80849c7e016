"""The Singer tap: settings, streams, and failures reported as one actionable line."""

from __future__ import annotations

import io
import json
import logging
import os
import sys
import typing as t
from functools import cached_property

from dotenv import find_dotenv
from singer_sdk import Tap
from singer_sdk.configuration._dict_config import parse_environment_config
from singer_sdk.exceptions import ConfigValidationError
from singer_sdk.helpers._classproperty import classproperty
from singer_sdk.tap_base import CliTestOptionValue

from tap_auth0_userlogs.checkpoints import CheckpointWriter
from tap_auth0_userlogs.connection import Auth0Connection
from tap_auth0_userlogs.connection_test import run_connection_test
from tap_auth0_userlogs.errors import TapUserError
from tap_auth0_userlogs.events import parse_date
from tap_auth0_userlogs.messages import FastSingerWriter
from tap_auth0_userlogs.settings import (
    CONFIG_SCHEMA,
    config_problems,
    unknown_setting_problems,
)
from tap_auth0_userlogs.streams import (
    EVERY_USER_KEY,
    POSITION_KEY,
    LogEventTypesStream,
    UserLogsStream,
)

if t.TYPE_CHECKING:
    from types import FrameType

    import click
    from singer_sdk.streams import Stream


class _PerUserSortNotice(logging.Filter):
    """Drops singer-sdk's "assumed to be unsorted" warning, which it repeats for every user.

    Each user's events arrive newest first, so the bookmark is promoted only when the user
    is finished; that is expected here, not worth a warning per user.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        return "assumed to be unsorted" not in record.getMessage()


class _SecondErrorLine(logging.Filter):
    """Drops singer-sdk's "An unhandled error occurred while syncing" line.

    The failure itself is reported right after it: in one actionable line for a problem the
    user can fix, with a traceback for anything else.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith("An unhandled error occurred while syncing")


logging.getLogger("singer_sdk").addFilter(_PerUserSortNotice())


_SECOND_ERROR_LINE = _SecondErrorLine()


class TapAuth0UserLogs(Tap):
    """Auth0 user log events, partitioned by user and incremental on `date`."""

    name = "tap-auth0-userlogs"
    config_jsonschema = CONFIG_SCHEMA
    message_writer_class = FastSingerWriter

    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
        super().__init__(*args, **kwargs)
        self._state_writer = CheckpointWriter(self.message_writer)  # type: ignore[assignment]

    def _validate_config(self, *, raise_errors: bool = True) -> list[str]:
        errors = super()._validate_config(raise_errors=raise_errors)
        if errors:
            return errors
        # singer-sdk has merged its built-in settings in: these are the names `--about` lists.
        known = self.config_jsonschema["properties"]
        problems = unknown_setting_problems(self.config, known) + config_problems(self.config)
        if problems and raise_errors:
            raise ConfigValidationError(problems[0], errors=problems)
        return problems

    def load_state(self, state: dict[str, t.Any]) -> None:
        """Load a state this tap wrote; refuse any other before a single request is sent."""
        problem = state_problem(state)
        if problem:
            raise TapUserError(problem)
        super().load_state(state)

    @cached_property
    def connection(self) -> Auth0Connection:
        """The session, credentials and rate-limit view shared by every stream."""
        return Auth0Connection(self.config, self.logger)

    def discover_streams(self) -> list[Stream]:
        """`user_logs` and `log_event_types`."""
        streams: list[Stream] = [UserLogsStream(self), LogEventTypesStream(self)]
        for stream in streams:
            stream.logger.addFilter(_SECOND_ERROR_LINE)
        return streams

    def load_streams(self) -> list[Stream]:
        """`user_logs` first, so that no record goes out before Auth0 has accepted a request.

        `meltano config test` runs a sync and calls it a success at the first record:
        `log_event_types` (which needs no request) first would pass it with any token.
        """
        return sorted(super().load_streams(), key=lambda s: s.name != UserLogsStream.name)

    def _handle_termination(self, signum: int, frame: FrameType | None) -> None:
        """On SIGTERM or SIGINT: stop once no write is in progress (see `when_not_writing`)."""
        self.message_writer.when_not_writing(lambda: self._stop(signum))  # type: ignore[attr-defined]

    def _stop(self, signum: int) -> None:
        """Write the state reached, then exit non-zero, as the sync did not finish.

        singer-sdk exits 0 here, which tells an orchestrator the sync succeeded.
        """
        self._state_writer.write_state(self.state)
        self.logger.warning("Stopped by signal %d before the sync finished", signum)
        sys.exit(128 + signum)

    @classproperty
    def _env_var_config(cls) -> dict[str, t.Any]:
        """Settings from `TAP_AUTH0_USERLOGS_*` variables and the working directory's `.env`.

        singer-sdk looks for `.env` upwards from where it is installed, which is rarely where a
        user keeps one; Meltano runs the tap in its project, next to the project's `.env`.
        A value from either that cannot be parsed ends the run with a line naming it.
        """
        schema = cls.config_jsonschema
        cls.append_builtin_config(schema)
        prefix = cls._env_var_prefix
        dotenv = find_dotenv(usecwd=True) or os.devnull
        try:
            # Puts the file's values into os.environ before parsing, as singer-sdk always has.
            return parse_environment_config(schema, prefix, dotenv)
        except ValueError as exc:
            _check_environment(schema, prefix)  # names the variable, where it can tell
            msg = f"Could not read the settings from {prefix}* variables: {exc}"
            raise TapUserError(msg) from None

    @classmethod
    def cb_config(  # type: ignore[override]
        cls, ctx: click.Context, param: click.Option, value: tuple[str, ...]
    ) -> t.Any:
        """Read the `--config` files; an unreadable one ends the run with a line."""
        for path in value:
            try:
                if path != "ENV":  # variables are read, and checked, in `_env_var_config`
                    _read_json_object(path, "config")
            except TapUserError as exc:
                cls.logger.error("%s", exc)
                ctx.exit(1)
        return super().cb_config(ctx, param, value)

    @classmethod
    def cb_test(  # type: ignore[override]
        cls, ctx: click.Context, param: click.Option, value: str
    ) -> None:
        """`--test`: one cheap request per capability the settings need, one line each.

        singer-sdk's own test syncs a record of each stream, which proves nothing here
        (`log_event_types` needs no request) and may start a users-export job. Exit code 0
        when every needed capability is there, 1 otherwise. `--test=schema` is singer-sdk's.
        """
        if value != CliTestOptionValue.All.value:
            super().cb_test(ctx, param, value)
            return
        config = ctx.params.get("config")
        try:
            tap = cls(
                config=config.config if config else {},
                parse_env_config=bool(config and config.parse_env),
                validate_config=True,
                setup_mapper=False,
            )
            passed = run_connection_test(tap.config, tap.connection, cls.logger)
        except ConfigValidationError as exc:
            for error in exc.errors or [str(exc)]:
                cls.logger.error("%s", error)
            passed = False
        except TapUserError as exc:
            cls.logger.error("%s", exc)
            passed = False
        except Exception as exc:  # --test answers in lines, never with a traceback
            cls.logger.error("Connection test could not finish: %s: %s", type(exc).__name__, exc)
            passed = False
        ctx.exit(0 if passed else 1)

    @classmethod
    def invoke(cls, *args: t.Any, **kwargs: t.Any) -> None:  # type: ignore[override]
        """Run the CLI; a failure the user can act on ends it with one line and exit code 1."""
        try:
            for name in ("state", "catalog"):
                if kwargs.get(name) is not None:
                    kwargs[name] = _checked_input_file(kwargs[name], name)
            super().invoke(*args, **kwargs)
        except TapUserError as exc:
            # The message is the whole story: no traceback for a problem the user must fix.
            cls.logger.error("%s", exc)
            sys.exit(1)


# What a state from this tap may hold at the stream level of `user_logs`: singer-sdk's keys
# and the position in the tenant's log, with whom it covers.
_USER_LOGS_STATE_KEYS = frozenset(
    {
        "partitions",
        "replication_key_signpost",
        "starting_replication_value",
        "progress_markers",
        POSITION_KEY,
        EVERY_USER_KEY,
    }
)
_STREAMS = (UserLogsStream.name, LogEventTypesStream.name)
# Top-level keys of a Singer state (singer-python taps also write `currently_syncing`).
_STATE_KEYS = frozenset({"bookmarks", "currently_syncing"})


def _json_kind(value: t.Any) -> str:
    kinds = {dict: "an object", list: "an array", str: "a string", bool: "a boolean"}
    return kinds.get(type(value), "a number" if isinstance(value, int | float) else "null")


def _no_constants(name: str) -> t.NoReturn:
    # singer-sdk's parser refuses NaN and Infinity too; refuse them here with one line.
    msg = f"{name} is not a JSON value"
    raise ValueError(msg)


def _json_object(text: str, what: str, name: str) -> dict[str, t.Any]:
    """`text` parsed as a JSON object, or a TapUserError saying what is wrong with it."""
    try:
        value = json.loads(text, parse_constant=_no_constants)
    except ValueError as exc:
        reason = getattr(exc, "msg", str(exc))
        where = f" at line {exc.lineno}, column {exc.colno}" if hasattr(exc, "lineno") else ""
        msg = f"The {what} file {name} is not JSON ({reason}{where}): expected a JSON object"
        raise TapUserError(msg) from None
    if not isinstance(value, dict):
        msg = f"The {what} file {name} holds {_json_kind(value)}: expected a JSON object"
        raise TapUserError(msg)
    return value


def _read_json_object(path: str, what: str) -> dict[str, t.Any]:
    try:
        with open(path, encoding="utf-8") as file:
            text = file.read()
    except (OSError, UnicodeDecodeError) as exc:
        msg = f"The {what} file {path} cannot be read: {getattr(exc, 'strerror', None) or exc}"
        raise TapUserError(msg) from None
    return _json_object(text, what, path)


def _check_environment(schema: dict[str, t.Any], prefix: str) -> None:
    """Refuse a setting variable singer-sdk could not parse (it would end in a traceback)."""
    for name, prop in schema["properties"].items():
        variable = prefix + name.upper().replace("-", "_")
        raw = os.environ.get(variable)
        if raw is None:
            continue
        types = prop.get("type") or []
        items = (prop.get("items") or {}).get("type") or []
        if "integer" in types:
            expected, valid = "a whole number", raw.strip().lstrip("+-").isdigit()
        elif "object" in types or ("array" in types and "string" not in items):
            expected, valid = "JSON", _parses(raw)
        else:
            continue
        if not valid:
            msg = f"Environment variable {variable} (setting {name!r}) is not {expected}"
            raise TapUserError(msg)


def _parses(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


def _checked_input_file(file: t.IO[str], what: str) -> io.StringIO:
    """The `--state` or `--catalog` file, refused with one line unless it is a JSON object."""
    name = getattr(file, "name", what)
    text = file.read()
    value = _json_object(text, what, name)
    # The state's shape is checked by `load_state`, which in-process callers go through too.
    problem = catalog_problem(value) if what == "catalog" else None
    if problem:
        raise TapUserError(problem)
    return io.StringIO(text)


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
    if not {s["tap_stream_id"] for s in streams} & set(_STREAMS):
        return (
            "The catalog describes none of this tap's streams (user_logs, log_event_types): "
            "it belongs to another tap; run `tap-auth0-userlogs --discover` for this one"
        )
    return None


def state_problem(state: t.Any) -> str | None:
    """Why `state` is not a state this tap wrote, or None when it is one."""
    if not isinstance(state, dict):
        return f"The state is {_json_kind(state)}: expected a JSON object such as {{}}"
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
    if bookmarks and not set(bookmarks) & set(_STREAMS):
        names = ", ".join(sorted(map(repr, bookmarks))[:3])
        return (
            f"The state has bookmarks for {names} but none for this tap's streams "
            "(user_logs, log_event_types): it is another tap's state"
        )
    for stream in _STREAMS:
        if not isinstance(bookmarks.get(stream, {}), dict):
            return f"The state's bookmarks for {stream!r} are not an object"
    return _user_logs_state_problem(bookmarks.get(UserLogsStream.name, {}))


def _user_logs_state_problem(stream_state: dict[str, t.Any]) -> str | None:
    if "replication_key_value" in stream_state:
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
    context = partition.get("context") if isinstance(partition, dict) else None
    user_id = context.get("user_id") if isinstance(context, dict) else None
    if not isinstance(user_id, str) or not user_id or set(context) != {"user_id"}:
        return (
            "The state has a 'user_logs' bookmark whose context is not "
            '{"user_id": "..."}: expected one bookmark per user'
        )
    if user_id in seen:
        return f"The state holds two bookmarks for user {user_id}"
    seen.add(user_id)
    if partition.get("replication_key", "date") != "date":
        return f"The state's bookmark for user {user_id} is not on 'date'"
    value = partition.get("replication_key_value")
    try:
        if value is not None:
            parse_date(value)
    except (TypeError, ValueError, AttributeError):
        return (
            f"The state's bookmark for user {user_id} is {value!r}: expected an ISO-8601 "
            "date such as 2026-01-01T00:00:00.000Z"
        )
    return None


if __name__ == "__main__":
    TapAuth0UserLogs.cli()
