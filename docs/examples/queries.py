"""The query methods: query, query_one, query_opt, query_value, execute, executemany, prepare."""

from decimal import Decimal

import anyio

import pgany


async def main(dsn: str) -> None:
    async with pgany.connect(dsn) as client:
        await client.execute(
            "CREATE TEMPORARY TABLE fruit (id int PRIMARY KEY, name text NOT NULL, price numeric)"
        )

        # execute(): the number of rows affected.
        inserted = await client.execute(
            "INSERT INTO fruit VALUES ($1, $2, $3), ($4, $5, $6)",
            *(1, "apple", Decimal("0.50"), 2, "pear", Decimal("0.75")),
        )
        assert inserted == 2

        # executemany(): one statement, many parameter sets, one round trip.
        await client.executemany(
            "INSERT INTO fruit VALUES ($1, $2, $3)",
            [(3, "plum", Decimal("1.20")), (4, "fig", None)],
        )

        # query(): every row.
        rows = await client.query("SELECT id, name FROM fruit ORDER BY id")
        assert [row["name"] for row in rows] == ["apple", "pear", "plum", "fig"]
        assert rows[0] == (1, "apple")  # a Row is a tuple

        # query_one(): exactly one row, else pgany.RowCountError.
        row = await client.query_one("SELECT name, price FROM fruit WHERE id = $1", 1)
        assert row["name"] == "apple" and row[1] == Decimal("0.50")
        assert row.keys() == ["name", "price"]
        assert row.get("colour", "unknown") == "unknown"
        assert row.columns[1].type_name == "numeric"

        # query_opt(): one row or None.
        assert await client.query_opt("SELECT name FROM fruit WHERE id = $1", 99) is None

        # query_value(): the first column of the only row.
        assert await client.query_value("SELECT count(*) FROM fruit") == 4

        # NULL is None, both ways.
        assert await client.query_value("SELECT price FROM fruit WHERE id = $1", 4) is None

        # prepare(): a Statement to run many times; it is parsed once.
        cheap = await client.prepare("SELECT name FROM fruit WHERE price < $1 ORDER BY price")
        assert cheap.params == (1700,)  # the OID of numeric: the server inferred it
        assert [c.name for c in cheap.columns] == ["name"]
        assert await client.query(cheap, Decimal("0.60")) == [("apple",)]
        assert len(await client.query(cheap, 1)) == 2  # an int is a fine numeric

        # prepare(types=...): fix parameter types the server can't infer.
        shout = await client.prepare("SELECT $1 || '!'", types=["text"])
        assert await client.query_value(shout, "hello") == "hello!"


if __name__ == "__main__":
    import sys

    anyio.run(main, sys.argv[1] if len(sys.argv) > 1 else "")
