"""Every call of the client API against a real server."""

from __future__ import annotations

import decimal
import uuid

import anyio
import pytest

import pgany
import pgany.errors

pytestmark = pytest.mark.anyio


async def test_design_example(pg_dsn: str) -> None:
    async with pgany.connect(pg_dsn) as client:
        row = await client.query_one("SELECT $1::int + 1 AS n", 41)
        assert row["n"] == 42
        assert row[0] == 42


async def test_query_returns_rows(client: pgany.Client) -> None:
    rows = await client.query("SELECT g AS n, g::text AS s FROM generate_series(1, 3) g")
    assert rows == [(1, "1"), (2, "2"), (3, "3")]
    assert [r["s"] for r in rows] == ["1", "2", "3"]
    assert rows[0].keys() == ["n", "s"]
    assert rows[0].get("missing", "dflt") == "dflt"
    assert len(rows[0]) == 2
    assert list(rows[1]) == [2, "2"]
    assert [c.name for c in rows[0].columns] == ["n", "s"]
    assert rows[0].columns[0].type_oid == 23
    assert rows[0].columns[0].type_name == "int4"
    with pytest.raises(KeyError, match="no column named 'nope'"):
        rows[0]["nope"]
    assert await client.query("SELECT 1 WHERE false") == []


async def test_row_columns_from_a_table(client: pgany.Client) -> None:
    await client.execute("CREATE TEMP TABLE cols (id int8, name text)")
    await client.execute("INSERT INTO cols VALUES (1, 'a')")
    row = await client.query_one("SELECT id, name FROM cols")
    table_oid = await client.query_value("SELECT 'cols'::regclass::oid")
    assert [(c.name, c.type_name, c.table_oid, c.column_id) for c in row.columns] == [
        ("id", "int8", table_oid, 1),
        ("name", "text", table_oid, 2),
    ]


async def test_query_one_and_opt(client: pgany.Client) -> None:
    assert (await client.query_one("SELECT 1 AS a"))["a"] == 1
    with pytest.raises(pgany.RowCountError, match="returned 0"):
        await client.query_one("SELECT 1 WHERE false")
    with pytest.raises(pgany.RowCountError, match="returned 2"):
        await client.query_one("SELECT * FROM generate_series(1, 2)")
    assert await client.query_opt("SELECT 1 WHERE false") is None
    assert await client.query_opt("SELECT 5") == (5,)
    with pytest.raises(pgany.RowCountError):
        await client.query_opt("SELECT * FROM generate_series(1, 2)")
    assert issubclass(pgany.RowCountError, pgany.InterfaceError)
    # The connection is fine after RowCountError.
    assert await client.query_value("SELECT 'ok'") == "ok"


async def test_query_value(client: pgany.Client) -> None:
    assert await client.query_value("SELECT $1::text || 'b'", "a") == "ab"
    assert await client.query_value("SELECT NULL::int") is None


async def test_execute_counts_rows(client: pgany.Client) -> None:
    assert await client.execute("CREATE TEMP TABLE ex (id int PRIMARY KEY, v text)") == 0
    assert await client.execute("INSERT INTO ex SELECT g, 'x' FROM generate_series(1, 5) g") == 5
    assert await client.execute("UPDATE ex SET v = $1 WHERE id > $2", "y", 2) == 3
    assert await client.execute("DELETE FROM ex WHERE id = $1", 1) == 1
    assert await client.execute("SELECT * FROM ex") == 4
    assert await client.execute("SET search_path = public, pg_temp") == 0


async def test_executemany_is_one_atomic_batch(client: pgany.Client) -> None:
    await client.execute("CREATE TEMP TABLE em (id int PRIMARY KEY, v text)")
    await client.executemany("INSERT INTO em VALUES ($1, $2)", [(i, f"v{i}") for i in range(200)])
    assert await client.query_value("SELECT count(*) FROM em") == 200
    # A failing set fails the whole batch: nothing of it stays.
    with pytest.raises(pgany.errors.UniqueViolation):
        await client.executemany(
            "INSERT INTO em VALUES ($1, $2)", [(1000, "a"), (5, "dup"), (1001, "b")]
        )
    assert await client.query_value("SELECT count(*) FROM em") == 200
    await client.executemany("INSERT INTO em VALUES ($1, $2)", [])
    # A bad value is an EncodeError before anything is sent.
    with pytest.raises(pgany.EncodeError, match=r"\$1"):
        await client.executemany("INSERT INTO em VALUES ($1, $2)", [(2000, "a"), (2**40, "b")])
    assert await client.query_value("SELECT count(*) FROM em WHERE id = 2000") == 0


async def test_prepare_with_types(client: pgany.Client) -> None:
    stmt = await client.prepare("SELECT $1 AS a, $2 AS b", types=["int8", 25])
    assert stmt.params == (20, 25)
    assert [c.name for c in stmt.columns] == ["a", "b"]
    assert stmt.sql == "SELECT $1 AS a, $2 AS b"
    assert await client.query_one(stmt, 7, "x") == (7, "x")
    assert await client.query_one(stmt, 8, "y") == (8, "y")
    inferred = await client.prepare("SELECT $1::int4 + $2::int2")
    assert inferred.params == (23, 21)
    with pytest.raises(pgany.InterfaceError, match="takes 2 parameters, 1 given"):
        await client.query(stmt, 1)
    with pytest.raises(pgany.InterfaceError, match="unknown type name"):
        await client.prepare("SELECT $1", types=["no_such_type"])
    with pytest.raises(pgany.errors.SyntaxError):
        await client.prepare("SELEKT 1")


async def test_simple_query_shape(client: pgany.Client) -> None:
    msgs = await client.simple_query(
        "CREATE TEMP TABLE sq (a int, b text); INSERT INTO sq VALUES (1, 'x'), (2, NULL);"
        "SELECT a, b FROM sq ORDER BY a"
    )
    assert msgs[0] == pgany.CommandComplete("CREATE TABLE", 0)
    assert msgs[1] == pgany.CommandComplete("INSERT 0 2", 2)
    assert isinstance(msgs[2], pgany.SimpleRowDescription)
    assert msgs[2].columns == ("a", "b")
    row1, row2 = msgs[3], msgs[4]
    assert isinstance(row1, pgany.SimpleQueryRow)
    assert list(row1) == ["1", "x"]
    assert row1["b"] == "x"
    assert row1[0] == "1"
    assert list(row2) == ["2", None]
    assert msgs[5] == pgany.CommandComplete("SELECT 2", 2)
    assert len(msgs) == 6
    assert await client.simple_query("") == []


async def test_batch_execute(client: pgany.Client) -> None:
    await client.batch_execute(
        "CREATE TEMP TABLE be (a int); INSERT INTO be VALUES (1); INSERT INTO be VALUES (2)"
    )
    assert await client.query_value("SELECT sum(a) FROM be") == 3
    with pytest.raises(pgany.errors.DivisionByZero):
        await client.batch_execute("SELECT 1; SELECT 1/0; SELECT 3")
    assert client.transaction_status == "idle"


async def test_properties(client: pgany.Client, pg_cluster: object) -> None:
    assert client.backend_pid == await client.query_value("SELECT pg_backend_pid()")
    assert client.server_version == int(await client.query_value("SHOW server_version_num"))
    version = getattr(pg_cluster, "version", None)
    if version:
        assert client.server_version == version
    assert client.parameter_status("server_encoding") == "UTF8"
    assert client.parameter_status("no_such_parameter") is None
    await client.execute("SET TimeZone = 'Europe/Paris'")
    assert client.parameter_status("TimeZone") == "Europe/Paris"
    assert client.transaction_status == "idle"
    await client.batch_execute("BEGIN")
    assert client.transaction_status == "in_transaction"
    with pytest.raises(pgany.errors.DivisionByZero):
        await client.query("SELECT 1/0")
    assert client.transaction_status == "failed"
    with pytest.raises(pgany.errors.InFailedSqlTransaction):
        await client.query("SELECT 1")
    await client.batch_execute("ROLLBACK")
    assert client.transaction_status == "idle"
    assert not client.is_closed
    assert "Client" in repr(client)


async def test_close(pg_dsn: str) -> None:
    async with pgany.connect(pg_dsn) as client:
        await client.close()
        assert client.is_closed
        with pytest.raises(pgany.ConnectionClosed):
            await client.query("SELECT 1")
        await client.close()  # idempotent


async def test_database_error_fields(client: pgany.Client) -> None:
    await client.execute("CREATE TEMP TABLE uq (id int CONSTRAINT uq_pk PRIMARY KEY)")
    await client.execute("INSERT INTO uq VALUES (1)")
    with pytest.raises(pgany.errors.UniqueViolation) as info:
        await client.execute("INSERT INTO uq VALUES ($1)", 1)
    err = info.value
    assert isinstance(err, pgany.errors.IntegrityConstraintViolation)
    assert isinstance(err, pgany.DatabaseError)
    assert err.sqlstate == "23505"
    assert err.constraint_name == "uq_pk"
    assert err.table_name == "uq"
    assert err.detail == "Key (id)=(1) already exists."
    assert err.severity == "ERROR"
    assert err.routine
    assert str(err).startswith('ERROR:  duplicate key value violates unique constraint "uq_pk"')
    assert "DETAIL:  Key (id)=(1) already exists." in str(err)
    with pytest.raises(pgany.errors.UndefinedColumn) as info2:
        await client.query("SELECT nope FROM uq")
    assert info2.value.position == "8"
    assert info2.value.hint is None or isinstance(info2.value.hint, str)


async def test_encode_error_sends_nothing(client: pgany.Client) -> None:
    await client.execute("CREATE TEMP TABLE enc (a int4)")
    with pytest.raises(pgany.EncodeError) as info:
        await client.execute("INSERT INTO enc VALUES ($1)", 2**31)
    assert "$1" in str(info.value)
    assert client._session._proto.in_flight == 0
    with pytest.raises(pgany.EncodeError):
        await client.execute("INSERT INTO enc VALUES ($1)", "not a number")
    assert await client.query_value("SELECT count(*) FROM enc") == 0
    assert client.transaction_status == "idle"


async def test_statement_cache_lru(pg_dsn: str) -> None:
    async with pgany.connect(pg_dsn, statement_cache_size=2) as client:
        for i in range(5):
            assert await client.query_value(f"SELECT {i}") == i
        # Eviction closes the statement on the server too.
        names = await client.query("SELECT name FROM pg_prepared_statements")
        assert len(names) <= 3  # two cached, plus this statement being prepared
        for _ in range(3):
            assert await client.query_value("SELECT 4") == 4


async def test_statement_cache_disabled_uses_unnamed(pg_dsn: str) -> None:
    async with pgany.connect(pg_dsn, statement_cache_size=0) as client:
        for i in range(3):
            assert await client.query_value("SELECT $1::int", i) == i
        assert await client.query_value("SELECT count(*) FROM pg_prepared_statements") == 0

        async def one(i: int) -> None:
            assert await client.query_value("SELECT $1::int * 2, $2::text", i, "x") == i * 2

        async with anyio.create_task_group() as tg:
            for i in range(50):
                tg.start_soon(one, i)


async def test_stale_plan_is_reprepared(client: pgany.Client) -> None:
    await client.execute("CREATE TEMP TABLE stale (a int)")
    await client.execute("INSERT INTO stale VALUES (1)")
    assert await client.query("SELECT * FROM stale") == [(1,)]
    await client.execute("ALTER TABLE stale ADD COLUMN b text DEFAULT 'new'")
    rows = await client.query("SELECT * FROM stale")
    assert rows == [(1, "new")]
    assert rows[0].keys() == ["a", "b"]


async def test_basic_types_round_trip(client: pgany.Client) -> None:
    row = await client.query_one(
        "SELECT $1::bool, $2::int2, $3::int8, $4::float8, $5::numeric, $6::bytea, $7::uuid, $8::jsonb",
        True,
        -5,
        2**62,
        1.5,
        decimal.Decimal("12.340"),
        b"\x00\xff",
        uuid.UUID(int=7),
        {"a": [1, None]},
    )
    assert row == (
        True,
        -5,
        2**62,
        1.5,
        decimal.Decimal("12.340"),
        b"\x00\xff",
        uuid.UUID(int=7),
        {"a": [1, None]},
    )
    # A type with no binary codec comes back as its text form.
    assert await client.query_value("SELECT '(1,2)'::point::text") == "(1,2)"
    assert await client.query_value("SELECT '08:00:2b:01:02:03'::macaddr") == "08:00:2b:01:02:03"


async def test_sql_must_be_str(client: pgany.Client) -> None:
    with pytest.raises(pgany.InterfaceError):
        await client.query(b"SELECT 1")  # type: ignore[arg-type]
    with pytest.raises(pgany.InterfaceError):
        await client.simple_query(42)  # type: ignore[arg-type]


async def test_big_executemany_streams_and_stays_atomic(client: pgany.Client) -> None:
    await client.execute("CREATE TEMP TABLE big_em (id int PRIMARY KEY, v text)")
    rows = [(i, f"v{i}") for i in range(9000)]
    await client.executemany("INSERT INTO big_em VALUES ($1, $2)", rows)
    assert await client.query_value("SELECT count(*) FROM big_em") == 9000

    # A bad value in a later part: EncodeError, and nothing of the batch stays.
    bad = [(i, f"v{i}") for i in range(10_000, 16_000)] + [(2**40, "x")] + [(20_000, "y")]
    with pytest.raises(pgany.EncodeError, match=r"\$1"):
        await client.executemany("INSERT INTO big_em VALUES ($1, $2)", bad)
    assert await client.query_value("SELECT count(*) FROM big_em") == 9000
    assert client.transaction_status == "idle"

    # A server error in the middle: the whole batch is rolled back.
    dup = (
        [(i, "n") for i in range(30_000, 33_000)]
        + [(5, "dup")]
        + [(i, "n") for i in range(40_000, 43_000)]
    )
    with pytest.raises(pgany.errors.UniqueViolation):
        await client.executemany("INSERT INTO big_em VALUES ($1, $2)", dup)
    assert await client.query_value("SELECT count(*) FROM big_em") == 9000

    # Cancelled part-way: all or nothing, and the client goes on.
    many = [(i, "c") for i in range(50_000, 80_000)]
    with anyio.move_on_after(0.01):
        await client.executemany("INSERT INTO big_em VALUES ($1, $2)", many)
    n = await client.query_value("SELECT count(*) FROM big_em WHERE v = 'c'")
    assert n in (0, 30_000)
    assert await client.query_value("SELECT 'after'") == "after"


async def test_others_wait_for_a_streaming_batch(client: pgany.Client) -> None:
    await client.execute("CREATE TEMP TABLE big_em2 (id int, v text)")
    got: list[int] = []

    async def other(i: int) -> None:
        got.append(await client.query_value("SELECT $1::int", i))

    async with anyio.create_task_group() as tg:
        tg.start_soon(
            client.executemany,
            "INSERT INTO big_em2 VALUES ($1, $2)",
            [(i, "x") for i in range(12_000)],
        )
        for i in range(20):
            tg.start_soon(other, i)
    assert sorted(got) == list(range(20))
    assert await client.query_value("SELECT count(*) FROM big_em2") == 12_000


async def test_parameter_sets_must_be_sequences(client: pgany.Client) -> None:
    await client.execute("CREATE TEMP TABLE seqs (a text, b text)")
    with pytest.raises(pgany.InterfaceError, match="sequence of values"):
        await client.executemany("INSERT INTO seqs VALUES ($1, $2)", [{"a": "x", "b": "y"}])
    with pytest.raises(pgany.InterfaceError, match="sequence of values"):
        await client.executemany("INSERT INTO seqs VALUES ($1, $2)", ["ab"])
    with pytest.raises(pgany.EncodeError, match="sequence of values"):
        await client.copy_records_in("seqs", [{"a": "x", "b": "y"}])
    assert await client.query_value("SELECT count(*) FROM seqs") == 0
    # Any other sequence type is fine.
    await client.executemany("INSERT INTO seqs VALUES ($1, $2)", [range(0)] * 0)
    assert await client.query_value("SELECT 1") == 1
