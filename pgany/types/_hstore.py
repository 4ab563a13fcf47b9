"""hstore (an extension, so its OID differs per database): ``dict[str, str | None]``.

Its codecs are built when a connection meets the type (found by name).
"""

from __future__ import annotations

import struct
from typing import Any

from pgany.errors import DecodeError, EncodeError
from pgany.types._registry import Codec, Format

__all__ = ["hstore_codecs"]

_I32 = struct.Struct("!i")


def _encode_binary(value: Any) -> bytes:
    if not isinstance(value, dict):
        raise EncodeError(
            f"cannot encode {type(value).__name__} as hstore (a dict of str to str or None)"
        )
    parts = [_I32.pack(len(value))]
    for key, item in value.items():
        if not isinstance(key, str) or not (item is None or isinstance(item, str)):
            raise EncodeError("hstore keys must be str and values str or None")
        k = key.encode("utf-8")
        parts.append(_I32.pack(len(k)))
        parts.append(k)
        if item is None:
            parts.append(b"\xff\xff\xff\xff")
        else:
            v = item.encode("utf-8")
            parts.append(_I32.pack(len(v)))
            parts.append(v)
    return b"".join(parts)


def _decode_binary(data: Any) -> dict[str, str | None]:
    data = bytes(data)
    try:
        (count,) = _I32.unpack_from(data, 0)
        pos = 4
        out: dict[str, str | None] = {}
        for _ in range(count):
            (n,) = _I32.unpack_from(data, pos)
            pos += 4
            key = data[pos : pos + n].decode("utf-8")
            pos += n
            (n,) = _I32.unpack_from(data, pos)
            pos += 4
            if n < 0:
                out[key] = None
            else:
                out[key] = data[pos : pos + n].decode("utf-8")
                pos += n
    except (struct.error, UnicodeDecodeError) as exc:
        raise DecodeError(f"malformed hstore value: {exc}") from exc
    if pos != len(data):
        raise DecodeError("malformed hstore value: trailing bytes")
    return out


def hstore_codecs(oid: int) -> list[Codec]:
    """The binary codec of hstore, for the OID it has in this database."""
    return [Codec(oid, "hstore", Format.BINARY, _encode_binary, _decode_binary)]
