"""Transactions and savepoints."""

import anyio

import pgany
import pgany.errors


async def main(dsn: str) -> None:
    async with pgany.connect(dsn) as client:
        await client.execute(
            "CREATE TEMPORARY TABLE accounts (name text PRIMARY KEY, balance int CHECK (balance >= 0))"
        )
        await client.executemany("INSERT INTO accounts VALUES ($1, $2)", [("a", 100), ("b", 0)])

        # Commits when the block ends normally.
        async with client.transaction() as tx:
            await tx.execute("UPDATE accounts SET balance = balance - 30 WHERE name = 'a'")
            await tx.execute("UPDATE accounts SET balance = balance + 30 WHERE name = 'b'")
            assert client.transaction_status == "in_transaction"
        assert client.transaction_status == "idle"

        # Rolls back when it ends with an exception (which goes on as itself).
        try:
            async with client.transaction(isolation="serializable") as tx:
                await tx.execute("UPDATE accounts SET balance = balance + 500 WHERE name = 'b'")
                await tx.execute("UPDATE accounts SET balance = balance - 500 WHERE name = 'a'")
        except pgany.errors.CheckViolation:
            pass
        rows = await client.query("SELECT name, balance FROM accounts ORDER BY name")
        assert rows == [("a", 70), ("b", 30)]

        # A savepoint undoes part of a transaction; the rest commits.
        async with client.transaction() as tx:
            await tx.execute("INSERT INTO accounts VALUES ('c', 10)")
            try:
                async with tx.savepoint() as sp:
                    await sp.execute("INSERT INTO accounts VALUES ('d', 10)")
                    await sp.execute("INSERT INTO accounts VALUES ('c', 10)")  # duplicate
            except pgany.errors.UniqueViolation:
                pass  # rolled back to the savepoint: 'd' is gone, 'c' stays
        names = [row["name"] for row in await client.query("SELECT name FROM accounts")]
        assert sorted(names) == ["a", "b", "c"]

        # Other tasks' calls on the client wait until the transaction ends;
        # tasks that should work inside it are given tx.
        async with client.transaction() as tx, anyio.create_task_group() as tg:
            for name in ("a", "b", "c"):
                tg.start_soon(tx.execute, "UPDATE accounts SET balance = 0 WHERE name = $1", name)
        assert await client.query_value("SELECT sum(balance) FROM accounts") == 0


if __name__ == "__main__":
    import sys

    anyio.run(main, sys.argv[1] if len(sys.argv) > 1 else "")
