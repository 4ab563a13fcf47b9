"""A socket stream for trio that reads into one buffer.

anyio's trio stream goes through ``trio.SocketStream``: every receive first
tries the socket, and when that works yields to the scheduler anyway (trio's
rule that every call is a schedule point); when it doesn't, it waits and
tries again. This stream yields first, then reads into a buffer made once
(``recv_into``), and waits for the socket only when it is empty.

Yielding *before* reading matters when many tasks share the connection: the
tasks the last read woke up run (and queue their next queries) while the
server answers, so the next read takes many answers at once instead of the
one or two that arrived meanwhile (PostgreSQL sends each answer as soon as it
is ready). It also keeps a fast server from starving the other tasks. It is
the same :class:`anyio.abc.SocketStream` as far as the rest of pgany is
concerned.

Only :mod:`pgany._connect` creates one, on trio (see :mod:`pgany._aio` for
asyncio's counterpart).
"""

from __future__ import annotations

import os
import socket
from collections.abc import Awaitable, Callable

import anyio
import anyio.abc
import trio
import trio.lowlevel

from pgany import _aio
from pgany._aio import give_back_read_buffer, take_read_buffer

__all__ = ["TrioSocketStream", "open_socket"]

#: Bytes a receive may read at once.
READ_SIZE = _aio.READ_SIZE


class TrioSocketStream(_aio.SocketStreamBase):
    """A connected TCP or Unix-domain socket on trio (see the module's text)."""

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock
        self._view = take_read_buffer()
        self._closed = False
        self._eof = False
        self._receiving = False

    async def receive(self, max_bytes: int = 65536) -> bytes:
        if self._receiving:
            raise anyio.BusyResourceError("reading from")
        self._receiving = True
        try:
            view = self._view if max_bytes >= READ_SIZE else self._view[:max_bytes]
            sock = self._sock
            await trio.lowlevel.cancel_shielded_checkpoint()  # (see the module's text)
            while True:
                if self._closed:
                    raise anyio.ClosedResourceError
                try:
                    n = sock.recv_into(view)
                except (BlockingIOError, InterruptedError):
                    await self._wait(trio.lowlevel.wait_readable)
                    continue
                except OSError as exc:
                    raise self._error(exc) from exc
                break
            if n == 0:
                raise anyio.EndOfStream
            return bytes(view[:n])
        finally:
            self._receiving = False

    async def send(self, item: bytes) -> None:
        view = memoryview(item)
        sock = self._sock
        while view:
            if self._closed:
                raise anyio.ClosedResourceError
            try:
                sent = sock.send(view)
            except (BlockingIOError, InterruptedError):
                await self._wait(trio.lowlevel.wait_writable)
                continue
            except OSError as exc:
                raise self._error(exc) from exc
            view = view[sent:]

    async def _wait(self, wait: Callable[[socket.socket], Awaitable[None]]) -> None:
        """Wait until the socket is ready (aclose() from another task ends the wait)."""
        try:
            await wait(self._sock)
        except trio.ClosedResourceError:
            raise anyio.ClosedResourceError from None

    def _error(self, exc: OSError) -> Exception:
        """What a failed socket call means: closed by us, or broken."""
        if self._closed:
            return anyio.ClosedResourceError()
        return anyio.BrokenResourceError(str(exc))

    async def send_eof(self) -> None:
        try:
            self._sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass

    async def aclose(self) -> None:
        if not self._closed:
            self._closed = True
            trio.lowlevel.notify_closing(self._sock)  # wakes a task waiting on it
            self._sock.close()
            # A receive() still running checks _closed before it reads again.
            give_back_read_buffer(self._view)
            self._view = memoryview(b"")
        await trio.lowlevel.checkpoint()


async def open_socket(family: int, address: str | tuple[str, int]) -> TrioSocketStream:
    """Connect a TCP (*address* = (host IP, port)) or Unix-domain (a path) stream socket.

    Raises OSError if the connection fails, as anyio's connect functions do.
    """
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setblocking(False)
        if family != socket.AF_UNIX:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            sock.connect(address)
        except (BlockingIOError, InterruptedError):
            await trio.lowlevel.wait_writable(sock)
            err = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            if err:
                raise OSError(err, os.strerror(err)) from None
        else:
            await trio.lowlevel.checkpoint()
    except BaseException:
        sock.close()
        raise
    return TrioSocketStream(sock)
