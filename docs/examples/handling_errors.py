"""Catching the server's errors by SQLSTATE class."""

import anyio

import pgany
import pgany.errors


async def main(dsn: str) -> None:
    async with pgany.connect(dsn) as client:
        await client.execute("CREATE TEMPORARY TABLE users (name text PRIMARY KEY)")
        await client.execute("INSERT INTO users VALUES ($1)", "alice")
        try:
            await client.execute("INSERT INTO users VALUES ($1)", "alice")
        except pgany.errors.UniqueViolation as exc:
            assert exc.sqlstate == "23505"
            assert exc.constraint_name == "users_pkey"
            assert exc.detail == "Key (name)=(alice) already exists."
            print(exc)  # reads like psql: ERROR:  duplicate key value violates ...
        else:
            raise AssertionError("expected a UniqueViolation")

        # The classes form a tree: catch a whole SQLSTATE class at once...
        try:
            await client.execute("INSERT INTO users VALUES (NULL)")
        except pgany.errors.IntegrityConstraintViolation as exc:
            assert isinstance(exc, pgany.errors.NotNullViolation)
            assert isinstance(exc, pgany.DatabaseError)

        # ...and the error failed that request alone: the connection goes on.
        assert await client.query_value("SELECT count(*) FROM users") == 1

        # Misusing the API raises before anything is sent.
        try:
            await client.query_one("SELECT name FROM users WHERE false")
        except pgany.RowCountError:
            pass

        assert pgany.errors.lookup("23505") is pgany.errors.UniqueViolation


if __name__ == "__main__":
    import sys

    anyio.run(main, sys.argv[1] if len(sys.argv) > 1 else "")
