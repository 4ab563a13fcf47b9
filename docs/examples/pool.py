"""A pool: shortcuts that share connections, checkouts and transactions that don't."""

import anyio

import pgany


async def main(dsn: str) -> None:
    async with pgany.create_pool(dsn, min_size=2, max_size=10) as pool:
        await pool.wait()  # (optional: min_size connections are open)

        # Single statements need no checkout: many tasks share a few connections.
        async def lookup(i: int) -> None:
            assert await pool.query_value("SELECT $1::int * 2", i) == 2 * i

        async with anyio.create_task_group() as tg:
            for i in range(200):
                tg.start_soon(lookup, i)

        # A transaction holds one connection alone until the block ends.
        await pool.execute("CREATE TABLE IF NOT EXISTS pool_demo (n int)")
        async with pool.transaction() as tx:
            await tx.execute("INSERT INTO pool_demo VALUES ($1)", 1)
            await tx.execute("INSERT INTO pool_demo VALUES ($1)", 2)

        # A checkout is a Client for this task alone: COPY, LISTEN, SET...
        async with pool.connection() as client:
            async with client.copy_in("COPY pool_demo FROM STDIN") as sink:
                await sink.write("3\n4\n")
            total = await client.query_value("SELECT sum(n) FROM pool_demo")
            assert total == 10

        stats = pool.statistics()
        assert stats.size <= 10 and stats.timeouts == 0
        await pool.execute("DROP TABLE pool_demo")


if __name__ == "__main__":
    import sys

    dsn = sys.argv[1] if len(sys.argv) > 1 else "postgresql://app@localhost/app"
    anyio.run(main, dsn)  # asyncio
    anyio.run(main, dsn, backend="trio")  # trio
