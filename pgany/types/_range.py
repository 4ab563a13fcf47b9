"""Ranges and multiranges, and :class:`Range`, their Python value.

Binary format of a range (``range_send`` in
``src/backend/utils/adt/rangetypes.c``): one flags byte -- 0x01 empty,
0x02 lower bound inclusive, 0x04 upper bound inclusive, 0x08 no lower bound,
0x10 no upper bound -- then, for each bound that is present, int32 length
and the bound in the element type's binary format. A multirange
(``multirange_send`` in ``multirangetypes.c``) is an int32 count, then each
range as int32 length and its binary form.

Text formats: ``[1,5)``, ``(,5]``, ``empty``, with a bound double-quoted
(``"`` and ``\\`` doubled) when it is empty or holds whitespace or one of
``"\\()[],``; a multirange is ``{[1,3),[5,7)}`` or ``{}``.

Multiranges read as a ``list`` of :class:`Range` and are sent from a list
or tuple of them. The codecs of a range use its element type's codecs as
they are when the range's codecs are made.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pgany.errors import DecodeError

from . import _datetime, _numeric  # noqa: F401  (the element types must be registered first)
from ._array import LIST_VALUES
from ._base import registry, type_error
from ._quoting import field_pattern, needs_quotes_pattern, quote, unquote
from ._registry import Codec, Decoder, Encoder, Format

__all__ = ["CODECS", "Range", "multirange_codecs", "range_codecs"]

_EMPTY = 0x01
_LB_INC = 0x02
_UB_INC = 0x04
_LB_INF = 0x08
_UB_INF = 0x10
_LB_NULL = 0x20
_UB_NULL = 0x40

_BOUNDS = frozenset(("[)", "(]", "[]", "()"))
_set = object.__setattr__


@dataclass(frozen=True, slots=True, repr=False)
class Range:
    """A PostgreSQL range: *lower* to *upper*, or empty.

    *bounds* says which bounds are included: ``"[)"`` (the default: lower
    included, upper not), ``"(]"``, ``"[]"`` or ``"()"``. ``None`` for a bound
    means unbounded on that side; as in PostgreSQL, an unbounded side is
    never inclusive, so ``Range(None, 5).bounds == "()"``. ``Range(empty=True)``
    is the empty range (it has no bounds).

    Equality compares the fields: PostgreSQL normalizes discrete ranges
    (``int4range(1, 3, '[]')`` reads back as ``Range(1, 4, "[)")``), pgany
    does not.
    """

    __module__ = "pgany"

    #: The lower bound, or ``None`` if there is none.
    lower: Any = None
    #: The upper bound, or ``None`` if there is none.
    upper: Any = None
    #: ``"[)"``, ``"(]"``, ``"[]"`` or ``"()"``: ``[``/``]`` include the bound.
    bounds: str = "[)"
    #: Whether this is the empty range.
    empty: bool = False

    def __post_init__(self) -> None:
        if self.bounds not in _BOUNDS:
            raise ValueError(f"bounds must be one of '[)', '(]', '[]', '()', not {self.bounds!r}")
        if self.empty:
            if self.lower is not None or self.upper is not None:
                raise ValueError("an empty range has no bounds: leave lower and upper None")
            if self.bounds != "()":
                _set(self, "bounds", "()")
        elif self.lower is None or self.upper is None:
            bounds = ("(" if self.lower is None else self.bounds[0]) + (
                ")" if self.upper is None else self.bounds[1]
            )
            if bounds != self.bounds:
                _set(self, "bounds", bounds)

    @property
    def lower_inc(self) -> bool:
        """Whether the lower bound is included."""
        return self.bounds[0] == "["

    @property
    def upper_inc(self) -> bool:
        """Whether the upper bound is included."""
        return self.bounds[1] == "]"

    @property
    def lower_inf(self) -> bool:
        """Whether the range has no lower bound (and is not empty)."""
        return self.lower is None and not self.empty

    @property
    def upper_inf(self) -> bool:
        """Whether the range has no upper bound (and is not empty)."""
        return self.upper is None and not self.empty

    def __contains__(self, value: Any) -> bool:
        if self.empty:
            return False
        if self.lower is not None and (
            value < self.lower or (value == self.lower and self.bounds[0] == "(")
        ):
            return False
        return not (
            self.upper is not None
            and (value > self.upper or (value == self.upper and self.bounds[1] == ")"))
        )

    def __repr__(self) -> str:
        if self.empty:
            return "Range(empty=True)"
        return f"Range({self.lower!r}, {self.upper!r}, {self.bounds!r})"

    def __str__(self) -> str:
        if self.empty:
            return "empty"
        lower = "" if self.lower is None else str(self.lower)
        upper = "" if self.upper is None else str(self.upper)
        return f"{self.bounds[0]}{lower},{upper}{self.bounds[1]}"


_EMPTY_RANGE = Range(empty=True)
_BOUNDS_OF_FLAGS = {
    0: "()",
    _LB_INC: "[)",
    _UB_INC: "(]",
    _LB_INC | _UB_INC: "[]",
}

_int4 = struct.Struct(">i")
_pack_int4 = _int4.pack
_unpack_int4: Callable[[Any, int], tuple[int]] = _int4.unpack_from


def _as_range(value: Any, name: str) -> Range:
    if isinstance(value, Range):
        return value
    raise type_error(value, name, "pgany.Range")


# -- binary -----------------------------------------------------------------------------------


def _binary_range(
    enc: Encoder | None, dec: Decoder | None, name: str
) -> tuple[Encoder | None, Decoder | None]:
    def encode(value: Any) -> bytes:
        r = _as_range(value, name)
        if r.empty:
            return b"\x01"
        assert enc is not None
        flags = 0
        out = bytearray(1)
        if r.lower is None:
            flags |= _LB_INF
        else:
            if r.bounds[0] == "[":
                flags |= _LB_INC
            data = enc(r.lower)
            out += _pack_int4(len(data))
            out += data
        if r.upper is None:
            flags |= _UB_INF
        else:
            if r.bounds[1] == "]":
                flags |= _UB_INC
            data = enc(r.upper)
            out += _pack_int4(len(data))
            out += data
        out[0] = flags
        return bytes(out)

    def decode(data: Any) -> Range:
        assert dec is not None
        flags: int = data[0]
        if flags & _EMPTY:
            return _EMPTY_RANGE
        pos = 1
        lower = upper = None
        if not flags & (_LB_INF | _LB_NULL):
            n = _unpack_int4(data, pos)[0]
            lower = dec(data[pos + 4 : pos + 4 + n])
            pos += 4 + n
        if not flags & (_UB_INF | _UB_NULL):
            n = _unpack_int4(data, pos)[0]
            upper = dec(data[pos + 4 : pos + 4 + n])
            pos += 4 + n
        if pos != len(data):
            raise DecodeError(f"invalid {name} value: its lengths do not add up")
        return Range(lower, upper, _BOUNDS_OF_FLAGS[flags & (_LB_INC | _UB_INC)])

    return (encode if enc is not None else None), (decode if dec is not None else None)


# -- text -------------------------------------------------------------------------------------

_BOUND = field_pattern(b",)]")
_NEEDS_QUOTES = needs_quotes_pattern(b"()[],")
_WHITESPACE = b" \t\n\r\v\f"


def _skip_space(text: bytes, pos: int) -> int:
    while pos < len(text) and text[pos] in _WHITESPACE:
        pos += 1
    return pos


def _bound_end(text: bytes, pos: int) -> int:
    match = _BOUND.match(text, pos)
    return pos if match is None else match.end()


def _parse_range(text: bytes, pos: int, name: str) -> tuple[Any, Any, str, int]:
    """(raw lower or None, raw upper or None, bounds, end) of the range at *pos*.

    An empty range gives ``bounds == ""``.
    """
    pos = _skip_space(text, pos)
    if text[pos : pos + 5].lower() == b"empty":
        return None, None, "", pos + 5
    opening = text[pos : pos + 1]
    if opening not in (b"[", b"("):
        raise DecodeError(f"cannot parse {text[:60]!r} as {name}")
    end = _bound_end(text, pos + 1)
    lower = text[pos + 1 : end]
    if text[end : end + 1] != b",":
        raise DecodeError(f"cannot parse {text[:60]!r} as {name}")
    pos = end + 1
    end = _bound_end(text, pos)
    upper = text[pos:end]
    closing = text[end : end + 1]
    if closing not in (b"]", b")"):
        raise DecodeError(f"cannot parse {text[:60]!r} as {name}")
    return (
        unquote(lower) if lower else None,
        unquote(upper) if upper else None,
        (opening + closing).decode("ascii"),
        end + 1,
    )


_Parser = Callable[[bytes, int], tuple[Range, int]]


def _text_range(
    enc: Encoder | None, dec: Decoder | None, name: str
) -> tuple[Encoder | None, _Parser | None]:
    """The text encoder of a range, and its parser: (text, position) -> (range, end)."""

    def encode(value: Any) -> bytes:
        assert enc is not None
        r = _as_range(value, name)
        if r.empty:
            return b"empty"
        lower = b"" if r.lower is None else quote(bytes(enc(r.lower)), _NEEDS_QUOTES)
        upper = b"" if r.upper is None else quote(bytes(enc(r.upper)), _NEEDS_QUOTES)
        return b"%c%s,%s%c" % (ord(r.bounds[0]), lower, upper, ord(r.bounds[1]))

    def parse(text: bytes, pos: int) -> tuple[Range, int]:
        assert dec is not None
        lower, upper, bounds, end = _parse_range(text, pos, name)
        if not bounds:
            return _EMPTY_RANGE, end
        return (
            Range(
                None if lower is None else dec(lower),
                None if upper is None else dec(upper),
                bounds,
            ),
            end,
        )

    return (encode if enc is not None else None), (parse if dec is not None else None)


def _whole(parse: _Parser, name: str) -> Decoder:
    def decode(data: Any) -> Range:
        text = bytes(data)
        result, end = parse(text, 0)
        if text[end:].strip():
            raise DecodeError(f"cannot parse {text[:60]!r} as {name}: junk after the range")
        return result

    return decode


def range_codecs(
    element: Codec | None,
    element_text: Codec | None,
    range_oid: int,
    name: str,
    *,
    array_oid: int = 0,
) -> list[Codec]:
    """The binary and text codecs of a range type, from its element type's codecs.

    *element* and *element_text* are the element type's binary and text
    codecs (either may be ``None``: the range then has no codec in that
    format); *name* is the range type's name. Values are :class:`Range`.
    """
    codecs = []
    if element is not None and (element.encode or element.decode):
        encode, decode = _binary_range(element.encode, element.decode, name)
        codecs.append(Codec(range_oid, name, Format.BINARY, encode, decode, array_oid))
    if element_text is not None and (element_text.encode or element_text.decode):
        encode, parse = _text_range(element_text.encode, element_text.decode, name)
        decode = _whole(parse, name) if parse is not None else None
        codecs.append(Codec(range_oid, name, Format.TEXT, encode, decode, array_oid))
    return codecs


def multirange_codecs(
    element: Codec | None,
    element_text: Codec | None,
    multirange_oid: int,
    name: str,
    *,
    array_oid: int = 0,
) -> list[Codec]:
    """The binary and text codecs of a multirange type, from its element type's codecs.

    Values are lists of :class:`Range` (parameters: lists or tuples of them).
    """

    def ranges(value: Any) -> list[Range] | tuple[Range, ...]:
        if not isinstance(value, (list, tuple)):
            raise type_error(value, name, "a list of pgany.Range")
        for item in value:
            if not isinstance(item, Range):
                raise type_error(item, name, "a list of pgany.Range")
        return value

    codecs = []
    if element is not None and (element.encode or element.decode):
        range_encode, range_decode = _binary_range(element.encode, element.decode, name)

        def encode(value: Any) -> bytes:
            items = ranges(value)
            out = bytearray(_pack_int4(len(items)))
            assert range_encode is not None
            for item in items:
                data = range_encode(item)
                out += _pack_int4(len(data))
                out += data
            return bytes(out)

        def decode(data: Any) -> list[Range]:
            assert range_decode is not None
            view = memoryview(data)
            count = _unpack_int4(view, 0)[0]
            pos = 4
            result = []
            for _ in range(count):
                n = _unpack_int4(view, pos)[0]
                result.append(range_decode(view[pos + 4 : pos + 4 + n]))
                pos += 4 + n
            if pos != len(view):
                raise DecodeError(f"invalid {name} value: its lengths do not add up")
            return result

        setattr(encode, LIST_VALUES, True)
        codecs.append(
            Codec(
                multirange_oid,
                name,
                Format.BINARY,
                encode if range_encode else None,
                decode if range_decode else None,
                array_oid,
            )
        )
    if element_text is not None and (element_text.encode or element_text.decode):
        text_encode, text_parse = _text_range(element_text.encode, element_text.decode, name)

        def encode_text(value: Any) -> bytes:
            assert text_encode is not None
            return b"{" + b",".join(text_encode(item) for item in ranges(value)) + b"}"

        def decode_text(data: Any) -> list[Range]:
            assert text_parse is not None
            text = bytes(data)
            pos = _skip_space(text, 0)
            if text[pos : pos + 1] != b"{":
                raise DecodeError(f"cannot parse {text[:60]!r} as {name}")
            pos = _skip_space(text, pos + 1)
            result: list[Range] = []
            if text[pos : pos + 1] == b"}":
                pos += 1
            else:
                while True:
                    item, pos = text_parse(text, pos)
                    if not item.empty:  # multirange_in drops empty ranges
                        result.append(item)
                    pos = _skip_space(text, pos)
                    separator = text[pos : pos + 1]
                    pos += 1
                    if separator == b"}":
                        break
                    if separator != b",":
                        raise DecodeError(f"cannot parse {text[:60]!r} as {name}")
            if text[pos:].strip():
                raise DecodeError(f"cannot parse {text[:60]!r} as {name}: junk after it")
            return result

        setattr(encode_text, LIST_VALUES, True)
        codecs.append(
            Codec(
                multirange_oid,
                name,
                Format.TEXT,
                encode_text if text_encode else None,
                decode_text if text_parse else None,
                array_oid,
            )
        )
    return codecs


for _public in (range_codecs, multirange_codecs):
    _public.__module__ = "pgany.types"


# -- the built-in ranges ----------------------------------------------------------------------

_BUILTIN = [
    # (element oid, range oid, range name, range array, multirange oid, name, multirange array)
    (23, 3904, "int4range", 3905, 4451, "int4multirange", 6150),
    (20, 3926, "int8range", 3927, 4536, "int8multirange", 6157),
    (1700, 3906, "numrange", 3907, 4532, "nummultirange", 6151),
    (1114, 3908, "tsrange", 3909, 4533, "tsmultirange", 6152),
    (1184, 3910, "tstzrange", 3911, 4534, "tstzmultirange", 6153),
    (1082, 3912, "daterange", 3913, 4535, "datemultirange", 6155),
]


def _builtin_codecs() -> list[Codec]:
    codecs = []
    for element_oid, oid, name, array_oid, multi_oid, multi_name, multi_array in _BUILTIN:
        binary = registry.get(element_oid, Format.BINARY)
        text = registry.get(element_oid, Format.TEXT)
        codecs += range_codecs(binary, text, oid, name, array_oid=array_oid)
        codecs += multirange_codecs(binary, text, multi_oid, multi_name, array_oid=multi_array)
    return codecs


CODECS: list[Codec] = _builtin_codecs()

for _codec in CODECS:
    registry.register(_codec)
