"""The socket stream pgany connects with, against a local peer.

pgany connects with socket streams of its own: :mod:`pgany._aio` on asyncio
(it reads without pausing the transport between receives, into one buffer)
and :mod:`pgany._trio` on trio (it reads into one buffer and waits only when
it must). Both must behave as anyio byte streams: these tests hold them to
the same behaviour.
"""

from __future__ import annotations

import os
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import anyio
import anyio.abc
import anyio.lowlevel
import pytest

import pgany
from pgany import _aio
from pgany._connect import _open_transport
from pgany.config import HostSpec

pytestmark = pytest.mark.anyio

LIMIT = 10

Handler = Callable[[anyio.abc.SocketStream], Awaitable[None]]


@asynccontextmanager
async def peer(handler: Handler, unix_dir: Path | None = None) -> AsyncIterator[HostSpec]:
    """A listener running *handler* on its one connection; yields the host to connect to."""
    listener: anyio.abc.SocketListener
    if unix_dir is None:
        listener = (await anyio.create_tcp_listener(local_host="127.0.0.1")).listeners[0]
        host = HostSpec("127.0.0.1", listener.extra(anyio.abc.SocketAttribute.local_port))
    else:
        listener = await anyio.create_unix_listener(unix_dir / ".s.PGSQL.5432")
        host = HostSpec(str(unix_dir), 5432)

    async def serve_one() -> None:
        stream = await listener.accept()
        async with stream:
            await handler(stream)

    async with listener, anyio.create_task_group() as tg:
        tg.start_soon(serve_one)
        yield host
        tg.cancel_scope.cancel()


async def connect(host: HostSpec) -> anyio.abc.SocketStream:
    config = pgany.Config.from_dsn(f"host={host.host} port={host.port}", environ={})
    stream = await _open_transport(config, host, None if host.is_unix else host.host)
    assert isinstance(stream, anyio.abc.SocketStream)
    return stream


def check_kind(stream: anyio.abc.SocketStream) -> None:
    if _aio.on_asyncio():
        assert isinstance(stream, _aio.AsyncioSocketStream)
    else:
        from pgany._trio import TrioSocketStream

        assert isinstance(stream, TrioSocketStream)


async def receive_exactly(stream: anyio.abc.ByteStream, n: int) -> bytes:
    got = bytearray()
    while len(got) < n:
        got += await stream.receive(65536)
    return bytes(got)


async def test_tcp_round_trip_and_attributes() -> None:
    async def handler(s: anyio.abc.SocketStream) -> None:
        await s.send((await s.receive()).upper())

    async with peer(handler) as host:
        with anyio.fail_after(LIMIT):
            stream = await connect(host)
            async with stream:
                check_kind(stream)
                raw = stream.extra(anyio.abc.SocketAttribute.raw_socket)
                assert isinstance(raw, socket.socket)
                assert raw.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
                assert stream.extra(anyio.abc.SocketAttribute.remote_port) == host.port
                await stream.send(b"hello")
                assert await receive_exactly(stream, 5) == b"HELLO"


async def test_unix_round_trip(tmp_path: Path) -> None:
    async def handler(s: anyio.abc.SocketStream) -> None:
        await s.send((await s.receive()).upper())

    async with peer(handler, unix_dir=tmp_path) as host:
        with anyio.fail_after(LIMIT):
            stream = await connect(host)
            async with stream:
                check_kind(stream)
                assert stream.extra(anyio.abc.SocketAttribute.family) == socket.AF_UNIX
                await stream.send(b"unix")
                assert await receive_exactly(stream, 4) == b"UNIX"


async def test_receive_takes_at_most_max_bytes_and_keeps_the_rest() -> None:
    async def handler(s: anyio.abc.SocketStream) -> None:
        await s.send(b"abcdefghij")
        await s.receive()  # until the client closes

    async with peer(handler) as host:
        with anyio.fail_after(LIMIT):
            async with await connect(host) as stream:
                got = await stream.receive(1)
                assert got == b"a"
                rest = await receive_exactly(stream, 9)
                assert rest == b"bcdefghij"


async def test_end_of_stream_after_the_data() -> None:
    async def handler(s: anyio.abc.SocketStream) -> None:
        await s.send(b"last words")
        await s.send_eof()
        await s.receive()  # the client closes in turn

    async with peer(handler) as host:
        with anyio.fail_after(LIMIT):
            async with await connect(host) as stream:
                assert await receive_exactly(stream, 10) == b"last words"
                with pytest.raises(anyio.EndOfStream):
                    await stream.receive()
                # Half-closed by the peer: we may still write.
                await stream.send(b"bye")


async def until_client_closes(s: anyio.abc.SocketStream) -> None:
    with pytest.raises((anyio.EndOfStream, anyio.BrokenResourceError)):
        await s.receive()


async def test_receive_after_aclose_is_closed_resource() -> None:
    async with peer(until_client_closes) as host:
        with anyio.fail_after(LIMIT):
            stream = await connect(host)
            await stream.aclose()
            with pytest.raises(anyio.ClosedResourceError):
                await stream.receive()
            with pytest.raises(anyio.ClosedResourceError):
                await stream.send(b"x")


async def test_aclose_wakes_a_waiting_receive() -> None:
    async with peer(until_client_closes) as host:
        with anyio.fail_after(LIMIT):
            stream = await connect(host)
            errors: list[BaseException] = []

            async def reader() -> None:
                try:
                    await stream.receive()
                except (anyio.ClosedResourceError, anyio.BrokenResourceError) as exc:
                    errors.append(exc)

            async with anyio.create_task_group() as tg:
                tg.start_soon(reader)
                await anyio.sleep(0.05)
                await stream.aclose()
            assert len(errors) == 1


async def test_a_closed_streams_read_buffer_serves_the_next_one() -> None:
    # Making a 256 KiB read buffer per connection costs a good part of a
    # connect: a closed stream's buffer goes to the next stream opened.
    async def handler(s: anyio.abc.SocketStream) -> None:
        await s.send(b"first answer")
        await until_client_closes(s)

    async def handler2(s: anyio.abc.SocketStream) -> None:
        await s.send(b"second")
        await until_client_closes(s)

    _aio._SPARE_VIEWS.clear()
    with anyio.fail_after(LIMIT):
        async with peer(handler) as host:
            stream = await connect(host)
            first = await receive_exactly(stream, 12)
            await stream.aclose()
            await anyio.sleep(0.01)  # (asyncio lets go of the buffer a loop turn later)
        assert len(_aio._SPARE_VIEWS) == 1
        spare = _aio._SPARE_VIEWS[0]
        async with peer(handler2) as host:
            async with await connect(host) as stream:
                assert _aio._SPARE_VIEWS == []  # taken by the new stream
                assert await receive_exactly(stream, 6) == b"second"
        assert first == b"first answer"  # (what was read is a copy: untouched)
        await anyio.sleep(0.01)
        assert _aio._SPARE_VIEWS and _aio._SPARE_VIEWS[0] is spare
    _aio._SPARE_VIEWS.clear()


async def test_reset_by_peer_is_broken_or_end() -> None:
    async def handler(s: anyio.abc.SocketStream) -> None:
        raw = s.extra(anyio.abc.SocketAttribute.raw_socket)
        # SO_LINGER 0: close() sends RST.
        raw.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\1\0\0\0\0\0\0\0")
        await s.receive()

    async with peer(handler) as host:
        with anyio.fail_after(LIMIT):
            async with await connect(host) as stream:
                await stream.send(b"x")
                with pytest.raises((anyio.BrokenResourceError, anyio.EndOfStream)):
                    while True:
                        await stream.receive()
                with pytest.raises((anyio.BrokenResourceError, OSError)):
                    for _ in range(100):  # the RST may take a write or two to be seen
                        await stream.send(b"y" * 65536)
                        await anyio.sleep(0.01)


async def test_a_slow_reader_loses_nothing_and_bounds_memory() -> None:
    total = 16 * 1024 * 1024
    block = os.urandom(1024 * 1024)

    async def handler(s: anyio.abc.SocketStream) -> None:
        for _ in range(total // len(block)):
            await s.send(block)
        await s.send_eof()
        await s.receive()

    async with peer(handler) as host:
        with anyio.fail_after(LIMIT * 3):
            async with await connect(host) as stream:
                received = 0
                checked = 0
                pending = b""
                while True:
                    # Let the peer run ahead: what piles up must stay bounded.
                    await anyio.sleep(0.001)
                    if isinstance(stream, _aio.AsyncioSocketStream):
                        buffered = stream._protocol.buffered
                        assert buffered <= _aio.HIGH_WATER + _aio.READ_SIZE
                    try:
                        data = await stream.receive(256 * 1024)
                    except anyio.EndOfStream:
                        break
                    received += len(data)
                    pending += data
                    while len(pending) >= len(block):
                        assert pending[: len(block)] == block
                        pending = pending[len(block) :]
                        checked += 1
                assert received == total
                assert checked == total // len(block)


async def test_send_waits_until_all_is_written() -> None:
    total = 16 * 1024 * 1024
    received = 0

    async def handler(s: anyio.abc.SocketStream) -> None:
        nonlocal received
        try:
            while True:
                data = await s.receive()
                received += len(data)
                await anyio.lowlevel.checkpoint()
        except anyio.EndOfStream:
            pass

    async with peer(handler) as host:
        with anyio.fail_after(LIMIT * 3):
            async with await connect(host) as stream:
                await stream.send(b"z" * total)
                if isinstance(stream, _aio.AsyncioSocketStream):
                    assert stream._transport.get_write_buffer_size() == 0
                await stream.send_eof()
                while received < total:
                    await anyio.sleep(0.01)
                assert received == total


async def test_connect_refused_is_oserror() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    host = HostSpec("127.0.0.1", port)
    with anyio.fail_after(LIMIT), pytest.raises(ConnectionRefusedError):
        await connect(host)


def test_trio_stream_reading_a_flood_lets_other_tasks_run() -> None:
    """A server that sends faster than pgany reads must not starve the other tasks.

    (pgany's trio stream yields before every read. asyncio's stream needs no
    such rule: its data arrives through the loop, between tasks' steps.)
    """
    trio = pytest.importorskip("trio")
    from pgany import _trio

    class Flood:
        def recv_into(self, view: memoryview) -> int:
            view[:4] = b"data"
            return len(view)  # always more, at once

    async def main() -> None:
        stream = _trio.TrioSocketStream(Flood())  # type: ignore[arg-type]
        ticks = 0

        async def ticker() -> None:
            nonlocal ticks
            while True:
                ticks += 1
                await trio.lowlevel.checkpoint()

        async with trio.open_nursery() as nursery:
            nursery.start_soon(ticker)
            await trio.lowlevel.checkpoint()
            start = ticks
            received = 0
            while received < 64 * 1024 * 1024:  # never waits: the socket is never empty
                received += len(await stream.receive(_trio.READ_SIZE))
            assert ticks - start >= 64  # (256 reads of 256 KiB, each after a yield)
            nursery.cancel_scope.cancel()

    trio.run(main)
