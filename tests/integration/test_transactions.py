"""Transactions, savepoints, portals, streams, and the client's exclusivity."""

from __future__ import annotations

import tracemalloc
import uuid

import anyio
import pytest

import pgany
import pgany.errors

pytestmark = pytest.mark.anyio


@pytest.fixture
async def table(client: pgany.Client) -> str:
    name = f"tx_{uuid.uuid4().hex[:12]}"
    await client.execute(f"CREATE TABLE {name} (id int PRIMARY KEY, v text)")
    return name


async def count(dsn: str, table: str) -> int:
    """Rows visible from a second connection."""
    async with pgany.connect(dsn) as other:
        return int(await other.query_value(f"SELECT count(*) FROM {table}"))


async def test_commit_on_normal_exit(client: pgany.Client, table: str, pg_dsn: str) -> None:
    async with client.transaction() as tx:
        assert client.transaction_status == "in_transaction"
        await tx.execute(f"INSERT INTO {table} VALUES (1, 'a')")
        await tx.executemany(f"INSERT INTO {table} VALUES ($1, $2)", [(2, "b"), (3, "c")])
        assert await count(pg_dsn, table) == 0
    assert client.transaction_status == "idle"
    assert await count(pg_dsn, table) == 3


async def test_rollback_on_exception(client: pgany.Client, table: str, pg_dsn: str) -> None:
    class Boom(Exception):
        pass

    with pytest.raises(Boom):
        async with client.transaction() as tx:
            await tx.execute(f"INSERT INTO {table} VALUES (1, 'a')")
            raise Boom
    assert client.transaction_status == "idle"
    assert await count(pg_dsn, table) == 0


async def test_rollback_on_cancellation(client: pgany.Client, table: str, pg_dsn: str) -> None:
    with anyio.move_on_after(0.3):
        async with client.transaction() as tx:
            await tx.execute(f"INSERT INTO {table} VALUES (1, 'a')")
            await tx.query("SELECT pg_sleep(30)")
    assert client.transaction_status == "idle"
    assert await count(pg_dsn, table) == 0
    assert await client.query_value("SELECT 'next'") == "next"


async def test_explicit_commit_and_rollback(client: pgany.Client, table: str, pg_dsn: str) -> None:
    async with client.transaction() as tx:
        await tx.execute(f"INSERT INTO {table} VALUES (1, 'a')")
        await tx.commit()
        assert tx.is_finished
        with pytest.raises(pgany.InterfaceError, match="finished"):
            await tx.execute("SELECT 1")
    async with client.transaction() as tx:
        await tx.execute(f"INSERT INTO {table} VALUES (2, 'b')")
        await tx.rollback()
    assert await count(pg_dsn, table) == 1


async def test_failed_transaction(client: pgany.Client, table: str, pg_dsn: str) -> None:
    with pytest.raises(pgany.errors.InFailedSqlTransaction):
        async with client.transaction() as tx:
            await tx.execute(f"INSERT INTO {table} VALUES (1, 'a')")
            with pytest.raises(pgany.errors.DivisionByZero):
                await tx.query("SELECT 1/0")
            assert client.transaction_status == "failed"
            with pytest.raises(pgany.errors.InFailedSqlTransaction):
                await tx.query("SELECT 1")
            # Leaving normally tries to COMMIT, which the server turns into ROLLBACK.
    assert client.transaction_status == "idle"
    assert await count(pg_dsn, table) == 0


@pytest.mark.parametrize(
    ("isolation", "shown"),
    [
        ("serializable", "serializable"),
        ("REPEATABLE_READ", "repeatable read"),
        ("read committed", "read committed"),
        ("Read Uncommitted", "read uncommitted"),
    ],
)
async def test_isolation_levels(client: pgany.Client, isolation: str, shown: str) -> None:
    async with client.transaction(isolation=isolation, read_only=True, deferrable=False) as tx:
        assert await tx.query_value("SHOW transaction_isolation") == shown
        assert await tx.query_value("SHOW transaction_read_only") == "on"
        with pytest.raises(pgany.errors.ReadOnlySqlTransaction):
            await tx.execute("CREATE TABLE ro (a int)")
        await tx.rollback()


def test_bad_isolation_level() -> None:
    from pgany._transaction import begin_sql

    with pytest.raises(pgany.InterfaceError, match="invalid isolation level"):
        begin_sql("chaotic", None, None)
    assert begin_sql(None, False, True) == "BEGIN READ WRITE DEFERRABLE"


async def test_savepoints(client: pgany.Client, table: str, pg_dsn: str) -> None:
    async with client.transaction() as tx:
        await tx.execute(f"INSERT INTO {table} VALUES (1, 'outer')")
        with pytest.raises(pgany.errors.UniqueViolation):
            async with tx.savepoint() as sp:
                await sp.execute(f"INSERT INTO {table} VALUES (2, 'inner')")
                await sp.execute(f"INSERT INTO {table} VALUES (1, 'dup')")
        assert client.transaction_status == "in_transaction"
        async with tx.savepoint('odd "name"') as sp:
            await sp.execute(f"INSERT INTO {table} VALUES (3, 'kept')")
            async with sp.savepoint() as sp2:
                await sp2.execute(f"INSERT INTO {table} VALUES (4, 'deep')")
                await sp2.rollback()
        assert sorted(r[0] for r in await tx.query(f"SELECT id FROM {table}")) == [1, 3]
    assert await count(pg_dsn, table) == 2


async def test_portals(client: pgany.Client) -> None:
    async with client.transaction() as tx:
        stmt = await tx.prepare("SELECT g FROM generate_series(1, $1::int) g")
        portal = await tx.bind(stmt, 10)
        assert [r[0] for r in await tx.query_portal(portal, 4)] == [1, 2, 3, 4]
        assert [r[0] for r in await tx.query_portal(portal, 4)] == [5, 6, 7, 8]
        assert [r[0] for r in await tx.query_portal(portal, 4)] == [9, 10]
        assert await tx.query_portal(portal, 4) == []
        assert portal.exhausted
        other = await tx.bind("SELECT $1::text AS t", "x")
        assert await tx.query_portal(other, 10) == [("x",)]


async def test_owner_calling_client_gets_interface_error(client: pgany.Client) -> None:
    async with client.transaction() as tx:
        with pytest.raises(pgany.InterfaceError, match="deadlock"):
            await client.query("SELECT 1")
        assert await tx.query_value("SELECT 1") == 1


async def test_other_tasks_wait_for_the_transaction(client: pgany.Client, table: str) -> None:
    seen_in_tx: list[str] = []
    started = anyio.Event()

    async def worker(i: int) -> None:
        await started.wait()
        status = await client.query_value("SELECT $1::int", i)
        assert status == i
        # A worker's statement never runs inside the transaction.
        seen_in_tx.append(client.transaction_status)
        await client.execute(f"INSERT INTO {table} VALUES ($1, 'worker')", 100 + i)

    async with anyio.create_task_group() as tg:
        for i in range(50):
            tg.start_soon(worker, i)
        async with client.transaction() as tx:
            started.set()
            for _ in range(10):
                await anyio.sleep(0.005)
                # None of the workers' rows appears inside the transaction.
                assert await tx.query_value(f"SELECT count(*) FROM {table} WHERE v = 'worker'") == 0
            await tx.execute(f"INSERT INTO {table} VALUES (1, 'tx')")
    assert await client.query_value(f"SELECT count(*) FROM {table}") == 51


async def test_query_stream(client: pgany.Client) -> None:
    async with client.query_stream(
        "SELECT g, g::text FROM generate_series(1, 2500) g", batch_size=100
    ) as s:
        total = 0
        async for row in s:
            total += 1
            assert row[1] == str(row[0])
        assert total == 2500
        assert s.rows_affected == 2500
    assert client.transaction_status == "idle"


async def test_query_stream_early_exit_and_error(client: pgany.Client) -> None:
    async with client.query_stream(
        "SELECT g FROM generate_series(1, 100000) g", batch_size=50
    ) as s:
        async for row in s:
            if row[0] == 10:
                break
    assert client.transaction_status == "idle"
    assert await client.query_value("SELECT 5") == 5
    with pytest.raises(pgany.errors.DivisionByZero):
        async with client.query_stream(
            "SELECT 1 / (5 - g) FROM generate_series(1, 10) g", batch_size=2
        ) as s:
            async for _ in s:
                pass
    assert client.transaction_status == "idle"
    with anyio.move_on_after(0.2):
        async with client.query_stream(
            "SELECT pg_sleep(0.05) FROM generate_series(1, 100)", batch_size=1
        ) as s:
            async for _ in s:
                pass
    assert client.transaction_status == "idle"
    assert await client.query_value("SELECT 6") == 6


async def test_query_stream_inside_transaction(client: pgany.Client) -> None:
    async with client.transaction() as tx:
        async with tx.query_stream("SELECT g FROM generate_series(1, 10) g", batch_size=3) as s:
            assert [r[0] async for r in s] == list(range(1, 11))
        async with tx.query_stream("SELECT g FROM generate_series(1, 10) g", batch_size=3) as s:
            async for _ in s:
                break
        assert await tx.query_value("SELECT 1") == 1
    assert client.transaction_status == "idle"


async def test_query_stream_memory_is_bounded(client: pgany.Client) -> None:
    n = 100_000
    tracemalloc.start()
    try:
        async with client.query_stream(
            "SELECT g, repeat('x', 50) FROM generate_series(1, $1::int) g", n, batch_size=1000
        ) as s:
            seen = 0
            async for _ in s:
                seen += 1
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert seen == n
    # All rows at once would take over 15 MB; a batch takes a few hundred KB.
    assert peak < 8 * 1024 * 1024, peak


async def test_cancellation_sweep(client: pgany.Client, table: str, pg_dsn: str) -> None:
    """Cancel a transaction at many points: each time it is all or nothing, and the client is idle."""
    delays = [0, 0.0005, 0.001, 0.002, 0.004, 0.008, 0.016, 0.03]
    for i, delay in enumerate(delays):
        committed = False
        with anyio.move_on_after(delay):
            async with client.transaction() as tx:
                await tx.execute(f"INSERT INTO {table} VALUES ($1, 'a')", i * 10)
                await tx.execute(f"INSERT INTO {table} VALUES ($1, 'b')", i * 10 + 1)
            committed = True
        assert client.transaction_status == "idle"
        n = await client.query_value(
            f"SELECT count(*) FROM {table} WHERE id IN ($1, $2)", i * 10, i * 10 + 1
        )
        assert n in (0, 2)
        if committed:
            assert n == 2
        assert await client.query_value("SELECT $1::int", i) == i


STREAM_CHILD = r"""
import resource, sys, anyio, pgany

async def main(dsn: str, n: int) -> None:
    async with pgany.connect(dsn) as client:
        await client.query_value("SELECT 1")
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        seen = 0
        async with client.query_stream(
            "SELECT g, repeat('x', 50) FROM generate_series(1, $1::int) g", n, batch_size=2000
        ) as stream:
            async for _ in stream:
                seen += 1
        after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        print(seen, after - before)

anyio.run(main, sys.argv[1], int(sys.argv[2]), backend=sys.argv[3])
"""


async def test_streaming_two_million_rows_in_bounded_memory(
    pg_dsn: str, anyio_backend: str
) -> None:
    """2,000,000 rows through query_stream: peak memory grows by a few MB, not by the result."""
    import subprocess
    import sys

    n = 2_000_000
    proc = await anyio.run_process(
        [sys.executable, "-c", STREAM_CHILD, pg_dsn, str(n), anyio_backend],
        stderr=subprocess.STDOUT,
        check=False,
    )
    out = proc.stdout.decode()
    assert proc.returncode == 0, out
    seen, grown_kib = map(int, out.split())
    assert seen == n
    # Holding every row would take several hundred MB; a batch of 2000 rows is well under 1 MB.
    assert grown_kib < 40 * 1024, f"peak RSS grew by {grown_kib} KiB"
