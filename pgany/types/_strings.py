"""Types read as ``str`` whose wire formats are not plain text: pg_lsn, money,
tsvector, tsquery and xml.

- pg_lsn: binary uint64 (``pg_lsn_send``), text ``16/B374D848`` (the high
  and low 32 bits in hex); parameters are ``str`` or an ``int``.
- money: only a text codec, so results come in text format: the binary
  format is int64 cents, but how many digits are cents depends on the
  server's ``lc_monetary``, which the text (``$1,234.56``) already applies.
  Parameters are ``str``, ``int`` or :class:`decimal.Decimal`.
- tsvector, tsquery: only text codecs (their binary formats are internal
  structures); ``str`` both ways.
- xml: read in either format as ``str``; sent in text format only, because
  ``xml_recv`` would believe an ``encoding="..."`` declaration in the
  document over the UTF-8 pgany sends, while text input is converted first.
"""

from __future__ import annotations

import re
import struct
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from pgany.errors import DecodeError, EncodeError

from ._base import as_int, codec_pair, encode_str, registry, type_error
from ._registry import Codec, Format

__all__ = ["CODECS"]


def _decode_str(data: Any) -> str:
    return str(data, "utf-8")


def _str_encoder(name: str) -> Callable[[Any], bytes]:
    def encode(value: Any) -> bytes:
        if isinstance(value, str):
            return encode_str(value, name)
        raise type_error(value, name, "str")

    return encode


# -- pg_lsn -----------------------------------------------------------------------------------

_uint8 = struct.Struct(">Q")
_pack_uint8 = _uint8.pack
_unpack_uint8: Callable[[Any], tuple[int]] = _uint8.unpack
_LSN = re.compile(r"([0-9A-Fa-f]{1,8})/([0-9A-Fa-f]{1,8})")


def _lsn_int(value: Any) -> int:
    if isinstance(value, str):
        match = _LSN.fullmatch(value.strip())
        if match is None:
            raise EncodeError(
                f"cannot encode {value[:40]!r} as pg_lsn (expected like '16/B374D848')"
            )
        return int(match.group(1), 16) << 32 | int(match.group(2), 16)
    number = as_int(value, "pg_lsn")
    if not 0 <= number < 2**64:
        raise EncodeError(f"{number} is out of range for pg_lsn (0 to 2**64 - 1)")
    return number


def _lsn_text(number: int) -> str:
    return f"{number >> 32:X}/{number & 0xFFFFFFFF:X}"


def _encode_lsn(value: Any) -> bytes:
    return _pack_uint8(_lsn_int(value))


def _decode_lsn(data: Any) -> str:
    return _lsn_text(_unpack_uint8(data)[0])


def _encode_lsn_text(value: Any) -> bytes:
    return _lsn_text(_lsn_int(value)).encode("ascii")


# -- money ------------------------------------------------------------------------------------


def _encode_money_text(value: Any) -> bytes:
    if isinstance(value, str):
        return encode_str(value, "money")
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise EncodeError(f"cannot encode {value} as money")
        return format(value, "f").encode("ascii")
    if isinstance(value, float):
        raise type_error(value, "money", "str, int or decimal.Decimal; floats lose cents")
    return b"%d" % as_int(value, "money")


# -- xml --------------------------------------------------------------------------------------


def _decode_xml(data: Any) -> str:
    try:
        return str(data, "utf-8")
    except UnicodeDecodeError as exc:
        raise DecodeError(f"xml value is not valid UTF-8: {exc}") from exc


CODECS: list[Codec] = [
    *codec_pair(
        3220,
        "pg_lsn",
        3221,
        (_encode_lsn, _decode_lsn),
        (_encode_lsn_text, _decode_str),
    ),
    Codec(790, "money", Format.TEXT, _encode_money_text, _decode_str, 791),
    Codec(3614, "tsvector", Format.TEXT, _str_encoder("tsvector"), _decode_str, 3643),
    Codec(3615, "tsquery", Format.TEXT, _str_encoder("tsquery"), _decode_str, 3645),
    Codec(142, "xml", Format.BINARY, None, _decode_xml, 143),
    Codec(142, "xml", Format.TEXT, _str_encoder("xml"), _decode_xml, 143),
]

for _codec in CODECS:
    registry.register(_codec)
