"""Dates and times: date, time, timetz, timestamp and timestamptz.

Binary formats (``src/backend/utils/adt/date.c``, ``timestamp.c``):

- date: int32 days since 2000-01-01; ``infinity`` / ``-infinity`` are the
  int32 maximum / minimum, read as :attr:`date.max <datetime.date.max>` /
  :attr:`date.min <datetime.date.min>` (and written back from them).
- time: int64 microseconds since midnight (up to and including 24:00:00,
  which Python cannot hold).
- timetz: the time as above, then int32 seconds *west* of UTC (the sign is
  the opposite of ISO 8601's: UTC+02 is -7200).
- timestamp / timestamptz: int64 microseconds since 2000-01-01 00:00 (UTC
  for timestamptz); ``infinity`` / ``-infinity`` are the int64 maximum /
  minimum, read as :attr:`datetime.max <datetime.datetime.max>` /
  :attr:`datetime.min <datetime.datetime.min>` (aware, in UTC, for
  timestamptz).

All arithmetic is on integers (``timedelta`` with integer microseconds), so
every microsecond is exact, before 1970 and 2000 too. A value Python cannot
hold (before year 1, after year 9999, 24:00:00) raises
:class:`~pgany.errors.DecodeError`.

The text decoders read PostgreSQL's output with ``DateStyle = ISO``, the
setting pgany asks for.
"""

from __future__ import annotations

import re
import struct
from collections.abc import Callable
from datetime import date, datetime, time, timedelta, timezone, tzinfo
from typing import Any

from pgany.errors import DecodeError, EncodeError

from ._base import (
    INT32_MAX,
    INT32_MIN,
    INT64_MAX,
    INT64_MIN,
    codec_pair,
    encode_str,
    registry,
    type_error,
    unpack_int4,
    unpack_int8,
)
from ._registry import Codec

__all__ = ["CODECS"]

_UTC = timezone.utc
_timedelta = timedelta
_fromordinal = date.fromordinal
_pack_int4 = struct.Struct(">i").pack
_pack_int8 = struct.Struct(">q").pack

_US = timedelta(microseconds=1)
_EPOCH_ORDINAL = date(2000, 1, 1).toordinal()
_DATE_MAX_ORDINAL = date.max.toordinal()
_DATE_MIN_ORDINAL = date.min.toordinal()
_EPOCH = datetime(2000, 1, 1)
_EPOCH_UTC = datetime(2000, 1, 1, tzinfo=_UTC)
_DATETIME_MAX_US = (datetime.max - _EPOCH) // _US
_DATETIME_MIN_US = (datetime.min - _EPOCH) // _US
_DATETIME_MAX_UTC = datetime.max.replace(tzinfo=_UTC)
_DATETIME_MIN_UTC = datetime.min.replace(tzinfo=_UTC)

_DATE_PINF = _pack_int4(INT32_MAX)
_DATE_NINF = _pack_int4(INT32_MIN)
_TIMESTAMP_PINF = _pack_int8(INT64_MAX)
_TIMESTAMP_NINF = _pack_int8(INT64_MIN)

# timetz_recv refuses a displacement of 16 hours or more.
_TZDISP_LIMIT = 16 * 3600


# -- date -----------------------------------------------------------------------------------


def _check_date(value: Any) -> date:
    if type(value) is date:
        return value
    if isinstance(value, datetime):
        raise type_error(value, "date", "datetime.date; call .date() on a datetime")
    if isinstance(value, date):
        return value
    raise type_error(value, "date", "datetime.date")


def _date_out_of_range(days: int) -> date:
    if days == INT32_MAX:
        return date.max
    if days == INT32_MIN:
        return date.min
    where = "after 9999-12-31" if days > 0 else "before 0001-01-01"
    raise DecodeError(f"date out of range for Python: a date {where}")


def _encode_date(value: Any) -> bytes:
    ordinal = _check_date(value).toordinal()
    if ordinal == _DATE_MAX_ORDINAL:
        return _DATE_PINF
    if ordinal == _DATE_MIN_ORDINAL:
        return _DATE_NINF
    return _pack_int4(ordinal - _EPOCH_ORDINAL)


def _decode_date(data: Any) -> date:
    days = unpack_int4(data)[0]
    try:
        return _fromordinal(days + _EPOCH_ORDINAL)
    except (ValueError, OverflowError):
        return _date_out_of_range(days)


def _encode_date_text(value: Any) -> bytes:
    if isinstance(value, str):
        return encode_str(value, "date")
    day = _check_date(value)
    if day == date.max:
        return b"infinity"
    if day == date.min:
        return b"-infinity"
    return day.isoformat().encode("ascii")


_DATE_TEXT = re.compile(r"(\d{4,})-(\d\d)-(\d\d)( BC)?")


def _decode_date_text(data: Any) -> date:
    text = str(data, "ascii")
    match = _DATE_TEXT.fullmatch(text)
    if match is None:
        if text == "infinity":
            return date.max
        if text == "-infinity":
            return date.min
        raise DecodeError(f"cannot parse {text!r} as a date (DateStyle must be ISO)")
    year, month, day, bc = match.groups()
    if bc or len(year) > 4:
        raise DecodeError(f"date out of range for Python: {text}")
    return date(int(year), int(month), int(day))


# -- time and timetz ------------------------------------------------------------------------


def _time_us(value: time) -> int:
    return ((value.hour * 60 + value.minute) * 60 + value.second) * 1_000_000 + value.microsecond


def _time_from_us(us: int, tz: tzinfo | None) -> time:
    seconds, us = divmod(us, 1_000_000)
    minutes, seconds = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    try:
        return time(hours, minutes, seconds, us, tz)
    except ValueError as exc:
        raise DecodeError(
            f"time out of range for Python: {hours:02d}:{minutes:02d}:{seconds:02d}"
        ) from exc


def _check_naive_time(value: Any) -> time:
    if not isinstance(value, time):
        raise type_error(value, "time", "datetime.time")
    if value.tzinfo is not None and value.utcoffset() is not None:
        raise EncodeError(
            "cannot encode an aware time as time (without time zone): "
            "use timetz, or drop the tzinfo with .replace(tzinfo=None)"
        )
    return value


def _encode_time(value: Any) -> bytes:
    return _pack_int8(_time_us(_check_naive_time(value)))


def _decode_time(data: Any) -> time:
    return _time_from_us(unpack_int8(data)[0], None)


_timetz = struct.Struct(">qi")
_pack_timetz = _timetz.pack
_unpack_timetz: Callable[[Any], tuple[int, int]] = _timetz.unpack
# Zone (seconds west of UTC) -> tzinfo; zones come from a small set, so cache them.
_zones: dict[int, tzinfo] = {0: _UTC}


def _zone(seconds_east: int) -> tzinfo:
    tz = _zones.get(seconds_east)
    if tz is None:
        try:
            tz = timezone(timedelta(seconds=seconds_east))
        except ValueError as exc:
            raise DecodeError(f"time zone offset out of range: {seconds_east} s") from exc
        if len(_zones) < 1000:
            _zones[seconds_east] = tz
    return tz


def _timetz_offset(value: Any) -> int:
    """*value*'s UTC offset in seconds east, for timetz."""
    if not isinstance(value, time):
        raise type_error(value, "timetz", "datetime.time with a tzinfo")
    offset = value.utcoffset()
    if offset is None:
        raise EncodeError(
            "cannot encode a naive time as timetz: give it a fixed-offset tzinfo "
            "(datetime.timezone), not none and not a zone whose offset depends on the date"
        )
    if offset.microseconds:
        raise EncodeError(f"timetz offsets are whole seconds, not {offset}")
    seconds = offset.days * 86400 + offset.seconds
    if not -_TZDISP_LIMIT < seconds < _TZDISP_LIMIT:
        raise EncodeError(f"timetz offset {offset} is out of range (less than 16 hours)")
    return seconds


def _encode_timetz(value: Any) -> bytes:
    seconds = _timetz_offset(value)
    return _pack_timetz(_time_us(value), -seconds)


def _decode_timetz(data: Any) -> time:
    us, zone = _unpack_timetz(data)
    return _time_from_us(us, _zone(-zone))


def _encode_time_text(value: Any) -> bytes:
    if isinstance(value, str):
        return encode_str(value, "time")
    return _check_naive_time(value).isoformat().encode("ascii")


def _encode_timetz_text(value: Any) -> bytes:
    if isinstance(value, str):
        return encode_str(value, "timetz")
    _timetz_offset(value)
    return value.isoformat().encode("ascii")  # type: ignore[no-any-return]


_TIME = r"(\d\d):(\d\d):(\d\d)(?:\.(\d{1,6}))?"
_OFFSET = r"([+-])(\d\d)(?::(\d\d))?(?::(\d\d))?"
_TIME_TEXT = re.compile(_TIME)
_TIMETZ_TEXT = re.compile(_TIME + _OFFSET)


def _fraction(digits: str | None) -> int:
    return int(digits.ljust(6, "0")) if digits else 0


def _offset_seconds(sign: str, hours: str, minutes: str | None, seconds: str | None) -> int:
    total = int(hours) * 3600 + int(minutes or 0) * 60 + int(seconds or 0)
    return -total if sign == "-" else total


def _decode_time_text(data: Any) -> time:
    text = str(data, "ascii")
    match = _TIME_TEXT.fullmatch(text)
    if match is None:
        raise DecodeError(f"cannot parse {text!r} as a time")
    hour, minute, second, fraction = match.groups()
    try:
        return time(int(hour), int(minute), int(second), _fraction(fraction))
    except ValueError as exc:
        raise DecodeError(f"time out of range for Python: {text}") from exc


def _decode_timetz_text(data: Any) -> time:
    text = str(data, "ascii")
    match = _TIMETZ_TEXT.fullmatch(text)
    if match is None:
        raise DecodeError(f"cannot parse {text!r} as a timetz")
    hour, minute, second, fraction, *offset = match.groups()
    tz = _zone(_offset_seconds(*offset))
    try:
        return time(int(hour), int(minute), int(second), _fraction(fraction), tz)
    except ValueError as exc:
        raise DecodeError(f"time out of range for Python: {text}") from exc


# -- timestamp and timestamptz --------------------------------------------------------------


def _timestamp_out_of_range(us: int, tz: tzinfo | None) -> datetime:
    if us == INT64_MAX:
        return datetime.max if tz is None else _DATETIME_MAX_UTC
    if us == INT64_MIN:
        return datetime.min if tz is None else _DATETIME_MIN_UTC
    where = "after 9999-12-31" if us > 0 else "before 0001-01-01"
    raise DecodeError(f"timestamp out of range for Python: a time {where}")


def _encode_timestamp(value: Any) -> bytes:
    if not isinstance(value, datetime):
        raise type_error(value, "timestamp", "naive datetime.datetime")
    if value.tzinfo is not None and value.utcoffset() is not None:
        raise EncodeError(
            "cannot encode an aware datetime as timestamp (without time zone): "
            "use timestamptz, or drop the tzinfo with .replace(tzinfo=None)"
        )
    us = (value - _EPOCH) // _US
    if us == _DATETIME_MAX_US:
        return _TIMESTAMP_PINF
    if us == _DATETIME_MIN_US:
        return _TIMESTAMP_NINF
    return _pack_int8(us)


def _decode_timestamp(data: Any) -> datetime:
    us = unpack_int8(data)[0]
    try:
        return _EPOCH + _timedelta(0, 0, us)
    except OverflowError:
        return _timestamp_out_of_range(us, None)


def _aware_us(value: Any) -> tuple[int, int]:
    """(microseconds since 2000-01-01 UTC, the same on the wall clock) of an aware datetime."""
    if not isinstance(value, datetime):
        raise type_error(value, "timestamptz", "aware datetime.datetime")
    offset = value.utcoffset()
    if offset is None:
        raise EncodeError(
            "cannot encode a naive datetime as timestamptz: give it a tzinfo "
            "(for example datetime.timezone.utc or a zoneinfo.ZoneInfo)"
        )
    us = (value - _EPOCH_UTC) // _US
    return us, us + offset // _US


def _encode_timestamptz(value: Any) -> bytes:
    us, wall = _aware_us(value)
    # datetime.max / datetime.min stand for the infinities whatever their tzinfo.
    if wall == _DATETIME_MAX_US:
        return _TIMESTAMP_PINF
    if wall == _DATETIME_MIN_US:
        return _TIMESTAMP_NINF
    return _pack_int8(us)


def _decode_timestamptz(data: Any) -> datetime:
    us = unpack_int8(data)[0]
    try:
        return _EPOCH_UTC + _timedelta(0, 0, us)
    except OverflowError:
        return _timestamp_out_of_range(us, _UTC)


def _encode_timestamp_text(value: Any) -> bytes:
    if isinstance(value, str):
        return encode_str(value, "timestamp")
    result = _encode_timestamp(value)  # the checks
    if result is _TIMESTAMP_PINF:
        return b"infinity"
    if result is _TIMESTAMP_NINF:
        return b"-infinity"
    return value.isoformat(" ").encode("ascii")  # type: ignore[no-any-return]


def _encode_timestamptz_text(value: Any) -> bytes:
    if isinstance(value, str):
        return encode_str(value, "timestamptz")
    result = _encode_timestamptz(value)  # the checks
    if result is _TIMESTAMP_PINF:
        return b"infinity"
    if result is _TIMESTAMP_NINF:
        return b"-infinity"
    return value.isoformat(" ").encode("ascii")  # type: ignore[no-any-return]


_TIMESTAMP_TEXT = re.compile(rf"(\d{{4,}})-(\d\d)-(\d\d) {_TIME}(?:{_OFFSET})?( BC)?")


# 400 Gregorian years: after them the calendar repeats itself, day for day.
_CYCLE = timedelta(days=146097)
_NO_SHIFT = timedelta(0)


def _parse_timestamp(text: str, pg_type: str) -> tuple[datetime, int | None, timedelta]:
    """The wall-clock datetime in *text*, its offset in seconds east (None if
    absent), and a shift to add once the offset is applied.

    A timestamptz printed in a zone east or west of UTC can show year 10000
    or 1 BC for an instant Python holds: such a wall clock is parsed 400
    years (one calendar cycle) nearer, and the shift moves it back.
    """
    match = _TIMESTAMP_TEXT.fullmatch(text)
    if match is None:
        raise DecodeError(f"cannot parse {text!r} as a {pg_type} (DateStyle must be ISO)")
    year, month, day, hour, minute, second, fraction, sign, *offset, bc = match.groups()
    number = 1 - int(year) if bc else int(year)  # 1 BC is year 0
    shift = _NO_SHIFT
    if sign is not None and number in (0, 10000):
        shift = _CYCLE if number else -_CYCLE
        number += -400 if number else 400
    elif bc or len(year) > 4:
        raise DecodeError(f"{pg_type} out of range for Python: {text}")
    wall = datetime(
        number, int(month), int(day), int(hour), int(minute), int(second), _fraction(fraction)
    )
    if sign is None:
        return wall, None, shift
    return wall, _offset_seconds(sign, *offset), shift


def _decode_timestamp_text(data: Any) -> datetime:
    text = str(data, "ascii")
    if text == "infinity":
        return datetime.max
    if text == "-infinity":
        return datetime.min
    return _parse_timestamp(text, "timestamp")[0]


def _decode_timestamptz_text(data: Any) -> datetime:
    text = str(data, "ascii")
    if text == "infinity":
        return _DATETIME_MAX_UTC
    if text == "-infinity":
        return _DATETIME_MIN_UTC
    wall, offset, shift = _parse_timestamp(text, "timestamptz")
    try:
        return (wall - timedelta(seconds=offset or 0) + shift).replace(tzinfo=_UTC)
    except OverflowError as exc:
        raise DecodeError(f"timestamptz out of range for Python: {text}") from exc


CODECS: list[Codec] = [
    *codec_pair(
        1082, "date", 1182, (_encode_date, _decode_date), (_encode_date_text, _decode_date_text)
    ),
    *codec_pair(
        1083, "time", 1183, (_encode_time, _decode_time), (_encode_time_text, _decode_time_text)
    ),
    *codec_pair(
        1266,
        "timetz",
        1270,
        (_encode_timetz, _decode_timetz),
        (_encode_timetz_text, _decode_timetz_text),
    ),
    *codec_pair(
        1114,
        "timestamp",
        1115,
        (_encode_timestamp, _decode_timestamp),
        (_encode_timestamp_text, _decode_timestamp_text),
    ),
    *codec_pair(
        1184,
        "timestamptz",
        1185,
        (_encode_timestamptz, _decode_timestamptz),
        (_encode_timestamptz_text, _decode_timestamptz_text),
    ),
]

for _codec in CODECS:
    registry.register(_codec)
