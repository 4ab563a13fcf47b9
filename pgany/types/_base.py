"""The global registry and the helpers every codec module shares.

Each codec module registers its codecs into :data:`registry` when imported;
:mod:`pgany.types` imports them all.
"""

from __future__ import annotations

import operator
import struct
from collections.abc import Callable
from typing import Any

from pgany.errors import EncodeError

from ._registry import Codec, Decoder, Encoder, Format, TypeRegistry

__all__ = [
    "INT32_MAX",
    "INT32_MIN",
    "INT64_MAX",
    "INT64_MIN",
    "as_int",
    "codec_pair",
    "encode_str",
    "registry",
    "type_error",
    "unpack_int4",
    "unpack_int8",
]

#: The registry every new connection starts from (as a copy-on-write child).
registry = TypeRegistry()

INT32_MIN = -(2**31)
INT32_MAX = 2**31 - 1
INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1

#: ``struct.Struct.unpack`` of a big-endian int32 / int64, typed for mypy.
unpack_int4: Callable[[Any], tuple[int]] = struct.Struct(">i").unpack
unpack_int8: Callable[[Any], tuple[int]] = struct.Struct(">q").unpack


def type_error(value: object, pg_type: str, expected: str | None = None) -> EncodeError:
    """The error for a Python value of a type that *pg_type* cannot be encoded from."""
    message = f"cannot encode {type(value).__name__} as {pg_type}"
    if expected:
        message = f"{message} (expected {expected})"
    return EncodeError(message)


def encode_str(value: str, pg_type: str) -> bytes:
    """*value* as UTF-8, refusing what PostgreSQL cannot store (NUL, lone surrogates)."""
    if "\x00" in value:
        raise EncodeError(f"cannot encode a str containing NUL (\\x00) as {pg_type}")
    try:
        return value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise EncodeError(f"cannot encode str as {pg_type}: {exc}") from exc


def as_int(value: object, pg_type: str) -> int:
    """*value* as an ``int``: ints and objects with ``__index__``, never bool or float."""
    if isinstance(value, bool):
        raise type_error(value, pg_type, "int")
    if isinstance(value, float):
        raise type_error(value, pg_type, "int; convert floats with int() or round()")
    try:
        return operator.index(value)  # type: ignore[arg-type]
    except TypeError as exc:
        raise type_error(value, pg_type, "int") from exc


def codec_pair(
    oid: int,
    name: str,
    array_oid: int,
    binary: tuple[Encoder, Decoder],
    text: tuple[Encoder, Decoder],
) -> list[Codec]:
    """The binary and the text codec of one type, from ``(encode, decode)`` pairs."""
    return [
        Codec(oid, name, Format.BINARY, binary[0], binary[1], array_oid),
        Codec(oid, name, Format.TEXT, text[0], text[1], array_oid),
    ]
