"""In-flight requests: each one ends at its ReadyForQuery, in the order sent.

A :class:`Request` collects what the server answers to one Sync-terminated
unit (or one simple Query): parameter and row descriptions, rows, command
tags, the first error. The FIFO of requests lives in
:class:`~pgany.protocol.connection.Connection`; this module only knows how
one request takes its messages.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from typing import Any

from pgany.errors import DatabaseError, ProtocolError
from pgany.protocol.messages import FieldDescription, RowDescription

__all__ = ["CopyDirection", "Request", "Result", "RowFactory", "rows_from_tag"]


class CopyDirection(enum.Enum):
    """Which way a COPY the server started moves data."""

    #: COPY FROM STDIN: the client sends data (CopyInResponse).
    IN = "in"
    #: COPY TO STDOUT: the server sends data (CopyOutResponse).
    OUT = "out"


#: Decodes one DataRow: ``(buffer, body_start, body_end) -> row``.
RowFactory = Callable[[memoryview, int, int], Any]


def rows_from_tag(tag: str) -> int:
    """The row count in a command tag (``"INSERT 0 5"`` -> 5); 0 when it has none."""
    _, _, last = tag.rpartition(" ")
    if last.isdigit():
        verb = tag.split(" ", 1)[0]
        if verb in ("INSERT", "UPDATE", "DELETE", "SELECT", "MOVE", "FETCH", "COPY", "MERGE"):
            return int(last)
    return 0


class Result:
    """The outcome of one statement inside a request."""

    __slots__ = ("description", "empty", "rows", "suspended", "tag")

    def __init__(self, description: RowDescription | None) -> None:
        #: The RowDescription the rows follow (``None`` if the statement returns none).
        self.description = description
        #: Decoded rows.
        self.rows: list[Any] = []
        #: The command tag (``None`` if the statement was empty or suspended).
        self.tag: str | None = None
        #: True for an empty query string.
        self.empty = False
        #: True when an Execute stopped at its row limit (PortalSuspended).
        self.suspended = False

    @property
    def rows_affected(self) -> int:
        """The row count from the command tag."""
        return rows_from_tag(self.tag) if self.tag else 0


class Request:
    """One Sync-terminated unit of work (or one simple Query) in flight.

    The client sets *row_factory* when it already knows the rows' shape (a
    prepared statement), or *row_factory_for* to build one from each
    RowDescription the server sends in-band.
    """

    __slots__ = (
        "_current",
        "copy_bytes",
        "copy_data",
        "copy_mode",
        "copy_ready",
        "copy_waiter",
        "discard",
        "done",
        "error",
        "exclusive",
        "failed_rows",
        "keep_failed_rows",
        "kept_rows",
        "param_oids",
        "refused_copy",
        "results",
        "row_description",
        "row_factory",
        "row_factory_for",
        "simple",
        "status",
        "waiter",
    )

    def __init__(
        self,
        *,
        row_factory: RowFactory | None = None,
        row_factory_for: Callable[[RowDescription], RowFactory] | None = None,
        simple: bool = False,
        exclusive: bool = False,
    ) -> None:
        self.row_factory = row_factory
        self.row_factory_for = row_factory_for
        #: A simple-protocol Query (several statements may answer).
        self.simple = simple
        #: Nothing may be pipelined behind this request (it may enter COPY).
        self.exclusive = exclusive
        #: Parameter type OIDs from a ParameterDescription.
        self.param_oids: tuple[int, ...] | None = None
        #: The last RowDescription (from Describe or in-band), or ``None``.
        self.row_description: RowDescription | None = None
        #: One entry per finished statement.
        self.results: list[Result] = []
        #: The first error: the server's, or a decoding failure.
        self.error: BaseException | None = None
        #: Transaction status at the request's ReadyForQuery (``"I"``, ``"T"``, ``"E"``).
        self.status: str | None = None
        #: True once ReadyForQuery (or the connection's end) finished the request.
        self.done = False
        #: True when nobody waits for the outcome: rows are not decoded.
        self.discard = False
        #: ``"in"`` or ``"out"`` for a request made by copy_in()/copy_out(), else ``None``.
        self.copy_mode: CopyDirection | None = None
        #: True once the server answered CopyInResponse / CopyOutResponse.
        self.copy_ready = False
        #: COPY TO STDOUT chunks received and not yet taken.
        self.copy_data: list[bytes] | None = None
        #: Bytes in :attr:`copy_data`.
        self.copy_bytes = 0
        #: The COPY the server started for a request that did not ask for one
        #: (not made by copy_in()/copy_out()): the core refused it (CopyFail) or
        #: drained it, and the client tells the caller. ``None`` otherwise.
        self.refused_copy: CopyDirection | None = None
        #: Set by the client: if a row fails to decode, keep the raw rows (a type
        #: learned from the server may have changed since: decode them again).
        self.keep_failed_rows = False
        #: With :attr:`keep_failed_rows`, after a row failed to decode: the DataRow
        #: bodies from that row on, and the rows of that result decoded before it.
        self.failed_rows: list[bytes] | None = None
        self.kept_rows: list[Any] = []
        #: Free for the I/O layer: woken when COPY starts or data arrives.
        self.copy_waiter: Any = None
        #: Free for the I/O layer to hang its waiter on.
        self.waiter: Any = None
        self._current: Result | None = None

    def __repr__(self) -> str:
        return f"<Request simple={self.simple} done={self.done} error={self.error!r}>"

    # -- fed by the connection ---------------------------------------------

    def current(self) -> Result:
        cur = self._current
        if cur is None:
            cur = self._current = Result(self.row_description)
        return cur

    def on_row_description(self, desc: RowDescription) -> None:
        self.row_description = desc
        if self.row_factory_for is not None and not self.discard:
            try:
                self.row_factory = self.row_factory_for(desc)
            except Exception as exc:  # a codec lookup failed: report it, keep reading
                self.set_error(exc)
                self.row_factory = None
        self._current = Result(desc)

    def on_no_data(self) -> None:
        self.row_description = None
        self._current = None

    def on_data_row(self, buf: memoryview, start: int, end: int) -> None:
        if self.discard or self.error is not None:
            if self.failed_rows is not None:
                self.failed_rows.append(bytes(buf[start:end]))
            return
        factory = self.row_factory
        if factory is None:
            raise ProtocolError("DataRow received without a RowDescription")
        try:
            row = factory(buf, start, end)
        except ProtocolError:
            raise  # a malformed DataRow breaks the protocol, not just this request
        except Exception as exc:
            if self.keep_failed_rows and not self.simple:
                self.kept_rows = self.current().rows
                self.failed_rows = [bytes(buf[start:end])]
            self.set_error(exc)
            return
        self.current().rows.append(row)

    def finish_statement(
        self, tag: str | None, *, empty: bool = False, suspended: bool = False
    ) -> None:
        result = self.current()
        result.empty = empty
        result.suspended = suspended
        self.finish_tag(tag)

    def finish_tag(self, tag: str | None) -> None:
        """:meth:`finish_statement` for a plain CommandComplete (the hot path)."""
        result = self._current
        if result is None:
            result = Result(self.row_description)
        else:
            self._current = None
        result.tag = tag
        self.results.append(result)
        if self.simple:
            self.row_description = None
            if self.row_factory_for is not None:
                self.row_factory = None

    def set_error(self, error: BaseException) -> None:
        if self.failed_rows is not None and self.error is not None:
            self.failed_rows = None  # another error: the rows can't be mended
        if self.error is None:
            self.error = error
        elif isinstance(error, DatabaseError) and not isinstance(self.error, DatabaseError):
            # The server's own error explains more than a local decoding failure.
            error.__context__ = self.error
            self.error = error
        self._current = None

    def finish(self, status: str | None) -> None:
        self.status = status
        self.done = True
        self._current = None

    # -- read by the client ------------------------------------------------

    @property
    def fields(self) -> tuple[FieldDescription, ...]:
        desc = self.row_description
        return desc.fields if desc is not None else ()
