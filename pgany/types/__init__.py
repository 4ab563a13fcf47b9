"""How PostgreSQL values become Python values and back.

:data:`registry` holds the codecs every new connection starts from (each
connection works on a copy-on-write child of it). The codec modules, one
per type family, register themselves into it when this package is imported.
"""

from __future__ import annotations

from ._base import registry
from ._registry import Codec, Decoder, Encoder, Format, TypeRegistry

# Importing the codec modules registers their codecs.
from . import _datetime, _misc, _numeric, _text  # noqa: F401  # isort: skip
from ._interval import Interval  # isort: skip
from ._json import json_codecs  # isort: skip

__all__ = [
    "Codec",
    "Decoder",
    "Encoder",
    "Format",
    "Interval",
    "TypeRegistry",
    "json_codecs",
    "register_codec",
    "registry",
]

for _public in (Codec, Format, TypeRegistry):
    _public.__module__ = __name__


def register_codec(
    type_name: str,
    *,
    oid: int,
    encode: Encoder | None = None,
    decode: Decoder | None = None,
    format: str | Format = "binary",
    array_oid: int = 0,
) -> None:
    """Add or replace the codec of one type, in one format, for all new connections.

    *encode* turns a Python value into the bytes of a parameter; *decode*
    receives the bytes of one field (a ``bytes`` or a ``memoryview``) and
    returns the Python value. *format* is ``"binary"`` or ``"text"`` (or a
    :class:`Format`). Leaving out *encode* or *decode* makes that direction
    fall back to the type's other format, then to text as ``str``. An
    *encode* should raise :exc:`pgany.EncodeError` for a value it can't
    convert. Connections already open are not affected; use the
    connection's ``register_codec`` for one connection.
    """
    if isinstance(format, Format):
        fmt = format
    elif format == "binary":
        fmt = Format.BINARY
    elif format == "text":
        fmt = Format.TEXT
    else:
        raise ValueError(f"format must be 'binary' or 'text', not {format!r}")
    if not isinstance(oid, int) or isinstance(oid, bool) or oid <= 0:
        raise ValueError(f"oid must be a positive int, not {oid!r}")
    registry.register(Codec(oid, type_name, fmt, encode, decode, array_oid))
