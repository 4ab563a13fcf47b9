"""User-defined types learned from pg_type: enums, composites, domains, ranges, arrays of them."""

from __future__ import annotations

import datetime
import uuid

import anyio
import pytest

import pgany

pytestmark = pytest.mark.anyio


@pytest.fixture
async def schema(client: pgany.Client) -> str:
    name = f"ut_{uuid.uuid4().hex[:10]}"
    await client.batch_execute(
        f"""
        CREATE SCHEMA {name};
        CREATE TYPE {name}.mood AS ENUM ('sad', 'ok', 'happy');
        CREATE TYPE {name}.inner_t AS (a int4, b text);
        CREATE TYPE {name}.outer_t AS (i {name}.inner_t, tags text[], m {name}.mood, d date);
        CREATE DOMAIN {name}.posint AS int4 CHECK (VALUE > 0);
        CREATE TYPE {name}.floatrange AS RANGE (subtype = float8);
        """
    )
    return name


async def test_enum(client: pgany.Client, schema: str) -> None:
    assert await client.query_value(f"SELECT 'happy'::{schema}.mood") == "happy"
    assert await client.query_value(f"SELECT $1::{schema}.mood", "ok") == "ok"
    assert await client.query_value(f"SELECT ARRAY['sad', 'ok']::{schema}.mood[]") == ["sad", "ok"]
    assert await client.query_value(f"SELECT $1::{schema}.mood[]", ["happy", None]) == [
        "happy",
        None,
    ]
    with pytest.raises(pgany.errors.InvalidTextRepresentation):
        await client.query_value(f"SELECT $1::{schema}.mood", "angry")


async def test_composite(client: pgany.Client, schema: str) -> None:
    row = await client.query_value(
        f"SELECT ROW(ROW(1, 'x y'), ARRAY['a', 'b,c'], 'ok', '2024-02-29')::{schema}.outer_t"
    )
    assert row == ((1, "x y"), ["a", "b,c"], "ok", datetime.date(2024, 2, 29))
    assert row["i"]["b"] == "x y"
    assert row[2] == "ok"
    back = await client.query_value(f"SELECT $1::{schema}.outer_t", ((2, "q"), ["z"], "sad", None))
    assert back == ((2, "q"), ["z"], "sad", None)
    as_dict = await client.query_value(f"SELECT $1::{schema}.inner_t", {"a": 5, "b": None})
    assert as_dict == (5, None)
    arr = await client.query_value(
        f"SELECT ARRAY[ROW(1, 'a'), NULL, ROW(2, 'b')]::{schema}.inner_t[]"
    )
    assert arr == [(1, "a"), None, (2, "b")]


async def test_domain(client: pgany.Client, schema: str) -> None:
    assert await client.query_value(f"SELECT 5::{schema}.posint") == 5
    assert await client.query_value(f"SELECT $1::{schema}.posint", 7) == 7
    with pytest.raises(pgany.errors.CheckViolation):
        await client.query_value(f"SELECT $1::{schema}.posint", -1)
    with pytest.raises(pgany.EncodeError):
        await client.query_value(f"SELECT $1::{schema}.posint", 2**40)


async def test_user_range(client: pgany.Client, schema: str) -> None:
    value = await client.query_value(f"SELECT '[1.5, 2.5)'::{schema}.floatrange")
    assert value == pgany.Range(1.5, 2.5, bounds="[)")
    back = await client.query_value(
        f"SELECT $1::{schema}.floatrange", pgany.Range(None, 3.0, bounds="(]")
    )
    assert back == pgany.Range(None, 3.0, bounds="(]")


async def test_many_tasks_meet_a_new_type_at_once(
    pg_dsn: str, client: pgany.Client, schema: str
) -> None:
    async with pgany.connect(pg_dsn) as fresh:

        async def one(i: int) -> None:
            assert await fresh.query_value(f"SELECT $1::{schema}.mood, $2::int", "ok", i) == "ok"

        with anyio.fail_after(20):
            async with anyio.create_task_group() as tg:
                for i in range(30):
                    tg.start_soon(one, i)


async def test_type_learned_inside_a_transaction(client: pgany.Client, schema: str) -> None:
    async with client.transaction() as tx:
        assert await tx.query_value(f"SELECT 'sad'::{schema}.mood") == "sad"


async def test_clear_type_cache(client: pgany.Client, schema: str) -> None:
    assert await client.query_value(f"SELECT 'ok'::{schema}.mood") == "ok"
    await client.batch_execute(f"ALTER TYPE {schema}.mood ADD VALUE 'ecstatic'")
    client.clear_type_cache()
    assert await client.query_value(f"SELECT 'ecstatic'::{schema}.mood") == "ecstatic"


async def test_extension_types(client: pgany.Client) -> None:
    await client.batch_execute(
        "CREATE EXTENSION IF NOT EXISTS hstore; CREATE EXTENSION IF NOT EXISTS citext"
    )
    assert await client.query_value("SELECT 'a=>1, b=>NULL'::hstore") == {"a": "1", "b": None}
    assert await client.query_value("SELECT $1::hstore", {"k": "v", "n": None}) == {
        "k": "v",
        "n": None,
    }
    assert await client.query_value("SELECT ARRAY['a=>1'::hstore]") == [{"a": "1"}]
    assert await client.query_value("SELECT 'MiXeD'::citext") == "MiXeD"
    assert await client.query_value("SELECT $1::citext = 'mixed'", "MIXED") is True
