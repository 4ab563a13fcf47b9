"""COPY: text in and out, binary rows, and the bulk-load fast path."""

import anyio

import pgany
from pgany.copy import BinaryCopyInWriter, BinaryCopyOutReader


async def main(dsn: str) -> None:
    async with pgany.connect(dsn) as client:
        await client.execute("CREATE TEMP TABLE people (id int8, name text, score float8)")

        # Text COPY: write bytes or str; small writes are gathered into larger messages.
        async with client.copy_in("COPY people FROM STDIN") as sink:
            await sink.write("1\tada\t9.5\n")
            await sink.write_all([b"2\tbob\t7.25\n", b"3\tcy\t\\N\n"])
        assert sink.rows_copied == 3

        # An exception in the block sends CopyFail: nothing is copied, the client goes on.
        try:
            async with client.copy_in("COPY people FROM STDIN") as sink:
                await sink.write("4\tdan\t1\n")
                raise ValueError("changed my mind")
        except ValueError:
            pass
        assert await client.query_value("SELECT count(*) FROM people") == 3

        # COPY TO STDOUT: chunks of bytes, with backpressure.
        async with client.copy_out(
            "COPY (SELECT id, name FROM people ORDER BY id) TO STDOUT"
        ) as source:
            data = b"".join([chunk async for chunk in source])
        assert data == b"1\tada\n2\tbob\n3\tcy\n"

        # The bulk-load fast path: COPY with the column types looked up from the table.
        n = await client.copy_records_in(
            "people", ((i, f"user{i}", i / 2) for i in range(10, 1010))
        )
        assert n == 1000

        # Binary rows by hand, in and out. Leaving the block sends the writer's
        # rows and trailer (writer.finish() does it earlier, if you need that).
        async with client.copy_in("COPY people (id, name) FROM STDIN (FORMAT binary)") as sink:
            writer = BinaryCopyInWriter(sink, ["int8", "text"])
            await writer.write_row([5000, "eve"])
        async with client.copy_out(
            "COPY (SELECT id, name FROM people WHERE id = 5000) TO STDOUT (FORMAT binary)"
        ) as source:
            rows = [row async for row in BinaryCopyOutReader(source, ["int8", "text"])]
        assert rows == [(5000, "eve")]


if __name__ == "__main__":
    import sys

    anyio.run(main, sys.argv[1] if len(sys.argv) > 1 else "")
