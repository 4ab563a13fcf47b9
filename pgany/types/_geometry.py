"""Geometric types: point, line, lseg, box, path, polygon and circle.

Each is a small frozen dataclass (:class:`Point`, :class:`Line`,
:class:`LineSegment`, :class:`Box`, :class:`Path`, :class:`Polygon`,
:class:`Circle`). A :class:`Point` parameter may also be an ``(x, y)``
tuple, and the point sequences of :class:`Path` and :class:`Polygon` may
hold such tuples (they are converted to points).

Binary formats (``src/backend/utils/adt/geo_ops.c``), all coordinates
float8: point ``x, y``; line ``A, B, C`` (the line ``Ax + By + C = 0``);
lseg ``p1, p2``; box ``high, low`` (``box_recv`` swaps coordinates so that
*high* is the upper right corner, and :class:`Box` does the same); path a
closed flag byte, an int32 point count, then the points; polygon an int32
point count, then the points; circle ``x, y, radius``.

Text formats: ``(x,y)``, ``{A,B,C}``, ``[(x1,y1),(x2,y2)]``,
``(x1,y1),(x2,y2)``, ``[(...),...]`` (open path) or ``((...),...)`` (closed
path, polygon), ``<(x,y),r>``.
"""

from __future__ import annotations

import math
import re
import struct
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from pgany.errors import DecodeError, EncodeError

from ._array import TUPLE_VALUES
from ._base import codec_pair, encode_str, registry, type_error
from ._registry import Codec

__all__ = ["CODECS", "Box", "Circle", "Line", "LineSegment", "Path", "Point", "Polygon"]

_set = object.__setattr__


@dataclass(frozen=True, slots=True)
class Point:
    """A PostgreSQL ``point``: ``(x, y)``."""

    __module__ = "pgany.types"

    #: The x coordinate.
    x: float
    #: The y coordinate.
    y: float


def _to_point(value: Any) -> Point | None:
    if isinstance(value, Point):
        return value
    if isinstance(value, (tuple, list)) and len(value) == 2:
        return Point(value[0], value[1])
    return None


def _point(value: Any, pg_type: str = "point") -> Point:
    """*value* as a Point, for an encoder (an :exc:`EncodeError` if it is none)."""
    point = _to_point(value)
    if point is None:
        raise type_error(value, pg_type, "pgany.types.Point or an (x, y) tuple")
    return point


def _field_point(value: Any, owner: str) -> Point:
    """*value* as a Point, for a constructor (a :exc:`TypeError` if it is none)."""
    point = _to_point(value)
    if point is None:
        raise TypeError(f"{owner} needs a Point or an (x, y) pair, not {type(value).__name__}")
    return point


@dataclass(frozen=True, slots=True)
class Line:
    """A PostgreSQL ``line``: the infinite line ``a*x + b*y + c = 0``."""

    __module__ = "pgany.types"

    a: float
    b: float
    c: float


@dataclass(frozen=True, slots=True)
class LineSegment:
    """A PostgreSQL ``lseg``: the segment from *p1* to *p2*."""

    __module__ = "pgany.types"

    p1: Point
    p2: Point

    def __post_init__(self) -> None:
        _set(self, "p1", _field_point(self.p1, "LineSegment"))
        _set(self, "p2", _field_point(self.p2, "LineSegment"))


@dataclass(frozen=True, slots=True)
class Box:
    """A PostgreSQL ``box``, given by two opposite corners.

    Like PostgreSQL, the box keeps its upper right corner as *high* and its
    lower left as *low*, whichever corners it was made from:
    ``Box(Point(0, 0), Point(1, 1)) == Box(Point(1, 1), Point(0, 0))``.
    """

    __module__ = "pgany.types"

    high: Point
    low: Point

    def __post_init__(self) -> None:
        high = _field_point(self.high, "Box")
        low = _field_point(self.low, "Box")
        # box_construct() in geo_ops.c: swap each coordinate that is the wrong way round.
        if high.x < low.x or high.y < low.y:
            hx, lx = (low.x, high.x) if high.x < low.x else (high.x, low.x)
            hy, ly = (low.y, high.y) if high.y < low.y else (high.y, low.y)
            high, low = Point(hx, hy), Point(lx, ly)
        _set(self, "high", high)
        _set(self, "low", low)


@dataclass(frozen=True, slots=True)
class Path:
    """A PostgreSQL ``path``: its points, and whether it is closed (a loop)."""

    __module__ = "pgany.types"

    points: tuple[Point, ...]
    closed: bool = False

    def __post_init__(self) -> None:
        _set(self, "points", _points(self.points, "Path"))


@dataclass(frozen=True, slots=True)
class Polygon:
    """A PostgreSQL ``polygon``: its vertices."""

    __module__ = "pgany.types"

    points: tuple[Point, ...]

    def __post_init__(self) -> None:
        _set(self, "points", _points(self.points, "Polygon"))


@dataclass(frozen=True, slots=True)
class Circle:
    """A PostgreSQL ``circle``: its *center* and *radius*."""

    __module__ = "pgany.types"

    center: Point
    radius: float

    def __post_init__(self) -> None:
        _set(self, "center", _field_point(self.center, "Circle"))


def _points(value: Iterable[Any], owner: str) -> tuple[Point, ...]:
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        raise TypeError(f"{owner} needs a sequence of points, not {type(value).__name__}")
    return tuple(_field_point(p, owner) for p in value)


# -- binary -----------------------------------------------------------------------------------

_F2 = struct.Struct(">dd")
_F3 = struct.Struct(">ddd")
_F4 = struct.Struct(">dddd")
_pack_f2 = _F2.pack
_pack_f3 = _F3.pack
_pack_f4 = _F4.pack
_unpack_f2: Callable[[Any], tuple[float, float]] = _F2.unpack
_unpack_f3: Callable[[Any], tuple[float, float, float]] = _F3.unpack
_unpack_f4: Callable[[Any], tuple[float, float, float, float]] = _F4.unpack
_path_head = struct.Struct(">?i")
_pack_path_head = _path_head.pack
_unpack_path_head: Callable[[Any], tuple[bool, int]] = _path_head.unpack_from
_INT32 = struct.Struct(">i")
_pack_int4 = _INT32.pack
_unpack_int4_from: Callable[[Any, int], tuple[int]] = _INT32.unpack_from


def _as(value: Any, cls: type[Any], pg_type: str) -> Any:
    if isinstance(value, cls):
        return value
    raise type_error(value, pg_type, f"pgany.types.{cls.__name__}")


def _packing(pg_type: str, pack: Callable[..., bytes], *numbers: Any) -> bytes:
    try:
        return pack(*numbers)
    except struct.error as exc:
        kinds = ", ".join(type(n).__name__ for n in numbers)
        raise EncodeError(f"cannot encode {pg_type} coordinates ({kinds}): {exc}") from exc


def _encode_point(value: Any) -> bytes:
    p = _point(value)
    return _packing("point", _pack_f2, p.x, p.y)


def _decode_point(data: Any) -> Point:
    return Point(*_unpack_f2(data))


def _encode_line(value: Any) -> bytes:
    line = _as(value, Line, "line")
    return _packing("line", _pack_f3, line.a, line.b, line.c)


def _decode_line(data: Any) -> Line:
    return Line(*_unpack_f3(data))


def _encode_lseg(value: Any) -> bytes:
    seg = _as(value, LineSegment, "lseg")
    return _packing("lseg", _pack_f4, seg.p1.x, seg.p1.y, seg.p2.x, seg.p2.y)


def _decode_lseg(data: Any) -> LineSegment:
    x1, y1, x2, y2 = _unpack_f4(data)
    return LineSegment(Point(x1, y1), Point(x2, y2))


def _encode_box(value: Any) -> bytes:
    box = _as(value, Box, "box")
    return _packing("box", _pack_f4, box.high.x, box.high.y, box.low.x, box.low.y)


def _decode_box(data: Any) -> Box:
    x1, y1, x2, y2 = _unpack_f4(data)
    return Box(Point(x1, y1), Point(x2, y2))


def _pack_points(points: tuple[Point, ...], pg_type: str) -> bytes:
    if not points:
        raise EncodeError(f"a {pg_type} needs at least one point")
    coords = [c for p in points for c in (p.x, p.y)]
    return _packing(pg_type, struct.Struct(f">{len(coords)}d").pack, *coords)


def _unpack_points(data: Any, offset: int, npts: int, pg_type: str) -> tuple[Point, ...]:
    if npts < 0 or len(data) != offset + 16 * npts:
        raise DecodeError(f"invalid {pg_type}: {npts} points in {len(data)} bytes")
    coords = struct.unpack_from(f">{2 * npts}d", data, offset)
    return tuple(Point(coords[i], coords[i + 1]) for i in range(0, 2 * npts, 2))


def _encode_path(value: Any) -> bytes:
    path = _as(value, Path, "path")
    return _pack_path_head(bool(path.closed), len(path.points)) + _pack_points(path.points, "path")


def _decode_path(data: Any) -> Path:
    closed, npts = _unpack_path_head(data)
    return Path(_unpack_points(data, 5, npts, "path"), closed)


def _encode_polygon(value: Any) -> bytes:
    poly = _as(value, Polygon, "polygon")
    return _pack_int4(len(poly.points)) + _pack_points(poly.points, "polygon")


def _decode_polygon(data: Any) -> Polygon:
    npts = _unpack_int4_from(data, 0)[0]
    return Polygon(_unpack_points(data, 4, npts, "polygon"))


def _encode_circle(value: Any) -> bytes:
    circle = _as(value, Circle, "circle")
    return _packing("circle", _pack_f3, circle.center.x, circle.center.y, circle.radius)


def _decode_circle(data: Any) -> Circle:
    x, y, r = _unpack_f3(data)
    return Circle(Point(x, y), r)


# -- text -------------------------------------------------------------------------------------


def _num(value: Any, pg_type: str) -> str:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        try:
            value = float(value)
        except (TypeError, ValueError) as exc:
            raise EncodeError(
                f"cannot encode {type(value).__name__} as a {pg_type} coordinate"
            ) from exc
    value = float(value)
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return float.__repr__(value)


def _pt(p: Point, pg_type: str) -> str:
    return f"({_num(p.x, pg_type)},{_num(p.y, pg_type)})"


def _pts(points: tuple[Point, ...], pg_type: str) -> str:
    if not points:
        raise EncodeError(f"a {pg_type} needs at least one point")
    return ",".join(_pt(p, pg_type) for p in points)


def _text_encoder(pg_type: str, format: Callable[[Any], str]) -> Callable[[Any], bytes]:
    def encode(value: Any) -> bytes:
        if isinstance(value, str):
            return encode_str(value, pg_type)
        return format(value).encode("ascii")

    return encode


def _format_point(value: Any) -> str:
    return _pt(_point(value), "point")


def _format_line(value: Any) -> str:
    line = _as(value, Line, "line")
    return "{" + ",".join(_num(n, "line") for n in (line.a, line.b, line.c)) + "}"


def _format_lseg(value: Any) -> str:
    seg = _as(value, LineSegment, "lseg")
    return f"[{_pt(seg.p1, 'lseg')},{_pt(seg.p2, 'lseg')}]"


def _format_box(value: Any) -> str:
    box = _as(value, Box, "box")
    return f"{_pt(box.high, 'box')},{_pt(box.low, 'box')}"


def _format_path(value: Any) -> str:
    path = _as(value, Path, "path")
    inner = _pts(path.points, "path")
    return f"({inner})" if path.closed else f"[{inner}]"


def _format_polygon(value: Any) -> str:
    return f"({_pts(_as(value, Polygon, 'polygon').points, 'polygon')})"


def _format_circle(value: Any) -> str:
    circle = _as(value, Circle, "circle")
    return f"<{_pt(circle.center, 'circle')},{_num(circle.radius, 'circle')}>"


_NUMBER = re.compile(r"[^\s,()\[\]{}<>]+")


def _numbers(data: Any, pg_type: str, count: int | None = None) -> list[float]:
    text = str(data, "ascii")
    try:
        numbers = [float(n) for n in _NUMBER.findall(text)]
    except ValueError as exc:
        raise DecodeError(f"cannot parse {text!r} as {pg_type}") from exc
    if len(numbers) != count if count is not None else not numbers or len(numbers) % 2:
        raise DecodeError(f"cannot parse {text!r} as {pg_type}")
    return numbers


def _to_points(numbers: list[float]) -> tuple[Point, ...]:
    return tuple(Point(numbers[i], numbers[i + 1]) for i in range(0, len(numbers), 2))


def _decode_point_text(data: Any) -> Point:
    return Point(*_numbers(data, "point", 2))


def _decode_line_text(data: Any) -> Line:
    return Line(*_numbers(data, "line", 3))


def _decode_lseg_text(data: Any) -> LineSegment:
    x1, y1, x2, y2 = _numbers(data, "lseg", 4)
    return LineSegment(Point(x1, y1), Point(x2, y2))


def _decode_box_text(data: Any) -> Box:
    x1, y1, x2, y2 = _numbers(data, "box", 4)
    return Box(Point(x1, y1), Point(x2, y2))


def _decode_path_text(data: Any) -> Path:
    # path_out: "[...]" for an open path, "(...)" for a closed one.
    closed = bytes(data[:1]) != b"["
    return Path(_to_points(_numbers(data, "path")), closed)


def _decode_polygon_text(data: Any) -> Polygon:
    return Polygon(_to_points(_numbers(data, "polygon")))


def _decode_circle_text(data: Any) -> Circle:
    x, y, r = _numbers(data, "circle", 3)
    return Circle(Point(x, y), r)


_encode_point_text = _text_encoder("point", _format_point)
# A point parameter may be an (x, y) tuple: in arrays of points, tuples are elements.
setattr(_encode_point, TUPLE_VALUES, True)
setattr(_encode_point_text, TUPLE_VALUES, True)

CODECS: list[Codec] = [
    *codec_pair(
        600,
        "point",
        1017,
        (_encode_point, _decode_point),
        (_encode_point_text, _decode_point_text),
    ),
    *codec_pair(
        628,
        "line",
        629,
        (_encode_line, _decode_line),
        (_text_encoder("line", _format_line), _decode_line_text),
    ),
    *codec_pair(
        601,
        "lseg",
        1018,
        (_encode_lseg, _decode_lseg),
        (_text_encoder("lseg", _format_lseg), _decode_lseg_text),
    ),
    *codec_pair(
        603,
        "box",
        1020,
        (_encode_box, _decode_box),
        (_text_encoder("box", _format_box), _decode_box_text),
    ),
    *codec_pair(
        602,
        "path",
        1019,
        (_encode_path, _decode_path),
        (_text_encoder("path", _format_path), _decode_path_text),
    ),
    *codec_pair(
        604,
        "polygon",
        1027,
        (_encode_polygon, _decode_polygon),
        (_text_encoder("polygon", _format_polygon), _decode_polygon_text),
    ),
    *codec_pair(
        718,
        "circle",
        719,
        (_encode_circle, _decode_circle),
        (_text_encoder("circle", _format_circle), _decode_circle_text),
    ),
]

for _codec in CODECS:
    registry.register(_codec)
