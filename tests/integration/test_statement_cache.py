"""The statement cache never serves a statement the server would now read differently.

A cached statement keeps what the server decided when it was prepared: its
result columns, the literals it read under the settings of then, the names
it resolved. These tests change each of those on the same connection and
check that the next call gives what a freshly prepared statement gives, and
that the connection stays usable.
"""

from __future__ import annotations

import datetime
from collections.abc import Awaitable, Callable

import anyio
import pytest

import pgany
import pgany.errors
from pgany._queries import Queries

pytestmark = pytest.mark.anyio


async def _prepared_names(client: pgany.Client) -> set[str]:
    rows = await client.query("SELECT name FROM pg_prepared_statements")
    return {r[0] for r in rows}


# -- statements whose rows are shaped when they run (FETCH, EXECUTE) ----------------------


@pytest.mark.parametrize("cache_size", [256, 0])
async def test_fetch_follows_the_cursor_open_when_it_runs(pg_dsn: str, cache_size: int) -> None:
    async with pgany.connect(pg_dsn, statement_cache_size=cache_size) as client:
        async with client.transaction() as tx:
            await tx.execute("DECLARE c1 CURSOR FOR SELECT 1, 2")
            assert await tx.query("FETCH 1 FROM c1") == [(1, 2)]
            await tx.execute("CLOSE c1")
            await tx.execute(
                "DECLARE c1 CURSOR FOR SELECT 1 AS a, 'x'::text AS b, date '2024-02-29' AS c, true AS d"
            )
            rows = await tx.query("FETCH 1 FROM c1")
            assert rows == [(1, "x", datetime.date(2024, 2, 29), True)]
            assert rows[0].keys() == ["a", "b", "c", "d"]
            assert await tx.query("FETCH 1 FROM c1") == []
            await tx.execute("CLOSE c1")
            await tx.execute("DECLARE c1 CURSOR FOR SELECT g::int8 FROM generate_series(1, 3) g")
            assert await tx.query("FETCH 2 FROM c1") == [(1,), (2,)]
            # Known past comments, in any case.
            fetch = "  -- the next one\n /* a /* nested */ comment */ fetch 1 FROM c1"
            assert await tx.query(fetch) == [(3,)]
            await tx.execute("CLOSE c1")
            await tx.execute("DECLARE c1 CURSOR FOR SELECT 'z'::text")
            assert await tx.query(fetch) == [("z",)]
        assert await client.query_value("SELECT 'alive'") == "alive"


async def test_execute_follows_the_statement_prepared_when_it_runs(
    client: pgany.Client,
) -> None:
    await client.execute("PREPARE q AS SELECT 1, 2")
    assert await client.query("EXECUTE q") == [(1, 2)]
    await client.execute("DEALLOCATE q")
    await client.execute("PREPARE q AS SELECT 'a'::text, 2.5::float8, 3::int2, 4::int8")
    assert await client.query("EXECUTE q") == [("a", 2.5, 3, 4)]
    await client.execute("DEALLOCATE q")
    await client.execute("PREPARE q AS SELECT 1 WHERE false")
    assert await client.query("EXECUTE q") == []
    assert await client.query_value("SELECT 'alive'") == "alive"


async def test_prepared_fetch_follows_the_cursor(client: pgany.Client) -> None:
    async with client.transaction() as tx:
        # Prepared before the cursor exists: the server describes no columns.
        stmt = await tx.prepare("FETCH 1 FROM c2")
        assert stmt.columns == ()
        await tx.execute("DECLARE c2 CURSOR FOR SELECT 1::int4, 'a'::text")
        assert await tx.query(stmt) == [(1, "a")]
        await tx.execute("CLOSE c2")
        await tx.execute("DECLARE c2 CURSOR FOR SELECT 2::int8, 3.5::float8, 'b'::text")
        assert await tx.query(stmt) == [(2, 3.5, "b")]
        assert await tx.query(stmt) == []
    assert await client.query_value("SELECT 'alive'") == "alive"


async def test_prepared_execute_follows_the_statement(client: pgany.Client) -> None:
    await client.execute("PREPARE q2 AS SELECT 1::int4 AS n")
    stmt = await client.prepare("EXECUTE q2")
    assert [c.name for c in stmt.columns] == ["n"]
    assert await client.query(stmt) == [(1,)]
    await client.execute("DEALLOCATE q2")
    await client.execute("PREPARE q2 AS SELECT 'x'::text AS s, 7::int8 AS m")
    rows = await client.query(stmt)
    assert rows == [("x", 7)]
    assert rows[0].keys() == ["s", "m"]
    assert await client.query(stmt) == [("x", 7)]


async def test_prepared_execute_of_an_unknown_type_fails_cleanly(client: pgany.Client) -> None:
    await client.execute("CREATE TYPE pg_temp.mood AS ENUM ('sad', 'happy')")
    await client.execute("PREPARE q3 AS SELECT 1")
    stmt = await client.prepare("EXECUTE q3")
    await client.execute("DEALLOCATE q3")
    # A type pgany has not learned, in binary: it says so and the connection lives.
    await client.execute("PREPARE q3 AS SELECT 'happy'::pg_temp.mood")
    with pytest.raises(pgany.DecodeError, match="prepare it again"):
        await client.query(stmt)
    assert await client.query_value("SELECT 'alive'") == "alive"
    # The cache prepares EXECUTE afresh: the type is learned and decoded.
    assert await client.query_value("EXECUTE q3") == "happy"


async def test_execute_picks_up_a_registered_codec(client: pgany.Client) -> None:
    await client.execute("PREPARE q5 AS SELECT 21::int4")
    assert await client.query_value("EXECUTE q5") == 21
    await client.register_codec("int4", decode=lambda data: int.from_bytes(data, "big") * 2)
    assert await client.query_value("EXECUTE q5") == 42


async def test_portals_of_fetch_and_execute(client: pgany.Client) -> None:
    async with client.transaction() as tx:
        stmt = await tx.prepare("FETCH 3 FROM c3")  # (no cursor yet: no columns)
        await tx.execute("DECLARE c3 CURSOR FOR SELECT g, g::text FROM generate_series(1, 5) g")
        portal = await tx.bind(stmt)
        assert await tx.query_portal(portal, 2) == [(1, "1"), (2, "2")]
        assert await tx.query_portal(portal, 2) == [(3, "3")]
        assert await tx.query_portal(portal, 2) == []
    await client.execute("PREPARE q4 AS SELECT 1")
    async with client.query_stream("EXECUTE q4") as stream:
        assert [row async for row in stream] == [(1,)]
    await client.execute("DEALLOCATE q4")
    await client.execute("PREPARE q4 AS SELECT g, 'x' FROM generate_series(1, 3) g")
    async with client.query_stream("EXECUTE q4", batch_size=2) as stream:
        assert [row async for row in stream] == [(1, "x"), (2, "x"), (3, "x")]


# -- DISCARD ALL / DEALLOCATE ALL ---------------------------------------------------------


async def _by_execute(cx: Queries, sql: str) -> None:
    await cx.execute(sql)


async def _by_simple_query(cx: Queries, sql: str) -> None:
    await cx.simple_query(sql)


async def _by_batch_execute(cx: Queries, sql: str) -> None:
    await cx.batch_execute(sql)


_METHODS = [
    pytest.param(_by_execute, id="execute"),
    pytest.param(_by_simple_query, id="simple_query"),
    pytest.param(_by_batch_execute, id="batch_execute"),
]


@pytest.mark.parametrize("method", _METHODS)
@pytest.mark.parametrize("command", ["DISCARD ALL", "DEALLOCATE ALL"])
async def test_discard_all_forgets_the_cache(
    client: pgany.Client, command: str, method: Callable[[Queries, str], Awaitable[None]]
) -> None:
    assert await client.query_value("SELECT $1::int + 1", 1) == 2
    await method(client, command)
    for _ in range(2):
        assert await client.query_value("SELECT $1::int + 1", 2) == 3
    # Nothing was left behind: only the statements cached since.
    assert len(await _prepared_names(client)) <= 2


async def test_deallocate_all_in_a_transaction(client: pgany.Client) -> None:
    assert await client.query_value("SELECT $1::int + 1", 1) == 2
    async with client.transaction() as tx:
        assert await tx.query_value("SELECT $1::int + 1", 2) == 3
        await tx.execute("DEALLOCATE ALL")
        assert await tx.query_value("SELECT $1::int + 1", 3) == 4
        await tx.batch_execute("DEALLOCATE ALL")
        assert await tx.query_value("SELECT $1::int + 1", 4) == 5
    assert await client.query_value("SELECT $1::int + 1", 5) == 6


async def test_a_missing_statement_is_prepared_again(client: pgany.Client) -> None:
    assert await client.query_value("SELECT $1::int * 2", 1) == 2
    assert await client.query_value("SELECT $1::int * 3", 1) == 3
    # Gone without a DEALLOCATE ALL tag this client could see (as a pool's reset does).
    await client.execute("DO $$ BEGIN EXECUTE 'DEALLOCATE ALL'; END $$")
    assert await client.query_value("SELECT $1::int * 2", 2) == 4
    assert await client.query_value("SELECT $1::int * 3", 2) == 6


async def test_a_missing_statement_in_a_transaction(client: pgany.Client) -> None:
    assert await client.query_value("SELECT $1::int * 2", 1) == 2
    assert await client.query_value("SELECT $1::int * 3", 1) == 3
    await client.execute("DO $$ BEGIN EXECUTE 'DEALLOCATE ALL'; END $$")
    # In a transaction the error has aborted it: no retry can mend that...
    with pytest.raises(pgany.errors.InvalidSqlStatementName):
        async with client.transaction() as tx:
            await tx.query_value("SELECT $1::int * 2", 2)
    # ...but every statement is prepared afresh from then on.
    async with client.transaction() as tx:
        assert await tx.query_value("SELECT $1::int * 2", 3) == 6
        assert await tx.query_value("SELECT $1::int * 3", 3) == 9


async def test_executemany_after_a_missing_statement(client: pgany.Client) -> None:
    await client.execute("CREATE TEMP TABLE em (a int)")
    await client.executemany("INSERT INTO em VALUES ($1)", [(1,), (2,)])
    await client.execute("DO $$ BEGIN EXECUTE 'DEALLOCATE ALL'; END $$")
    # Its parameter sets are spent: it fails once (and nothing of it stays)...
    with pytest.raises(pgany.errors.InvalidSqlStatementName):
        await client.executemany("INSERT INTO em VALUES ($1)", [(3,), (4,)])
    # ...and the next call prepares it afresh.
    await client.executemany("INSERT INTO em VALUES ($1)", [(5,), (6,)])
    assert await client.query("SELECT a FROM em ORDER BY a") == [(1,), (2,), (5,), (6,)]


# -- settings under which literals were read ---------------------------------------------


_SETTINGS = [
    pytest.param(
        "SET DateStyle = 'ISO, DMY'",
        "SELECT date '01/02/03'",
        datetime.date(2003, 1, 2),
        datetime.date(2003, 2, 1),
        id="DateStyle",
    ),
    pytest.param(
        "SET TimeZone = 'Asia/Tokyo'",
        "SELECT timestamptz '2020-01-01 00:00'",
        datetime.datetime(2020, 1, 1, tzinfo=datetime.timezone.utc),
        datetime.datetime(2019, 12, 31, 15, tzinfo=datetime.timezone.utc),
        id="TimeZone",
    ),
    pytest.param(
        "SET IntervalStyle = 'sql_standard'",
        "SELECT interval '-1 2:00:00'",
        pgany.Interval(days=-1, microseconds=2 * 3600 * 10**6),
        pgany.Interval(days=-1, microseconds=-2 * 3600 * 10**6),
        id="IntervalStyle",
    ),
    pytest.param(
        "SET standard_conforming_strings = off",
        "SELECT 'a\\tb'",
        "a\\tb",
        "a\tb",
        id="standard_conforming_strings",
    ),
]


def _ignore(notice: pgany.DatabaseError) -> None:
    pass


@pytest.mark.parametrize(("set_sql", "sql", "before", "after"), _SETTINGS)
async def test_a_changed_setting_prepares_statements_afresh(
    pg_dsn: str, set_sql: str, sql: str, before: object, after: object
) -> None:
    settings = {"TimeZone": "UTC", "DateStyle": "ISO, MDY"}
    async with pgany.connect(pg_dsn, server_settings=settings, on_notice=_ignore) as client:
        assert await client.query_value(sql) == before
        await client.execute(set_sql)
        assert await client.query_value(sql) == after
        async with pgany.connect(pg_dsn, server_settings=settings, on_notice=_ignore) as fresh:
            await fresh.execute(set_sql)
            assert await fresh.query_value(sql) == after
        await client.batch_execute("RESET ALL")
        assert await client.query_value(sql) == before


async def test_set_local_lasts_as_long_as_its_transaction(client: pgany.Client) -> None:
    sql = "SELECT date '01/02/03'"
    await client.execute("SET DateStyle = 'ISO, MDY'")
    assert await client.query_value(sql) == datetime.date(2003, 1, 2)
    async with client.transaction() as tx:
        await tx.execute("SET LOCAL DateStyle = 'ISO, DMY'")
        assert await tx.query_value(sql) == datetime.date(2003, 2, 1)
    assert await client.query_value(sql) == datetime.date(2003, 1, 2)


async def test_search_path(client: pgany.Client) -> None:
    await client.batch_execute(
        "CREATE SCHEMA sp_a; CREATE SCHEMA sp_b;"
        "CREATE TABLE sp_a.t (a int); INSERT INTO sp_a.t VALUES (1);"
        "CREATE TABLE sp_b.t (b text, c text); INSERT INTO sp_b.t VALUES ('x', 'y')"
    )
    try:
        await client.execute("SET search_path = sp_a")
        assert await client.query("SELECT * FROM t") == [(1,)]
        await client.execute("SET search_path = sp_b")
        assert await client.query("SELECT * FROM t") == [("x", "y")]
        await client.execute("SET search_path = sp_a")
        assert await client.query("SELECT * FROM t") == [(1,)]
        if client.parameter_status("search_path") is not None:
            # The server reports search_path (PostgreSQL 18): in a transaction
            # too, where a "cached plan must not change result type" would abort it.
            async with client.transaction() as tx:
                await tx.execute("SET LOCAL search_path = sp_b")
                assert await tx.query("SELECT * FROM t") == [("x", "y")]
            assert await client.query("SELECT * FROM t") == [(1,)]
    finally:
        await client.batch_execute("RESET search_path; DROP SCHEMA sp_a, sp_b CASCADE")


async def test_cleared_statements_are_closed_on_the_server(client: pgany.Client) -> None:
    for i in range(10):
        await client.execute(f"SET DateStyle = '{'ISO, DMY' if i % 2 else 'ISO, MDY'}'")
        for j in range(3):
            await client.query_value(f"SELECT {j}")
    # The three SELECTs, this query and the SET at most: nothing accumulates.
    assert len(await _prepared_names(client)) <= 5


# -- DDL on the same connection -----------------------------------------------------------


@pytest.mark.parametrize("method", _METHODS)
async def test_ddl_in_a_transaction(
    client: pgany.Client, method: Callable[[Queries, str], Awaitable[None]]
) -> None:
    await client.execute("CREATE TEMP TABLE ddl (a int)")
    await client.execute("INSERT INTO ddl VALUES (1)")
    assert await client.query("SELECT * FROM ddl") == [(1,)]
    async with client.transaction() as tx:
        await method(tx, "DROP TABLE ddl")
        await method(tx, "CREATE TEMP TABLE ddl (b text, c int)")
        await tx.execute("INSERT INTO ddl VALUES ('x', 2)")
        assert await tx.query("SELECT * FROM ddl") == [("x", 2)]
        await method(tx, "ALTER TABLE ddl ADD COLUMN d bool DEFAULT true")
        rows = await tx.query("SELECT * FROM ddl")
        assert rows == [("x", 2, True)]
        assert rows[0].keys() == ["b", "c", "d"]


async def test_rolled_back_ddl(client: pgany.Client) -> None:
    await client.execute("CREATE TEMP TABLE rb (a int)")
    await client.execute("INSERT INTO rb VALUES (1)")
    assert await client.query("SELECT * FROM rb") == [(1,)]
    with pytest.raises(ZeroDivisionError):
        async with client.transaction() as tx:
            await tx.execute("ALTER TABLE rb ADD COLUMN b int DEFAULT 2")
            assert await tx.query("SELECT * FROM rb") == [(1, 2)]
            1 / 0  # noqa: B018
    # The ALTER is undone: the statement cached inside it is not used.
    async with client.transaction() as tx:
        assert await tx.query("SELECT * FROM rb") == [(1,)]
        async with tx.savepoint() as sp:
            await sp.execute("ALTER TABLE rb ADD COLUMN c int DEFAULT 3")
            assert await sp.query("SELECT * FROM rb") == [(1, 3)]
            await sp.rollback()
        assert await tx.query("SELECT * FROM rb") == [(1,)]


async def test_a_setting_changed_while_a_statement_is_prepared(client: pgany.Client) -> None:
    sql = "SELECT date '01/02/03'"
    await client.execute("SET DateStyle = 'ISO, MDY'")
    for style, expected in [("DMY", datetime.date(2003, 2, 1)), ("MDY", datetime.date(2003, 1, 2))]:
        client.clear_type_cache()
        async with anyio.create_task_group() as tg:
            # The statement's Parse is sent first; the SET's answer may come
            # before its preparer has taken the description.
            tg.start_soon(client.query_value, sql)
            tg.start_soon(client.batch_execute, f"SET DateStyle = 'ISO, {style}'")
        assert await client.query_value(sql) == expected
