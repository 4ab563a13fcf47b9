"""The connection pool: :func:`create_pool`, :func:`run_pool` and :class:`Pool`.

Every connection's task and the pool's own maintenance run in the pool's
task group, so nothing outlives the pool and nothing runs unowned.

A connection is, at any moment, in one of three uses:

- *exclusive*: checked out by :meth:`Pool.connection` or
  :meth:`Pool.transaction`, for one task alone;
- *shared*: running single statements of the pool's shortcuts
  (:meth:`Pool.query` ...) for any number of tasks at once, pipelined, up
  to ``pipeline_depth`` requests in flight;
- *idle*: neither.

Waiters are served first come, first served. A connection comes back from
an exclusive checkout clean or not at all: a request left in flight (its
task was cancelled) is cancelled on the server and drained, an open
transaction is rolled back and session state is reset (``UNLISTEN *``,
``RESET ALL``, ``CLOSE ALL``, advisory locks released: one simple query
sent without waiting for it, so the next user's requests queue behind it);
the statement cache survives. A connection that can't be made clean in
time is closed.
"""

from __future__ import annotations

import dataclasses
import inspect
import logging
import math
import random
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterable, Sequence
from types import TracebackType
from typing import Any

import anyio
import anyio.abc

from pgany._driver import Notification
from pgany._rows import Row
from pgany._session import NotificationStream, Session, Statement, connect_session
from pgany._transaction import Transaction
from pgany.client import Client
from pgany.config import Config
from pgany.errors import ConnectionClosed, InterfaceError, PoolClosed, PoolTimeout, PoolTooBusy

__all__ = ["Pool", "PoolListener", "PoolStatistics", "create_pool", "run_pool"]

logger = logging.getLogger("pgany.pool")

#: What ``dsn`` may be: a DSN, a Config, or a callable (sync or async) giving one
#: for every new connection (rotating passwords, tokens).
DsnSource = str | Config | None | Callable[[], str | Config | Awaitable[str | Config]]

#: Session state a returned connection is cleaned of (the statement cache stays).
RESET_SQL = "UNLISTEN *; RESET ALL; CLOSE ALL; SELECT pg_catalog.pg_advisory_unlock_all()"
#: Seconds a returned connection may take to drain a cancelled request, roll
#: back and reset before it is closed instead.
RETURN_TIMEOUT = 5.0
#: Backoff between failed connection attempts: first, cap (seconds).
BACKOFF_FIRST = 0.1
BACKOFF_MAX = 10.0
#: How often the maintenance task looks at idle connections (seconds, at most).
MAINTENANCE_INTERVAL = 1.0

_EXCLUSIVE = 0
_SHARED = 1


@dataclasses.dataclass(frozen=True)
class PoolStatistics:
    """A snapshot of a pool, from :meth:`Pool.statistics`.

    The counts map onto OpenTelemetry's ``db.client.connection.*`` metrics:
    ``idle`` and ``in_use`` are ``db.client.connection.count`` by state,
    ``waiting`` is ``pending_requests``, ``timeouts`` is ``timeouts``,
    ``min_size`` / ``max_size`` are ``idle.min`` / ``max``.
    """

    __module__ = "pgany"

    #: Open connections, plus those being opened.
    size: int
    #: Open connections nobody uses.
    idle: int
    #: Connections checked out or running shared statements.
    in_use: int
    #: Tasks waiting for a connection.
    waiting: int
    min_size: int
    max_size: int
    #: Exclusive checkouts (``connection()``, ``transaction()``) so far.
    checkouts: int
    #: Shortcut statements run on shared connections so far.
    shared_requests: int
    #: Checkouts that timed out (:class:`~pgany.PoolTimeout`).
    timeouts: int
    #: Checkouts refused at once (:class:`~pgany.PoolTooBusy`).
    refused: int
    connections_created: int
    #: Connections the pool closed (lifetime, idle, resize, close, could not reset).
    connections_closed: int
    #: Connections that broke (the server went away, a failed check).
    connections_broken: int
    #: Failed attempts to connect.
    connect_errors: int
    #: Seconds tasks spent waiting for a connection, in total.
    wait_time: float
    #: Seconds connections spent checked out, in total.
    usage_time: float


class _Conn:
    """One pooled connection and how it is used."""

    __slots__ = (
        "client",
        "created",
        "expires",
        "idle_since",
        "load",
        "reserved",
        "retiring",
        "sent_at_checkout",
        "session",
        "taken_at",
        "user",
    )

    def __init__(self, session: Session, lifetime: float | None) -> None:
        self.session = session
        #: The Client the shortcuts run through (never handed out).
        self.client = Client(session)
        self.created = time.monotonic()
        self.expires = (
            math.inf if lifetime is None else self.created + lifetime * (1 - 0.1 * random.random())
        )
        self.idle_since = self.created
        #: Shared requests in flight.
        self.load = 0
        #: The exclusive checkout holding it, if any.
        self.user: _PooledClient | None = None
        #: Kept free of new shared requests for an exclusive waiter.
        self.reserved = False
        #: To be closed once nobody uses it (lifetime over, pool shrinking).
        self.retiring = False
        self.sent_at_checkout = 0
        self.taken_at = 0.0

    @property
    def free(self) -> bool:
        return self.user is None and self.load == 0


class _Waiter:
    __slots__ = ("conn", "event", "kind")

    def __init__(self, kind: int) -> None:
        self.kind = kind
        self.event = anyio.Event()
        self.conn: _Conn | None = None


class _PooledClient(Client):
    """The Client of one exclusive checkout: unusable once returned."""

    __slots__ = ("_conn", "_returned")

    def __init__(self, session: Session, conn: _Conn) -> None:
        super().__init__(session)
        self._conn: _Conn | None = conn
        self._returned = False

    def _cx(self) -> tuple[Session, object | None]:
        if self._returned:
            raise InterfaceError(
                "this connection was returned to the pool: check out another with pool.connection()"
            )
        return self._session, None


class Pool:
    """A pool of connections to one database, made by :func:`create_pool` or :func:`run_pool`.

    Exclusive checkouts: :meth:`connection`, :meth:`transaction`.
    Shortcuts that need no checkout (single statements, which may share a
    connection with other tasks' statements, pipelined): :meth:`query`,
    :meth:`query_one`, :meth:`query_opt`, :meth:`query_value`,
    :meth:`execute`, :meth:`executemany`.
    """

    __module__ = "pgany"

    def __init__(
        self,
        dsn: DsnSource = None,
        *,
        min_size: int = 1,
        max_size: int = 10,
        max_lifetime: float | None = 3600.0,
        max_idle: float | None = 600.0,
        timeout: float = 30.0,
        max_waiting: int = 0,
        check: str | Callable[[Client], Awaitable[object]] | None = None,
        configure: Callable[[Client], Awaitable[object]] | None = None,
        reset: Callable[[Client], Awaitable[object]] | None = None,
        reconnect_timeout: float = 300.0,
        reconnect_failed: Callable[[Pool], object] | None = None,
        name: str | None = None,
        pipeline_depth: int = 16,
        **connect_params: Any,
    ) -> None:
        if check is not None and check != "ping" and not callable(check):
            raise InterfaceError(f"check must be None, 'ping' or an async callable, not {check!r}")
        if pipeline_depth < 1:
            raise InterfaceError("pipeline_depth must be at least 1")
        if timeout <= 0:
            raise InterfaceError("timeout must be positive")
        _check_sizes(min_size, max_size)
        self._dsn = dsn
        self._params = connect_params
        if name is not None and "application_name" not in connect_params:
            self._params = {**connect_params, "fallback_application_name": name}
        if not callable(dsn):
            # Bad keywords or a bad DSN fail here, not in the background.
            _make_config(dsn, self._params)
        self._min_size = min_size
        self._max_size = max_size
        self._max_lifetime = max_lifetime
        self._max_idle = max_idle
        self._timeout = timeout
        self._max_waiting = max_waiting
        self._check = check
        self._configure = configure
        self._reset = reset
        self._reconnect_timeout = reconnect_timeout
        self._reconnect_failed = reconnect_failed
        self._depth = pipeline_depth
        #: The pool's name (for logs).
        self.name = name
        self._conns: list[_Conn] = []
        self._connecting = 0
        self._waiters: deque[_Waiter] = deque()
        self._tg: anyio.abc.TaskGroup | None = None
        self._closing = False
        self._closed = anyio.Event()
        self._changed = anyio.Event()  # set when the number of ready connections changes
        # Set when an exclusive checkout comes back (made only while close() waits).
        self._returned: anyio.Event | None = None
        self._wake_maintenance = anyio.Event()
        self._last_error: BaseException | None = None
        self._failures = 0
        self._failing_since: float | None = None
        self._reported_outage = False
        # statistics
        self._checkouts = 0
        self._shared_requests = 0
        self._timeouts = 0
        self._refused = 0
        self._created = 0
        self._closed_count = 0
        self._broken = 0
        self._connect_errors = 0
        self._wait_time = 0.0
        self._usage_time = 0.0

    def __repr__(self) -> str:
        s = self.statistics()
        state = "closed" if self.is_closed else f"size={s.size} idle={s.idle} in_use={s.in_use}"
        label = f" {self.name!r}" if self.name else ""
        return f"<pgany.Pool{label} {state}>"

    # -- state ---------------------------------------------------------------------------

    @property
    def is_closed(self) -> bool:
        """True once :meth:`close` began (or the pool's task ended)."""
        return self._closing

    @property
    def min_size(self) -> int:
        return self._min_size

    @property
    def max_size(self) -> int:
        return self._max_size

    def statistics(self) -> PoolStatistics:
        """Counts and totals as of now (see :class:`PoolStatistics`)."""
        idle = sum(1 for c in self._conns if c.free)
        return PoolStatistics(
            size=len(self._conns) + self._connecting,
            idle=idle,
            in_use=len(self._conns) - idle,
            waiting=len(self._waiters),
            min_size=self._min_size,
            max_size=self._max_size,
            checkouts=self._checkouts,
            shared_requests=self._shared_requests,
            timeouts=self._timeouts,
            refused=self._refused,
            connections_created=self._created,
            connections_closed=self._closed_count,
            connections_broken=self._broken,
            connect_errors=self._connect_errors,
            wait_time=self._wait_time,
            usage_time=self._usage_time,
        )

    # -- exclusive checkouts ---------------------------------------------------------------

    def connection(self, timeout: float | None = None) -> _Checkout:
        """``async with pool.connection() as client:`` — a connection for this task alone.

        Waits up to *timeout* seconds (the pool's ``timeout`` by default) and
        raises :class:`~pgany.PoolTimeout` after that. Leaving the block
        returns the connection: a request still in flight is cancelled, an
        open transaction rolled back and session state reset (see the
        module's description); the Client is unusable afterwards.
        """
        return _Checkout(self, timeout)

    def transaction(
        self,
        isolation: str | None = None,
        read_only: bool | None = None,
        deferrable: bool | None = None,
        *,
        timeout: float | None = None,
    ) -> _PoolTransaction:
        """``async with pool.transaction() as tx:`` — a transaction on a connection held alone.

        As :meth:`Client.transaction`; the connection is returned when the
        block ends.
        """
        return _PoolTransaction(self, timeout, isolation, read_only, deferrable)

    async def _checkout(self, timeout: float | None) -> _PooledClient:  # noqa: ASYNC109
        conn = await self._take(_EXCLUSIVE, timeout)  # (a checkpoint)
        user = _PooledClient(conn.session, conn)
        conn.user = user
        conn.sent_at_checkout = conn.session.requests_sent
        conn.taken_at = time.monotonic()
        self._checkouts += 1
        return user

    async def _checkin(self, user: _PooledClient) -> None:
        """Take back an exclusive checkout (shielded and bounded: it always comes back)."""
        user._returned = True
        conn = user._conn
        if conn is None or conn.user is not user or conn not in self._conns:
            return  # (closed meanwhile)
        self._usage_time += time.monotonic() - conn.taken_at
        session = conn.session
        if session.busy or self._reset is not None:
            # Something to wait for (a cancelled request draining, the reset hook).
            with anyio.CancelScope(shield=True):
                clean = await self._make_clean(conn)
        else:
            clean = self._clean_now(conn)  # (the usual case: no await at all)
        conn.user = None
        returned, self._returned = self._returned, None
        if returned is not None:
            returned.set()
        if not clean:
            await self._close_conn(conn, broken=False)
        else:
            conn.idle_since = time.monotonic()
            if self._waiters:
                self._dispatch()

    def _clean_now(self, conn: _Conn) -> bool:
        """Send the reset (not waiting for it: the next user's requests queue behind
        it); False if *conn* must be closed instead."""
        session = conn.session
        if session.is_closed or self._closing or conn.retiring:
            return False
        if time.monotonic() >= conn.expires:
            return False
        if session.requests_sent != conn.sent_at_checkout:
            sql = RESET_SQL
            if session.transaction_status != "idle":
                sql = "ROLLBACK; " + sql
            if session.send_unawaited(sql) is None:
                return False
        return True

    async def _make_clean(self, conn: _Conn) -> bool:
        """As _clean_now, after waiting for a request left in flight (its task was
        cancelled: it is being cancelled on the server), then the reset hook."""
        session = conn.session
        with anyio.move_on_after(RETURN_TIMEOUT):
            await session.wait_quiet()
            used = session.requests_sent != conn.sent_at_checkout
            if not self._clean_now(conn):
                return False
            if self._reset is not None and used:
                try:
                    await self._reset(conn.client)
                except Exception as exc:
                    logger.warning("pool reset hook failed, closing the connection: %r", exc)
                    return False
            return not session.is_closed
        return False

    # -- shortcuts ----------------------------------------------------------------------------

    async def query(self, sql: str | Statement, *params: Any) -> list[Row]:
        """:meth:`Client.query` on any ready connection (shared, pipelined)."""
        conn = self._shared_now() or await self._take(_SHARED, None)
        try:
            return await conn.client.query(sql, *params)
        finally:
            self._shared_done(conn)

    async def query_one(self, sql: str | Statement, *params: Any) -> Row:
        """:meth:`Client.query_one` on any ready connection (shared, pipelined)."""
        conn = self._shared_now() or await self._take(_SHARED, None)
        try:
            return await conn.client.query_one(sql, *params)
        finally:
            self._shared_done(conn)

    async def query_opt(self, sql: str | Statement, *params: Any) -> Row | None:
        """:meth:`Client.query_opt` on any ready connection (shared, pipelined)."""
        conn = self._shared_now() or await self._take(_SHARED, None)
        try:
            return await conn.client.query_opt(sql, *params)
        finally:
            self._shared_done(conn)

    async def query_value(self, sql: str | Statement, *params: Any) -> Any:
        """:meth:`Client.query_value` on any ready connection (shared, pipelined)."""
        conn = self._shared_now() or await self._take(_SHARED, None)
        try:
            return await conn.client.query_value(sql, *params)
        finally:
            self._shared_done(conn)

    async def execute(self, sql: str | Statement, *params: Any) -> int:
        """:meth:`Client.execute` on any ready connection (shared, pipelined)."""
        conn = self._shared_now() or await self._take(_SHARED, None)
        try:
            return await conn.client.execute(sql, *params)
        finally:
            self._shared_done(conn)

    async def executemany(self, sql: str | Statement, params_seq: Iterable[Sequence[Any]]) -> None:
        """:meth:`Client.executemany` on any ready connection (one batch, one implicit transaction)."""
        conn = self._shared_now() or await self._take(_SHARED, None)
        try:
            await conn.client.executemany(sql, params_seq)
        finally:
            self._shared_done(conn)

    def _shared_now(self) -> _Conn | None:
        """A connection for one shared statement, if one has room now (the fast path)."""
        if self._waiters or self._closing:
            return None  # (first come, first served; closed: _take says so)
        conn = self._pick_shared()
        if conn is not None:
            conn.load += 1
            self._shared_requests += 1
        return conn

    def _pick_shared(self) -> _Conn | None:
        best: _Conn | None = None
        depth = self._depth
        now = 0.0
        for conn in self._conns:
            if conn.user is not None or conn.reserved or conn.retiring:
                continue
            load = conn.load
            if load >= depth:
                continue
            if conn.session.is_closed:
                continue  # (its task is ending: it leaves the pool then)
            if not now:
                now = time.monotonic()
            if now >= conn.expires:
                conn.retiring = True
                if load == 0:
                    self._retire_soon(conn)
                continue
            if best is None or load < best.load:
                best = conn
                if load == 0:
                    break
        if best is not None and best.load > 0:
            self._grow()  # busy: open another while this one is shared
        return best

    def _shared_done(self, conn: _Conn) -> None:
        conn.load -= 1
        if conn.load == 0:
            conn.idle_since = time.monotonic()
            session = conn.session
            if session.transaction_status != "idle" and not session.is_closed:
                # A shortcut left a transaction open (BEGIN run as a statement):
                # nobody may run in it. (Sent ahead of the next request.)
                if session.send_unawaited("ROLLBACK") is None:
                    conn.retiring = True
            if conn.retiring:
                self._retire_soon(conn)
        if self._waiters:
            self._dispatch()

    # -- taking a connection ------------------------------------------------------------------

    async def _take(self, kind: int, timeout: float | None) -> _Conn:  # noqa: ASYNC109
        """A connection for *kind* of use, waiting in line (FIFO) if none is free."""
        if self._closing:
            raise PoolClosed("the pool is closed")
        if timeout is None:
            timeout = self._timeout
        deadline: float | None = None  # (read the clock only if this has to wait)
        await anyio.lowlevel.checkpoint()  # (a schedule point on every path)
        while True:
            if self._closing:
                raise PoolClosed("the pool is closed")
            conn = None
            if not self._waiters:
                conn = self._pick_exclusive() if kind == _EXCLUSIVE else self._pick_shared()
            if conn is None:
                if deadline is None:
                    deadline = anyio.current_time() + timeout
                conn = await self._wait_in_line(kind, deadline)  # (claimed for us)
            elif kind == _SHARED:
                conn.load += 1
                self._shared_requests += 1
            if kind == _SHARED:
                return conn
            conn.user = _PLACEHOLDER  # (taken: nobody else gets it while it is checked)
            conn.reserved = False
            try:
                ok = await self._checked(conn)
            except BaseException:
                conn.user = None
                self._dispatch()
                raise
            if ok:
                return conn
            conn.user = None
            await self._close_conn(conn, broken=True)

    def _pick_exclusive(self) -> _Conn | None:
        """The most recently used free connection (the others may then expire idle)."""
        now = time.monotonic()
        best: _Conn | None = None
        for conn in self._conns:
            if not conn.free or conn.retiring or conn.session.is_closed:
                continue
            if now >= conn.expires:
                conn.retiring = True
                self._retire_soon(conn)
                continue
            if best is None or conn.idle_since > best.idle_since:
                best = conn
        if best is None:
            self._grow()
        return best

    async def _checked(self, conn: _Conn) -> bool:
        """Run the pool's ``check`` on a connection being checked out."""
        session = conn.session
        if session.is_closed or session.busy:
            return not session.is_closed and await self._settled(conn)
        check = self._check
        if check is None:
            # The cheap check: a server that went away has sent its FATAL
            # error and closed the socket; reading what waits tells.
            return await session.check_alive()
        try:
            with anyio.fail_after(self._timeout):
                if check == "ping":
                    await conn.client.batch_execute("")
                else:
                    assert callable(check)
                    await check(conn.client)
        except Exception as exc:
            logger.info("pool check failed, replacing the connection: %r", exc)
            return False
        return not session.is_closed

    async def _settled(self, conn: _Conn) -> bool:
        with anyio.move_on_after(RETURN_TIMEOUT):
            await conn.session.wait_quiet()
            return not conn.session.is_closed
        return False

    async def _wait_in_line(self, kind: int, deadline: float) -> _Conn:
        if self._max_waiting and len(self._waiters) >= self._max_waiting:
            self._refused += 1
            raise PoolTooBusy(
                f"{len(self._waiters)} tasks already wait for a connection (max_waiting)"
            )
        waiter = _Waiter(kind)
        self._waiters.append(waiter)
        self._dispatch()  # (something may be free already, or the pool may grow)
        started = anyio.current_time()
        try:
            with anyio.move_on_after(deadline - started):
                await waiter.event.wait()
        except BaseException:
            self._drop_waiter(waiter)
            raise
        finally:
            self._wait_time += anyio.current_time() - started
        if waiter.conn is None:
            self._drop_waiter(waiter)
            if self._closing:
                raise PoolClosed("the pool was closed while this task waited")
            self._timeouts += 1
            raise PoolTimeout(self._timeout_message()) from self._last_error
        return waiter.conn

    def _drop_waiter(self, waiter: _Waiter) -> None:
        """A waiter gave up (cancelled, timed out): a connection handed to it goes back."""
        try:
            self._waiters.remove(waiter)
        except ValueError:
            pass
        conn, waiter.conn = waiter.conn, None
        if conn is not None:
            if waiter.kind == _SHARED:
                conn.load -= 1
                self._shared_requests -= 1
            else:
                conn.user = None
            self._dispatch()

    def _timeout_message(self) -> str:
        s = self.statistics()
        text = (
            f"no connection became free within {self._timeout:g} s "
            f"(size {s.size} of max {s.max_size}, {s.in_use} in use, {s.waiting} waiting)"
        )
        if self._last_error is not None and not self._conns:
            text += f"; connecting fails: {self._last_error}"
        return text

    def _dispatch(self) -> None:
        """Hand free connections to the waiters, in order; grow the pool if they need it."""
        waiters = self._waiters
        while waiters:
            waiter = waiters[0]
            if waiter.kind == _EXCLUSIVE:
                conn = self._pick_exclusive()
                if conn is None:
                    self._reserve_for_exclusive()
                    break
                conn.user = _PLACEHOLDER
            else:
                conn = self._pick_shared()
                if conn is None:
                    break
                conn.load += 1
                self._shared_requests += 1
            waiters.popleft()
            waiter.conn = conn
            waiter.event.set()
        if waiters:
            self._grow()

    def _reserve_for_exclusive(self) -> None:
        """Keep new shared statements off the least loaded connection, so that it
        drains for the exclusive waiter at the head of the line."""
        if self._connecting or len(self._conns) < self._max_size:
            return  # (a new connection will serve it)
        if any(c.reserved for c in self._conns):
            return
        shared = [c for c in self._conns if c.user is None and not c.retiring]
        if shared:
            min(shared, key=lambda c: c.load).reserved = True

    # -- growing and shrinking -------------------------------------------------------------------

    def _grow(self) -> None:
        """Open one more connection in the background, if the pool may grow."""
        if self._closing or self._tg is None:
            return
        if len(self._conns) + self._connecting >= self._max_size:
            return
        if self._failures and self._connecting:
            return  # (connecting fails: one attempt at a time, with backoff)
        self._connecting += 1
        self._tg.start_soon(self._open_one)

    async def _open_one(self) -> None:
        """Open one connection (counted in ``_connecting`` meanwhile), retrying with
        backoff and jitter while it is still wanted."""
        added = False
        try:
            while not self._closing:
                try:
                    conn = await self._connect()
                except Exception as exc:
                    self._connect_errors += 1
                    self._last_error = exc
                    self._failures += 1
                    now = time.monotonic()
                    if self._failing_since is None:
                        self._failing_since = now
                    logger.warning("pool could not connect: %s", exc)
                    self._check_outage(now)
                    if not self._wanted(attempt=1):
                        return
                    delay = min(BACKOFF_MAX, BACKOFF_FIRST * 2 ** (self._failures - 1))
                    await anyio.sleep(delay * (0.5 + random.random() / 2))
                    continue
                self._failures = 0
                self._failing_since = None
                self._reported_outage = False
                self._last_error = None
                self._connecting -= 1
                added = True
                self._add(conn)
                return
        finally:
            if not added:
                self._connecting -= 1

    def _wanted(self, attempt: int = 0) -> bool:
        """Whether another connection is needed (waiters, or below min_size);
        *attempt* is 1 when asked by a connection attempt counted already."""
        if self._closing:
            return False
        return bool(self._waiters) or len(self._conns) + self._connecting - attempt < self._min_size

    def _check_outage(self, now: float) -> None:
        since = self._failing_since
        if (
            since is not None
            and not self._reported_outage
            and now - since >= self._reconnect_timeout
        ):
            self._reported_outage = True
            logger.error("pool could not connect for %.0f s: %s", now - since, self._last_error)
            if self._reconnect_failed is not None:
                try:
                    self._reconnect_failed(self)
                except Exception:
                    logger.exception("reconnect_failed callback failed")

    async def _connect(self) -> _Conn:
        dsn = self._dsn
        if callable(dsn):
            got = dsn()
            if inspect.isawaitable(got):
                got = await got
            config = _make_config(got, self._params)
        else:
            config = _make_config(dsn, self._params)
        session = await connect_session(config)
        tg = self._tg
        assert tg is not None
        conn = _Conn(session, self._max_lifetime)
        tg.start_soon(self._drive, conn, name=f"pgany pool connection {session.backend_pid}")
        if self._configure is not None:
            try:
                with anyio.fail_after(self._timeout):
                    await self._configure(conn.client)
            except BaseException:
                with anyio.CancelScope(shield=True):
                    await session.close()
                raise
        self._created += 1
        return conn

    async def _drive(self, conn: _Conn) -> None:
        """Run one connection's task; when it ends, the connection leaves the pool."""
        try:
            await conn.session.run_driver()
        finally:
            if conn in self._conns:
                self._conns.remove(conn)
                self._broken += 1  # (the pool removes the ones it closes itself)
                self._changed_now()
                if not self._closing:
                    self._dispatch()
                    if self._wanted():
                        self._grow()
                    self._wake_maintenance.set()

    def _add(self, conn: _Conn) -> None:
        if self._closing:
            self._tg_start_close(conn)
            return
        self._conns.append(conn)
        self._changed_now()
        self._dispatch()

    def _changed_now(self) -> None:
        self._changed.set()
        self._changed = anyio.Event()

    def _retire_soon(self, conn: _Conn) -> None:
        """Close *conn* in the background (it is free and must go)."""
        if conn in self._conns and conn.free:
            self._tg_start_close(conn)

    def _tg_start_close(self, conn: _Conn) -> None:
        if conn in self._conns:
            self._conns.remove(conn)
            self._closed_count += 1
            self._changed_now()
        if self._tg is not None:
            self._tg.start_soon(self._close_session, conn.session)
        if not self._closing and self._wanted():
            self._grow()

    async def _close_conn(self, conn: _Conn, *, broken: bool) -> None:
        if conn in self._conns:
            self._conns.remove(conn)
            if broken:
                self._broken += 1
            else:
                self._closed_count += 1
            self._changed_now()
        with anyio.CancelScope(shield=True):
            await self._close_session(conn.session)
        if not self._closing:
            self._dispatch()
            if self._wanted():
                self._grow()

    @staticmethod
    async def _close_session(session: Session) -> None:
        with anyio.CancelScope(shield=True):
            try:
                await session.close()
            except Exception:  # (already broken: nothing to report)
                pass

    async def _maintain(self) -> None:
        """Keep ``min_size`` connections; close those idle past ``max_idle`` or too old."""
        while not self._closing:
            now = time.monotonic()
            for conn in list(self._conns):
                if not conn.free:
                    continue
                if now >= conn.expires or conn.retiring:
                    self._tg_start_close(conn)
                elif (
                    self._max_idle is not None
                    and now - conn.idle_since >= self._max_idle
                    and len(self._conns) + self._connecting > self._min_size
                ):
                    self._tg_start_close(conn)
            missing = self._min_size - len(self._conns) - self._connecting
            for _ in range(max(0, missing)):
                self._grow()
            interval = MAINTENANCE_INTERVAL
            if self._max_idle is not None:
                interval = min(interval, max(0.01, self._max_idle / 4))
            with anyio.move_on_after(interval):
                await self._wake_maintenance.wait()
            self._wake_maintenance = anyio.Event()

    # -- notifications ---------------------------------------------------------------------------

    def listen(self, *channels: str) -> PoolListener:
        """``async with pool.listen("jobs") as notifications: async for n in notifications:``

        Notifications of *channels* from a connection of their own (not
        counted in the pool's size). When it is lost (the server restarted,
        the backend was terminated), the listener connects again, with
        backoff, and listens again; what was sent meanwhile is lost, and
        :attr:`PoolListener.reconnects` counts those gaps.
        """
        if not channels:
            raise InterfaceError("listen() needs at least one channel")
        return PoolListener(self, channels)

    # -- waiting, resizing, closing --------------------------------------------------------------

    async def wait(self, timeout: float | None = None) -> None:  # noqa: ASYNC109 (DESIGN §7)
        """Wait until ``min_size`` connections are open (:class:`~pgany.PoolTimeout` after *timeout*)."""
        await anyio.lowlevel.checkpoint()
        with anyio.move_on_after(self._timeout if timeout is None else timeout):
            while len(self._conns) < self._min_size:
                if self._closing:
                    raise PoolClosed("the pool is closed")
                self._wake_maintenance.set()
                await self._changed.wait()
            return
        raise PoolTimeout(
            f"the pool has {len(self._conns)} of its {self._min_size} connections"
            + (f"; connecting fails: {self._last_error}" if self._last_error else "")
        ) from self._last_error

    async def resize(self, min_size: int, max_size: int | None = None) -> None:
        """Change the sizes: the pool grows now, and shrinks as connections become free."""
        await anyio.lowlevel.checkpoint()
        if max_size is None:
            max_size = max(self._max_size, min_size)
        _check_sizes(min_size, max_size)
        self._min_size, self._max_size = min_size, max_size
        excess = len(self._conns) + self._connecting - max_size
        for conn in sorted(self._conns, key=lambda c: c.idle_since):
            if excess <= 0:
                break
            conn.retiring = True
            if conn.free:
                self._tg_start_close(conn)
            excess -= 1
        self._wake_maintenance.set()
        self._dispatch()

    async def close(self, timeout: float | None = 10.0) -> None:  # noqa: ASYNC109 (DESIGN §7)
        """Close the pool: no more checkouts; wait up to *timeout* seconds for checked-out
        connections to come back, then close every connection.

        Like trio's ``aclose()``, it closes even in a cancelled scope, then
        raises the cancellation.
        """
        if not self._closing:
            self._closing = True
            for waiter in self._waiters:
                waiter.event.set()  # (with no connection: they raise PoolClosed)
            self._waiters.clear()
            self._wake_maintenance.set()
            with anyio.CancelScope(shield=True):
                with anyio.move_on_after(math.inf if timeout is None else timeout):
                    while any(not c.free for c in self._conns):
                        if any(c.user is not None for c in self._conns):
                            if self._returned is None:
                                self._returned = anyio.Event()
                            await self._returned.wait()
                        else:
                            await anyio.sleep(0.01)  # (shared statements finishing)
                conns, self._conns = self._conns, []
                self._closed_count += len(conns)
                async with anyio.create_task_group() as tg:
                    for conn in conns:
                        tg.start_soon(self._close_session, conn.session)
                self._closed.set()
        else:
            with anyio.CancelScope(shield=True):
                await self._closed.wait()
        await anyio.lowlevel.checkpoint()

    async def _run(self, task_status: anyio.abc.TaskStatus[Pool]) -> None:
        """The pool's task: its task group holds every connection's task."""
        try:
            async with anyio.create_task_group() as tg:
                self._tg = tg
                tg.start_soon(self._maintain, name="pgany pool maintenance")
                task_status.started(self)
                await self._closed.wait()
                tg.cancel_scope.cancel()
        finally:
            self._tg = None
            if not self._closed.is_set():
                # Cancelled from outside: the connections' tasks were cancelled
                # with the task group (each closed its socket, and cancelled a
                # query still running).
                self._closing = True
                for waiter in self._waiters:
                    waiter.event.set()
                self._waiters.clear()
                self._conns.clear()
                self._closed.set()


class PoolListener:
    """The notifications of :meth:`Pool.listen`: ``async for n in listener``."""

    __module__ = "pgany"
    __slots__ = ("_channels", "_conn", "_pool", "_stream", "reconnects")

    def __init__(self, pool: Pool, channels: Sequence[str]) -> None:
        self._pool = pool
        self._channels = tuple(channels)
        self._conn: _Conn | None = None
        self._stream: NotificationStream | None = None
        #: How many times the listener lost its connection and listened again
        #: (notifications sent in between are lost).
        self.reconnects = 0

    def __repr__(self) -> str:
        return f"<pgany.PoolListener channels={list(self._channels)} reconnects={self.reconnects}>"

    async def __aenter__(self) -> PoolListener:
        if self._conn is not None:
            raise InterfaceError("this listen() context is already in use")
        await anyio.lowlevel.checkpoint_if_cancelled()
        if self._pool.is_closed:
            raise PoolClosed("the pool is closed")
        await self._subscribe(first=True)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool:
        conn, self._conn = self._conn, None
        self._stream = None
        if conn is not None:
            await Pool._close_session(conn.session)
        if exc_type is None:
            await anyio.lowlevel.checkpoint()
        return False

    def __aiter__(self) -> PoolListener:
        return self

    async def __anext__(self) -> Notification:
        while True:
            stream = self._stream
            if stream is None:
                raise InterfaceError("the listener is not open: use it in `async with`")
            try:
                return await stream.__anext__()
            except ConnectionClosed:
                if self._pool.is_closed:
                    raise
            await self._subscribe(first=False)
            self.reconnects += 1

    async def _subscribe(self, *, first: bool) -> None:
        """Connect (again) and LISTEN; retries with backoff unless it is the first time."""
        failures = 0
        while True:
            try:
                conn = await self._pool._connect()
                try:
                    for channel in self._channels:
                        await conn.client.listen(channel)
                except BaseException:
                    await Pool._close_session(conn.session)
                    raise
            except Exception as exc:
                if first or self._pool.is_closed:
                    raise
                failures += 1
                logger.warning("pool listener could not connect again: %s", exc)
                delay = min(BACKOFF_MAX, BACKOFF_FIRST * 2 ** (failures - 1))
                await anyio.sleep(delay * (0.5 + random.random() / 2))
                continue
            old, self._conn = self._conn, conn
            self._stream = conn.client.notifications()
            if old is not None:
                await Pool._close_session(old.session)
            return


#: Marks a connection taken for an exclusive checkout that is still being checked.
_PLACEHOLDER: Any = object()


def _check_sizes(min_size: int, max_size: int) -> None:
    if min_size < 0 or max_size < 1 or min_size > max_size:
        raise InterfaceError(
            f"need 0 <= min_size <= max_size and max_size >= 1 (got {min_size}, {max_size})"
        )


def _make_config(dsn: str | Config | None, params: dict[str, Any]) -> Config:
    if isinstance(dsn, Config):
        return dsn.replace(**params) if params else dsn
    if dsn is not None and not isinstance(dsn, str):
        raise InterfaceError(f"dsn must be a str or Config (or give one), not {type(dsn).__name__}")
    return Config.from_dsn(dsn, **params)


class _Checkout:
    """The async context manager :meth:`Pool.connection` returns."""

    __slots__ = ("_client", "_pool", "_timeout")

    def __init__(self, pool: Pool, timeout: float | None) -> None:
        self._pool = pool
        self._timeout = timeout
        self._client: _PooledClient | None = None

    async def __aenter__(self) -> Client:
        if self._client is not None:
            raise InterfaceError("this connection() context is already in use")
        client = await self._pool._checkout(self._timeout)
        self._client = client
        return client

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool:
        await self._release()
        if exc_type is None:
            await anyio.lowlevel.checkpoint()  # (returned either way; then a cancellation shows)
        return False

    async def _release(self) -> None:
        """Return the connection (shielded: it always comes back)."""
        client, self._client = self._client, None
        assert client is not None
        await self._pool._checkin(client)


class _PoolTransaction:
    """The async context manager :meth:`Pool.transaction` returns."""

    __slots__ = ("_args", "_checkout", "_tx_cm")

    def __init__(
        self,
        pool: Pool,
        timeout: float | None,
        isolation: str | None,
        read_only: bool | None,
        deferrable: bool | None,
    ) -> None:
        self._checkout = _Checkout(pool, timeout)
        self._args = (isolation, read_only, deferrable)
        self._tx_cm: Any = None

    async def __aenter__(self) -> Transaction:
        client = await self._checkout.__aenter__()
        try:
            self._tx_cm = client.transaction(*self._args)
            tx: Transaction = await self._tx_cm.__aenter__()
        except BaseException:
            await self._checkout._release()
            raise
        return tx

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool:
        try:
            await self._tx_cm.__aexit__(exc_type, exc, tb)
        finally:
            # (no checkpoint after a COMMIT: committed work is never reported as cancelled)
            await self._checkout._release()
        return False


async def run_pool(
    dsn: DsnSource = None,
    *,
    task_status: anyio.abc.TaskStatus[Pool] = anyio.TASK_STATUS_IGNORED,
    **options: Any,
) -> None:
    """Run a pool in the caller's task group: ``pool = await tg.start(pgany.run_pool, dsn)``.

    ``start`` returns the :class:`Pool` at once (connections open in the
    background; :meth:`Pool.wait` waits for ``min_size`` of them). The
    task returns once the pool is closed; cancelling it closes every
    connection.
    """
    pool = Pool(dsn, **options)
    await pool._run(task_status)


run_pool.__module__ = "pgany"


class _PoolContext:
    """The async context manager :func:`create_pool` returns."""

    __slots__ = ("_dsn", "_options", "_pool", "_tg")

    def __init__(self, dsn: DsnSource, options: dict[str, Any]) -> None:
        self._dsn = dsn
        self._options = options
        self._tg: anyio.abc.TaskGroup | None = None
        self._pool: Pool | None = None

    async def __aenter__(self) -> Pool:
        if self._tg is not None:
            raise InterfaceError("this create_pool() context is already in use")
        pool = Pool(self._dsn, **self._options)  # (bad options raise here, unwrapped)
        tg = anyio.create_task_group()
        await tg.__aenter__()
        try:
            await tg.start(pool._run)
        except BaseException:
            pool._closing = True
            try:
                await tg.__aexit__(None, None, None)
            except BaseException:
                pass
            raise
        self._tg, self._pool = tg, pool
        return pool

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool:
        tg, pool = self._tg, self._pool
        self._tg = self._pool = None
        assert tg is not None
        assert pool is not None
        try:
            await pool.close()
        finally:
            await tg.__aexit__(None, None, None)
        return False


def create_pool(dsn: DsnSource = None, **options: Any) -> _PoolContext:
    """``async with pgany.create_pool(dsn, min_size=2, max_size=10) as pool:`` — a pool.

    Entering starts the pool's task group (connections open in the
    background: :meth:`Pool.wait` waits for ``min_size`` of them); leaving
    closes the pool (checked-out connections get 10 seconds to come back)
    and joins it. What the block raises leaves it as itself. Options: see
    :class:`Pool`; every other keyword is a connection parameter (as for
    :func:`pgany.connect`).
    """
    return _PoolContext(dsn, options)


create_pool.__module__ = "pgany"
