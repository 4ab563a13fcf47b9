"""Authentication exchanges: cleartext, MD5 and SCRAM-SHA-256(-PLUS) through scramp.

An :class:`Authenticator` answers the server's authentication requests with
the bytes to send. It never sees a socket; channel-binding data, when TLS is
in use, is handed to it by whoever made the TLS connection.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from pgany.errors import ConnectError, ProtocolError
from pgany.protocol import frontend as fe
from pgany.protocol.messages import (
    AuthenticationCleartextPassword,
    AuthenticationGSS,
    AuthenticationKerberosV5,
    AuthenticationMD5Password,
    AuthenticationSASL,
    AuthenticationSASLContinue,
    AuthenticationSASLFinal,
    AuthenticationSSPI,
    BackendMessage,
)

__all__ = ["Authenticator", "md5_password"]

# libpq's require_auth names for each method.
_METHOD_NAMES = {
    AuthenticationCleartextPassword: "password",
    AuthenticationMD5Password: "md5",
    AuthenticationGSS: "gss",
    AuthenticationSSPI: "sspi",
    AuthenticationKerberosV5: "kerberos",
}


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
    when the connection uses TLS, else ``None``.
    """

    __slots__ = (
        "_cb_data",
        "_channel_binding",
        "_password",
        "_sasl_done",
        "_scram",
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
    ) -> None:
        self._user = user
        self._password = password
        self._channel_binding = channel_binding
        self._cb_data = cb_data
        self._scram: object | None = None
        self._sasl_done = False
        #: The method the server asked for (``"password"``, ``"md5"``, ``"scram-sha-256"``...).
        self.method: str | None = None

    def __repr__(self) -> str:
        return f"<Authenticator user={self._user!r} method={self.method!r}>"

    def _need_password(self) -> str:
        if self._password is None:
            raise _final(
                f"the server asks for a password ({self.method}) for user {self._user!r} "
                "but none was given (set password, PGPASSWORD or a passfile)"
            )
        return self._password

    def _refuse_without_binding(self) -> None:
        if self._channel_binding == "require":
            raise _final(
                f"channel_binding=require, but the server asks for {self.method} "
                "authentication, which has no channel binding"
            )

    def handle(self, msg: BackendMessage) -> bytes:
        """The bytes that answer the authentication message *msg*."""
        if isinstance(msg, AuthenticationSASL):
            return self._start_sasl(msg.mechanisms)
        if isinstance(msg, AuthenticationSASLContinue):
            return self._continue_sasl(msg.data)
        if isinstance(msg, AuthenticationSASLFinal):
            self._finish_sasl(msg.data)
            return b""
        self.method = _METHOD_NAMES.get(type(msg), type(msg).__name__)
        if isinstance(msg, AuthenticationCleartextPassword):
            self._refuse_without_binding()
            return fe.encode_password(self._need_password().encode("utf-8"))
        if isinstance(msg, AuthenticationMD5Password):
            self._refuse_without_binding()
            return fe.encode_password(md5_password(self._user, self._need_password(), msg.salt))
        raise _final(
            f"the server asks for {self.method} authentication, which pgany does not support"
        )

    def _start_sasl(self, mechanisms: Sequence[str]) -> bytes:
        import scramp  # deferred: only SCRAM logins pay for the import

        offered = list(mechanisms)
        use_plus = (
            self._cb_data is not None
            and self._channel_binding != "disable"
            and "SCRAM-SHA-256-PLUS" in offered
        )
        if use_plus:
            mechanism = "SCRAM-SHA-256-PLUS"
        elif "SCRAM-SHA-256" in offered:
            mechanism = "SCRAM-SHA-256"
        else:
            raise _final(f"the server offers no SASL mechanism pgany supports: {offered}")
        self.method = mechanism.lower()
        if self._channel_binding == "require" and not use_plus:
            raise _final(
                "channel_binding=require, but the server does not offer SCRAM-SHA-256-PLUS "
                "on this connection" + ("" if self._cb_data else " (it is not using TLS)")
            )
        password = self._need_password()
        binding = ("tls-server-end-point", self._cb_data) if use_plus else None
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

    def check_complete(self) -> None:
        """Called at AuthenticationOk: a SASL exchange must have been finished."""
        if self._channel_binding == "require" and self.method != "scram-sha-256-plus":
            raise _final(
                "channel_binding=require, but the server authenticated without channel binding"
                + (f" ({self.method})" if self.method else " (trust)")
            )
        if self._scram is not None and not self._sasl_done:
            raise _final("the server ended SCRAM authentication without proving its identity")
