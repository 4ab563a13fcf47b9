"""COPY FROM STDIN and TO STDOUT, text and binary (tokio-postgres's cases and more)."""

from __future__ import annotations

import datetime
import decimal
import uuid

import anyio
import pytest

import pgany
import pgany.errors
from pgany.copy import BinaryCopyInWriter, BinaryCopyOutReader

pytestmark = pytest.mark.anyio


@pytest.fixture
async def table(client: pgany.Client) -> str:
    name = f"copy_{uuid.uuid4().hex[:12]}"
    await client.execute(f"CREATE TEMP TABLE {name} (id int, name text)")
    return name


async def test_two_rows_in(client: pgany.Client, table: str) -> None:
    async with client.copy_in(f"COPY {table} FROM STDIN") as sink:
        await sink.write(b"1\tjim\n")
        await sink.write("2\tjoe\n")
    assert sink.rows_copied == 2
    assert await client.query(f"SELECT id, name FROM {table} ORDER BY id") == [
        (1, "jim"),
        (2, "joe"),
    ]


async def test_many_rows_in_three_chunks(client: pgany.Client, table: str) -> None:
    lines = [f"{i}\tname{i}\n".encode() for i in range(10_000)]
    chunks = [b"".join(lines[:3000]), b"".join(lines[3000:7000]), b"".join(lines[7000:])]

    async def gen():  # type: ignore[no-untyped-def]
        for c in chunks:
            yield c

    async with client.copy_in(f"COPY {table} FROM STDIN") as sink:
        await sink.write_all(gen())
    assert sink.rows_copied == 10_000
    assert await client.query_value(f"SELECT count(*) FROM {table}") == 10_000
    assert await client.query_value(f"SELECT name FROM {table} WHERE id = 9999") == "name9999"


async def test_write_all_sync_iterable_and_memoryview(client: pgany.Client, table: str) -> None:
    async with client.copy_in(f"COPY {table} FROM STDIN") as sink:
        await sink.write_all([b"1\ta\n", bytearray(b"2\tb\n"), memoryview(b"3\tc\n")])
    assert sink.rows_copied == 3


async def test_unfinished_copy_aborts(client: pgany.Client, table: str) -> None:
    class Stop(Exception):
        pass

    with pytest.raises(Stop):
        async with client.copy_in(f"COPY {table} FROM STDIN") as sink:
            await sink.write(b"1\tjim\n")
            raise Stop
    assert await client.query_value(f"SELECT count(*) FROM {table}") == 0
    assert client.transaction_status == "idle"


async def test_cancelled_copy_aborts(client: pgany.Client, table: str) -> None:
    with anyio.move_on_after(0.1):
        async with client.copy_in(f"COPY {table} FROM STDIN") as sink:
            await sink.write(b"1\tjim\n")
            await anyio.sleep(5)
    assert await client.query_value(f"SELECT count(*) FROM {table}") == 0
    assert await client.query_value("SELECT 'usable'") == "usable"


async def test_bad_data_raises_server_error(client: pgany.Client, table: str) -> None:
    with pytest.raises(pgany.errors.InvalidTextRepresentation):
        async with client.copy_in(f"COPY {table} FROM STDIN") as sink:
            await sink.write(b"not-a-number\tx\n")
    assert await client.query_value(f"SELECT count(*) FROM {table}") == 0
    assert await client.query_value("SELECT 1") == 1


async def test_not_a_copy(client: pgany.Client) -> None:
    with pytest.raises(pgany.InterfaceError, match="not a COPY FROM STDIN"):
        async with client.copy_in("SELECT 1"):
            pass
    with pytest.raises(pgany.errors.UndefinedTable):
        async with client.copy_out("COPY no_such_table TO STDOUT"):
            pass
    assert await client.query_value("SELECT 2") == 2


async def test_copy_out_bytes_exact(client: pgany.Client, table: str) -> None:
    await client.execute(f"INSERT INTO {table} VALUES (1, 'jim'), (2, 'joe')")
    async with client.copy_out(f"COPY (SELECT * FROM {table} ORDER BY id) TO STDOUT") as source:
        data = b"".join([chunk async for chunk in source])
    assert data == b"1\tjim\n2\tjoe\n"
    assert source.rows_copied == 2


async def test_copy_out_early_exit_and_backpressure(client: pgany.Client) -> None:
    sql = "COPY (SELECT g, repeat('x', 100) FROM generate_series(1, 200000) g) TO STDOUT"
    async with client.copy_out(sql) as source:
        async for _chunk in source:
            # A slow consumer: the connection task must not read the rest into memory.
            await anyio.sleep(0.05)
            req = source._req
            assert req.copy_bytes <= 2 * 1024 * 1024 + 65536
            break
    assert client.transaction_status == "idle"
    assert await client.query_value("SELECT 3") == 3


async def test_copy_holds_the_connection_alone(client: pgany.Client, table: str) -> None:
    results: list[int] = []

    async def other(i: int) -> None:
        results.append(await client.query_value("SELECT $1::int", i))

    async with anyio.create_task_group() as tg:
        async with client.copy_in(f"COPY {table} FROM STDIN") as sink:
            for i in range(10):
                tg.start_soon(other, i)
            await anyio.sleep(0.05)
            await sink.write(b"1\ta\n")
        # The others ran after the COPY, each with its own result.
    assert sorted(results) == list(range(10))
    assert sink.rows_copied == 1


async def test_binary_writer_and_reader(client: pgany.Client) -> None:
    await client.execute("CREATE TEMP TABLE bin (i int4, s text, b bytea)")
    big = bytes(range(256)) * 512  # 128 KiB
    async with client.copy_in("COPY bin FROM STDIN (FORMAT binary)") as sink:
        writer = BinaryCopyInWriter(sink, ["int4", "text", "bytea"])
        await writer.write_row([1, "one", b"\x00"])
        await writer.write_row([None, None, None])
        await writer.write_row([3, "big", big])
        await writer.write_row([4, "big2", big[::-1]])
        await writer.write_rows([i, f"n{i}", None] for i in range(10, 10_010))
        await writer.finish()
    assert sink.rows_copied == 10_004
    async with client.copy_out(
        "COPY (SELECT * FROM bin ORDER BY i NULLS FIRST) TO STDOUT (FORMAT binary)"
    ) as src:
        rows = [row async for row in BinaryCopyOutReader(src, ["int4", "text", "bytea"])]
    assert rows[0] == (None, None, None)
    assert rows[1] == (1, "one", b"\x00")
    assert rows[2] == (3, "big", big)
    assert rows[3] == (4, "big2", big[::-1])
    assert len(rows) == 10_004
    assert rows[-1] == (10_009, "n10009", None)


async def test_binary_reader_checks_its_input() -> None:
    class chunks:  # an async iterable of bytes, not an async generator
        def __init__(self, *parts: bytes) -> None:
            self.parts = list(parts)

        def __aiter__(self) -> chunks:
            return self

        async def __anext__(self) -> bytes:
            if not self.parts:
                raise StopAsyncIteration
            return self.parts.pop(0)

    with pytest.raises(pgany.DecodeError, match="signature"):
        [r async for r in BinaryCopyOutReader(chunks(b"NOTCOPY" + b"\x00" * 20), ["int4"])]
    header = b"PGCOPY\n\xff\r\n\x00" + b"\x00" * 8
    with pytest.raises(pgany.DecodeError, match="truncated"):
        [
            r
            async for r in BinaryCopyOutReader(
                chunks(header, b"\x00\x01\x00\x00\x00\x04\x00"), ["int4"]
            )
        ]
    with pytest.raises(pgany.DecodeError, match="2 fields"):
        [r async for r in BinaryCopyOutReader(chunks(header, b"\x00\x02"), ["int4"])]
    source = chunks(header, b"\x00\x01\x00\x00\x00\x04", b"\x00\x00\x00\x07\xff\xff")
    rows = [r async for r in BinaryCopyOutReader(source, ["int4"])]
    assert rows == [(7,)]


async def test_binary_writer_rejects_bad_rows(client: pgany.Client) -> None:
    await client.execute("CREATE TEMP TABLE binbad (i int2)")
    with pytest.raises(pgany.EncodeError, match="column 1"):
        async with client.copy_in("COPY binbad FROM STDIN (FORMAT binary)") as sink:
            writer = BinaryCopyInWriter(sink, ["int2"])
            await writer.write_row([70000])
    with pytest.raises(pgany.EncodeError, match="2 values"):
        async with client.copy_in("COPY binbad FROM STDIN (FORMAT binary)") as sink:
            writer = BinaryCopyInWriter(sink, ["int2"])
            await writer.write_row([1, 2])
    assert await client.query_value("SELECT count(*) FROM binbad") == 0


async def test_copy_records_in(client: pgany.Client) -> None:
    await client.execute(
        'CREATE TEMP TABLE "Recs" (a int2, b int4, c int8, d float4, e float8, f numeric, g text, '
        "h bytea, i bool, j date, k timestamp, l timestamptz, m uuid, n jsonb, o interval)"
    )
    now = datetime.datetime(2024, 2, 29, 12, 30, 15, 123456)
    rec = (
        1,
        2,
        3,
        1.5,
        2.25,
        decimal.Decimal("3.14"),
        "text",
        b"\x01",
        True,
        now.date(),
        now,
        now.replace(tzinfo=datetime.timezone.utc),
        uuid.UUID(int=1),
        {"k": [1]},
        datetime.timedelta(days=1, seconds=2),
    )
    n = await client.copy_records_in('"Recs"', [rec, tuple(None for _ in rec)])
    assert n == 2
    rows = await client.query('SELECT * FROM "Recs" ORDER BY a NULLS LAST')
    assert rows[0][:14] == rec[:14]
    assert rows[0][14] == pgany.Interval(0, 1, 2_000_000)
    assert rows[1] == tuple(None for _ in rec)

    async def agen():  # type: ignore[no-untyped-def]
        for i in range(1000):
            yield (i, str(i))

    await client.execute("CREATE TEMP TABLE recs2 (x int, y text, z text DEFAULT 'dflt')")
    assert await client.copy_records_in("recs2", agen(), columns=["x", "y"]) == 1000
    assert await client.query_value("SELECT count(*) FROM recs2 WHERE z = 'dflt'") == 1000
    with pytest.raises(pgany.InterfaceError, match="no column 'nope'"):
        await client.copy_records_in("recs2", [], columns=["nope"])


async def test_copy_inside_transaction(client: pgany.Client, table: str) -> None:
    with pytest.raises(RuntimeError):
        async with client.transaction() as tx:
            async with tx.copy_in(f"COPY {table} FROM STDIN") as sink:
                await sink.write(b"1\ta\n")
            assert await tx.query_value(f"SELECT count(*) FROM {table}") == 1
            raise RuntimeError("roll it back")
    assert await client.query_value(f"SELECT count(*) FROM {table}") == 0


# -- a binary writer finishes when its block ends -----------------------------------------


async def test_binary_writer_finishes_when_the_block_ends(client: pgany.Client) -> None:
    await client.execute("CREATE TEMP TABLE binend (i int4, s text)")
    async with client.copy_in("COPY binend FROM STDIN (FORMAT binary)") as sink:
        writer = BinaryCopyInWriter(sink, ["int4", "text"])
        await writer.write_row([1, "one"])
        await writer.write_rows([i, "x" * 100] for i in range(2, 2002))  # > one chunk
    assert sink.rows_copied == 2001
    assert await client.query_value("SELECT count(*) FROM binend") == 2001
    assert await client.query_value("SELECT s FROM binend WHERE i = 1") == "one"
    # Finishing again (after the block) does nothing; writing is refused.
    await writer.finish()
    with pytest.raises(pgany.InterfaceError, match="finished"):
        await writer.write_row([3, "three"])


async def test_binary_writer_without_rows_copies_nothing(client: pgany.Client) -> None:
    await client.execute("CREATE TEMP TABLE binnone (i int4)")
    async with client.copy_in("COPY binnone FROM STDIN (FORMAT binary)") as sink:
        BinaryCopyInWriter(sink, ["int4"])
    assert sink.rows_copied == 0
    assert client.transaction_status == "idle"


async def test_binary_writer_finish_may_be_called_twice(client: pgany.Client) -> None:
    await client.execute("CREATE TEMP TABLE bintwice (i int4)")
    async with client.copy_in("COPY bintwice FROM STDIN (FORMAT binary)") as sink:
        writer = BinaryCopyInWriter(sink, ["int4"])
        await writer.write_rows([[1], [2]])
        await writer.finish()
        await writer.finish()
    assert sink.rows_copied == 2
    assert await client.query("SELECT i FROM bintwice ORDER BY i") == [(1,), (2,)]


async def test_binary_writer_block_left_by_an_exception_copies_nothing(
    client: pgany.Client,
) -> None:
    class Stop(Exception):
        pass

    await client.execute("CREATE TEMP TABLE binexc (i int4)")
    with pytest.raises(Stop):
        async with client.copy_in("COPY binexc FROM STDIN (FORMAT binary)") as sink:
            writer = BinaryCopyInWriter(sink, ["int4"])
            await writer.write_rows([i] for i in range(100))
            raise Stop
    assert sink.rows_copied is None
    assert await client.query_value("SELECT count(*) FROM binexc") == 0
    assert client.transaction_status == "idle"
    with anyio.move_on_after(0.2) as scope:
        async with client.copy_in("COPY binexc FROM STDIN (FORMAT binary)") as sink:
            writer = BinaryCopyInWriter(sink, ["int4"])
            await writer.write_row([1])
            await anyio.sleep(5)
    assert scope.cancelled_caught
    assert await client.query_value("SELECT count(*) FROM binexc") == 0


async def test_binary_writer_in_a_transaction_finishes_with_its_block(
    client: pgany.Client,
) -> None:
    await client.execute("CREATE TEMP TABLE bintx (i int4)")
    async with client.transaction() as tx:
        async with tx.copy_in("COPY bintx FROM STDIN (FORMAT binary)") as sink:
            await BinaryCopyInWriter(sink, ["int4"]).write_row([7])
        assert await tx.query_value("SELECT i FROM bintx") == 7
    assert await client.query_value("SELECT count(*) FROM bintx") == 1


async def test_binary_writer_block_cancelled_as_it_ends_copies_nothing(
    client: pgany.Client,
) -> None:
    await client.execute("CREATE TEMP TABLE bincancel (i int4)")
    with anyio.CancelScope() as scope:
        async with client.copy_in("COPY bincancel FROM STDIN (FORMAT binary)") as sink:
            writer = BinaryCopyInWriter(sink, ["int4"])
            writer.encode_row([1])  # (no checkpoint: the block ends normally)
            scope.cancel()
    assert scope.cancelled_caught
    assert sink.rows_copied is None
    with anyio.fail_after(5):  # the COPY was ended, not left open
        assert await client.query_value("SELECT count(*) FROM bincancel") == 0
    assert client.transaction_status == "idle"
