"""A socket stream for asyncio that reads without stopping.

anyio's asyncio socket stream pauses the transport after every ``receive()``
and resumes it before the next one: two ``epoll_ctl`` system calls and a
trip through the loop's selector bookkeeping for every result a query waits
for. This stream leaves the transport reading and keeps what arrives in a
queue until ``receive()`` takes it, pausing the transport only when a slow
consumer lets more than :data:`HIGH_WATER` bytes pile up (COPY TO STDOUT
backpressure). It is the same :class:`anyio.abc.SocketStream` as far as the
rest of pgany is concerned: TLS wraps it as it wraps any byte stream, and on
trio pgany uses anyio's own stream.

Only :mod:`pgany._connect` creates one, after checking that the running
loop is asyncio.
"""

from __future__ import annotations

import asyncio
import socket
from collections import deque
from collections.abc import Callable, Mapping
from typing import Any

import anyio
import anyio.abc

__all__ = ["AsyncioSocketStream", "SocketStreamBase", "on_asyncio", "open_socket"]

#: Bytes received but not taken above which the transport stops reading.
HIGH_WATER = 1024 * 1024
#: ... and at or below which it reads again.
LOW_WATER = 256 * 1024


def on_asyncio() -> bool:
    """True when the running event loop is asyncio's (not trio's)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


#: Bytes the transport may read at once (into one buffer, allocated once).
READ_SIZE = 256 * 1024
#: Read buffers of closed connections, kept for the next ones (making one
#: zero-fills 256 KiB, a good part of what opening a connection costs).
_SPARE_VIEWS: list[memoryview] = []
_MAX_SPARE_VIEWS = 4


def take_read_buffer() -> memoryview:
    """A READ_SIZE buffer for a new connection's reads (a spare one if there is one)."""
    try:
        return _SPARE_VIEWS.pop()
    except IndexError:
        return memoryview(bytearray(READ_SIZE))


def give_back_read_buffer(view: memoryview) -> None:
    """Keep a closed connection's read buffer for the next (nothing may read into it now)."""
    if len(_SPARE_VIEWS) < _MAX_SPARE_VIEWS:
        _SPARE_VIEWS.append(view)


_NO_VIEW = memoryview(b"")


class _Protocol(asyncio.BufferedProtocol):
    """Collects what the transport reads; wakes the one task waiting in receive().

    The transport reads into one buffer made once (``recv_into``): a plain
    protocol's ``recv(256 KiB)`` allocates 256 KiB for every read, which costs
    an mmap, an mremap and a munmap per read once the size passes malloc's
    threshold: as much time as the rest of a small query's client side.
    """

    def __init__(self) -> None:
        self.view = take_read_buffer()
        self.transport: asyncio.Transport | None = None
        self.chunks: deque[bytes] = deque()
        self.buffered = 0
        self.paused = False
        self.eof = False
        self.lost = False
        self.error: BaseException | None = None
        self.read_waiter: asyncio.Future[None] | None = None
        self.drain_waiter: asyncio.Future[None] | None = None
        self.writing_paused = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        # Every byte written counts as pending: send() returns once it is all sent.
        transport.set_write_buffer_limits(0)

    def get_buffer(self, sizehint: int) -> memoryview:
        return self.view

    def buffer_updated(self, nbytes: int) -> None:
        data = bytes(self.view[:nbytes])
        self.chunks.append(data)
        self.buffered += len(data)
        if self.buffered > HIGH_WATER and not self.paused and self.transport is not None:
            self.paused = True
            self.transport.pause_reading()
        self._wake_reader()

    def eof_received(self) -> bool:
        self.eof = True
        self._wake_reader()
        return True  # keep the transport open for writing; aclose() closes it

    def connection_lost(self, exc: Exception | None) -> None:
        # The transport reads no more: its buffer can serve another connection
        # (what it read was copied out in buffer_updated).
        give_back_read_buffer(self.view)
        self.view = _NO_VIEW
        self.lost = True
        if exc is not None:
            self.error = exc
        self._wake_reader()
        self._wake_writer()

    def pause_writing(self) -> None:
        self.writing_paused = True

    def resume_writing(self) -> None:
        self.writing_paused = False
        self._wake_writer()

    def _wake_reader(self) -> None:
        waiter = self.read_waiter
        if waiter is not None:
            self.read_waiter = None
            if not waiter.done():
                waiter.set_result(None)

    def _wake_writer(self) -> None:
        waiter = self.drain_waiter
        if waiter is not None:
            self.drain_waiter = None
            if not waiter.done():
                waiter.set_result(None)


class SocketStreamBase(anyio.abc.SocketStream):
    """What pgany's socket streams share: the socket, and its attributes made once."""

    _sock: socket.socket
    _extras: Mapping[Any, Callable[[], Any]] | None = None

    @property
    def _raw_socket(self) -> socket.socket:
        return self._sock

    def has_pending_input(self) -> bool:
        """True when bytes (or the end of the stream) wait to be received (a cheap peek)."""
        try:
            self._sock.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT)  # (b"": the end)
        except (BlockingIOError, InterruptedError):
            return False
        except OSError:
            return True
        return True

    @property
    def extra_attributes(self) -> Mapping[Any, Callable[[], Any]]:
        # anyio's makes a new mapping, and asks the kernel for the peer's
        # address, on every extra() call: made once here.
        if self._extras is None:
            self._extras = super().extra_attributes
        return self._extras


class AsyncioSocketStream(SocketStreamBase):
    """A connected TCP or Unix-domain socket on asyncio (see the module's text)."""

    def __init__(
        self,
        sock: socket.socket,
        transport: asyncio.Transport,
        protocol: _Protocol,
        loop: asyncio.AbstractEventLoop,
    ) -> None:
        self._sock = sock
        self._transport = transport
        self._protocol = protocol
        self._loop = loop
        self._closed = False

    def has_pending_input(self) -> bool:
        protocol = self._protocol
        if protocol.chunks or protocol.eof or protocol.lost or self._closed:
            return True
        return super().has_pending_input()  # (not read by the transport yet)

    async def receive(self, max_bytes: int = 65536) -> bytes:
        protocol = self._protocol
        chunks = protocol.chunks
        while not chunks:
            if self._closed:
                raise anyio.ClosedResourceError
            if protocol.error is not None:
                raise anyio.BrokenResourceError from protocol.error
            if protocol.eof or protocol.lost:
                raise anyio.EndOfStream
            if protocol.read_waiter is not None:
                raise anyio.BusyResourceError("reading from")
            waiter = protocol.read_waiter = self._loop.create_future()
            try:
                await waiter
            finally:
                if protocol.read_waiter is waiter:
                    protocol.read_waiter = None
        chunk = chunks.popleft()
        if len(chunk) > max_bytes:
            chunks.appendleft(chunk[max_bytes:])
            chunk = chunk[:max_bytes]
        protocol.buffered -= len(chunk)
        if protocol.paused and protocol.buffered <= LOW_WATER and not protocol.lost:
            protocol.paused = False
            self._transport.resume_reading()
        return chunk

    async def send(self, item: bytes) -> None:
        protocol = self._protocol
        if self._closed:
            raise anyio.ClosedResourceError
        if protocol.lost:
            raise anyio.BrokenResourceError from protocol.error
        try:
            self._transport.write(item)
        except RuntimeError as exc:  # the transport is closing
            raise anyio.BrokenResourceError from exc
        while protocol.writing_paused and not protocol.lost:
            waiter = protocol.drain_waiter = self._loop.create_future()
            await waiter
        if self._closed:
            raise anyio.ClosedResourceError
        if protocol.error is not None:
            raise anyio.BrokenResourceError from protocol.error

    async def send_eof(self) -> None:
        try:
            self._transport.write_eof()
        except (OSError, RuntimeError):
            pass

    async def aclose(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._transport.abort()
        self._protocol._wake_reader()
        self._protocol._wake_writer()


async def open_socket(family: int, address: str | tuple[str, int]) -> AsyncioSocketStream:
    """Connect a TCP (*address* = (host IP, port)) or Unix-domain (a path) stream socket.

    Raises OSError if the connection fails, as anyio's connect functions do.
    """
    loop = asyncio.get_running_loop()
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setblocking(False)
        if family != socket.AF_UNIX:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        await loop.sock_connect(sock, address)
        transport, protocol = await loop.create_connection(_Protocol, sock=sock)
    except BaseException:
        sock.close()
        raise
    return AsyncioSocketStream(sock, transport, protocol, loop)
