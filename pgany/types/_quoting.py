"""Quoting in the text forms of ranges and composites (``range_out``, ``record_out``).

Both quote a value with double quotes when it is empty or holds a special
character or whitespace, and double every ``"`` and ``\\`` inside the
quotes. Their parsers also take a ``\\`` escape anywhere, and quoted and
unquoted stretches within one value.
"""

from __future__ import annotations

import re

__all__ = ["field_pattern", "needs_quotes_pattern", "quote", "unquote"]

_QUOTED_OR_ESCAPE = re.compile(rb'"((?:[^"\\]|\\.|"")*)"|\\(.)', re.S)
_INNER = re.compile(rb'\\(.)|""', re.S)


def field_pattern(stops: bytes) -> re.Pattern[bytes]:
    """A pattern matching one (maybe empty) raw value up to an unquoted byte of *stops*."""
    stop_class = re.escape(stops).decode("ascii")
    return re.compile(rf'(?:"(?:[^"\\]|\\.|"")*"|\\.|[^"\\{stop_class}])*'.encode(), re.S)


def needs_quotes_pattern(specials: bytes) -> re.Pattern[bytes]:
    """A pattern found in a value that must be quoted: empty, whitespace, or a *specials* byte."""
    special_class = re.escape(specials).decode("ascii")
    return re.compile(rf'[\s"\\{special_class}]|\A\Z'.encode())


def _inner(match: re.Match[bytes]) -> bytes:
    return match.group(1) or b'"'


def _unquote_part(match: re.Match[bytes]) -> bytes:
    quoted = match.group(1)
    if quoted is None:
        return match.group(2)
    return _INNER.sub(_inner, quoted) if b"\\" in quoted or b'""' in quoted else quoted


def unquote(raw: bytes) -> bytes:
    """The value a raw field (as :func:`field_pattern` matched it) stands for."""
    if b'"' not in raw and b"\\" not in raw:
        return raw
    return _QUOTED_OR_ESCAPE.sub(_unquote_part, raw)


def quote(data: bytes, needs_quotes: re.Pattern[bytes]) -> bytes:
    """*data* as a field: quoted (with ``"`` and ``\\`` doubled) if *needs_quotes* finds anything."""
    if needs_quotes.search(data) is None:
        return data
    return b'"' + data.replace(b"\\", b"\\\\").replace(b'"', b'""') + b'"'
