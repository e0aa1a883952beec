"""Authentication as PVE does it: tickets with CSRF tokens, or API tokens.

``POST /access/ticket`` trades a password (or a still valid ticket) for a signed ticket,
valid two hours, sent back as the ``PVEAuthCookie`` cookie; writes made with a ticket
must also carry the ``CSRFPreventionToken`` header. API tokens
(``Authorization: PVEAPIToken=USER@REALM!NAME=SECRET``) need no CSRF token. The clock
is injectable so tests can let a ticket expire without waiting.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field

TICKET_LIFETIME = 7200
#: how far in the future a ticket's time may be (clock skew between nodes)
CLOCK_SKEW = 300


class AuthError(Exception):
    """401 with this message."""


@dataclass
class Credentials:
    """The user and API tokens the simulator knows (defaults: ``SimOptions``)."""

    user: str
    password: str
    token_id: str
    token_secret: str
    #: further API tokens, id -> secret (their privileges: ``acl.role_of``)
    more_tokens: dict[str, str] = field(default_factory=dict)


class Authenticator:
    def __init__(self, creds: Credentials, *, clock: Callable[[], float] = time.time) -> None:
        self.creds = creds
        self.clock = clock
        self._key = os.urandom(32)
        #: tickets whose signature was checked (the age is checked on every use)
        self._signed: set[str] = set()

    def _sign(self, text: str) -> str:
        mac = hmac.new(self._key, text.encode(), hashlib.sha256).digest()
        return base64.b64encode(mac).decode().rstrip("=")

    def login(self, username: str, password: str, realm: str | None = None) -> str:
        """Return the canonical user id, or raise AuthError("authentication failure")."""
        userid = username if "@" in username or not realm else f"{username}@{realm}"
        if userid != self.creds.user:
            raise AuthError("authentication failure")
        if hmac.compare_digest(password.encode(), self.creds.password.encode()):
            return userid
        if password.startswith("PVE:"):
            try:
                if self.verify_ticket(password) == userid:
                    return userid
            except AuthError:
                pass
        raise AuthError("authentication failure")

    def make_ticket(self, userid: str) -> str:
        plain = f"PVE:{userid}:{int(self.clock()):08X}"
        return f"{plain}::{self._sign(plain)}"

    def verify_ticket(self, ticket: str) -> str:
        plain, sep, sig = ticket.partition("::")
        parts = plain.split(":")
        if not sep or len(parts) != 3 or parts[0] != "PVE":
            raise AuthError("permission denied - invalid PVE ticket")
        if ticket not in self._signed:
            if not hmac.compare_digest(sig, self._sign(plain)):
                raise AuthError("permission denied - invalid PVE ticket")
            if len(self._signed) >= 1024:
                self._signed.clear()
            self._signed.add(ticket)
        try:
            issued = int(parts[2], 16)
        except ValueError as exc:
            raise AuthError("permission denied - invalid PVE ticket") from exc
        age = self.clock() - issued
        if age < -CLOCK_SKEW or age > TICKET_LIFETIME:
            raise AuthError("permission denied - invalid PVE ticket")
        return parts[1]

    def make_csrf(self, userid: str) -> str:
        stamp = f"{int(self.clock()):08X}"
        return f"{stamp}:{self._sign(stamp + ':' + userid)}"

    def verify_csrf(self, token: str | None, userid: str) -> bool:
        if not token or ":" not in token:
            return False
        stamp, _, sig = token.partition(":")
        if not hmac.compare_digest(sig, self._sign(stamp + ":" + userid)):
            return False
        try:
            age = self.clock() - int(stamp, 16)
        except ValueError:
            return False
        return -CLOCK_SKEW <= age <= TICKET_LIFETIME

    def verify_token(self, header: str) -> str:
        """``PVEAPIToken=USER@REALM!NAME=SECRET`` -> the token id, or raise AuthError."""
        value = header[len("PVEAPIToken") :].lstrip("= ")
        tokenid, sep, secret = value.partition("=")
        if not sep or "!" not in tokenid:
            raise AuthError("invalid token value!")
        user, _, name = tokenid.partition("!")
        known = {self.creds.token_id: self.creds.token_secret, **self.creds.more_tokens}
        if tokenid not in known:
            raise AuthError(f"no such token '{name}' for user '{user}'")
        if not hmac.compare_digest(secret.encode(), known[tokenid].encode()):
            raise AuthError("invalid token value!")
        return tokenid
