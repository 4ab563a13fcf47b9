"""Opening a session: sockets, TLS negotiation, startup and authentication.

For each host of the configuration in turn: open a TCP or Unix-domain
stream, negotiate TLS as ``sslmode`` says, then run the startup exchange of
the sans-I/O core until the server is ready. Every failure is remembered so
that :class:`~pgany.ConnectError` can say which hosts were tried and why each
failed.
"""

from __future__ import annotations

import hashlib
import random
import socket
import ssl
from dataclasses import dataclass

import anyio
import anyio.abc
from anyio.streams.tls import TLSAttribute, TLSStream

from pgany.config import Config, HostSpec
from pgany.errors import ConnectError, DatabaseError, InterfaceError
from pgany.protocol import NEED_DATA, Connected, Connection
from pgany.protocol import frontend as fe

__all__ = ["Session", "open_session", "open_stream"]

_AUTH_CLASS = "28"  # invalid authorization specification: never retried on another host


@dataclass
class Session:
    """An authenticated session, ready for requests."""

    stream: anyio.abc.ByteStream
    proto: Connection
    host: HostSpec
    tls: bool


async def open_session(config: Config) -> Session:
    """Connect to the first host that accepts, or raise :class:`~pgany.ConnectError`."""
    hosts = config.hosts()
    if config.load_balance_hosts == "random":
        random.shuffle(hosts)
    failures: list[tuple[HostSpec, BaseException]] = []
    for host in hosts:
        try:
            if config.connect_timeout:
                with anyio.fail_after(config.connect_timeout):
                    return await _open_one(config, host)
            return await _open_one(config, host)
        except DatabaseError as exc:
            if exc.sqlstate.startswith(_AUTH_CLASS):
                raise  # like libpq: a failed login does not move on to the next host
            failures.append((host, exc))
        except ConnectError as exc:
            if getattr(exc, "final", False):
                raise
            failures.append((host, exc))
        except TimeoutError:
            failures.append((host, TimeoutError(f"timed out after {config.connect_timeout:g} s")))
        except (OSError, anyio.BrokenResourceError, anyio.EndOfStream, ssl.SSLError) as exc:
            failures.append((host, exc))
    lines = [f"  {host}: {_describe(exc)}" for host, exc in failures]
    plural = "s" if len(failures) != 1 else ""
    error = ConnectError(f"could not connect to {len(failures)} host{plural}:\n" + "\n".join(lines))
    error.attempts = failures  # type: ignore[attr-defined]
    raise error from (failures[-1][1] if failures else None)


def _describe(exc: BaseException) -> str:
    if isinstance(exc, DatabaseError):
        return f"{exc.severity}: {exc.message} (SQLSTATE {exc.sqlstate})"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    text = str(exc) or type(exc).__name__
    return text


async def open_stream(config: Config, host: HostSpec) -> tuple[anyio.abc.ByteStream, bool]:
    """Open the transport to *host*, with TLS when ``sslmode`` asks for it."""
    stream: anyio.abc.ByteStream
    if host.is_unix:
        stream = await anyio.connect_unix(host.socket_path)
        if config.sslmode in ("require", "verify-ca", "verify-full"):
            await stream.aclose()
            raise ConnectError(f"sslmode={config.sslmode} cannot be used over a Unix-domain socket")
        return stream, False
    target = host.hostaddr or host.host
    tcp = await anyio.connect_tcp(target, host.port)
    _set_keepalives(tcp, config)
    if config.sslmode in ("disable", "allow"):
        return tcp, False
    try:
        return await _negotiate_tls(tcp, config, host)
    except BaseException:
        await anyio.aclose_forcefully(tcp)
        raise


def _set_keepalives(stream: anyio.abc.SocketStream, config: Config) -> None:
    sock: socket.socket = stream.extra(anyio.abc.SocketAttribute.raw_socket)
    try:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if config.keepalives:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
            if config.keepalives_idle is not None and hasattr(socket, "TCP_KEEPIDLE"):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE, config.keepalives_idle)
            if config.keepalives_interval is not None and hasattr(socket, "TCP_KEEPINTVL"):
                sock.setsockopt(
                    socket.IPPROTO_TCP, socket.TCP_KEEPINTVL, config.keepalives_interval
                )
            if config.keepalives_count is not None and hasattr(socket, "TCP_KEEPCNT"):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPCNT, config.keepalives_count)
        if config.tcp_user_timeout is not None and hasattr(socket, "TCP_USER_TIMEOUT"):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_USER_TIMEOUT, config.tcp_user_timeout)
    except OSError:  # not every platform has every option
        pass


def make_ssl_context(config: Config) -> ssl.SSLContext:
    """The TLS context for ``sslmode`` and the ``ssl*`` keys, as libpq builds it."""
    verify = config.sslmode in ("verify-ca", "verify-full")
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = config.sslmode == "verify-full"
    if verify:
        ctx.verify_mode = ssl.CERT_REQUIRED
        if config.sslrootcert == "system":
            ctx.load_default_certs()
        else:
            root = config.sslrootcert or _default_path("root.crt")
            try:
                ctx.load_verify_locations(cafile=root)
            except (OSError, ssl.SSLError) as exc:
                raise ConnectError(
                    f"sslmode={config.sslmode} needs a root certificate; could not read {root}: {exc}"
                ) from None
    else:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        if config.sslrootcert and config.sslmode == "require":
            # libpq: require with a root certificate behaves like verify-ca.
            ctx.verify_mode = ssl.CERT_REQUIRED
            ctx.load_verify_locations(cafile=config.sslrootcert)
    ctx.minimum_version = _tls_version(config.ssl_min_protocol_version) or ssl.TLSVersion.TLSv1_2
    if config.ssl_max_protocol_version:
        ctx.maximum_version = (
            _tls_version(config.ssl_max_protocol_version) or ssl.TLSVersion.MAXIMUM_SUPPORTED
        )
    if config.sslcert:
        try:
            ctx.load_cert_chain(config.sslcert, config.sslkey, password=config.sslpassword)
        except (OSError, ssl.SSLError) as exc:
            raise ConnectError(
                f"could not load the client certificate {config.sslcert}: {exc}"
            ) from None
    if config.sslnegotiation == "direct":
        ctx.set_alpn_protocols(["postgresql"])
    return ctx


def _tls_version(name: str | None) -> ssl.TLSVersion | None:
    if not name:
        return None
    versions = {
        "TLSv1": ssl.TLSVersion.TLSv1,
        "TLSv1.1": ssl.TLSVersion.TLSv1_1,
        "TLSv1.2": ssl.TLSVersion.TLSv1_2,
        "TLSv1.3": ssl.TLSVersion.TLSv1_3,
    }
    if name not in versions:
        raise InterfaceError(f"invalid TLS protocol version {name!r}")
    return versions[name]


def _default_path(name: str) -> str:
    import os

    return os.path.join(os.path.expanduser("~"), ".postgresql", name)


async def _negotiate_tls(
    tcp: anyio.abc.SocketStream, config: Config, host: HostSpec
) -> tuple[anyio.abc.ByteStream, bool]:
    ctx = make_ssl_context(config)
    server_name = host.host if not host.is_unix else None
    if config.sslnegotiation == "direct":
        if config.sslmode not in ("require", "verify-ca", "verify-full"):
            raise ConnectError("sslnegotiation=direct needs sslmode=require or stronger")
        tls = await TLSStream.wrap(
            tcp, hostname=server_name, ssl_context=ctx, standard_compatible=False
        )
        return tls, True
    await tcp.send(fe.encode_frontend(fe.SSLRequest()))
    answer = await tcp.receive(1)
    if answer == b"S":
        try:
            tls = await TLSStream.wrap(
                tcp, hostname=server_name, ssl_context=ctx, standard_compatible=False
            )
        except ssl.SSLCertVerificationError as exc:
            raise ConnectError(
                f"the server's certificate is not trusted: {exc.verify_message}"
            ) from exc
        return tls, True
    if answer == b"N":
        if config.sslmode == "prefer":
            return tcp, False
        raise ConnectError(
            f"the server does not support TLS, and sslmode={config.sslmode} requires it"
        )
    if answer == b"E":
        raise ConnectError(
            "the server answered the SSLRequest with an error (is it older than 7.0?)"
        )
    raise ConnectError(f"unexpected answer to SSLRequest: {answer!r}")


def channel_binding_data(stream: anyio.abc.ByteStream) -> bytes | None:
    """The ``tls-server-end-point`` hash of the server certificate, if the stream uses TLS."""
    try:
        ssl_object = stream.extra(TLSAttribute.ssl_object)
    except anyio.TypedAttributeLookupError:
        return None
    der = ssl_object.getpeercert(binary_form=True)
    if not der:
        return None
    return _end_point_hash(der)


def _end_point_hash(der: bytes) -> bytes:
    # RFC 5929: hash with the certificate's signature hash, SHA-256 for MD5 and SHA-1.
    algo = "sha256"
    try:
        from cryptography import x509

        cert = x509.load_der_x509_certificate(der)
        name = cert.signature_hash_algorithm.name if cert.signature_hash_algorithm else "sha256"
        if name not in ("md5", "sha1"):
            algo = name
    except Exception:  # cryptography missing: SHA-256 is right for nearly all certificates
        pass
    return hashlib.new(algo, der).digest()


async def _open_one(config: Config, host: HostSpec) -> Session:
    stream, tls = await open_stream(config, host)
    try:
        proto = Connection(
            config.startup_parameters(),
            password=config.password,
            channel_binding=config.channel_binding,
            cb_data=channel_binding_data(stream) if tls else None,
        )
        await startup(stream, proto)
    except BaseException:
        await anyio.aclose_forcefully(stream)
        raise
    return Session(stream, proto, host, tls)


async def startup(stream: anyio.abc.ByteStream, proto: Connection) -> None:
    """Run the startup and authentication exchange until the server is ready."""
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
            # ParameterStatus and notices during startup are kept by the core.
        if not data:
            raise ConnectError("the server closed the connection during startup")
