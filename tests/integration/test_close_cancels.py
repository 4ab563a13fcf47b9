"""Leaving a connection with a query running stops the query on the server.

However the connection ends with a request in flight (its ``async with``
block left by cancellation or an exception, ``close()`` from another task,
``run_connection``'s task group cancelled, the driver failing), the backend
must stop working: it is gone from ``pg_stat_activity`` within 2 seconds,
and leaving never waits for the query to finish. A TCP proxy between pgany
and the server injects the faults a real server won't produce.
"""

from __future__ import annotations

import enum
import math
import socket
import struct
import uuid
from collections.abc import AsyncIterator

import anyio
import anyio.abc
import pytest

import pgany
from pgany.testing import Cluster, ExternalServer

pytestmark = pytest.mark.anyio

#: The query left running: far longer than any test waits.
SLEEP = "SELECT pg_sleep(30)"
#: How long after leaving the backend may still be there.
GONE_WITHIN = 2.0
#: Leaving may take the CancelRequest's bound (2 s) but never the query's 30 s.
LEAVE_WITHIN = 2.5


class Boom(Exception):
    pass


@pytest.fixture
async def observer(pg_dsn: str) -> AsyncIterator[pgany.Client]:
    async with pgany.connect(pg_dsn) as c:
        yield c


async def wait_running(observer: pgany.Client, pid: int, query: str = "%pg_sleep%") -> None:
    """Wait until backend *pid* runs *query* (a LIKE pattern; so the query is on the server)."""
    with anyio.fail_after(5):
        while not await observer.query_value(
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE pid = $1 AND state = 'active' AND query LIKE $2",
            pid,
            query,
        ):
            await anyio.sleep(0.02)


async def assert_gone(observer: pgany.Client, pid: int, since: float) -> None:
    """Backend *pid* leaves pg_stat_activity within GONE_WITHIN seconds of *since*."""
    while await observer.query_value("SELECT count(*) FROM pg_stat_activity WHERE pid = $1", pid):
        if anyio.current_time() - since > GONE_WITHIN:
            pytest.fail(f"backend {pid} still there {GONE_WITHIN} s after the connection ended")
        await anyio.sleep(0.05)


async def sleep_expecting(client: pgany.Client, error: type[BaseException]) -> None:
    with pytest.raises(error):
        await client.query(SLEEP)


def reset(stream: anyio.abc.SocketStream) -> None:
    """Make closing *stream* send a TCP reset."""
    sock = stream.extra(anyio.abc.SocketAttribute.raw_socket)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


class FaultProxy:
    """Forwards TCP connections to the server; can break the first one (the session).

    Later connections (CancelRequests) are forwarded too, or, with
    ``blackhole``, accepted and never answered.
    """

    def __init__(self, host: str, port: int) -> None:
        self.host = host
        self.port = port
        self.listen_port = 0
        self.blackhole = False
        self._client_side: anyio.abc.SocketStream | None = None
        self._server_side: anyio.abc.SocketStream | None = None
        self._cut = False

    async def run(self, *, task_status: anyio.abc.TaskStatus[None]) -> None:
        listener = await anyio.create_tcp_listener(local_host="127.0.0.1")
        self.listen_port = listener.extra(anyio.abc.SocketAttribute.local_port)
        async with listener, anyio.create_task_group() as tg:
            task_status.started()
            await listener.serve(self._handle, task_group=tg)

    async def _handle(self, client_side: anyio.abc.SocketStream) -> None:
        if self.blackhole:
            async with client_side:
                await anyio.sleep_forever()
        async with client_side, await anyio.connect_tcp(self.host, self.port) as server_side:
            if self._client_side is None:
                self._client_side, self._server_side = client_side, server_side
            async with anyio.create_task_group() as tg:
                tg.start_soon(self._pump, client_side, server_side, tg.cancel_scope)
                tg.start_soon(self._pump, server_side, client_side, tg.cancel_scope)

    async def _pump(
        self,
        source: anyio.abc.SocketStream,
        sink: anyio.abc.SocketStream,
        scope: anyio.CancelScope,
    ) -> None:
        try:
            async for data in source:
                if self._cut and source is self._server_side:
                    # The server writes to a connection the middlebox forgot:
                    # it gets a reset.
                    reset(source)
                    scope.cancel()
                    return
                await sink.send(data)
        except (anyio.BrokenResourceError, anyio.ClosedResourceError, OSError):
            pass
        if self._cut and source is self._client_side:
            # Cut: the server side stays open until the server writes to it.
            return
        # One side ended: end the other the same abrupt way.
        reset(sink)
        scope.cancel()

    async def inject(self, data: bytes) -> None:
        """Send *data* to the session's client as if the server had sent it."""
        assert self._client_side is not None
        await self._client_side.send(data)

    async def cut_client_side(self) -> None:
        """Reset the session's client side; the server side stays open."""
        assert self._client_side is not None
        self._cut = True
        reset(self._client_side)
        await self._client_side.aclose()


@pytest.fixture
async def proxy(pg_dsn: str) -> AsyncIterator[FaultProxy]:
    config = pgany.Config.from_dsn(pg_dsn)
    assert config.host is not None
    assert config.port is not None
    p = FaultProxy(config.host, int(config.port))
    async with anyio.create_task_group() as tg:
        await tg.start(p.run)
        yield p
        tg.cancel_scope.cancel()


class Hop(enum.Enum):
    """What a LatencyProxy passes on."""

    #: Bytes.
    DATA = enum.auto()
    #: The end of the stream (passed on as a half-close).
    EOF = enum.auto()
    #: A reset.
    RESET = enum.auto()


class LatencyProxy:
    """Forwards TCP connections with ``delay`` seconds of latency each way.

    Bytes, ends of stream and resets all arrive ``delay`` seconds after they
    were sent, in order; a send that fails (the peer is gone) resets the
    sender's side ``delay`` later, as a real peer's kernel answers data sent
    to a closed socket. On the loopback interface all of that is immediate,
    which hides what a real network shows.
    """

    def __init__(self, host: str, port: int, delay: float) -> None:
        self.host = host
        self.port = port
        self.delay = delay
        self.listen_port = 0

    async def run(self, *, task_status: anyio.abc.TaskStatus[None]) -> None:
        listener = await anyio.create_tcp_listener(local_host="127.0.0.1")
        self.listen_port = listener.extra(anyio.abc.SocketAttribute.local_port)
        async with listener, anyio.create_task_group() as tg:
            task_status.started()
            await listener.serve(self._handle, task_group=tg)

    async def _handle(self, client_side: anyio.abc.SocketStream) -> None:
        Queue = tuple[float, Hop, bytes]
        up_send, up_receive = anyio.create_memory_object_stream[Queue](math.inf)
        down_send, down_receive = anyio.create_memory_object_stream[Queue](math.inf)
        async with (
            up_send,
            up_receive,
            down_send,
            down_receive,
            client_side,
            await anyio.connect_tcp(self.host, self.port) as server_side,
            anyio.create_task_group() as tg,
        ):
            tg.start_soon(self._read, client_side, up_send)
            tg.start_soon(self._write, up_receive, server_side, down_send)
            tg.start_soon(self._read, server_side, down_send)
            tg.start_soon(self._write, down_receive, client_side, up_send)

    async def _read(
        self,
        source: anyio.abc.SocketStream,
        queue: anyio.abc.ObjectSendStream[tuple[float, Hop, bytes]],
    ) -> None:
        try:
            async for data in source:
                await queue.send((anyio.current_time() + self.delay, Hop.DATA, data))
            hop = Hop.EOF
        except (anyio.BrokenResourceError, OSError):
            hop = Hop.RESET
        except anyio.ClosedResourceError:
            return
        await queue.send((anyio.current_time() + self.delay, hop, b""))

    async def _write(
        self,
        queue: anyio.abc.ObjectReceiveStream[tuple[float, Hop, bytes]],
        sink: anyio.abc.SocketStream,
        back: anyio.abc.ObjectSendStream[tuple[float, Hop, bytes]],
    ) -> None:
        async for at, hop, data in queue:
            await anyio.sleep(max(0.0, at - anyio.current_time()))
            try:
                if hop is Hop.DATA:
                    await sink.send(data)
                elif hop is Hop.EOF:
                    await sink.send_eof()
                else:
                    reset(sink)
                    await sink.aclose()
                    return
            except (anyio.BrokenResourceError, anyio.ClosedResourceError, OSError):
                await back.send((anyio.current_time() + self.delay, Hop.RESET, b""))
                return


@pytest.fixture
async def slow_network(pg_dsn: str) -> AsyncIterator[LatencyProxy]:
    config = pgany.Config.from_dsn(pg_dsn)
    assert config.host is not None
    assert config.port is not None
    p = LatencyProxy(config.host, int(config.port), delay=0.2)
    async with anyio.create_task_group() as tg:
        await tg.start(p.run)
        yield p
        tg.cancel_scope.cancel()


def through(pg_dsn: str, proxy: FaultProxy | LatencyProxy, **params: object) -> pgany.connect:
    return pgany.connect(pg_dsn, host="127.0.0.1", port=proxy.listen_port, **params)


# -- the ways to leave ------------------------------------------------------------------


async def test_block_left_by_cancellation(pg_dsn: str, observer: pgany.Client) -> None:
    with anyio.CancelScope() as scope:
        async with pgany.connect(pg_dsn) as client:
            pid = client.backend_pid
            async with anyio.create_task_group() as tg:
                tg.start_soon(client.query, SLEEP)
                await wait_running(observer, pid)
                started = anyio.current_time()
                scope.cancel()
    left = anyio.current_time()
    assert scope.cancelled_caught
    assert left - started < LEAVE_WITHIN
    await assert_gone(observer, pid, left)


async def test_block_left_by_cancellation_in_the_query(pg_dsn: str, observer: pgany.Client) -> None:
    async with anyio.create_task_group() as tg:
        with anyio.CancelScope() as scope:
            async with pgany.connect(pg_dsn) as client:
                pid = client.backend_pid

                async def cancel_when_running() -> None:
                    await wait_running(observer, pid)
                    scope.cancel()

                tg.start_soon(cancel_when_running)
                await client.query(SLEEP)
    left = anyio.current_time()
    assert scope.cancelled_caught
    await assert_gone(observer, pid, left)


async def test_block_left_by_exception_with_the_query_in_the_block(
    pg_dsn: str, observer: pgany.Client
) -> None:
    with pytest.RaisesGroup(Boom):
        async with pgany.connect(pg_dsn) as client:
            pid = client.backend_pid
            async with anyio.create_task_group() as tg:
                tg.start_soon(client.query, SLEEP)
                await wait_running(observer, pid)
                started = anyio.current_time()
                raise Boom
    left = anyio.current_time()
    assert left - started < LEAVE_WITHIN
    await assert_gone(observer, pid, left)


async def test_block_left_by_exception_while_another_task_waits(
    pg_dsn: str, observer: pgany.Client
) -> None:
    async with anyio.create_task_group() as tg:
        with pytest.raises(Boom):
            async with pgany.connect(pg_dsn) as client:
                pid = client.backend_pid
                tg.start_soon(sleep_expecting, client, pgany.ConnectionClosed)
                await wait_running(observer, pid)
                started = anyio.current_time()
                raise Boom
        left = anyio.current_time()
        assert left - started < LEAVE_WITHIN
        await assert_gone(observer, pid, left)


async def test_close_from_another_task(pg_dsn: str, observer: pgany.Client) -> None:
    async with pgany.connect(pg_dsn) as client:
        pid = client.backend_pid
        async with anyio.create_task_group() as tg:
            tg.start_soon(sleep_expecting, client, pgany.ConnectionClosed)
            await wait_running(observer, pid)
            started = anyio.current_time()
            await client.close()
            closed = anyio.current_time()
        assert closed - started < LEAVE_WITHIN
        assert client.is_closed
        await assert_gone(observer, pid, closed)


async def test_run_connection_task_group_cancelled(pg_dsn: str, observer: pgany.Client) -> None:
    async with anyio.create_task_group() as outer:
        async with anyio.create_task_group() as conn_tg:
            client = await conn_tg.start(pgany.run_connection, pg_dsn)
            pid = client.backend_pid
            # The caller is outside the cancelled task group: it keeps waiting
            # and learns that the connection is gone.
            outer.start_soon(sleep_expecting, client, pgany.ConnectionClosed)
            await wait_running(observer, pid)
            started = anyio.current_time()
            conn_tg.cancel_scope.cancel()
        left = anyio.current_time()
        assert left - started < LEAVE_WITHIN
        await assert_gone(observer, pid, left)


async def test_run_connection_task_group_cancelled_with_its_callers(
    pg_dsn: str, observer: pgany.Client
) -> None:
    async with anyio.create_task_group() as tg:
        client = await tg.start(pgany.run_connection, pg_dsn)
        pid = client.backend_pid
        tg.start_soon(client.query, SLEEP)
        await wait_running(observer, pid)
        started = anyio.current_time()
        tg.cancel_scope.cancel()
    left = anyio.current_time()
    assert left - started < LEAVE_WITHIN
    await assert_gone(observer, pid, left)


@pytest.mark.parametrize("transport", ["tcp", "unix", "slow network"])
async def test_pipelined_requests_stop_too(
    pg_cluster: Cluster | ExternalServer,
    observer: pgany.Client,
    slow_network: LatencyProxy,
    transport: str,
) -> None:
    # The backend has read all three requests before the first one runs: a
    # CancelRequest stops only the first, and it must not go on to the next.
    if transport == "tcp":
        connect = pgany.connect(pg_cluster.dsn())
    elif transport == "unix":
        connect = pgany.connect(pg_cluster.dsn(host=pg_cluster.socket_dir))
    else:
        connect = through(pg_cluster.dsn(), slow_network)
    with anyio.CancelScope() as scope:
        async with connect as client:
            pid = client.backend_pid
            sleep = await client.prepare(SLEEP)
            async with anyio.create_task_group() as tg:
                tg.start_soon(client.query, "SELECT pg_sleep(0.5)")
                await wait_running(observer, pid)
                for _ in range(3):  # (sent while the server is busy: read at once)
                    tg.start_soon(client.query, sleep)
                await wait_running(observer, pid, SLEEP)
                scope.cancel()
    left = anyio.current_time()
    await assert_gone(observer, pid, left)


# -- the driver failing -------------------------------------------------------------------


async def test_protocol_error_stops_the_query(
    pg_dsn: str, observer: pgany.Client, proxy: FaultProxy
) -> None:
    async with through(pg_dsn, proxy) as client:
        pid = client.backend_pid
        async with anyio.create_task_group() as tg:
            tg.start_soon(sleep_expecting, client, pgany.ProtocolError)
            await wait_running(observer, pid)
            await proxy.inject(b"\xff\x00\x00\x00\x04")  # no such message
        broken = anyio.current_time()
        assert client.is_closed
        # The connection task stops the server's work by itself.
        await assert_gone(observer, pid, broken)


async def test_broken_socket_stops_the_query(
    pg_dsn: str, observer: pgany.Client, proxy: FaultProxy
) -> None:
    async with through(pg_dsn, proxy) as client:
        pid = client.backend_pid
        async with anyio.create_task_group() as tg:
            tg.start_soon(sleep_expecting, client, pgany.ConnectionClosed)
            await wait_running(observer, pid)
            await proxy.cut_client_side()
        broken = anyio.current_time()
        assert client.is_closed
        await assert_gone(observer, pid, broken)


# -- bounded -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("connect_timeout", "bound"), [(None, 2.0), (0.5, 0.5)], ids=["default", "connect_timeout"]
)
async def test_unreachable_cancel_does_not_delay_close(
    pg_dsn: str,
    observer: pgany.Client,
    proxy: FaultProxy,
    connect_timeout: float | None,
    bound: float,
) -> None:
    params = {} if connect_timeout is None else {"connect_timeout": connect_timeout}
    with anyio.CancelScope() as scope:
        async with through(pg_dsn, proxy, **params) as client:
            pid = client.backend_pid
            async with anyio.create_task_group() as tg:
                tg.start_soon(client.query, SLEEP)
                await wait_running(observer, pid)
                proxy.blackhole = True  # the CancelRequest is never answered
                started = anyio.current_time()
                scope.cancel()
    took = anyio.current_time() - started
    assert took < bound + 0.5
    await observer.execute("SELECT pg_cancel_backend($1)", pid)


# -- many --------------------------------------------------------------------------------------


async def test_connect_close_cycles_leave_no_backends(pg_dsn: str, observer: pgany.Client) -> None:
    app = f"cycles_{uuid.uuid4().hex[:8]}"
    for i in range(60):
        if i % 4 == 0:
            with anyio.move_on_after(0.3) as scope:
                async with pgany.connect(pg_dsn, application_name=app) as client:
                    await client.query(SLEEP)
            assert scope.cancelled_caught
        else:
            async with pgany.connect(pg_dsn, application_name=app) as client:
                assert await client.query_value("SELECT $1::int", i) == i
    left = anyio.current_time()
    while n := await observer.query_value(
        "SELECT count(*) FROM pg_stat_activity WHERE application_name = $1", app
    ):
        if anyio.current_time() - left > GONE_WITHIN:
            pytest.fail(f"{n} backends left behind {GONE_WITHIN} s after 60 cycles")
        await anyio.sleep(0.05)
