"""Authentication exchanges: cleartext, MD5 and SCRAM-SHA-256(-PLUS) through scramp.

An :class:`Authenticator` answers the server's authentication requests with
the bytes to send. It never sees a socket; channel-binding data, when TLS is
in use, is handed to it by whoever made the TLS connection.

It also enforces, as libpq does, what the client demands of the server before
it answers anything:

- ``require_auth`` (:func:`parse_require_auth`): the methods the server may
  ask for, or with ``!`` the methods it may not; ``none`` stands for no
  authentication at all (trust).
- ``channel_binding=require``: no password is ever sent outside SCRAM, and
  the login must end with a SCRAM-SHA-256-PLUS exchange bound to the TLS
  connection (so trust is refused too).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from pgany.errors import ConnectError, InterfaceError, ProtocolError
from pgany.protocol import frontend as fe
from pgany.protocol.messages import (
    AuthenticationCleartextPassword,
    AuthenticationGSS,
    AuthenticationGSSContinue,
    AuthenticationKerberosV5,
    AuthenticationMD5Password,
    AuthenticationSASL,
    AuthenticationSASLContinue,
    AuthenticationSASLFinal,
    AuthenticationSSPI,
    BackendMessage,
)

__all__ = ["REQUIRE_AUTH_METHODS", "Authenticator", "md5_password", "parse_require_auth"]

#: The method names ``require_auth`` takes (libpq 16's list).
REQUIRE_AUTH_METHODS = frozenset({"password", "md5", "gss", "sspi", "scram-sha-256", "none"})

# libpq's require_auth names for each request.
_METHOD_NAMES: dict[type, str] = {
    AuthenticationCleartextPassword: "password",
    AuthenticationMD5Password: "md5",
    AuthenticationGSS: "gss",
    AuthenticationGSSContinue: "gss",
    AuthenticationSSPI: "sspi",
    AuthenticationKerberosV5: "kerberos",
    AuthenticationSASL: "scram-sha-256",
    AuthenticationSASLContinue: "scram-sha-256",
    AuthenticationSASLFinal: "scram-sha-256",
}

# What libpq says the server asked for, when require_auth refuses it.
_REQUESTED = {
    "password": "server requested a cleartext password",
    "md5": "server requested a hashed password",
    "gss": "server requested GSSAPI authentication",
    "sspi": "server requested SSPI authentication",
    "scram-sha-256": "server requested SASL authentication",
    "kerberos": "server requested an unknown authentication type",
}

_PLUS = "SCRAM-SHA-256-PLUS"
_SCRAM = "SCRAM-SHA-256"


def parse_require_auth(value: str) -> tuple[frozenset[str], bool]:
    """Parse libpq's ``require_auth``: the methods allowed, and whether some auth is required.

    ``"md5,scram-sha-256"`` allows just those (and a server that asks for
    nothing fails); ``"!password"`` allows everything else (trust included);
    ``none`` allows (or with ``!none`` forbids) a login without any
    authentication. Negated and plain names can't be mixed; a name given
    twice is an error, as in libpq.
    """
    methods = REQUIRE_AUTH_METHODS - {"none"}
    allowed: set[str] = set()
    auth_required = True
    negated = False
    seen: set[str] = set()
    for index, raw in enumerate(value.split(",")):
        method = raw
        if method.startswith("!"):
            if index == 0:
                allowed = set(methods)
                auth_required = False
            elif not negated:
                raise InterfaceError(
                    f'negative require_auth method "{method}" cannot be mixed '
                    "with non-negative methods"
                )
            negated = True
            method = method[1:]
        elif negated:
            raise InterfaceError(
                f'require_auth method "{method}" cannot be mixed with negative methods'
            )
        if method not in REQUIRE_AUTH_METHODS:
            raise InterfaceError(f'invalid require_auth value: "{method}"')
        if method in seen:
            raise InterfaceError(f'require_auth method "{method}" is specified more than once')
        seen.add(method)
        if method == "none":
            auth_required = negated
        elif negated:
            allowed.discard(method)
        else:
            allowed.add(method)
    return frozenset(allowed), auth_required


def _final(message: str) -> ConnectError:
    """A login failure that trying another host would not cure."""
    error = ConnectError(message)
    error.final = True  # type: ignore[attr-defined]
    return error


def md5_password(user: str, password: str, salt: bytes) -> bytes:
    """PostgreSQL's MD5 answer: ``"md5" + md5(md5(password + user) + salt)``."""
    inner = hashlib.md5(password.encode("utf-8") + user.encode("utf-8")).hexdigest()
    outer = hashlib.md5(inner.encode("ascii") + salt).hexdigest()
    return b"md5" + outer.encode("ascii")


class Authenticator:
    """Answers authentication requests for one login.

    *channel_binding* is ``"disable"``, ``"prefer"`` or ``"require"``;
    *cb_data* is the ``tls-server-end-point`` hash of the server certificate
    when the connection uses TLS, else ``None``. *tls* says whether the
    connection uses TLS (``None``: unknown, taken to be ``cb_data is not
    None``, without libpq's check that a server offering
    SCRAM-SHA-256-PLUS does so over TLS). *require_auth* is libpq's
    ``require_auth`` string (see :func:`parse_require_auth`).
    """

    __slots__ = (
        "_allowed",
        "_auth_required",
        "_cb_data",
        "_channel_binding",
        "_finished",
        "_password",
        "_require_auth",
        "_sasl_done",
        "_scram",
        "_tls",
        "_user",
        "method",
    )

    def __init__(
        self,
        user: str,
        password: str | None,
        *,
        channel_binding: str = "prefer",
        cb_data: bytes | None = None,
        tls: bool | None = None,
        require_auth: str | None = None,
    ) -> None:
        self._user = user
        self._password = password
        self._channel_binding = channel_binding
        self._cb_data = cb_data
        self._tls = tls
        self._require_auth = require_auth or None
        self._allowed: frozenset[str] | None = None
        self._auth_required = False
        if self._require_auth is not None:
            self._allowed, self._auth_required = parse_require_auth(self._require_auth)
        self._scram: object | None = None
        self._sasl_done = False
        self._finished = False
        #: The method the server asked for (``"password"``, ``"md5"``, ``"scram-sha-256"``...).
        self.method: str | None = None

    def __repr__(self) -> str:
        return f"<Authenticator user={self._user!r} method={self.method!r}>"

    @property
    def _uses_tls(self) -> bool:
        return self._cb_data is not None if self._tls is None else self._tls

    # -- checks made before answering -------------------------------------------

    def _check_required(self, method: str) -> None:
        """libpq's ``require_auth``: may the server ask for *method*?"""
        if self._allowed is None or method in self._allowed:
            return
        reason = _REQUESTED.get(method, "server requested an unknown authentication type")
        raise _final(f'authentication method requirement "{self._require_auth}" failed: {reason}')

    def _refuse_without_binding(self) -> None:
        if self._channel_binding == "require":
            raise _final(
                f"channel_binding=require, but the server asks for {self.method} "
                "authentication, which has no channel binding"
            )

    def _need_password(self) -> str:
        if self._password is None or self._password == "":
            raise _final(
                f"the server asks for a password ({self.method}) for user {self._user!r} "
                "but none was given (set password, PGPASSWORD or a passfile)"
            )
        return self._password

    # -- the exchange ------------------------------------------------------------

    def handle(self, msg: BackendMessage) -> bytes:
        """The bytes that answer the authentication message *msg*."""
        method = _METHOD_NAMES.get(type(msg), type(msg).__name__)
        self._check_required(method)
        if isinstance(msg, AuthenticationSASL):
            return self._start_sasl(msg.mechanisms)
        if isinstance(msg, AuthenticationSASLContinue):
            return self._continue_sasl(msg.data)
        if isinstance(msg, AuthenticationSASLFinal):
            self._finish_sasl(msg.data)
            return b""
        self.method = method
        if isinstance(msg, AuthenticationCleartextPassword):
            self._refuse_without_binding()
            data = fe.encode_password(self._need_password().encode("utf-8"))
            self._finished = True
            return data
        if isinstance(msg, AuthenticationMD5Password):
            self._refuse_without_binding()
            data = fe.encode_password(md5_password(self._user, self._need_password(), msg.salt))
            self._finished = True
            return data
        self._refuse_without_binding()
        raise _final(
            f"the server asks for {self.method} authentication, which pgany does not support"
        )

    def _start_sasl(self, mechanisms: Sequence[str]) -> bytes:
        import scramp  # deferred: only SCRAM logins pay for the import

        offered = list(mechanisms)
        tls = self._uses_tls
        if _PLUS in offered and self._tls is False:
            # libpq: a server can't bind to a TLS connection there isn't; SSL may
            # have been stripped on the way.
            raise _final(
                "the server offered SCRAM-SHA-256-PLUS authentication over a non-SSL connection"
            )
        use_plus = (
            tls
            and self._cb_data is not None
            and self._channel_binding != "disable"
            and _PLUS in offered
        )
        if self._channel_binding == "require" and not use_plus:
            self.method = "scram-sha-256"
            raise _final(
                "channel_binding=require, but the server did not offer an authentication "
                "method that supports channel binding"
                + ("" if tls else " (the connection does not use TLS)")
            )
        if use_plus:
            mechanism = _PLUS
        elif _SCRAM in offered:
            mechanism = _SCRAM
        else:
            raise _final(f"the server offers no SASL mechanism pgany supports: {offered}")
        self.method = mechanism.lower()
        password = self._need_password()
        # With TLS, SCRAM without binding says "y" (the client could bind but thinks
        # the server can't), so a server that does offer -PLUS detects a downgrade.
        binding = None
        if self._cb_data is not None and self._channel_binding != "disable":
            binding = ("tls-server-end-point", self._cb_data)
        client = scramp.ScramClient([mechanism], self._user, password, channel_binding=binding)
        self._scram = client
        first = client.get_client_first().encode("utf-8")
        return fe.encode_sasl_initial(mechanism, first)

    def _continue_sasl(self, data: bytes) -> bytes:
        client = self._scram
        if client is None:
            raise ProtocolError("SASL challenge received before SASL started")
        try:
            client.set_server_first(data.decode("utf-8"))  # type: ignore[attr-defined]
        except Exception as exc:
            raise _final(f"SCRAM exchange failed: {exc}") from exc
        final: str = client.get_client_final()  # type: ignore[attr-defined]
        return fe.encode_sasl_response(final.encode("utf-8"))

    def _finish_sasl(self, data: bytes) -> None:
        client = self._scram
        if client is None:
            raise ProtocolError("SASL outcome received before SASL started")
        try:
            client.set_server_final(data.decode("utf-8"))  # type: ignore[attr-defined]
        except Exception as exc:
            # The server could not prove it knows the password: refuse it.
            raise _final(f"the server's SCRAM signature is invalid: {exc}") from exc
        self._sasl_done = True
        self._finished = True

    def check_complete(self) -> None:
        """Called at AuthenticationOk: is the login acceptable as it went?"""
        if self._auth_required and not self._finished:
            raise _final(
                f'authentication method requirement "{self._require_auth}" failed: '
                "server did not complete authentication"
            )
        if self._channel_binding == "require" and not (
            self.method == "scram-sha-256-plus" and self._sasl_done
        ):
            raise _final(
                "channel_binding=require, but the server authenticated the client without "
                "channel binding" + (f" ({self.method})" if self.method else " (trust)")
            )
        if self._scram is not None and not self._sasl_done:
            raise _final("the server ended SCRAM authentication without proving its identity")
