"""How PostgreSQL values become Python values and back.

:data:`registry` holds the codecs every new connection starts from (each
connection works on a copy-on-write child of it). The codec modules, one
per type family, register themselves into it when this package is imported.
"""

from __future__ import annotations

from ._base import registry
from ._registry import (
    Codec,
    Decoder,
    Encoder,
    Format,
    TypeRegistry,
    keep_builtins,
    parse_format,
)

# Importing the codec modules registers their codecs.
from . import _bit, _datetime, _misc, _network, _numeric, _strings, _text  # noqa: F401  # isort: skip
from ._interval import Interval  # isort: skip
from ._json import json_codecs  # isort: skip
from ._geometry import Box, Circle, Line, LineSegment, Path, Point, Polygon  # isort: skip
from ._range import Range, multirange_codecs, range_codecs  # isort: skip
from ._array import array_codecs, register_array_of, register_array_types  # isort: skip
from ._dynamic import composite_codecs, domain_codecs, enum_codecs  # isort: skip

# Last, once every scalar type (ranges and multiranges too) is in: their arrays.
register_array_types(registry)

# pgany's own codecs as registered above, whatever is registered later (see
# _registry.builtin_registry).
keep_builtins(registry)

__all__ = [
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

for _public in (Codec, Format, TypeRegistry, register_array_types):
    _public.__module__ = __name__


def register_codec(
    type_name: str,
    *,
    oid: int | None = None,
    encode: Encoder | None = None,
    decode: Decoder | None = None,
    format: str | Format = "binary",
    array_oid: int = 0,
) -> None:
    """Add or replace the codec of one type, in one format, for all new connections.

    *encode* turns a Python value into the bytes of a parameter; *decode*
    receives the bytes of one field (a ``bytes`` or a ``memoryview``) and
    returns the Python value. *format* is ``"binary"`` or ``"text"`` (or a
    :class:`Format`): the registered codec wins over pgany's own in both
    formats, so values of the type travel in *format* wherever pgany picks
    the format (results, parameters, arrays, composite fields). Leaving out
    *encode* or *decode* makes that direction fall back to the type's other
    format, then to text as ``str``. An *encode* should raise
    :exc:`pgany.EncodeError` for a value it can't convert. *oid* may be left
    out for a type pgany knows by *type_name* (the built-in types). The
    type's array type (*array_oid*, or the one the type already had) is
    rebuilt from the new codec, so arrays follow it. Connections already
    open are not affected; use the connection's ``register_codec`` for one
    connection.
    """
    fmt = parse_format(format)
    if oid is None:
        oid = registry.oid_of(type_name)
        if oid is None:
            raise ValueError(f"pgany does not know the type {type_name!r}: give its oid")
    if not isinstance(oid, int) or isinstance(oid, bool) or oid <= 0:
        raise ValueError(f"oid must be a positive int, not {oid!r}")
    old_array_oids = [
        c.array_oid for c in (registry.get(oid, Format.BINARY), registry.get(oid, Format.TEXT)) if c
    ]
    registry.override(
        Codec(oid, type_name, fmt, encode, decode, array_oid or max(old_array_oids, default=0))
    )
    for array in {array_oid, *old_array_oids} - {0}:
        register_array_of(registry, oid, array)
