"""The Singer tap: settings, streams, and failures reported as one actionable line."""

from __future__ import annotations

import logging
import sys
import typing as t
from functools import cached_property

from singer_sdk.exceptions import ConfigValidationError
from singer_sdk.tap_base import CliTestOptionValue
from typing_extensions import override

from tap_auth0_userlogs.auth0.errors import TapUserError
from tap_auth0_userlogs.auth0.session import TenantSession
from tap_auth0_userlogs.capabilities import run_connection_test
from tap_auth0_userlogs.inputs import (
    check_config_files,
    checked_catalog_file,
    checked_state_file,
    refuse_environment,
    selects_tenant_logs,
    settings_dotenv,
    state_problem,
)
from tap_auth0_userlogs.inputs import settings_problems as find_settings_problems
from tap_auth0_userlogs.settings import CONFIG_SCHEMA, Settings
from tap_auth0_userlogs.singer.sdk_compat import TapHooks, parse_environment_config
from tap_auth0_userlogs.singer.state_writer import PacedStateWriter
from tap_auth0_userlogs.singer.stream_names import USER_LOGS
from tap_auth0_userlogs.singer.streams import (
    LogEventTypesStream,
    TenantLogsStream,
    UserLogsStream,
)
from tap_auth0_userlogs.singer.writer import FastSingerWriter

if t.TYPE_CHECKING:
    import click
    from singer_sdk.streams import Stream


class _PerUserSortNotice(logging.Filter):
    """Drops singer-sdk's "assumed to be unsorted" warning, which it repeats for every user.

    Each user's events arrive newest first, so the bookmark is promoted only when the user
    is finished; that is expected here, not worth a warning per user.
    """

    @override
    def filter(self, record: logging.LogRecord) -> bool:
        return "assumed to be unsorted" not in record.getMessage()


class _SecondErrorLine(logging.Filter):
    """Drops singer-sdk's "An unhandled error occurred while syncing" line.

    The failure itself is reported right after it: in one actionable line for a problem the
    user can fix, with a traceback for anything else.
    """

    @override
    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith("An unhandled error occurred while syncing")


# One of each, so that installing them again (one tap after another, in-process) adds nothing.
_PER_USER_SORT_NOTICE = _PerUserSortNotice()
_SECOND_ERROR_LINE = _SecondErrorLine()


class TapAuth0UserLogs(TapHooks):
    """Auth0 user log events, partitioned by user and incremental on `date`."""

    name = "tap-auth0-userlogs"
    config_jsonschema = CONFIG_SCHEMA
    message_writer_class = FastSingerWriter

    @override
    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
        # Installed by the tap, not by importing this module: importers keep their logging.
        logging.getLogger("singer_sdk").addFilter(_PER_USER_SORT_NOTICE)
        super().__init__(*args, **kwargs)
        self.use_state_writer(PacedStateWriter(self.record_writer))

    @override
    def settings_problems(self, *, raise_errors: bool) -> list[str]:
        """Unknown settings, and the checks the JSON schema cannot express."""
        # singer-sdk has merged its built-in settings in: these are the names `--about` lists.
        problems = find_settings_problems(self.config, self.config_jsonschema["properties"])
        if problems and raise_errors:
            raise ConfigValidationError(problems[0], errors=problems)
        return problems

    @override
    def load_state(self, state: dict[str, t.Any]) -> None:
        """Load a state this tap wrote; refuse any other before a single request is sent."""
        problem = state_problem(state)
        if problem:
            raise TapUserError(problem)
        super().load_state(state)

    @cached_property
    def settings(self) -> Settings:
        """Every setting, typed, from the validated config: read once, here."""
        return Settings.from_config(self.config)

    @cached_property
    def tenant_session(self) -> TenantSession:
        """The session, credentials and rate-limit view shared by every stream."""
        return TenantSession(self.settings, self.logger)

    @property
    def record_writer(self) -> FastSingerWriter:
        """The writer of every Singer message, records in batches."""
        return t.cast("FastSingerWriter", self.message_writer)

    @property
    def paced_state(self) -> PacedStateWriter:
        """The writer of STATE messages, which says when another is affordable."""
        return t.cast("PacedStateWriter", self.state_writer)

    @override
    def discover_streams(self) -> list[Stream]:
        """`user_logs`, `log_event_types` and `tenant_logs`."""
        streams: list[Stream] = [
            UserLogsStream(self, self),
            LogEventTypesStream(self),
            TenantLogsStream(self, self),
        ]
        for stream in streams:
            stream.logger.addFilter(_SECOND_ERROR_LINE)
        return streams

    @override
    def order_streams(self, streams: list[Stream]) -> list[Stream]:
        """`user_logs` first, so that no record goes out before Auth0 has accepted a request.

        `meltano config test` runs a sync and calls it a success at the first record:
        `log_event_types` (which needs no request) first would pass it with any token.
        """
        return sorted(streams, key=lambda s: s.name != USER_LOGS)

    @override
    def on_termination(self, signum: int) -> None:
        """On SIGTERM or SIGINT: stop once no write is in progress (see `when_not_writing`)."""
        self.record_writer.when_not_writing(lambda: self._stop(signum))

    def _stop(self, signum: int) -> None:
        """Write the state reached, then exit non-zero, as the sync did not finish.

        singer-sdk exits 0 here, which tells an orchestrator the sync succeeded.
        """
        self.state_writer.write_state(self.state)
        self.logger.warning("Stopped by signal %d before the sync finished", signum)
        sys.exit(128 + signum)

    @classmethod
    @override
    def environment_settings(cls, schema: dict[str, t.Any], prefix: str) -> dict[str, t.Any]:
        """Settings from `TAP_AUTH0_USERLOGS_*` variables and the working directory's `.env`.

        A value from either that cannot be parsed ends the run with a line naming it.
        """
        try:
            # Puts the file's values into os.environ before parsing, as singer-sdk always has.
            return parse_environment_config(schema, prefix, settings_dotenv())
        except ValueError as exc:
            refuse_environment(schema, prefix, exc)

    @classmethod
    @override
    def cb_config(cls, ctx: click.Context, param: click.Option, value: tuple[str, ...]) -> t.Any:
        """Read the `--config` files; an unreadable one ends the run with a line."""
        try:
            check_config_files(value)
        except TapUserError as exc:
            cls.logger.error("%s", exc)
            ctx.exit(1)
        return super().cb_config(ctx, param, value)

    @classmethod
    @override
    def cb_discover(cls, ctx: click.Context, param: click.Option, value: bool) -> None:
        """`--discover`; a setting the user must fix ends it with one line, as a sync does."""
        try:
            super().cb_discover(ctx, param, value)
        except TapUserError as exc:
            cls.logger.error("%s", exc)
            ctx.exit(1)

    @classmethod
    @override
    def cb_test(cls, ctx: click.Context, param: click.Option, value: str) -> None:
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
            passed = run_connection_test(
                tap.settings,
                tap.tenant_session,
                cls.logger,
                no_user_events=selects_tenant_logs(ctx.params.get("catalog")),
            )
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
    @override
    def invoke(cls, *args: t.Any, **kwargs: t.Any) -> None:
        """Run the CLI; a failure the user can act on ends it with one line and exit code 1."""
        try:
            if kwargs.get("state") is not None:
                kwargs["state"] = checked_state_file(kwargs["state"])
            if kwargs.get("catalog") is not None:
                kwargs["catalog"] = checked_catalog_file(kwargs["catalog"])
            super().invoke(*args, **kwargs)
        except TapUserError as exc:
            # The message is the whole story: no traceback for a problem the user must fix.
            cls.logger.error("%s", exc)
            sys.exit(1)


if __name__ == "__main__":
    TapAuth0UserLogs.cli()
