"""Codecs for user-defined types, built from what ``pg_type`` says about them.

The connection learns an unknown type's kind from ``pg_type`` and builds its
codecs here:

- enum: :func:`enum_codecs` -- the label as ``str`` in both formats
  (``enum_send`` sends the label's text).
- composite: :func:`composite_codecs` -- a :class:`~pgany.Row`-like record,
  indexable by position and by field name; parameters are tuples (or lists)
  of the field values in order, or dicts by field name (a missing field is
  NULL). Binary format (``record_send`` in ``rowtypes.c``): int32 field
  count, then for each field uint32 type OID, int32 length (-1 for NULL) and
  the value in that type's binary format. Text format: ``(1,"a b",)``, with
  a field double-quoted (``"`` and ``\\`` doubled) when it is empty or holds
  whitespace or one of ``"\\(),``; an empty field is NULL.
- domain: :func:`domain_codecs` -- the base type's codecs under the domain's
  OID.
- range: :func:`pgany.types.range_codecs` with the element type's codecs.

Each takes an optional *array_oid* and then also returns the codecs of the
type's array type.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from pgany._rows import Column, Row, row_class
from pgany.errors import DecodeError, EncodeError

from ._array import TUPLE_VALUES, array_codecs
from ._base import codec_pair, encode_str, type_error
from ._quoting import field_pattern, needs_quotes_pattern, quote, unquote
from ._registry import FALLBACK_TEXT, Codec, Format, TypeRegistry

__all__ = ["composite_codecs", "domain_codecs", "enum_codecs"]

_int4 = struct.Struct(">i")
_pack_int4 = _int4.pack
_unpack_int4: Callable[[Any, int], tuple[int]] = _int4.unpack_from
_field_head = struct.Struct(">Ii")
_pack_field_head = _field_head.pack
_unpack_field_head: Callable[[Any, int], tuple[int, int]] = _field_head.unpack_from


def _with_arrays(
    codecs: list[Codec], oid: int, name: str, array_oid: int, delimiter: str = ","
) -> list[Codec]:
    if not array_oid:
        return codecs
    binary = next((c for c in codecs if c.format is Format.BINARY), None)
    text = next((c for c in codecs if c.format is Format.TEXT), None)
    return codecs + array_codecs(binary, text, array_oid, oid, "_" + name, delimiter)


# -- enums ------------------------------------------------------------------------------------


def enum_codecs(oid: int, name: str, *, array_oid: int = 0) -> list[Codec]:
    """The codecs of the enum type *name*: its labels as ``str``, in both formats."""

    def encode(value: Any) -> bytes:
        if isinstance(value, str):
            return encode_str(value, name)
        raise type_error(value, name, "str")

    def decode(data: Any) -> str:
        return str(data, "utf-8")

    return _with_arrays(
        codec_pair(oid, name, array_oid, (encode, decode), (encode, decode)),
        oid,
        name,
        array_oid,
    )


# -- composites -------------------------------------------------------------------------------

_FIELD = field_pattern(b",)")
_NEEDS_QUOTES = needs_quotes_pattern(b"(),")


def composite_codecs(
    oid: int,
    name: str,
    fields: Sequence[tuple[str, int]],
    registry: TypeRegistry,
    *,
    array_oid: int = 0,
) -> list[Codec]:
    """The codecs of the composite type *name* with *fields* (``(name, type OID)`` pairs).

    *fields* are the type's attributes in order, without dropped ones. The
    fields' codecs are looked up in *registry* when a value is converted, so
    a field type registered later is used too; but the binary format is only
    offered if every field type has a binary codec in *registry* now (a
    composite with a field of a type pgany reads as text is read as text),
    so register nested composites before the types that contain them.
    """
    fields = [(str(fname), int(foid)) for fname, foid in fields]
    nfields = len(fields)
    names = [fname for fname, _ in fields]
    index = {fname: i for i, fname in enumerate(names)}
    oids = [foid for _, foid in fields]

    def type_name(foid: int) -> str | None:
        codec = registry.get(foid, Format.BINARY) or registry.get(foid, Format.TEXT)
        return codec.name if codec is not None else None

    columns = [
        Column(fname, foid, type_name(foid), 0, i + 1) for i, (fname, foid) in enumerate(fields)
    ]
    cls = row_class(columns)
    new_row = tuple.__new__

    def values_of(value: Any) -> Sequence[Any]:
        if isinstance(value, Mapping):
            unknown = [key for key in value if key not in index]
            if unknown:
                raise EncodeError(
                    f"{name} has no field {unknown[0]!r} (fields: {', '.join(names)})"
                )
            return [value.get(fname) for fname in names]
        if isinstance(value, (tuple, list)):
            if len(value) != nfields:
                raise EncodeError(
                    f"{name} has {nfields} field{'s' if nfields != 1 else ''}, "
                    f"{len(value)} values given"
                )
            return value
        raise type_error(value, name, "a tuple or a dict")

    def no_binary(i: int, foid: int) -> str:
        return f"field {names[i]!r} of {name} (type {foid}) has no binary codec"

    def encode(value: Any) -> bytes:
        values = values_of(value)
        out = bytearray(_pack_int4(nfields))
        for i, item in enumerate(values):
            foid = oids[i]
            if item is None:
                out += _pack_field_head(foid, -1)
                continue
            codec = registry.get(foid, Format.BINARY)
            enc = None if codec is None else codec.encode
            if enc is None:
                raise EncodeError(no_binary(i, foid))
            try:
                data = enc(item)
            except EncodeError as exc:
                raise EncodeError(f"field {names[i]!r} of {name}: {exc}") from exc
            out += _pack_field_head(foid, len(data))
            out += data
        return bytes(out)

    def decode(data: Any) -> Row:
        view = memoryview(data)
        count = _unpack_int4(view, 0)[0]
        if count != nfields:
            raise DecodeError(f"{name} value has {count} fields, the type has {nfields}")
        pos = 4
        values: list[Any] = []
        for i in range(count):
            foid, n = _unpack_field_head(view, pos)
            pos += 8
            if n < 0:
                values.append(None)
                continue
            codec = registry.get(foid, Format.BINARY)
            dec = None if codec is None else codec.decode
            if dec is None:
                raise DecodeError(no_binary(i, foid))
            values.append(dec(view[pos : pos + n]))
            pos += n
        if pos != len(view):
            raise DecodeError(f"invalid {name} value: its lengths do not add up")
        return new_row(cls, values)

    def text_codec(foid: int) -> Codec:
        codec = registry.get(foid, Format.TEXT)
        return FALLBACK_TEXT if codec is None else codec

    def encode_text(value: Any) -> bytes:
        values = values_of(value)
        parts = []
        for i, item in enumerate(values):
            if item is None:
                parts.append(b"")
                continue
            enc = text_codec(oids[i]).encode or FALLBACK_TEXT.encode
            assert enc is not None
            try:
                data = bytes(enc(item))
            except EncodeError as exc:
                raise EncodeError(f"field {names[i]!r} of {name}: {exc}") from exc
            parts.append(quote(data, _NEEDS_QUOTES))
        return b"(" + b",".join(parts) + b")"

    def decode_text(data: Any) -> Row:
        text = bytes(data)
        if text[:1] != b"(":
            raise DecodeError(f"cannot parse {text[:60]!r} as {name}")
        pos = 1
        values: list[Any] = []
        for i in range(nfields):
            match = _FIELD.match(text, pos)
            end = pos if match is None else match.end()
            raw = text[pos:end]
            if raw:
                dec = text_codec(oids[i]).decode or FALLBACK_TEXT.decode
                assert dec is not None
                values.append(dec(unquote(raw)))
            else:
                values.append(None)
            separator = text[end : end + 1]
            if separator != (b")" if i == nfields - 1 else b","):
                raise DecodeError(
                    f"cannot parse {text[:60]!r} as {name}: expected {nfields} fields"
                )
            pos = end + 1
        if nfields == 0:
            if text[1:2] != b")":
                raise DecodeError(f"cannot parse {text[:60]!r} as {name}")
            pos = 2
        if text[pos:].strip():
            raise DecodeError(f"cannot parse {text[:60]!r} as {name}: junk after it")
        return new_row(cls, values)

    setattr(encode, TUPLE_VALUES, True)
    setattr(encode_text, TUPLE_VALUES, True)

    def has_binary(direction: str) -> bool:
        for foid in oids:
            codec = registry.get(foid, Format.BINARY)
            if codec is None or getattr(codec, direction) is None:
                return False
        return True

    binary_encode = encode if has_binary("encode") else None
    binary_decode = decode if has_binary("decode") else None
    codecs = [Codec(oid, name, Format.TEXT, encode_text, decode_text, array_oid)]
    if binary_encode is not None or binary_decode is not None:
        codecs.insert(0, Codec(oid, name, Format.BINARY, binary_encode, binary_decode, array_oid))
    return _with_arrays(codecs, oid, name, array_oid)


# -- domains ----------------------------------------------------------------------------------


def domain_codecs(
    oid: int,
    name: str,
    base_oid: int,
    registry: TypeRegistry,
    *,
    array_oid: int = 0,
    delimiter: str = ",",
) -> list[Codec]:
    """The codecs of the domain *name* over the type *base_oid*: the base type's, under *oid*.

    The base type's codecs are taken from *registry* now; if it has none,
    neither does the domain (its values are then read as text ``str``).
    *delimiter* is the base type's ``typdelim``, for the domain's array type.
    """
    codecs = []
    for fmt in (Format.BINARY, Format.TEXT):
        base = registry.get(base_oid, fmt)
        if base is not None:
            codecs.append(Codec(oid, name, fmt, base.encode, base.decode, array_oid))
    return _with_arrays(codecs, oid, name, array_oid, delimiter)


for _public in (enum_codecs, composite_codecs, domain_codecs):
    _public.__module__ = "pgany.types"
