"""A service holding its pool for its whole life: the pool's task group is the service's."""

import anyio

import pgany


async def handle(pool: pgany.Pool, job: int) -> int:
    # A request handler: short statements through the pool, no checkout.
    value: int = await pool.query_value("SELECT $1::int + 1", job)
    return value


async def main(dsn: str) -> None:
    results: list[int] = []
    async with anyio.create_task_group() as tg:
        # The low-level form: the pool runs in the service's own task group.
        pool: pgany.Pool = await tg.start(pgany.run_pool, dsn)
        async with pool.listen("jobs") as notifications:
            await pool.execute("SELECT pg_notify('jobs', '41')")
            async for note in notifications:
                results.append(await handle(pool, int(note.payload)))
                break
        await pool.close()  # (the pool's task, and with it run_pool, ends)
    assert results == [42]


if __name__ == "__main__":
    import sys

    dsn = sys.argv[1] if len(sys.argv) > 1 else "postgresql://app@localhost/app"
    anyio.run(main, dsn, backend="trio")
