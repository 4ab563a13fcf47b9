"""Opening a session the way libpq does: hosts, addresses, TLS, startup, session checks.

For each host of the configuration in turn (shuffled with
``load_balance_hosts=random``), every address its name resolves to is tried
in turn, each within ``connect_timeout``. On each address:

1. the transport: TCP (with keepalives) or a Unix-domain socket (checked
   against ``requirepeer``);
2. encryption as ``sslmode`` says, following libpq: ``disable`` never uses
   TLS; ``allow`` starts in plain text and retries with TLS if the server
   refuses the session; ``prefer`` asks for TLS (SSLRequest), goes on in
   plain text on the same connection if the server answers ``N``, and
   retries in plain text if the TLS handshake fails or the server refuses the
   session; ``require`` and the ``verify-*`` modes use TLS or fail. With
   ``sslnegotiation=direct`` the TLS handshake starts at once (ALPN
   ``postgresql``). Unix-domain sockets never use TLS, whatever ``sslmode``
   says, as in libpq;
3. startup and authentication (the password, if none was given, comes from
   the password file);
4. ``target_session_attrs``: a server of the wrong kind is left for the next
   host (``prefer-standby`` tries every host for a standby, then again for
   anything).

As in libpq, only failures to reach a server move on to the next address or
host: a refused or timed-out connection, a name that does not resolve, a
server that is starting up or shutting down (SQLSTATE 57P03), or one of the
wrong kind. Anything else the server (or the TLS layer) says ends the attempt:
a failed login raises the server's error itself (SQLSTATE class 28); other
failures raise :class:`~pgany.ConnectError`, listing every host and address
tried and why each failed.
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import random
import socket
import ssl
import struct
import sys
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import NoReturn

import anyio
import anyio.abc
from anyio.streams.tls import TLSAttribute, TLSStream

from pgany import _aio
from pgany._pgpass import lookup_password
from pgany._tls import (
    ALPN_PROTOCOL,
    check_host_name,
    end_point_hash,
    make_ssl_context,
)
from pgany.config import Config, HostSpec
from pgany.errors import (
    CannotConnectNow,
    ConnectError,
    DatabaseError,
    InvalidAuthorizationSpecification,
    InvalidPassword,
    ProtocolError,
)
from pgany.protocol import NEED_DATA, Connected, Connection
from pgany.protocol import frontend as fe
from pgany.protocol.messages import NoticeResponse
from pgany.protocol.pipeline import Request

__all__ = [
    "Session",
    "channel_binding_data",
    "make_ssl_context",
    "open_session",
    "open_stream",
    "startup",
]


# Errors that mean "this attempt failed" (rather than a bug, or cancellation).
_ATTEMPT_ERRORS = (
    OSError,
    ssl.SSLError,
    anyio.BrokenResourceError,
    anyio.EndOfStream,
    anyio.ClosedResourceError,
    ProtocolError,
    ConnectError,
    DatabaseError,
)


@dataclass
class Session:
    """An authenticated session, ready for requests."""

    stream: anyio.abc.ByteStream
    proto: Connection
    #: The host connected to, with ``hostaddr`` the address used and ``tls`` set.
    host: HostSpec
    tls: bool
    #: Notices the server sent before the session was handed over (startup,
    #: the target_session_attrs check), in order: delivered before any later one.
    notices: list[NoticeResponse] = field(default_factory=list)


class _Failure:
    """One failed attempt: where, and why."""

    __slots__ = ("address", "error", "host")

    def __init__(self, host: HostSpec, address: str | None, error: BaseException) -> None:
        self.host = host
        self.address = address
        self.error = error

    def __str__(self) -> str:
        label = str(self.host)
        if self.address and self.address != self.host.name:
            label += f" ({self.address})"
        return f"{label}: {_describe(self.error)}"


@dataclass
class _Attempts:
    """Every failure so far, for the final :class:`~pgany.ConnectError`."""

    failures: list[_Failure] = field(default_factory=list)

    def add(self, host: HostSpec, address: str | None, error: BaseException) -> None:
        self.failures.append(_Failure(host, address, error))

    def error(self) -> ConnectError:
        hosts = {(f.host.host, f.host.hostaddr, f.host.port) for f in self.failures}
        plural = "s" if len(hosts) != 1 else ""
        lines = "\n".join(f"  {f}" for f in self.failures)
        error = ConnectError(f"could not connect to {len(hosts)} host{plural}:\n{lines}")
        error.attempts = [(f.host, f.error) for f in self.failures]  # type: ignore[attr-defined]
        return error


class _NextHost(Exception):
    """This host won't do (wrong kind of server, or not accepting connections): try the next."""


class _TLSFailed(Exception):
    """The TLS handshake (or the certificate check after it) failed; ``__cause__`` says why."""


class _NegotiationFailed(ConnectError):
    """The server answered SSLRequest with an error or a byte that means nothing.

    Like libpq, that ends this address: no retry with the other encryption
    method (``prefer``, ``allow``), on to the next address or host.
    """


def _describe(exc: BaseException) -> str:
    if isinstance(exc, DatabaseError):
        return f"{exc.severity}: {exc.message} (SQLSTATE {exc.sqlstate})"
    if isinstance(exc, _TLSFailed):
        return str(exc)
    if isinstance(exc, OSError):
        cause = exc.__cause__
        if not exc.errno and isinstance(cause, OSError):
            exc = cause  # anyio's "All connection attempts failed" wraps the real one
        if exc.errno:
            return os.strerror(exc.errno)
        if exc.strerror:
            return exc.strerror
    if isinstance(exc, anyio.EndOfStream):
        return "the server closed the connection unexpectedly"
    if isinstance(exc, anyio.BrokenResourceError):
        cause = exc.__cause__
        return _describe(cause) if cause is not None else "the connection broke"
    return str(exc) or type(exc).__name__


@contextlib.contextmanager
def _time_limit(seconds: float | None) -> Iterator[None]:
    if seconds:
        with anyio.fail_after(seconds):
            yield
    else:
        yield


# -- sessions -------------------------------------------------------------------------------


async def open_session(config: Config) -> Session:
    """Connect to the first suitable host, or raise (see the module's description)."""
    hosts = config.hosts()
    if config.load_balance_hosts == "random":
        random.shuffle(hosts)
    attempts = _Attempts()
    contexts = _Contexts(config)
    passwords: dict[HostSpec, tuple[str, str] | None] = {}
    target = config.target_session_attrs
    passes = ("standby", "any") if target == "prefer-standby" else (target,)
    for wanted in passes:
        for host in hosts:
            if host not in passwords:
                passwords[host] = _password_for(config, host)
            session = await _try_host(config, host, wanted, attempts, contexts, passwords[host])
            if session is not None:
                return session
    raise attempts.error() from (attempts.failures[-1].error if attempts.failures else None)


def _password_for(config: Config, host: HostSpec) -> tuple[str, str] | None:
    """``(password, source file)`` from the password file, when none is configured."""
    if config.password:
        return None
    return lookup_password(
        config.passfile, host, config.effective_dbname(), config.effective_user()
    )


class _Contexts:
    """The TLS context, made on first use and shared by every attempt."""

    def __init__(self, config: Config) -> None:
        self._config = config
        self._ctx: ssl.SSLContext | None = None

    def get(self) -> ssl.SSLContext:
        if self._ctx is None:
            self._ctx = make_ssl_context(self._config)
        return self._ctx


async def _try_host(
    config: Config,
    host: HostSpec,
    wanted: str,
    attempts: _Attempts,
    contexts: _Contexts,
    stored: tuple[str, str] | None,
) -> Session | None:
    """Try each address of *host*; ``None`` if it won't do (recorded in *attempts*)."""
    if host.is_unix:
        addresses: list[str | None] = [None]
    else:
        try:
            with _time_limit(config.connect_timeout):
                found = await _resolve(host)
        except TimeoutError:
            attempts.add(host, None, ConnectError("timeout expired while resolving the name"))
            return None
        except OSError as exc:
            reason = exc.strerror or str(exc)
            attempts.add(
                host, None, ConnectError(f'could not translate host name "{host.name}": {reason}')
            )
            return None
        if config.load_balance_hosts == "random":
            random.shuffle(found)
        addresses = list(found)
    for address in addresses:
        try:
            with _time_limit(config.connect_timeout):
                return await _try_address(config, host, address, wanted, attempts, contexts, stored)
        except TimeoutError:
            timeout = config.connect_timeout or 0
            attempts.add(host, address, ConnectError(f"timed out after {timeout:g} s"))
        except _NextAddress:
            pass
        except _NextHost:
            return None
    return None


class _NextAddress(Exception):
    """The transport could not be opened: try the next address."""


async def _resolve(host: HostSpec) -> list[str]:
    target = host.hostaddr or host.host
    # An IP address needs no resolving (and no trip to a worker thread).
    try:
        socket.inet_pton(socket.AF_INET, target)  # (the usual case, checked fast)
        return [target]
    except (OSError, ValueError):
        pass
    try:
        return [ipaddress.ip_address(target).compressed]
    except ValueError:
        pass
    infos = await anyio.getaddrinfo(target, host.port, type=socket.SOCK_STREAM)
    addresses: list[str] = []
    for *_, sockaddr in infos:
        address = str(sockaddr[0])
        if address not in addresses:
            addresses.append(address)
    return addresses


def _methods(config: Config, host: HostSpec) -> list[bool]:
    """The encryption to try on one address, in order (``True`` = TLS)."""
    if host.is_unix:
        return [False]  # libpq: sslmode is ignored for Unix-domain sockets
    mode = config.sslmode
    if mode == "disable":
        return [False]
    if mode == "allow":
        return [False, True]
    if mode == "prefer":
        return [True, False]
    return [True]


async def _try_address(
    config: Config,
    host: HostSpec,
    address: str | None,
    wanted: str,
    attempts: _Attempts,
    contexts: _Contexts,
    stored: tuple[str, str] | None,
) -> Session:
    """Connect to one address with each encryption method in turn (libpq's retry rules)."""
    methods = _methods(config, host)
    errors: list[BaseException] = []
    index = 0
    while index < len(methods):
        use_tls = methods[index]
        index += 1
        try:
            stream = await _open_transport(config, host, address)
        except OSError as exc:
            attempts.add(host, address, exc)
            raise _NextAddress from exc
        try:
            if use_tls:
                fallback = False in methods[index:]
                stream, use_tls = await _negotiate_tls(
                    stream, config, host, contexts, plain_fallback=fallback
                )
                if not use_tls:  # prefer, and the server said "N": plain text it is
                    methods = methods[:index]
            password = config.password or (stored[0] if stored else None)
            notices: list[NoticeResponse] = []
            proto = await _start(stream, config, password, use_tls, notices)
        except _NegotiationFailed as exc:
            await anyio.aclose_forcefully(stream)
            attempts.add(host, address, exc)
            raise _NextAddress from exc
        except (*_ATTEMPT_ERRORS, _TLSFailed) as exc:
            await anyio.aclose_forcefully(stream)
            if getattr(exc, "final", False):
                raise  # the client refused the login (require_auth, channel_binding...)
            attempts.add(host, address, exc)
            # (starting up, shutting down, in recovery: try the next host)
            if isinstance(exc, CannotConnectNow):
                raise _NextHost from exc
            errors.append(exc)
            if index < len(methods):
                continue  # libpq tries the other encryption method
            _give_up(attempts, errors, stored)
        except BaseException:
            await anyio.aclose_forcefully(stream)
            raise
        connected = HostSpec(host.host, host.port, address or host.hostaddr, tls=use_tls)
        session = Session(stream, proto, connected, use_tls, notices)
        try:
            reason = await _check_session(session, wanted)
        except _ATTEMPT_ERRORS as exc:
            await anyio.aclose_forcefully(stream)
            attempts.add(host, address, exc)
            raise attempts.error() from exc
        except BaseException:
            await anyio.aclose_forcefully(stream)
            raise
        if reason is None:
            return session
        attempts.add(host, address, ConnectError(reason))
        await _close_politely(session)
        raise _NextHost
    raise AssertionError("unreachable")  # pragma: no cover


def _give_up(
    attempts: _Attempts, errors: list[BaseException], stored: tuple[str, str] | None
) -> NoReturn:
    """Every method failed on this address: raise the login error, or a ConnectError."""
    # (class 28, invalid authorization specification: never retried on another host)
    login = [e for e in errors if isinstance(e, InvalidAuthorizationSpecification)]
    if login:
        error = login[-1]
        if (
            stored is not None
            and isinstance(error, InvalidPassword)
            and sys.version_info >= (3, 11)
        ):
            error.add_note(f'password retrieved from file "{stored[1]}"')
        raise error
    raise attempts.error() from errors[-1]


async def _open_transport(
    config: Config, host: HostSpec, address: str | None
) -> anyio.abc.ByteStream:
    # pgany's own socket streams (see _aio and _trio): they read with fewer
    # system calls and scheduler trips than anyio's, which are what a small
    # query's round trip is made of.
    open_socket = _aio.open_socket if _aio.on_asyncio() else _trio_open_socket()
    if host.is_unix:
        unix = await open_socket(socket.AF_UNIX, host.socket_path)
        if config.requirepeer:
            try:
                _check_peer(unix, config.requirepeer)
            except BaseException:
                await anyio.aclose_forcefully(unix)
                raise
        return unix
    if address is None:  # (a cancel request's connection: resolve as anyio does)
        tcp = await anyio.connect_tcp(host.hostaddr or host.host, host.port)
    else:
        family = socket.AF_INET6 if ":" in address else socket.AF_INET
        tcp = await open_socket(family, (address, host.port))
    _set_keepalives(tcp, config)
    return tcp


_SocketOpener = Callable[[int, str | tuple[str, int]], Awaitable[anyio.abc.SocketStream]]


def _trio_open_socket() -> _SocketOpener:
    from pgany import _trio  # (trio is installed: it runs)

    return _trio.open_socket


def _check_peer(stream: anyio.abc.SocketStream, required: str) -> None:
    """libpq's ``requirepeer``: the server process must run as this operating-system user."""
    sock: socket.socket = stream.extra(anyio.abc.SocketAttribute.raw_socket)
    peercred = getattr(socket, "SO_PEERCRED", None)
    if peercred is None:
        raise ConnectError("requirepeer parameter is not supported on this platform")
    try:
        import pwd

        creds = sock.getsockopt(socket.SOL_SOCKET, peercred, struct.calcsize("3i"))
        _, uid, _ = struct.unpack("3i", creds)
        name = pwd.getpwuid(uid).pw_name
    except (OSError, KeyError) as exc:
        raise ConnectError(f"could not get peer credentials: {exc}") from exc
    if name != required:
        raise ConnectError(
            f'requirepeer specifies "{required}", but actual peer user name is "{name}"'
        )


def _set_keepalives(stream: anyio.abc.SocketStream, config: Config) -> None:
    sock: socket.socket = stream.extra(anyio.abc.SocketAttribute.raw_socket)
    # (TCP_NODELAY is set where the socket is made, by pgany's streams as by anyio's)
    options: list[tuple[int, int, int]] = []
    if config.keepalives:
        options.append((socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1))
        for value, name in (
            (config.keepalives_idle, "TCP_KEEPIDLE"),
            (config.keepalives_interval, "TCP_KEEPINTVL"),
            (config.keepalives_count, "TCP_KEEPCNT"),
        ):
            if value is not None and hasattr(socket, name):
                options.append((socket.IPPROTO_TCP, getattr(socket, name), value))
    if config.tcp_user_timeout is not None and hasattr(socket, "TCP_USER_TIMEOUT"):
        options.append((socket.IPPROTO_TCP, socket.TCP_USER_TIMEOUT, config.tcp_user_timeout))
    for level, option, value in options:
        with contextlib.suppress(OSError):  # not every platform has every option
            sock.setsockopt(level, option, value)


# -- TLS --------------------------------------------------------------------------------------


async def _negotiate_tls(
    stream: anyio.abc.ByteStream,
    config: Config,
    host: HostSpec,
    contexts: _Contexts,
    *,
    plain_fallback: bool,
) -> tuple[anyio.abc.ByteStream, bool]:
    """Start TLS; ``(stream, False)`` if the server declines and *plain_fallback* allows it.

    The TLS context is made only when TLS is really going to start (making
    one costs more than the rest of a connect when the server says no).
    """
    if config.sslmode == "verify-full" and not host.host:
        raise ConnectError("host name must be specified for a verified SSL connection")
    if config.sslnegotiation == "direct":
        return await _handshake(stream, config, host, contexts.get(), direct=True), True
    await stream.send(fe.encode_frontend(fe.SSLRequest()))
    try:
        answer = await stream.receive(1)
    except anyio.EndOfStream:
        raise ConnectError("the server closed the connection in answer to SSLRequest") from None
    if answer == b"S":
        return await _handshake(stream, config, host, contexts.get(), direct=False), True
    if answer == b"N":
        if plain_fallback:
            return stream, False
        raise ConnectError(
            f"the server does not support SSL, but SSL was required (sslmode={config.sslmode})"
        )
    if answer == b"E":
        # An ErrorResponse (a server out of connections, say). Like libpq, its
        # text is not read: the server has not proven who it is yet.
        raise _NegotiationFailed("server sent an error response during SSL exchange")
    shown = answer.decode("latin-1")
    if not shown.isprintable():
        shown = f"\\x{answer[0]:02x}"
    raise _NegotiationFailed(f"received invalid response to SSL negotiation: {shown}")


async def _handshake(
    stream: anyio.abc.ByteStream,
    config: Config,
    host: HostSpec,
    ctx: ssl.SSLContext,
    *,
    direct: bool,
) -> anyio.abc.ByteStream:
    server_name = host.host if config.sslsni and host.host else None
    try:
        tls = await TLSStream.wrap(
            stream,
            server_side=False,
            hostname=server_name,
            ssl_context=ctx,
            standard_compatible=False,
        )
    except ssl.SSLCertVerificationError as exc:
        raise _TLSFailed(
            f"the server certificate could not be verified: {exc.verify_message}"
        ) from exc
    except ssl.SSLError as exc:
        raise _TLSFailed(f"the TLS handshake failed: {exc.reason or exc}") from exc
    except (anyio.EndOfStream, anyio.BrokenResourceError) as exc:
        what = " (is the server older than PostgreSQL 17?)" if direct else ""
        raise _TLSFailed(
            f"the server closed the connection during the TLS handshake{what}"
        ) from exc
    try:
        ssl_object = tls.extra(TLSAttribute.ssl_object)
        if direct and ssl_object.selected_alpn_protocol() != ALPN_PROTOCOL:
            raise _TLSFailed(
                "direct SSL connection was established without ALPN protocol "
                f"negotiation extension (expected {ALPN_PROTOCOL!r})"
            )
        if config.sslmode == "verify-full":
            try:
                check_host_name(ssl_object.getpeercert() or {}, host.host)
            except ConnectError as exc:
                raise _TLSFailed(str(exc)) from None
    except BaseException:
        await anyio.aclose_forcefully(tls)
        raise
    return tls


def channel_binding_data(stream: anyio.abc.ByteStream) -> bytes | None:
    """The ``tls-server-end-point`` hash of the server certificate, if the stream uses TLS."""
    try:
        ssl_object = stream.extra(TLSAttribute.ssl_object)
    except anyio.TypedAttributeLookupError:
        return None
    der = ssl_object.getpeercert(binary_form=True)
    if not der:
        return None
    return end_point_hash(der)


# -- startup ---------------------------------------------------------------------------------


async def _start(
    stream: anyio.abc.ByteStream,
    config: Config,
    password: str | None,
    tls: bool,
    notices: list[NoticeResponse],
) -> Connection:
    cb_data = channel_binding_data(stream) if tls else None
    params = config.startup_parameters()
    proto = Connection(
        params,
        password=password,
        channel_binding=config.channel_binding,
        cb_data=cb_data,
        tls=tls,
        require_auth=config.require_auth,
    )
    await startup(stream, proto, notices)
    return proto


async def startup(
    stream: anyio.abc.ByteStream, proto: Connection, notices: list[NoticeResponse]
) -> None:
    """Run the startup and authentication exchange until the server is ready.

    The notices the server sends meanwhile are added to *notices*, in order.
    """
    while True:
        out = proto.data_to_send()
        if out:
            await stream.send(out)
        try:
            data = await stream.receive(65536)
        except anyio.EndOfStream:
            data = b""
        proto.receive_data(data)
        while True:
            event = proto.next_event()
            if event is NEED_DATA:
                break
            if isinstance(event, Connected):
                return
            if type(event) is NoticeResponse:
                notices.append(event)
            # (The core keeps ParameterStatus values itself.)
        if not data:
            raise ConnectError("the server closed the connection during startup")


# -- target_session_attrs --------------------------------------------------------------------


async def _check_session(session: Session, wanted: str) -> str | None:
    """Why the session does not suit ``target_session_attrs`` (``None`` if it does).

    Like libpq, the ``in_hot_standby`` and ``default_transaction_read_only``
    parameters the server reports (PostgreSQL 14+) decide; older servers are
    asked with ``SHOW transaction_read_only`` or ``pg_is_in_recovery()``.
    """
    if wanted == "any":
        return None
    params = session.proto.parameters
    if wanted in ("read-write", "read-only"):
        if "in_hot_standby" in params and "default_transaction_read_only" in params:
            read_only = "on" in (params["in_hot_standby"], params["default_transaction_read_only"])
        else:
            read_only = await _query_value(session, "SHOW transaction_read_only") == "on"
        if wanted == "read-write" and read_only:
            return "session is read-only"
        if wanted == "read-only" and not read_only:
            return "session is not read-only"
        return None
    if "in_hot_standby" in params:
        standby = params["in_hot_standby"] == "on"
    else:
        standby = await _query_value(session, "SELECT pg_catalog.pg_is_in_recovery()") == "t"
    if wanted == "primary" and standby:
        return "server is in hot standby mode"
    if wanted == "standby" and not standby:
        return "server is not in hot standby mode"
    return None


def _first_text_column(buf: memoryview, start: int, end: int) -> str | None:
    (length,) = struct.unpack_from("!i", buf, start + 2)
    if length < 0:
        return None
    return bytes(buf[start + 6 : start + 6 + length]).decode("utf-8")


async def _query_value(session: Session, sql: str) -> str | None:
    """The first column of the first row of *sql*, run with the simple protocol."""
    proto, stream = session.proto, session.stream
    request = Request(simple=True, row_factory_for=lambda _desc: _first_text_column)
    proto.send_request(fe.encode_query(sql), request)
    await stream.send(proto.data_to_send())
    while not request.done:
        event = proto.next_event()
        if type(event) is NoticeResponse:
            session.notices.append(event)
        if event is not NEED_DATA:
            continue
        try:
            data = await stream.receive(65536)
        except anyio.EndOfStream:
            raise ConnectError(
                f"the server closed the connection while answering {sql!r}"
            ) from None
        proto.receive_data(data)
    if request.error is not None:
        raise ConnectError(f"could not check the session with {sql!r}: {request.error}")
    rows = request.results[0].rows if request.results else []
    value: str | None = rows[0] if rows else None
    return value


async def _close_politely(session: Session) -> None:
    with anyio.CancelScope(shield=True):
        try:
            session.proto.terminate()
            out = session.proto.data_to_send()
            if out:
                await session.stream.send(out)
        except Exception:  # closing anyway
            pass
        await anyio.aclose_forcefully(session.stream)


# -- streams for cancel requests -------------------------------------------------------------


async def open_stream(config: Config, host: HostSpec) -> tuple[anyio.abc.ByteStream, bool]:
    """Open a transport to *host*, encrypted as its session was (for a CancelRequest).

    *host* is usually :attr:`Session.host`: its ``hostaddr`` is the address
    the session used and its ``tls`` whether it used TLS. For a host not
    connected yet (``tls`` is ``None``), ``sslmode`` decides as for a session.
    """
    stream = await _open_transport(config, host, None)
    if host.is_unix:
        return stream, False
    if host.tls is None:
        use_tls = config.sslmode not in ("disable", "allow")
        fallback = config.sslmode == "prefer"
    else:
        use_tls, fallback = host.tls, False
    if not use_tls:
        return stream, False
    try:
        return await _negotiate_tls(
            stream, config, host, _Contexts(config), plain_fallback=fallback
        )
    except _TLSFailed as exc:
        await anyio.aclose_forcefully(stream)
        raise ConnectError(str(exc)) from exc.__cause__
    except BaseException:
        await anyio.aclose_forcefully(stream)
        raise
