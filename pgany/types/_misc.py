"""bool, bytea and uuid.

Binary formats: bool is one byte, 1 or 0 (``bool.c``); bytea is the bytes
themselves (``varlena.c``); uuid is its 16 bytes (``uuid.c``). In text,
bool is ``t`` / ``f``, bytea is ``\\x`` and hex digits (``bytea_output =
hex``; the older ``escape`` output is read too), uuid is the usual
hyphenated form.
"""

from __future__ import annotations

import binascii
import re
import uuid
from typing import Any

from pgany.errors import EncodeError

from ._base import codec_pair, encode_str, registry, type_error
from ._registry import Codec

__all__ = ["CODECS"]


# -- bool -----------------------------------------------------------------------------------


def _encode_bool(value: Any) -> bytes:
    if value is True:
        return b"\x01"
    if value is False:
        return b"\x00"
    raise type_error(value, "bool", "bool")


def _decode_bool(data: Any) -> bool:
    byte: int = data[0]
    return byte != 0


def _encode_bool_text(value: Any) -> bytes:
    if value is True:
        return b"t"
    if value is False:
        return b"f"
    if isinstance(value, str):
        return encode_str(value, "bool")
    raise type_error(value, "bool", "bool")


def _decode_bool_text(data: Any) -> bool:
    byte: int = data[0]
    return byte == 0x74  # "t"


# -- bytea ----------------------------------------------------------------------------------


def _encode_bytea(value: Any) -> bytes:
    if type(value) is bytes:
        return value
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    raise type_error(value, "bytea", "bytes, bytearray or memoryview")


def _decode_bytea(data: Any) -> bytes:
    return bytes(data)


def _encode_bytea_text(value: Any) -> bytes:
    if isinstance(value, str):
        return encode_str(value, "bytea")
    if isinstance(value, (bytes, bytearray, memoryview)):
        return b"\\x" + binascii.hexlify(value)
    raise type_error(value, "bytea", "bytes, bytearray or memoryview")


_ESCAPE = re.compile(rb"\\([0-3][0-7][0-7]|\\)")


def _unescape(match: re.Match[bytes]) -> bytes:
    code = match.group(1)
    return b"\\" if code == b"\\" else bytes((int(code, 8),))


def _decode_bytea_text(data: Any) -> bytes:
    if data[:2] == b"\\x":
        return binascii.unhexlify(data[2:])
    # bytea_output = escape: \\ is a backslash, \ooo an octal byte.
    return _ESCAPE.sub(_unescape, bytes(data))


# -- uuid -----------------------------------------------------------------------------------

_UUID = uuid.UUID
_new_uuid = uuid.UUID.__new__
_set = object.__setattr__
_SAFE_UNKNOWN = uuid.SafeUUID.unknown


def _as_uuid(value: Any) -> uuid.UUID:
    if isinstance(value, _UUID):
        return value
    if isinstance(value, str):
        try:
            return _UUID(value)
        except ValueError as exc:
            raise EncodeError(f"cannot encode {value!r} as uuid: {exc}") from exc
    raise type_error(value, "uuid", "uuid.UUID or str")


def _encode_uuid(value: Any) -> bytes:
    if type(value) is _UUID:
        return value.bytes
    return _as_uuid(value).bytes


def _decode_uuid(data: Any) -> uuid.UUID:
    # What UUID.__init__ does, without its argument parsing: about 3x faster.
    result = _new_uuid(_UUID)
    _set(result, "int", int.from_bytes(data, "big"))
    _set(result, "is_safe", _SAFE_UNKNOWN)
    return result


def _encode_uuid_text(value: Any) -> bytes:
    if isinstance(value, str):
        return encode_str(value, "uuid")
    return str(_as_uuid(value)).encode("ascii")


def _decode_uuid_text(data: Any) -> uuid.UUID:
    return _UUID(str(data, "ascii"))


CODECS: list[Codec] = [
    *codec_pair(
        16, "bool", 1000, (_encode_bool, _decode_bool), (_encode_bool_text, _decode_bool_text)
    ),
    *codec_pair(
        17,
        "bytea",
        1001,
        (_encode_bytea, _decode_bytea),
        (_encode_bytea_text, _decode_bytea_text),
    ),
    *codec_pair(
        2950, "uuid", 2951, (_encode_uuid, _decode_uuid), (_encode_uuid_text, _decode_uuid_text)
    ),
]

for _codec in CODECS:
    registry.register(_codec)
