"""Several hosts: pgany tries each in turn, as libpq does, and keeps the first that suits."""

import anyio

import pgany


async def main(dsn: str) -> None:
    server = pgany.Config.from_dsn(dsn).hosts()[0]  # where the server listens

    # No server listens in the first "host" (a socket directory that does not
    # exist): pgany moves on to the next one. Ports go with the hosts, in order.
    async with pgany.connect(
        dsn,
        host=["/nonexistent", server.host],
        port=[5432, server.port],
        target_session_attrs="read-write",
        connect_timeout=5,
    ) as client:
        assert await client.query_value("SELECT NOT pg_is_in_recovery()")

    # prefer-standby looks for a standby first; with none, a second pass takes any server.
    async with pgany.connect(dsn, target_session_attrs="prefer-standby") as client:
        assert await client.query_value("SELECT 1") == 1

    # When no host suits, ConnectError has one line per attempt, saying why it failed.
    try:
        async with pgany.connect(dsn, target_session_attrs="standby"):
            raise AssertionError("this server is not a standby")
    except pgany.ConnectError as exc:
        assert "server is not in hot standby mode" in str(exc)


if __name__ == "__main__":
    import sys

    anyio.run(main, sys.argv[1] if len(sys.argv) > 1 else "")
