"""A registered codec wins everywhere: results, parameters, arrays, composites, COPY.

Each case registers, for one type that pgany converts on a fast path, a
codec in one format that wraps pgany's own codec of that format: it decodes
to ``Mine(value)`` and encodes only ``Mine`` values. A ``Mine`` coming back
proves the codec ran and read the format it names (pgany's decoder of the
other format would fail or give another value); a ``Mine`` accepted as a
parameter proves it was encoded by it (pgany's encoders refuse it), and the
server's reading of the value proves the format code sent with it.
"""

from __future__ import annotations

import datetime
import decimal
import uuid
from dataclasses import dataclass
from typing import Any

import pytest

import pgany
import pgany.types
from pgany.copy import BinaryCopyInWriter, BinaryCopyOutReader
from pgany.types import Codec, Format

pytestmark = pytest.mark.anyio

_UTC = datetime.timezone.utc

#: (type, SQL literal, the Python value pgany's own codecs give for it)
_CASES = [
    ("int4", "42", 42),
    ("int8", "-9000000000", -9_000_000_000),
    ("text", "'héllo, world'", "héllo, world"),
    ("float8", "1.5", 1.5),
    ("numeric", "12.345", decimal.Decimal("12.345")),
    (
        "timestamptz",
        "'2024-05-06 07:08:09.123456+00'",
        datetime.datetime(2024, 5, 6, 7, 8, 9, 123456, tzinfo=_UTC),
    ),
    ("jsonb", """'{"a": [1, 2]}'""", {"a": [1, 2]}),
    (
        "uuid",
        "'12345678-1234-5678-1234-567812345678'",
        uuid.UUID("12345678-1234-5678-1234-567812345678"),
    ),
    ("macaddr", "'08:00:2b:01:02:03'", "08:00:2b:01:02:03"),
]
_FORMATS = [Format.BINARY, Format.TEXT]


@dataclass(frozen=True)
class Mine:
    """What the registered codecs decode to and encode from."""

    value: Any


def _own(type_name: str, fmt: Format) -> Codec:
    """pgany's own codec of *type_name* in *fmt*."""
    oid = pgany.types.registry.oid_of(type_name)
    assert oid is not None
    codec = pgany.types.registry.get(oid, fmt)
    assert codec is not None and codec.encode is not None and codec.decode is not None
    return codec


@dataclass
class Case:
    type_name: str
    literal: str
    value: Any
    fmt: Format

    def __post_init__(self) -> None:
        own = _own(self.type_name, self.fmt)
        self.own_encode = own.encode
        self.own_decode = own.decode
        self.encoded = 0
        self.decoded = 0

    @property
    def format_name(self) -> str:
        return self.fmt.name.lower()

    @property
    def mine(self) -> Mine:
        return Mine(self.value)

    def encode(self, value: Any) -> bytes | bytearray:
        if not isinstance(value, Mine):
            raise pgany.EncodeError(f"expected Mine, got {type(value).__name__}")
        self.encoded += 1
        assert self.own_encode is not None
        return self.own_encode(value.value)

    def decode(self, data: Any) -> Mine:
        self.decoded += 1
        assert self.own_decode is not None
        return Mine(self.own_decode(data))

    async def register(self, client: pgany.Client) -> None:
        await client.register_codec(
            self.type_name, encode=self.encode, decode=self.decode, format=self.format_name
        )


def _ids(case: tuple[str, str, Any], fmt: Format) -> str:
    return f"{case[0]}-{fmt.name.lower()}"


@pytest.fixture(
    params=[(c, f) for c in _CASES for f in _FORMATS],
    ids=[_ids(c, f) for c in _CASES for f in _FORMATS],
)
def case(request: pytest.FixtureRequest) -> Case:
    (type_name, literal, value), fmt = request.param
    return Case(type_name, literal, value, fmt)


@pytest.fixture(params=[c for c in _CASES], ids=[c[0] for c in _CASES])
def binary_case(request: pytest.FixtureRequest) -> Case:
    type_name, literal, value = request.param
    return Case(type_name, literal, value, Format.BINARY)


@pytest.fixture
async def registered(client: pgany.Client, case: Case) -> pgany.Client:
    await case.register(client)
    return client


async def test_results(registered: pgany.Client, case: Case) -> None:
    client, t = registered, case
    assert await client.query_value(f"SELECT {t.literal}::{t.type_name}") == t.mine
    # Many rows: the decoders of whole runs of rows.
    rows = await client.query(f"SELECT {t.literal}::{t.type_name}, g FROM generate_series(1, 50) g")
    assert [r[0] for r in rows] == [t.mine] * 50
    # Only column: the bulk path of fixed-width types.
    rows = await client.query(
        f"SELECT CASE WHEN g > 0 THEN {t.literal}::{t.type_name} END FROM generate_series(1, 50) g"
    )
    assert [r[0] for r in rows] == [t.mine] * 50
    assert t.decoded >= 101
    # A stream (a portal, in batches).
    sql = f"SELECT {t.literal}::{t.type_name} FROM generate_series(1, 25)"
    async with client.query_stream(sql, batch_size=10) as stream:
        assert [r[0] async for r in stream] == [t.mine] * 25
    # A prepared statement, and a NULL (no codec call).
    stmt = await client.prepare(f"SELECT {t.literal}::{t.type_name}, NULL::{t.type_name}")
    assert await client.query_one(stmt) == (t.mine, None)


async def test_parameters(registered: pgany.Client, case: Case) -> None:
    client, t = registered, case
    assert await client.query_value(f"SELECT $1::{t.type_name}", t.mine) == t.mine
    # The server read the value the codec wrote, in the format it names.
    assert await client.query_value(
        f"SELECT $1::{t.type_name} = {t.literal}::{t.type_name}", t.mine
    )
    assert await client.query_value(f"SELECT $1::{t.type_name} IS NULL", None)
    assert t.encoded == 2
    with pytest.raises(pgany.EncodeError, match="expected Mine"):
        await client.query_value(f"SELECT $1::{t.type_name}", t.value)
    assert await client.query_value("SELECT true") is True


async def test_executemany(registered: pgany.Client, case: Case) -> None:
    client, t = registered, case
    await client.execute(f"CREATE TEMP TABLE many (v {t.type_name})")
    await client.executemany("INSERT INTO many VALUES ($1)", [(t.mine,), (None,), (t.mine,)])
    assert t.encoded == 2
    assert await client.query_value(
        f"SELECT count(*) = 2 FROM many WHERE v = {t.literal}::{t.type_name}"
    )
    assert await client.query_value("SELECT count(*) = 1 FROM many WHERE v IS NULL")


async def test_arrays(registered: pgany.Client, case: Case) -> None:
    client, t = registered, case
    sql = f"SELECT ARRAY[{t.literal}, NULL, {t.literal}]::{t.type_name}[]"
    assert await client.query_value(sql) == [t.mine, None, t.mine]
    assert await client.query_value(f"SELECT $1::{t.type_name}[]", [[t.mine], [None]]) == [
        [t.mine],
        [None],
    ]
    assert await client.query_value(
        f"SELECT $1::{t.type_name}[] = ARRAY[{t.literal}, NULL]::{t.type_name}[]",
        [t.mine, None],
    )


async def test_composite_fields(registered: pgany.Client, case: Case) -> None:
    client, t = registered, case
    await client.execute(f"CREATE TEMP TABLE pair (v {t.type_name}, k int2)")
    row = await client.query_value(f"SELECT ROW({t.literal}, 7)::pair")
    assert tuple(row) == (t.mine, 7)
    assert row["v"] == t.mine
    back = await client.query_value("SELECT $1::pair", (t.mine, 8))
    assert tuple(back) == (t.mine, 8)
    assert await client.query_value(
        f"SELECT ($1::pair).v = {t.literal}::{t.type_name}", {"v": t.mine, "k": 1}
    )
    assert await client.query_value(f"SELECT ARRAY[ROW({t.literal}, 1)::pair]") == [(t.mine, 1)]


async def test_composite_learned_before_the_codec(client: pgany.Client, case: Case) -> None:
    t = case
    await client.execute(f"CREATE TEMP TABLE pair (v {t.type_name}, k int2)")
    learned = await client.query_value(f"SELECT ROW({t.literal}, 7)::pair")
    assert tuple(learned) == (t.value, 7)
    await t.register(client)
    row = await client.query_value(f"SELECT ROW({t.literal}, 7)::pair")
    assert tuple(row) == (t.mine, 7)


async def test_binary_copy(client: pgany.Client, binary_case: Case) -> None:
    t = binary_case
    await t.register(client)
    await client.execute(f"CREATE TEMP TABLE copied (v {t.type_name}, k int2)")
    async with client.copy_in("COPY copied (v) FROM STDIN (FORMAT binary)") as sink:
        writer = BinaryCopyInWriter(sink, [t.type_name])
        await writer.write_row([t.mine])
        await writer.write_rows([[None], [t.mine]])
        await writer.finish()
    assert sink.rows_copied == 3
    assert t.encoded == 2
    assert await client.query_value(
        f"SELECT count(*) = 2 FROM copied WHERE v = {t.literal}::{t.type_name}"
    )
    async with client.copy_out("COPY copied (v) TO STDOUT (FORMAT binary)") as source:
        rows = [r async for r in BinaryCopyOutReader(source, [t.type_name])]
    assert sorted(rows, key=lambda r: r[0] is None) == [(t.mine,), (t.mine,), (None,)]


async def test_copy_records_in(client: pgany.Client, case: Case) -> None:
    t = case
    await t.register(client)
    await client.execute(f"CREATE TEMP TABLE copied (v {t.type_name}, k int2)")
    n = await client.copy_records_in("copied", [(t.mine, 1), (None, 2), (t.mine, 3)])
    assert n == 3
    assert t.encoded == 2
    assert await client.query(
        f"SELECT k::int2, v = {t.literal}::{t.type_name} FROM copied ORDER BY k"
    ) == [(1, True), (2, None), (3, True)]


async def test_binary_copy_needs_a_binary_codec(client: pgany.Client) -> None:
    t = Case("macaddr", "'08:00:2b:01:02:03'", "08:00:2b:01:02:03", Format.TEXT)
    await t.register(client)
    await client.execute("CREATE TEMP TABLE macs (v macaddr)")
    with pytest.raises(pgany.InterfaceError, match=r"macaddr.*text"):
        async with client.copy_in("COPY macs FROM STDIN (FORMAT binary)") as sink:
            BinaryCopyInWriter(sink, ["macaddr"])
    with pytest.raises(pgany.InterfaceError, match=r"macaddr.*text"):
        async with client.copy_out("COPY macs TO STDOUT (FORMAT binary)") as source:
            BinaryCopyOutReader(source, ["macaddr"])
    assert await client.query_value("SELECT count(*) = 0 FROM macs")


@pytest.fixture
def global_case(case: Case, monkeypatch: pytest.MonkeyPatch) -> Case:
    # Register into a child of the global registry, so other tests see it unchanged.
    monkeypatch.setattr(pgany.types, "registry", pgany.types.registry.child())
    pgany.types.register_codec(
        case.type_name, encode=case.encode, decode=case.decode, format=case.fmt
    )
    return case


async def test_global_registration(pg_dsn: str, global_case: Case) -> None:
    t = global_case
    async with pgany.connect(pg_dsn) as client:
        assert await client.query_value(f"SELECT {t.literal}::{t.type_name}") == t.mine
        rows = await client.query(f"SELECT {t.literal}::{t.type_name} FROM generate_series(1, 20)")
        assert [r[0] for r in rows] == [t.mine] * 20
        assert await client.query_value(
            f"SELECT $1::{t.type_name} = {t.literal}::{t.type_name}", t.mine
        )
        await client.executemany("SELECT $1::int8 IS NULL", [(None,)])
        assert await client.query_value(f"SELECT $1::{t.type_name}[]", [t.mine, None]) == [
            t.mine,
            None,
        ]
        await client.execute(f"CREATE TEMP TABLE pair (v {t.type_name}, k int2)")
        row = await client.query_value(f"SELECT ROW({t.literal}, 7)::pair")
        assert tuple(row) == (t.mine, 7)
        assert await client.copy_records_in("pair", [(t.mine, 1)]) == 1
        assert await client.query_value(f"SELECT (SELECT v FROM pair) = {t.literal}::{t.type_name}")
