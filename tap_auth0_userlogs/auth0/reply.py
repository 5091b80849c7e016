"""Auth0's answer to one request, whichever endpoint gave it: the one shape errors read."""

from __future__ import annotations

import contextlib
import dataclasses
import typing as t

from tap_auth0_userlogs.json_codec import loads

if t.TYPE_CHECKING:
    import requests


@dataclasses.dataclass(frozen=True)
class Reply:
    """Auth0's answer to one request: its body read whole, and decoded once it proved usable."""

    request: requests.PreparedRequest
    status_code: int
    reason: str
    headers: t.Mapping[str, str]
    links: dict[str, dict[str, str]]
    content: bytes
    # The request's place in the governor's sending order (0: not paced by it).
    seq: int = 0
    payload: t.Any = None

    @classmethod
    def read(cls, response: requests.Response, seq: int = 0) -> Reply:
        """The answer of `response`, its body read in one go and the connection released."""
        with contextlib.closing(response):
            # One read of the whole body: `.content` reads it 10 KB at a time, which cost as
            # much CPU as decoding a page of 100 events.
            content = b"".join(response.iter_content(chunk_size=None))
        return cls(
            request=response.request,
            status_code=response.status_code,
            reason=response.reason or "",
            headers=response.headers,
            links=response.links,
            content=content,
            seq=seq,
        )

    def json(self) -> t.Any:
        """The body as JSON; raises ValueError when it is not."""
        return loads(self.content)
