"""Every type pgany has a codec for, round-tripped through a real server by hypothesis.

For each type, hypothesis draws values (extremes, NaN and infinities,
unicode, leap days, time zone offsets, empty and nested arrays, NULLs...),
sends each as its own parameter (``SELECT $1::type, $2::type, ...``, ten
values per query) and checks that what comes back equals the value, modulo
the documented normalisations, computed here by each case's ``expected``
function: discrete ranges are canonicalised and multiranges merged as
PostgreSQL does, a numeric zero loses its sign, a timestamptz comes back
in UTC, an interval sent as a timedelta comes back as a pgany.Interval, MAC
addresses come back in one spelling (a 6-byte macaddr8 with ff:fe
inserted), an array without elements is ``[]``, parameters given in
another accepted Python type (int or float for numeric, str for uuid,
bytearray for bytea, a tuple for point, a dict for a composite...) come
back in the type's own.

Each value travels twice: on a connection that uses pgany's binary codecs
and on one whose binary codecs are all switched off, so that parameters are
sent and results read in text format (for values holding timestamptz, that
connection's ``TimeZone`` changes between examples, so that the text
carries offsets east and west of UTC, some of them with seconds).

The tests are synchronous: the two connections live in an anyio blocking
portal (one per server and backend, for the whole module), and hypothesis
runs in the test thread, so that it can shrink a failing example. Each test
draws ``PGANY_TYPE_EXAMPLES`` values per type (default 200, the CI budget).
"""

from __future__ import annotations

import ipaddress
import math
import os
import string
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, fields, is_dataclass
from datetime import date, datetime, time, timedelta, timezone, tzinfo
from decimal import Decimal
from typing import Any

import pytest
from anyio.from_thread import BlockingPortal, start_blocking_portal
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import pgany
from pgany import Interval, Range
from pgany.types import Box, Circle, Codec, Format, Line, LineSegment, Path, Point, Polygon

#: How many values of each type each test sends (in each format).
EXAMPLES = int(os.environ.get("PGANY_TYPE_EXAMPLES", "200"))
#: How many values travel in one query (each as its own parameter).
BATCH = 10

UTC = timezone.utc
EPOCH_UTC = datetime(2000, 1, 1, tzinfo=UTC)

INT2 = (-(2**15), 2**15 - 1)
INT4 = (-(2**31), 2**31 - 1)
INT8 = (-(2**63), 2**63 - 1)
UINT4 = (0, 2**32 - 1)

#: The user-defined types of the tests, made in each connection's pg_temp.
USER_TYPES_SQL = r"""
CREATE TYPE pg_temp.rt_mood AS ENUM
    ('sad', 'ok', 'very happy', 'a,b', 'q"uote', 'back\slash', 'NULL', 'é', '{x}', '(p)', ' lead');
CREATE DOMAIN pg_temp.rt_posint AS int4 CHECK (VALUE > 0);
CREATE TYPE pg_temp.rt_comp AS (
    i int4, t text, n numeric, d date, a int4[], ts timestamptz, b bytea, f float8,
    m pg_temp.rt_mood);
CREATE TYPE pg_temp.rt_outer AS (
    c pg_temp.rt_comp, cs pg_temp.rt_comp[], r int4range, p pg_temp.rt_posint);
"""
MOOD_LABELS = [
    *("sad", "ok", "very happy", "a,b", 'q"uote', "back\\slash", "NULL", "é", "{x}", "(p)"),
    " lead",
]


# -- the connections ---------------------------------------------------------------------------


@dataclass
class Session:
    """One server, one backend: a binary and a text connection in a blocking portal."""

    portal: BlockingPortal
    binary: pgany.Client
    text: pgany.Client
    server_version: int
    features: set[str]

    def clients(self, formats: tuple[str, ...]) -> list[tuple[str, pgany.Client]]:
        return [(f, self.binary if f == "binary" else self.text) for f in formats]


def force_text(client: pgany.Client) -> None:
    """Switch off every binary codec of *client*: parameters and results travel as text.

    Like ``text_only`` in tests/types/test_types_server.py: a binary codec
    that can do nothing makes the registry fall back to the type's text codec.
    """
    registry = client._session.registry
    for codec in list(registry):
        if codec.format is Format.BINARY:
            registry.register(Codec(codec.oid, codec.name, Format.BINARY, None, None))


async def prepare_connection(client: pgany.Client, text: bool) -> set[str]:
    """Create the user-defined types, let *client* learn them, and say what the server has."""
    await client.batch_execute(USER_TYPES_SQL)
    # Learning the types now means force_text() below covers them too.
    await client.query(
        "SELECT NULL::pg_temp.rt_outer, NULL::pg_temp.rt_outer[], NULL::pg_temp.rt_comp[],"
        " NULL::pg_temp.rt_mood[], NULL::pg_temp.rt_posint, NULL::pg_temp.rt_posint[]"
    )
    features = set()
    try:
        await client.query_value("SELECT '<a/>'::xml")
        features.add("xml")
    except pgany.errors.FeatureNotSupported:
        pass
    if await client.query_value(
        "SELECT count(*) FROM pg_catalog.pg_available_extensions WHERE name = 'hstore'"
    ):
        await client.batch_execute("CREATE EXTENSION IF NOT EXISTS hstore")
        await client.query("SELECT NULL::hstore, NULL::hstore[]")
        features.add("hstore")
    if text:
        force_text(client)
    return features


@pytest.fixture(scope="module", params=["asyncio", "trio"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="module")
def session(pg_dsn: str, backend: str) -> Iterator[Session]:
    with (
        start_blocking_portal(backend) as portal,
        portal.wrap_async_context_manager(pgany.connect(pg_dsn)) as binary,
        portal.wrap_async_context_manager(pgany.connect(pg_dsn)) as text,
    ):
        features = portal.call(prepare_connection, binary, False)
        portal.call(prepare_connection, text, True)
        yield Session(portal, binary, text, binary.server_version, features)


# -- comparing ---------------------------------------------------------------------------------


def same(got: Any, want: Any) -> bool:
    """Whether the decoded *got* is *want*: same Python type and value.

    Stricter than ``==``: ``True`` is not ``1``, NaN is NaN, ``-0.0`` is not
    ``0.0``, a numeric keeps its scale, a timetz its offset, a timestamptz
    comes back in UTC (and is compared as an instant).
    """
    if want is None:
        return got is None
    if isinstance(want, float):
        if type(got) is not float:
            return False
        if math.isnan(want):
            return math.isnan(got)
        return got == want and math.copysign(1, got) == math.copysign(1, want)
    if isinstance(want, Decimal):
        if type(got) is not Decimal:
            return False
        if want.is_nan():
            return got.is_nan()
        if got != want:
            return False
        # numeric keeps the digits after the point (its dscale), not an exponent.
        exponent = want.as_tuple().exponent
        return not want.is_finite() or got.as_tuple().exponent == min(int(exponent), 0)
    if isinstance(want, datetime):
        if type(got) is not datetime:
            return False
        if want.tzinfo is None:
            return got.tzinfo is None and got == want
        # As instants (== between zones says False near a fold), and in UTC.
        return got.utcoffset() == timedelta(0) and got - EPOCH_UTC == want - EPOCH_UTC
    if isinstance(want, time):
        return type(got) is time and got == want and got.utcoffset() == want.utcoffset()
    if isinstance(want, list):
        return (
            type(got) is list
            and len(got) == len(want)
            and all(same(g, w) for g, w in zip(got, want, strict=True))
        )
    if isinstance(want, tuple):  # composites: a Row equals the tuple of its values
        return (
            isinstance(got, tuple)
            and len(got) == len(want)
            and all(same(g, w) for g, w in zip(got, want, strict=True))
        )
    if isinstance(want, dict):
        return (
            type(got) is dict
            and got.keys() == want.keys()
            and all(same(got[k], want[k]) for k in want)
        )
    if is_dataclass(want) and not isinstance(want, type):
        return type(got) is type(want) and all(
            same(getattr(got, f.name), getattr(want, f.name)) for f in fields(want)
        )
    return type(got) is type(want) and bool(got == want)


# -- the cases ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    """One type: how to draw its values, what comes back, and when it can run."""

    #: The test id.
    name: str
    #: The type in SQL.
    sql_type: str
    #: Values to send (a function of the session's features, or a strategy).
    values: Any
    #: The value that must come back for a value sent.
    expected: Callable[[Any], Any] = lambda value: value
    #: Whether a value can travel in text format too (see interval).
    text_ok: Callable[[Any], bool] = lambda value: True
    #: The SQL expression of one parameter, for the value sent (default ``$n::sql_type``).
    placeholder: Callable[[int, Any], str] | None = None
    #: Whether the values hold timestamptz (the text connection then tries TEXT_ZONES).
    zoned: bool = False
    formats: tuple[str, ...] = ("binary", "text")
    min_version: int = 0
    feature: str | None = None

    def strategy(self, session: Session) -> st.SearchStrategy[Any]:
        if callable(self.values) and not isinstance(self.values, st.SearchStrategy):
            return self.values(session)  # type: ignore[no-any-return]
        return self.values  # type: ignore[no-any-return]

    def sql(self, values: list[Any]) -> str:
        if self.placeholder is None:
            return "SELECT " + ", ".join(f"${i + 1}::{self.sql_type}" for i in range(len(values)))
        return "SELECT " + ", ".join(self.placeholder(i + 1, v) for i, v in enumerate(values))


def ints(bounds: tuple[int, int]) -> st.SearchStrategy[int]:
    low, high = bounds
    return st.sampled_from([low, high, low + 1, high - 1, 0, -1, 1]).filter(
        lambda v: low <= v <= high
    ) | st.integers(low, high)


# Text: any Unicode PostgreSQL can store (no NUL, no lone surrogates).
CHARS = st.characters(codec="utf-8", exclude_characters="\0")
SPECIAL_STRINGS = st.sampled_from(
    ["", " ", "NULL", "null", '"', "\\", "{", "}", ",", "(", ")", "[", "]", "a b", "\t\n\r", "é€😀"]
)
TEXT = SPECIAL_STRINGS | st.text(CHARS, max_size=40)


def truncate_utf8(text: str, size: int) -> str:
    """*text* cut to at most *size* UTF-8 bytes, on a character boundary (as name does)."""
    return text.encode("utf-8")[:size].decode("utf-8", "ignore")


# "char": one byte; charout prints a high byte as \ooo and the zero byte as "".
CHAR = (
    st.sampled_from(["", "\\200", "\\377", "\\"])
    | st.integers(1, 127).map(chr)
    | st.integers(128, 255).map(lambda b: f"\\{b:03o}")
)


def float4_values() -> st.SearchStrategy[float]:
    return st.floats(width=32) | st.sampled_from(
        [0.0, -0.0, math.inf, -math.inf, math.nan, 1.401298464324817e-45, 3.4028234663852886e38]
    )


FLOAT8 = st.floats() | st.sampled_from(
    [
        0.0,
        -0.0,
        math.inf,
        -math.inf,
        math.nan,
        5e-324,
        2.2250738585072014e-308,
        1.7976931348623157e308,
    ]
)
FINITE = st.floats(allow_nan=False, allow_infinity=False)

# numeric: at most 131072 digits before the point and 16383 after it.
NUMERIC_DIGITS = st.integers(0, 10**40) | st.integers(0, 10**200)


@st.composite
def finite_decimals(draw: st.DrawFn, max_exponent: int = 131072) -> Decimal:
    coefficient = draw(NUMERIC_DIGITS)
    ndigits = len(str(coefficient))
    high = max_exponent - ndigits
    exponent = draw(st.integers(-30, 30) | st.integers(-16383, high) | st.sampled_from([-16383]))
    sign = draw(st.integers(0, 1))
    return Decimal((sign, tuple(int(c) for c in str(coefficient)), exponent))


NUMERIC = (
    finite_decimals()
    | st.sampled_from(
        [Decimal("NaN"), Decimal("Infinity"), Decimal("-Infinity"), Decimal("0.00"), Decimal("-0")]
    )
    # Parameters also take ints and floats.
    | st.integers(-(10**60), 10**60)
    | st.floats()
)


def numeric_expected(value: Any) -> Decimal:
    if isinstance(value, float):
        value = Decimal(repr(value))  # the shortest repr: 0.1 is 0.1
    elif isinstance(value, int):
        value = Decimal(value)
    # The sign of a zero is not kept.
    return abs(value) if value.is_zero() else value


# json: json keeps its text, so anything JSON can say comes back (floats too).
JSON_INT = st.integers(-(10**100), 10**100)  # str(int) has a limit of 4300 digits
JSON_TEXT = st.text(st.characters(codec="utf-8"), max_size=20) | SPECIAL_STRINGS
JSON = st.recursive(
    st.none() | st.booleans() | JSON_INT | FINITE | JSON_TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(JSON_TEXT, inner, max_size=4),
    max_leaves=12,
)
# jsonb: numbers become numeric (1.0 reads back as 1.0 but 1e300 as an int), and
# jsonb refuses \u0000: ints, NUL-free strings, bools, null, arrays, objects.
JSONB_TEXT = TEXT
JSONB = st.recursive(
    st.none() | st.booleans() | JSON_INT | JSONB_TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(JSONB_TEXT, inner, max_size=4),
    max_leaves=12,
)

# bytea parameters are bytes, bytearray or memoryview.
BYTEA = (st.binary(max_size=64) | st.sampled_from([b"", b"\\", b"\x00"])).flatmap(
    lambda b: st.sampled_from([b, bytearray(b), memoryview(b)])
)


def uuid_expected(value: Any) -> uuid.UUID:
    return uuid.UUID(value) if isinstance(value, str) else value


# -- dates and times --

LEAP_DAYS = st.sampled_from(
    [date(2000, 2, 29), date(1904, 2, 29), date(2024, 2, 29), date(4, 2, 29)]
)
DATES = (
    st.dates()
    | LEAP_DAYS
    | st.sampled_from([date.min, date.max, date(1970, 1, 1), date(1999, 12, 31)])
)


def offset_zone(seconds: int) -> tzinfo:
    return timezone(timedelta(seconds=seconds))


#: UTC offsets PostgreSQL accepts in input: less than 16 hours.
OFFSETS = st.sampled_from([0, 3600, -3600, 19800, -12600, 45 * 60, 15 * 3600 + 59 * 60 + 59]) | (
    st.integers(-(16 * 3600 - 1), 16 * 3600 - 1)
)
FIXED_ZONES = OFFSETS.map(offset_zone)


def named_zones() -> list[tzinfo]:
    try:
        from zoneinfo import ZoneInfo

        return [
            ZoneInfo(name)
            for name in (
                "Europe/Amsterdam",
                "America/St_Johns",
                "Asia/Kathmandu",
                "Pacific/Chatham",
            )
        ]
    except Exception:  # no time zone database here
        return []


ZONES = FIXED_ZONES | st.sampled_from([UTC, *named_zones()])
TIMES = st.times() | st.sampled_from([time(0), time(23, 59, 59, 999999), time(12, 0, 0, 1)])
TIMETZ = st.builds(
    lambda t, tz: t.replace(tzinfo=tz),
    TIMES,
    FIXED_ZONES,
)
TIMESTAMPS = st.datetimes() | st.sampled_from(
    [
        datetime.min,
        datetime.max,
        datetime(1, 1, 1, 0, 0, 0, 1),
        datetime(9999, 12, 31, 23, 59, 59, 999998),
        datetime(1969, 12, 31, 23, 59, 59, 999999),
        datetime(1999, 12, 31, 23, 59, 59, 999999),
        datetime(2000, 2, 29, 12),
    ]
)
# Aware datetimes of every instant Python holds; datetime.max / min (in UTC)
# stand for the infinities, so no other wall clock is max or min.
INSTANTS = (
    datetime.min.replace(tzinfo=UTC) - EPOCH_UTC,
    datetime.max.replace(tzinfo=UTC) - EPOCH_UTC,
)
TIMESTAMPTZ = st.datetimes(timezones=ZONES).filter(
    lambda v: (
        INSTANTS[0] <= v - EPOCH_UTC <= INSTANTS[1]
        and v.replace(tzinfo=None) not in (datetime.min, datetime.max)
    )
) | st.sampled_from(
    [
        datetime.max.replace(tzinfo=UTC),
        datetime.min.replace(tzinfo=UTC),
        datetime(1, 1, 1, 0, 0, 0, 1, tzinfo=UTC),
        datetime(9999, 12, 31, 23, 59, 59, 999998, tzinfo=UTC),
        datetime(1969, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
        datetime(1899, 6, 1, 12, 0, 0, 7, tzinfo=offset_zone(-(15 * 3600 + 59 * 60 + 59))),
    ]
)
#: Session time zones of the text connection for values with timestamptz in
#: them (drawn per example): the text has offsets with seconds (LMT before
#: about 1900), and the wall clock of instants near the ends of Python's range
#: is in year 10000 (east of UTC) or 1 BC (west).
TEXT_ZONES = ("Europe/Amsterdam", "America/St_Johns", "Asia/Kathmandu", "UTC")


def interval_values(session: Session) -> st.SearchStrategy[Any]:
    intervals = st.builds(Interval, ints(INT4), ints(INT4), ints(INT8))
    infinities = [Interval(INT4[1], INT4[1], INT8[1]), Interval(INT4[0], INT4[0], INT8[0])]
    if session.server_version >= 170000:
        intervals = intervals | st.sampled_from(infinities)
    else:  # before PostgreSQL 17, those values are finite and print as numbers
        intervals = intervals.filter(lambda v: v not in infinities)
    return (
        intervals
        | st.builds(
            Interval,
            st.integers(-1200, 1200),
            st.integers(-400, 400),
            st.integers(-(10**12), 10**12),
        )
        | st.timedeltas()
    )


def interval_text_ok(value: Any) -> bool:
    # interval_in cannot read what interval_out prints for -2**63 microseconds
    # ("-2562047788:00:54.775808": the magnitude overflows int64 before the
    # sign is applied): a PostgreSQL limitation, so that value is checked in
    # binary format only.
    if isinstance(value, list):
        return all(interval_text_ok(v) for v in value)
    return not (
        isinstance(value, Interval)
        and value.microseconds == INT8[0]
        and value != Interval(INT4[0], INT4[0], INT8[0])
    )


def interval_expected(value: Any) -> Interval:
    return Interval.from_timedelta(value) if isinstance(value, timedelta) else value


# -- network --


@st.composite
def inet_values(draw: st.DrawFn) -> Any:
    v6 = draw(st.booleans())
    bits = 128 if v6 else 32
    top = 2**bits - 1
    address = draw(st.integers(0, top) | st.sampled_from([0, top, 0xFFFF << 32 & top]))
    prefix = draw(st.integers(0, bits))
    iface = (ipaddress.IPv6Interface if v6 else ipaddress.IPv4Interface)((address, prefix))
    form = draw(st.sampled_from(["interface", "str", "address"]))
    if form == "str":
        return str(iface)
    if form == "address":
        return iface.ip
    return iface


def inet_expected(value: Any) -> Any:
    return ipaddress.ip_interface(value)


@st.composite
def cidr_values(draw: st.DrawFn) -> Any:
    v6 = draw(st.booleans())
    bits = 128 if v6 else 32
    prefix = draw(st.integers(0, bits))
    address = draw(st.integers(0, 2**bits - 1)) >> (bits - prefix) << (bits - prefix)
    network = (ipaddress.IPv6Network if v6 else ipaddress.IPv4Network)((address, prefix))
    return str(network) if draw(st.booleans()) else network


def cidr_expected(value: Any) -> Any:
    return ipaddress.ip_network(value)


@st.composite
def mac_values(draw: st.DrawFn, size: int) -> Any:
    raw = draw(st.binary(min_size=size, max_size=size))
    if size == 8 and draw(st.integers(0, 4)) == 0:
        raw = raw[:6]  # a 6-byte address becomes EUI-64 with ff:fe in the middle
    digits = raw.hex()
    forms = [
        raw,
        raw.hex(":"),
        raw.hex("-").upper(),
        digits,
        ".".join(digits[i : i + 4] for i in range(0, len(digits), 4)),
    ]
    if len(raw) == 6:
        forms += [digits[:6] + ":" + digits[6:], digits[:6] + "-" + digits[6:]]
    return draw(st.sampled_from(forms))


def mac_expected(size: int) -> Callable[[Any], str]:
    def expected(value: Any) -> str:
        if isinstance(value, str):
            raw = bytes.fromhex(value.replace(":", "").replace("-", "").replace(".", ""))
        else:
            raw = value
        if size == 8 and len(raw) == 6:
            raw = raw[:3] + b"\xff\xfe" + raw[3:]
        return raw.hex(":")

    return expected


# -- bits, pg_lsn, money, text search, xml, hstore --

BITS = st.text("01", max_size=80)


def bit_placeholder(n: int, value: str) -> str:
    return f"${n}::bit({len(value)})"


@st.composite
def lsn_values(draw: st.DrawFn) -> Any:
    number = draw(st.integers(0, 2**64 - 1) | st.sampled_from([0, 2**64 - 1, 2**32, 2**32 - 1]))
    return f"{number >> 32:X}/{number & 0xFFFFFFFF:X}" if draw(st.booleans()) else number


def lsn_expected(value: Any) -> str:
    if isinstance(value, str):
        high, low = value.split("/")
        value = int(high, 16) << 32 | int(low, 16)
    return f"{value >> 32:X}/{value & 0xFFFFFFFF:X}"


MONEY_CENTS = st.integers(-(2**63), 2**63 - 1)
MONEY = MONEY_CENTS.map(lambda cents: Decimal(cents).scaleb(-2)) | st.integers(
    -(2**63) // 100 + 1, (2**63 - 1) // 100
)


def money_expected(value: Any) -> str:
    """What cash_out prints with lc_monetary = C: ``-$1,234.56``."""
    cents = int(Decimal(value).scaleb(2))
    sign = "-" if cents < 0 else ""
    units, cents = divmod(abs(cents), 100)
    return f"{sign}${units:,}.{cents:02d}"


WORDS = st.lists(st.text(string.ascii_lowercase, min_size=1, max_size=6), max_size=6)


def tsvector_expected(words: list[str]) -> str:
    return " ".join(f"'{w}'" for w in sorted(set(words)))


def tsquery_value(words: list[str]) -> str:
    return " & ".join(words)


def tsquery_expected(query: str) -> str:
    return " & ".join(f"'{w}'" for w in query.split(" & "))


# XML 1.0 characters, escaped as text content.
XML_TEXT = st.text(
    st.characters(codec="utf-8", exclude_categories=["Cs", "Cc"]) | st.sampled_from("\t\n"),
    max_size=30,
)
XML = XML_TEXT.map(
    lambda t: (
        '<a x="1">' + t.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;") + "</a>"
    )
)
HSTORE = st.dictionaries(TEXT, st.none() | TEXT, max_size=6)

# -- geometry --

POINTS = st.builds(Point, FINITE, FINITE)


def point_expected(value: Any) -> Point:
    return Point(*value) if isinstance(value, tuple) else value


# line_recv refuses A and B both zero (within EPSILON, 1e-6).
LINES = st.builds(Line, FINITE, FINITE, FINITE).filter(
    lambda line: abs(line.a) > 1e-6 or abs(line.b) > 1e-6
)
GEOMETRY = {
    # A point parameter may be an (x, y) tuple (in arrays too: tuples are elements there).
    "point": POINTS | st.tuples(FINITE, FINITE),
    "line": LINES,
    "lseg": st.builds(LineSegment, POINTS, POINTS),
    "box": st.builds(Box, POINTS, POINTS),
    "path": st.builds(Path, st.lists(POINTS, min_size=1, max_size=8).map(tuple), st.booleans()),
    "polygon": st.builds(Polygon, st.lists(POINTS, min_size=1, max_size=8).map(tuple)),
    "circle": st.builds(Circle, POINTS, FINITE.map(abs)),
}

# -- ranges and multiranges --


def is_infinite_bound(value: Any) -> bool:
    return value in (date.max, date.min) if isinstance(value, date) else False


def canonical(r: Range, step: Any) -> Range:
    """*r* as PostgreSQL stores it: ``[)`` bounds for a discrete type (*step* not None)."""
    if r.empty:
        return r
    lower, upper, bounds = r.lower, r.upper, r.bounds
    if lower is not None and upper is not None and lower == upper and bounds != "[]":
        return Range(empty=True)
    if step is None:
        return r
    if lower is not None and bounds[0] == "(" and not is_infinite_bound(lower):
        lower, bounds = lower + step, "[" + bounds[1]
    if upper is not None and bounds[1] == "]" and not is_infinite_bound(upper):
        upper, bounds = upper + step, bounds[0] + ")"
    if lower is not None and upper is not None and lower == upper and bounds != "[]":
        return Range(empty=True)
    return Range(lower, upper, bounds)


def to_utc(value: Any) -> Any:
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(UTC)
    return value


def range_expected(step: Any) -> Callable[[Range], Range]:
    def expected(r: Range) -> Range:
        if not r.empty:
            r = Range(to_utc(r.lower), to_utc(r.upper), r.bounds)
        return canonical(r, step)

    return expected


def lower_key(r: Range) -> tuple[Any, ...]:
    return (0,) if r.lower is None else (1, r.lower, 0 if r.lower_inc else 1)


def upper_key(r: Range) -> tuple[Any, ...]:
    return (2,) if r.upper is None else (1, r.upper, 1 if r.upper_inc else 0)


def multirange_expected(step: Any) -> Callable[[list[Range]], list[Range]]:
    """A multirange as PostgreSQL stores it: canonical ranges, sorted, merged, no empties."""
    one = range_expected(step)

    def expected(ranges: list[Range]) -> list[Range]:
        items = sorted((r for r in map(one, ranges) if not r.empty), key=lower_key)
        merged: list[Range] = []
        for r in items:
            if merged and lower_key(r) <= upper_key(merged[-1]):
                last = merged[-1]
                top = r if upper_key(r) > upper_key(last) else last
                merged[-1] = Range(last.lower, top.upper, last.bounds[0] + top.bounds[1])
            else:
                merged.append(r)
        return merged

    return expected


BOUNDS = st.sampled_from(["[)", "(]", "[]", "()"])


def ranges_of(elements: st.SearchStrategy[Any], key: Callable[[Any], Any] = lambda v: v) -> Any:
    @st.composite
    def ranges(draw: st.DrawFn) -> Range:
        if draw(st.integers(0, 9)) == 0:
            return Range(empty=True)
        a = draw(st.none() | elements)
        b = draw(st.none() | elements)
        if a is not None and b is not None and key(a) > key(b):
            a, b = b, a
        return Range(a, b, draw(BOUNDS))

    return ranges()


def instant(value: datetime) -> timedelta:
    return value - EPOCH_UTC


RANGE_ELEMENTS: dict[str, tuple[st.SearchStrategy[Any], Any, Callable[[Any], Any]]] = {
    # name: (bounds, step of a discrete type, sort key)
    "int4": (st.integers(INT4[0], INT4[1] - 1) | st.integers(-5, 5), 1, lambda v: v),
    "int8": (st.integers(INT8[0], INT8[1] - 1) | st.integers(-5, 5), 1, lambda v: v),
    "num": (
        finite_decimals(1000)
        | st.sampled_from([Decimal("Infinity"), Decimal("-Infinity"), Decimal("1.50")]),
        None,
        lambda v: v,
    ),
    "date": (DATES, timedelta(days=1), lambda v: v),
    "ts": (TIMESTAMPS, None, lambda v: v),
    "tstz": (TIMESTAMPTZ, None, instant),
}

# -- arrays --


def nested(elements: st.SearchStrategy[Any], dims: list[int]) -> st.SearchStrategy[Any]:
    if len(dims) == 1:
        return st.lists(elements, min_size=dims[0], max_size=dims[0])
    return st.lists(nested(elements, dims[1:]), min_size=dims[0], max_size=dims[0])


def arrays_of(elements: st.SearchStrategy[Any], nulls: bool = True) -> st.SearchStrategy[Any]:
    """Rectangular nested lists of 1 to 3 dimensions (maybe empty), NULLs among the elements."""
    items = st.none() | elements if nulls else elements
    shapes = st.lists(st.integers(0, 4), min_size=1, max_size=3)
    return shapes.flatmap(lambda dims: nested(items, dims))


def same_value(value: Any) -> Any:
    return value


def array_expected(element: Callable[[Any], Any]) -> Callable[[list[Any]], list[Any]]:
    def count(value: Any) -> int:
        return sum(count(v) for v in value) if isinstance(value, list) else 1

    def each(value: Any) -> Any:
        if isinstance(value, list):
            return [each(v) for v in value]
        return None if value is None else element(value)

    def expected(value: list[Any]) -> list[Any]:
        # An array with no elements is the empty array, whatever its dimensions.
        return each(value) if count(value) else []

    return expected


# -- user-defined types --

COMP_FIELDS = ("i", "t", "n", "d", "a", "ts", "b", "f", "m")
COMP_TUPLES = st.tuples(
    st.none() | ints(INT4),
    st.none() | TEXT,
    st.none() | NUMERIC,
    st.none() | DATES,
    st.none() | st.lists(st.none() | ints(INT4), max_size=4),
    st.none() | TIMESTAMPTZ,
    st.none() | st.binary(max_size=16),
    st.none() | FLOAT8,
    st.none() | st.sampled_from(MOOD_LABELS),
)


def as_dict(names: tuple[str, ...]) -> Callable[[tuple[Any, ...]], dict[str, Any]]:
    """A composite parameter as a dict: by field name, a missing field is NULL."""
    return lambda value: {k: v for k, v in zip(names, value, strict=True) if v is not None}


COMP = COMP_TUPLES | COMP_TUPLES.map(as_dict(COMP_FIELDS))


def comp_expected(value: Any) -> tuple[Any, ...] | None:
    if value is None:
        return None
    if isinstance(value, dict):
        value = tuple(value.get(k) for k in COMP_FIELDS)
    i, t, n, d, a, ts, b, f, m = value
    return (i, t, None if n is None else numeric_expected(n), d, a, to_utc(ts), b, f, m)


OUTER_FIELDS = ("c", "cs", "r", "p")
OUTER_TUPLES = st.tuples(
    st.none() | COMP,
    st.none() | st.lists(st.none() | COMP, max_size=3),
    st.none() | ranges_of(RANGE_ELEMENTS["int4"][0]),
    st.none() | st.integers(1, INT4[1]),
)
OUTER = OUTER_TUPLES | OUTER_TUPLES.map(as_dict(OUTER_FIELDS))


def outer_expected(value: Any) -> tuple[Any, ...]:
    if isinstance(value, dict):
        value = tuple(value.get(k) for k in OUTER_FIELDS)
    c, cs, r, p = value
    return (
        comp_expected(c),
        None if cs is None else [comp_expected(x) for x in cs],
        None if r is None else range_expected(1)(r),
        p,
    )


# -- the table --


def scalar_cases() -> list[Case]:
    cases = [
        Case("bool", "bool", st.booleans()),
        Case("int2", "int2", ints(INT2)),
        Case("int4", "int4", ints(INT4)),
        Case("int8", "int8", ints(INT8)),
        Case("oid", "oid", ints(UINT4)),
        Case("xid", "xid", ints(UINT4)),
        Case("cid", "cid", ints(UINT4)),
        Case("float4", "float4", float4_values()),
        # float8 parameters also take ints.
        Case("float8", "float8", FLOAT8 | st.integers(-(2**53), 2**53), float),
        Case("numeric", "numeric", NUMERIC, numeric_expected),
        Case("text", "text", TEXT),
        Case("varchar", "varchar", TEXT),
        # bpchar without a length keeps the string as it is (trailing spaces too).
        Case("bpchar", "bpchar", TEXT),
        Case("name", "name", TEXT.map(lambda t: truncate_utf8(t, 63))),
        Case("char", '"char"', CHAR),
        Case("bytea", "bytea", BYTEA, bytes),
        Case("json", "json", JSON),
        Case("jsonb", "jsonb", JSONB),
        Case("uuid", "uuid", st.uuids() | st.uuids().map(str), uuid_expected),
        Case("date", "date", DATES),
        Case("time", "time", TIMES),
        Case("timetz", "timetz", TIMETZ),
        Case("timestamp", "timestamp", TIMESTAMPS),
        Case("timestamptz", "timestamptz", TIMESTAMPTZ, to_utc, zoned=True),
        Case("interval", "interval", interval_values, interval_expected, interval_text_ok),
        Case("inet", "inet", inet_values(), inet_expected),
        Case("cidr", "cidr", cidr_values(), cidr_expected),
        Case("macaddr", "macaddr", mac_values(6), mac_expected(6)),
        Case("macaddr8", "macaddr8", mac_values(8), mac_expected(8)),
        Case("bit", "bit", BITS.filter(bool), placeholder=bit_placeholder),
        Case("varbit", "varbit", BITS),
        Case("pg_lsn", "pg_lsn", lsn_values(), lsn_expected),
        Case("money", "money", MONEY, money_expected),
        Case("tsvector", "tsvector", WORDS.map(" ".join), lambda t: tsvector_expected(t.split())),
        Case("tsquery", "tsquery", WORDS.filter(bool).map(tsquery_value), tsquery_expected),
        Case("xml", "xml", XML, feature="xml"),
        # hstore has a binary codec only: in text format it would be a str.
        Case("hstore", "hstore", HSTORE, formats=("binary",), feature="hstore"),
    ]
    cases += [
        Case(name, name, values, point_expected if name == "point" else same_value)
        for name, values in GEOMETRY.items()
    ]
    for prefix, (elements, step, key) in RANGE_ELEMENTS.items():
        ranges = ranges_of(elements, key)
        zoned = prefix == "tstz"
        cases.append(
            Case(f"{prefix}range", f"{prefix}range", ranges, range_expected(step), zoned=zoned)
        )
        cases.append(
            Case(
                f"{prefix}multirange",
                f"{prefix}multirange",
                # A multirange parameter is a list or a tuple of ranges.
                st.lists(ranges, max_size=5) | st.lists(ranges, max_size=3).map(tuple),
                multirange_expected(step),
                zoned=zoned,
                min_version=140000,
            )
        )
    cases += [
        Case("enum", "pg_temp.rt_mood", st.sampled_from(MOOD_LABELS)),
        Case("domain", "pg_temp.rt_posint", st.integers(1, INT4[1])),
        Case("composite", "pg_temp.rt_comp", COMP, comp_expected, zoned=True),
        Case("nested_composite", "pg_temp.rt_outer", OUTER, outer_expected, zoned=True),
    ]
    return cases


def array_cases() -> list[Case]:
    by_name = {c.name: c for c in scalar_cases()}
    names = [
        "bool",
        "int2",
        "int4",
        "int8",
        "float4",
        "float8",
        "numeric",
        "text",
        "varchar",
        "char",
        "bytea",
        "uuid",
        "date",
        "time",
        "timetz",
        "timestamp",
        "timestamptz",
        "interval",
        "inet",
        "cidr",
        "macaddr",
        "varbit",
        "pg_lsn",
        "point",
        "box",
        "circle",
        "int4range",
        "tstzrange",
        "enum",
        "domain",
        "composite",
        "hstore",
    ]
    cases = []
    for name in names:
        case = by_name[name]
        cases.append(
            Case(
                f"{name}[]",
                f"{case.sql_type}[]",
                lambda session, case=case: arrays_of(case.strategy(session)),
                array_expected(case.expected),
                case.text_ok,
                zoned=case.zoned,
                formats=case.formats,
                feature=case.feature,
            )
        )
    # json and jsonb arrays: a JSON array where an element is expected would be
    # read as a dimension, so the elements are objects and scalars here.
    json_elements = st.dictionaries(JSON_TEXT, JSON, max_size=3) | JSON_INT | JSON_TEXT | FINITE
    cases.append(
        Case(
            "json[]", "json[]", arrays_of(json_elements | st.booleans()), array_expected(same_value)
        )
    )
    jsonb_elements = st.dictionaries(JSONB_TEXT, JSONB, max_size=3) | JSON_INT | JSONB_TEXT
    cases.append(
        Case(
            "jsonb[]",
            "jsonb[]",
            arrays_of(jsonb_elements | st.booleans()),
            array_expected(same_value),
        )
    )
    return cases


CASES = scalar_cases() + array_cases()


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_roundtrip(session: Session, case: Case) -> None:
    if session.server_version < case.min_version:
        pytest.skip(f"{case.sql_type} needs PostgreSQL {case.min_version // 10000}")
    if case.feature and case.feature not in session.features:
        pytest.skip(f"this server has no {case.feature}")
    clients = session.clients(case.formats)
    values = st.lists(case.strategy(session), min_size=BATCH, max_size=BATCH)
    zones = st.sampled_from(TEXT_ZONES) if case.zoned else st.none()

    @settings(
        max_examples=max(1, -(-EXAMPLES // BATCH)),
        deadline=None,
        database=None,
        suppress_health_check=[
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
            HealthCheck.large_base_example,
            HealthCheck.filter_too_much,
        ],
    )
    @given(values, zones)
    def roundtrip(values: list[Any], zone: str | None) -> None:
        if zone is not None and "text" in case.formats:
            session.portal.call(session.text.batch_execute, f"SET TimeZone = '{zone}'")
        for fmt, client in clients:
            sent = values if fmt == "binary" else [v for v in values if case.text_ok(v)]
            if not sent:
                continue
            row = session.portal.call(client.query_one, case.sql(sent), *sent)
            for value, got in zip(sent, row, strict=True):
                want = case.expected(value)
                assert same(got, want), (
                    f"{fmt}: {case.sql_type} {value!r} came back as {got!r}, expected {want!r}"
                )
            checked[fmt] += len(sent)

    checked = dict.fromkeys(case.formats, 0)
    roundtrip()
    assert checked[case.formats[0]] >= EXAMPLES, f"only {checked} values were checked"


def test_text_connection_uses_text(session: Session) -> None:
    """The text connection sends and reads every type of the tests in text format."""
    sql = (
        "SELECT $1::int4, $2::timestamptz, $3::pg_temp.rt_outer, $4::int4range,"
        " $5::numeric[], $6::pg_temp.rt_mood, $7::point"
    )
    for client, fmt in ((session.text, Format.TEXT), (session.binary, Format.BINARY)):
        statement = session.portal.call(client.prepare, sql)
        assert set(statement._param_formats) == {fmt}
        assert set(statement._result_formats) == {fmt}
