"""What a user's read says about gaps: a deleted user, or history Auth0 no longer keeps.

Asked after each user read one by one: a user whose log answered 404, or whose pages did not
reach back to the bookmark, is looked up (one request); a deleted user is skipped with its
bookmark kept, and history that expired is warned about, naming the span that may be missing.
"""

from __future__ import annotations

import typing as t
from http import HTTPStatus

from tap_auth0_userlogs.auth0 import endpoints
from tap_auth0_userlogs.auth0.errors import ClientError
from tap_auth0_userlogs.sources.users import USER_SCOPES

if t.TYPE_CHECKING:
    import datetime
    import logging

    from tap_auth0_userlogs.auth0.api import ManagementAPI
    from tap_auth0_userlogs.progress import SyncProgress
    from tap_auth0_userlogs.sources.user_log import UserEvents


class UserGaps:
    """Explains, in one warning each, users whose read came back short."""

    def __init__(
        self,
        api: ManagementAPI,
        base_url: str,
        progress: SyncProgress,
        logger: logging.Logger,
    ) -> None:
        self._api = api
        self._base_url = base_url
        self._progress = progress
        self._logger = logger

    def explain(self, user_id: str, read: UserEvents, bookmark: datetime.datetime | None) -> None:
        """After the user's read: warn of a 404, or of history that no longer reaches back to
        the bookmark (only asked where the cutoff lies at or before the bookmark)."""
        cutoff = read.user.cutoff
        if not read.found:
            self.log_not_found(user_id)
        elif bookmark and cutoff and cutoff <= bookmark:
            self.check_history(user_id, bookmark, read.oldest)

    def log_not_found(self, user_id: str) -> None:
        """Auth0 answered 404 for the user's log: no events, and the user may be gone."""
        if not self._deleted(user_id):
            self._logger.warning(
                "Auth0 answered 404 for the log of user %s: no events read for it this run, "
                "bookmark kept",
                user_id,
            )

    def check_history(
        self, user_id: str, bookmark: datetime.datetime, oldest: datetime.datetime | None
    ) -> None:
        """Nothing at or before the bookmark came back: the user was deleted, or logs expired."""
        if (oldest is not None and oldest <= bookmark) or self._deleted(user_id):
            return
        self._progress.gaps_warned += 1
        until = oldest.isoformat() if oldest else "now"
        self._logger.warning(
            "User %s: Auth0 no longer has events back to the bookmark %s (log retention "
            "ran out before this sync); events dated from %s to %s may be missing",
            user_id,
            bookmark.isoformat(),
            bookmark.isoformat(),
            until,
        )

    def _deleted(self, user_id: str) -> bool:
        """Whether Auth0 says the user no longer exists; warns and counts it if so."""
        if self._exists(user_id) is not False:
            return False
        self._progress.deleted_users += 1
        self._logger.warning(
            "User %s no longer exists in the tenant (deleted): skipped, bookmark kept", user_id
        )
        return True

    def _exists(self, user_id: str) -> bool | None:
        """Whether the user still exists; None when the token may not read users."""
        try:
            self._api.get(
                f"{self._base_url}{endpoints.user(user_id)}",
                {"fields": "user_id", "include_fields": "true"},
                endpoint="user",
                scopes=USER_SCOPES,
            )
        except ClientError as error:
            if error.reply.status_code == HTTPStatus.NOT_FOUND:
                return False
            return None
        return True
