"""The query methods shared by :class:`~pgany.Client` and :class:`~pgany.Transaction`."""

from __future__ import annotations

from collections.abc import AsyncIterable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

from pgany._rows import SimpleQueryRow
from pgany._sql import quote_ident
from pgany._stream import StreamContext
from pgany._typeinfo import catalog_query
from pgany.copy import BinaryCopyInWriter, CopyInContext, CopyOutContext, write_text_rows
from pgany.errors import InterfaceError, RowCountError
from pgany.types import Codec, Format, TypeRegistry
from pgany.types._registry import FALLBACK_TEXT

if TYPE_CHECKING:
    from pgany._rows import Row
    from pgany._session import Session, Statement

__all__ = ["CommandComplete", "Queries", "SimpleQueryMessage", "SimpleRowDescription"]


class CommandComplete:
    """The end of one statement in :meth:`Client.simple_query`: its tag and row count."""

    __module__ = "pgany"
    __slots__ = ("rows", "tag")

    def __init__(self, tag: str, rows: int) -> None:
        #: The command tag (``"INSERT 0 1"``, ``"SELECT 3"``...).
        self.tag = tag
        #: The number of rows the command affected or returned.
        self.rows = rows

    def __repr__(self) -> str:
        return f"CommandComplete(tag={self.tag!r}, rows={self.rows})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, CommandComplete):
            return NotImplemented
        return (self.tag, self.rows) == (other.tag, other.rows)

    __hash__ = None  # type: ignore[assignment]


class SimpleRowDescription:
    """The column names of the rows that follow, in :meth:`Client.simple_query`."""

    __module__ = "pgany"
    __slots__ = ("columns",)

    def __init__(self, columns: Sequence[str]) -> None:
        #: The column names.
        self.columns: tuple[str, ...] = tuple(columns)

    def __repr__(self) -> str:
        return f"SimpleRowDescription(columns={list(self.columns)!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, SimpleRowDescription):
            return NotImplemented
        return self.columns == other.columns

    __hash__ = None  # type: ignore[assignment]


SimpleQueryMessage = SimpleRowDescription | SimpleQueryRow | CommandComplete


class Queries:
    """Query methods; subclasses say which client runs them and on whose behalf."""

    __slots__ = ()

    def _cx(self) -> tuple[Session, object | None]:
        """(the session, the holder the requests run for); raises if unusable."""
        raise NotImplementedError

    async def query(self, sql: str | Statement, *params: Any) -> list[Row]:
        """Run *sql* with *params* bound to ``$1, $2, ...``; return every row."""
        session, holder = self._cx()
        return (await session.execute(sql, params, holder)).rows

    async def query_one(self, sql: str | Statement, *params: Any) -> Row:
        """Run *sql*; return its only row (:class:`~pgany.RowCountError` for 0 or several)."""
        session, holder = self._cx()
        return _only_row((await session.execute(sql, params, holder)).rows, "query_one")

    async def query_opt(self, sql: str | Statement, *params: Any) -> Row | None:
        """Run *sql*; return its row, or ``None`` (:class:`~pgany.RowCountError` for several)."""
        session, holder = self._cx()
        rows = (await session.execute(sql, params, holder)).rows
        if len(rows) > 1:
            raise RowCountError(
                f"query_opt expected at most one row, the query returned {len(rows)}"
            )
        return rows[0] if rows else None

    async def query_value(self, sql: str | Statement, *params: Any) -> Any:
        """Run *sql*; return the first column of its only row."""
        # (not through query_one: one coroutine less on the hot path)
        session, holder = self._cx()
        rows = (await session.execute(sql, params, holder)).rows
        if len(rows) != 1:
            raise _row_count_error(rows, "query_value")
        row = rows[0]
        if not row:
            raise InterfaceError("query_value: the query returns no columns")
        return tuple.__getitem__(row, 0)  # (a Row is a tuple: skip Row.__getitem__)

    async def execute(self, sql: str | Statement, *params: Any) -> int:
        """Run *sql*; return the number of rows affected (0 when the command reports none)."""
        session, holder = self._cx()
        return (await session.execute(sql, params, holder)).rows_affected

    async def executemany(self, sql: str | Statement, params_seq: Iterable[Sequence[Any]]) -> None:
        """Run *sql* once per parameter set, all in one pipelined batch ending in one Sync.

        Every set is encoded before anything is sent. Outside an explicit
        transaction the batch runs as one implicit transaction: if any set
        fails, none of them takes effect.
        """
        session, holder = self._cx()
        await session.executemany(sql, params_seq, holder)

    async def prepare(self, sql: str, types: Sequence[int | str] | None = None) -> Statement:
        """Prepare *sql* as a named statement.

        *types* fixes parameter types, by name (``"int8"``) or OID, like
        tokio-postgres's ``prepare_typed``; the rest are inferred by the server.
        """
        session, holder = self._cx()
        return await session.prepare(sql, types, holder)

    async def simple_query(self, sql: str) -> list[SimpleQueryMessage]:
        """Run *sql* (one or more statements) with the simple protocol; results in text.

        Returns, per statement, a :class:`~pgany.SimpleRowDescription` (for
        statements that return rows), one :class:`~pgany.SimpleQueryRow` per
        row, then a :class:`~pgany.CommandComplete`.
        """
        session, holder = self._cx()
        req = await session.simple(sql, holder=holder)
        out: list[SimpleQueryMessage] = []
        for result in req.results:
            if result.description is not None:
                out.append(SimpleRowDescription([f.name for f in result.description.fields]))
                out.extend(result.rows)
            if result.tag is not None:
                out.append(CommandComplete(result.tag, result.rows_affected))
        return out

    async def batch_execute(self, sql: str) -> None:
        """Run a multi-statement script with the simple protocol, discarding rows."""
        session, holder = self._cx()
        await session.simple(sql, discard=True, holder=holder)

    def query_stream(
        self, sql: str | Statement, *params: Any, batch_size: int = 1000
    ) -> StreamContext:
        """``async with client.query_stream(sql, *params) as stream:`` — rows in bounded batches.

        ``async for row in stream`` fetches *batch_size* rows at a time through
        a portal, so a result of any size streams in bounded memory; after
        the last row, ``stream.rows_affected`` holds the command's row count.
        Outside a transaction the stream runs in one of its own, and holds the
        client until the block ends (other tasks' calls wait).
        """
        session, holder = self._cx()
        if batch_size < 1:
            raise InterfaceError("batch_size must be at least 1")
        return StreamContext(session, holder, sql, params, batch_size)

    def copy_in(self, sql: str) -> CopyInContext:
        """``async with client.copy_in("COPY t FROM STDIN") as sink:`` — send COPY data.

        ``await sink.write(data)`` (bytes or str) or ``await sink.write_all(iterable)``;
        ``sink.rows_copied`` after the block. An exception (or cancellation)
        inside the block sends CopyFail: the table is unchanged and the
        connection stays usable.
        """
        session, holder = self._cx()
        return CopyInContext(session, sql, holder)

    def copy_out(self, sql: str) -> CopyOutContext:
        """``async with client.copy_out("COPY t TO STDOUT") as source:`` — receive COPY data.

        ``async for chunk in source`` gives ``bytes`` as they arrive, with
        backpressure: a slow consumer holds the connection, not memory.
        """
        session, holder = self._cx()
        return CopyOutContext(session, sql, holder)

    async def copy_records_in(
        self,
        table: str,
        records: Iterable[Sequence[Any]] | AsyncIterable[Sequence[Any]],
        columns: Sequence[str] | None = None,
    ) -> int:
        """Bulk-load *records* into *table* with COPY; return the row count.

        *table* is a table name as SQL would parse it (``"public.t"``,
        ``'"MixedCase"'``); the column types are looked up from the table.
        *records* is a sync or async iterable of sequences, one value per
        column (of *columns*, or of every column in order). Each value goes
        through the codec its column's type has on this connection (a
        registered one too); the COPY is binary unless one of them is a text
        codec.
        """
        session, holder = self._cx()
        result = await session.execute(_TABLE_COLUMNS, (table,), holder)
        found = {r[1]: r[2] for r in result.rows}
        if not found:
            raise InterfaceError(f"table {table!r} has no columns")
        qualified = result.rows[0][0]
        names = list(columns) if columns is not None else list(found)
        missing = [n for n in names if n not in found]
        if missing:
            raise InterfaceError(f"table {qualified} has no column {missing[0]!r}")
        oids = [found[n] for n in names]
        await session.types.learn(oids, holder)
        # Binary when every column travels in binary; a column whose codec is
        # a text one (registered so, or a type pgany reads as text) makes it text.
        registry = session.registry
        codecs = [registry.for_param(oid) for oid in oids]
        binary = all(c.format is Format.BINARY for c in codecs)
        if not binary:
            codecs = [_text_codec(registry, oid, names[i]) for i, oid in enumerate(oids)]
        cols = ", ".join(quote_ident(n) for n in names)
        sql = f"COPY {qualified} ({cols}) FROM STDIN{' (FORMAT binary)' if binary else ''}"
        async with self.copy_in(sql) as sink:
            if binary:
                await BinaryCopyInWriter(sink, oids).write_rows(records)
            else:
                await write_text_rows(sink, codecs, records)
        return sink.rows_copied or 0


def _text_codec(registry: TypeRegistry, oid: int, column: str) -> Codec:
    """The codec that writes *column* (of type *oid*) in a text COPY."""
    codec = registry.get(oid, Format.TEXT)
    if codec is not None and codec.encode is not None:
        return codec
    binary = registry.get(oid, Format.BINARY)
    if binary is not None and binary.encode is not None:
        raise InterfaceError(
            f"column {column!r} ({binary.name}) has only a binary encoder and another column "
            "only a text one: one COPY cannot mix formats"
        )
    return FALLBACK_TEXT


#: The columns of a table, for copy_records_in.
_TABLE_COLUMNS = catalog_query(
    "SELECT c.oid::regclass::text, a.attname, a.atttypid FROM pg_catalog.pg_attribute a "
    "JOIN pg_catalog.pg_class c ON c.oid = a.attrelid "
    "WHERE a.attrelid = $1::text::regclass AND a.attnum > 0 AND NOT a.attisdropped "
    "ORDER BY a.attnum"
)


def _row_count_error(rows: list[Any], method: str) -> RowCountError:
    return RowCountError(f"{method} expected exactly one row, the query returned {len(rows)}")


def _only_row(rows: list[Any], method: str) -> Row:
    if len(rows) != 1:
        raise _row_count_error(rows, method)
    row: Row = rows[0]
    return row
