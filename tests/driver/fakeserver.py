"""A scripted fake PostgreSQL server, for faults a real server won't produce.

It speaks through pgany's own encoders and decoders
(:func:`pgany.protocol.messages.encode_backend`,
:func:`pgany.protocol.frontend.decode_frontend` / ``decode_startup``) over a
real TCP socket on 127.0.0.1, so the real client, driver and cancel path
(which opens a new connection) are all exercised::

    async def script(peer: Peer) -> None:
        await peer.answer_next()                 # the Parse/Describe/Sync of prepare()
        await peer.read_until_sync()             # the query: never answered
        await peer.wait_eof()

    async with fake_server(script) as server:
        async with pgany.connect(server.dsn) as client:
            ...

Each accepted connection first has its startup read (an SSLRequest is
answered ``N``). A CancelRequest is recorded in :attr:`FakeServer.cancel_requests`
and the connection closed; a StartupMessage is answered with
AuthenticationOk, ParameterStatus, BackendKeyData and ReadyForQuery (unless
``greet=False``), then the connection is handed to the script. When the
client goes away (EOF, Terminate, reset) while the script reads or writes,
the script just ends. Every server-side stream is closed when the script
ends and, at the latest, when the ``async with`` block is left.
"""

from __future__ import annotations

import itertools
import re
import secrets
import struct
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import asynccontextmanager

import anyio
import anyio.abc

from pgany.protocol import frontend as fe
from pgany.protocol.messages import (
    AuthenticationOk,
    BackendKeyData,
    BackendMessage,
    BindComplete,
    CloseComplete,
    CommandComplete,
    DataRow,
    ErrorResponse,
    FieldDescription,
    NoData,
    ParameterDescription,
    ParameterStatus,
    ParseComplete,
    ReadyForQuery,
    RowDescription,
    encode_backend,
)

__all__ = [
    "INT4",
    "SERVER_PARAMETERS",
    "ClientGone",
    "FakeServer",
    "Peer",
    "encode",
    "error_response",
    "fake_server",
    "int4",
]

#: The type OID of int4.
INT4 = 23

#: The ParameterStatus values sent after AuthenticationOk.
SERVER_PARAMETERS = {
    "server_version": "16.0",
    "server_encoding": "UTF8",
    "client_encoding": "UTF8",
    "DateStyle": "ISO, MDY",
    "TimeZone": "UTC",
    "integer_datetimes": "on",
    "standard_conforming_strings": "on",
    "is_superuser": "off",
    "session_authorization": "fake",
}

_I32 = struct.Struct("!i")
_PARAM_RE = re.compile(r"\$(\d+)")


def encode(*messages: BackendMessage) -> bytes:
    """The bytes of *messages*, back to back (pgany's own encoder)."""
    return b"".join(encode_backend(m) for m in messages)


def int4(value: int) -> bytes:
    """The binary form of an int4 (as pgany sends and reads it)."""
    return _I32.pack(value)


def error_response(sqlstate: str, message: str, severity: str = "ERROR") -> ErrorResponse:
    """An ErrorResponse with the fields every server sends."""
    return ErrorResponse((("S", severity), ("V", severity), ("C", sqlstate), ("M", message)))


class ClientGone(Exception):
    """The client went away (EOF or Terminate) while the script waited for a message."""


class Peer:
    """The server's side of one client connection, as a script sees it."""

    def __init__(
        self,
        server: FakeServer,
        stream: anyio.abc.SocketStream,
        process_id: int,
        secret_key: bytes,
    ) -> None:
        #: The server this connection belongs to.
        self.server = server
        self._stream = stream
        self._buf = bytearray()
        #: The BackendKeyData this connection announces.
        self.process_id = process_id
        self.secret_key = secret_key
        #: The client's StartupMessage (once read).
        self.startup: fe.StartupMessage | None = None
        #: How many socket reads returned data so far.
        self.recv_count = 0
        #: Every message read from the client, in order.
        self.received: list[fe.FrontendMessage] = []
        #: Statements the client prepared on this connection, by name.
        self.statements: dict[str, fe.Parse] = {}
        #: Set once the server side of the connection is closed.
        self.closed = anyio.Event()

    def __repr__(self) -> str:
        return f"<Peer pid={self.process_id} reads={self.recv_count}>"

    # -- reading -------------------------------------------------------------------

    async def _read_exact(self, n: int) -> bytes:
        buf = self._buf
        while len(buf) < n:
            try:
                chunk = await self._stream.receive(65536)
            except anyio.EndOfStream:
                raise ClientGone("the client closed the connection") from None
            self.recv_count += 1
            buf += chunk
        data = bytes(buf[:n])
        del buf[:n]
        return data

    async def read_startup(self) -> fe.FrontendMessage:
        """Read an untyped first message, answering SSL/GSS encryption requests with ``N``."""
        while True:
            (length,) = _I32.unpack(await self._read_exact(4))
            msg = fe.decode_startup(await self._read_exact(length - 4))
            self.received.append(msg)
            if isinstance(msg, (fe.SSLRequest, fe.GSSENCRequest)):
                await self.send_raw(b"N")
                continue
            return msg

    async def read_message(self, *, password_kind: str = "password") -> fe.FrontendMessage:
        """Read one typed message (type byte, int32 length, body)."""
        header = await self._read_exact(5)
        (length,) = _I32.unpack_from(header, 1)
        body = await self._read_exact(length - 4)
        msg = fe.decode_frontend(header[0], body, password_kind=password_kind)
        self.received.append(msg)
        return msg

    async def read_until_sync(self) -> list[fe.FrontendMessage]:
        """Read one request: messages up to and including Sync (or one simple Query).

        Raises :class:`ClientGone` if the client sends Terminate or closes first.
        """
        unit: list[fe.FrontendMessage] = []
        while True:
            msg = await self.read_message()
            if isinstance(msg, fe.Terminate):
                raise ClientGone("the client sent Terminate")
            unit.append(msg)
            if isinstance(msg, (fe.Sync, fe.Query)):
                return unit

    async def read_units(self, n: int) -> list[list[fe.FrontendMessage]]:
        """Read *n* requests (see :meth:`read_until_sync`)."""
        return [await self.read_until_sync() for _ in range(n)]

    async def wait_eof(self) -> None:
        """Read (and record) whatever the client sends until it closes its end."""
        while True:
            try:
                await self.read_message()
            except ClientGone:
                return

    # -- writing -------------------------------------------------------------------

    async def send(self, *messages: BackendMessage) -> None:
        """Encode *messages* with pgany's encoders and send them in one write."""
        await self.send_raw(encode(*messages))

    async def send_raw(self, data: bytes) -> None:
        """Send *data* as is, in one write."""
        await self._stream.send(data)

    async def close(self) -> None:
        """Close the server's side of the connection (at once, without waiting)."""
        self.server._streams.discard(self._stream)
        await anyio.aclose_forcefully(self._stream)
        self.closed.set()

    def greeting(self) -> list[BackendMessage]:
        """AuthenticationOk, ParameterStatus..., BackendKeyData and ReadyForQuery("I")."""
        return [
            AuthenticationOk(),
            *(ParameterStatus(k, v) for k, v in SERVER_PARAMETERS.items()),
            BackendKeyData(self.process_id, self.secret_key),
            ReadyForQuery("I"),
        ]

    async def greet(self) -> None:
        """Send :meth:`greeting` (what ``greet=True`` does before the script runs)."""
        await self.send(*self.greeting())

    # -- a well-behaved server -----------------------------------------------------

    def replies(self, unit: Iterable[fe.FrontendMessage]) -> list[BackendMessage]:
        """What a server answers to *unit*, if every statement were ``SELECT $1::int4 ...``.

        Each ``$n`` of a statement is an int4 parameter, and its result has one
        int4 column per parameter (``n``, ``n2``, ...) whose row echoes the values
        bound to it: a query sent with parameter ``7`` gets the row ``(7,)``.
        """
        out: list[BackendMessage] = []
        bound: tuple[bytes | None, ...] = ()
        for msg in unit:
            if isinstance(msg, fe.Parse):
                self.statements[msg.name] = msg
                out.append(ParseComplete())
            elif isinstance(msg, fe.Describe) and msg.kind == "S":
                nparams = self._param_count(msg.name)
                out.append(ParameterDescription((INT4,) * nparams))
                out.append(_int4_columns(nparams))
            elif isinstance(msg, fe.Describe):
                out.append(_int4_columns(len(bound)))
            elif isinstance(msg, fe.Bind):
                bound = msg.params
                out.append(BindComplete())
            elif isinstance(msg, fe.Execute):
                if bound:
                    out.append(DataRow(bound))
                out.append(CommandComplete("SELECT 1" if bound else "SELECT 0"))
            elif isinstance(msg, fe.Close):
                if msg.kind == "S":
                    self.statements.pop(msg.name, None)
                out.append(CloseComplete())
            elif isinstance(msg, (fe.Sync, fe.Query)):
                if isinstance(msg, fe.Query):
                    out.append(CommandComplete("SELECT 0"))
                out.append(ReadyForQuery("I"))
            else:
                raise AssertionError(f"the fake server cannot answer {msg!r}")
        return out

    def _param_count(self, name: str) -> int:
        parse = self.statements[name]
        if parse.param_oids:
            return len(parse.param_oids)
        return max((int(n) for n in _PARAM_RE.findall(parse.sql)), default=0)

    async def answer(self, unit: Iterable[fe.FrontendMessage]) -> None:
        """Send :meth:`replies` to *unit*."""
        await self.send(*self.replies(unit))

    async def answer_next(self) -> list[fe.FrontendMessage]:
        """Read the next request and answer it as a well-behaved server; return it."""
        unit = await self.read_until_sync()
        await self.answer(unit)
        return unit

    async def serve(self) -> None:
        """Answer every request as a well-behaved server until the client goes away."""
        while True:
            await self.answer_next()


def _int4_columns(n: int) -> RowDescription | NoData:
    if n == 0:
        return NoData()
    return RowDescription(
        tuple(
            FieldDescription("n" if i == 0 else f"n{i + 1}", 0, 0, INT4, 4, -1, 0) for i in range(n)
        )
    )


Script = Callable[[Peer], Awaitable[None]]


class FakeServer:
    """A listening fake server; made by :func:`fake_server`."""

    def __init__(self, script: Script, *, greet: bool) -> None:
        self._script = script
        self._greet = greet
        self._streams: set[anyio.abc.SocketStream] = set()
        self._pids = itertools.count(4242)
        self._cancel_event = anyio.Event()
        #: The address the server listens on.
        self.host = "127.0.0.1"
        self.port = 0
        #: Connections that sent a StartupMessage, in order.
        self.peers: list[Peer] = []
        #: CancelRequests received (each on a connection of its own).
        self.cancel_requests: list[fe.CancelRequest] = []

    @property
    def dsn(self) -> str:
        """A DSN for this server (``sslmode`` left at its default: ``N`` is answered)."""
        return f"host={self.host} port={self.port} user=fake dbname=fake connect_timeout=10"

    async def wait_cancel_request(self) -> fe.CancelRequest:
        """Wait for the first CancelRequest and return it."""
        await self._cancel_event.wait()
        return self.cancel_requests[0]

    async def _accept(self, listener: anyio.abc.SocketListener, tg: anyio.abc.TaskGroup) -> None:
        while True:
            stream = await listener.accept()
            self._streams.add(stream)
            tg.start_soon(self._serve, stream)

    async def _serve(self, stream: anyio.abc.SocketStream) -> None:
        peer = Peer(self, stream, next(self._pids), secrets.token_bytes(4))
        try:
            first = await peer.read_startup()
            if isinstance(first, fe.CancelRequest):
                self.cancel_requests.append(first)
                self._cancel_event.set()
                return
            if not isinstance(first, fe.StartupMessage):
                raise AssertionError(f"unexpected first message {first!r}")
            peer.startup = first
            self.peers.append(peer)
            if self._greet:
                await peer.greet()
            await self._script(peer)
        except (ClientGone, anyio.BrokenResourceError, anyio.ClosedResourceError):
            pass  # the client went away (or the script closed the connection)
        finally:
            with anyio.CancelScope(shield=True):
                await peer.close()


@asynccontextmanager
async def fake_server(script: Script, *, greet: bool = True) -> AsyncIterator[FakeServer]:
    """Listen on 127.0.0.1 (a free port) and run *script* for each client connection.

    With ``greet=False`` the script starts right after the StartupMessage was
    read, before anything is answered (to script startup failures).
    """
    server = FakeServer(script, greet=greet)
    multi = await anyio.create_tcp_listener(local_host="127.0.0.1", local_port=0)
    try:
        async with multi:
            (listener,) = multi.listeners
            assert isinstance(listener, anyio.abc.SocketListener)
            server.port = listener.extra(anyio.abc.SocketAttribute.local_port)
            async with anyio.create_task_group() as tg:
                tg.start_soon(server._accept, listener, tg)
                try:
                    yield server
                finally:
                    tg.cancel_scope.cancel()
    finally:
        with anyio.CancelScope(shield=True):
            for stream in list(server._streams):
                await anyio.aclose_forcefully(stream)
            server._streams.clear()
