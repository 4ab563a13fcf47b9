"""Cancellation at every await point of a transaction, in the manner of
tokio-postgres's future-cancellation tests: after each cancel the client is
idle, the data is all there or all absent (seen from a second connection),
and the next query on the same client gets its own result."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable

import anyio
import pytest

import pgany
import pgany.errors

pytestmark = pytest.mark.anyio


@pytest.fixture
async def table(client: pgany.Client) -> str:
    name = f"sweep_{uuid.uuid4().hex[:12]}"
    await client.execute(f"CREATE TABLE {name} (id int PRIMARY KEY)")
    return name


async def cancel_after_checkpoints(
    k: int, body: Callable[[], Awaitable[None]]
) -> tuple[bool, bool]:
    """Run *body*, cancelling it after *k* scheduler checkpoints.

    Returns (whether it finished, whether the cancel came before it finished).
    Both may be true: a cancel that lands in the shielded COMMIT lets it end.
    """
    finished = fired = False
    async with anyio.create_task_group() as tg:

        async def canceller() -> None:
            nonlocal fired
            for _ in range(k):
                await anyio.lowlevel.checkpoint()
            fired = not finished
            tg.cancel_scope.cancel()

        async def run() -> None:
            nonlocal finished
            await body()
            finished = True
            tg.cancel_scope.cancel()

        tg.start_soon(run)
        tg.start_soon(canceller)
    return finished, fired


async def check_consistent(
    client: pgany.Client, observer: pgany.Client, table: str, ids: list[int]
) -> int:
    assert client.transaction_status == "idle"
    n = await observer.query_value(
        f"SELECT count(*) FROM {table} WHERE id = $1 OR id = $2", ids[0], ids[1]
    )
    assert n in (0, len(ids)), n
    marker = uuid.uuid4().hex
    assert await client.query_value("SELECT $1::text", marker) == marker
    return int(n)


@pytest.mark.parametrize("where", ["body", "commit", "rollback", "enter"])
async def test_checkpoint_sweep(client: pgany.Client, pg_dsn: str, table: str, where: str) -> None:
    async with pgany.connect(pg_dsn) as observer:
        finished = cancelled = 0
        for k in range(0, 400):
            ids = [k * 3, k * 3 + 1]

            async def body(ids: list[int] = ids) -> None:
                async with client.transaction() as tx:
                    await tx.execute(f"INSERT INTO {table} VALUES ($1)", ids[0])
                    await tx.execute(f"INSERT INTO {table} VALUES ($1)", ids[1])
                    if where == "rollback":
                        await tx.rollback()
                    elif where == "commit":
                        await tx.commit()

            done, fired = await cancel_after_checkpoints(k, body)
            n = await check_consistent(client, observer, table, ids)
            if done:
                assert n == (0 if where == "rollback" else 2)
                finished += 1
            elif where == "rollback":
                assert n == 0
            cancelled += fired
            # How many scheduler rounds a transaction takes depends on how fast
            # the server answers and on the scheduler (a caller reads its own
            # results; trio shuffles its run queue): sweep on until the transaction
            # has been cancelled a few times and finished a few times.
            if finished >= 3 and cancelled >= 4:
                break
        assert finished, "the sweep never let the transaction finish"
        assert cancelled >= 2, f"only {cancelled} cancellations: the sweep covered nothing"


async def test_sleep_sweep(client: pgany.Client, pg_dsn: str, table: str) -> None:
    """Cancel after real delays from 0 upward, with server round trips in between."""
    async with pgany.connect(pg_dsn) as observer:
        for i, delay in enumerate(
            [0, 0.0002, 0.0005, 0.001, 0.002, 0.003, 0.005, 0.008, 0.012, 0.02, 0.05]
        ):
            ids = [10_000 + i * 2, 10_000 + i * 2 + 1]
            committed = False
            with anyio.move_on_after(delay):
                async with client.transaction() as tx:
                    async with tx.savepoint() as sp:
                        await sp.execute(f"INSERT INTO {table} VALUES ($1)", ids[0])
                    await tx.execute(f"INSERT INTO {table} VALUES ($1)", ids[1])
                committed = True
            n = await check_consistent(client, observer, table, ids)
            if committed:
                assert n == 2


async def test_server_dies_mid_transaction(client: pgany.Client, pg_dsn: str) -> None:
    pid = client.backend_pid
    with anyio.fail_after(10):
        with pytest.raises((pgany.ConnectionClosed, pgany.errors.AdminShutdown)):
            async with client.transaction() as tx:
                await tx.query_value("SELECT 1")
                async with pgany.connect(pg_dsn) as admin:
                    await admin.query("SELECT pg_terminate_backend($1)", pid)
                await tx.query("SELECT pg_sleep(30)")
    assert client.is_closed


async def test_server_dies_mid_stream(client: pgany.Client, pg_dsn: str) -> None:
    pid = client.backend_pid
    with anyio.fail_after(10):
        with pytest.raises((pgany.ConnectionClosed, pgany.errors.AdminShutdown)):
            async with client.query_stream(
                "SELECT g FROM generate_series(1, 1000000) g", batch_size=100
            ) as s:
                async for row in s:
                    if row[0] == 150:
                        async with pgany.connect(pg_dsn) as admin:
                            await admin.query("SELECT pg_terminate_backend($1)", pid)
    assert client.is_closed
