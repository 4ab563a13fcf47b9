"""Defects found by running PostgreSQL's own regression SQL through pgany and psycopg.

Each test is the minimal reproducer of one difference, on both backends and
every server the suite runs: zero-column rows, a COPY sent through a query
method, intervals at the extremes of their fields (infinite only from
PostgreSQL 17), and a composite type altered after the connection learned it.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import anyio
import pytest

import pgany
import pgany.errors
import pgany.types
from pgany import Interval

pytestmark = pytest.mark.anyio

#: Bound on every call that used to hang.
TIMEOUT = 10


def unique(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:10]}"


async def usable(client: pgany.Client) -> None:
    """The connection still answers, outside any transaction."""
    with anyio.fail_after(TIMEOUT):
        assert await client.query_value("SELECT 41 + 1") == 42
    assert client.transaction_status == "idle"


# -- rows with no columns -------------------------------------------------------------------

ZERO_COLUMN_QUERIES = [
    ("SELECT", 1),
    ("select from generate_series(1, 5)", 5),
]


@pytest.mark.parametrize(("sql", "n"), ZERO_COLUMN_QUERIES)
@pytest.mark.parametrize("cache", [256, 0], ids=["cached", "uncached"])
async def test_zero_column_rows(pg_dsn: str, sql: str, n: int, cache: int) -> None:
    async with pgany.connect(pg_dsn, statement_cache_size=cache) as client:
        rows = await client.query(sql)
        assert rows == [()] * n
        assert all(len(row) == 0 and row.keys() == [] for row in rows)
        assert await client.query(sql) == [()] * n  # the prepared statement again
        assert await client.execute(sql) == n
        stmt = await client.prepare(sql)
        assert stmt.columns == ()
        assert await client.query(stmt) == [()] * n
        async with client.query_stream(sql) as stream:
            assert [tuple(row) async for row in stream] == [()] * n
        messages = await client.simple_query(sql)
        assert messages[0] == pgany.SimpleRowDescription([])
        assert [tuple(m) for m in messages[1:-1]] == [()] * n
        assert messages[-1] == pgany.CommandComplete(f"SELECT {n}", n)
        async with client.transaction() as tx:
            assert await tx.query(sql) == [()] * n
        await usable(client)


async def test_zero_column_row_query_one(client: pgany.Client) -> None:
    row = await client.query_one("SELECT;")
    assert row == ()
    with pytest.raises(pgany.InterfaceError, match="no columns"):
        await client.query_value("SELECT;")
    await usable(client)


async def test_select_star_after_every_column_is_dropped(client: pgany.Client) -> None:
    table = unique("nocols")
    await client.batch_execute(
        f"CREATE TABLE {table} (a int, b text); INSERT INTO {table} VALUES (1, 'x'), (2, 'y');"
        f"ALTER TABLE {table} DROP COLUMN a; ALTER TABLE {table} DROP COLUMN b"
    )
    assert await client.query(f"SELECT * FROM {table}") == [(), ()]
    await usable(client)


# -- COPY through the query methods -------------------------------------------------------------


@pytest.fixture
async def copy_table(client: pgany.Client) -> str:
    table = unique("copyq")
    await client.batch_execute(f"CREATE TABLE {table} (n int); INSERT INTO {table} VALUES (1), (2)")
    return table


#: The query methods a COPY may be sent through by mistake (each takes one SQL string).
METHODS = [
    "query",
    "query_one",
    "query_opt",
    "query_value",
    "execute",
    "simple_query",
    "batch_execute",
]


@pytest.mark.parametrize("method", METHODS)
async def test_copy_from_stdin_through_a_query_method(
    client: pgany.Client, copy_table: str, method: str
) -> None:
    call: Callable[[str], Awaitable[Any]] = getattr(client, method)
    with anyio.fail_after(TIMEOUT), pytest.raises(pgany.InterfaceError, match=r"copy_in\(\)"):
        await call(f"COPY {copy_table} FROM STDIN")
    await usable(client)
    assert await client.query_value(f"SELECT count(*) FROM {copy_table}") == 2


@pytest.mark.parametrize("method", METHODS)
async def test_copy_to_stdout_through_a_query_method(
    client: pgany.Client, copy_table: str, method: str
) -> None:
    call: Callable[[str], Awaitable[Any]] = getattr(client, method)
    for sql in (f"COPY {copy_table} TO STDOUT", f"COPY (SELECT * FROM {copy_table}) TO STDOUT"):
        with anyio.fail_after(TIMEOUT), pytest.raises(pgany.InterfaceError, match=r"copy_out\(\)"):
            await call(sql)
        await usable(client)


async def test_copy_from_stdin_after_other_statements_in_one_script(
    client: pgany.Client, copy_table: str
) -> None:
    # One simple Query is one implicit transaction: nothing of it stays.
    with anyio.fail_after(TIMEOUT), pytest.raises(pgany.InterfaceError, match=r"copy_in\(\)"):
        await client.batch_execute(
            f"INSERT INTO {copy_table} VALUES (3); COPY {copy_table} FROM STDIN"
        )
    await usable(client)
    assert await client.query_value(f"SELECT count(*) FROM {copy_table}") == 2


async def test_copy_through_executemany_is_refused_before_sending(
    client: pgany.Client, copy_table: str
) -> None:
    for sql in (f"COPY {copy_table} FROM STDIN", f"/* x */ copy {copy_table} TO STDOUT"):
        with anyio.fail_after(TIMEOUT), pytest.raises(pgany.InterfaceError, match="copy_in"):
            await client.executemany(sql, [(), ()])
        await usable(client)
    # A statement that merely mentions the word still runs.
    await client.executemany(f"INSERT INTO {copy_table} SELECT $1 /* copy */", [(7,), (8,)])
    assert await client.query_value(f"SELECT count(*) FROM {copy_table}") == 4


async def test_copy_from_stdin_in_a_transaction_fails_the_transaction(
    client: pgany.Client, copy_table: str
) -> None:
    with pytest.raises(pgany.errors.InFailedSqlTransaction):
        async with client.transaction() as tx:
            await tx.execute(f"INSERT INTO {copy_table} VALUES (3)")
            with anyio.fail_after(TIMEOUT), pytest.raises(pgany.InterfaceError, match="copy_in"):
                await tx.execute(f"COPY {copy_table} FROM STDIN")
            assert client.transaction_status == "failed"  # the server's own semantics
    await usable(client)
    assert await client.query_value(f"SELECT count(*) FROM {copy_table}") == 2


async def test_copy_to_stdout_in_a_transaction_keeps_it(
    client: pgany.Client, copy_table: str
) -> None:
    async with client.transaction() as tx:
        with anyio.fail_after(TIMEOUT), pytest.raises(pgany.InterfaceError, match="copy_out"):
            await tx.query(f"COPY {copy_table} TO STDOUT")
        assert await tx.query_value(f"SELECT count(*) FROM {copy_table}") == 2
    await usable(client)


async def test_copy_in_and_copy_out_still_work(client: pgany.Client, copy_table: str) -> None:
    with pytest.raises(pgany.InterfaceError):
        await client.execute(f"COPY {copy_table} FROM STDIN")
    async with client.copy_in(f"COPY {copy_table} FROM STDIN") as sink:
        await sink.write(b"5\n6\n")
    async with client.copy_out(f"COPY {copy_table} TO STDOUT") as out:
        data = b"".join([chunk async for chunk in out])
    assert data == b"1\n2\n5\n6\n"


# -- intervals at the extremes ----------------------------------------------------------------

LOW = "'-2147483648 months -2147483648 days -9223372036854775808 us'::interval"
HIGH = "'2147483647 months 2147483647 days 9223372036854775807 us'::interval"
LOW_VALUE = Interval(-(2**31), -(2**31), -(2**63))
HIGH_VALUE = Interval(2**31 - 1, 2**31 - 1, 2**63 - 1)


@pytest.mark.parametrize(("literal", "value"), [(LOW, LOW_VALUE), (HIGH, HIGH_VALUE)])
async def test_extreme_intervals_follow_the_server_version(
    client: pgany.Client, literal: str, value: Interval
) -> None:
    infinite = client.server_version >= 170000
    text = await client.query_value(f"SELECT ({literal})::text")
    for got in (
        await client.query_value(f"SELECT {literal}"),
        (await client.query_value(f"SELECT ARRAY[{literal}]"))[0],
    ):
        assert got == value
        assert got.is_infinite is infinite
        assert str(got) == text
        # What was read goes back as it came.
        assert await client.query_value("SELECT $1::interval::text", got) == text
    if infinite:
        assert text in ("infinity", "-infinity")
    else:
        assert "infinity" not in text
        assert (await client.simple_query(f"SELECT {literal}"))[1][0] == text


async def test_an_infinite_interval_param_on_a_server_without_them(client: pgany.Client) -> None:
    for value in (LOW_VALUE, HIGH_VALUE):
        if client.server_version >= 170000:
            got = await client.query_value("SELECT $1::interval::text", value)
            assert got == ("infinity" if value.months > 0 else "-infinity")
        else:
            with pytest.raises(pgany.EncodeError, match="infinite interval") as info:
                await client.query_value("SELECT $1::interval", value)
            assert str(value.months) not in str(info.value)  # no value in errors
    await usable(client)


@pytest.fixture
def global_interval_codec() -> Iterator[None]:
    """A binary interval decoder registered for every new connection, then pgany's own again."""
    from pgany.types import _interval

    pgany.types.register_codec("interval", oid=1186, decode=lambda data: ("mine", bytes(data)))
    try:
        yield
    finally:
        for codec in _interval.CODECS:
            pgany.types.registry.register(codec)
        pgany.types.register_array_types(pgany.types.registry, [1186])


@pytest.mark.usefixtures("global_interval_codec")
async def test_a_registered_interval_codec_is_kept_on_every_server(pg_dsn: str) -> None:
    async with pgany.connect(pg_dsn) as client:
        assert (await client.query_value(f"SELECT {LOW}"))[0] == "mine"


# -- a composite type altered after it was learned --------------------------------------------


@pytest.fixture
async def fullname(client: pgany.Client) -> str:
    name = unique("fullname")
    await client.batch_execute(
        f"CREATE TYPE {name} AS (first text, last text);"
        f"CREATE TABLE {name}_people (id int, n {name}, ns {name}[]);"
        f"INSERT INTO {name}_people VALUES (1, ROW('Ada', 'Lovelace'), ARRAY[ROW('A', 'L')::{name}])"
    )
    # Learned now, with two fields.
    assert await client.query_value(f"SELECT n FROM {name}_people") == ("Ada", "Lovelace")
    assert await client.query_value(f"SELECT $1::{name}", ("a", "b")) == ("a", "b")
    return name


async def test_composite_altered_after_it_was_learned_is_decoded(
    client: pgany.Client, fullname: str
) -> None:
    await client.execute(f"ALTER TYPE {fullname} ADD ATTRIBUTE suffix text")
    await client.execute(f"UPDATE {fullname}_people SET n = ROW('Ada', 'Lovelace', 'Jr')")
    await client.execute(f"INSERT INTO {fullname}_people VALUES (2, NULL, NULL)")
    rows = await client.query(f"SELECT id, n, ns FROM {fullname}_people ORDER BY id")
    assert rows == [(1, ("Ada", "Lovelace", "Jr"), [("A", "L", None)]), (2, None, None)]
    assert rows[0]["n"]["suffix"] == "Jr"
    # The same statement, cached, and a new one, read the new shape at once.
    assert await client.query_value(f"SELECT n FROM {fullname}_people WHERE id = 1") == (
        "Ada",
        "Lovelace",
        "Jr",
    )
    async with client.transaction() as tx:
        assert (await tx.query_value(f"SELECT n FROM {fullname}_people WHERE id = 1"))[2] == "Jr"


async def test_composite_altered_after_it_was_learned_as_a_parameter(
    client: pgany.Client, fullname: str
) -> None:
    await client.execute(f"ALTER TYPE {fullname} ADD ATTRIBUTE suffix text")
    assert await client.query_value(f"SELECT $1::{fullname}", ("x", "y", "z")) == ("x", "y", "z")
    got = await client.query_value(f"SELECT $1::{fullname}", {"first": "x", "suffix": "s"})
    assert got == ("x", None, "s")
    # A prepared statement held by the user is refreshed in place.
    stmt = await client.prepare(f"SELECT $1::{fullname}")
    await client.execute(f"ALTER TYPE {fullname} ADD ATTRIBUTE title text")
    assert await client.query_value(stmt, ("a", "b", "c", "d")) == ("a", "b", "c", "d")


async def test_a_value_that_stays_wrong_still_fails(client: pgany.Client, fullname: str) -> None:
    # Learning again mends only what changed: the wrong shape is still an error, once.
    with pytest.raises(pgany.EncodeError, match="3 values given"):
        await client.query_value(f"SELECT $1::{fullname}", ("x", "y", "z"))
    await usable(client)


async def test_a_registered_codec_survives_relearning(client: pgany.Client, fullname: str) -> None:
    mood = unique("mood")
    await client.execute(f"CREATE TYPE {mood} AS ENUM ('ok')")
    await client.register_codec(mood, decode=lambda data: bytes(data).upper(), format="text")
    await client.execute(f"ALTER TYPE {fullname} ADD ATTRIBUTE suffix text")
    assert await client.query_value(f"SELECT ROW('a', 'b', 'c')::{fullname}") == ("a", "b", "c")
    assert await client.query_value(f"SELECT 'ok'::{mood}") == b"OK"
