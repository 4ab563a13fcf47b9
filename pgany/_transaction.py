"""Transactions and savepoints.

A transaction (or a stream outside one) *holds* its session: requests from
other tasks wait until it ends, so none of them runs inside it; requests
already sent before it began finish before its BEGIN. Ending is always
bounded: on an exception or cancellation the rollback is shielded and given
:data:`END_TIMEOUT` seconds, after which the connection is closed rather
than left in an unknown state.
"""

from __future__ import annotations

import itertools
from types import TracebackType
from typing import TYPE_CHECKING, Any

import anyio

from pgany._queries import Queries
from pgany._session import END_TIMEOUT, Holder, Portal, Session, Statement
from pgany._sql import quote_ident
from pgany.errors import Error, InFailedSqlTransaction, InterfaceError

if TYPE_CHECKING:
    from pgany._rows import Row

__all__ = [
    "END_TIMEOUT",
    "Savepoint",
    "SavepointContext",
    "Transaction",
    "TransactionContext",
    "begin_sql",
]

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


class Transaction(Queries):
    """An open transaction: the query methods of :class:`~pgany.Client`, plus
    savepoints, portals, :meth:`commit` and :meth:`rollback`."""

    __module__ = "pgany"
    __slots__ = ("_finished", "_holder", "_session")

    def __init__(self, session: Session, holder: Holder) -> None:
        self._session = session
        self._holder = holder
        self._finished = False

    def __repr__(self) -> str:
        state = "finished" if self._finished else self._session.transaction_status
        return f"<pgany.{type(self).__name__} {state}>"

    def _cx(self) -> tuple[Session, object | None]:
        if self._finished:
            raise InterfaceError(f"this {type(self).__name__.lower()} is finished")
        return self._session, self._holder

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
        session, holder = self._cx()
        self._finished = True
        req = await session.finish("COMMIT", "ROLLBACK", holder)
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
        session, holder = self._cx()
        self._finished = True
        await session.end_bounded("ROLLBACK", holder)
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
        session, holder = self._cx()
        return await session.bind_portal(stmt, params, holder)

    async def query_portal(self, portal: Portal, max_rows: int) -> list[Row]:
        """Up to *max_rows* more rows from *portal*; ``[]`` once it is exhausted."""
        session, holder = self._cx()
        return await session.query_portal(portal, max_rows, holder)


class Savepoint(Transaction):
    """A savepoint inside a transaction: the same methods as :class:`Transaction`."""

    __module__ = "pgany"
    __slots__ = ("name",)

    def __init__(self, session: Session, holder: Holder, name: str) -> None:
        super().__init__(session, holder)
        #: The savepoint's name.
        self.name = name

    async def commit(self) -> None:
        """Release the savepoint (its work joins the enclosing transaction).

        In a cancelled scope nothing is released: the savepoint is rolled
        back and the cancellation propagates.
        """
        session, holder = self._cx()
        self._finished = True
        q = quote_ident(self.name)
        await session.finish(
            f"RELEASE SAVEPOINT {q}",
            f"ROLLBACK TO SAVEPOINT {q}; RELEASE SAVEPOINT {q}",
            holder,
        )

    async def rollback(self) -> None:
        """Roll back to the savepoint and release it; the enclosing transaction goes on.

        Done even in a cancelled scope; the cancellation is raised afterwards.
        """
        session, holder = self._cx()
        self._finished = True
        q = quote_ident(self.name)
        await session.end_bounded(f"ROLLBACK TO SAVEPOINT {q}; RELEASE SAVEPOINT {q}", holder)
        await anyio.lowlevel.checkpoint()


class TransactionContext:
    """The async context manager :meth:`Client.transaction` returns."""

    __module__ = "pgany"
    __slots__ = ("_begin", "_holder", "_session", "_tx")

    def __init__(self, session: Session, begin: str) -> None:
        self._session = session
        self._begin = begin
        self._holder: Holder | None = None
        self._tx: Transaction | None = None

    async def __aenter__(self) -> Transaction:
        if self._holder is not None:
            raise InterfaceError("this transaction() context is already in use")
        session = self._session
        holder = Holder()
        await anyio.lowlevel.checkpoint_if_cancelled()  # (cancelled: no BEGIN, no ROLLBACK)
        await session.acquire(holder)
        self._holder = holder
        try:
            await session.simple(self._begin, discard=True, holder=holder)
        except BaseException:
            self._holder = None
            await session.abort_hold(holder)
            raise
        self._tx = Transaction(session, holder)
        return self._tx

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool:
        tx, holder, session = self._tx, self._holder, self._session
        assert tx is not None
        assert holder is not None
        try:
            if not tx._finished:
                if exc_type is None:
                    await tx.commit()
                else:
                    tx._finished = True
                    if not session.is_closed:
                        await session.end_bounded("ROLLBACK", holder)
        finally:
            session.release(holder)
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
        session, holder = self._parent._cx()
        assert isinstance(holder, Holder)
        await anyio.lowlevel.checkpoint_if_cancelled()  # (cancelled: no SAVEPOINT sent)
        q = quote_ident(self._name)
        try:
            await session.simple(f"SAVEPOINT {q}", discard=True, holder=holder)
        except BaseException as exc:
            if not isinstance(exc, Error) and not session.is_closed:
                await session.end_bounded(
                    f"ROLLBACK TO SAVEPOINT {q}; RELEASE SAVEPOINT {q}", holder
                )
            raise
        self._sp = Savepoint(session, holder, self._name)
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
