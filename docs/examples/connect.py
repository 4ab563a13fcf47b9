"""Connect and run one query, on asyncio and on trio."""

import anyio

import pgany


async def main(dsn: str) -> None:
    async with pgany.connect(dsn) as client:
        row = await client.query_one("SELECT $1::int + 1 AS n", 41)
        assert row["n"] == 42 and row[0] == 42


if __name__ == "__main__":
    import sys

    dsn = sys.argv[1] if len(sys.argv) > 1 else "postgresql://app@localhost/app"
    anyio.run(main, dsn)  # asyncio
    anyio.run(main, dsn, backend="trio")  # trio
