"""The generated row decoders: fixed-width runs, NULLs anywhere, user codecs respected."""

from __future__ import annotations

import pytest

import pgany

pytestmark = pytest.mark.anyio


async def test_fixed_width_columns_with_nulls(client: pgany.Client) -> None:
    rows = await client.query(
        "SELECT g::int2, g::int4, g::int8 * 1000000000, g::float4 / 4, g::float8 / 8, g % 2 = 0, g::oid "
        "FROM generate_series(1, 20000) g"
    )
    assert len(rows) == 20000
    for g, row in enumerate(rows, start=1):
        assert row == (g, g, g * 1_000_000_000, g / 4, g / 8, g % 2 == 0, g)
    with_nulls = await client.query(
        "SELECT CASE WHEN g % 37 = 0 THEN NULL ELSE g END::int4 AS a, "
        "CASE WHEN g % 101 = 0 THEN NULL ELSE g * 2 END::int8 AS b "
        "FROM generate_series(1, 50000) g"
    )
    for g, row in enumerate(with_nulls, start=1):
        assert row["a"] == (None if g % 37 == 0 else g)
        assert row["b"] == (None if g % 101 == 0 else g * 2)


async def test_single_int_column_runs(client: pgany.Client) -> None:
    rows = await client.query(
        "SELECT CASE WHEN g % 5000 = 0 THEN NULL ELSE g END::int4 AS n FROM generate_series(1, 300000) g"
    )
    assert len(rows) == 300000
    assert sum(r[0] for r in rows if r[0] is not None) == sum(
        g for g in range(1, 300001) if g % 5000
    )
    assert [r[0] for r in rows[4998:5001]] == [4999, None, 5001]
    assert rows[0].keys() == ["n"]


async def test_mixed_columns(client: pgany.Client) -> None:
    rows = await client.query(
        "SELECT g, 'text ' || g, CASE WHEN g % 3 = 0 THEN NULL ELSE 'x' END, g::numeric / 4, g % 2 = 0 "
        "FROM generate_series(1, 5000) g"
    )
    import decimal

    for g, row in enumerate(rows, start=1):
        assert row == (
            g,
            f"text {g}",
            None if g % 3 == 0 else "x",
            decimal.Decimal(g) / 4,
            g % 2 == 0,
        )


async def test_per_connection_codec_overrides_builtin(pg_dsn: str) -> None:
    async with pgany.connect(pg_dsn) as client:
        assert await client.query_value("SELECT 41::int4") == 41
        await client.register_codec("int4", decode=lambda data: int.from_bytes(data, "big") + 1000)
        rows = await client.query("SELECT g::int4 FROM generate_series(1, 1000) g")
        assert [r[0] for r in rows[:3]] == [1001, 1002, 1003]
        await client.register_codec(
            "text", decode=lambda data: bytes(data).decode().upper(), format="text"
        )
        # A registered codec wins over pgany's own binary one: text travels as text.
        assert await client.query_value("SELECT 'abc'::text") == "ABC"
        await client.register_codec(
            "numeric", decode=lambda data: float(bytes(data)), format="text"
        )
        assert await client.query_value("SELECT 1.5::numeric") == 1.5
    async with pgany.connect(pg_dsn) as other:
        assert await other.query_value("SELECT 41::int4") == 41  # only that connection changed


async def test_decode_error_names_the_column(client: pgany.Client) -> None:
    with pytest.raises(pgany.DecodeError, match="'d'"):
        await client.query("SELECT 1 AS a, 'infinity'::date - 0 AS b, '10000-01-01'::date AS d")
    assert await client.query_value("SELECT 1") == 1
