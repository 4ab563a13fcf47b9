"""Who reads the socket: the driver's reader task, or a caller reading its own result.

A caller whose request is the only one in flight reads the socket itself
while the reader task is parked (one scheduler hop less per query); the
reader task takes over whenever someone else waits for data, and watches
an idle socket by itself. These tests script the server (see fakeserver)
to hit each hand-over.
"""

from __future__ import annotations

import anyio
import anyio.lowlevel
import pytest
from fakeserver import Peer, encode, fake_server
from test_faults import ADMIN_SHUTDOWN, LIMIT, PROMPT, SQL

import pgany
from pgany import _driver
from pgany.protocol.messages import NoticeResponse, NotificationResponse

pytestmark = pytest.mark.anyio


@pytest.fixture
def no_naps(monkeypatch: pytest.MonkeyPatch) -> None:
    """The parked reader task never wakes by itself: only a hand-over wakes it."""
    monkeypatch.setattr(_driver, "IDLE_PARK", 3600.0)


@pytest.mark.usefixtures("no_naps")
async def test_sequential_callers_read_their_own_results() -> None:
    async with fake_server(lambda peer: peer.serve()) as server:
        with anyio.fail_after(LIMIT):
            async with pgany.connect(server.dsn) as client:
                stmt = await client.prepare(SQL)
                before = client._session._driver._direct_reads
                for i in range(50):
                    assert await client.query_value(stmt, i) == i
                # (Nearly) every one read by its caller, not handed over by the reader task.
                assert client._session._driver._direct_reads - before >= 45


async def test_idle_client_notices_the_server_going_away_without_calls() -> None:
    async def script(peer: Peer) -> None:
        for _ in range(4):
            await peer.answer_next()
        await anyio.sleep(0.2)  # the client is idle now, its reader parked
        await peer.send(ADMIN_SHUTDOWN)
        await peer.close()

    async with fake_server(script) as server:
        with anyio.fail_after(LIMIT):
            async with pgany.connect(server.dsn) as client:
                stmt = await client.prepare(SQL)
                for i in range(3):
                    assert await client.query_value(stmt, i) == i
                with anyio.fail_after(PROMPT):
                    while not client.is_closed:  # no call: the reader task must notice
                        await anyio.sleep(0.01)
                with pytest.raises(pgany.ConnectionClosed) as info:
                    await client.query(stmt, 1)
                assert isinstance(info.value.__cause__, pgany.errors.AdminShutdown)


@pytest.mark.usefixtures("no_naps")
async def test_a_cancelled_reader_hands_over_to_the_reader_task() -> None:
    async def script(peer: Peer) -> None:
        await peer.answer_next()  # prepare
        units = await peer.read_units(2)
        await anyio.sleep(0.4)  # past the first caller's deadline
        await peer.send(*(m for unit in units for m in peer.replies(unit)))
        await peer.serve()

    async with fake_server(script) as server:
        with anyio.fail_after(LIMIT):
            async with pgany.connect(server.dsn) as client:
                stmt = await client.prepare(SQL)
                second: list[int] = []

                async def first() -> None:
                    with anyio.move_on_after(0.2) as scope:
                        await client.query_value(stmt, 1)  # alone: reads the socket itself
                    assert scope.cancelled_caught

                async def then() -> None:
                    await anyio.sleep(0.05)  # after the first is in flight
                    second.append(await client.query_value(stmt, 2))

                async with anyio.create_task_group() as tg:
                    tg.start_soon(first)
                    tg.start_soon(then)
                assert second == [2]
                assert await client.query_value(stmt, 3) == 3


@pytest.mark.usefixtures("no_naps")
@pytest.mark.parametrize("together", [True, False], ids=["in one write", "one by one"])
async def test_a_caller_reading_resolves_the_requests_behind_it(together: bool) -> None:
    async def script(peer: Peer) -> None:
        await peer.answer_next()  # prepare
        units = await peer.read_units(5)
        await anyio.sleep(0.05)
        if together:  # the first caller's read brings every answer
            await peer.send(*(m for unit in units for m in peer.replies(unit)))
        else:  # the first caller's read brings its own: the reader task must take over
            for unit in units:
                await peer.answer(unit)
                await anyio.sleep(0.02)
        await peer.serve()

    async with fake_server(script) as server:
        with anyio.fail_after(LIMIT):
            async with pgany.connect(server.dsn) as client:
                stmt = await client.prepare(SQL)
                results: dict[int, int] = {}

                async def one(i: int) -> None:
                    await anyio.sleep(0.01 * i)  # the first is alone when it starts waiting
                    results[i] = await client.query_value(stmt, i)

                async with anyio.create_task_group() as tg:
                    for i in range(5):
                        tg.start_soon(one, i)
                assert results == {i: i for i in range(5)}


async def test_notification_and_notice_reach_their_places_during_a_direct_read() -> None:
    async def script(peer: Peer) -> None:
        await peer.answer_next()  # prepare
        unit = await peer.read_until_sync()
        await peer.send(
            NotificationResponse(4242, "chan", "hello"),
            NoticeResponse((("S", "NOTICE"), ("V", "NOTICE"), ("C", "00000"), ("M", "hi"))),
            *peer.replies(unit),
        )
        await peer.serve()

    notices: list[pgany.DatabaseError] = []
    async with fake_server(script) as server:
        with anyio.fail_after(LIMIT):
            async with pgany.connect(server.dsn, on_notice=notices.append) as client:
                stmt = await client.prepare(SQL)
                assert await client.query_value(stmt, 5) == 5
                assert [n.message for n in notices] == ["hi"]
                with anyio.fail_after(PROMPT):
                    note = await client.notifications().__anext__()
                assert (note.channel, note.payload, note.process_id) == ("chan", "hello", 4242)


async def test_a_long_direct_read_outlasts_the_readers_naps() -> None:
    async def script(peer: Peer) -> None:
        await peer.answer_next()  # prepare
        unit = await peer.read_until_sync()
        await anyio.sleep(_driver.IDLE_PARK * 6)
        await peer.send(NotificationResponse(1, "chan", "during"))
        await anyio.sleep(_driver.IDLE_PARK * 2)
        await peer.answer(unit)
        await peer.serve()

    async with fake_server(script) as server:
        with anyio.fail_after(LIMIT):
            async with pgany.connect(server.dsn) as client:
                stmt = await client.prepare(SQL)
                got: list[str] = []

                async def listen() -> None:
                    await anyio.sleep(_driver.IDLE_PARK * 3)  # while the query runs
                    async for note in client.notifications():
                        got.append(note.payload)
                        return

                async with anyio.create_task_group() as tg:
                    tg.start_soon(listen)
                    assert await client.query_value(stmt, 8) == 8
                assert got == ["during"]
                assert await client.query_value(stmt, 9) == 9


@pytest.mark.usefixtures("no_naps")
async def test_server_closes_during_a_direct_read() -> None:
    async def script(peer: Peer) -> None:
        await peer.answer_next()  # prepare
        await peer.read_until_sync()
        await peer.close()

    async with fake_server(script) as server:
        with anyio.fail_after(LIMIT):
            async with pgany.connect(server.dsn) as client:
                stmt = await client.prepare(SQL)
                with pytest.raises(pgany.ConnectionClosed):
                    await client.query_value(stmt, 1)
                assert client.is_closed
                with pytest.raises(pgany.ConnectionClosed):
                    await client.query_value(stmt, 2)


async def test_answer_split_byte_by_byte_during_a_direct_read() -> None:
    async def script(peer: Peer) -> None:
        await peer.answer_next()  # prepare
        while True:
            unit = await peer.read_until_sync()
            data = encode(*peer.replies(unit))
            for i in range(len(data)):
                await peer.send_raw(data[i : i + 1])
                await anyio.lowlevel.checkpoint()

    async with fake_server(script) as server:
        with anyio.fail_after(LIMIT):
            async with pgany.connect(server.dsn) as client:
                stmt = await client.prepare(SQL)
                for i in (1, -2, 2**31 - 1):
                    assert await client.query_value(stmt, i) == i


async def test_closing_right_after_a_protocol_violation_is_prompt() -> None:
    async def script(peer: Peer) -> None:
        await peer.answer_next()  # prepare
        await peer.read_until_sync()
        await peer.send_raw(b"Z\x00\x00\x00\x05X")  # ReadyForQuery with an unknown status
        await peer.wait_eof()  # the client must hang up

    async with fake_server(script) as server:
        with anyio.fail_after(LIMIT):
            async with pgany.connect(server.dsn) as client:
                stmt = await client.prepare(SQL)
                with pytest.raises(pgany.ProtocolError):
                    await client.query_value(stmt, 1)
                leaving = anyio.current_time()
            # No wait for a reader that has nothing left to do.
            assert anyio.current_time() - leaving < PROMPT
    assert server.peers[0].closed.is_set()
