"""Large results in bounded memory: query_stream, and portals inside a transaction."""

import anyio

import pgany


async def main(dsn: str) -> None:
    async with pgany.connect(dsn) as client:
        # Rows come in batches of batch_size; the whole result is never in memory.
        total = 0
        async with client.query_stream(
            "SELECT n FROM generate_series(1, $1) AS n", 10_000, batch_size=500
        ) as stream:
            async for row in stream:
                total += row["n"]
        assert total == 10_000 * 10_001 // 2
        assert stream.rows_affected == 10_000

        # Inside a transaction: a portal, read a few rows at a time.
        async with client.transaction() as tx:
            portal = await tx.bind("SELECT n FROM generate_series(1, 5) AS n")
            assert await tx.query_portal(portal, 2) == [(1,), (2,)]
            assert await tx.query_portal(portal, 2) == [(3,), (4,)]
            assert await tx.query_portal(portal, 2) == [(5,)]
            assert await tx.query_portal(portal, 2) == []
            assert portal.exhausted


if __name__ == "__main__":
    import sys

    anyio.run(main, sys.argv[1] if len(sys.argv) > 1 else "")
