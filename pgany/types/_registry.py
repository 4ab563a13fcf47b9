"""The codec registry: how values of each PostgreSQL type (by OID) travel.

There is one global registry (:data:`pgany.types.registry`); each connection
works on a copy-on-write child of it, so registering a codec on a connection
affects that connection alone, and registering on the global registry
affects connections made afterwards.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import Any

__all__ = ["Codec", "Decoder", "Encoder", "Format", "TypeRegistry"]


class Format(enum.IntEnum):
    """The wire format of a value."""

    #: PostgreSQL's text representation (``typinput`` / ``typoutput``).
    TEXT = 0
    #: PostgreSQL's binary representation (``typreceive`` / ``typsend``).
    BINARY = 1


def parse_format(format: str | Format) -> Format:
    """*format* (``"binary"``, ``"text"`` or a :class:`Format`) as a :class:`Format`."""
    if isinstance(format, Format):
        return format
    if format == "binary":
        return Format.BINARY
    if format == "text":
        return Format.TEXT
    raise ValueError(f"format must be 'binary' or 'text', not {format!r}")


#: Turns the bytes of one field (a ``bytes`` or ``memoryview``) into a Python value.
Decoder = Callable[[Any], Any]
#: Turns a Python value into the bytes of one parameter.
Encoder = Callable[[Any], bytes | bytearray]


@dataclass(frozen=True, slots=True)
class Codec:
    """How one PostgreSQL type is encoded and decoded in one format."""

    #: The type's OID.
    oid: int
    #: The type's name as ``pg_type.typname`` spells it (``"int4"``, ``"timestamptz"``).
    name: str
    #: The format *encode* produces and *decode* reads.
    format: Format
    #: Python value -> bytes, or ``None`` when the type can't be sent in this format.
    encode: Encoder | None
    #: bytes -> Python value, or ``None`` when the type can't be read in this format.
    decode: Decoder | None
    #: OID of the array type whose elements are this type (0 if unknown).
    array_oid: int = 0


def _text_decode(data: Any) -> str:
    return bytes(data).decode("utf-8")


def _text_encode(value: Any) -> bytes:
    if isinstance(value, str):
        if "\0" in value:
            from pgany.errors import EncodeError

            raise EncodeError("a text value cannot contain NUL characters")
        return value.encode("utf-8")
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    return str(value).encode("utf-8")


#: The codec used for a type pgany knows nothing about: its text form as ``str``.
FALLBACK_TEXT = Codec(0, "unknown", Format.TEXT, _text_encode, _text_decode)


class TypeRegistry:
    """Codecs keyed by type OID, one binary and one text codec per type.

    ``child()`` makes a copy-on-write view: the child sees the parent's codecs
    as they were when it was made, and its own registrations stay its own.
    """

    __slots__ = ("_binary", "_by_name", "_owned", "_text")

    def __init__(self) -> None:
        self._binary: dict[int, Codec] = {}
        self._text: dict[int, Codec] = {}
        self._by_name: dict[str, int] = {}
        self._owned = True

    def child(self) -> TypeRegistry:
        """A copy-on-write view of this registry (cheap: nothing is copied until written)."""
        new = TypeRegistry.__new__(TypeRegistry)
        new._binary = self._binary
        new._text = self._text
        new._by_name = self._by_name
        new._owned = False
        # The parent must copy too before its next write, or the child would see it.
        self._owned = False
        return new

    def _own(self) -> None:
        if not self._owned:
            self._binary = dict(self._binary)
            self._text = dict(self._text)
            self._by_name = dict(self._by_name)
            self._owned = True

    def register(self, codec: Codec) -> None:
        """Add *codec*, replacing any codec of the same OID and format."""
        self._own()
        table = self._binary if Format(codec.format) is Format.BINARY else self._text
        table[codec.oid] = codec
        self._by_name[codec.name] = codec.oid

    def override(self, codec: Codec) -> None:
        """Make *codec* the way its type travels, in each direction it has.

        A user's codec wins over pgany's own in both formats: *codec* replaces
        the type's codec in its format, and the type's codec in the other
        format gives up the directions *codec* has (a codec left with neither
        is removed). So a text codec with a decoder makes results of the type
        come back as text through it, and binary contexts (binary COPY,
        binary arrays and composites) find no binary decoder to use instead.
        """
        self.register(codec)
        other = Format.TEXT if Format(codec.format) is Format.BINARY else Format.BINARY
        table = self._text if other is Format.TEXT else self._binary
        old = table.get(codec.oid)
        if old is None:
            return
        encode = None if codec.encode is not None else old.encode
        decode = None if codec.decode is not None else old.decode
        if encode is None and decode is None:
            del table[codec.oid]
        else:
            table[codec.oid] = replace(old, encode=encode, decode=decode)

    def remove(self, oid: int, format: Format) -> None:
        """Remove the codec of *oid* in *format*, if there is one."""
        if self.get(oid, format) is not None:
            self._own()
            del (self._binary if format is Format.BINARY else self._text)[oid]

    def get(self, oid: int, format: Format) -> Codec | None:
        """The codec for *oid* in *format*, or ``None``."""
        table = self._binary if format is Format.BINARY else self._text
        return table.get(oid)

    def oid_of(self, name: str) -> int | None:
        """The OID registered under the type name *name*, or ``None``."""
        return self._by_name.get(name)

    def for_result(self, oid: int) -> Codec:
        """The codec to read a result column of type *oid*: binary when pgany has one."""
        codec = self._binary.get(oid)
        if codec is not None and codec.decode is not None:
            return codec
        codec = self._text.get(oid)
        if codec is not None and codec.decode is not None:
            return codec
        return FALLBACK_TEXT

    def for_param(self, oid: int) -> Codec:
        """The codec to send a parameter of type *oid*: binary when pgany has one."""
        codec = self._binary.get(oid)
        if codec is not None and codec.encode is not None:
            return codec
        codec = self._text.get(oid)
        if codec is not None and codec.encode is not None:
            return codec
        return FALLBACK_TEXT

    def __iter__(self) -> Iterator[Codec]:
        yield from self._binary.values()
        yield from self._text.values()


_builtins: TypeRegistry | None = None


def keep_builtins(registry: TypeRegistry) -> None:
    """Keep *registry* as it is now as pgany's own codecs (called once, by pgany.types)."""
    global _builtins
    _builtins = registry.child()  # (copy-on-write: later registrations do not reach it)


def builtin_registry() -> TypeRegistry:
    """pgany's own codecs, whatever is registered later.

    The generated fast paths inline a type's conversion only when its codec
    is still pgany's own; pgany's catalog queries never meet a user's codec.
    """
    assert _builtins is not None, "pgany.types is not imported yet"
    return _builtins
