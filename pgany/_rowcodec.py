"""Per-statement row decoders, generated once per result shape.

A statement's DataRow decoder is straight-line code written for its columns
(the way :mod:`dataclasses` and :func:`collections.namedtuple` write
theirs): fixed-width built-in types are unpacked in place from the receive
buffer, text is decoded without an intermediate copy, and every other type
calls its codec. When something unexpected turns up (a decoding failure, a
malformed row), the plain loop decodes the row again to say exactly which
column failed.

The decoder's ``run`` attribute decodes a run of consecutive DataRow
messages in one call, framing included. When every column is a
fixed-width built-in type, a run is first tried in bulk: every row's
framing is checked in C with strided slices and the values are unpacked
with one :func:`struct.iter_unpack`.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Sequence
from typing import Any

from pgany._rows import Column, Row, row_class
from pgany.errors import DecodeError, ProtocolError
from pgany.types import Format
from pgany.types._registry import Codec, builtin_registry

__all__ = ["make_row_factory"]

_I16 = struct.Struct("!h")
_I32 = struct.Struct("!i")

#: Fixed-width built-in types: OID -> (struct code, size).
_FIXED: dict[int, tuple[str, int]] = {
    16: ("?", 1),  # bool
    21: ("h", 2),  # int2
    23: ("i", 4),  # int4
    20: ("q", 8),  # int8
    26: ("I", 4),  # oid
    28: ("I", 4),  # xid
    29: ("I", 4),  # cid
    700: ("f", 4),  # float4
    701: ("d", 8),  # float8
}
#: Text types decoded inline as UTF-8.
_TEXT = frozenset({25, 1043, 1042, 19, 705})


def _builtin(oid: int, codec: Codec) -> bool:
    """Whether *codec* is pgany's own binary codec for *oid* (not a user's override)."""
    own = builtin_registry().get(oid, Format.BINARY)
    return (
        own is not None
        and codec.format is Format.BINARY
        and codec.oid == oid
        and codec.decode is own.decode
    )


def _slow_factory(
    columns: Sequence[Column], codecs: Sequence[Codec], cls: type[Row]
) -> Callable[..., Row]:
    decoders = tuple(c.decode for c in codecs)
    ncols = len(decoders)
    new = tuple.__new__

    def decode_row(buf: memoryview, start: int, end: int) -> Row:
        count = _I16.unpack_from(buf, start)[0]
        if count != ncols:
            raise ProtocolError(f"DataRow has {count} columns, RowDescription said {ncols}")
        pos = start + 2
        values: list[Any] = []
        append = values.append
        try:
            for dec in decoders:
                n = _I32.unpack_from(buf, pos)[0]
                pos += 4
                if n < 0:
                    append(None)
                else:
                    if pos + n > end:
                        raise ProtocolError("DataRow is shorter than its fields")
                    append(dec(buf[pos : pos + n]))  # type: ignore[misc]
                    pos += n
        except ProtocolError:
            raise
        except Exception as exc:
            if not _row_fits(buf, start, end):
                raise ProtocolError("DataRow length does not match its fields") from exc
            col = columns[len(values)]
            raise DecodeError(
                f"cannot decode column {col.name!r} ({col.type_name or col.type_oid}): {exc}"
            ) from exc
        if pos != end:
            raise ProtocolError("DataRow length does not match its fields")
        return new(cls, values)

    return decode_row


def _row_fits(buf: memoryview, start: int, end: int) -> bool:
    """Whether a DataRow's value lengths fill its body exactly (checked after a failure)."""
    try:
        pos = start + 2
        for _ in range(_I16.unpack_from(buf, start)[0]):
            if pos + 4 > end:
                return False
            pos += 4 + max(_I32.unpack_from(buf, pos)[0], 0)
            if pos > end:
                return False
        return pos == end
    except struct.error:
        return False


def _body(
    columns: Sequence[Column], codecs: Sequence[Codec], ns: dict[str, Any], indent: str
) -> tuple[list[str], list[str]]:
    """Straight-line code decoding one DataRow body from ``pos`` (``raise _Bad`` on surprises)."""
    lines = []
    names = []
    for i, (col, codec) in enumerate(zip(columns, codecs, strict=True)):
        v = f"v{i}"
        names.append(v)
        oid = col.type_oid
        if oid in _FIXED and _builtin(oid, codec):
            code, size = _FIXED[oid]
            ns[f"_u{i}"] = struct.Struct("!i" + code).unpack_from
            lines += [
                f"n, {v} = _u{i}(buf, pos)",
                f"if n == {size}:",
                f"    pos += {4 + size}",
                "elif n == -1:",
                f"    {v} = None",
                "    pos += 4",
                "else:",
                "    raise _Bad",
            ]
        else:
            lines += [
                "n = _i32(buf, pos)[0]",
                "pos += 4",
                "if n < 0:",
                f"    {v} = None",
                "else:",
            ]
            if oid in _TEXT and _builtin(oid, codec):
                lines.append(f"    {v} = str(buf[pos : pos + n], 'utf-8')")
            else:
                ns[f"_d{i}"] = codec.decode
                lines.append(f"    {v} = _d{i}(buf[pos : pos + n])")
            lines.append("    pos += n")
    return [indent + line for line in lines], names


def make_row_factory(columns: Sequence[Column], codecs: Sequence[Codec]) -> Callable[..., Row]:
    """The DataRow decoder for one result shape: ``(buffer, start, end) -> Row``.

    It has a ``run`` attribute, ``(buffer, pos, limit) -> (rows, new_pos)``,
    that decodes consecutive DataRow messages starting at ``pos`` (framing
    included) until another message, an incomplete one, or anything
    unexpected, which it leaves for the caller's message-by-message path.
    """
    cls = row_class(columns)
    slow = _slow_factory(columns, codecs, cls)
    ncols = len(codecs)
    if ncols == 0 or ncols > 200:
        return slow
    ns: dict[str, Any] = {
        "_new": tuple.__new__,
        "_cls": cls,
        "_slow": slow,
        "_i32": _I32.unpack_from,
        "_i16": _I16.unpack_from,
        "_head": struct.Struct("!cIh").unpack_from,
        "_Bad": _Bad,
    }
    one, names = _body(columns, codecs, ns, " " * 8)
    inner, _ = _body(columns, codecs, ns, " " * 12)
    values = f"({', '.join(names)},)"
    lines = [
        "def decode_row(buf, start, end):",
        "    try:",
        f"        if _i16(buf, start)[0] != {ncols}:",
        "            raise _Bad",
        "        pos = start + 2",
        *one,
        "        if pos != end:",
        "            raise _Bad",
        "    except Exception:",
        "        return _slow(buf, start, end)",
        f"    return _new(_cls, {values})",
        "",
        "def decode_run(buf, pos, limit):",
        "    rows = []",
        "    append = rows.append",
        "    while pos + 7 <= limit:",
        "        t, size, count = _head(buf, pos)",
        "        end = pos + 1 + size",
        f"        if t != b'D' or count != {ncols} or end > limit:",
        "            break",
        "        at = pos",
        "        pos += 7",
        "        try:",
        *inner,
        "            if pos != end:",
        "                raise _Bad",
        "        except Exception:",
        "            return rows, at",
        f"        append(_new(_cls, {values}))",
        "    return rows, pos",
    ]
    exec("\n".join(lines), ns)  # generated from the column list above
    fast: Callable[..., Row] = ns["decode_row"]
    run = ns["decode_run"]
    if all(
        c.type_oid in _FIXED and _builtin(c.type_oid, k)
        for c, k in zip(columns, codecs, strict=True)
    ):
        bulk = _make_bulk(columns, cls)

        least = 8 * bulk.record  # type: ignore[attr-defined]

        def run_fixed(buf: memoryview, pos: int, limit: int) -> tuple[list[Row], int]:
            if limit - pos >= least:  # (a short run is not worth the set-up)
                rows, after = bulk(buf.obj, pos, limit)  # type: ignore[arg-type]
                if rows:
                    return rows, after
            return run(buf, pos, limit)  # type: ignore[no-any-return]

        fast.run = run_fixed  # type: ignore[attr-defined]
    else:
        fast.run = run  # type: ignore[attr-defined]
    return fast


class _Bad(Exception):
    """Raised inside a generated decoder to fall back to the plain loop."""


def _make_bulk(
    columns: Sequence[Column], cls: type[Row]
) -> Callable[[bytearray, int, int], tuple[list[Row], int]]:
    """Decode a run of all-non-NULL fixed-width DataRows at once.

    Every such row has the same bytes in its framing (type, length, column
    count, each value's length); they are checked for the whole run with
    strided slices, and the values unpacked with one struct.iter_unpack.
    """
    codes = [_FIXED[c.type_oid] for c in columns]
    body = 2 + sum(4 + size for _, size in codes)
    record = 1 + 4 + body
    header = bytearray(b"D" + struct.pack("!ih", body + 4, len(codes)))
    fmt = "!" + "7x"
    offsets = {i: header[i] for i in range(7)}
    pos = 7
    for code, size in codes:
        for j, byte in enumerate(struct.pack("!i", size)):
            offsets[pos + j] = byte
        fmt += f"4x{code}"
        pos += 4 + size
    unpack = struct.Struct(fmt).iter_unpack
    checks = [(off, bytes([byte])) for off, byte in sorted(offsets.items())]
    new = tuple.__new__

    def bulk(data: bytearray, pos: int, limit: int) -> tuple[list[Row], int]:
        k = (limit - pos) // record
        if k < 8 or data[pos + record] != 0x44 or data[pos + 7 * record] != 0x44:
            return [], pos  # a short result: not worth the set-up
        region = data[pos : pos + k * record]
        for off, byte in checks:
            column = region[off::record]
            rest = column.lstrip(byte)
            if rest:
                k = min(k, len(column) - len(rest))
                if k == 0:
                    return [], pos
        if k * record != len(region):
            region = region[: k * record]
        rows = [new(cls, t) for t in unpack(region)]
        return rows, pos + k * record

    bulk.record = record  # type: ignore[attr-defined]
    return bulk
