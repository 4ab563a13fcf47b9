"""run_connection: the connection task in your own task group."""

import functools

import anyio

import pgany


async def main(dsn: str) -> None:
    async with anyio.create_task_group() as tg:
        # start() returns once the session is ready (or raises ConnectError).
        client = await tg.start(pgany.run_connection, dsn)
        # Keyword arguments go through functools.partial.
        other = await tg.start(
            functools.partial(pgany.run_connection, dsn, application_name="other")
        )
        try:
            assert await client.query_value("SELECT 1") == 1
            assert other.parameter_status("application_name") == "other"
        finally:
            # Closing a client ends its connection task; then the group can exit.
            await client.close()
            await other.close()
    assert client.is_closed


if __name__ == "__main__":
    import sys

    anyio.run(main, sys.argv[1] if len(sys.argv) > 1 else "")
