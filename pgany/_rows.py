"""Result rows and their columns."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

__all__ = ["Column", "Row", "SimpleQueryRow", "row_class"]

_MISSING: Any = object()


@dataclass(frozen=True, slots=True)
class Column:
    """One result column: its name, type and (for table columns) origin."""

    __module__ = "pgany"

    #: The column's name (its alias in the query).
    name: str
    #: The OID of the column's type.
    type_oid: int
    #: The type's name (``"int4"``), or ``None`` when pgany has not learned it.
    type_name: str | None
    #: OID of the table the column comes from, 0 if it is not a table column.
    table_oid: int = 0
    #: The column's attribute number in that table, 0 if not a table column.
    column_id: int = 0


class Row(tuple):  # type: ignore[type-arg]
    """A result row: a tuple of values that can also be indexed by column name.

    ``row[0]``, ``row["name"]``, ``row.get("name", default)``, ``len(row)``,
    iteration over values, ``row.keys()``, ``row.columns``; a row equals the
    tuple of its values. Rows of one statement share their column metadata.
    """

    __module__ = "pgany"
    __slots__ = ()

    _columns: ClassVar[tuple[Column, ...]] = ()
    _index: ClassVar[dict[str, int]] = {}

    def __getitem__(self, key: int | str | slice) -> Any:  # type: ignore[override]
        if type(key) is str:
            try:
                key = self._index[key]
            except KeyError:
                names = ", ".join(repr(c.name) for c in self._columns)
                raise KeyError(f"no column named {key!r} (columns: {names})") from None
        return tuple.__getitem__(self, key)  # type: ignore[index]

    def get(self, name: str, default: Any = None) -> Any:
        """The value of column *name*, or *default* if there is no such column."""
        i = self._index.get(name, _MISSING)
        if i is _MISSING:
            return default
        return tuple.__getitem__(self, i)

    @property
    def columns(self) -> tuple[Column, ...]:
        """The :class:`Column` of each value."""
        return self._columns

    def keys(self) -> list[str]:
        """The column names, in order."""
        return [c.name for c in self._columns]

    def values(self) -> list[Any]:
        """The values, in order."""
        return list(self)

    def items(self) -> list[tuple[str, Any]]:
        """(name, value) pairs, in order."""
        return [(c.name, v) for c, v in zip(self._columns, self, strict=True)]

    def as_dict(self) -> dict[str, Any]:
        """The row as a dict of name -> value (a later duplicate name wins)."""
        return {c.name: v for c, v in zip(self._columns, self, strict=True)}

    def __contains__(self, value: object) -> bool:
        return tuple.__contains__(self, value)

    def __repr__(self) -> str:
        inner = ", ".join(f"{c.name}={v!r}" for c, v in zip(self._columns, self, strict=True))
        return f"Row({inner})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild_row, (self._columns, tuple(self)))


def _rebuild_row(columns: tuple[Column, ...], values: tuple[Any, ...]) -> Row:
    cls = row_class(columns)
    return tuple.__new__(cls, values)


def row_class(columns: Sequence[Column]) -> type[Row]:
    """A :class:`Row` subclass carrying *columns* (made once per statement)."""
    cols = tuple(columns)
    index: dict[str, int] = {}
    for i, c in enumerate(cols):
        index.setdefault(c.name, i)  # like psql: the first of duplicate names wins
    return type(
        "Row", (Row,), {"__slots__": (), "_columns": cols, "_index": index, "__module__": "pgany"}
    )


class SimpleQueryRow(tuple):  # type: ignore[type-arg]
    """A row from :meth:`pgany.Client.simple_query`: text values (``None`` for NULL).

    Indexable by position and by column name; iterates over the values.
    """

    __module__ = "pgany"
    __slots__ = ()

    _names: ClassVar[tuple[str, ...]] = ()
    _index: ClassVar[dict[str, int]] = {}

    def __getitem__(self, key: int | str | slice) -> Any:  # type: ignore[override]
        if type(key) is str:
            try:
                key = self._index[key]
            except KeyError:
                raise KeyError(
                    f"no column named {key!r} (columns: {', '.join(self._names)})"
                ) from None
        return tuple.__getitem__(self, key)  # type: ignore[index]

    def get(self, name: str, default: str | None = None) -> str | None:
        """The value of column *name*, or *default* if there is no such column."""
        i = self._index.get(name)
        if i is None:
            return default
        value: str | None = tuple.__getitem__(self, i)
        return value

    @property
    def columns(self) -> tuple[str, ...]:
        """The column names."""
        return self._names

    def keys(self) -> list[str]:
        """The column names, in order."""
        return list(self._names)

    def __iter__(self) -> Iterator[Any]:
        return tuple.__iter__(self)

    def __repr__(self) -> str:
        inner = ", ".join(f"{n}={v!r}" for n, v in zip(self._names, self, strict=True))
        return f"SimpleQueryRow({inner})"


def simple_row_class(names: Sequence[str]) -> type[SimpleQueryRow]:
    """A :class:`SimpleQueryRow` subclass for one RowDescription."""
    cols = tuple(names)
    index: dict[str, int] = {}
    for i, n in enumerate(cols):
        index.setdefault(n, i)
    return type(
        "SimpleQueryRow",
        (SimpleQueryRow,),
        {"__slots__": (), "_names": cols, "_index": index, "__module__": "pgany"},
    )
