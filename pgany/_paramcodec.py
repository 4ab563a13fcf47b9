"""Per-statement value encoders, generated once per list of types.

Bind parameters and binary COPY rows are the same thing on the wire: each
value as an int32 length and its bytes (-1 for NULL). A statement's encoder
is straight-line code for its types: the common Python types of the common
built-in types (int for the integer types, float for float8, str for the
text types) are packed inline; anything else calls the type's codec. On any
surprise the caller's plain loop encodes the values again, to raise an
:class:`~pgany.EncodeError` that names the value and the type.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Sequence
from typing import Any

from pgany.types import Format
from pgany.types._registry import Codec, builtin_registry

__all__ = ["make_values_encoder"]

#: Integer types: OID -> (struct code, size, low, high).
_INTS: dict[int, tuple[str, int, int, int]] = {
    21: ("h", 2, -(2**15), 2**15 - 1),
    23: ("i", 4, -(2**31), 2**31 - 1),
    20: ("q", 8, -(2**63), 2**63 - 1),
    26: ("I", 4, 0, 2**32 - 1),
}
_TEXT = frozenset({25, 1043, 1042, 19, 705})


def _builtin(oid: int, codec: Codec) -> bool:
    own = builtin_registry().get(oid, Format.BINARY)
    return (
        own is not None
        and codec.format is Format.BINARY
        and codec.oid == oid
        and codec.encode is own.encode
    )


class _Slow(Exception):
    """Raised inside a generated encoder to fall back to the plain loop."""


def make_values_encoder(
    oids: Sequence[int], codecs: Sequence[Codec], slow: Callable[[Sequence[Any]], bytes]
) -> Callable[[Sequence[Any]], bytes]:
    """``values -> b"".join(length + bytes for each value)`` for these types.

    *slow* encodes the same values with the plain loop; it is called when the
    generated code meets anything it does not handle (it raises the precise
    error when a value is bad).
    """
    n = len(codecs)
    if n == 0 or n > 200:
        return slow
    ns: dict[str, Any] = {
        "_slow": slow,
        "_Slow": _Slow,
        "_len": struct.Struct("!i").pack,
        "_NULL": b"\xff\xff\xff\xff",
    }
    args = ", ".join(f"p{i}" for i in range(n))
    lines = [
        "def encode(values):",
        "    try:",
        f"        {args}{',' if n == 1 else ''} = values",
    ]
    parts = []
    for i, (oid, codec) in enumerate(zip(oids, codecs, strict=True)):
        p, b = f"p{i}", f"b{i}"
        parts.append(b)
        lines.append(f"        if {p} is None:")
        lines.append(f"            {b} = _NULL")
        if oid in _INTS and _builtin(oid, codec):
            code, size, low, high = _INTS[oid]
            ns[f"_pk{i}"] = struct.Struct("!i" + code).pack
            lines += [
                f"        elif type({p}) is int and {low} <= {p} <= {high}:",
                f"            {b} = _pk{i}({size}, {p})",
            ]
        elif oid == 701 and _builtin(oid, codec):
            ns["_pkd"] = struct.Struct("!id").pack
            lines += [
                f"        elif type({p}) is float:",
                f"            {b} = _pkd(8, {p})",
            ]
        elif oid in _TEXT and _builtin(oid, codec):
            lines += [
                f"        elif type({p}) is str and '\\x00' not in {p}:",
                f"            e = {p}.encode('utf-8')",
                f"            {b} = _len(len(e)) + e",
            ]
        if codec.encode is not None:
            ns[f"_e{i}"] = codec.encode
            lines += [
                "        else:",
                f"            e = _e{i}({p})",
                f"            {b} = _len(len(e)) + e",
            ]
        else:
            lines += ["        else:", "            raise _Slow"]
    lines += [
        "    except Exception:",
        "        return _slow(values)",
        f"    return b''.join(({', '.join(parts)},))",
    ]
    exec("\n".join(lines), ns)
    encode: Callable[[Sequence[Any]], bytes] = ns["encode"]
    return encode
