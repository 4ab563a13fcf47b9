"""Network, geometry, bit, pg_lsn, money/tsvector/xml, arrays, ranges, multiranges
and user-defined types against PostgreSQL's wire formats (no server).

Expected bytes are written out by hand from ``*_send`` / ``*_recv`` in
PostgreSQL's ``src/backend/utils/adt/`` (network.c, mac.c, mac8.c,
geo_ops.c, varbit.c, pg_lsn.c, arrayfuncs.c, rangetypes.c,
multirangetypes.c, rowtypes.c), not computed by the code under test.
"""

from __future__ import annotations

import ipaddress
import math
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pytest

import pgany.types
from pgany.errors import DecodeError, EncodeError
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
    TypeRegistry,
    array_codecs,
    composite_codecs,
    domain_codecs,
    enum_codecs,
    multirange_codecs,
    range_codecs,
    register_array_types,
    registry,
)

B = Format.BINARY
T = Format.TEXT


def codec(name: str, fmt: Format = B, reg: TypeRegistry = registry) -> Codec:
    oid = reg.oid_of(name)
    assert oid is not None, name
    found = reg.get(oid, fmt)
    assert found is not None, (name, fmt)
    return found


def enc(name: str, value: Any, fmt: Format = B, reg: TypeRegistry = registry) -> bytes:
    encode = codec(name, fmt, reg).encode
    assert encode is not None
    return bytes(encode(value))


def dec(name: str, data: bytes, fmt: Format = B, reg: TypeRegistry = registry) -> Any:
    """Decode *data* as bytes, as a memoryview, and as a memoryview slice of a larger buffer."""
    decode = codec(name, fmt, reg).decode
    assert decode is not None
    result = decode(data)
    for view in (memoryview(data), memoryview(b"\xff\xfe" + data + b"\xfd")[2:-1]):
        again = decode(view)
        assert again == result or repr(again) == repr(result)  # NaN != NaN
    return result


def h(text: str) -> bytes:
    return bytes.fromhex(text.replace(" ", ""))


# -- the registry ---------------------------------------------------------------------------

SCALARS = [
    # (oid, name, array oid, has a binary codec)
    (869, "inet", 1041, True),
    (650, "cidr", 651, True),
    (829, "macaddr", 1040, True),
    (774, "macaddr8", 775, True),
    (600, "point", 1017, True),
    (628, "line", 629, True),
    (601, "lseg", 1018, True),
    (603, "box", 1020, True),
    (602, "path", 1019, True),
    (604, "polygon", 1027, True),
    (718, "circle", 719, True),
    (1560, "bit", 1561, True),
    (1562, "varbit", 1563, True),
    (3220, "pg_lsn", 3221, True),
    (790, "money", 791, False),
    (3614, "tsvector", 3643, False),
    (3615, "tsquery", 3645, False),
    (142, "xml", 143, True),
    (3904, "int4range", 3905, True),
    (3926, "int8range", 3927, True),
    (3906, "numrange", 3907, True),
    (3908, "tsrange", 3909, True),
    (3910, "tstzrange", 3911, True),
    (3912, "daterange", 3913, True),
    (4451, "int4multirange", 6150, True),
    (4536, "int8multirange", 6157, True),
    (4532, "nummultirange", 6151, True),
    (4533, "tsmultirange", 6152, True),
    (4534, "tstzmultirange", 6153, True),
    (4535, "datemultirange", 6155, True),
]


@pytest.mark.parametrize(("oid", "name", "array_oid", "binary"), SCALARS)
def test_registered(oid: int, name: str, array_oid: int, binary: bool) -> None:
    assert registry.oid_of(name) == oid
    text = registry.get(oid, T)
    assert text is not None
    assert (text.name, text.array_oid) == (name, array_oid)
    assert registry.for_result(oid).format is (B if binary else T)
    assert (registry.get(oid, B) is not None) is binary
    # The array type, in the same formats.
    assert registry.oid_of("_" + name) == array_oid
    assert registry.get(array_oid, T) is not None
    assert (registry.get(array_oid, B) is not None) is binary
    assert registry.for_result(array_oid).format is (B if binary else T)


def test_every_type_with_an_array_oid_has_array_codecs() -> None:
    for c in list(registry):
        if c.array_oid:
            array = registry.get(c.array_oid, c.format)
            assert array is not None, c.name
            assert array.name == "_" + c.name
            assert (array.decode is None) is (c.decode is None), c.name
            assert (array.encode is None) is (c.encode is None), c.name


def test_public_names() -> None:
    for cls in (Point, Line, LineSegment, Box, Path, Polygon, Circle):
        assert cls.__module__ == "pgany.types"
        assert getattr(pgany.types, cls.__name__) is cls
    assert Range.__module__ == "pgany"
    for func in (
        array_codecs,
        range_codecs,
        multirange_codecs,
        enum_codecs,
        composite_codecs,
        domain_codecs,
        register_array_types,
    ):
        assert func.__module__ == "pgany.types"
        assert func.__name__ in pgany.types.__all__


# -- inet and cidr --------------------------------------------------------------------------

INET_CASES = [
    # (type, value, wire)
    ("inet", ipaddress.ip_interface("192.168.0.1/24"), "02 18 00 04 c0a80001"),
    ("inet", ipaddress.ip_interface("10.0.0.1"), "02 20 00 04 0a000001"),
    ("inet", ipaddress.ip_interface("::1"), "03 80 00 10" + "00" * 15 + "01"),
    ("inet", ipaddress.ip_interface("2001:db8::5/64"), "03 40 00 10 20010db8" + "00" * 11 + "05"),
    ("cidr", ipaddress.ip_network("10.0.0.0/8"), "02 08 01 04 0a000000"),
    ("cidr", ipaddress.ip_network("2001:db8::/32"), "03 20 01 10 20010db8" + "00" * 12),
]


@pytest.mark.parametrize(("name", "value", "wire"), INET_CASES)
def test_inet_binary(name: str, value: Any, wire: str) -> None:
    assert enc(name, value) == h(wire)
    result = dec(name, h(wire))
    assert result == value
    assert type(result) is type(value)
    assert enc(name, value, T) == str(value).encode()
    assert dec(name, str(value).encode(), T) == value


def test_inet_params() -> None:
    assert enc("inet", "192.168.0.1/24") == h("02 18 00 04 c0a80001")
    assert enc("inet", ipaddress.ip_address("10.0.0.1")) == h("02 20 00 04 0a000001")
    assert enc("inet", ipaddress.ip_network("10.0.0.0/8")) == h("02 08 00 04 0a000000")
    assert enc("cidr", "10.0.0.0/8") == h("02 08 01 04 0a000000")
    assert enc("cidr", ipaddress.ip_address("10.0.0.1")) == h("02 20 01 04 0a000001")
    assert enc("cidr", ipaddress.ip_interface("10.0.0.0/8")) == h("02 08 01 04 0a000000")
    # cidr_recv ignores the is_cidr byte; inet as sent by inet_send reads too.
    assert dec("cidr", h("02 08 00 04 0a000000")) == ipaddress.ip_network("10.0.0.0/8")
    assert dec("inet", b"10.0.0.1", T) == ipaddress.ip_interface("10.0.0.1/32")
    assert enc("inet", "anything", T) == b"anything"  # the server checks text


@pytest.mark.parametrize(
    ("name", "value", "match"),
    [
        ("inet", "not an address", "cannot encode 'not an address' as inet"),
        ("cidr", "10.0.0.1/8", "as cidr: .*host bits"),
        ("inet", 3232235521, "cannot encode int as inet"),
        ("cidr", b"\x0a\x00\x00\x00", "cannot encode bytes as cidr"),
    ],
)
def test_inet_errors(name: str, value: Any, match: str) -> None:
    with pytest.raises(EncodeError, match=match):
        enc(name, value)


def test_inet_bad_binary() -> None:
    with pytest.raises(DecodeError):
        dec("inet", h("07 08 00 04 0a000000"))
    with pytest.raises(DecodeError):
        dec("inet", h("02 21 00 04 0a000000"))
    with pytest.raises(DecodeError):
        dec("cidr", h("02 08 01 04 0a000001"))  # host bits set


# -- macaddr and macaddr8 -------------------------------------------------------------------


def test_macaddr() -> None:
    assert dec("macaddr", h("08002b010203")) == "08:00:2b:01:02:03"
    for text in ("08:00:2b:01:02:03", "08-00-2B-01-02-03", "0800.2b01.0203", "08002b010203"):
        assert enc("macaddr", text) == h("08002b010203")
    assert enc("macaddr", h("08002b010203")) == h("08002b010203")
    assert enc("macaddr", "08-00-2b-01-02-03", T) == b"08-00-2b-01-02-03"
    assert enc("macaddr", h("08002b010203"), T) == b"08:00:2b:01:02:03"
    assert dec("macaddr", b"08:00:2b:01:02:03", T) == "08:00:2b:01:02:03"


def test_macaddr8() -> None:
    assert dec("macaddr8", h("08002b0102030405")) == "08:00:2b:01:02:03:04:05"
    assert enc("macaddr8", "08:00:2b:01:02:03:04:05") == h("08002b0102030405")
    # Like macaddr8_in: a 6-byte address gets ff:fe in the middle.
    assert enc("macaddr8", "08:00:2b:01:02:03") == h("08002bfffe010203")


@pytest.mark.parametrize(
    ("name", "value", "match"),
    [
        ("macaddr", "08:00:2b:01:02", "not a MAC address"),
        ("macaddr", "08:00:2b:01:02:0g", "not a MAC address"),
        ("macaddr", "08:00:2b:01:02:03:04:05", "8-byte address as macaddr"),
        ("macaddr", 0x08002B010203, "cannot encode int as macaddr"),
        ("macaddr8", b"\x01\x02", "2-byte address as macaddr8"),
    ],
)
def test_macaddr_errors(name: str, value: Any, match: str) -> None:
    with pytest.raises(EncodeError, match=match):
        enc(name, value)


# -- geometry -------------------------------------------------------------------------------

ONE = "3ff0000000000000"
TWO = "4000000000000000"
THREE = "4008000000000000"
FOUR = "4010000000000000"
ZERO = "0000000000000000"
HALF = "3fe0000000000000"
MINUS_TWO = "c000000000000000"

GEOMETRY_CASES = [
    # (type, value, wire, text as PostgreSQL prints it)
    ("point", Point(1.5, -2.0), "3ff8000000000000" + MINUS_TWO, "(1.5,-2)"),
    ("line", Line(1.0, 2.0, 3.0), ONE + TWO + THREE, "{1,2,3}"),
    ("lseg", LineSegment(Point(1, 2), Point(3, 4)), ONE + TWO + THREE + FOUR, "[(1,2),(3,4)]"),
    ("box", Box(Point(1, 1), Point(0, 0)), ONE + ONE + ZERO + ZERO, "(1,1),(0,0)"),
    (
        "path",
        Path((Point(1, 2), Point(3, 4)), closed=False),
        "00 00000002" + ONE + TWO + THREE + FOUR,
        "[(1,2),(3,4)]",
    ),
    ("path", Path([Point(1, 2)], closed=True), "01 00000001" + ONE + TWO, "((1,2))"),
    (
        "polygon",
        Polygon((Point(0, 0), Point(1, 1), Point(1, 0))),
        "00000003" + ZERO + ZERO + ONE + ONE + ONE + ZERO,
        "((0,0),(1,1),(1,0))",
    ),
    ("circle", Circle(Point(1, 2), 0.5), ONE + TWO + HALF, "<(1,2),0.5>"),
]


@pytest.mark.parametrize(("name", "value", "wire", "text"), GEOMETRY_CASES)
def test_geometry(name: str, value: Any, wire: str, text: str) -> None:
    assert enc(name, value) == h(wire)
    assert dec(name, h(wire)) == value
    assert dec(name, text.encode(), T) == value
    assert dec(name, enc(name, value, T), T) == value


def test_geometry_values() -> None:
    # Box keeps its upper right corner as high, like box_recv / box_in.
    assert Box(Point(0, 1), Point(1, 0)) == Box(Point(1, 1), Point(0, 0))
    assert Box((0, 0), (2, 3)).high == Point(2, 3)
    assert enc("box", Box(Point(0, 0), Point(1, 1))) == h(ONE + ONE + ZERO + ZERO)
    # Point parameters and the points of paths may be (x, y) tuples.
    assert enc("point", (1, 2)) == h(ONE + TWO)
    assert Path([(1, 2), (3, 4)]).points == (Point(1, 2), Point(3, 4))
    assert Polygon([[0, 0]]).points == (Point(0, 0),)
    assert LineSegment((1, 2), (3, 4)).p2 == Point(3, 4)
    assert Circle((0, 0), 1).center == Point(0, 0)
    assert hash(Path([(1, 2)])) == hash(Path([Point(1, 2)]))
    assert enc("point", Point(1, 2), T) == b"(1.0,2.0)"
    assert enc("path", Path([(1, 2)], closed=True), T) == b"((1.0,2.0))"
    assert enc("point", "(1,2)", T) == b"(1,2)"


def test_geometry_special_floats() -> None:
    value = dec("point", b"(Infinity,-Infinity)", T)
    assert value == Point(math.inf, -math.inf)
    assert enc("point", value, T) == b"(Infinity,-Infinity)"
    nan = dec("circle", b"<(NaN,1e+300),1.5e-07>", T)
    assert math.isnan(nan.center.x)
    assert (nan.center.y, nan.radius) == (1e300, 1.5e-07)
    assert enc("circle", nan, T) == b"<(NaN,1e+300),1.5e-07>"


@pytest.mark.parametrize(
    ("name", "value", "match"),
    [
        ("point", (1, 2, 3), "cannot encode tuple as point"),
        ("point", "(1,2)", "cannot encode str as point"),
        ("point", Point("a", 1), "cannot encode point coordinates"),  # type: ignore[arg-type]
        ("line", (1, 2, 3), "cannot encode tuple as line"),
        ("box", Point(1, 2), "cannot encode Point as box"),
        ("path", Path([]), "a path needs at least one point"),
        ("polygon", Polygon(()), "a polygon needs at least one point"),
        ("circle", Circle(Point(0, 0), "big"), "cannot encode circle coordinates"),  # type: ignore[arg-type]
    ],
)
def test_geometry_errors(name: str, value: Any, match: str) -> None:
    with pytest.raises(EncodeError, match=match):
        enc(name, value)


def test_geometry_bad_input() -> None:
    with pytest.raises(TypeError, match="Path needs a sequence of points, not int"):
        Path(5)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"Box needs a Point or an \(x, y\) pair, not str"):
        Box("a", "b")  # type: ignore[arg-type]
    with pytest.raises(DecodeError):
        dec("point", b"(1,2,3)", T)
    with pytest.raises(DecodeError):
        dec("path", b"[(1,2),(3)]", T)
    with pytest.raises(DecodeError):
        dec("polygon", h("00000002" + ONE + TWO))  # says 2 points, holds 1


# -- bit and varbit -------------------------------------------------------------------------

BIT_CASES = [
    ("10110", "00000005 b0"),
    ("", "00000000"),
    ("1" * 9, "00000009 ff80"),
    ("00000001", "00000008 01"),
    ("1" + "0" * 15 + "1", "00000011 800080"),
]


@pytest.mark.parametrize(("value", "wire"), BIT_CASES)
@pytest.mark.parametrize("name", ["bit", "varbit"])
def test_bit(name: str, value: str, wire: str) -> None:
    assert enc(name, value) == h(wire)
    assert dec(name, h(wire)) == value
    assert enc(name, value, T) == value.encode()
    assert dec(name, value.encode(), T) == value


def test_bit_errors() -> None:
    with pytest.raises(EncodeError, match="only 0 and 1"):
        enc("varbit", "1012")
    with pytest.raises(EncodeError, match="cannot encode int as bit"):
        enc("bit", 5)
    with pytest.raises(EncodeError, match="cannot encode bytes as varbit"):
        enc("varbit", b"\x01", T)
    assert enc("bit", "x1F", T) == b"x1F"  # bit_in's hex form, checked by the server
    with pytest.raises(DecodeError):
        dec("varbit", h("00000009 ff"))


# -- pg_lsn, money, tsvector, tsquery, xml --------------------------------------------------


def test_pg_lsn() -> None:
    assert enc("pg_lsn", "16/B374D848") == h("00000016 b374d848")
    assert dec("pg_lsn", h("00000016 b374d848")) == "16/B374D848"
    assert dec("pg_lsn", h("00000000 00000000")) == "0/0"
    assert enc("pg_lsn", "0/1a") == h("00000000 0000001a")
    assert enc("pg_lsn", 2**64 - 1) == h("ffffffff ffffffff")
    assert enc("pg_lsn", 0x16_B374D848, T) == b"16/B374D848"
    assert dec("pg_lsn", b"FFFFFFFF/FFFFFFFF", T) == "FFFFFFFF/FFFFFFFF"
    with pytest.raises(EncodeError, match="expected like"):
        enc("pg_lsn", "16-B374D848")
    with pytest.raises(EncodeError, match="out of range for pg_lsn"):
        enc("pg_lsn", 2**64)
    with pytest.raises(EncodeError, match="cannot encode float as pg_lsn"):
        enc("pg_lsn", 1.0)


def test_money_is_text_only() -> None:
    assert registry.get(790, B) is None
    assert registry.for_param(790).format is T
    assert dec("money", b"$1,234.56", T) == "$1,234.56"
    assert dec("money", b"-$0.01", T) == "-$0.01"
    assert enc("money", "1234.56", T) == b"1234.56"
    assert enc("money", Decimal("-12.50"), T) == b"-12.50"
    assert enc("money", Decimal("1E+2"), T) == b"100"
    assert enc("money", 5, T) == b"5"
    with pytest.raises(EncodeError, match="floats lose cents"):
        enc("money", 1.5, T)
    with pytest.raises(EncodeError, match="cannot encode NaN as money"):
        enc("money", Decimal("NaN"), T)


@pytest.mark.parametrize("name", ["tsvector", "tsquery"])
def test_text_search_is_text_only(name: str) -> None:
    oid = registry.oid_of(name)
    assert oid is not None
    assert registry.get(oid, B) is None
    assert dec(name, b"'a' 'fat' 'cat':3", T) == "'a' 'fat' 'cat':3"
    assert enc(name, "fat & rat", T) == b"fat & rat"
    with pytest.raises(EncodeError, match=f"cannot encode int as {name}"):
        enc(name, 1, T)


def test_xml_is_read_in_both_formats_and_sent_as_text() -> None:
    assert dec("xml", "<a>é</a>".encode(), B) == "<a>é</a>"
    assert dec("xml", b"<a/>", T) == "<a/>"
    assert codec("xml", B).encode is None
    assert registry.for_param(142).format is T
    assert enc("xml", "<a>é</a>", T) == "<a>é</a>".encode()
    assert registry.for_param(143).format is T  # xml[] too
    assert registry.for_result(143).format is B


# -- arrays: binary -------------------------------------------------------------------------

ARRAY_CASES = [
    # (array type, value, wire)
    (
        "_int4",
        [1, None, 3],
        "00000001 00000001 00000017  00000003 00000001"
        "  00000004 00000001  ffffffff  00000004 00000003",
    ),
    (
        "_int4",
        [[1, 2], [3, 4]],
        "00000002 00000000 00000017  00000002 00000001  00000002 00000001"
        "  00000004 00000001  00000004 00000002  00000004 00000003  00000004 00000004",
    ),
    ("_int4", [], "00000000 00000000 00000017"),
    (
        "_int8",
        [[[7]]],
        "00000003 00000000 00000014" + " 00000001 00000001" * 3 + " 00000008 0000000000000007",
    ),
    (
        "_text",
        ["a", "", None],
        "00000001 00000001 00000019  00000003 00000001  00000001 61  00000000  ffffffff",
    ),
    (
        "_bool",
        [True, False],
        "00000001 00000000 00000010  00000002 00000001  00000001 01  00000001 00",
    ),
    (
        "_point",
        [Point(1, 2)],
        "00000001 00000000 00000258  00000001 00000001  00000010" + ONE + TWO,
    ),
    (
        "_int4range",
        [Range(1, 5), Range(empty=True)],
        "00000001 00000000 00000f40  00000002 00000001"
        "  00000011 02 00000004 00000001 00000004 00000005  00000001 01",
    ),
]


@pytest.mark.parametrize(("name", "value", "wire"), ARRAY_CASES)
def test_array_binary(name: str, value: Any, wire: str) -> None:
    assert enc(name, value) == h(wire)
    assert dec(name, h(wire)) == value


def test_array_binary_decoding() -> None:
    # Lower bounds other than 1 lose nothing but the bound.
    assert dec(
        "_int4",
        h("00000001 00000000 00000017  00000002 00000000  00000004 0000000a  00000004 0000000b"),
    ) == [10, 11]
    assert dec(
        "_int4",
        h("00000001 00000000 00000017  00000002 fffffffd  00000004 0000000a  00000004 0000000b"),
    ) == [10, 11]
    # 2 x 3, lower bounds 5 and -1.
    wire = "00000002 00000000 00000017  00000002 00000005  00000003 ffffffff" + "".join(
        f" 00000004 {n:08x}" for n in range(6)
    )
    assert dec("_int4", h(wire)) == [[0, 1, 2], [3, 4, 5]]
    # An empty array with dimensions of size 0 (array_recv accepts it).
    assert dec("_int4", h("00000001 00000000 00000017  00000000 00000001")) == []
    # Tuples are dimensions too, and an array without elements is empty.
    assert enc("_int4", ((1, 2), (3, 4))) == enc("_int4", [[1, 2], [3, 4]])
    assert enc("_int4", [[], []]) == h("00000000 00000000 00000017")
    # Points may be tuples: in point[] tuples are elements.
    assert enc("_point", [(1, 2)]) == enc("_point", [Point(1, 2)])
    assert enc("_point", [[(1, 2)], [(1, 2)]]) == enc("_point", [[Point(1, 2)], [Point(1, 2)]])


def test_array_binary_bad_input() -> None:
    with pytest.raises(DecodeError, match="elements of type 25, not 23"):
        dec("_int4", h("00000001 00000000 00000019  00000001 00000001  00000001 61"))
    with pytest.raises(DecodeError, match="lengths do not add up"):
        dec("_int4", h("00000001 00000000 00000017  00000002 00000001  00000004 00000001"))
    with pytest.raises(DecodeError, match="7 dimensions"):
        dec("_int4", h("00000007 00000000 00000017"))


@pytest.mark.parametrize("fmt", [B, T])
def test_json_array_shapes(fmt: Format) -> None:
    # The first elements fix the dimensions; lists where elements are expected are JSON.
    one = [{"a": 1}, [1, 2], None, []]
    assert dec("_jsonb", enc("_jsonb", one, fmt), fmt) == one
    two = [[1, 2], [3, [4]]]
    assert dec("_json", enc("_json", two, fmt), fmt) == two
    assert enc("_jsonb", two, B) == h(
        "00000002 00000000 00000eda  00000002 00000001  00000002 00000001"
        "  00000002 0131  00000002 0132  00000002 0133  00000004 015b345d"
    )
    with pytest.raises(EncodeError, match="ragged"):
        enc("_jsonb", [[1, 2], 3], fmt)


@pytest.mark.parametrize("fmt", [B, T])
@pytest.mark.parametrize(
    ("value", "match"),
    [
        ([[1, 2], [3]], "ragged"),
        ([[1, 2], 3], "ragged"),
        ([1, [2]], "ragged"),
        ([[1], [[2]]], "ragged"),
        ([[], [1]], "ragged"),
        ([[1], []], "ragged"),
        ([[[[[[[1]]]]]]], "7 dimensions"),
        ("{1,2}", "cannot encode str as _int4"),
        (5, "cannot encode int as _int4"),
        ({1, 2}, "cannot encode set as _int4"),
        ([1, 1.5], "cannot encode float as int4"),
        ([2**31], "out of range for int4"),
    ],
)
def test_array_encode_errors(value: Any, match: str, fmt: Format) -> None:
    with pytest.raises(EncodeError, match=match):
        enc("_int4", value, fmt)


# -- arrays: text ---------------------------------------------------------------------------

TEXT_ARRAY_PARSE = [
    # (array type, text, value)
    ("_int4", "{1,2,NULL}", [1, 2, None]),
    ("_int4", "{}", []),
    ("_int4", " { } ", []),
    ("_int4", "{{1,2},{3,4}}", [[1, 2], [3, 4]]),
    ("_int4", "{{{1}},{{2}}}", [[[1]], [[2]]]),
    ("_int4", "[0:1]={1,2}", [1, 2]),
    ("_int4", "[-2:-1][1:1]={{1},{2}}", [[1], [2]]),
    ("_int4", " [ 1 : 2 ] = { 1 , null ,\t3 } ", [1, None, 3]),
    ("_int4", '{"1",NuLl}', [1, None]),
    (
        "_text",
        r'{"a,b","c\"d","NULL",NULL,"","{}"," x ","back\\slash",plain}',
        ["a,b", 'c"d', "NULL", None, "", "{}", " x ", "back\\slash", "plain"],
    ),
    ("_text", r"{ inner space , \N\U\L\L, a\,b, \ x\  }", ["inner space", "NULL", "a,b", " x "]),
    ("_text", '{"é","\\u"}', ["é", "u"]),
    ("_text", '{"{\\"a\\": 1}"}', ['{"a": 1}']),
    ("_text", '{{"a b",NULL},{"",c}}', [["a b", None], ["", "c"]]),
    (
        "_box",
        "{(1,1),(0,0);(2,2),(1,1)}",
        [Box(Point(1, 1), Point(0, 0)), Box(Point(2, 2), Point(1, 1))],
    ),
    ("_point", '{"(1,2)",NULL}', [Point(1, 2), None]),
    ("_bytea", r'{"\\x00ff",NULL}', [b"\x00\xff", None]),
    ("_date", "{2020-01-01,infinity}", [date(2020, 1, 1), date.max]),
    ("_int4range", '{"[1,3)",empty}', [Range(1, 3), Range(empty=True)]),
    ("_money", "{$1.00,-$2.50}", ["$1.00", "-$2.50"]),
    ("_tsvector", "{\"'a' 'b'\"}", ["'a' 'b'"]),
    (
        "_inet",
        "{1.2.3.4,::1/64}",
        [ipaddress.ip_interface("1.2.3.4"), ipaddress.ip_interface("::1/64")],
    ),
    ("_varbit", '{1,""}', ["1", ""]),
]


@pytest.mark.parametrize(("name", "text", "value"), TEXT_ARRAY_PARSE)
def test_array_text_parse(name: str, text: str, value: Any) -> None:
    assert dec(name, text.encode(), T) == value


TEXT_ARRAY_PRINT = [
    # (array type, value, text as array_out would print it)
    ("_int4", [1, None, 3], "{1,NULL,3}"),
    ("_int4", [], "{}"),
    ("_int4", [[1, 2], [3, 4]], "{{1,2},{3,4}}"),
    ("_int4", [[[1], [2]]], "{{{1},{2}}}"),
    (
        "_text",
        ["a", None, "NULL", "null", "", "x,y", 'q"', "b\\s", " ", "{", "}", "a b", "tab\t", "é"],
        r'{a,NULL,"NULL","null","","x,y","q\"","b\\s"," ","{","}","a b","tab' + "\t" + '",é}',
    ),
    ("_text", ["NULLS", "NUL"], "{NULLS,NUL}"),
    ("_box", [Box(Point(1, 1), Point(0, 0))], "{(1.0,1.0),(0.0,0.0)}"),
    ("_point", [Point(1, 2)], '{"(1.0,2.0)"}'),
    ("_int4range", [Range(1, 3), Range(empty=True)], '{"[1,3)",empty}'),
    ("_money", ["1.50", 2], "{1.50,2}"),
]


@pytest.mark.parametrize(("name", "value", "text"), TEXT_ARRAY_PRINT)
def test_array_text_print(name: str, value: Any, text: str) -> None:
    assert enc(name, value, T) == text.encode()


@pytest.mark.parametrize(
    "value",
    [
        ["", " ", "  a  ", "\\", '"', '\\"', "{}", ",", ";", "NULL", "Null", "\n", "é", "a\\,b"],
        [["x", None], [None, "y"]],
        [[["{", "}"]], [['"', "\\"]]],
    ],
)
def test_array_text_roundtrip(value: Any) -> None:
    assert dec("_text", enc("_text", value, T), T) == value
    assert dec("_text", enc("_text", value, B), B) == value


@pytest.mark.parametrize(
    "text",
    [
        "",
        "1,2",
        "{1,,2}",
        "{,1}",
        "{1,}",
        "{1,2",
        "{1}}",
        "{1} junk",
        "{{1},2}x",
        "[1:2]{1,2}",
        '{"a}',
        '{a"b}',
    ],
)
def test_array_text_parse_errors(text: str) -> None:
    with pytest.raises(DecodeError, match="cannot parse"):
        dec("_text", text.encode(), T)


def test_array_codecs_builder() -> None:
    int4 = registry.get(23, B)
    int4_text = registry.get(23, T)
    binary, text = array_codecs(int4, int4_text, 1007, 23, "_int4")
    assert (binary.oid, binary.name, binary.format, binary.array_oid) == (1007, "_int4", B, 0)
    assert text.format is T
    assert binary.decode is not None and text.encode is not None
    assert binary.decode(h("00000000 00000000 00000017")) == []
    # A missing direction or format stays missing.
    only_decode = Codec(23, "int4", B, None, lambda data: 1)
    (codec_,) = array_codecs(only_decode, None, 1007, 23, "_int4")
    assert codec_.encode is None
    assert codec_.decode is not None
    assert array_codecs(None, None, 1007, 23, "_int4") == []
    # Another delimiter; tuples as elements.
    (semi,) = array_codecs(None, int4_text, 1007, 23, "_int4", ";")
    assert semi.encode is not None and semi.decode is not None
    assert semi.encode([1, 2]) == b"{1;2}"
    assert semi.decode(b"{1;2}") == [1, 2]
    (tuples,) = array_codecs(None, registry.get(25, T), 1009, 25, "_text", tuple_elements=True)
    assert tuples.encode is not None
    with pytest.raises(EncodeError, match="cannot encode tuple as text"):
        tuples.encode([("a",)])
    with pytest.raises(ValueError, match="one character"):
        array_codecs(None, int4_text, 1007, 23, "_int4", ";;")


def test_register_array_types() -> None:
    reg = TypeRegistry()
    reg.register(
        Codec(9000, "thing", T, lambda v: v.encode(), lambda d: bytes(d).decode().upper(), 9001)
    )
    register_array_types(reg)
    assert codec("_thing", T, reg).oid == 9001
    assert dec("_thing", b"{a,b}", T, reg) == ["A", "B"]
    assert reg.get(9001, B) is None


def test_register_codec_rebuilds_arrays(monkeypatch: pytest.MonkeyPatch) -> None:
    child = registry.child()
    monkeypatch.setattr(pgany.types, "registry", child)
    pgany.types.register_codec(
        "numeric", oid=1700, decode=lambda data: float(bytes(data)), format="text"
    )
    array = child.get(1231, T)
    assert array is not None and array.decode is not None
    assert array.decode(b"{1.5,NULL}") == [1.5, None]
    # The global registry is untouched.
    assert dec("_numeric", b"{1.5}", T) == [Decimal("1.5")]


# -- ranges ---------------------------------------------------------------------------------


def test_range_value() -> None:
    assert Range(1, 5) == Range(1, 5, "[)")
    assert Range(None, 5).bounds == "()"  # an unbounded side is never inclusive
    assert Range(1, None, "[]").bounds == "[)"
    assert Range().bounds == "()"
    assert Range(empty=True) == Range(empty=True, bounds="[]")
    r = Range(1, 5, "(]")
    assert (r.lower_inc, r.upper_inc, r.lower_inf, r.upper_inf) == (False, True, False, False)
    assert Range(None, 1).lower_inf
    assert not Range(empty=True).lower_inf
    assert [n in r for n in range(7)] == [False, False, True, True, True, True, False]
    assert 3 in Range()
    assert 3 not in Range(empty=True)
    assert repr(r) == "Range(1, 5, '(]')"
    assert repr(Range(empty=True)) == "Range(empty=True)"
    assert str(Range(None, 5)) == "(,5)"
    assert str(Range(empty=True)) == "empty"
    assert hash(Range(1, 5)) == hash(Range(1, 5, "[)"))
    with pytest.raises(ValueError, match="bounds must be"):
        Range(1, 5, "[[")
    with pytest.raises(ValueError, match="empty range has no bounds"):
        Range(1, None, empty=True)


RANGE_CASES = [
    # (type, value, wire, text as range_out prints it)
    ("int4range", Range(1, 5), "02 00000004 00000001 00000004 00000005", "[1,5)"),
    ("int4range", Range(1, 5, "[]"), "06 00000004 00000001 00000004 00000005", "[1,5]"),
    ("int4range", Range(1, 5, "()"), "00 00000004 00000001 00000004 00000005", "(1,5)"),
    ("int4range", Range(None, 5), "08 00000004 00000005", "(,5)"),
    ("int4range", Range(1, None), "12 00000004 00000001", "[1,)"),
    ("int4range", Range(), "18", "(,)"),
    ("int4range", Range(empty=True), "01", "empty"),
    (
        "int8range",
        Range(-1, 2**40),
        "02 00000008 ffffffffffffffff 00000008 0000010000000000",
        "[-1,1099511627776)",
    ),
    (
        "daterange",
        Range(date(2000, 1, 1), date(2000, 1, 3)),
        "02 00000004 00000000 00000004 00000002",
        "[2000-01-01,2000-01-03)",
    ),
    (
        "numrange",
        Range(Decimal("1.5"), None, "[]"),
        "12 0000000c 0002 0000 0000 0001 0001 1388",
        "[1.5,)",
    ),
]


@pytest.mark.parametrize(("name", "value", "wire", "text"), RANGE_CASES)
def test_range(name: str, value: Range, wire: str, text: str) -> None:
    assert enc(name, value) == h(wire)
    assert dec(name, h(wire)) == value
    assert enc(name, value, T) == text.encode()
    assert dec(name, text.encode(), T) == value


def test_range_flags_on_receive() -> None:
    # Inclusive flags on an unbounded side are ignored, as range_serialize does.
    assert dec("int4range", h("16 00000004 00000001")) == Range(1, None, "[)")
    assert dec("int4range", h("0c 00000004 00000001")) == Range(None, 1, "(]")
    # The empty flag wins.
    assert dec("int4range", h("07")) == Range(empty=True)


RANGE_TEXT_PARSE = [
    ("int4range", " EMPTY ", Range(empty=True)),
    ("int4range", "[ 1, 5)", Range(1, 5)),
    ("int4range", '["1","5"]', Range(1, 5, "[]")),
    (
        "tsrange",
        '["2020-01-01 00:00:00",)',
        Range(datetime(2020, 1, 1), None),
    ),
    ("numrange", "(,)", Range()),
]


@pytest.mark.parametrize(("name", "text", "value"), RANGE_TEXT_PARSE)
def test_range_text_parse(name: str, text: str, value: Range) -> None:
    assert dec(name, text.encode(), T) == value


@pytest.mark.parametrize("text", ["", "1,5", "[1,5", "[1;5)", "[1,5)x", "[1,2,3)", "(1)", "emptyx"])
def test_range_text_parse_errors(text: str) -> None:
    with pytest.raises(DecodeError):
        dec("int4range", text.encode(), T)


def test_range_of_text_quoting() -> None:
    # No built-in range has text bounds, so make one: the quoting is range_out's.
    reg = TypeRegistry()
    for c in range_codecs(registry.get(25, B), registry.get(25, T), 9100, "textrange"):
        reg.register(c)
    cases = [
        (Range("a", "b"), b"[a,b)"),
        (Range("a b", 'q"', "[]"), b'["a b","q"""]'),
        (Range("", None), b'["",)'),
        (Range("x,y", "(z)"), b'["x,y","(z)")'),
        (Range("back\\slash", "[]"), b'["back\\\\slash","[]")'),
    ]
    for value, text in cases:
        assert enc("textrange", value, T, reg) == text
        assert dec("textrange", text, T, reg) == value
        assert dec("textrange", enc("textrange", value, B, reg), B, reg) == value
    # range_parse_bound also takes \ escapes and mixed quoting.
    assert dec("textrange", b'[a\\,b,"c"d)', T, reg) == Range("a,b", "cd")
    assert dec("textrange", b'["",""]', T, reg) == Range("", "", "[]")


def test_range_encode_errors() -> None:
    with pytest.raises(EncodeError, match="cannot encode tuple as int4range"):
        enc("int4range", (1, 5))
    with pytest.raises(EncodeError, match="cannot encode str as int4"):
        enc("int4range", Range("1", 5))
    with pytest.raises(EncodeError, match="cannot encode tuple as int4range"):
        enc("int4range", (1, 5), T)


def test_multirange() -> None:
    value = [Range(1, 3), Range(5, None)]
    wire = (
        "00000002  00000011 02 00000004 00000001 00000004 00000003  00000009 12 00000004 00000005"
    )
    assert enc("int4multirange", value) == h(wire)
    assert dec("int4multirange", h(wire)) == value
    assert enc("int4multirange", tuple(value)) == h(wire)
    assert enc("int4multirange", []) == h("00000000")
    assert dec("int4multirange", h("00000000")) == []
    assert enc("int4multirange", value, T) == b"{[1,3),[5,)}"
    assert dec("int4multirange", b"{[1,3),[5,)}", T) == value
    assert dec("int4multirange", b"{}", T) == []
    assert dec("int4multirange", b" { [1,3) , empty,(,2] } ", T) == [
        Range(1, 3),
        Range(None, 2, "(]"),
    ]
    assert dec("_int4multirange", b'{"{[1,3)}","{}"}', T) == [[Range(1, 3)], []]
    assert dec("datemultirange", b'{["2020-01-01","2020-02-01")}', T) == [
        Range(date(2020, 1, 1), date(2020, 2, 1))
    ]
    with pytest.raises(EncodeError, match="cannot encode Range as int4multirange"):
        enc("int4multirange", Range(1, 2))
    with pytest.raises(EncodeError, match="cannot encode tuple as int4multirange"):
        enc("int4multirange", [(1, 2)], T)
    for bad in (b"[1,3)", b"{[1,3)", b"{[1,3);[4,5)}", b"{[1,3)} x"):
        with pytest.raises(DecodeError):
            dec("int4multirange", bad, T)


# -- user-defined types ---------------------------------------------------------------------


def test_enum_codecs() -> None:
    codecs = enum_codecs(9200, "mood", array_oid=9201)
    reg = TypeRegistry()
    for c in codecs:
        reg.register(c)
    assert sorted((c.oid, c.format) for c in codecs) == [(9200, T), (9200, B), (9201, T), (9201, B)]
    assert enc("mood", "happy", B, reg) == b"happy"
    assert dec("mood", b"happy", B, reg) == "happy"
    assert dec("_mood", b"{sad,happy}", T, reg) == ["sad", "happy"]
    assert dec("_mood", enc("_mood", ["sad", None], B, reg), B, reg) == ["sad", None]
    with pytest.raises(EncodeError, match="cannot encode int as mood"):
        enc("mood", 1, B, reg)
    assert len(enum_codecs(9200, "mood")) == 2


def composite_registry() -> TypeRegistry:
    reg = registry.child()
    for c in composite_codecs(9300, "inner", [("a", 23), ("b", 25)], reg, array_oid=9301):
        reg.register(c)
    for c in composite_codecs(
        9310, "outer", [("x", 9300), ("ys", 9301), ("when", 1082)], reg, array_oid=9311
    ):
        reg.register(c)
    return reg


def test_composite_binary() -> None:
    reg = composite_registry()
    wire = "00000002  00000017 00000004 00000001  00000019 00000001 78"
    assert enc("inner", (1, "x"), B, reg) == h(wire)
    row = dec("inner", h(wire), B, reg)
    assert row == (1, "x")
    assert (row[0], row["a"], row["b"], row.get("c", "-")) == (1, 1, "x", "-")
    assert row.keys() == ["a", "b"]
    assert [(c.name, c.type_oid, c.type_name, c.column_id) for c in row.columns] == [
        ("a", 23, "int4", 1),
        ("b", 25, "text", 2),
    ]
    assert repr(row) == "Row(a=1, b='x')"
    null = "00000002  00000017 ffffffff  00000019 00000000"
    assert enc("inner", {"b": ""}, B, reg) == h(null)
    assert enc("inner", [None, ""], B, reg) == h(null)
    assert dec("inner", h(null), B, reg) == (None, "")


def test_composite_text() -> None:
    reg = composite_registry()
    assert enc("inner", (1, "a b"), T, reg) == b'(1,"a b")'
    assert enc("inner", (None, ""), T, reg) == b'(,"")'
    assert enc("inner", (2, 'q"(\\),'), T, reg) == b'(2,"q""(\\\\),")'
    assert dec("inner", b'(1,"a b")', T, reg) == (1, "a b")
    assert dec("inner", b"(,)", T, reg) == (None, None)
    assert dec("inner", b'(,"")', T, reg) == (None, "")
    assert dec("inner", b'(2,"q""(\\\\),")', T, reg) == (2, 'q"(\\),')
    assert dec("inner", b'(3,a\\,b"c d"e)', T, reg)["b"] == "a,bc de"
    for bad in (b"1,2", b"(1)", b"(1,2,3)", b"(1,2) x", b"(1,2"):
        with pytest.raises(DecodeError):
            dec("inner", bad, T, reg)


@pytest.mark.parametrize("fmt", [B, T])
def test_composite_nested(fmt: Format) -> None:
    reg = composite_registry()
    value = ((1, "a b"), [(2, 'x,"y"'), None, {"a": 3}], date(2020, 1, 1))
    row = dec("outer", enc("outer", value, fmt, reg), fmt, reg)
    assert row == ((1, "a b"), [(2, 'x,"y"'), None, (3, None)], date(2020, 1, 1))
    assert row["x"]["b"] == "a b"
    assert row["ys"][2]["a"] == 3
    # Arrays of composites: tuples are elements, lists dimensions.
    array = [[row, None], [((0, ""), [], None), {"x": None}]]
    assert dec("_outer", enc("_outer", array, fmt, reg), fmt, reg) == [
        [row, None],
        [((0, ""), [], None), (None, None, None)],
    ]
    # The outermost tuple is the array.
    assert dec("_inner", enc("_inner", ((1, "a"), (2, "b")), fmt, reg), fmt, reg) == [
        (1, "a"),
        (2, "b"),
    ]


def test_composite_text_as_postgresql_prints_it() -> None:
    reg = composite_registry()
    # As record_out and array_out print it (the backslashes are array_out's escapes).
    text = (
        rb'("(1,""a b"")","{""(2,\\""x,\\""\\""y\\""\\""\\"")"",NULL,""(,\\""\\"")""}",2020-01-01)'
    )
    assert dec("outer", text, T, reg) == (
        (1, "a b"),
        [(2, 'x,"y"'), None, (None, "")],
        date(2020, 1, 1),
    )


@pytest.mark.parametrize("fmt", [B, T])
@pytest.mark.parametrize(
    ("value", "match"),
    [
        ((1,), "inner has 2 fields, 1 values given"),
        ({"a": 1, "c": 2}, "inner has no field 'c'"),
        (5, "cannot encode int as inner"),
        ("(1,x)", "cannot encode str as inner"),
        ((1.5, "y"), "field 'a' of inner: cannot encode float as int4"),
    ],
)
def test_composite_encode_errors(value: Any, match: str, fmt: Format) -> None:
    with pytest.raises(EncodeError, match=match):
        enc("inner", value, fmt, composite_registry())


def test_composite_without_binary_fields() -> None:
    reg = registry.child()
    # money has no binary codec, so neither does the composite; a type pgany
    # does not know at all reads as text.
    codecs = composite_codecs(9400, "priced", [("p", 790), ("u", 99999)], reg)
    assert [c.format for c in codecs] == [T]
    for c in codecs:
        reg.register(c)
    assert dec("priced", b"($1.00,abc)", T, reg) == ("$1.00", "abc")
    assert enc("priced", ("1.00", "a b"), T, reg) == b'(1.00,"a b")'
    # xml reads in binary but is sent as text: binary decode only.
    (binary, text) = composite_codecs(9401, "doc", [("d", 142)], reg)
    assert (binary.format, binary.encode, text.format) == (B, None, T)
    assert binary.decode is not None
    assert binary.decode(h("00000001 0000008e 00000004 3c612f3e")) == ("<a/>",)


def test_composite_binary_field_decoded_by_its_oid() -> None:
    reg = composite_registry()
    with pytest.raises(DecodeError, match="has 3 fields, the type has 2"):
        dec("inner", h("00000003"), B, reg)
    with pytest.raises(DecodeError, match="type 99999"):
        dec("inner", h("00000002 0001869f 00000000 00000019 00000000"), B, reg)


def test_domain_codecs() -> None:
    reg = registry.child()
    codecs = domain_codecs(9500, "posint", 23, reg, array_oid=9501)
    for c in codecs:
        reg.register(c)
    int4 = registry.get(23, B)
    assert int4 is not None
    binary = reg.get(9500, B)
    assert binary is not None
    assert (binary.name, binary.encode, binary.decode) == ("posint", int4.encode, int4.decode)
    assert enc("posint", 7, B, reg) == h("00000007")
    # The array's elements are of the domain's type.
    assert enc("_posint", [7], B, reg) == h(
        "00000001 00000000 0000251c 00000001 00000001 00000004 00000007"
    )
    assert dec("_posint", b"{7,NULL}", T, reg) == [7, None]
    assert domain_codecs(9502, "nothing", 99999, reg) == []
    # Over box: the array delimiter is the base type's.
    for c in domain_codecs(9503, "frame", 603, reg, array_oid=9504, delimiter=";"):
        reg.register(c)
    assert (
        enc("_frame", [Box((1, 1), (0, 0))] * 2, T, reg)
        == b"{(1.0,1.0),(0.0,0.0);(1.0,1.0),(0.0,0.0)}"
    )
    # Over a composite: tuples stay elements in its arrays.
    reg2 = composite_registry()
    for c in domain_codecs(9505, "checked", 9300, reg2, array_oid=9506):
        reg2.register(c)
    assert dec("_checked", enc("_checked", [(1, "a")], B, reg2), B, reg2) == [(1, "a")]


def test_user_defined_range() -> None:
    reg = registry.child()
    float8 = registry.get(701, B)
    float8_text = registry.get(701, T)
    for c in range_codecs(float8, float8_text, 9600, "floatrange", array_oid=9601):
        reg.register(c)
    for c in multirange_codecs(float8, float8_text, 9602, "floatmultirange", array_oid=9603):
        reg.register(c)
    register_array_types(reg, [9600, 9602])
    assert enc("floatrange", Range(1.5, None), B, reg) == h("12 00000008 3ff8000000000000")
    assert dec("floatrange", b"[1.5,2.5)", T, reg) == Range(1.5, 2.5)
    assert dec("_floatrange", b'{"[1.5,2.5)",empty}', T, reg) == [
        Range(1.5, 2.5),
        Range(empty=True),
    ]
    value = [[Range(1.0, 2.0)], [Range(3.0, None)]]
    assert dec("_floatmultirange", enc("_floatmultirange", value, B, reg), B, reg) == value
