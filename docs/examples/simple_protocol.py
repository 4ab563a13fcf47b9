"""simple_query() and batch_execute(): scripts with the simple query protocol."""

import anyio

import pgany


async def main(dsn: str) -> None:
    async with pgany.connect(dsn) as client:
        # batch_execute(): several statements, no parameters, no results.
        await client.batch_execute(
            """
            CREATE TEMPORARY TABLE notes (id int, body text);
            INSERT INTO notes VALUES (1, 'one'), (2, NULL);
            """
        )

        # simple_query(): every statement's rows (as text) and command tag.
        messages = await client.simple_query(
            "SELECT id, body FROM notes ORDER BY id; UPDATE notes SET body = 'x'"
        )
        assert messages == [
            pgany.SimpleRowDescription(["id", "body"]),
            ("1", "one"),  # a SimpleQueryRow: text values...
            ("2", None),  # ...and None for NULL
            pgany.CommandComplete("SELECT 2", 2),
            pgany.CommandComplete("UPDATE 2", 2),
        ]
        for message in messages:
            match message:
                case pgany.SimpleQueryRow():
                    assert message["id"] == message[0]
                case pgany.CommandComplete(tag=tag, rows=rows):
                    print(f"{tag}: {rows} rows")


if __name__ == "__main__":
    import sys

    anyio.run(main, sys.argv[1] if len(sys.argv) > 1 else "")
