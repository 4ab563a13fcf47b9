"""Bit strings: bit and varbit, as ``str`` of ``0`` and ``1``.

Binary format (``bit_send`` / ``varbit_send`` in
``src/backend/utils/adt/varbit.c``): int32 length in bits, then the bits,
most significant first, packed into bytes and padded with zero bits at the
end. The text format is the digits themselves. Parameters are ``str`` of
``0`` and ``1`` (the text format also takes PostgreSQL's ``x1F`` hex form).
"""

from __future__ import annotations

import re
import struct
from collections.abc import Callable
from typing import Any

from pgany.errors import DecodeError, EncodeError

from ._base import codec_pair, encode_str, registry, type_error
from ._registry import Codec

__all__ = ["CODECS"]

_int4 = struct.Struct(">i")
_pack_int4 = _int4.pack
_unpack_int4_from: Callable[[Any, int], tuple[int]] = _int4.unpack_from
_BITS = re.compile(r"[01]*")


def _bit_codecs(oid: int, name: str, array_oid: int) -> list[Codec]:
    def encode(value: Any) -> bytes:
        if not isinstance(value, str):
            raise type_error(value, name, "str of 0 and 1")
        if not _BITS.fullmatch(value):
            raise EncodeError(f"cannot encode {value[:40]!r} as {name}: only 0 and 1 allowed")
        nbits = len(value)
        if not nbits:
            return _pack_int4(0)
        nbytes = (nbits + 7) // 8
        return _pack_int4(nbits) + (int(value, 2) << (nbytes * 8 - nbits)).to_bytes(nbytes, "big")

    def decode(data: Any) -> str:
        nbits = _unpack_int4_from(data, 0)[0]
        nbytes = (nbits + 7) // 8
        if nbits < 0 or len(data) != 4 + nbytes:
            raise DecodeError(f"invalid {name}: {nbits} bits in {len(data) - 4} bytes")
        if not nbits:
            return ""
        return format(int.from_bytes(data[4:], "big"), f"0{nbytes * 8}b")[:nbits]

    def encode_text(value: Any) -> bytes:
        if isinstance(value, str):
            return encode_str(value, name)
        raise type_error(value, name, "str of 0 and 1")

    def decode_text(data: Any) -> str:
        return str(data, "ascii")

    return codec_pair(oid, name, array_oid, (encode, decode), (encode_text, decode_text))


CODECS: list[Codec] = [*_bit_codecs(1560, "bit", 1561), *_bit_codecs(1562, "varbit", 1563)]

for _codec in CODECS:
    registry.register(_codec)
