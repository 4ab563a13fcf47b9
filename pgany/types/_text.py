"""Text: text, varchar, bpchar, name, "char" and unknown, all as ``str``.

The binary format of the text types is their text in the client encoding
(pgany always uses UTF-8), exactly like the text format. ``"char"`` is one
raw byte (``src/backend/utils/adt/char.c``): 0 reads as ``""``, an ASCII
byte as that character and a byte with the high bit set as ``\\ooo`` (three
octal digits), as PostgreSQL's ``charout`` prints it.
"""

from __future__ import annotations

import re
from typing import Any

from pgany.errors import EncodeError

from ._base import codec_pair, encode_str, registry, type_error
from ._registry import Codec, Decoder, Encoder

__all__ = ["CODECS"]


def _str_codec(name: str) -> tuple[Encoder, Decoder]:
    def encode(value: Any) -> bytes:
        if isinstance(value, str):
            return encode_str(value, name)
        raise type_error(value, name, "str")

    def decode(data: Any) -> str:
        return str(data, "utf-8")

    return encode, decode


def _text_family(oid: int, name: str, array_oid: int) -> list[Codec]:
    # The same functions serve both formats: the bytes are the same.
    pair = _str_codec(name)
    return codec_pair(oid, name, array_oid, pair, pair)


# "char": every byte value, as charout prints it.
_CHAR_DECODED = tuple("" if b == 0 else chr(b) if b < 0x80 else f"\\{b:03o}" for b in range(256))
_CHAR_ENCODED = {text: bytes((b,)) for b, text in enumerate(_CHAR_DECODED)}
_OCTAL = re.compile(r"\\[0-3][0-7][0-7]")


def _encode_char(value: Any) -> bytes:
    if not isinstance(value, str):
        raise type_error(value, '"char"', "str")
    result = _CHAR_ENCODED.get(value)
    if result is not None:
        return result
    if _OCTAL.fullmatch(value):  # \000 .. \177, which charout never prints
        return bytes((int(value[1:], 8),))
    raise EncodeError(
        f'cannot encode {value!r} as "char": it holds one ASCII character, '
        "a \\ooo octal escape, or '' (the zero byte)"
    )


def _decode_char(data: Any) -> str:
    byte: int = data[0]
    return _CHAR_DECODED[byte]


def _encode_char_text(value: Any) -> bytes:
    if not isinstance(value, str):
        raise type_error(value, '"char"', "str")
    return encode_str(value, '"char"')


def _decode_char_text(data: Any) -> str:
    return str(data, "utf-8")


CODECS: list[Codec] = [
    *_text_family(25, "text", 1009),
    *_text_family(1043, "varchar", 1015),
    *_text_family(1042, "bpchar", 1014),
    *_text_family(19, "name", 1003),
    *_text_family(705, "unknown", 0),
    *codec_pair(
        18, "char", 1002, (_encode_char, _decode_char), (_encode_char_text, _decode_char_text)
    ),
]

for _codec in CODECS:
    registry.register(_codec)
