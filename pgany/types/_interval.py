"""interval, and :class:`Interval`, its exact Python value.

Binary format (``interval_send`` in ``src/backend/utils/adt/timestamp.c``):
int64 microseconds, int32 days, int32 months. PostgreSQL 17's
``infinity`` / ``-infinity`` set all three to their maximum / minimum;
before 17 those values are an ordinary (if huge) interval, so a connection
to an older server uses the codecs of :func:`finite_codecs` instead
(:func:`register_for_server`).
The text decoder reads ``IntervalStyle = postgres`` (the default).
"""

from __future__ import annotations

import re
import struct
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from pgany.errors import DecodeError, EncodeError

from ._base import INT32_MAX, INT32_MIN, INT64_MAX, INT64_MIN, codec_pair, encode_str, registry
from ._base import type_error as _type_error
from ._registry import Codec, TypeRegistry

__all__ = ["CODECS", "Interval", "register_for_server"]

_US_PER_DAY = 86_400_000_000
_US = timedelta(microseconds=1)


@dataclass(frozen=True, slots=True)
class Interval:
    """A PostgreSQL ``interval``: months, days and microseconds, kept apart.

    PostgreSQL keeps the three fields apart because they are not
    interchangeable: a month is 28 to 31 days, and a day is 23 to 25 hours
    across a daylight saving change. So ``Interval`` holds them exactly, and
    ``str()`` prints them as PostgreSQL does (``1 year 2 mons 3 days
    04:05:06.000007``). The infinite intervals of PostgreSQL 17 are
    ``Interval(2**31 - 1, 2**31 - 1, 2**63 - 1)`` (``infinity``) and the
    same with the minimums (``-infinity``).

    Equality is field by field: ``Interval(months=1) != Interval(days=30)``,
    although PostgreSQL's ``=`` holds ``'1 mon' = '30 days'`` true.
    Parameters of type interval also accept :class:`datetime.timedelta`.
    """

    __module__ = "pgany"

    #: Months (a year is 12).
    months: int = 0
    #: Days.
    days: int = 0
    #: Microseconds (the hours, minutes, seconds and fractions).
    microseconds: int = 0
    # Set on the extreme values read from a server older than PostgreSQL 17,
    # where they are finite. Not part of equality or the repr.
    _finite: bool = field(default=False, compare=False, repr=False, kw_only=True)

    @property
    def is_infinite(self) -> bool:
        """Whether this is PostgreSQL's ``infinity`` or ``-infinity`` interval.

        Always false for an interval read from a server older than
        PostgreSQL 17, which has no infinite intervals.
        """
        return not self._finite and self in _INFINITIES

    def to_timedelta(self, *, days_per_month: int | None = None) -> timedelta:
        """This interval as a :class:`~datetime.timedelta`, counting a day as 24 hours.

        A month has no fixed length, so an interval with months raises
        :exc:`ValueError` unless *days_per_month* says how many days a month
        counts for (PostgreSQL itself uses 30 where it must, as in
        ``justify_days``). Infinite intervals raise :exc:`ValueError`, and a
        result beyond ``timedelta.max`` raises :exc:`OverflowError`.
        """
        if self.is_infinite:
            raise ValueError(f"{self} has no timedelta")
        days = self.days
        if self.months:
            if days_per_month is None:
                raise ValueError(
                    f"cannot convert {self} to a timedelta: months have no fixed length; "
                    "pass days_per_month (PostgreSQL uses 30) to count them as days"
                )
            days += self.months * days_per_month
        return timedelta(days=days, microseconds=self.microseconds)

    @classmethod
    def from_timedelta(cls, value: timedelta) -> Interval:
        """The interval of *value*'s days and time, both with *value*'s sign.

        ``timedelta(days=-1, seconds=86399)`` (one second before zero) gives
        ``Interval(0, 0, -1_000_000)``, printed ``-00:00:01``.
        """
        total = value // _US
        days, us = divmod(abs(total), _US_PER_DAY)
        if total < 0:
            return cls(0, -days, -us)
        return cls(0, days, us)

    def __str__(self) -> str:
        # EncodeInterval(), INTSTYLE_POSTGRES, in src/backend/utils/adt/datetime.c.
        if self.is_infinite:
            return "infinity" if self.months > 0 else "-infinity"
        years = abs(self.months) // 12
        months = abs(self.months) % 12
        if self.months < 0:
            years, months = -years, -months
        parts = []
        before = False  # was the previous field negative?
        for value, unit in ((years, "year"), (months, "mon"), (self.days, "day")):
            if value:
                plus = "+" if before and value > 0 else ""
                plural = "" if value == 1 else "s"
                parts.append(f"{plus}{value} {unit}{plural}")
                before = value < 0
        us = self.microseconds
        if us or not parts:
            sign = "-" if us < 0 else "+" if before else ""
            hours, rest = divmod(abs(us), 3_600_000_000)
            minutes, rest = divmod(rest, 60_000_000)
            seconds, fraction = divmod(rest, 1_000_000)
            clock = f"{sign}{hours:02d}:{minutes:02d}:{seconds:02d}"
            if fraction:
                clock += f".{fraction:06d}".rstrip("0")
            parts.append(clock)
        return " ".join(parts)


_INFINITIES = (
    Interval(INT32_MAX, INT32_MAX, INT64_MAX),
    Interval(INT32_MIN, INT32_MIN, INT64_MIN),
)

_interval = struct.Struct(">qii")
_pack_interval = _interval.pack
_unpack_interval: Callable[[Any], tuple[int, int, int]] = _interval.unpack


def _as_interval(value: Any) -> Interval:
    if isinstance(value, Interval):
        return value
    if isinstance(value, timedelta):
        return Interval.from_timedelta(value)
    raise _type_error(value, "interval", "pgany.Interval or datetime.timedelta")


def _encode_interval(value: Any) -> bytes:
    value = _as_interval(value)
    try:
        return _pack_interval(value.microseconds, value.days, value.months)
    except struct.error as exc:
        raise EncodeError(
            f"cannot encode {value!r} as interval: months and days are 32-bit integers "
            "and microseconds a 64-bit integer"
        ) from exc


def _decode_interval(data: Any) -> Interval:
    us, days, months = _unpack_interval(data)
    return Interval(months, days, us)


def _encode_interval_text(value: Any) -> bytes:
    if isinstance(value, str):
        return encode_str(value, "interval")
    _encode_interval(value)  # the checks
    return str(_as_interval(value)).encode("ascii")


_INTERVAL_TEXT = re.compile(
    r"(?:([+-]?\d+) years? ?)?(?:([+-]?\d+) mons? ?)?(?:([+-]?\d+) days? ?)?"
    r"(?:([+-])?(\d+):(\d\d):(\d\d)(?:\.(\d{1,6}))?)?"
)


def _decode_interval_text(data: Any) -> Interval:
    text = str(data, "ascii")
    match = _INTERVAL_TEXT.fullmatch(text)
    if match is None or not text:
        if text == "infinity":
            return _INFINITIES[0]
        if text == "-infinity":
            return _INFINITIES[1]
        raise DecodeError(f"cannot parse {text!r} as an interval (IntervalStyle must be postgres)")
    years, months, days, sign, hours, minutes, seconds, fraction = match.groups()
    us = 0
    if hours is not None:
        us = (int(hours) * 3600 + int(minutes) * 60 + int(seconds)) * 1_000_000
        if fraction:
            us += int(fraction.ljust(6, "0"))
        if sign == "-":
            us = -us
    return Interval(int(years or 0) * 12 + int(months or 0), int(days or 0), us)


def _finite(value: Interval) -> Interval:
    """*value*, marked finite if it has the extreme fields (a pre-17 server's reading)."""
    if value.months in _EXTREME_MONTHS and value in _INFINITIES:
        return Interval(value.months, value.days, value.microseconds, _finite=True)
    return value


_EXTREME_MONTHS = (INT32_MAX, INT32_MIN)
_NO_INFINITY = (
    "cannot send an infinite interval: PostgreSQL has them from version 17, "
    "and this server would read the value as a finite interval"
)


def _encode_interval_pre17(value: Any) -> bytes:
    value = _as_interval(value)
    if value.is_infinite:
        raise EncodeError(_NO_INFINITY)
    return _encode_interval(value)


def _decode_interval_pre17(data: Any) -> Interval:
    return _finite(_decode_interval(data))


def _encode_interval_text_pre17(value: Any) -> bytes:
    if isinstance(value, str):
        return encode_str(value, "interval")
    value = _as_interval(value)
    if value.is_infinite:
        raise EncodeError(_NO_INFINITY)
    return _encode_interval_text(value)


def _decode_interval_text_pre17(data: Any) -> Interval:
    return _finite(_decode_interval_text(data))


CODECS: list[Codec] = codec_pair(
    1186,
    "interval",
    1187,
    (_encode_interval, _decode_interval),
    (_encode_interval_text, _decode_interval_text),
)

for _codec in CODECS:
    registry.register(_codec)

#: The codecs a connection to a server older than PostgreSQL 17 uses instead.
PRE17_CODECS: list[Codec] = codec_pair(
    1186,
    "interval",
    1187,
    (_encode_interval_pre17, _decode_interval_pre17),
    (_encode_interval_text_pre17, _decode_interval_text_pre17),
)


def register_for_server(registry: TypeRegistry, server_version: int) -> bool:
    """Fit *registry* (a connection's) to its server; True if a codec was replaced.

    Before PostgreSQL 17 there is no infinite interval: pgany's own interval
    codecs are swapped for ones that read the extreme values as finite and
    refuse to send an infinite :class:`Interval`. A codec the user registered
    stays as it is. (The caller rebuilds the array codecs.)
    """
    if server_version >= 170000 or server_version == 0:
        return False
    changed = False
    for own, pre17 in zip(CODECS, PRE17_CODECS, strict=True):
        if registry.get(own.oid, own.format) is own:
            registry.register(pre17)
            changed = True
    return changed
