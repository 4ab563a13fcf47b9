"""Numbers: int2, int4, int8, oid, xid, cid, float4, float8 and numeric.

Binary formats (``src/backend/utils/adt/int.c``, ``int8.c``, ``oid.c``,
``xid.c``, ``float.c``, ``numeric.c``): integers are big-endian two's
complement (oid, xid and cid unsigned 32-bit); floats are IEEE 754
big-endian; numeric is ``ndigits, weight, sign, dscale`` (int16 each)
followed by *ndigits* base-10000 digits, most significant first: the value
is ``sum(digit[i] * 10000 ** (weight - i))`` and *dscale* is the number of
decimal digits shown after the point.
"""

from __future__ import annotations

import decimal
import math
import struct
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from pgany.errors import DecodeError, EncodeError

from ._base import as_int, codec_pair, encode_str, registry, type_error
from ._registry import Codec

__all__ = ["CODECS"]


# -- integers -----------------------------------------------------------------------------


def _describe_int(value: int) -> str:
    # str() of an int over 4300 digits raises ValueError; don't print those.
    bits = value.bit_length()
    return str(value) if bits <= 256 else f"an integer of {bits} bits"


def _int_codecs(name: str, oid: int, array_oid: int, code: str, low: int, high: int) -> list[Codec]:
    packer = struct.Struct(">" + code)
    pack = packer.pack
    unpack: Callable[[Any], tuple[int]] = packer.unpack
    range_text = f"{name} holds {low} to {high}"

    def check(value: Any) -> int:
        if type(value) is not int:
            value = as_int(value, name)
        if low <= value <= high:
            return value  # type: ignore[no-any-return]
        raise EncodeError(f"{_describe_int(value)} is out of range for {name} ({range_text})")

    def encode(value: Any) -> bytes:
        if type(value) is int and low <= value <= high:
            return pack(value)
        return pack(check(value))

    def decode(data: Any) -> int:
        return unpack(data)[0]

    def encode_text(value: Any) -> bytes:
        if isinstance(value, str):
            return encode_str(value, name)
        return b"%d" % check(value)

    def decode_text(data: Any) -> int:
        return int(data)

    return codec_pair(oid, name, array_oid, (encode, decode), (encode_text, decode_text))


_I16 = 2**15
_I32 = 2**31
_I64 = 2**63
_U32 = 2**32

_INT_CODECS = [
    *_int_codecs("int2", 21, 1005, "h", -_I16, _I16 - 1),
    *_int_codecs("int4", 23, 1007, "i", -_I32, _I32 - 1),
    *_int_codecs("int8", 20, 1016, "q", -_I64, _I64 - 1),
    *_int_codecs("oid", 26, 1028, "I", 0, _U32 - 1),
    *_int_codecs("xid", 28, 1011, "I", 0, _U32 - 1),
    *_int_codecs("cid", 29, 1012, "I", 0, _U32 - 1),
]


# -- floats -------------------------------------------------------------------------------

_INF = math.inf


def _as_float(value: Any, name: str) -> float:
    if isinstance(value, float):
        return value
    if isinstance(value, (bool, str, bytes, bytearray, memoryview)):
        raise type_error(value, name, "float or int")
    if isinstance(value, int):
        try:
            return float(value)
        except OverflowError as exc:
            raise EncodeError(f"{_describe_int(value)} is out of range for {name}") from exc
    if not hasattr(type(value), "__float__"):
        raise type_error(value, name, "float or int")
    try:
        result = float(value)
    except (TypeError, ValueError, OverflowError) as exc:
        raise EncodeError(f"cannot encode {type(value).__name__} as {name}: {exc}") from exc
    if (result == _INF or result == -_INF) and value != result:
        raise EncodeError(f"{value!r} is out of range for {name}")
    return result


def _float_text(value: float) -> bytes:
    if value != value:
        return b"NaN"
    if value == _INF:
        return b"Infinity"
    if value == -_INF:
        return b"-Infinity"
    return float.__repr__(value).encode("ascii")


_float4 = struct.Struct(">f")
_float8 = struct.Struct(">d")
_pack_float4 = _float4.pack
_pack_float8 = _float8.pack
_unpack_float4: Callable[[Any], tuple[float]] = _float4.unpack
_unpack_float8: Callable[[Any], tuple[float]] = _float8.unpack


def _encode_float4(value: Any) -> bytes:
    if type(value) is not float:
        value = _as_float(value, "float4")
    try:
        return _pack_float4(value)
    except OverflowError as exc:
        raise EncodeError(f"{value!r} is out of range for float4") from exc


def _decode_float4(data: Any) -> float:
    return _unpack_float4(data)[0]


def _encode_float8(value: Any) -> bytes:
    if type(value) is float:
        return _pack_float8(value)
    return _pack_float8(_as_float(value, "float8"))


def _decode_float8(data: Any) -> float:
    return _unpack_float8(data)[0]


def _encode_float4_text(value: Any) -> bytes:
    if isinstance(value, str):
        return encode_str(value, "float4")
    value = _as_float(value, "float4")
    _encode_float4(value)  # the range check
    return _float_text(value)


def _encode_float8_text(value: Any) -> bytes:
    if isinstance(value, str):
        return encode_str(value, "float8")
    return _float_text(_as_float(value, "float8"))


def _decode_float_text(data: Any) -> float:
    return float(data)


def _decode_float4_text(data: Any) -> float:
    # float4out prints the shortest text that reads back as the same float4
    # ("0.1"), which as a double is another number: round it to float4, so
    # that text gives what the binary format gives (0.10000000149011612).
    return _unpack_float4(_pack_float4(float(data)))[0]


# -- numeric ------------------------------------------------------------------------------

_NUMERIC_POS = 0x0000
_NUMERIC_NEG = 0x4000
_NUMERIC_NAN = 0xC000
_NUMERIC_PINF = 0xD000
_NUMERIC_NINF = 0xF000
_NUMERIC_DSCALE_MAX = 0x3FFF
# numeric_recv refuses more digits than NUMERIC_MAX_PRECISION + NUMERIC_MAX_RESULT_SCALE.
_NUMERIC_MAX_NDIGITS = 3000

_numeric_head = struct.Struct(">HhHH")
_pack_numeric_head = _numeric_head.pack
_unpack_numeric_head: Callable[[Any, int], tuple[int, int, int, int]] = _numeric_head.unpack_from

# Precompiled digit layouts and formats for the usual lengths.
_DIGITS = [struct.Struct(f">{n}H") for n in range(33)]
_DIGIT_FORMATS = ["%04d" * n for n in range(33)]

_POWERS_OF_TEN = [10**n for n in range(36)]
# Enough precision and exponent range that scaleb() never rounds.
_EXACT = decimal.Context(prec=decimal.MAX_PREC, Emax=decimal.MAX_EMAX, Emin=decimal.MIN_EMIN)

_NAN_BINARY = _pack_numeric_head(0, 0, _NUMERIC_NAN, 0)
_PINF_BINARY = _pack_numeric_head(0, 0, _NUMERIC_PINF, 0)
_NINF_BINARY = _pack_numeric_head(0, 0, _NUMERIC_NINF, 0)
_DEC_NAN = Decimal("NaN")
_DEC_PINF = Decimal("Infinity")
_DEC_NINF = Decimal("-Infinity")


def _as_decimal(value: Any) -> Decimal:
    if isinstance(value, Decimal):
        return value
    if isinstance(value, float):
        # The shortest repr, so 0.1 is sent as 0.1, not as its binary expansion.
        return Decimal(float.__repr__(value))
    if isinstance(value, bool):
        raise type_error(value, "numeric", "Decimal, int or float")
    if isinstance(value, int):
        return Decimal(value)
    if hasattr(type(value), "__index__"):
        return Decimal(as_int(value, "numeric"))
    raise type_error(value, "numeric", "Decimal, int or float")


def _encode_numeric(value: Any) -> bytes:
    if type(value) is not Decimal:
        value = _as_decimal(value)
    sign, digits, exp = value.as_tuple()
    if not isinstance(exp, int):  # "n" (NaN), "N" (sNaN), "F" (infinity)
        if exp == "F":
            return _NINF_BINARY if sign else _PINF_BINARY
        return _NAN_BINARY
    dscale = -exp if exp < 0 else 0
    if dscale > _NUMERIC_DSCALE_MAX:
        raise EncodeError(
            f"{value} is out of range for numeric (at most {_NUMERIC_DSCALE_MAX} digits "
            "after the decimal point)"
        )
    # Digit values 0-9, one per byte; trailing zeros go into the exponent.
    raw = bytes(digits)
    stripped = raw.rstrip(b"\x00")
    if not stripped:
        return _pack_numeric_head(0, 0, _NUMERIC_POS, dscale)
    exp += len(raw) - len(stripped)
    # Align the decimal point on a base-10000 digit boundary: pad on the left
    # so that the integer part has a multiple of 4 digits, then on the right.
    int_len = len(stripped) + exp
    left = -int_len % 4
    right = (-(left + len(stripped))) % 4
    padded = b"\x00" * left + stripped + b"\x00" * right
    ndigits = len(padded) // 4
    weight = (int_len + left) // 4 - 1
    if weight > 0x7FFF or weight < -0x8000 or ndigits > _NUMERIC_MAX_NDIGITS:
        raise EncodeError(
            f"{value:.6E} is out of range for numeric (too many digits for the binary format)"
        )
    groups = [
        a * 1000 + b * 100 + c * 10 + d
        for a, b, c, d in zip(padded[0::4], padded[1::4], padded[2::4], padded[3::4], strict=True)
    ]
    packer = _DIGITS[ndigits] if ndigits < 33 else struct.Struct(f">{ndigits}H")
    return _pack_numeric_head(
        ndigits, weight, _NUMERIC_NEG if sign else _NUMERIC_POS, dscale
    ) + packer.pack(*groups)


def _decode_numeric(data: Any) -> Decimal:
    ndigits, weight, sign, dscale = _unpack_numeric_head(data, 0)
    if sign == _NUMERIC_POS or sign == _NUMERIC_NEG:
        # The digits stand for a coefficient times 10 ** exp; the result has
        # exponent -dscale (digits past dscale are zeros: numeric_recv truncates them).
        exp = 4 * (weight - ndigits + 1)
        shift = exp + dscale
        if ndigits < 9 and -36 < shift < 36:
            # Up to 32 decimal digits: integer arithmetic is about twice as fast.
            coefficient = 0
            for digit in _DIGITS[ndigits].unpack_from(data, 8):
                coefficient = coefficient * 10000 + digit
            if shift > 0:
                coefficient *= _POWERS_OF_TEN[shift]
            elif shift < 0:
                coefficient //= _POWERS_OF_TEN[-shift]
            if sign == _NUMERIC_NEG:
                coefficient = -coefficient
            return Decimal(coefficient).scaleb(-dscale, _EXACT)
        # Long values go through a string: Decimal(int) is quadratic in the digits.
        if ndigits < 33:
            text = _DIGIT_FORMATS[ndigits] % _DIGITS[ndigits].unpack_from(data, 8)
        else:
            text = ("%04d" * ndigits) % struct.unpack_from(f">{ndigits}H", data, 8)
        if shift > 0:
            text += "0" * shift
        elif shift < 0:
            text = text[:shift] or "0"
        if sign == _NUMERIC_NEG:
            return Decimal(f"-{text}E-{dscale}")
        return Decimal(f"{text}E-{dscale}")
    if sign == _NUMERIC_NAN:
        return _DEC_NAN
    if sign == _NUMERIC_PINF:
        return _DEC_PINF
    if sign == _NUMERIC_NINF:
        return _DEC_NINF
    raise DecodeError(f"invalid sign 0x{sign:04X} in a binary numeric value")


def _encode_numeric_text(value: Any) -> bytes:
    if isinstance(value, str):
        return encode_str(value, "numeric")
    value = _as_decimal(value)
    if value.is_nan():
        return b"NaN"
    return str(value).encode("ascii")


def _decode_numeric_text(data: Any) -> Decimal:
    return Decimal(str(data, "ascii"))


CODECS: list[Codec] = [
    *_INT_CODECS,
    *codec_pair(
        700,
        "float4",
        1021,
        (_encode_float4, _decode_float4),
        (_encode_float4_text, _decode_float4_text),
    ),
    *codec_pair(
        701,
        "float8",
        1022,
        (_encode_float8, _decode_float8),
        (_encode_float8_text, _decode_float_text),
    ),
    *codec_pair(
        1700,
        "numeric",
        1231,
        (_encode_numeric, _decode_numeric),
        (_encode_numeric_text, _decode_numeric_text),
    ),
]

for _codec in CODECS:
    registry.register(_codec)
