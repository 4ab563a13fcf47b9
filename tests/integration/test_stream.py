"""query_stream: rows from a decoded batch cost no task switch, yet cancel at the next row."""

from __future__ import annotations

import tracemalloc

import anyio
import anyio.lowlevel
import pytest

import pgany

pytestmark = pytest.mark.anyio

SERIES = "SELECT g FROM generate_series(1, $1::int) g"


async def test_rows_in_order_and_row_count(client: pgany.Client) -> None:
    async with client.query_stream(SERIES, 2345, batch_size=100) as s:
        assert [row[0] async for row in s] == list(range(1, 2346))
        assert s.rows_affected == 2345
        # An exhausted stream stays exhausted.
        assert [row async for row in s] == []
    assert client.transaction_status == "idle"


async def test_empty_result(client: pgany.Client) -> None:
    async with client.query_stream(SERIES, 0) as s:
        assert [row async for row in s] == []
        assert s.rows_affected == 0


async def test_buffered_rows_are_not_schedule_points(client: pgany.Client) -> None:
    """Another task runs about once per batch, not once per row."""
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await anyio.lowlevel.checkpoint()

    async with anyio.create_task_group() as tg:
        tg.start_soon(ticker)
        await anyio.lowlevel.checkpoint()
        async with client.query_stream(SERIES, 10_000, batch_size=1000) as s:
            last = ticks
            switched = 0  # rows before which another task ran
            n = 0
            async for _ in s:
                n += 1
                if ticks != last:
                    switched += 1
                    last = ticks
        tg.cancel_scope.cancel()
    assert n == 10_000
    # Once per batch (ten of them), not once per row.
    assert switched <= 11, switched


async def test_each_fetch_is_a_schedule_point(client: pgany.Client, anyio_backend: str) -> None:
    if anyio_backend == "trio":
        import trio.testing

        async with client.query_stream(SERIES, 3, batch_size=1) as s:
            for expected in (1, 2, 3):
                with trio.testing.assert_checkpoints():
                    assert (await s.__anext__())[0] == expected
            with trio.testing.assert_checkpoints(), pytest.raises(StopAsyncIteration):
                await s.__anext__()
        return
    # asyncio runs ready tasks in order: a task started before a schedule point runs in it.
    ran = False

    async def other() -> None:
        nonlocal ran
        ran = True

    async with client.query_stream(SERIES, 3, batch_size=1) as s:
        for expected in (1, 2, 3, None):
            async with anyio.create_task_group() as tg:
                ran = False
                tg.start_soon(other)
                if expected is None:
                    with pytest.raises(StopAsyncIteration):
                        await s.__anext__()
                else:
                    assert (await s.__anext__())[0] == expected
                assert ran, "fetching a batch let no other task run"


async def test_cancel_in_the_middle_of_a_batch(client: pgany.Client) -> None:
    """A scope cancelled while a batch is buffered stops at the next row; nothing is lost."""
    async with client.query_stream(SERIES, 3000, batch_size=1000) as s:
        seen: list[int] = []
        with anyio.CancelScope() as scope:
            async for row in s:
                seen.append(row[0])
                if row[0] == 10:
                    scope.cancel()
        assert scope.cancelled_caught
        assert seen == list(range(1, 11))
        # The stream goes on from the next row, and to the end.
        rest = [row[0] async for row in s]
        assert rest == list(range(11, 3001))
        assert s.rows_affected == 3000
    assert client.transaction_status == "idle"
    assert await client.query_value("SELECT 7") == 7


async def test_cancel_is_checked_in_the_task_that_iterates(client: pgany.Client) -> None:
    """Another task may take over the iteration: its own scopes are the ones checked."""
    async with client.query_stream(SERIES, 3000, batch_size=1000) as s:
        assert (await s.__anext__())[0] == 1
        seen: list[int] = []
        caught = False

        async def other() -> None:
            nonlocal caught
            with anyio.CancelScope() as scope:
                async for row in s:
                    seen.append(row[0])
                    if row[0] == 5:
                        scope.cancel()
            caught = scope.cancelled_caught

        async with anyio.create_task_group() as tg:
            tg.start_soon(other)
        assert caught
        assert seen == [2, 3, 4, 5]
        assert (await s.__anext__())[0] == 6


async def test_cancel_scope_around_the_stream_rolls_back(client: pgany.Client) -> None:
    seen = 0
    with anyio.CancelScope() as scope:
        async with client.query_stream(SERIES, 3000, batch_size=1000) as s:
            async for _ in s:
                seen += 1
                if seen == 1500:  # in the second batch, with the third in flight
                    scope.cancel()
    assert scope.cancelled_caught
    assert seen == 1500
    assert client.transaction_status == "idle"
    assert await client.query_value("SELECT 8") == 8


async def test_cancel_inside_a_transaction_keeps_it_usable(client: pgany.Client) -> None:
    async with client.transaction() as tx:
        with anyio.CancelScope() as scope:
            async with tx.query_stream(SERIES, 3000, batch_size=1000) as s:
                async for row in s:
                    if row[0] == 5:
                        scope.cancel()
        assert scope.cancelled_caught
        assert await tx.query_value("SELECT 9") == 9
    assert client.transaction_status == "idle"


async def test_other_task_is_answered_while_batches_wait_unread(client: pgany.Client) -> None:
    """The consumer reads its batches itself; another task's query behind them is not held up.

    Its answer comes after the stream's batches requested ahead: while the
    consumer is busy, the reader task reads them for it.
    """
    async with client.transaction() as tx:
        async with tx.query_stream(SERIES, 20, batch_size=2) as s:
            seen = [(await s.__anext__())[0]]
            answer = None

            async def other() -> None:
                nonlocal answer
                answer = await tx.query_value("SELECT 42")

            with anyio.fail_after(5):
                async with anyio.create_task_group() as tg:
                    tg.start_soon(other)
            assert answer == 42
            seen += [row[0] async for row in s]
        assert seen == list(range(1, 21))
        assert await tx.query_value("SELECT 43") == 43
    assert client.transaction_status == "idle"


async def test_shielded_scope_is_not_cancelled(client: pgany.Client) -> None:
    with anyio.CancelScope() as outer:
        outer.cancel()
        with anyio.CancelScope(shield=True):
            async with client.query_stream(SERIES, 1500, batch_size=1000) as s:
                assert len([row async for row in s]) == 1500
    assert client.transaction_status == "idle"


async def test_closed_stream_gives_no_buffered_rows(client: pgany.Client) -> None:
    async with client.query_stream(SERIES, 100, batch_size=50) as s:
        async for _ in s:
            break
    with pytest.raises(pgany.InterfaceError, match="closed"):
        await s.__anext__()


async def test_memory_bounded_compared_with_query(client: pgany.Client) -> None:
    """Streaming 200,000 rows peaks at a small part of what query() of the same rows takes."""
    n = 200_000
    sql = "SELECT g, repeat('x', 20) FROM generate_series(1, $1::int) g"
    tracemalloc.start()
    try:
        base, _ = tracemalloc.get_traced_memory()
        rows = await client.query(sql, n)
        assert len(rows) == n
        _, peak = tracemalloc.get_traced_memory()
        query_peak = peak - base
        del rows
        base, _ = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        seen = 0
        async with client.query_stream(sql, n, batch_size=1000) as s:
            async for _ in s:
                seen += 1
        _, peak = tracemalloc.get_traced_memory()
        stream_peak = peak - base
    finally:
        tracemalloc.stop()
    assert seen == n
    assert stream_peak * 10 < query_peak, (stream_peak, query_peak)
