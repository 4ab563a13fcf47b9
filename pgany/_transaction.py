"""Transactions, savepoints, portals and row streams.

A transaction (or a stream outside one) *holds* its client: requests from
other tasks wait until it ends, so none of them runs inside it; requests
already sent before it began finish before its BEGIN. Ending is always
bounded: on an exception or cancellation the rollback is shielded and given
:data:`END_TIMEOUT` seconds, after which the connection is closed rather
than left in an unknown state.
"""

from __future__ import annotations

import itertools
from collections import deque
from collections.abc import Iterator, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any

import anyio

from pgany._driver import GC_PAUSE_STREAM_READ
from pgany._queries import Queries
from pgany._sql import quote_ident
from pgany._waiter import cancel_check_for_backend, read_own_checkpoint
from pgany.errors import ConnectionClosed, Error, InFailedSqlTransaction, InterfaceError
from pgany.protocol import Request
from pgany.protocol import frontend as fe

if TYPE_CHECKING:
    from pgany._rows import Row
    from pgany.client import Client, Statement
    from pgany.protocol.pipeline import RowFactory

__all__ = ["END_TIMEOUT", "Portal", "RowStream", "Savepoint", "Transaction", "TransactionContext"]

#: Seconds a rollback (or the end of a stream) may take before the connection is closed.
END_TIMEOUT = 10.0

#: Batches a row stream keeps requested ahead of the one being read: the
#: server always has the next one to work on while the consumer reads.
STREAM_AHEAD = 2

_portal_names = itertools.count(1)
_savepoint_names = itertools.count(1)

_ISOLATION = {
    "read uncommitted": "READ UNCOMMITTED",
    "read committed": "READ COMMITTED",
    "repeatable read": "REPEATABLE READ",
    "serializable": "SERIALIZABLE",
}


def begin_sql(isolation: str | None, read_only: bool | None, deferrable: bool | None) -> str:
    """The BEGIN statement for these options (PostgreSQL's spellings, any case)."""
    parts = ["BEGIN"]
    if isolation is not None:
        key = " ".join(isolation.replace("_", " ").lower().split())
        if key not in _ISOLATION:
            raise InterfaceError(
                f"invalid isolation level {isolation!r}: one of {', '.join(repr(k) for k in _ISOLATION)}"
            )
        parts.append(f"ISOLATION LEVEL {_ISOLATION[key]}")
    if read_only is not None:
        parts.append("READ ONLY" if read_only else "READ WRITE")
    if deferrable is not None:
        parts.append("DEFERRABLE" if deferrable else "NOT DEFERRABLE")
    return " ".join(parts)


class _Holder:
    """The identity that may use a held client (one per transaction or stream)."""

    __slots__ = ()


class StreamHolder(_Holder):
    """Holds a client for a stream outside a transaction."""

    __slots__ = ()


async def _end_bounded(client: Client, sql: str, holder: object) -> None:
    """Run *sql* (ROLLBACK...) shielded and bounded; close the connection if it can't finish."""
    with anyio.CancelScope(shield=True):
        with anyio.move_on_after(END_TIMEOUT) as scope:
            try:
                await client._simple(sql, discard=True, holder=holder)
            except ConnectionClosed:
                return
        if scope.cancelled_caught:
            await client.close()


async def _finish(client: Client, sql: str, undo: str, holder: object) -> Request:
    """Run *sql* (COMMIT, RELEASE) unless the caller is cancelled: then run *undo*.

    Cancellation is checked before *sql* is sent; once it is sent, its
    outcome is awaited shielded and bounded, so the caller learns what
    happened (a cancelled unit of work never commits, and committed work is
    never reported as cancelled). An error from *sql* is raised after *undo*.
    """
    try:
        await anyio.lowlevel.checkpoint_if_cancelled()
    except BaseException:
        await _end_bounded(client, undo, holder)
        raise
    with anyio.CancelScope(shield=True):
        with anyio.move_on_after(END_TIMEOUT) as scope:
            try:
                return await client._simple(sql, discard=True, holder=holder)
            except ConnectionClosed:
                raise
            except BaseException:
                await _end_bounded(client, undo, holder)
                raise
    assert scope.cancelled_caught
    await client.close()
    raise ConnectionClosed(
        f"{sql.split()[0]} did not complete within {END_TIMEOUT:g} s: the connection was "
        "closed and the outcome is unknown"
    )


class Transaction(Queries):
    """An open transaction: the query methods of :class:`~pgany.Client`, plus
    savepoints, portals, :meth:`commit` and :meth:`rollback`."""

    __module__ = "pgany"
    __slots__ = ("_client", "_finished", "_holder")

    def __init__(self, client: Client, holder: _Holder) -> None:
        self._client = client
        self._holder = holder
        self._finished = False

    def __repr__(self) -> str:
        state = "finished" if self._finished else self._client.transaction_status
        return f"<pgany.{type(self).__name__} {state}>"

    def _cx(self) -> tuple[Client, object | None]:
        if self._finished:
            raise InterfaceError(f"this {type(self).__name__.lower()} is finished")
        return self._client, self._holder

    @property
    def is_finished(self) -> bool:
        """True once committed or rolled back."""
        return self._finished

    async def commit(self) -> None:
        """Commit now; the transaction is then finished (leaving the block does nothing more).

        Called in a cancelled scope, it sends no COMMIT: the transaction
        rolls back and the cancellation propagates. Once COMMIT is sent, its
        outcome is awaited shielded (bounded): a caller is never told its
        work was cancelled when it was committed.
        """
        client, holder = self._cx()
        self._finished = True
        req = await _finish(client, "COMMIT", "ROLLBACK", holder)
        failed = req.results and req.results[-1].tag == "ROLLBACK"
        if failed:
            raise InFailedSqlTransaction(
                "the transaction had failed, so COMMIT rolled it back",
                hint="catch errors with a savepoint to keep the rest of a transaction",
            )

    async def rollback(self) -> None:
        """Roll back now; the transaction is then finished.

        The rollback is done even in a cancelled scope (shielded, bounded);
        the cancellation is raised afterwards.
        """
        client, holder = self._cx()
        self._finished = True
        await _end_bounded(client, "ROLLBACK", holder)
        await anyio.lowlevel.checkpoint()

    def savepoint(self, name: str | None = None) -> SavepointContext:
        """``async with tx.savepoint() as sp:`` — a nested transaction.

        Released on normal exit; on an exception, rolled back to (and the
        outer transaction goes on).
        """
        self._cx()
        return SavepointContext(self, name or f"pgany_sp_{next(_savepoint_names)}")

    async def bind(self, stmt: str | Statement, *params: Any) -> Portal:
        """Bind *params* to *stmt*, making a portal to fetch rows from with :meth:`query_portal`."""
        client, holder = self._cx()
        return await bind_portal(client, holder, stmt, params)

    async def query_portal(self, portal: Portal, max_rows: int) -> list[Row]:
        """Up to *max_rows* more rows from *portal*; ``[]`` once it is exhausted."""
        client, holder = self._cx()
        if portal._client is not client:
            raise InterfaceError("this portal belongs to another connection")
        if max_rows < 1:
            raise InterfaceError("max_rows must be at least 1")
        if portal.exhausted:
            await anyio.lowlevel.checkpoint()
            return []
        req = Request(row_factory=portal._row_factory)
        if req.row_factory is None:
            req.discard = True
        await client._run(fe.encode_execute(portal.name, max_rows) + fe.SYNC, req, holder)
        client._raise_for(req)
        return portal._take(req)


class Savepoint(Transaction):
    """A savepoint inside a transaction: the same methods as :class:`Transaction`."""

    __module__ = "pgany"
    __slots__ = ("name",)

    def __init__(self, client: Client, holder: _Holder, name: str) -> None:
        super().__init__(client, holder)
        #: The savepoint's name.
        self.name = name

    async def commit(self) -> None:
        """Release the savepoint (its work joins the enclosing transaction).

        In a cancelled scope nothing is released: the savepoint is rolled
        back and the cancellation propagates.
        """
        client, holder = self._cx()
        self._finished = True
        q = quote_ident(self.name)
        await _finish(
            client,
            f"RELEASE SAVEPOINT {q}",
            f"ROLLBACK TO SAVEPOINT {q}; RELEASE SAVEPOINT {q}",
            holder,
        )

    async def rollback(self) -> None:
        """Roll back to the savepoint and release it; the enclosing transaction goes on.

        Done even in a cancelled scope; the cancellation is raised afterwards.
        """
        client, holder = self._cx()
        self._finished = True
        q = quote_ident(self.name)
        await _end_bounded(client, f"ROLLBACK TO SAVEPOINT {q}; RELEASE SAVEPOINT {q}", holder)
        await anyio.lowlevel.checkpoint()


async def bind_portal(
    client: Client, holder: object | None, stmt: str | Statement, params: Sequence[Any]
) -> Portal:
    """Bind *params* to *stmt* as a new named portal (valid until the transaction ends)."""
    statement = await client._statement(stmt, holder)
    name = f"pgany_portal_{next(_portal_names)}"
    data = statement._encode(params, portal=name, execute=False)
    if statement._shaped_at_execution:
        # FETCH / EXECUTE: the portal's rows have the shape it has now; ask for it.
        req = Request(row_factory_for=statement._row_factory_for)
        data += fe.encode_describe("P", name)
    else:
        req = Request()
        req.discard = True
    await client._run(data + fe.SYNC, req, holder)
    client._raise_for(req)
    factory = req.row_factory if statement._shaped_at_execution else statement._row_factory
    return Portal(name, statement, client, factory)


class Portal:
    """A bound statement inside a transaction, read with :meth:`Transaction.query_portal`."""

    __module__ = "pgany"
    __slots__ = (
        "_client",
        "_fetched",
        "_row_factory",
        "exhausted",
        "name",
        "rows_affected",
        "statement",
    )

    def __init__(
        self, name: str, statement: Statement, client: Client, row_factory: RowFactory | None
    ) -> None:
        #: The portal's name on the server.
        self.name = name
        #: The statement it was bound from.
        self.statement = statement
        #: True once every row has been fetched.
        self.exhausted = False
        #: The command's row count, once exhausted.
        self.rows_affected = 0
        self._client = client
        self._fetched = 0
        # (the statement's, or for FETCH / EXECUTE the one for the portal's own shape)
        self._row_factory = row_factory

    def _take(self, req: Request) -> list[Any]:
        """The rows of one Execute; notes exhaustion and the row count."""
        result = req.results[-1] if req.results else None
        rows = result.rows if result is not None else []
        self._fetched += len(rows)
        if result is None or not result.suspended:
            self.exhausted = True
            # A SELECT's tag counts only the last Execute's rows; DML counts them all.
            tagged = result.rows_affected if result is not None else 0
            self.rows_affected = max(tagged, self._fetched)
        return rows

    def __repr__(self) -> str:
        return f"<pgany.Portal {self.name} exhausted={self.exhausted}>"


class TransactionContext:
    """The async context manager :meth:`Client.transaction` returns."""

    __module__ = "pgany"
    __slots__ = ("_begin", "_client", "_holder", "_tx")

    def __init__(self, client: Client, begin: str) -> None:
        self._client = client
        self._begin = begin
        self._holder: _Holder | None = None
        self._tx: Transaction | None = None

    async def __aenter__(self) -> Transaction:
        if self._holder is not None:
            raise InterfaceError("this transaction() context is already in use")
        client = self._client
        holder = _Holder()
        await anyio.lowlevel.checkpoint_if_cancelled()  # (cancelled: no BEGIN, no ROLLBACK)
        await client._acquire(holder)
        self._holder = holder
        try:
            await client._simple(self._begin, discard=True, holder=holder)
        except BaseException:
            # BEGIN may still run on the server (if we were cancelled): undo it.
            if not client.is_closed:
                await _end_bounded(client, "ROLLBACK", holder)
            client._release(holder)
            self._holder = None
            raise
        self._tx = Transaction(client, holder)
        return self._tx

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool:
        tx, holder, client = self._tx, self._holder, self._client
        assert tx is not None
        assert holder is not None
        try:
            if not tx._finished:
                if exc_type is None:
                    await tx.commit()
                else:
                    tx._finished = True
                    if not client.is_closed:
                        await _end_bounded(client, "ROLLBACK", holder)
        finally:
            client._release(holder)
        return False


class SavepointContext:
    """The async context manager :meth:`Transaction.savepoint` returns."""

    __module__ = "pgany"
    __slots__ = ("_name", "_parent", "_sp")

    def __init__(self, parent: Transaction, name: str) -> None:
        self._parent = parent
        self._name = name
        self._sp: Savepoint | None = None

    async def __aenter__(self) -> Savepoint:
        client, holder = self._parent._cx()
        assert isinstance(holder, _Holder)
        await anyio.lowlevel.checkpoint_if_cancelled()  # (cancelled: no SAVEPOINT sent)
        q = quote_ident(self._name)
        try:
            await client._simple(f"SAVEPOINT {q}", discard=True, holder=holder)
        except BaseException as exc:
            if not isinstance(exc, Error) and not client.is_closed:
                await _end_bounded(
                    client, f"ROLLBACK TO SAVEPOINT {q}; RELEASE SAVEPOINT {q}", holder
                )
            raise
        self._sp = Savepoint(client, holder, self._name)
        return self._sp

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool:
        sp = self._sp
        assert sp is not None
        if not sp._finished:
            if exc_type is None:
                await sp.commit()
            else:
                await sp.rollback()
        return False


class RowStream:
    """Rows of one query, fetched in batches: ``async for row in stream``.

    While you work through one batch, the next ones are already on their
    way: two Executes are kept in flight ahead of the consumer (so at most
    three batches are held in memory).

    Each ``__anext__`` checks for cancellation (a cancelled scope stops the
    iteration at the next row); it lets other tasks run (a schedule point)
    when it has to wait for a batch, not for a row taken from the batch
    already decoded.
    """

    __module__ = "pgany"
    __slots__ = (
        "_ahead",
        "_batch",
        "_cancel_called",
        "_checkpoint_if_cancelled",
        "_client",
        "_closed",
        "_execute",
        "_fetch_point",
        "_holder",
        "_portal",
        "_rows",
        "rows_affected",
    )

    def __init__(self, client: Client, holder: object, portal: Portal, batch_size: int) -> None:
        self._client = client
        self._holder = holder
        self._portal = portal
        self._batch = batch_size
        self._execute = fe.encode_execute(portal.name, batch_size) + fe.SYNC
        self._rows: Iterator[Row] = iter(())  # what is left of the decoded batch
        self._closed = False
        self._ahead: deque[Request] = deque()
        self._cancel_called, self._checkpoint_if_cancelled = cancel_check_for_backend()
        self._fetch_point = read_own_checkpoint()
        #: The command's row count, set once every row has been read.
        self.rows_affected: int | None = None

    def __aiter__(self) -> RowStream:
        return self

    async def _fetch(self) -> Request:
        """Send the next Execute (it runs while the consumer works).

        Sent from this task (nothing to gather with: the stream holds the
        connection) and without waking the reader task: the consumer reads
        the batch itself when it gets to it (see Driver.wait).
        """
        portal = self._portal
        req = Request(row_factory=portal._row_factory)
        if req.row_factory is None:
            req.discard = True
        client = self._client
        if client._may_send_now(req, self._holder):
            client._driver.send(self._execute, req, True, True)
        else:
            await client._submit(self._execute, req, self._holder, direct=True)
        return req

    async def __anext__(self) -> Row:
        # Check before taking a row: a cancelled step loses none.
        if self._cancel_called():
            await self._checkpoint_if_cancelled()
        for row in self._rows:  # a row of the decoded batch: no schedule point
            return row
        return await self._next_batch()

    async def _next_batch(self) -> Row:
        """Wait for the next batch (a schedule point) and return its first row."""
        portal = self._portal
        client = self._client
        ahead = self._ahead
        while True:
            if self._closed:
                raise InterfaceError("the stream is closed")
            if portal.exhausted:
                await self._finish()
                self.rows_affected = portal.rows_affected
                raise StopAsyncIteration
            # A checkpoint: reading the batch below may not be one by itself.
            await self._fetch_point()
            req = ahead.popleft() if ahead else await self._fetch()
            try:
                await client._driver.wait(req, GC_PAUSE_STREAM_READ)
            except BaseException:
                client._driver.abandon(req)
                raise
            client._raise_for(req)
            rows = portal._take(req)
            if not portal.exhausted:
                while len(ahead) < STREAM_AHEAD:
                    ahead.append(await self._fetch())
            if rows:
                it = iter(rows)
                first: Row = next(it)
                self._rows = it
                return first

    async def _finish(self) -> None:
        """The last batch is read: wait for the Executes sent past it (no rows, answered at once).

        Waiting, rather than abandoning them, sends no CancelRequest for nothing.
        """
        ahead = self._ahead
        if not ahead:
            await anyio.lowlevel.checkpoint()
            return
        driver = self._client._driver
        while ahead:
            try:
                await driver.wait(ahead[0])
            except BaseException:
                self._abandon()
                raise
            ahead.popleft().error = None  # (nothing was asked of it)

    def _abandon(self) -> None:
        ahead = self._ahead
        while ahead:
            self._client._driver.abandon(ahead.popleft())


class StreamContext:
    """The async context manager :meth:`Client.query_stream` returns."""

    __module__ = "pgany"
    __slots__ = ("_batch", "_client", "_holder", "_outer", "_own_tx", "_params", "_sql", "_stream")

    def __init__(
        self,
        client: Client,
        holder: object | None,
        sql: str | Statement,
        params: Sequence[Any],
        batch_size: int,
    ) -> None:
        self._client = client
        self._outer = holder
        self._sql = sql
        self._params = params
        self._batch = batch_size
        self._holder: object | None = None
        self._own_tx = False
        self._stream: RowStream | None = None

    async def __aenter__(self) -> RowStream:
        client = self._client
        await anyio.lowlevel.checkpoint_if_cancelled()  # (cancelled: no BEGIN sent)
        if self._outer is not None:
            holder: object = self._outer
        else:
            holder = StreamHolder()
            await client._acquire(holder)
            self._own_tx = True
        self._holder = holder
        try:
            if self._own_tx:
                await client._simple("BEGIN", discard=True, holder=holder)
            portal = await bind_portal(client, holder, self._sql, self._params)
        except BaseException:
            if self._own_tx:
                if not client.is_closed:
                    await _end_bounded(client, "ROLLBACK", holder)
                client._release(holder)
            raise
        self._stream = RowStream(client, holder, portal, self._batch)
        return self._stream

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool:
        client, holder, stream = self._client, self._holder, self._stream
        assert stream is not None
        assert holder is not None
        stream._closed = True
        stream._rows = iter(())  # a closed stream gives no more rows, buffered or not
        stream._abandon()
        try:
            if client.is_closed:
                return False
            if self._own_tx:
                if exc_type is None:
                    # (cancelled before COMMIT is sent: rolls back, then raises)
                    await _finish(client, "COMMIT", "ROLLBACK", holder)
                else:
                    await _end_bounded(client, "ROLLBACK", holder)
            elif not stream._portal.exhausted:
                # Inside the caller's transaction: free the portal's resources now.
                q = fe.encode_close("P", stream._portal.name) + fe.SYNC
                req = Request()
                req.discard = True
                with anyio.CancelScope(shield=True), anyio.move_on_after(END_TIMEOUT):
                    await client._run(q, req, holder)
        finally:
            if self._own_tx:
                client._release(holder)
        return False
