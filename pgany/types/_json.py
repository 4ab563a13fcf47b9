"""json and jsonb: a decoded JSON value in Python; parameters are JSON-dumped.

A ``str`` parameter becomes a JSON string (``"abc"`` is sent as ``"\\"abc\\""``);
send already-serialized JSON as a ``text`` parameter and cast it in SQL.

The binary format of json is its text; jsonb's is a version byte (1)
followed by the text (``src/backend/utils/adt/jsonb.c``).
:func:`json_codecs` builds the codecs with other ``loads`` / ``dumps``
functions (orjson, a ``parse_float=Decimal`` loads, ...).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from pgany.errors import DecodeError, EncodeError

from ._base import codec_pair, registry
from ._registry import Codec

__all__ = ["CODECS", "json_codecs"]

_JSONB_VERSION = 1

#: Compact, UTF-8 (not ``\\u`` escapes), and no NaN / Infinity, which PostgreSQL refuses.
_default_dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode


def json_codecs(
    loads: Callable[[str | bytes], Any] | None = None,
    dumps: Callable[[Any], str | bytes] | None = None,
) -> list[Codec]:
    """The codecs of json and jsonb, in both formats, using *loads* and *dumps*.

    *loads* receives the JSON text as UTF-8 ``bytes`` and defaults to
    :func:`json.loads`; *dumps* may return ``str`` or UTF-8 ``bytes`` and
    defaults to a compact :func:`json.dumps` that refuses NaN and infinities.
    Register the result (``for codec in json_codecs(...): registry.register(codec)``)
    to use them.
    """
    dump = _default_dumps if dumps is None else dumps
    load: Callable[[Any], Any]
    if loads is None:
        # json.loads on bytes sniffs the encoding first; the text is UTF-8, so
        # decode it and go straight to the decoder.
        decoder = json.JSONDecoder().decode

        def load(raw: bytes) -> Any:
            return decoder(raw.decode("utf-8"))

    else:
        load = loads

    def encode_json(value: Any) -> bytes:
        try:
            result = dump(value)
        except Exception as exc:
            raise EncodeError(f"cannot encode {type(value).__name__} as JSON: {exc}") from exc
        if isinstance(result, str):
            try:
                return result.encode("utf-8")
            except UnicodeEncodeError as exc:
                raise EncodeError(f"cannot encode {type(value).__name__} as JSON: {exc}") from exc
        return bytes(result)

    def decode_json(data: Any) -> Any:
        return load(bytes(data))

    def encode_jsonb(value: Any) -> bytes:
        return b"\x01" + encode_json(value)

    def decode_jsonb(data: Any) -> Any:
        if data[0] != _JSONB_VERSION:
            raise DecodeError(f"unsupported jsonb binary format version {data[0]}")
        return load(bytes(data[1:]))

    return [
        *codec_pair(114, "json", 199, (encode_json, decode_json), (encode_json, decode_json)),
        *codec_pair(3802, "jsonb", 3807, (encode_jsonb, decode_jsonb), (encode_json, decode_json)),
    ]


json_codecs.__module__ = "pgany.types"

CODECS: list[Codec] = json_codecs()

for _codec in CODECS:
    registry.register(_codec)
