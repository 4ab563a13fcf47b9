"""pgany and psycopg 3 decode the same SQL literals to the same Python values.

Each row of :data:`LITERALS` is a SQL expression, selected once by psycopg
(synchronously, text format, as psycopg reads results by default) and once
by pgany on asyncio and trio, with its binary codecs and again with them
switched off (text format). Where the two libraries represent a type
differently, the row names a normalisation: a small function, applied to
pgany's value (``ours``) or to psycopg's (``theirs``), that maps it to the
other library's representation. Every normalisation is documented where it
is defined; a row with none compares the values as they come.

psycopg reads ``infinity`` dates and timestamps as an error by default;
here it gets the loaders its documentation recommends for that, which map
them to ``date.max`` / ``datetime.max`` as pgany does.
"""

from __future__ import annotations

import ipaddress
import math
import re
import struct
from collections.abc import Callable
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest

import pgany
from pgany import Interval, Range
from pgany.types import Box, Circle, Codec, Format, Line, LineSegment, Path, Point, Polygon

psycopg = pytest.importorskip("psycopg")
from psycopg.types.datetime import (  # noqa: E402
    DateLoader,
    TimestampLoader,
    TimestamptzLoader,
)
from psycopg.types.multirange import Multirange  # noqa: E402
from psycopg.types.range import Range as PsycopgRange  # noqa: E402

UTC = timezone.utc
#: psycopg's session time zone: timestamptz values come back in it (pgany's are in UTC).
PSYCOPG_TIMEZONE = "America/New_York"

Normalise = Callable[[Any], Any]


def same_value(value: Any) -> Any:
    return value


# -- normalisations ------------------------------------------------------------------------------


def interval_as_timedelta(value: Interval) -> timedelta:
    """pgany keeps an interval's months, days and microseconds apart (:class:`pgany.Interval`);
    psycopg folds them into a timedelta, counting a year as 365 days and a month
    as 30 (the years and months that interval_out prints)."""
    years = abs(value.months) // 12 * (1 if value.months >= 0 else -1)
    months = value.months - 12 * years
    days = 365 * years + 30 * months + value.days
    return timedelta(days=days, microseconds=value.microseconds)


def range_from_psycopg(value: PsycopgRange[Any]) -> Range:
    """psycopg's Range has ``isempty`` and the same ``bounds`` strings as :class:`pgany.Range`."""
    if value.isempty:
        return Range(empty=True)
    return Range(value.lower, value.upper, value.bounds)


def multirange_from_psycopg(value: Multirange[Any]) -> list[Range]:
    """psycopg's Multirange is a sequence of its Ranges; pgany's a list of :class:`pgany.Range`."""
    return [range_from_psycopg(r) for r in value]


def in_utc(value: datetime) -> datetime:
    """psycopg's timestamptz is in the session's TimeZone, pgany's in UTC: the same instant.
    (``datetime.max`` / ``min``, the infinities, are UTC already.)"""
    return value.astimezone(UTC)


def float4_of_text(value: float) -> float:
    """psycopg reads float4 text ("0.1", the shortest text float4out prints) as
    the double nearest to it; pgany as the float4 the server holds
    (0.10000000149011612), in binary and in text format alike."""
    return struct.unpack(">f", struct.pack(">f", value))[0]  # type: ignore[no-any-return]


_NUMBER = re.compile(r"[^\s,()\[\]{}<>]+")


def geometry_from_text(value: str) -> tuple[float, ...]:
    """psycopg has no geometric types: it returns PostgreSQL's text. Compared as
    its numbers, in the order PostgreSQL prints them."""
    return tuple(map(float, _NUMBER.findall(value)))


def path_from_text(value: str) -> tuple[Any, ...]:
    """A path's text (see :func:`geometry_from_text`), and whether it is closed:
    path_out prints an open path as ``[...]``, a closed one as ``(...)``."""
    return (not value.startswith("["), *geometry_from_text(value))


def geometry_numbers(value: Any) -> tuple[Any, ...]:
    """pgany's geometric dataclasses as the numbers PostgreSQL prints, in its order."""

    def numbers(v: Any) -> list[float]:
        if isinstance(v, Point):
            return [v.x, v.y]
        if isinstance(v, Line):
            return [v.a, v.b, v.c]
        if isinstance(v, LineSegment):
            return numbers(v.p1) + numbers(v.p2)
        if isinstance(v, Box):
            return numbers(v.high) + numbers(v.low)
        if isinstance(v, (Path, Polygon)):
            return [n for p in v.points for n in numbers(p)]
        if isinstance(v, Circle):
            return [*numbers(v.center), v.radius]
        raise TypeError(v)

    if isinstance(value, Path):
        return (value.closed, *numbers(value))
    return tuple(numbers(value))


def inet_as_interface(value: Any) -> Any:
    """psycopg reads an inet without a netmask (a host) as an ``ip_address``;
    pgany reads every inet as an ``ip_interface`` (a host is a /32 or /128)."""
    return ipaddress.ip_interface(value)


def each(normalise: Normalise) -> Normalise:
    """*normalise* applied to every element of a (nested) array; NULLs stay None."""

    def apply(value: Any) -> Any:
        if isinstance(value, list):
            return [apply(v) for v in value]
        return None if value is None else normalise(value)

    return apply


def ranges_in_utc(value: Range) -> Range:
    """A tstzrange's bounds, in UTC (see :func:`in_utc`)."""
    if value.empty:
        return value
    return Range(
        None if value.lower is None else in_utc(value.lower),
        None if value.upper is None else in_utc(value.upper),
        value.bounds,
    )


# -- the literals --------------------------------------------------------------------------------

#: (SQL expression, normalisation of pgany's value, normalisation of psycopg's value)
Literal = tuple[str, Normalise, Normalise]


def lit(sql: str, ours: Normalise = same_value, theirs: Normalise = same_value) -> Literal:
    return (sql, ours, theirs)


LITERALS: list[Literal] = [
    # numbers
    lit("'-32768'::int2"),
    lit("'2147483647'::int4"),
    lit("'-9223372036854775808'::int8"),
    lit("'4294967295'::oid"),
    lit("'1.5'::float4"),
    lit("'0.1'::float4", theirs=float4_of_text),
    lit("'-3.4028235e38'::float4", theirs=float4_of_text),
    lit("'NaN'::float4"),
    lit("'-Infinity'::float4"),
    lit("'0.1'::float8"),
    lit("'1e-320'::float8"),
    lit("'-0'::float8"),
    lit("'NaN'::float8"),
    lit("'Infinity'::float8"),
    lit("'1.50'::numeric"),
    lit("'-0.000001'::numeric"),
    lit("'123456789012345678901234567890.123456789'::numeric"),
    lit("'1e-20'::numeric"),
    lit("'1e100'::numeric"),
    lit("'0.00'::numeric"),
    lit("'NaN'::numeric"),
    lit("'Infinity'::numeric"),
    lit("'-Infinity'::numeric"),
    lit("12.5::numeric(10, 4)"),
    lit("true"),
    lit("'f'::bool"),
    # text
    lit("'héllo wörld 😀 \"q\" \\ ,'::text"),
    lit("''::text"),
    lit("'ab'::varchar(5)"),
    lit("'ab'::char(4)"),
    lit("'pg_class'::name"),
    lit("'x'::\"char\""),
    lit("'\\x00ff10'::bytea"),
    lit("''::bytea"),
    # json
    lit("""'{"a": [1, 2.5, null, true], "b": "é", "c": {}}'::json"""),
    lit("""'{"b": 1, "a": [1, {"x": "y"}], "a": 2}'::jsonb"""),
    lit("""'"s"'::jsonb"""),
    lit("'1.0'::jsonb"),
    lit("'12345678901234567890'::jsonb"),
    # uuid
    lit("'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid"),
    # dates and times
    lit("'2020-02-29'::date"),
    lit("'1969-12-31'::date"),
    lit("'0001-01-01'::date"),
    lit("'9999-12-31'::date"),
    lit("'infinity'::date"),
    lit("'-infinity'::date"),
    lit("'23:59:59.999999'::time"),
    lit("'00:00'::time"),
    lit("'12:34:56.789+05:30'::timetz"),
    lit("'01:02:03-08'::timetz"),
    lit("'1969-12-31 23:59:59.999999'::timestamp"),
    lit("'1899-01-01 12:00:00.000001'::timestamp"),
    lit("'2000-02-29 00:00:00'::timestamp"),
    lit("'infinity'::timestamp"),
    lit("'-infinity'::timestamp"),
    lit("'1969-12-31 23:59:59.999999+00'::timestamptz", theirs=in_utc),
    lit("'1850-06-01 12:00:00.123456+00'::timestamptz", theirs=in_utc),
    lit("'2024-03-10 07:30:00+00'::timestamptz", theirs=in_utc),
    lit("'2024-11-03 05:59:59.5+00'::timestamptz", theirs=in_utc),
    lit("'infinity'::timestamptz"),
    lit("'-infinity'::timestamptz"),
    lit("'1 year 2 mons 3 days 04:05:06.789'::interval", ours=interval_as_timedelta),
    lit("'-1 mons +2 days -00:00:01'::interval", ours=interval_as_timedelta),
    lit("'-13 mons'::interval", ours=interval_as_timedelta),
    lit("'0'::interval", ours=interval_as_timedelta),
    lit("'100000 hours'::interval", ours=interval_as_timedelta),
    lit("'-3 days -0.000001 seconds'::interval", ours=interval_as_timedelta),
    # network
    lit("'192.168.0.1/24'::inet"),
    lit("'10.1.2.3'::inet", theirs=inet_as_interface),
    lit("'::1'::inet", theirs=inet_as_interface),
    lit("'::ffff:1.2.3.4/120'::inet"),
    lit("'10.0.0.0/8'::cidr"),
    lit("'2001:db8::/32'::cidr"),
    lit("'08-00-2B-01-02-03'::macaddr"),
    lit("'08:00:2b:01:02:03:04:05'::macaddr8"),
    # arrays
    lit("'{1,2,NULL}'::int4[]"),
    lit("'{{1,2},{3,4}}'::int8[]"),
    lit("'{{{1}},{{2}}}'::int2[]"),
    lit("'[0:1]={5,6}'::int4[]"),
    lit("'{}'::text[]"),
    lit(r"""'{"a,b","c\"d","NULL",NULL,"",x,"back\\slash"," sp ","{}"}'::text[]"""),
    lit("""'{{"2020-01-01",NULL},{infinity,"1999-12-31"}}'::date[]"""),
    lit("'{1.5,NaN,-Infinity,0.00}'::numeric[]"),
    lit("'{t,f,NULL}'::bool[]"),
    lit("""'{"\\\\x00ff",NULL}'::bytea[]"""),
    lit("ARRAY['1 day'::interval, NULL, '-1 mons']", ours=each(interval_as_timedelta)),
    lit("ARRAY['2020-01-01 00:00+00'::timestamptz, NULL]", theirs=each(in_utc)),
    lit("ARRAY['192.168.0.1/24'::inet, '::1']", theirs=each(inet_as_interface)),
    lit("""'{"{\\"a\\": 1}",null}'::jsonb[]"""),
    lit(
        "ARRAY['(1,2)'::point, NULL]", ours=each(geometry_numbers), theirs=each(geometry_from_text)
    ),
    # ranges and multiranges
    lit("'[1,5)'::int4range", theirs=range_from_psycopg),
    lit("'(1,5]'::int4range", theirs=range_from_psycopg),
    lit("'empty'::int4range", theirs=range_from_psycopg),
    lit("'(,)'::int8range", theirs=range_from_psycopg),
    lit("'[1.5,2.5]'::numrange", theirs=range_from_psycopg),
    lit("'(,0)'::numrange", theirs=range_from_psycopg),
    lit("'[2020-01-01,infinity)'::daterange", theirs=range_from_psycopg),
    lit("""'["2020-01-01 00:00","2020-01-02 00:00")'::tsrange""", theirs=range_from_psycopg),
    lit(
        """'["2020-01-01 00:00+00",)'::tstzrange""",
        theirs=lambda r: ranges_in_utc(range_from_psycopg(r)),
    ),
    lit("ARRAY['[1,3)'::int4range, 'empty']", theirs=each(range_from_psycopg)),
    lit("'{[1,3),[5,7)}'::int4multirange", theirs=multirange_from_psycopg),
    lit("'{}'::datemultirange", theirs=multirange_from_psycopg),
    # money, bits and the other str types
    lit("'12.34'::money"),
    lit("'-1234567.89'::money"),
    lit("B'10110'::bit(5)"),
    lit("'1010'::varbit"),
    lit("'16/B374D848'::pg_lsn"),
    lit("'a fat cat'::tsvector"),
    lit("'fat & !rat'::tsquery"),
    # geometry
    lit("'(1.5,-2)'::point", geometry_numbers, geometry_from_text),
    lit("'(1e+300,-0.1)'::point", geometry_numbers, geometry_from_text),
    lit("'{1,-1,0.5}'::line", geometry_numbers, geometry_from_text),
    lit("'[(0,0),(1,1.5)]'::lseg", geometry_numbers, geometry_from_text),
    lit("'(0,0),(2,3)'::box", geometry_numbers, geometry_from_text),
    lit("'[(0,0),(1,1),(2,0)]'::path", geometry_numbers, path_from_text),
    lit("'((0,0),(1,1))'::path", geometry_numbers, path_from_text),
    lit("'((0,0),(1,1),(1,0))'::polygon", geometry_numbers, geometry_from_text),
    lit("'<(1,2),3.5>'::circle", geometry_numbers, geometry_from_text),
]

MULTIRANGE = re.compile(r"multirange")


def same(ours: Any, theirs: Any) -> bool:
    """Equal values of the same Python types (NaN equal to NaN, the sign of zero and
    a Decimal's exponent count, a time's offset too)."""
    if isinstance(theirs, float):
        if type(ours) is not float:
            return False
        if math.isnan(theirs):
            return math.isnan(ours)
        return ours == theirs and math.copysign(1, ours) == math.copysign(1, theirs)
    if isinstance(theirs, Decimal):
        if type(ours) is not Decimal:
            return False
        if theirs.is_nan():
            return ours.is_nan()
        return ours == theirs and ours.as_tuple() == theirs.as_tuple()
    if isinstance(theirs, time):
        return type(ours) is time and ours == theirs and ours.utcoffset() == theirs.utcoffset()
    if isinstance(theirs, datetime) and theirs.tzinfo is not None:
        return type(ours) is datetime and ours == theirs and ours.utcoffset() == timedelta(0)
    if isinstance(theirs, (list, tuple)):
        return (
            type(ours) is type(theirs)
            and len(ours) == len(theirs)
            and all(same(o, t) for o, t in zip(ours, theirs, strict=True))
        )
    if isinstance(theirs, dict):
        return (
            type(ours) is dict
            and ours.keys() == theirs.keys()
            and all(same(ours[k], theirs[k]) for k in theirs)
        )
    if isinstance(theirs, Range):
        return (
            type(ours) is Range
            and ours.empty == theirs.empty
            and ours.bounds == theirs.bounds
            and same(ours.lower, theirs.lower)
            and same(ours.upper, theirs.upper)
        )
    if theirs is None:
        return ours is None
    return type(ours) is type(theirs) and bool(ours == theirs)


# -- psycopg's side ----------------------------------------------------------------------------


class InfDateLoader(DateLoader):
    """psycopg's recipe for infinite dates: ``date.max`` / ``date.min``."""

    def load(self, data: Any) -> date:
        if data == b"infinity":
            return date.max
        if data == b"-infinity":
            return date.min
        return super().load(data)  # type: ignore[no-any-return]


class InfTimestampLoader(TimestampLoader):
    def load(self, data: Any) -> datetime:
        if data == b"infinity":
            return datetime.max
        if data == b"-infinity":
            return datetime.min
        return super().load(data)  # type: ignore[no-any-return]


class InfTimestamptzLoader(TimestamptzLoader):
    def load(self, data: Any) -> datetime:
        if data == b"infinity":
            return datetime.max.replace(tzinfo=UTC)
        if data == b"-infinity":
            return datetime.min.replace(tzinfo=UTC)
        return super().load(data)  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def psycopg_values(pg_dsn: str) -> dict[str, Any]:
    """What psycopg makes of every literal (an exception instance if it fails)."""
    values: dict[str, Any] = {}
    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        conn.execute(f"SET TimeZone = '{PSYCOPG_TIMEZONE}'")
        conn.adapters.register_loader("date", InfDateLoader)
        conn.adapters.register_loader("timestamp", InfTimestampLoader)
        conn.adapters.register_loader("timestamptz", InfTimestamptzLoader)
        for sql, _, _ in LITERALS:
            if MULTIRANGE.search(sql) and conn.info.server_version < 140000:
                continue
            values[sql] = conn.execute(f"SELECT {sql}").fetchone()[0]  # type: ignore[index]
    return values


def force_text(client: pgany.Client) -> None:
    """Switch off every binary codec of *client*, so that results are read as text
    (as tests/types/test_types_server.py does for one type)."""
    registry = client._session.registry
    for codec in list(registry):
        if codec.format is Format.BINARY:
            registry.register(Codec(codec.oid, codec.name, Format.BINARY, None, None))


# -- the test ------------------------------------------------------------------------------------


@pytest.mark.anyio
@pytest.mark.parametrize("fmt", ["binary", "text"])
async def test_pgany_decodes_like_psycopg(
    pg_dsn: str, psycopg_values: dict[str, Any], fmt: str
) -> None:
    failures = []
    async with pgany.connect(pg_dsn) as client:
        if fmt == "text":
            force_text(client)
        for sql, ours_to_common, theirs_to_common in LITERALS:
            if sql not in psycopg_values:
                continue  # a multirange before PostgreSQL 14
            ours = ours_to_common(await client.query_value(f"SELECT {sql}"))
            theirs = theirs_to_common(psycopg_values[sql])
            if not same(ours, theirs):
                failures.append(f"{sql}: pgany {ours!r}, psycopg {theirs!r}")
    assert not failures, "\n".join(failures)


def test_literal_table_covers_every_family() -> None:
    """The table spans the families the issue names (about 60 literals or more)."""
    assert len(LITERALS) >= 60
    text = " ".join(sql for sql, _, _ in LITERALS)
    for needle in (
        "int2", "float4", "NaN", "numeric", "text", "bytea", "json", "jsonb", "uuid",
        "date", "time", "timetz", "timestamptz", "interval", "inet", "cidr", "int4[]",
        "range", "multirange", "bool", "money", "bit", "point", "polygon", "circle",
    ):  # fmt: skip
        assert needle in text, needle
