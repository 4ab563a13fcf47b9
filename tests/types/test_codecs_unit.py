"""The built-in codecs against PostgreSQL's documented wire formats (no server).

Expected bytes are written out from the formats in PostgreSQL's
``src/backend/utils/adt/*.c`` (``*_send`` / ``*_recv``), not computed by
the code under test.
"""

from __future__ import annotations

import pickle
import struct
import uuid
from collections.abc import Callable
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest

import pgany.types
from pgany.errors import DecodeError, EncodeError
from pgany.types import Codec, Format, Interval, TypeRegistry, json_codecs, registry

UTC = timezone.utc
B = Format.BINARY
T = Format.TEXT


def codec(name: str, fmt: Format = B) -> Codec:
    oid = registry.oid_of(name)
    assert oid is not None, name
    found = registry.get(oid, fmt)
    assert found is not None, (name, fmt)
    return found


def enc(name: str, value: Any, fmt: Format = B) -> bytes:
    encode = codec(name, fmt).encode
    assert encode is not None
    return bytes(encode(value))


def dec(name: str, data: bytes, fmt: Format = B) -> Any:
    """Decode *data* as bytes, as a memoryview, and as a memoryview slice of a larger buffer."""
    decode = codec(name, fmt).decode
    assert decode is not None
    result = decode(data)
    for view in (memoryview(data), memoryview(b"\xff\xfe" + data + b"\xfd")[2:-1]):
        again = decode(view)
        assert type(again) is type(result)
        assert again == result or (again != again and result != result)  # NaN
    return result


def roundtrip(name: str, value: Any, fmt: Format = B) -> Any:
    return dec(name, enc(name, value, fmt), fmt)


def h(text: str) -> bytes:
    return bytes.fromhex(text.replace(" ", ""))


# -- the registry ---------------------------------------------------------------------------

BUILTINS = [
    # (oid, name, array oid)
    (16, "bool", 1000),
    (17, "bytea", 1001),
    (18, "char", 1002),
    (19, "name", 1003),
    (20, "int8", 1016),
    (21, "int2", 1005),
    (23, "int4", 1007),
    (25, "text", 1009),
    (26, "oid", 1028),
    (28, "xid", 1011),
    (29, "cid", 1012),
    (114, "json", 199),
    (700, "float4", 1021),
    (701, "float8", 1022),
    (705, "unknown", 0),
    (1042, "bpchar", 1014),
    (1043, "varchar", 1015),
    (1082, "date", 1182),
    (1083, "time", 1183),
    (1114, "timestamp", 1115),
    (1184, "timestamptz", 1185),
    (1186, "interval", 1187),
    (1266, "timetz", 1270),
    (1700, "numeric", 1231),
    (2950, "uuid", 2951),
    (3802, "jsonb", 3807),
]


@pytest.mark.parametrize(("oid", "name", "array_oid"), BUILTINS)
@pytest.mark.parametrize("fmt", [B, T])
def test_builtin_registered(oid: int, name: str, array_oid: int, fmt: Format) -> None:
    found = registry.get(oid, fmt)
    assert found is not None
    assert (found.oid, found.name, found.format, found.array_oid) == (oid, name, fmt, array_oid)
    assert found.encode is not None
    assert found.decode is not None
    assert registry.oid_of(name) == oid
    assert registry.for_result(oid) is registry.get(oid, B)
    assert registry.for_param(oid) is registry.get(oid, B)


def test_public_names() -> None:
    assert sorted(pgany.types.__all__) == sorted(
        [
            "Box",
            "Circle",
            "Codec",
            "Decoder",
            "Encoder",
            "Format",
            "Interval",
            "Line",
            "LineSegment",
            "Path",
            "Point",
            "Polygon",
            "Range",
            "TypeRegistry",
            "array_codecs",
            "composite_codecs",
            "domain_codecs",
            "enum_codecs",
            "json_codecs",
            "multirange_codecs",
            "range_codecs",
            "register_array_types",
            "register_codec",
            "registry",
        ]
    )
    assert isinstance(registry, TypeRegistry)
    assert Codec.__module__ == "pgany.types"
    assert Format.__module__ == "pgany.types"
    assert TypeRegistry.__module__ == "pgany.types"
    assert Interval.__module__ == "pgany"
    assert json_codecs.__module__ == "pgany.types"


def test_register_codec(monkeypatch: pytest.MonkeyPatch) -> None:
    # Register into a child, so the global registry stays as it was.
    child = registry.child()
    monkeypatch.setattr(pgany.types, "registry", child)
    pgany.types.register_codec(
        "tid", oid=27, decode=lambda data: bytes(data).decode(), format="text"
    )
    found = child.get(27, T)
    assert found is not None
    assert (found.name, found.format, found.encode, found.array_oid) == ("tid", T, None, 0)
    assert child.oid_of("tid") == 27
    assert child.for_result(27) is found
    pgany.types.register_codec(
        "tid", oid=27, encode=lambda v: b"", format=Format.BINARY, array_oid=1010
    )
    assert child.for_param(27).format is B
    assert child.for_param(27).array_oid == 1010
    assert registry.get(27, T) is None
    assert registry.get(27, B) is None
    with pytest.raises(ValueError, match="format"):
        pgany.types.register_codec("tid", oid=27, format="bin")
    with pytest.raises(ValueError, match="oid"):
        pgany.types.register_codec("tid", oid=0)
    with pytest.raises(ValueError, match="give its oid"):
        pgany.types.register_codec("no_such_type", decode=bytes)


def test_registered_codec_takes_its_directions_from_the_other_format(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    child = registry.child()
    monkeypatch.setattr(pgany.types, "registry", child)
    own_binary = registry.get(829, B)  # macaddr
    assert own_binary is not None
    # Found by name, no oid needed for a built-in type.
    pgany.types.register_codec("macaddr", decode=lambda data: bytes(data).upper(), format="text")
    mine = child.for_result(829)
    assert mine.format is T and mine.decode is not None
    assert mine.decode(b"08:00:2b:01:02:03") == b"08:00:2B:01:02:03"
    # Parameters still go through pgany's binary encoder (the codec has none).
    assert child.for_param(829).encode is own_binary.encode
    # Arrays follow: read as text through the codec.
    array = child.for_result(1040)
    assert array.format is T and array.decode is not None
    assert array.decode(b"{08:00:2b:01:02:03}") == [b"08:00:2B:01:02:03"]
    # With both directions, the binary codec is gone (binary contexts find none).
    pgany.types.register_codec("macaddr", encode=bytes, decode=bytes, format="text")
    assert child.get(829, B) is None
    assert child.get(1040, B) is None
    assert registry.get(829, B) is own_binary  # the global registry is untouched


# -- bool -----------------------------------------------------------------------------------


def test_bool() -> None:
    assert enc("bool", True) == b"\x01"
    assert enc("bool", False) == b"\x00"
    assert dec("bool", b"\x01") is True
    assert dec("bool", b"\x00") is False
    assert enc("bool", True, T) == b"t"
    assert dec("bool", b"t", T) is True
    assert dec("bool", b"f", T) is False
    assert enc("bool", "yes", T) == b"yes"


@pytest.mark.parametrize("value", [1, 0, "t", None, 1.0])
def test_bool_rejects_non_bool(value: Any) -> None:
    with pytest.raises(EncodeError, match=r"cannot encode .* as bool"):
        enc("bool", value)


# -- integers -------------------------------------------------------------------------------

INT_CASES = [
    ("int2", 1, "0001"),
    ("int2", -1, "ffff"),
    ("int2", 32767, "7fff"),
    ("int2", -32768, "8000"),
    ("int4", 1, "00000001"),
    ("int4", -2, "fffffffe"),
    ("int4", 2**31 - 1, "7fffffff"),
    ("int4", -(2**31), "80000000"),
    ("int8", 1, "0000000000000001"),
    ("int8", 2**63 - 1, "7fffffffffffffff"),
    ("int8", -(2**63), "8000000000000000"),
    ("int8", 0x0102030405060708, "0102030405060708"),
    ("oid", 4294967295, "ffffffff"),
    ("oid", 0, "00000000"),
    ("xid", 2**31, "80000000"),
    ("cid", 7, "00000007"),
]


@pytest.mark.parametrize(("name", "value", "wire"), INT_CASES)
def test_int_binary(name: str, value: int, wire: str) -> None:
    assert enc(name, value) == h(wire)
    assert dec(name, h(wire)) == value
    assert enc(name, value, T) == str(value).encode()
    assert dec(name, str(value).encode(), T) == value


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("int2", 32768),
        ("int2", -32769),
        ("int4", 2**31),
        ("int4", -(2**31) - 1),
        ("int8", 2**63),
        ("int8", -(2**63) - 1),
        ("oid", -1),
        ("oid", 2**32),
        ("xid", 2**32),
        ("cid", -1),
    ],
)
@pytest.mark.parametrize("fmt", [B, T])
def test_int_out_of_range(name: str, value: int, fmt: Format) -> None:
    with pytest.raises(EncodeError, match=rf"{value} is out of range for {name} \(.*\d to \d"):
        enc(name, value, fmt)


def test_int_huge_value_message() -> None:
    # str() of such an int would raise ValueError (more than 4300 digits).
    with pytest.raises(EncodeError, match=r"integer of .* bits is out of range for int8"):
        enc("int8", 10**5000)


@pytest.mark.parametrize("value", [True, 1.0, 1.5, "1", Decimal(1), None, b"\x01"])
@pytest.mark.parametrize("name", ["int2", "int4", "int8", "oid"])
def test_int_rejects_other_types(name: str, value: Any) -> None:
    with pytest.raises(EncodeError, match=f"cannot encode {type(value).__name__} as {name}"):
        enc(name, value)


def test_int_accepts_index() -> None:
    class Index:
        def __index__(self) -> int:
            return 5

    class Big:
        def __index__(self) -> int:
            return 2**20

    assert enc("int4", Index()) == h("00000005")
    assert enc("int4", Big()) == h("00100000")
    with pytest.raises(EncodeError, match="out of range for int2"):
        enc("int2", Big())


def test_int_text_passes_str() -> None:
    assert enc("int4", "42", T) == b"42"
    with pytest.raises(EncodeError, match="NUL"):
        enc("int4", "4\x002", T)
    assert dec("int8", b"-9223372036854775808", T) == -(2**63)


# -- floats ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "value", "wire"),
    [
        ("float4", 1.0, "3f800000"),
        ("float4", -2.5, "c0200000"),
        ("float4", float("inf"), "7f800000"),
        ("float4", float("-inf"), "ff800000"),
        ("float8", 1.0, "3ff0000000000000"),
        ("float8", 0.1, "3fb999999999999a"),
        ("float8", float("inf"), "7ff0000000000000"),
        ("float8", float("-inf"), "fff0000000000000"),
        ("float8", -0.0, "8000000000000000"),
    ],
)
def test_float_binary(name: str, value: float, wire: str) -> None:
    assert enc(name, value) == h(wire)
    assert dec(name, h(wire)) == value


@pytest.mark.parametrize("name", ["float4", "float8"])
def test_float_nan_and_params(name: str) -> None:
    result = roundtrip(name, float("nan"))
    assert result != result
    assert roundtrip(name, 3) == 3.0
    assert roundtrip(name, Decimal("0.5")) == 0.5
    assert roundtrip(name, Decimal("Infinity")) == float("inf")


def test_float4_precision_is_float32() -> None:
    assert roundtrip("float4", 0.1) == struct.unpack(">f", struct.pack(">f", 0.1))[0]


@pytest.mark.parametrize(
    ("name", "value"),
    [("float4", 1e300), ("float4", 10**100), ("float8", 10**400), ("float8", Decimal("1e400"))],
)
@pytest.mark.parametrize("fmt", [B, T])
def test_float_out_of_range(name: str, value: Any, fmt: Format) -> None:
    with pytest.raises(EncodeError, match=f"out of range for {name}"):
        enc(name, value, fmt)


@pytest.mark.parametrize("value", ["1.0", True, None, b"1", [1.0]])
@pytest.mark.parametrize("name", ["float4", "float8"])
def test_float_rejects_other_types(name: str, value: Any) -> None:
    with pytest.raises(EncodeError, match=f"cannot encode {type(value).__name__} as {name}"):
        enc(name, value)


def test_float_text() -> None:
    assert enc("float8", 0.1, T) == b"0.1"
    assert enc("float8", 1e100, T) == b"1e+100"
    assert enc("float8", float("nan"), T) == b"NaN"
    assert enc("float8", float("inf"), T) == b"Infinity"
    assert enc("float8", float("-inf"), T) == b"-Infinity"
    assert enc("float4", 2, T) == b"2.0"
    assert enc("float8", "1.5", T) == b"1.5"
    assert dec("float8", b"Infinity", T) == float("inf")
    assert dec("float8", b"-Infinity", T) == float("-inf")
    assert dec("float8", b"NaN", T) != dec("float8", b"NaN", T)
    assert dec("float8", b"1e+100", T) == 1e100
    # float4 text is read as the float4 value, as the binary format gives it.
    assert dec("float4", b"0.1", T) == struct.unpack(">f", struct.pack(">f", 0.1))[0]


# -- numeric --------------------------------------------------------------------------------

NUMERIC_CASES = [
    # (value, ndigits weight sign dscale digits...)
    ("1.50", "0002 0000 0000 0002 0001 1388"),
    ("-1.5", "0002 0000 4000 0001 0001 1388"),
    ("0", "0000 0000 0000 0000"),
    ("0.00", "0000 0000 0000 0002"),
    ("10000", "0001 0001 0000 0000 0001"),
    ("100.000", "0001 0000 0000 0003 0064"),
    ("0.0001", "0001 ffff 0000 0004 0001"),
    ("0.00001", "0001 fffe 0000 0005 03e8"),
    ("12345.678", "0003 0001 0000 0003 0001 0929 1a7c"),
    ("123456789", "0003 0002 0000 0000 0001 0929 1a85"),
    ("-0.000000012", "0002 fffe 4000 0009 0001 07d0"),
    ("NaN", "0000 0000 c000 0000"),
    ("Infinity", "0000 0000 d000 0000"),
    ("-Infinity", "0000 0000 f000 0000"),
]


@pytest.mark.parametrize(("text", "wire"), NUMERIC_CASES)
def test_numeric_binary(text: str, wire: str) -> None:
    value = Decimal(text)
    assert enc("numeric", value) == h(wire)
    result = dec("numeric", h(wire))
    assert str(result) == str(value)
    assert str(dec("numeric", text.encode(), T)) == str(value)


def test_numeric_decode_truncates_past_dscale() -> None:
    # 1.5 as PostgreSQL sends it: digits [1, 5000], dscale 1.
    result = dec("numeric", h("0002 0000 0000 0001 0001 1388"))
    assert str(result) == "1.5"
    assert result.as_tuple().exponent == -1


def test_numeric_decode_bad_sign() -> None:
    with pytest.raises(DecodeError, match="sign"):
        dec("numeric", h("0000 0000 1234 0000"))


@pytest.mark.parametrize(
    "text",
    [
        "1.50",
        "-0.00",
        "3.14159265358979323846264338327950288419716939937510",
        "-99999999999999999999999999999999999999.99999999999",
        "1e100000",
        "-1e-16383",
        "1234567890123456789012345678901234567890e-20",
        "0.1",
        "1E+3",
        "7e-7",
    ],
)
def test_numeric_roundtrip(text: str) -> None:
    value = Decimal(text)
    result = roundtrip("numeric", value)
    assert result == value
    # The scale survives whenever it is not negative (PostgreSQL has no negative scale).
    assert result.as_tuple().exponent == min(value.as_tuple().exponent, 0)
    assert roundtrip("numeric", value, T) == value


def test_numeric_huge_exponent_is_compact() -> None:
    # weight 25000, one digit: 10 ** 100000 is not expanded on the wire.
    assert enc("numeric", Decimal("1e100000")) == h("0001 61a8 0000 0000 0001")
    assert enc("numeric", Decimal("1e-16383")) == h("0001 f000 0000 3fff 000a")


def test_numeric_params() -> None:
    assert enc("numeric", 123456789) == h("0003 0002 0000 0000 0001 0929 1a85")
    assert roundtrip("numeric", 0.1) == Decimal("0.1")
    assert roundtrip("numeric", -(10**40)) == -(10**40)
    assert str(roundtrip("numeric", float("inf"))) == "Infinity"
    assert roundtrip("numeric", float("nan")).is_nan()
    assert roundtrip("numeric", Decimal("sNaN")).is_nan()
    assert enc("numeric", 5, T) == b"5"
    assert enc("numeric", Decimal("-Infinity"), T) == b"-Infinity"
    assert enc("numeric", Decimal("-NaN"), T) == b"NaN"
    assert enc("numeric", "1.5", T) == b"1.5"


@pytest.mark.parametrize("value", [Decimal("1e-16384"), Decimal("1e131072"), Decimal("1" * 12004)])
def test_numeric_out_of_range(value: Decimal) -> None:
    with pytest.raises(EncodeError, match="out of range for numeric"):
        enc("numeric", value)


@pytest.mark.parametrize("value", [True, "1.5", None, b"1"])
def test_numeric_rejects_other_types(value: Any) -> None:
    with pytest.raises(EncodeError, match=f"cannot encode {type(value).__name__} as numeric"):
        enc("numeric", value)


# -- text -----------------------------------------------------------------------------------

TEXT_TYPES = ["text", "varchar", "bpchar", "name", "unknown"]


@pytest.mark.parametrize("name", TEXT_TYPES)
@pytest.mark.parametrize("fmt", [B, T])
def test_text(name: str, fmt: Format) -> None:
    assert enc(name, "héllo €", fmt) == "héllo €".encode()
    assert dec(name, "héllo €".encode(), fmt) == "héllo €"
    assert enc(name, "", fmt) == b""
    assert dec(name, b"", fmt) == ""


@pytest.mark.parametrize("name", TEXT_TYPES)
@pytest.mark.parametrize("fmt", [B, T])
def test_text_errors(name: str, fmt: Format) -> None:
    with pytest.raises(EncodeError, match=f"NUL.*{name}"):
        enc(name, "a\x00b", fmt)
    with pytest.raises(EncodeError, match=f"cannot encode str as {name}"):
        enc(name, "\ud800", fmt)
    with pytest.raises(EncodeError, match=f"cannot encode int as {name}"):
        enc(name, 5, fmt)
    with pytest.raises(EncodeError, match=f"cannot encode bytes as {name}"):
        enc(name, b"abc", fmt)


@pytest.mark.parametrize(
    ("value", "wire"),
    [("a", b"a"), ("", b"\x00"), ("\\377", b"\xff"), ("\\200", b"\x80"), ("\\101", b"A")],
)
def test_char(value: str, wire: bytes) -> None:
    assert enc("char", value) == wire
    expected = "A" if value == "\\101" else value
    assert dec("char", wire) == expected


@pytest.mark.parametrize("value", ["ab", "é", "\\477", "\\12"])
def test_char_rejects(value: str) -> None:
    with pytest.raises(EncodeError, match='"char"'):
        enc("char", value)


def test_char_text() -> None:
    assert dec("char", b"\\377", T) == "\\377"
    assert dec("char", b"", T) == ""
    assert enc("char", "x", T) == b"x"


# -- bytea ----------------------------------------------------------------------------------


def test_bytea() -> None:
    data = bytes(range(256))
    assert enc("bytea", data) == data
    assert enc("bytea", bytearray(data)) == data
    assert enc("bytea", memoryview(data)) == data
    assert enc("bytea", memoryview(data)[::2]) == data[::2]
    assert dec("bytea", data) == data
    assert type(dec("bytea", data)) is bytes
    assert enc("bytea", b"\x00\xffA", T) == b"\\x00ff41"
    assert enc("bytea", "\\x00", T) == b"\\x00"
    assert dec("bytea", b"\\x00ff41", T) == b"\x00\xffA"
    assert dec("bytea", b"\\x", T) == b""
    # bytea_output = escape
    assert dec("bytea", b"a\\\\b\\000\\377", T) == b"a\\b\x00\xff"


@pytest.mark.parametrize("value", ["abc", 1, None, [1, 2]])
def test_bytea_rejects(value: Any) -> None:
    with pytest.raises(EncodeError, match=f"cannot encode {type(value).__name__} as bytea"):
        enc("bytea", value)


# -- json -----------------------------------------------------------------------------------


def test_json() -> None:
    value = {"a": [1, 2.5, None, True], "é": "x"}
    assert enc("json", value) == '{"a":[1,2.5,null,true],"é":"x"}'.encode()
    assert enc("jsonb", value) == b"\x01" + '{"a":[1,2.5,null,true],"é":"x"}'.encode()
    assert dec("json", b'{"a": [1, 2.5]}') == {"a": [1, 2.5]}
    assert dec("jsonb", b'\x01{"a": [1, 2.5]}') == {"a": [1, 2.5]}
    assert dec("jsonb", b'{"a": 1}', T) == {"a": 1}
    assert enc("jsonb", [1], T) == b"[1]"
    # A str is a JSON string, not JSON text.
    assert enc("json", "abc") == b'"abc"'
    assert enc("jsonb", '{"a": 1}') == b'\x01"{\\"a\\": 1}"'
    assert enc("json", "abc", T) == b'"abc"'
    assert dec("json", b'"abc"') == "abc"
    assert dec("jsonb", b"\x01null") is None


def test_json_errors() -> None:
    with pytest.raises(EncodeError, match="cannot encode float as JSON"):
        enc("jsonb", float("nan"))
    with pytest.raises(EncodeError, match="cannot encode object as JSON"):
        enc("json", object())
    with pytest.raises(EncodeError, match="JSON"):
        enc("json", "\ud800")
    with pytest.raises(DecodeError, match="version 2"):
        dec("jsonb", b"\x02{}")


def test_json_codecs_custom() -> None:
    loaded: list[Any] = []

    def loads(data: str | bytes) -> Any:
        loaded.append(data)
        return ("loaded", data)

    def dumps(value: Any) -> bytes:
        return b"[" + repr(value).encode() + b"]"

    codecs = {(c.name, c.format): c for c in json_codecs(loads, dumps)}
    assert set(codecs) == {("json", B), ("json", T), ("jsonb", B), ("jsonb", T)}
    assert codecs["jsonb", B].oid == 3802
    assert codecs["json", T].array_oid == 199
    jsonb = codecs["jsonb", B]
    assert jsonb.encode is not None
    assert jsonb.decode is not None
    assert jsonb.encode(5) == b"\x01[5]"
    assert jsonb.decode(memoryview(b"\x01[1]")) == ("loaded", b"[1]")
    assert type(loaded[0]) is bytes
    # The global codecs are untouched.
    assert enc("jsonb", 5) == b"\x015"


# -- uuid -----------------------------------------------------------------------------------


def test_uuid() -> None:
    value = uuid.UUID("12345678-9abc-def0-1234-56789abcdef0")
    wire = h("123456789abcdef0123456789abcdef0")
    assert enc("uuid", value) == wire
    assert enc("uuid", str(value)) == wire
    assert enc("uuid", "{12345678-9ABC-DEF0-1234-56789ABCDEF0}") == wire
    result = dec("uuid", wire)
    assert result == value
    assert type(result) is uuid.UUID
    assert result.version == value.version
    assert str(result) == str(value)
    assert hash(result) == hash(value)
    assert enc("uuid", value, T) == b"12345678-9abc-def0-1234-56789abcdef0"
    assert dec("uuid", b"12345678-9abc-def0-1234-56789abcdef0", T) == value


@pytest.mark.parametrize("value", ["not a uuid", 5, b"x" * 16, None])
def test_uuid_rejects(value: Any) -> None:
    with pytest.raises(EncodeError, match="as uuid"):
        enc("uuid", value)


# -- date -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "wire"),
    [
        (date(2000, 1, 1), "00000000"),
        (date(2000, 1, 2), "00000001"),
        (date(1999, 12, 31), "ffffffff"),
        (date(1970, 1, 1), "ffffd533"),  # -10957
        (date(2024, 2, 29), "00002279"),  # 8825
        (date.max, "7fffffff"),  # infinity
        (date.min, "80000000"),  # -infinity
    ],
)
def test_date(value: date, wire: str) -> None:
    assert enc("date", value) == h(wire)
    assert dec("date", h(wire)) == value


def test_date_out_of_range() -> None:
    with pytest.raises(DecodeError, match="after 9999-12-31"):
        dec("date", struct.pack(">i", date.max.toordinal() - 730120 + 1))
    with pytest.raises(DecodeError, match="before 0001-01-01"):
        dec("date", struct.pack(">i", -730120))
    assert dec("date", struct.pack(">i", -730119)) == date(1, 1, 1)


@pytest.mark.parametrize("value", [datetime(2000, 1, 1), "2000-01-01", 0, None])
def test_date_rejects(value: Any) -> None:
    with pytest.raises(EncodeError, match=f"cannot encode {type(value).__name__} as date"):
        enc("date", value)


def test_date_text() -> None:
    assert enc("date", date(44, 3, 15), T) == b"0044-03-15"
    assert enc("date", date.max, T) == b"infinity"
    assert enc("date", date.min, T) == b"-infinity"
    assert enc("date", "today", T) == b"today"
    assert dec("date", b"2024-02-29", T) == date(2024, 2, 29)
    assert dec("date", b"0044-03-15", T) == date(44, 3, 15)
    assert dec("date", b"infinity", T) == date.max
    assert dec("date", b"-infinity", T) == date.min
    with pytest.raises(DecodeError, match="out of range"):
        dec("date", b"0044-03-15 BC", T)
    with pytest.raises(DecodeError, match="out of range"):
        dec("date", b"10000-01-01", T)
    with pytest.raises(DecodeError, match="ISO"):
        dec("date", b"03/15/2024", T)


# -- time and timetz ------------------------------------------------------------------------


def test_time() -> None:
    value = time(4, 5, 6, 7)
    us = ((4 * 60 + 5) * 60 + 6) * 1_000_000 + 7
    assert enc("time", value) == struct.pack(">q", us)
    assert enc("time", time(0)) == h("0000000000000000")
    assert enc("time", time(0, 0, 0, 1)) == h("0000000000000001")
    assert enc("time", time(23, 59, 59, 999999)) == h("000000141dd75fff")
    assert dec("time", struct.pack(">q", us)) == value
    assert dec("time", h("000000141dd75fff")) == time(23, 59, 59, 999999)
    with pytest.raises(DecodeError, match="24:00:00"):
        dec("time", struct.pack(">q", 86_400_000_000))
    with pytest.raises(EncodeError, match="aware time"):
        enc("time", time(1, tzinfo=UTC))
    with pytest.raises(EncodeError, match="cannot encode datetime as time"):
        enc("time", datetime(2000, 1, 1))
    assert enc("time", value, T) == b"04:05:06.000007"
    assert dec("time", b"04:05:06.5", T) == time(4, 5, 6, 500000)
    assert dec("time", b"23:59:59", T) == time(23, 59, 59)
    with pytest.raises(DecodeError, match="out of range"):
        dec("time", b"24:00:00", T)


def test_timetz() -> None:
    plus2 = timezone(timedelta(hours=2))
    value = time(12, 0, tzinfo=plus2)
    # Seconds WEST of UTC: UTC+02 is -7200.
    wire = struct.pack(">q", 12 * 3_600_000_000) + h("ffffe3e0")
    assert enc("timetz", value) == wire
    result = dec("timetz", wire)
    assert result == value
    assert result.utcoffset() == timedelta(hours=2)
    west = dec("timetz", struct.pack(">qi", 0, 5 * 3600 + 30 * 60))
    assert west.utcoffset() == -timedelta(hours=5, minutes=30)
    assert dec("timetz", struct.pack(">qi", 1, 0)).tzinfo is UTC
    with pytest.raises(EncodeError, match="naive time"):
        enc("timetz", time(12))
    with pytest.raises(EncodeError, match="out of range"):
        enc("timetz", time(12, tzinfo=timezone(timedelta(hours=20))))
    assert enc("timetz", value, T) == b"12:00:00+02:00"
    assert dec("timetz", b"12:00:00+02", T) == value
    assert dec("timetz", b"12:00:00.25-05:30", T) == time(
        12, 0, 0, 250000, timezone(-timedelta(hours=5, minutes=30))
    )
    assert dec("timetz", b"00:00:00+00:53:28", T).utcoffset() == timedelta(minutes=53, seconds=28)


# -- timestamp and timestamptz --------------------------------------------------------------

TIMESTAMP_CASES = [
    (datetime(2000, 1, 1), "0000000000000000"),
    (datetime(2000, 1, 1, 0, 0, 0, 1), "0000000000000001"),
    (datetime(1999, 12, 31, 23, 59, 59, 999999), "ffffffffffffffff"),
    # 1970-01-01 is 10957 days (946684800 s) before 2000-01-01.
    (datetime(1970, 1, 1), "fffca2fec4c82000"),  # -946684800000000
    (datetime(1969, 12, 31, 23, 59, 59, 999999), "fffca2fec4c81fff"),  # -946684800000001
    (datetime(1, 1, 1, 0, 0, 0, 1), "ff1fe2ffc59c6001"),  # -63082281599999999 (datetime.min + 1 µs)
    (datetime(9999, 12, 31, 23, 59, 59, 999998), "0380e70b913b7ffe"),  # 252455615999999998
    (datetime.max, "7fffffffffffffff"),  # infinity
    (datetime.min, "8000000000000000"),  # -infinity
]


@pytest.mark.parametrize(("value", "wire"), TIMESTAMP_CASES)
def test_timestamp(value: datetime, wire: str) -> None:
    assert enc("timestamp", value) == h(wire)
    result = dec("timestamp", h(wire))
    assert result == value
    assert result.tzinfo is None


@pytest.mark.parametrize(("value", "wire"), TIMESTAMP_CASES)
def test_timestamptz(value: datetime, wire: str) -> None:
    aware = value.replace(tzinfo=UTC)
    assert enc("timestamptz", aware) == h(wire)
    result = dec("timestamptz", h(wire))
    assert result == aware
    assert result.tzinfo is UTC


def test_timestamp_exact_microseconds() -> None:
    # Every microsecond of a span around 1970 and 2000 survives (no float rounding).
    for start in (datetime(1969, 12, 31, 23, 59, 59), datetime(1999, 12, 31, 23, 59, 59)):
        for us in (0, 1, 499999, 500000, 999998, 999999):
            value = start + timedelta(microseconds=us)
            assert roundtrip("timestamp", value) == value
            assert roundtrip("timestamptz", value.replace(tzinfo=UTC)) == value.replace(tzinfo=UTC)


@pytest.mark.parametrize("name", ["timestamp", "timestamptz"])
def test_timestamp_out_of_range(name: str) -> None:
    after = (datetime(10000 - 1, 12, 31) - datetime(2000, 1, 1)) // timedelta(microseconds=1)
    after += 86_400_000_000  # 10000-01-01 00:00
    with pytest.raises(DecodeError, match="after 9999-12-31"):
        dec(name, struct.pack(">q", after))
    with pytest.raises(DecodeError, match="before 0001-01-01"):
        dec(name, struct.pack(">q", -63082281600000001))
    with pytest.raises(DecodeError, match="after 9999-12-31"):
        dec(name, struct.pack(">q", 2**63 - 2))


def test_timestamp_rejects() -> None:
    with pytest.raises(EncodeError, match="aware datetime as timestamp"):
        enc("timestamp", datetime(2000, 1, 1, tzinfo=UTC))
    with pytest.raises(EncodeError, match="cannot encode date as timestamp"):
        enc("timestamp", date(2000, 1, 1))
    with pytest.raises(EncodeError, match="cannot encode str as timestamp"):
        enc("timestamp", "2000-01-01")


def test_timestamptz_rejects_naive() -> None:
    with pytest.raises(EncodeError, match="naive datetime as timestamptz"):
        enc("timestamptz", datetime(2000, 1, 1))
    with pytest.raises(EncodeError, match="naive datetime as timestamptz"):
        enc("timestamptz", datetime(2000, 1, 1), T)
    with pytest.raises(EncodeError, match="cannot encode date as timestamptz"):
        enc("timestamptz", date(2000, 1, 1))


def test_timestamptz_other_zones() -> None:
    plus2 = timezone(timedelta(hours=2))
    assert enc("timestamptz", datetime(2000, 1, 1, 2, tzinfo=plus2)) == h("0000000000000000")
    # datetime.max / min in any zone stand for the infinities.
    assert enc("timestamptz", datetime.max.replace(tzinfo=plus2)) == h("7fffffffffffffff")
    minus5 = timezone(-timedelta(hours=5))
    assert enc("timestamptz", datetime.min.replace(tzinfo=minus5)) == h("8000000000000000")
    assert enc("timestamptz", datetime.min.replace(tzinfo=plus2)) == h("8000000000000000")


def test_timestamp_text() -> None:
    assert enc("timestamp", datetime(2000, 1, 1, 4, 5, 6, 7), T) == b"2000-01-01 04:05:06.000007"
    assert enc("timestamp", datetime.max, T) == b"infinity"
    assert enc("timestamp", datetime.min, T) == b"-infinity"
    assert enc("timestamp", "now", T) == b"now"
    assert dec("timestamp", b"1969-12-31 23:59:59.999999", T) == datetime(
        1969, 12, 31, 23, 59, 59, 999999
    )
    assert dec("timestamp", b"2000-01-01 00:00:00.5", T) == datetime(2000, 1, 1, 0, 0, 0, 500000)
    assert dec("timestamp", b"0001-01-01 00:00:00", T) == datetime(1, 1, 1)
    assert dec("timestamp", b"infinity", T) == datetime.max
    assert dec("timestamp", b"-infinity", T) == datetime.min
    with pytest.raises(DecodeError, match="out of range"):
        dec("timestamp", b"0044-03-15 00:00:00 BC", T)
    with pytest.raises(DecodeError, match="out of range"):
        dec("timestamp", b"10000-01-01 00:00:00", T)


def test_timestamptz_text() -> None:
    plus2 = timezone(timedelta(hours=2))
    assert enc("timestamptz", datetime(2000, 1, 1, tzinfo=UTC), T) == b"2000-01-01 00:00:00+00:00"
    assert enc("timestamptz", datetime(2000, 1, 1, tzinfo=plus2), T) == b"2000-01-01 00:00:00+02:00"
    assert enc("timestamptz", datetime.max.replace(tzinfo=UTC), T) == b"infinity"
    result = dec("timestamptz", b"2000-01-01 02:00:00+02", T)
    assert result == datetime(2000, 1, 1, tzinfo=UTC)
    assert result.tzinfo is UTC
    assert dec("timestamptz", b"2000-01-01 05:30:00.25+05:30", T) == datetime(
        2000, 1, 1, 0, 0, 0, 250000, tzinfo=UTC
    )
    assert dec("timestamptz", b"1900-01-01 00:00:00+00:53:28", T) == datetime(
        1899, 12, 31, 23, 6, 32, tzinfo=UTC
    )
    assert dec("timestamptz", b"infinity", T) == datetime.max.replace(tzinfo=UTC)
    assert dec("timestamptz", b"-infinity", T) == datetime.min.replace(tzinfo=UTC)
    with pytest.raises(DecodeError, match="out of range"):
        dec("timestamptz", b"0001-01-01 00:00:00+01", T)


# -- interval -------------------------------------------------------------------------------


def test_interval_binary() -> None:
    value = Interval(14, 3, 14_706_000_007)
    # int64 microseconds, int32 days, int32 months
    wire = h("000000036c8bc087 00000003 0000000e")
    assert enc("interval", value) == wire
    assert dec("interval", wire) == value
    assert enc("interval", Interval()) == bytes(16)
    assert enc("interval", Interval(-1, -2, -3)) == h("fffffffffffffffd fffffffe ffffffff")
    infinity = h("7fffffffffffffff 7fffffff 7fffffff")
    assert dec("interval", infinity).is_infinite
    assert str(dec("interval", infinity)) == "infinity"
    assert str(dec("interval", h("8000000000000000 80000000 80000000"))) == "-infinity"


def test_interval_timedelta_params() -> None:
    assert enc("interval", timedelta(days=3, hours=2)) == struct.pack(">qii", 7_200_000_000, 3, 0)
    assert enc("interval", timedelta(seconds=-1)) == struct.pack(">qii", -1_000_000, 0, 0)
    assert enc("interval", timedelta(days=-3, hours=-2)) == struct.pack(
        ">qii", -7_200_000_000, -3, 0
    )
    assert enc("interval", timedelta(hours=1), T) == b"01:00:00"
    assert enc("interval", "1 day", T) == b"1 day"


@pytest.mark.parametrize(
    "value", [Interval(2**31, 0, 0), Interval(0, -(2**31) - 1, 0), Interval(0, 0, 2**63)]
)
def test_interval_out_of_range(value: Interval) -> None:
    with pytest.raises(EncodeError, match=r"cannot encode .* as interval"):
        enc("interval", value)


@pytest.mark.parametrize("value", [5, "1 day", None, 1.5])
def test_interval_rejects(value: Any) -> None:
    with pytest.raises(EncodeError, match=f"cannot encode {type(value).__name__} as interval"):
        enc("interval", value)


INTERVAL_TEXT = [
    (Interval(), "00:00:00"),
    (Interval(14, 3, 14_706_000_007), "1 year 2 mons 3 days 04:05:06.000007"),
    (Interval(12, 0, 0), "1 year"),
    (Interval(-14, 0, 0), "-1 years -2 mons"),
    (Interval(1, 1, 0), "1 mon 1 day"),
    (Interval(0, -1, 7_200_000_000), "-1 days +02:00:00"),
    (Interval(-1, 2, 0), "-1 mons +2 days"),
    (Interval(1, -2, 0), "1 mon -2 days"),
    (Interval(0, 0, -1_000_000), "-00:00:01"),
    (Interval(0, 0, 1_500_000), "00:00:01.5"),
    (Interval(0, 2, -1), "2 days -00:00:00.000001"),
    (Interval(0, 0, 100 * 3_600_000_000), "100:00:00"),
    (Interval(2**31 - 1, 2**31 - 1, 2**63 - 1), "infinity"),
    (Interval(-(2**31), -(2**31), -(2**63)), "-infinity"),
]


@pytest.mark.parametrize(("value", "text"), INTERVAL_TEXT)
def test_interval_text(value: Interval, text: str) -> None:
    assert str(value) == text
    assert enc("interval", value, T) == text.encode()
    assert dec("interval", text.encode(), T) == value


def test_interval_text_unknown_style() -> None:
    with pytest.raises(DecodeError, match="IntervalStyle"):
        dec("interval", b"P1Y2M", T)
    with pytest.raises(DecodeError, match="IntervalStyle"):
        dec("interval", b"", T)


def test_interval_to_timedelta() -> None:
    assert Interval(0, 1, 5).to_timedelta() == timedelta(days=1, microseconds=5)
    assert Interval(0, -1, 7_200_000_000).to_timedelta() == timedelta(hours=-22)
    with pytest.raises(ValueError, match="days_per_month"):
        Interval(1, 0, 0).to_timedelta()
    assert Interval(2, 1, 0).to_timedelta(days_per_month=30) == timedelta(days=61)
    with pytest.raises(ValueError, match="infinity"):
        Interval(2**31 - 1, 2**31 - 1, 2**63 - 1).to_timedelta(days_per_month=30)


@pytest.mark.parametrize(
    ("td", "expected"),
    [
        (timedelta(0), Interval()),
        (timedelta(days=3, hours=2), Interval(0, 3, 7_200_000_000)),
        (timedelta(seconds=-1), Interval(0, 0, -1_000_000)),
        (timedelta(days=-3, hours=-2), Interval(0, -3, -7_200_000_000)),
        (timedelta.max, Interval(0, 999999999, 86_399_999_999)),
    ],
)
def test_interval_from_timedelta(td: timedelta, expected: Interval) -> None:
    assert Interval.from_timedelta(td) == expected
    assert expected.to_timedelta() == td


def test_interval_is_frozen_and_slotted() -> None:
    value = Interval(1, 2, 3)
    with pytest.raises(AttributeError):
        value.months = 5  # type: ignore[misc]
    assert not hasattr(value, "__dict__")
    assert value == Interval(months=1, days=2, microseconds=3)
    assert hash(value) == hash(Interval(1, 2, 3))
    assert Interval(1) != Interval(0, 30)
    assert pickle.loads(pickle.dumps(value)) == value
    assert repr(value) == "Interval(months=1, days=2, microseconds=3)"


# -- every codec, both formats: encode then decode ------------------------------------------

ROUNDTRIPS: list[tuple[str, Any]] = [
    ("bool", True),
    ("int2", -123),
    ("int4", 123456),
    ("int8", -(2**62)),
    ("oid", 3000000000),
    ("float8", -1.5e-300),
    ("numeric", Decimal("-12.3400")),
    ("text", "日本語"),
    ("varchar", "x"),
    ("bpchar", "ab  "),
    ("name", "pg_catalog"),
    ("char", "r"),
    ("unknown", "?"),
    ("bytea", b"\x00\\\xff"),
    ("json", {"k": [1, "two", None]}),
    ("jsonb", [1.5, {"a": False}]),
    ("uuid", uuid.UUID(int=2**128 - 1)),
    ("date", date(1, 1, 2)),
    ("time", time(0, 0, 0, 1)),
    ("timetz", time(23, 59, 59, 999999, tzinfo=timezone(timedelta(hours=-9, minutes=-30)))),
    ("timestamp", datetime(1901, 2, 3, 4, 5, 6, 789)),
    ("timestamptz", datetime(2038, 1, 19, 3, 14, 8, tzinfo=UTC)),
    ("interval", Interval(-7, 8, -9)),
]


@pytest.mark.parametrize(("name", "value"), ROUNDTRIPS)
@pytest.mark.parametrize("fmt", [B, T])
def test_roundtrip(name: str, value: Any, fmt: Format) -> None:
    assert roundtrip(name, value, fmt) == value


def test_decoders_accept_bytes_and_memoryview() -> None:
    # Every binary decoder of the table above, fed a read-only memoryview slice.
    for name, value in ROUNDTRIPS:
        data = enc(name, value)
        decode: Callable[[Any], Any] | None = codec(name).decode
        assert decode is not None
        view = memoryview(bytes(3) + data)[3:]
        assert decode(view) == decode(data) == value
