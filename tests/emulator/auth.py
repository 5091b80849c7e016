"""Applications (client id/secret/scopes) and the Management API tokens issued to them."""

from __future__ import annotations

import base64
import enum
import json
import random
import string
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass

DEFAULT_SCOPES = ("read:logs", "read:users")
_ALNUM = string.ascii_letters + string.digits


class TokenStatus(enum.Enum):
    VALID = "valid"
    MISSING = "missing"
    INVALID = "invalid"  # unknown, malformed or revoked
    EXPIRED = "expired"


@dataclass(frozen=True)
class Client:
    client_id: str
    client_secret: str
    scopes: tuple[str, ...]


@dataclass
class IssuedToken:
    scopes: frozenset[str]
    expires_at: float | None  # time.monotonic() deadline; None: never expires
    revoked: bool = False


@dataclass(frozen=True)
class TokenCheck:
    status: TokenStatus
    scopes: frozenset[str] = frozenset()
    token: str | None = None


class TokenError(Exception):
    """An /oauth/token refusal, in the token endpoint's own error shape."""

    def __init__(self, status: int, error: str, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.error = error
        self.description = description

    def body(self) -> dict[str, str]:
        return {"error": self.error, "error_description": self.description}


def normalize_scopes(scopes: str | Iterable[str]) -> tuple[str, ...]:
    return tuple(scopes.split()) if isinstance(scopes, str) else tuple(scopes)


class Authority:
    """Knows the tenant's applications and every token it has issued."""

    def __init__(self, domain: str, token_ttl: float = 86400, seed: int = 0) -> None:
        self.domain = domain
        self.token_ttl = token_ttl
        self._lock = threading.Lock()
        self._rng = random.Random(f"auth:{seed}")
        self._clients: dict[str, Client] = {}
        self._tokens: dict[str, IssuedToken] = {}
        self.default_client = self.add_client(self._text(32), self._text(64), DEFAULT_SCOPES)

    @property
    def audience(self) -> str:
        return f"https://{self.domain}/api/v2/"

    def _text(self, n: int) -> str:
        with self._lock:
            return "".join(self._rng.choice(_ALNUM) for _ in range(n))

    def add_client(self, client_id: str, client_secret: str, scopes: str | Iterable[str]) -> Client:
        client = Client(client_id, client_secret, normalize_scopes(scopes))
        with self._lock:
            self._clients[client_id] = client
        return client

    def issue(
        self,
        scopes: str | Iterable[str] = DEFAULT_SCOPES,
        ttl: float | None = None,
        subject: str = "emulator@clients",
    ) -> str:
        """A new token with ``scopes``, valid for ``ttl`` seconds (None: forever)."""
        scope_list = normalize_scopes(scopes)
        now = time.time()
        claims = {
            "iss": f"https://{self.domain}/",
            "sub": subject,
            "aud": self.audience,
            "iat": int(now),
            "exp": int(now + ttl) if ttl is not None else int(now + 10 * 365 * 86400),
            "scope": " ".join(scope_list),
            "gty": "client-credentials",
            "jti": self._text(22),
        }
        # JWT-shaped so clients that peek at claims see plausible ones; the signature is noise.
        token = ".".join(
            (
                _b64({"alg": "RS256", "typ": "JWT", "kid": "emulator"}),
                _b64(claims),
                self._text(43),
            )
        )
        deadline = time.monotonic() + ttl if ttl is not None else None
        with self._lock:
            self._tokens[token] = IssuedToken(frozenset(scope_list), deadline)
        return token

    def issued(self) -> list[str]:
        """Every token issued so far (for tests that check no output ever shows one)."""
        with self._lock:
            return list(self._tokens)

    def revoke(self, token: str) -> None:
        """Make ``token`` answer 401 from now on (Auth0 cannot do this; tests need it)."""
        with self._lock:
            if token in self._tokens:
                self._tokens[token].revoked = True

    def check(self, authorization: str | None) -> TokenCheck:
        """Validate an ``Authorization`` header value."""
        if not authorization:
            return TokenCheck(TokenStatus.MISSING)
        scheme, _, token = authorization.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            return TokenCheck(TokenStatus.INVALID)
        with self._lock:
            issued = self._tokens.get(token)
        if issued is None or issued.revoked:
            return TokenCheck(TokenStatus.INVALID, token=token if issued else None)
        if issued.expires_at is not None and time.monotonic() >= issued.expires_at:
            return TokenCheck(TokenStatus.EXPIRED, token=token)
        return TokenCheck(TokenStatus.VALID, issued.scopes, token)

    def exchange(self, form: dict[str, str]) -> dict[str, object]:
        """The client-credentials grant; raises TokenError with Auth0's answer on refusal."""
        grant_type = form.get("grant_type", "")
        if grant_type != "client_credentials":
            raise TokenError(400, "unsupported_grant_type", f"Unsupported grant type: {grant_type}")
        with self._lock:
            client = self._clients.get(form.get("client_id", ""))
        if client is None or client.client_secret != form.get("client_secret"):
            raise TokenError(401, "invalid_client", "Client authentication failed")
        if form.get("audience") != self.audience:
            raise TokenError(
                403,
                "access_denied",
                f"Service not enabled within domain: {form.get('audience', '')}",
            )
        ttl = self.token_ttl
        token = self.issue(client.scopes, ttl, subject=f"{client.client_id}@clients")
        return {
            "access_token": token,
            "expires_in": int(ttl) if float(ttl).is_integer() else ttl,
            "scope": " ".join(client.scopes),
            "token_type": "Bearer",
        }


def _b64(payload: dict[str, object]) -> str:
    raw = json.dumps(payload, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
