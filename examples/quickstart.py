"""Run a real query with pgany, on asyncio and on trio.

    python examples/quickstart.py [DSN]

With no DSN (and no PGANY_DSN in the environment) it starts a throwaway
PostgreSQL server in a temporary directory, using pgany.testing.
"""

from __future__ import annotations

import os
import sys

import anyio

import pgany


async def main(dsn: str) -> None:
    async with pgany.connect(dsn) as client:
        row = await client.query_one("SELECT $1::int + 1 AS n, version() AS version", 41)
        assert row["n"] == 42 and row[0] == 42
        print(f"{row['n']} from {row['version']}")


def run(dsn: str) -> None:
    anyio.run(main, dsn)  # asyncio
    anyio.run(main, dsn, backend="trio")  # trio


if __name__ == "__main__":
    dsn = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("PGANY_DSN")
    if dsn:
        run(dsn)
    else:
        from pgany.testing import Cluster

        with Cluster() as cluster:
            print(f"started a throwaway PostgreSQL {cluster.version} at {cluster.dsn()}")
            run(cluster.dsn())
