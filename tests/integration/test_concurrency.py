"""Pipelining and cancellation on one shared client."""

from __future__ import annotations

import time

import anyio
import pytest

import pgany
import pgany.errors

pytestmark = pytest.mark.anyio


async def test_fifty_tasks_share_one_client(client: pgany.Client) -> None:
    results: dict[int, object] = {}

    async def worker(i: int) -> None:
        for j in range(5):
            row = await client.query_one("SELECT $1::int AS i, $2::text AS s", i, f"task{i}-{j}")
            assert row == (i, f"task{i}-{j}")
        results[i] = await client.query_value("SELECT $1::int8 * 2", i)

    async with anyio.create_task_group() as tg:
        for i in range(50):
            tg.start_soon(worker, i)
    assert results == {i: i * 2 for i in range(50)}


async def test_many_tasks_answers_are_read_many_at_a_time(
    client: pgany.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With 50 tasks pipelining, one read takes many answers, not one or two.

    PostgreSQL sends each answer as soon as it is ready; a reader that reads
    again at once (before the tasks it just woke have run) gets one or two
    answers per read, and pays a read, a parse and a scheduler round for each.
    """
    from pgany import _driver

    reads = 0
    feed = _driver.Driver._feed

    def counting_feed(self: _driver.Driver, data: bytes, *args: int) -> bool:
        nonlocal reads
        reads += 1
        return feed(self, data, *args)

    stmt = await client.prepare("SELECT $1::int")
    monkeypatch.setattr(_driver.Driver, "_feed", counting_feed)
    queries = 50 * 40

    async def worker(t: int) -> None:
        for i in range(t, queries, 50):
            assert await client.query_value(stmt, i) == i

    async with anyio.create_task_group() as tg:
        for t in range(50):
            tg.start_soon(worker, t)
    assert queries / reads >= 5, f"{queries} answers took {reads} reads"


async def test_error_in_one_request_fails_only_it(client: pgany.Client) -> None:
    outcomes: dict[int, object] = {}

    async def worker(i: int) -> None:
        try:
            outcomes[i] = await client.query_value("SELECT 10 / $1::int", i % 5)
        except pgany.errors.DivisionByZero:
            outcomes[i] = "div0"

    async with anyio.create_task_group() as tg:
        for i in range(50):
            tg.start_soon(worker, i)
    assert outcomes == {i: ("div0" if i % 5 == 0 else 10 // (i % 5)) for i in range(50)}
    assert client.transaction_status == "idle"


async def test_mixed_calls_concurrently(client: pgany.Client) -> None:
    await client.execute("CREATE TEMP TABLE mix (id int, v text)")

    async def writer(i: int) -> None:
        assert await client.execute("INSERT INTO mix VALUES ($1, $2)", i, str(i)) == 1

    async def simple(i: int) -> None:
        msgs = await client.simple_query(f"SELECT {i} AS v")
        assert msgs[1][0] == str(i)

    async with anyio.create_task_group() as tg:
        for i in range(30):
            tg.start_soon(writer, i)
            tg.start_soon(simple, i)
    assert await client.query_value("SELECT count(*) FROM mix") == 30


async def test_fail_after_leaves_client_consistent(client: pgany.Client) -> None:
    with pytest.raises(TimeoutError):
        with anyio.fail_after(0.2):
            await client.query("SELECT pg_sleep(30)")
    # The next query gets its own result, never leftovers.
    assert await client.query_value("SELECT 'mine'") == "mine"
    assert client.transaction_status == "idle"


async def test_cancelled_query_stops_on_the_server(client: pgany.Client, pg_dsn: str) -> None:
    pid = client.backend_pid
    start = time.monotonic()
    with anyio.move_on_after(0.3):
        await client.query("SELECT pg_sleep(60)")
    async with pgany.connect(pg_dsn) as observer:
        with anyio.fail_after(10):
            while True:
                state = await observer.query_opt(
                    "SELECT query FROM pg_stat_activity WHERE pid = $1 AND state = 'active'", pid
                )
                if state is None or "pg_sleep(60)" not in state[0]:
                    break
                await anyio.sleep(0.05)
    assert time.monotonic() - start < 10
    assert await client.query_value("SELECT 1") == 1


async def test_cancel_in_many_tasks_at_random_points(client: pgany.Client) -> None:
    async def worker(i: int) -> None:
        with anyio.move_on_after(0.001 * (i % 7)):
            row = await client.query_one("SELECT $1::int, pg_sleep(0.01 * ($1::int % 3))", i)
            assert row[0] == i

    async with anyio.create_task_group() as tg:
        for i in range(40):
            tg.start_soon(worker, i)
    for i in range(5):
        assert await client.query_value("SELECT $1::int", i) == i


async def test_cancel_token(client: pgany.Client) -> None:
    token = client.cancel_token()
    assert token.process_id == client.backend_pid

    async def cancel_soon() -> None:
        await anyio.sleep(0.3)
        await token.cancel_query()

    async with anyio.create_task_group() as tg:
        tg.start_soon(cancel_soon)
        with pytest.raises(pgany.errors.QueryCanceled):
            await client.query("SELECT pg_sleep(30)")
    assert await client.query_value("SELECT 2") == 2


async def test_server_terminating_the_session(client: pgany.Client, pg_dsn: str) -> None:
    pid = client.backend_pid

    async def kill_soon() -> None:
        await anyio.sleep(0.3)
        async with pgany.connect(pg_dsn) as admin:
            await admin.query("SELECT pg_terminate_backend($1)", pid)

    with anyio.fail_after(10):
        async with anyio.create_task_group() as tg:
            tg.start_soon(kill_soon)
            with pytest.raises((pgany.errors.AdminShutdown, pgany.ConnectionClosed)):
                await client.query("SELECT pg_sleep(30)")
    with pytest.raises(pgany.ConnectionClosed):
        await client.query("SELECT 1")
    assert client.is_closed


async def test_close_while_one_caller_reads_its_own_result(pg_dsn: str) -> None:
    # A lone query's caller reads the socket itself (the reader task is parked):
    # close() from another task ends its wait at once.
    async with pgany.connect(pg_dsn) as client:
        caught: list[BaseException] = []

        async def lone() -> None:
            try:
                await client.query("SELECT pg_sleep(30)")
            except pgany.ConnectionClosed as exc:
                caught.append(exc)

        with anyio.fail_after(5):
            async with anyio.create_task_group() as tg:
                tg.start_soon(lone)
                await anyio.sleep(0.2)
                await client.close()
        assert len(caught) == 1
        assert client.is_closed


async def test_close_while_the_reader_watches_the_socket(pg_dsn: str) -> None:
    # Listening, the reader task sits in a socket read: close() still returns
    # promptly and ends the notification stream.
    async with pgany.connect(pg_dsn) as client:
        await client.listen("close_watch")
        ended: list[BaseException] = []

        async def consume() -> None:
            try:
                async for _ in client.notifications():
                    pass
            except pgany.ConnectionClosed as exc:
                ended.append(exc)

        with anyio.fail_after(5):
            async with anyio.create_task_group() as tg:
                tg.start_soon(consume)
                await anyio.sleep(0.2)  # (longer than the reader's idle park)
                await client.close()
        assert len(ended) == 1
        assert client.is_closed


async def test_close_while_queries_wait(pg_dsn: str) -> None:
    async with pgany.connect(pg_dsn) as client:
        errors: list[BaseException] = []

        async def waiter() -> None:
            try:
                await client.query("SELECT pg_sleep(30)")
            except pgany.ConnectionClosed as exc:
                errors.append(exc)

        with anyio.fail_after(10):
            async with anyio.create_task_group() as tg:
                for _ in range(3):
                    tg.start_soon(waiter)
                await anyio.sleep(0.2)
                await client.close()
        assert len(errors) == 3
