"""LISTEN/NOTIFY that never stalls the connection, and notices."""

from __future__ import annotations

import logging
import time

import anyio
import pytest

import pgany

pytestmark = pytest.mark.anyio


async def test_two_notifies_in_one_batch(client: pgany.Client) -> None:
    payload_big = "x" * 7999
    await client.listen("chan")
    await client.batch_execute(f"NOTIFY chan, 'héllo ✓'; NOTIFY chan, '{payload_big}'")
    got = []
    with anyio.fail_after(10):
        async for note in client.notifications():
            got.append(note)
            if len(got) == 2:
                break
    pid = client.backend_pid
    assert got == [
        pgany.Notification(pid, "chan", "héllo ✓"),
        pgany.Notification(pid, "chan", payload_big),
    ]


async def test_channel_is_quoted(client: pgany.Client) -> None:
    await client.listen('Odd "Chan"')
    await client.query("SELECT pg_notify($1, $2)", 'Odd "Chan"', "p")
    with anyio.fail_after(10):
        note = await client.notifications().__anext__()
    assert (note.channel, note.payload) == ('Odd "Chan"', "p")
    await client.unlisten('Odd "Chan"')
    await client.query("SELECT pg_notify($1, $2)", 'Odd "Chan"', "q")
    await client.unlisten("*")
    assert await client.query_value("SELECT 1") == 1
    assert not client._session._driver.notifications


async def test_notifications_arrive_while_idle(client: pgany.Client, pg_dsn: str) -> None:
    await client.listen("idle_chan")
    async with pgany.connect(pg_dsn) as other:
        for i in range(3):
            await other.execute("SELECT pg_notify('idle_chan', $1)", str(i))
    # The listener ran no query since: the connection task received them.
    with anyio.fail_after(10):
        while len(client._session._driver.notifications) < 3:
            await anyio.sleep(0.01)
    got = []
    async for note in client.notifications():
        got.append(note.payload)
        if len(got) == 3:
            break
    assert got == ["0", "1", "2"]


async def test_flood_does_not_stall_queries(pg_dsn: str, caplog: pytest.LogCaptureFixture) -> None:
    async with pgany.connect(pg_dsn) as client, pgany.connect(pg_dsn) as other:
        await client.listen("flood")
        with caplog.at_level(logging.WARNING, logger="pgany"):
            await other.query("SELECT pg_notify('flood', g::text) FROM generate_series(1, 20000) g")
            start = time.monotonic()
            for i in range(20):
                assert await client.query_value("SELECT $1::int", i) == i
            assert time.monotonic() - start < 10
            with anyio.fail_after(20):
                while client.notifications_dropped < 10_000:
                    await anyio.sleep(0.01)
        assert client.notifications_dropped == 10_000
        assert any("notification buffer full" in r.message for r in caplog.records)
        payloads = []
        async for note in client.notifications():
            payloads.append(int(note.payload))
            if len(payloads) == 10_000:
                break
        assert payloads == list(range(10_001, 20_001))


async def test_small_notification_buffer(pg_dsn: str) -> None:
    async with pgany.connect(pg_dsn, notification_buffer=5) as client:
        await client.listen("small")
        await client.query("SELECT pg_notify('small', g::text) FROM generate_series(1, 12) g")
        with anyio.fail_after(10):
            while client.notifications_dropped < 7:
                await client.query_value("SELECT 1")
        got = []
        async for note in client.notifications():
            got.append(note.payload)
            if len(got) == 5:
                break
        assert got == ["8", "9", "10", "11", "12"]


async def test_iterator_ends_when_connection_goes(client: pgany.Client, pg_dsn: str) -> None:
    await client.listen("bye")
    pid = client.backend_pid
    async with pgany.connect(pg_dsn) as admin:
        await admin.query("SELECT pg_terminate_backend($1)", pid)
    with anyio.fail_after(10), pytest.raises(pgany.ConnectionClosed):
        async for _ in client.notifications():
            pass


async def test_notices_in_order(pg_dsn: str) -> None:
    notices: list[pgany.DatabaseError] = []
    async with pgany.connect(pg_dsn, on_notice=notices.append) as client:
        await client.batch_execute("SET application_name = '" + "a" * 65 + "'")
        await client.batch_execute("DROP DATABASE IF EXISTS pgany_no_such_database")
        assert client.parameter_status("application_name") == "a" * 63
    assert [n.sqlstate for n in notices] == ["42622", "00000"]
    assert "will be truncated" in notices[0].message
    assert notices[1].message == 'database "pgany_no_such_database" does not exist, skipping'
    assert all(n.severity == "NOTICE" for n in notices)


async def test_notices_go_to_the_logger_by_default(
    client: pgany.Client, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="pgany"):
        await client.batch_execute("DO $$ BEGIN RAISE NOTICE 'to the log'; END $$")
    assert any("to the log" in r.getMessage() for r in caplog.records)
