"""The user API: :class:`Client`, and how to connect (:func:`connect`, :func:`run_connection`).

A Client is the public face of one connection: its query methods (from
:class:`~pgany._queries.Queries`) and everything else it offers run through
the connection's :class:`~pgany._session.Session`, the one road every
request takes to the driver.
"""

from __future__ import annotations

from collections.abc import Callable
from types import TracebackType
from typing import Any

import anyio
import anyio.abc

from pgany._queries import CommandComplete, Queries, SimpleQueryMessage, SimpleRowDescription
from pgany._session import (
    CancelToken,
    NotificationStream,
    Portal,
    Session,
    Statement,
    connect_session,
    parse_server_version,
)
from pgany._sql import quote_ident
from pgany._transaction import TransactionContext, begin_sql
from pgany.config import Config
from pgany.errors import InterfaceError
from pgany.types._registry import Format

__all__ = [
    "CancelToken",
    "Client",
    "CommandComplete",
    "NotificationStream",
    "Portal",
    "SimpleQueryMessage",
    "SimpleRowDescription",
    "Statement",
    "connect",
    "parse_server_version",
    "run_connection",
]


class Client(Queries):
    """A connection to PostgreSQL, shared safely by any number of tasks.

    Made by :func:`pgany.connect` or :func:`pgany.run_connection`; it is
    usable while the connection task runs.
    """

    __module__ = "pgany"
    __slots__ = ("_session",)

    def __init__(self, session: Session) -> None:
        self._session = session

    def _cx(self) -> tuple[Session, object | None]:
        return self._session, None

    def __repr__(self) -> str:
        state = "closed" if self.is_closed else self.transaction_status
        return f"<pgany.Client pid={self.backend_pid} {self._session.host} {state}>"

    # -- properties -------------------------------------------------------------

    @property
    def is_closed(self) -> bool:
        """True once the connection is closed or broken."""
        return self._session.is_closed

    @property
    def backend_pid(self) -> int:
        """The server process ID of this session."""
        return self._session.backend_pid

    @property
    def server_version(self) -> int:
        """The server's version as an int, like ``server_version_num`` (150018)."""
        return self._session.server_version

    @property
    def transaction_status(self) -> str:
        """``"idle"``, ``"in_transaction"`` or ``"failed"`` as of the latest ReadyForQuery."""
        return self._session.transaction_status

    @property
    def notifications_dropped(self) -> int:
        """How many notifications were dropped because the buffer was full."""
        return self._session.notifications_dropped

    @property
    def config(self) -> Config:
        """The configuration this client connected with."""
        return self._session.config

    def parameter_status(self, name: str) -> str | None:
        """The current value of a server parameter (``"TimeZone"``...), or ``None``."""
        return self._session.parameter_status(name)

    async def register_codec(
        self,
        type_name: str,
        *,
        encode: Callable[[Any], bytes | bytearray] | None = None,
        decode: Callable[[Any], Any] | None = None,
        format: str | Format = "binary",
    ) -> None:
        """Add or replace, for this connection only, how one type is encoded and decoded.

        *type_name* is looked up on the server (``"numeric"``, ``"public.my_type"``);
        *decode* receives one field's bytes (``bytes`` or ``memoryview``) in
        *format* (``"binary"`` or ``"text"``), *encode* returns a parameter's
        bytes. The codec wins over pgany's own in both formats: results,
        parameters, arrays of the type and composite fields use it, in
        *format*; a direction left out falls back to the type's other format.
        Statements prepared before keep working and pick the new codec up
        when they are prepared again (the statement cache is cleared).
        """
        await self._session.register_codec(type_name, encode=encode, decode=decode, format=format)

    def clear_type_cache(self) -> None:
        """Forget the types learned from the server (after ``ALTER TYPE``, say).

        Codecs registered with :meth:`register_codec` are forgotten too, and
        the statement cache is emptied, so statements are prepared afresh.
        """
        self._session.clear_type_cache()

    def cancel_token(self) -> CancelToken:
        """A token that can cancel this session's running query from anywhere."""
        return self._session.cancel_token()

    # -- transactions ------------------------------------------------------------------

    def transaction(
        self,
        isolation: str | None = None,
        read_only: bool | None = None,
        deferrable: bool | None = None,
    ) -> TransactionContext:
        """``async with client.transaction() as tx:`` — a transaction.

        Begins on entry; commits on normal exit; rolls back on an exception or
        cancellation (the rollback is shielded and bounded in time). While it
        is open, calls made on the Client from other tasks wait until it ends,
        and the owning task calling the Client directly gets
        :class:`~pgany.InterfaceError`: run statements through *tx*.
        """
        return TransactionContext(self._session, begin_sql(isolation, read_only, deferrable))

    # -- notifications -------------------------------------------------------------------

    async def listen(self, channel: str) -> None:
        """``LISTEN`` on *channel* (quoted as an identifier)."""
        await self.batch_execute(f"LISTEN {quote_ident(channel)}")

    async def unlisten(self, channel: str) -> None:
        """``UNLISTEN`` *channel*; ``"*"`` stops listening to every channel."""
        await self.batch_execute(
            "UNLISTEN *" if channel == "*" else f"UNLISTEN {quote_ident(channel)}"
        )

    def notifications(self) -> NotificationStream:
        """An async iterator of the notifications this session receives.

        Notifications are buffered by the connection task even while nobody
        iterates (up to ``notification_buffer``; then the oldest are dropped
        and counted in :attr:`notifications_dropped`). The iterator ends with
        :class:`~pgany.ConnectionClosed` when the connection goes away.
        """
        return self._session.notifications()

    # -- closing ------------------------------------------------------------------------

    async def close(self) -> None:
        """Close the connection: later (and still waiting) calls raise ConnectionClosed.

        A query the server still runs for this connection is cancelled (a
        CancelRequest, shielded and bounded by 2 seconds or
        ``connect_timeout``), so that the server stops working on it.
        As trio's ``aclose()``: the connection is closed even in a cancelled
        scope, and then the cancellation is raised.
        """
        await self._session.close()


# -- connecting -----------------------------------------------------------------------------


async def run_connection(
    dsn_or_config: str | Config | None = None,
    *,
    task_status: anyio.abc.TaskStatus[Client] = anyio.TASK_STATUS_IGNORED,
    **params: Any,
) -> None:
    """Connect, then run the connection task until the connection ends.

    Meant for ``client = await task_group.start(pgany.run_connection, dsn)``:
    ``start`` returns the :class:`Client` once the session is ready, and
    raises :class:`~pgany.ConnectError` (or the server's login error) if it
    can't be made. The task returns when the client is closed or the server
    goes away; cancelling it closes the connection (and cancels a query the
    server still runs for it).
    """
    if isinstance(dsn_or_config, Config):
        config = dsn_or_config.replace(**params) if params else dsn_or_config
    else:
        config = Config.from_dsn(dsn_or_config, **params)
    session = await connect_session(config)
    task_status.started(Client(session))
    await session.run_driver()


run_connection.__module__ = "pgany"


class connect:
    """``async with pgany.connect(dsn, **params) as client:`` — open a connection.

    Entering opens a task group, connects, starts the connection task in it
    and gives the :class:`Client`; leaving closes the client (Terminate, or a
    CancelRequest if a query is still running) and joins the task group.
    Exceptions keep their identity: what the block raises leaves it as
    itself, and a failed connect raises
    :class:`~pgany.ConnectError` (or the server's login error) unwrapped.
    """

    __module__ = "pgany"

    def __init__(self, dsn: str | Config | None = None, **params: Any) -> None:
        if isinstance(dsn, Config):
            self._config = dsn.replace(**params) if params else dsn
        else:
            self._config = Config.from_dsn(dsn, **params)
        self._tg: anyio.abc.TaskGroup | None = None
        self._session: Session | None = None

    def __repr__(self) -> str:
        return f"pgany.connect({self._config!r})"

    async def __aenter__(self) -> Client:
        if self._tg is not None:
            raise InterfaceError("this connect() context is already in use")
        tg = anyio.create_task_group()
        await tg.__aenter__()
        try:
            # Connect in this task, then start the connection task (cheaper than
            # tg.start(run_connection), which connects in the new task and hands
            # the client back; the same task group either way).
            session = await connect_session(self._config)
        except BaseException:
            # Nothing runs in tg yet.
            try:
                await tg.__aexit__(None, None, None)
            except BaseException:
                pass
            raise
        tg.start_soon(session.run_driver, name=f"pgany connection {session.backend_pid}")
        self._tg = tg
        self._session = session
        return Client(session)

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool:
        tg, session = self._tg, self._session
        self._tg = self._session = None
        assert tg is not None
        assert session is not None
        try:
            await session.close_driver()
        finally:
            # The driver has stopped (or been cancelled): joining cannot block.
            await tg.__aexit__(None, None, None)
        if exc_type is None:
            await anyio.lowlevel.checkpoint()  # (closed either way; then a cancellation shows)
        return False
