"""Many tasks, one client: their queries are pipelined."""

import anyio

import pgany


async def main(dsn: str) -> None:
    async with pgany.connect(dsn) as client:
        results: dict[int, int] = {}

        async def work(i: int) -> None:
            results[i] = await client.query_value("SELECT $1::int * 2", i)

        async with anyio.create_task_group() as tg:
            for i in range(50):
                tg.start_soon(work, i)

        assert results == {i: i * 2 for i in range(50)}


if __name__ == "__main__":
    import sys

    anyio.run(main, sys.argv[1] if len(sys.argv) > 1 else "")
