"""Row streams: ``async with client.query_stream(sql) as stream: async for row in stream``.

A stream binds its query to a portal (in the caller's transaction, or in
one of its own that holds the session until the block ends) and fetches
it in batches through the session, keeping :data:`STREAM_AHEAD` batches
requested ahead of the consumer.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any

import anyio

from pgany._session import Portal, Session, Statement, StreamHolder
from pgany._waiter import cancel_check_for_backend, read_own_checkpoint
from pgany.errors import InterfaceError

if TYPE_CHECKING:
    from pgany._rows import Row
    from pgany.protocol import Request

__all__ = ["STREAM_AHEAD", "RowStream", "StreamContext"]

#: Batches a row stream keeps requested ahead of the one being read: the
#: server always has the next one to work on while the consumer reads.
STREAM_AHEAD = 2


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
        "_closed",
        "_fetch_point",
        "_holder",
        "_portal",
        "_rows",
        "_session",
        "rows_affected",
    )

    def __init__(self, session: Session, holder: object, portal: Portal, batch_size: int) -> None:
        self._session = session
        self._holder = holder
        self._portal = portal
        self._batch = batch_size
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
        """Send the next Execute (it runs while the consumer works)."""
        return await self._session.fetch_ahead(self._portal, self._batch, self._holder)

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
        session = self._session
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
            rows = await session.fetched_rows(portal, req)
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
        session = self._session
        while ahead:
            try:
                await session.wait_unwanted(ahead[0])
            except BaseException:
                self._abandon()
                raise
            ahead.popleft()

    def _abandon(self) -> None:
        ahead = self._ahead
        while ahead:
            self._session.abandon(ahead.popleft())


class StreamContext:
    """The async context manager :meth:`Client.query_stream` returns."""

    __module__ = "pgany"
    __slots__ = ("_batch", "_holder", "_outer", "_own_tx", "_params", "_session", "_sql", "_stream")

    def __init__(
        self,
        session: Session,
        holder: object | None,
        sql: str | Statement,
        params: Sequence[Any],
        batch_size: int,
    ) -> None:
        self._session = session
        self._outer = holder
        self._sql = sql
        self._params = params
        self._batch = batch_size
        self._holder: object | None = None
        self._own_tx = False
        self._stream: RowStream | None = None

    async def __aenter__(self) -> RowStream:
        session = self._session
        await anyio.lowlevel.checkpoint_if_cancelled()  # (cancelled: no BEGIN sent)
        if self._outer is not None:
            holder: object = self._outer
        else:
            holder = StreamHolder()
            await session.acquire(holder)
            self._own_tx = True
        self._holder = holder
        try:
            if self._own_tx:
                await session.simple("BEGIN", discard=True, holder=holder)
            portal = await session.bind_portal(self._sql, self._params, holder)
        except BaseException:
            if self._own_tx:
                await session.abort_hold(holder)
            raise
        self._stream = RowStream(session, holder, portal, self._batch)
        return self._stream

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool:
        session, holder, stream = self._session, self._holder, self._stream
        assert stream is not None
        assert holder is not None
        stream._closed = True
        stream._rows = iter(())  # a closed stream gives no more rows, buffered or not
        stream._abandon()
        try:
            if session.is_closed:
                return False
            if self._own_tx:
                if exc_type is None:
                    # (cancelled before COMMIT is sent: rolls back, then raises)
                    await session.finish("COMMIT", "ROLLBACK", holder)
                else:
                    await session.end_bounded("ROLLBACK", holder)
            elif not stream._portal.exhausted:
                # Inside the caller's transaction: free the portal's resources now.
                await session.close_portal(stream._portal, holder)
        finally:
            if self._own_tx:
                session.release(holder)
        return False
