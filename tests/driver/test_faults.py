"""Faults a real server won't produce, injected by the scripted fake server.

The real client (pgany.connect, the driver task, the cancel path) talks to
:mod:`fakeserver` over TCP; each test scripts what the server answers. Every
test is bounded with ``anyio.fail_after`` so that a regression fails instead
of hanging, and an ExceptionGroup (or any other exception) leaving
``pgany.connect`` fails the test by itself.
"""

from __future__ import annotations

import anyio
import pytest
from fakeserver import Peer, encode, error_response, fake_server, int4

import pgany
import pgany.errors
from pgany.protocol import frontend as fe
from pgany.protocol.messages import (
    AuthenticationCleartextPassword,
    AuthenticationOk,
    BackendMessage,
    BindComplete,
    CommandComplete,
    DataRow,
    FieldDescription,
    ReadyForQuery,
    RowDescription,
)

pytestmark = pytest.mark.anyio

SQL = "SELECT $1::int4 AS n"
#: Seconds a test may take before it counts as hung.
LIMIT = 10
#: What "promptly" means for a failure that needs no timeout to be noticed.
PROMPT = 2

ADMIN_SHUTDOWN = error_response(
    "57P01", "terminating connection due to administrator command", severity="FATAL"
)


def frame(type_byte: bytes, body: bytes) -> bytes:
    """A backend message with any type byte and body (to build malformed ones)."""
    return type_byte + (len(body) + 4).to_bytes(4, "big") + body


async def wait_closed(client: pgany.Client) -> None:
    """Wait until the client has noticed that its connection is gone.

    ``notifications()`` ends with ConnectionClosed at that moment.
    """
    stream = client.notifications()
    with pytest.raises(pgany.ConnectionClosed):
        await stream.__anext__()
    assert client.is_closed


# -- the fake server itself ----------------------------------------------------------------


async def test_fake_server_round_trip() -> None:
    async with fake_server(Peer.serve) as server:
        with anyio.fail_after(LIMIT):
            async with pgany.connect(server.dsn) as client:
                assert client.server_version == 160000
                assert client.backend_pid == server.peers[0].process_id
                assert await client.query_value(SQL, 7) == 7
                row = await client.query_one(SQL, -3)
                assert row["n"] == -3
    (peer,) = server.peers
    assert peer.startup is not None
    assert peer.startup.parameters["user"] == "fake"
    assert isinstance(peer.received[0], fe.SSLRequest)  # sslmode=prefer: answered N
    assert isinstance(peer.received[-1], fe.Terminate)
    assert peer.closed.is_set()


# -- 1. the connection is cut in the middle of a message ------------------------------------


async def test_cut_mid_message() -> None:
    async def script(peer: Peer) -> None:
        await peer.answer_next()  # prepare
        await peer.read_until_sync()  # the query
        row = encode(DataRow((int4(1),)))
        await peer.send(BindComplete())
        await peer.send_raw(row[: len(row) // 2])
        await peer.close()

    async with fake_server(script) as server:
        with anyio.fail_after(LIMIT):
            async with pgany.connect(server.dsn) as client:
                stmt = await client.prepare(SQL)
                with anyio.fail_after(PROMPT), pytest.raises(pgany.Error) as info:
                    await client.query(stmt, 1)
                # pgany reports a cut connection as ConnectionClosed, caused by the
                # half-received message.
                assert type(info.value) is pgany.ConnectionClosed
                assert isinstance(info.value.__cause__, pgany.ProtocolError)
                assert "middle of a message" in str(info.value.__cause__)
                assert client.is_closed
                with pytest.raises(pgany.ConnectionClosed):
                    await client.query(stmt, 2)
                with pytest.raises(pgany.ConnectionClosed):
                    await client.query("SELECT 'a statement not prepared yet'")


# -- 2. a malformed reply ---------------------------------------------------------------------

MALFORMED = {
    "unknown type byte": frame(b"?", b""),
    "invalid length": b"D\x00\x00\x00\x02",
    "DataRow value overruns the message": frame(
        b"D", b"\x00\x01" + (100).to_bytes(4, "big") + int4(1)
    ),
    "DataRow without its value's length": frame(b"D", b"\x00\x01"),
    "DataRow with too many columns": encode(DataRow((int4(1), int4(2)))),
    "unterminated CommandComplete": frame(b"C", b"SELECT 1"),
    "ReadyForQuery with an unknown status": frame(b"Z", b"X"),
    "AuthenticationOk in a query": encode(AuthenticationOk()),
}


@pytest.mark.parametrize("garbage", MALFORMED.values(), ids=MALFORMED.keys())
async def test_malformed_reply(garbage: bytes) -> None:
    async def script(peer: Peer) -> None:
        await peer.answer_next()  # prepare
        await peer.read_until_sync()
        await peer.send(BindComplete())
        await peer.send_raw(garbage)
        await peer.wait_eof()  # the client must hang up

    async with fake_server(script) as server:
        with anyio.fail_after(LIMIT):
            async with pgany.connect(server.dsn) as client:
                stmt = await client.prepare(SQL)
                with anyio.fail_after(PROMPT), pytest.raises(pgany.Error) as info:
                    await client.query(stmt, 1)
                assert type(info.value) is pgany.ProtocolError
                assert client.is_closed
                with pytest.raises(pgany.ConnectionClosed) as later:
                    await client.query(stmt, 2)
                assert isinstance(later.value.__cause__, pgany.ProtocolError)
    assert server.peers[0].closed.is_set()


SIMPLE_MALFORMED = {
    "value overruns the message": frame(b"D", b"\x00\x01" + (100).to_bytes(4, "big") + b"ab"),
    "value's length missing": frame(b"D", b"\x00\x01"),
    "too many columns": encode(DataRow((b"a", b"b"))),
}


@pytest.mark.parametrize("garbage", SIMPLE_MALFORMED.values(), ids=SIMPLE_MALFORMED.keys())
async def test_malformed_simple_query_row(garbage: bytes) -> None:
    async def script(peer: Peer) -> None:
        await peer.read_until_sync()  # the Query
        await peer.send(RowDescription((FieldDescription("a", 0, 0, 25, -1, -1, 0),)))
        await peer.send_raw(garbage + encode(CommandComplete("SELECT 1"), ReadyForQuery("I")))
        await peer.wait_eof()

    async with fake_server(script) as server:
        with anyio.fail_after(LIMIT):
            async with pgany.connect(server.dsn) as client:
                with anyio.fail_after(PROMPT), pytest.raises(pgany.Error) as info:
                    await client.simple_query("SELECT a FROM t")
                assert type(info.value) is pgany.ProtocolError
                assert client.is_closed


async def test_undecodable_value_fails_only_its_request() -> None:
    """A well-framed row the codec can't read is a DecodeError, not a broken connection."""

    async def script(peer: Peer) -> None:
        await peer.answer_next()  # prepare
        await peer.read_until_sync()
        await peer.send(
            BindComplete(),
            DataRow((b"\x00\x01",)),  # a 2-byte int4
            CommandComplete("SELECT 1"),
            ReadyForQuery("I"),
        )
        await peer.read_until_sync()  # the Query
        await peer.send(
            RowDescription((FieldDescription("a", 0, 0, 25, -1, -1, 0),)),
            DataRow((b"\xff\xfe",)),  # not UTF-8
            CommandComplete("SELECT 1"),
            ReadyForQuery("I"),
        )
        await peer.serve()

    async with fake_server(script) as server:
        with anyio.fail_after(LIMIT):
            async with pgany.connect(server.dsn) as client:
                stmt = await client.prepare(SQL)
                with pytest.raises(pgany.DecodeError, match="'n'"):
                    await client.query(stmt, 1)
                with pytest.raises(pgany.DecodeError, match="'a'"):
                    await client.simple_query("SELECT a FROM t")
                assert not client.is_closed
                assert await client.query_value(stmt, 2) == 2


@pytest.mark.parametrize("together", [True, False], ids=["with the greeting", "after it"])
async def test_malformed_message_while_idle(together: bool) -> None:
    async def script(peer: Peer) -> None:
        if together:
            # In the very write that ends startup: the client must not wait
            # for more bytes before it looks at these.
            await peer.send_raw(encode(*peer.greeting()) + frame(b"?", b""))
        else:
            await peer.greet()
            await peer.send_raw(frame(b"?", b""))
        await peer.wait_eof()

    async with fake_server(script, greet=False) as server:
        with anyio.fail_after(LIMIT):
            async with pgany.connect(server.dsn) as client:
                with anyio.fail_after(PROMPT):
                    await wait_closed(client)
                with pytest.raises(pgany.ConnectionClosed) as info:
                    await client.query(SQL, 1)
                assert isinstance(info.value.__cause__, pgany.ProtocolError)


# -- 3. the server goes away while several queries wait -------------------------------------


async def test_server_closes_with_queries_waiting() -> None:
    async def script(peer: Peer) -> None:
        await peer.answer_next()  # prepare
        await peer.read_units(5)
        await peer.close()

    errors: dict[int, BaseException] = {}
    async with fake_server(script) as server:
        with anyio.fail_after(LIMIT):
            async with pgany.connect(server.dsn) as client:
                stmt = await client.prepare(SQL)

                async def one(i: int) -> None:
                    try:
                        await client.query(stmt, i)
                    except pgany.Error as exc:
                        errors[i] = exc

                with anyio.fail_after(PROMPT):
                    async with anyio.create_task_group() as tg:
                        for i in range(5):
                            tg.start_soon(one, i)
                assert client.is_closed
    assert sorted(errors) == list(range(5))
    for exc in errors.values():
        assert type(exc) is pgany.ConnectionClosed


# -- 4. a stalled server, and the CancelRequest ----------------------------------------------


async def stall(peer: Peer) -> None:
    await peer.answer_next()  # prepare
    await peer.read_until_sync()  # the query: never answered
    await peer.wait_eof()


async def test_stalled_query_sends_cancel_request() -> None:
    async with fake_server(stall) as server:
        with anyio.fail_after(LIMIT):
            async with pgany.connect(server.dsn) as client:
                stmt = await client.prepare(SQL)
                with pytest.raises(TimeoutError), anyio.fail_after(0.3):
                    await client.query(stmt, 1)
                with anyio.fail_after(PROMPT):
                    cancel = await server.wait_cancel_request()
                (peer,) = server.peers
                assert cancel.process_id == peer.process_id == client.backend_pid
                assert cancel.secret_key == peer.secret_key
                with anyio.fail_after(PROMPT):
                    await client.close()
                assert client.is_closed
                with pytest.raises(pgany.ConnectionClosed):
                    await client.query(stmt, 2)
    assert len(server.cancel_requests) == 1


async def test_stalled_query_close_right_after_timeout() -> None:
    async with fake_server(stall) as server:
        with anyio.fail_after(LIMIT):
            async with pgany.connect(server.dsn) as client:
                stmt = await client.prepare(SQL)
                with pytest.raises(TimeoutError), anyio.fail_after(0.3):
                    await client.query(stmt, 1)
                with anyio.fail_after(PROMPT):
                    await client.close()
                assert client.is_closed


async def test_cancelled_query_leaves_connection_usable() -> None:
    async def script(peer: Peer) -> None:
        await peer.answer_next()  # prepare
        await peer.read_until_sync()
        await peer.server.wait_cancel_request()
        await peer.send(
            BindComplete(),
            error_response("57014", "canceling statement due to user request"),
            ReadyForQuery("I"),
        )
        await peer.serve()

    async with fake_server(script) as server:
        with anyio.fail_after(LIMIT):
            async with pgany.connect(server.dsn) as client:
                stmt = await client.prepare(SQL)
                with pytest.raises(TimeoutError), anyio.fail_after(0.3):
                    await client.query(stmt, 1)
                with anyio.fail_after(PROMPT):
                    assert await client.query_value(stmt, 2) == 2
                assert not client.is_closed


# -- 5. and 6. a FATAL error ------------------------------------------------------------------


async def test_fatal_error_while_query_waits() -> None:
    async def script(peer: Peer) -> None:
        await peer.answer_next()  # prepare
        await peer.read_until_sync()
        await peer.send(ADMIN_SHUTDOWN)
        await peer.close()

    async with fake_server(script) as server:
        with anyio.fail_after(LIMIT):
            async with pgany.connect(server.dsn) as client:
                stmt = await client.prepare(SQL)
                with anyio.fail_after(PROMPT), pytest.raises(pgany.errors.AdminShutdown) as info:
                    await client.query(stmt, 1)
                assert info.value.sqlstate == "57P01"
                assert info.value.severity == "FATAL"
                assert client.is_closed
                with pytest.raises(pgany.ConnectionClosed) as later:
                    await client.query(stmt, 2)
                assert later.value.__cause__ is info.value


@pytest.mark.parametrize("when", ["with the greeting", "after it", "after it, socket left open"])
async def test_fatal_error_while_idle(when: str) -> None:
    async def script(peer: Peer) -> None:
        if when == "with the greeting":
            await peer.send_raw(encode(*peer.greeting(), ADMIN_SHUTDOWN))
            await peer.wait_eof()
        elif when == "after it":
            await peer.greet()
            await peer.send(ADMIN_SHUTDOWN)
            await peer.close()
        else:
            await peer.greet()
            await peer.send(ADMIN_SHUTDOWN)
            await peer.wait_eof()

    async with fake_server(script, greet=False) as server:
        with anyio.fail_after(LIMIT):
            async with pgany.connect(server.dsn) as client:
                with anyio.fail_after(PROMPT):
                    await wait_closed(client)
                with pytest.raises(pgany.ConnectionClosed) as info:
                    await client.query(SQL, 1)
                assert isinstance(info.value.__cause__, pgany.errors.AdminShutdown)
                with pytest.raises(pgany.ConnectionClosed):
                    await client.execute(SQL, 2)


# -- 7., 8. and 9. pipelining -------------------------------------------------------------------


async def test_concurrent_queries_are_coalesced() -> None:
    reads: list[int] = []

    async def script(peer: Peer) -> None:
        await peer.answer_next()  # prepare
        before = peer.recv_count
        units = await peer.read_units(20)
        reads.append(peer.recv_count - before)
        await peer.send(*(m for unit in units for m in peer.replies(unit)))
        await peer.serve()

    results: dict[int, int] = {}
    async with fake_server(script) as server:
        with anyio.fail_after(LIMIT):
            async with pgany.connect(server.dsn) as client:
                stmt = await client.prepare(SQL)

                async def one(i: int) -> None:
                    results[i] = await client.query_value(stmt, i)

                async with anyio.create_task_group() as tg:
                    for i in range(20):
                        tg.start_soon(one, i)
    assert results == {i: i for i in range(20)}
    (n,) = reads
    assert n < 20, f"20 requests took {n} socket reads: writes were not coalesced"


@pytest.mark.parametrize("chunk", [None, 1], ids=["one write", "byte by byte"])
async def test_pipelined_answers_arrive_together(chunk: int | None) -> None:
    async def script(peer: Peer) -> None:
        await peer.answer_next()  # prepare
        units = await peer.read_units(10)
        await anyio.sleep(0.05)
        data = encode(*(m for unit in units for m in peer.replies(unit)))
        if chunk is None:
            await peer.send_raw(data)
        else:
            for i in range(0, len(data), chunk):
                await peer.send_raw(data[i : i + chunk])
        await peer.serve()

    results: dict[int, int] = {}
    async with fake_server(script) as server:
        with anyio.fail_after(LIMIT):
            async with pgany.connect(server.dsn) as client:
                stmt = await client.prepare(SQL)

                async def one(i: int) -> None:
                    results[i] = await client.query_value(stmt, i * 11)

                async with anyio.create_task_group() as tg:
                    for i in range(10):
                        tg.start_soon(one, i)
                assert await client.query_value(stmt, 99) == 99
    assert results == {i: i * 11 for i in range(10)}


async def test_rows_of_pipelined_requests_stay_apart() -> None:
    async def script(peer: Peer) -> None:
        await peer.answer_next()  # prepare
        replies: list[BackendMessage] = []
        for unit in await peer.read_units(2):
            answer = peer.replies(unit)  # BindComplete, DataRow, CommandComplete, RFQ
            bind = next(m for m in unit if isinstance(m, fe.Bind))
            if bind.params == (int4(1),):
                answer[2:3] = [DataRow((int4(100),)), CommandComplete("SELECT 2")]
            replies += answer
        await peer.send(*replies)
        await peer.serve()

    results: dict[int, list[int]] = {}
    async with fake_server(script) as server:
        with anyio.fail_after(LIMIT):
            async with pgany.connect(server.dsn) as client:
                stmt = await client.prepare(SQL)

                async def one(i: int) -> None:
                    results[i] = [row[0] for row in await client.query(stmt, i)]

                async with anyio.create_task_group() as tg:
                    tg.start_soon(one, 1)
                    tg.start_soon(one, 2)
    assert results == {1: [1, 100], 2: [2]}


async def test_error_in_pipelined_batch_fails_only_its_request() -> None:
    async def script(peer: Peer) -> None:
        await peer.answer_next()  # prepare
        replies: list[BackendMessage] = []
        for unit in await peer.read_units(5):
            bind = next(m for m in unit if isinstance(m, fe.Bind))
            if bind.params == (int4(3),):
                replies += [
                    BindComplete(),
                    error_response("22012", "division by zero"),
                    ReadyForQuery("I"),
                ]
            else:
                replies += peer.replies(unit)
        await peer.send(*replies)
        await peer.serve()

    outcomes: dict[int, object] = {}
    async with fake_server(script) as server:
        with anyio.fail_after(LIMIT):
            async with pgany.connect(server.dsn) as client:
                stmt = await client.prepare(SQL)

                async def one(i: int) -> None:
                    try:
                        outcomes[i] = await client.query_value(stmt, i)
                    except pgany.Error as exc:
                        outcomes[i] = exc

                async with anyio.create_task_group() as tg:
                    for i in range(1, 6):
                        tg.start_soon(one, i)
                assert not client.is_closed
                assert await client.query_value(stmt, 6) == 6
    assert isinstance(outcomes.pop(3), pgany.errors.DivisionByZero)
    assert outcomes == {1: 1, 2: 2, 4: 4, 5: 5}


# -- 10. startup failures ---------------------------------------------------------------------


async def close_at_once(peer: Peer) -> None:
    await peer.close()


async def test_server_closes_after_startup_message() -> None:
    async with fake_server(close_at_once, greet=False) as server:
        with anyio.fail_after(LIMIT), pytest.raises(pgany.ConnectError) as info:
            async with pgany.connect(server.dsn):
                pytest.fail("connected")
    assert type(info.value) is pgany.ConnectError
    assert "closed the connection during startup" in str(info.value)
    assert str(server.port) in str(info.value)


async def test_server_closes_after_startup_message_run_connection() -> None:
    async with fake_server(close_at_once, greet=False) as server:
        with anyio.fail_after(LIMIT):
            async with anyio.create_task_group() as tg:
                # start() raises the failed connect itself.
                with pytest.raises(pgany.ConnectError):
                    await tg.start(pgany.run_connection, server.dsn)


async def test_wrong_password() -> None:
    passwords: list[bytes] = []

    async def script(peer: Peer) -> None:
        await peer.send(AuthenticationCleartextPassword())
        msg = await peer.read_message(password_kind="password")
        assert isinstance(msg, fe.PasswordMessage)
        passwords.append(msg.password)
        await peer.send(
            error_response(
                "28P01", 'password authentication failed for user "fake"', severity="FATAL"
            )
        )
        await peer.close()

    async with fake_server(script, greet=False) as server:
        with anyio.fail_after(LIMIT), pytest.raises(pgany.errors.InvalidPassword) as info:
            async with pgany.connect(server.dsn, password="s3cret-wrong"):
                pytest.fail("connected")
    assert type(info.value) is pgany.errors.InvalidPassword  # not wrapped in a group
    assert info.value.sqlstate == "28P01"
    assert "s3cret-wrong" not in str(info.value)
    assert passwords == [b"s3cret-wrong"]


async def test_password_asked_but_none_given(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PGPASSWORD", raising=False)
    monkeypatch.setenv("PGPASSFILE", "/nonexistent/pgpass")

    async def script(peer: Peer) -> None:
        await peer.send(AuthenticationCleartextPassword())
        await peer.wait_eof()

    async with fake_server(script, greet=False) as server:
        with anyio.fail_after(LIMIT), pytest.raises(pgany.ConnectError) as info:
            async with pgany.connect(server.dsn):
                pytest.fail("connected")
    assert type(info.value) is pgany.ConnectError
    assert "password" in str(info.value)
    # The client hung up without sending anything after its StartupMessage.
    assert isinstance(server.peers[0].received[-1], fe.StartupMessage)
