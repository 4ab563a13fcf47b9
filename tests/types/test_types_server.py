"""Network, geometry, bit, pg_lsn, text-search, money, xml, arrays, ranges and
multiranges, and user-defined types, through a real server.

Table-driven: each value is decoded from a SQL literal (``SELECT '...'::type``),
then sent back as a parameter (``SELECT $1::type``) and must come back
equal, and the server must print the parameter as it prints the literal.
Every family runs with pgany's binary codecs and again with them switched
off for the types involved, so that the text codecs do the work.
"""

from __future__ import annotations

import ipaddress
import math
import uuid
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest

import pgany
from pgany.types import (
    Box,
    Circle,
    Codec,
    Format,
    Line,
    LineSegment,
    Path,
    Point,
    Polygon,
    Range,
    composite_codecs,
    domain_codecs,
    enum_codecs,
    range_codecs,
    register_array_types,
)

pytestmark = pytest.mark.anyio

UTC = timezone.utc
#: Expect what the server prints for the literal (money depends on lc_monetary).
SERVER_TEXT: Any = object()
#: Marks a case whose parameter prints differently from its literal (lower bounds are lost).
NO_TEXT_CHECK = "no text check"

Case = tuple[Any, ...]  # (type, literal, expected[, NO_TEXT_CHECK])

NETWORK: list[Case] = [
    ("inet", "192.168.0.1/24", ipaddress.ip_interface("192.168.0.1/24")),
    ("inet", "10.1.2.3", ipaddress.ip_interface("10.1.2.3/32")),
    ("inet", "::1", ipaddress.ip_interface("::1/128")),
    ("inet", "::ffff:1.2.3.4/120", ipaddress.ip_interface("::ffff:1.2.3.4/120")),
    ("inet", "2001:db8::5/64", ipaddress.ip_interface("2001:db8::5/64")),
    ("cidr", "10.0.0.0/8", ipaddress.ip_network("10.0.0.0/8")),
    ("cidr", "192.168.1.7/32", ipaddress.ip_network("192.168.1.7/32")),
    ("cidr", "2001:db8::/32", ipaddress.ip_network("2001:db8::/32")),
    ("macaddr", "08-00-2B-01-02-03", "08:00:2b:01:02:03"),
    ("macaddr8", "08:00:2b:01:02:03:04:05", "08:00:2b:01:02:03:04:05"),
    ("macaddr8", "08:00:2b:01:02:03", "08:00:2b:ff:fe:01:02:03"),
]

GEOMETRY: list[Case] = [
    ("point", "(1.5,-2)", Point(1.5, -2.0)),
    ("point", "(1e+300,-0.1)", Point(1e300, -0.1)),
    ("point", "(Infinity,-Infinity)", Point(math.inf, -math.inf)),
    ("line", "{1,-1,0.5}", Line(1.0, -1.0, 0.5)),
    ("lseg", "[(0,0),(1,1.5)]", LineSegment(Point(0, 0), Point(1, 1.5))),
    ("box", "(0,0),(2,3)", Box(Point(2, 3), Point(0, 0))),
    ("box", "(2,0),(0,3)", Box(Point(2, 3), Point(0, 0))),
    ("path", "[(0,0),(1,1),(2,0)]", Path((Point(0, 0), Point(1, 1), Point(2, 0)), closed=False)),
    ("path", "((0,0),(1,1))", Path((Point(0, 0), Point(1, 1)), closed=True)),
    ("polygon", "((0,0),(1,1),(1,0))", Polygon((Point(0, 0), Point(1, 1), Point(1, 0)))),
    ("polygon", "((0.5,0.25))", Polygon((Point(0.5, 0.25),))),
    ("circle", "<(1,2),3.5>", Circle(Point(1, 2), 3.5)),
]

BITS_AND_STRINGS: list[Case] = [
    ("bit(5)", "10110", "10110"),
    ("bit(1)", "1", "1"),
    ("bit(9)", "100000001", "100000001"),
    ("varbit", "", ""),
    ("varbit", "1" * 70 + "0", "1" * 70 + "0"),
    ("varbit(3)", "01", "01"),
    ("pg_lsn", "16/B374D848", "16/B374D848"),
    ("pg_lsn", "0/0", "0/0"),
    ("pg_lsn", "FFFFFFFF/FFFFFFFF", "FFFFFFFF/FFFFFFFF"),
    ("money", "12.34", SERVER_TEXT),
    ("money", "-0.01", SERVER_TEXT),
    ("tsvector", "a fat:2 cat", "'a' 'cat' 'fat':2"),
    ("tsvector", "", ""),
    ("tsquery", "fat & !rat", "'fat' & !'rat'"),
    ("xml", "<a>é &amp; x</a>", "<a>é &amp; x</a>"),
    ("xml", "just text", "just text"),
]

ARRAYS: list[Case] = [
    ("int4[]", "{1,2,NULL}", [1, 2, None]),
    ("int4[]", "{}", []),
    ("int4[]", "{{1,2},{3,4}}", [[1, 2], [3, 4]]),
    ("int4[]", "{{{1,NULL}},{{3,4}}}", [[[1, None]], [[3, 4]]]),
    ("int4[]", "[0:2]={1,2,3}", [1, 2, 3], NO_TEXT_CHECK),
    ("int4[]", "[-1:0][2:3]={{1,2},{3,4}}", [[1, 2], [3, 4]], NO_TEXT_CHECK),
    ("int2[]", "{-32768,32767}", [-32768, 32767]),
    ("int8[]", "{9223372036854775807}", [2**63 - 1]),
    ("oid[]", "{0,4294967295}", [0, 4294967295]),
    (
        "text[]",
        r'{"a,b","c\"d","NULL",NULL,"","{}"," x ","back\\slash","é",plain,"semi;colon","tab	"}',
        [
            "a,b",
            'c"d',
            "NULL",
            None,
            "",
            "{}",
            " x ",
            "back\\slash",
            "é",
            "plain",
            "semi;colon",
            "tab\t",
        ],
    ),
    ("text[]", '{{"a b",NULL},{"",c}}', [["a b", None], ["", "c"]]),
    ("varchar[]", '{"null",x}', ["null", "x"]),
    ("name[]", "{pg_class}", ["pg_class"]),
    ('"char"[]', "{a,b}", ["a", "b"]),
    ("bool[]", "{t,f,NULL}", [True, False, None]),
    ("float4[]", "{1.5,-Infinity}", [1.5, -math.inf]),
    ("float8[]", "{0.1,NaN,Infinity}", [0.1, math.nan, math.inf]),
    (
        "numeric[]",
        "{1.50,NaN,-Infinity,0}",
        [Decimal("1.50"), Decimal("NaN"), Decimal("-Infinity"), Decimal(0)],
    ),
    ("bytea[]", r'{"\\x00ff",NULL,"\\x"}', [b"\x00\xff", None, b""]),
    (
        "uuid[]",
        "{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11}",
        [uuid.UUID("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11")],
    ),
    ("json[]", r'{"{\"a\":1}","\"s\""}', [{"a": 1}, "s"]),
    ("jsonb[]", r'{"{\"a\": [1, 2]}",null,"[]"}', [{"a": [1, 2]}, None, []]),
    ("jsonb[]", '{{1,2},{3,"[4]"}}', [[1, 2], [3, [4]]]),
    ("date[]", "{2020-02-29,infinity,-infinity}", [date(2020, 2, 29), date.max, date.min]),
    ("timestamp[]", '{"1999-12-31 23:59:59.999999"}', [datetime(1999, 12, 31, 23, 59, 59, 999999)]),
    ("timestamptz[]", '{"2020-01-01 00:00:00+00"}', [datetime(2020, 1, 1, tzinfo=UTC)]),
    (
        "interval[]",
        '{"1 day","-00:00:01"}',
        [pgany.Interval(0, 1, 0), pgany.Interval(0, 0, -1_000_000)],
    ),
    (
        "inet[]",
        "{1.2.3.4,::1/64}",
        [ipaddress.ip_interface("1.2.3.4"), ipaddress.ip_interface("::1/64")],
    ),
    ("cidr[]", "{10.0.0.0/8}", [ipaddress.ip_network("10.0.0.0/8")]),
    ("macaddr[]", "{08:00:2b:01:02:03}", ["08:00:2b:01:02:03"]),
    ("macaddr8[]", "{08:00:2b:01:02:03:04:05}", ["08:00:2b:01:02:03:04:05"]),
    ("point[]", '{"(1,2)",NULL}', [Point(1, 2), None]),
    (
        "box[]",
        "{(1,1),(0,0);(3,3),(2,2)}",
        [Box(Point(1, 1), Point(0, 0)), Box(Point(3, 3), Point(2, 2))],
    ),
    ("lseg[]", '{"[(0,0),(1,1)]"}', [LineSegment(Point(0, 0), Point(1, 1))]),
    ("line[]", '{"{1,2,3}"}', [Line(1, 2, 3)]),
    (
        "path[]",
        '{"[(0,0),(1,1)]","((0,0))"}',
        [Path((Point(0, 0), Point(1, 1))), Path((Point(0, 0),), closed=True)],
    ),
    ("polygon[]", '{"((0,0),(1,1),(1,0))"}', [Polygon((Point(0, 0), Point(1, 1), Point(1, 0)))]),
    ("circle[]", '{"<(1,2),3>"}', [Circle(Point(1, 2), 3)]),
    ("bit(2)[]", "{10,01}", ["10", "01"]),
    ("varbit[]", '{1,"",0101}', ["1", "", "0101"]),
    ("money[]", "{1.5,-2}", SERVER_TEXT),
    ("pg_lsn[]", "{0/1,16/B374D848}", ["0/1", "16/B374D848"]),
    ("tsvector[]", '{"a b",""}', ["'a' 'b'", ""]),
    ("tsquery[]", '{"a & b"}', ["'a' & 'b'"]),
    ("xml[]", '{"<a/>","x, y"}', ["<a/>", "x, y"]),
    ("int4range[]", '{"[1,3)",empty,"(,)"}', [Range(1, 3), Range(empty=True), Range()]),
    ("daterange[]", '{"[2020-01-01,2020-02-01)"}', [Range(date(2020, 1, 1), date(2020, 2, 1))]),
    ("int4multirange[]", '{"{[1,3),[5,7)}","{}"}', [[Range(1, 3), Range(5, 7)], []]),
    ("nummultirange[]", '{{"{[1.5,2]}"}}', [[[Range(Decimal("1.5"), Decimal("2"), "[]")]]]),
]

RANGES: list[Case] = [
    ("int4range", "[1,5)", Range(1, 5)),
    ("int4range", "[1,5]", Range(1, 6)),  # canonical form
    ("int4range", "(,5)", Range(None, 5)),
    ("int4range", "[1,)", Range(1, None)),
    ("int4range", "(,)", Range()),
    ("int4range", "empty", Range(empty=True)),
    ("int4range", "[3,3)", Range(empty=True)),
    ("int8range", "[-9223372036854775808,0)", Range(-(2**63), 0)),
    ("numrange", "[1.5,2.5]", Range(Decimal("1.5"), Decimal("2.5"), "[]")),
    ("numrange", "(,0.001)", Range(None, Decimal("0.001"))),
    ("numrange", "(1.5,)", Range(Decimal("1.5"), None, "()")),
    (
        "tsrange",
        "[2020-01-01,2020-01-02 12:00)",
        Range(datetime(2020, 1, 1), datetime(2020, 1, 2, 12)),
    ),
    ("tsrange", "(,infinity]", Range(None, datetime.max, "(]")),
    (
        "tstzrange",
        "[2020-01-01 00:00+00,2020-01-01 00:00:00.000001+00]",
        Range(
            datetime(2020, 1, 1, tzinfo=UTC),
            datetime(2020, 1, 1, tzinfo=UTC) + timedelta(microseconds=1),
            "[]",
        ),
    ),
    ("daterange", "[2020-01-01,2020-01-31]", Range(date(2020, 1, 1), date(2020, 2, 1))),
    ("daterange", "[-infinity,infinity)", Range(date.min, date.max)),
    ("int4multirange", "{}", []),
    ("int4multirange", "{[1,3),[5,7)}", [Range(1, 3), Range(5, 7)]),
    ("int4multirange", "{[1,3), [3,5), empty}", [Range(1, 5)]),
    ("int8multirange", "{(,0),[10,)}", [Range(None, 0), Range(10, None)]),
    (
        "nummultirange",
        "{(,1.5],[2,)}",
        [Range(None, Decimal("1.5"), "(]"), Range(Decimal(2), None)],
    ),
    ("datemultirange", "{[2020-01-01,2020-02-01)}", [Range(date(2020, 1, 1), date(2020, 2, 1))]),
    ("tsmultirange", '{["2020-01-01 00:00:00",)}', [Range(datetime(2020, 1, 1), None)]),
    (
        "tstzmultirange",
        '{[,"2020-01-01 00:00:00+00")}',
        [Range(None, datetime(2020, 1, 1, tzinfo=UTC))],
    ),
]

FAMILIES = {
    "network": NETWORK,
    "geometry": GEOMETRY,
    "bits_and_strings": BITS_AND_STRINGS,
    "arrays": ARRAYS,
    "ranges": RANGES,
}


def same(a: Any, b: Any) -> bool:
    """Equality, with NaN equal to NaN (compared through repr)."""
    return bool(a == b) or repr(a) == repr(b)


async def text_only(client: pgany.Client, type_oid: int) -> None:
    """Switch pgany's binary codec off for *type_oid* on this connection: text it is."""
    # There is no public per-connection API for this yet: a binary codec that
    # can do nothing makes the registry fall back to the text codec.
    registry = client._session.registry
    found = registry.get(type_oid, Format.BINARY)
    if found is not None:
        registry.register(Codec(type_oid, found.name, Format.BINARY, None, None))


async def xml_supported(client: pgany.Client) -> bool:
    try:
        await client.query_value("SELECT '<a/>'::xml::text")
    except pgany.errors.FeatureNotSupported:
        return False
    return True


@pytest.mark.parametrize("fmt", ["binary", "text"])
@pytest.mark.parametrize("family", list(FAMILIES))
async def test_family(pg_dsn: str, family: str, fmt: str) -> None:
    failures = []
    async with pgany.connect(pg_dsn) as client:
        has_xml = await xml_supported(client)
        for case in FAMILIES[family]:
            typ, literal, expected = case[:3]
            if "xml" in typ and not has_xml:
                continue
            if "multirange" in typ and client.server_version < 140000:
                continue
            lit = literal.replace("'", "''")
            if fmt == "text":
                await text_only(
                    client, await client.query_value(f"SELECT '{typ}'::regtype::oid::int8")
                )
            try:
                if expected is SERVER_TEXT:
                    expected = await client.query_value(f"SELECT '{lit}'::{typ}")
                    if isinstance(expected, str):
                        assert expected == await client.query_value(f"SELECT '{lit}'::{typ}::text")
                got = await client.query_value(f"SELECT '{lit}'::{typ}")
                assert same(got, expected), f"decoded {got!r}"
                back = await client.query_value(f"SELECT $1::{typ}", expected)
                assert same(back, expected), f"round trip gave {back!r}"
                if NO_TEXT_CHECK not in case:
                    equal = await client.query_value(
                        f"SELECT $1::{typ}::text = '{lit}'::{typ}::text", expected
                    )
                    assert equal, "the parameter prints unlike the literal"
            except Exception as exc:  # collect them all, then fail once
                failures.append(f"{typ} {literal!r}: {type(exc).__name__}: {exc}")
    assert not failures, "\n".join(failures)


async def test_text_arrays_with_special_characters(pg_dsn: str) -> None:
    values = ["", " ", "NULL", "null", "{", "}", ",", '"', "\\", '\\\\"', "a b", "é\u00a0", "\n\t"]
    async with pgany.connect(pg_dsn) as client:
        assert await client.query_value("SELECT $1::text[]", values) == values
        assert await client.query_value("SELECT $1::text[]", [values, values]) == [values, values]
        # What the server made of the parameter, without pgany's array decoder.
        rows = await client.query(
            "SELECT v FROM unnest($1::text[]) WITH ORDINALITY u(v, i) ORDER BY i", values
        )
        assert [r[0] for r in rows] == values
        assert await client.query_value("SELECT array_length($1::text[], 1)", [None, "NULL"]) == 2
        assert await client.query_value("SELECT ($1::text[])[1] IS NULL", [None, "NULL"])
        assert await client.query_value("SELECT ($1::text[])[2]", [None, "NULL"]) == "NULL"
        # Sent in text format too.
        await text_only(client, 1009)
        assert await client.query_value("SELECT $1::text[]", [values, values]) == [values, values]


async def test_array_errors(pg_dsn: str) -> None:
    async with pgany.connect(pg_dsn) as client:
        with pytest.raises(pgany.EncodeError, match=r"parameter \$1 .*ragged"):
            await client.query_value("SELECT $1::int[]", [[1, 2], [3]])
        with pytest.raises(pgany.EncodeError, match=r"parameter \$1 .*cannot encode str as int4"):
            await client.query_value("SELECT $1::int[]", [1, "x"])
        assert await client.query_value("SELECT 1") == 1


async def test_user_defined_types(pg_dsn: str) -> None:
    """enum, composite (nested, in arrays), domain and range codecs built as the connection will."""
    async with pgany.connect(pg_dsn) as client:
        await client.simple_query(
            """
            CREATE TYPE pg_temp.mood AS ENUM ('sad', 'ok', 'happy');
            CREATE DOMAIN pg_temp.posint AS int4 CHECK (VALUE > 0);
            CREATE TYPE pg_temp.inner_t AS (a int4, b text);
            CREATE TYPE pg_temp.outer_t AS (x pg_temp.inner_t, ys pg_temp.inner_t[],
                                            m pg_temp.mood, d pg_temp.posint);
            CREATE TYPE pg_temp.priced AS (p money, n int4);
            CREATE TYPE pg_temp.floatrange AS RANGE (subtype = float8);
            """
        )
        registry = client._session.registry

        async def oids(name: str) -> tuple[int, int]:
            row = await client.query_one(
                "SELECT oid::int8, typarray::int8 FROM pg_type WHERE oid = $1::regtype", name
            )
            return row[0], row[1]

        async def fields(name: str) -> list[tuple[str, int]]:
            rows = await client.query(
                "SELECT attname::text, atttypid::int8 FROM pg_attribute"
                " WHERE attrelid = (SELECT typrelid FROM pg_type WHERE oid = $1::regtype)"
                " AND attnum > 0 AND NOT attisdropped ORDER BY attnum",
                name,
            )
            return [(r[0], r[1]) for r in rows]

        def register(codecs: list[Codec]) -> None:
            for c in codecs:
                registry.register(c)

        oid, array = await oids("pg_temp.mood")
        register(enum_codecs(oid, "mood", array_oid=array))
        oid, array = await oids("pg_temp.posint")
        register(domain_codecs(oid, "posint", 23, registry, array_oid=array))
        for name in ("inner_t", "outer_t", "priced"):
            oid, array = await oids(f"pg_temp.{name}")
            register(
                composite_codecs(
                    oid, name, await fields(f"pg_temp.{name}"), registry, array_oid=array
                )
            )
        oid, array = await oids("pg_temp.floatrange")
        float8 = (registry.get(701, Format.BINARY), registry.get(701, Format.TEXT))
        register(range_codecs(*float8, oid, "floatrange", array_oid=array))
        register_array_types(registry, [oid])

        assert await client.query_value("SELECT 'happy'::pg_temp.mood") == "happy"
        assert await client.query_value("SELECT $1::pg_temp.mood[]", ["sad", None]) == ["sad", None]
        assert await client.query_value("SELECT $1::pg_temp.posint", 5) == 5
        assert await client.query_value("SELECT $1::pg_temp.posint[]", [5, 6]) == [5, 6]
        with pytest.raises(pgany.DatabaseError, match="posint"):
            await client.query_value("SELECT $1::pg_temp.posint", 0)

        literal = (
            "SELECT ROW(ROW(1, 'a b')::pg_temp.inner_t,"
            " ARRAY[ROW(2, 'x,\"y\"')::pg_temp.inner_t, NULL, ROW(NULL, '')::pg_temp.inner_t],"
            " 'ok', 7)::pg_temp.outer_t"
        )
        row = await client.query_value(literal)
        expected = ((1, "a b"), [(2, 'x,"y"'), None, (None, "")], "ok", 7)
        assert row == expected
        assert row["x"]["b"] == "a b"
        assert row["ys"][0]["b"] == 'x,"y"'
        assert await client.query_value("SELECT $1::pg_temp.outer_t", row) == expected
        assert await client.query_value(
            f"SELECT $1::pg_temp.outer_t::text = ({literal})::text", row
        )
        as_dict = {
            "x": {"a": 1, "b": "a b"},
            "ys": [(2, 'x,"y"'), None, {"b": ""}],
            "m": "ok",
            "d": 7,
        }
        assert await client.query_value("SELECT $1::pg_temp.outer_t", as_dict) == expected
        assert await client.query_value("SELECT $1::pg_temp.outer_t[]", [row, None]) == [
            expected,
            None,
        ]
        assert (
            await client.query_value("SELECT ($1::pg_temp.inner_t).b", (1, 'q"(\\),')) == 'q"(\\),'
        )
        # money has no binary codec, so priced is read and sent as text.
        priced = await client.query_value("SELECT ROW('1.5'::money, 2)::pg_temp.priced")
        assert priced["n"] == 2
        assert await client.query_value("SELECT ($1::pg_temp.priced).n", ("1.5", 3)) == 3

        assert await client.query_value("SELECT '[1.5,2.5)'::pg_temp.floatrange") == Range(1.5, 2.5)
        assert await client.query_value(
            "SELECT $1::pg_temp.floatrange", Range(None, 0.5, "(]")
        ) == Range(None, 0.5, "(]")
        assert await client.query_value(
            "SELECT $1::pg_temp.floatrange[]", [Range(1.0, None), Range(empty=True)]
        ) == [Range(1.0, None), Range(empty=True)]
