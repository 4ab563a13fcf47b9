"""CancelToken: cancel the running query from another task."""

import anyio

import pgany
import pgany.errors


async def main(dsn: str) -> None:
    async with pgany.connect(dsn) as client, anyio.create_task_group() as tg:
        token = client.cancel_token()

        async def cancel_soon() -> None:
            await anyio.sleep(0.5)
            await token.cancel_query()

        tg.start_soon(cancel_soon)
        try:
            await client.execute("SELECT pg_sleep(10)")
        except pgany.errors.QueryCanceled as exc:
            print(exc.message)  # canceling statement due to user request
        else:
            raise AssertionError("expected QueryCanceled")
        assert await client.query_value("SELECT 1") == 1


if __name__ == "__main__":
    import sys

    anyio.run(main, sys.argv[1] if len(sys.argv) > 1 else "")
