"""The Singer tap: settings, streams, and failures reported as one actionable line."""

from __future__ import annotations

import logging
import sys
import typing as t
from functools import cached_property

from singer_sdk import Tap
from singer_sdk.exceptions import ConfigValidationError

from tap_auth0_userlogs.checkpoints import CheckpointWriter
from tap_auth0_userlogs.connection import Auth0Connection
from tap_auth0_userlogs.errors import TapUserError
from tap_auth0_userlogs.settings import CONFIG_SCHEMA, config_problems
from tap_auth0_userlogs.streams import LogEventTypesStream, UserLogsStream

if t.TYPE_CHECKING:
    from singer_sdk.streams import Stream


class _PerUserSortNotice(logging.Filter):
    """Drops singer-sdk's "assumed to be unsorted" warning, which it repeats for every user.

    Each user's events arrive newest first, so the bookmark is promoted only when the user
    is finished; that is expected here, not worth a warning per user.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        return "assumed to be unsorted" not in record.getMessage()


logging.getLogger("singer_sdk").addFilter(_PerUserSortNotice())


class TapAuth0UserLogs(Tap):
    """Auth0 user log events, partitioned by user and incremental on `date`."""

    name = "tap-auth0-userlogs"
    config_jsonschema = CONFIG_SCHEMA

    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
        super().__init__(*args, **kwargs)
        self._state_writer = CheckpointWriter()  # type: ignore[assignment]

    def _validate_config(self, *, raise_errors: bool = True) -> list[str]:
        errors = super()._validate_config(raise_errors=raise_errors)
        if errors:
            return errors
        problems = config_problems(self.config)
        if problems and raise_errors:
            raise ConfigValidationError(problems[0], errors=problems)
        return problems

    @cached_property
    def connection(self) -> Auth0Connection:
        """The session, credentials and rate-limit view shared by every stream."""
        return Auth0Connection(self.config, self.logger)

    def discover_streams(self) -> list[Stream]:
        """`user_logs` and `log_event_types`."""
        return [UserLogsStream(self), LogEventTypesStream(self)]

    @classmethod
    def invoke(cls, *args: t.Any, **kwargs: t.Any) -> None:  # type: ignore[override]
        """Run the CLI; a failure the user can act on ends it with one line and exit code 1."""
        try:
            super().invoke(*args, **kwargs)
        except TapUserError as exc:
            # The message is the whole story: no traceback for a problem the user must fix.
            cls.logger.error("%s", exc)
            sys.exit(1)


if __name__ == "__main__":
    TapAuth0UserLogs.cli()
