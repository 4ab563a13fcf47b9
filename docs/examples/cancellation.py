"""Cancelling a task that waits for a query: the query is abandoned and cancelled."""

import anyio

import pgany


async def main(dsn: str) -> None:
    async with pgany.connect(dsn) as client:
        with anyio.move_on_after(0.5) as scope:
            await client.execute("SELECT pg_sleep(10)")
        assert scope.cancelled_caught
        # The request was abandoned and the server told to stop it: the
        # connection is usable at once (this query waits for the cancel to land).
        assert await client.query_value("SELECT 1") == 1


if __name__ == "__main__":
    import sys

    anyio.run(main, sys.argv[1] if len(sys.argv) > 1 else "")
