"""LISTEN / NOTIFY, and notices."""

import anyio

import pgany


async def main(dsn: str) -> None:
    notices: list[pgany.DatabaseError] = []
    async with pgany.connect(dsn, on_notice=notices.append) as client:
        await client.listen("jobs")
        await client.execute("SELECT pg_notify('jobs', $1)", "job 1 is done")
        # Stopping early is fine: the iterator holds nothing open.
        with anyio.fail_after(10):
            async for note in client.notifications():
                assert note == pgany.Notification(client.backend_pid, "jobs", "job 1 is done")
                break
        await client.unlisten("jobs")

        # Notices (RAISE NOTICE, warnings...) go to on_notice, else to the
        # "pgany" logger.
        await client.batch_execute("DO $$ BEGIN RAISE NOTICE 'hello from the server'; END $$")
        assert [n.message for n in notices] == ["hello from the server"]
        assert notices[0].severity == "NOTICE"


if __name__ == "__main__":
    import sys

    anyio.run(main, sys.argv[1] if len(sys.argv) > 1 else "")
