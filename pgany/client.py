"""The user API: :class:`Client`, :class:`Statement`, and how to connect.

Every call builds one request (bytes ending in Sync, or a simple Query),
hands it to the connection task and waits for that request's own outcome,
so any number of tasks can share one client: their requests are pipelined
on the socket and their results come back in order.
"""

from __future__ import annotations

import itertools
import re
import socket
import struct
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Sequence
from types import TracebackType
from typing import Any

import anyio
import anyio.abc

from pgany._driver import Driver, Notification
from pgany._paramcodec import make_values_encoder
from pgany._queries import Queries
from pgany._rowcodec import make_row_factory
from pgany._rows import Column, SimpleQueryRow, simple_row_class
from pgany._transaction import StreamHolder, TransactionContext, begin_sql
from pgany._typeinfo import TypeLearner
from pgany.config import Config
from pgany.errors import (
    ConnectionClosed,
    DatabaseError,
    DecodeError,
    EncodeError,
    Error,
    InterfaceError,
    ProtocolError,
)
from pgany.protocol import Request, Result
from pgany.protocol import frontend as fe
from pgany.protocol.messages import RowDescription
from pgany.protocol.pipeline import RowFactory
from pgany.types import TypeRegistry, json_codecs
from pgany.types import registry as global_registry
from pgany.types._array import register_array_of, register_array_types
from pgany.types._registry import Codec, Format

__all__ = [
    "CancelToken",
    "Client",
    "CommandComplete",
    "SimpleQueryMessage",
    "SimpleRowDescription",
    "Statement",
    "connect",
    "run_connection",
]

_I16 = struct.Struct("!h")
_I32 = struct.Struct("!i")
_unpack_i32 = _I32.unpack_from
_unpack_i16 = _I16.unpack_from

# "cached plan must not change result type": the server wants a fresh Parse.
_STALE_PLAN_ROUTINES = ("RevalidateCachedQuery", "CheckCachedPlan")
_COPY_RE = re.compile(r"\bcopy\b", re.IGNORECASE)


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


class Statement:
    """A prepared statement: its SQL, parameter types and result columns.

    Made by :meth:`Client.prepare` (or, behind the scenes, by the statement
    cache). Executing it again skips Parse.
    """

    __module__ = "pgany"
    __slots__ = (
        "_bind_head",
        "_bind_prefix",
        "_bind_tail",
        "_client",
        "_param_codecs",
        "_param_formats",
        "_parse",
        "_result_formats",
        "_row_factory",
        "_values",
        "columns",
        "exclusive",
        "name",
        "params",
        "sql",
    )

    def __init__(
        self,
        client: Client,
        name: str,
        sql: str,
        param_oids: Sequence[int],
        description: RowDescription | None,
        explicit_types: Sequence[int] = (),
    ) -> None:
        registry = client._registry
        #: The SQL text.
        self.sql = sql
        #: The server-side name (``""`` for the unnamed statement).
        self.name = name
        #: The parameter type OIDs, as the server reported them.
        self.params: tuple[int, ...] = tuple(param_oids)
        fields = description.fields if description is not None else ()
        #: The result columns (empty for a statement that returns no rows).
        self.columns: tuple[Column, ...] = tuple(
            Column(f.name, f.type_oid, client._type_name(f.type_oid), f.table_oid, f.column_id)
            for f in fields
        )
        self.exclusive = bool(_COPY_RE.search(sql))
        self._client = client
        self._param_codecs = [registry.for_param(oid) for oid in self.params]
        self._param_formats = tuple(int(c.format) for c in self._param_codecs)
        result_codecs = [registry.for_result(f.type_oid) for f in fields]
        self._result_formats = tuple(int(c.format) for c in result_codecs)
        self._row_factory: RowFactory | None = (
            _make_row_factory(self.columns, result_codecs) if fields else None
        )
        self._bind_prefix = fe.encode_bind_prefix("", name)
        self._bind_head = (
            self._bind_prefix + _formats(self._param_formats) + _I16.pack(len(self.params))
        )
        self._bind_tail = _formats(self._result_formats)
        self._values = make_values_encoder(
            self.params, self._param_codecs, self._encode_values_slow
        )
        # The unnamed statement is re-parsed in every request, so each request
        # stands alone even when other tasks' requests run in between.
        self._parse = fe.encode_parse("", sql, self.params) if not name else b""

    def __repr__(self) -> str:
        return f"<pgany.Statement {self.name or '(unnamed)'} params={list(self.params)} sql={self.sql!r}>"

    def _request(self, params: Sequence[Any]) -> bytes:
        """Parse (for the unnamed statement) + Bind + Execute + Sync: one whole request."""
        if len(params) != len(self.params):
            self._encode(params)  # (raises the parameter-count error)
        values = self._values(params)
        head = self._bind_head
        return b"".join(
            (
                self._parse,
                b"B",
                _I32.pack(len(head) + len(values) + len(self._bind_tail) + 4),
                head,
                values,
                self._bind_tail,
                _EXECUTE_ALL_SYNC,
            )
        )

    def _encode(self, params: Sequence[Any], portal: str = "", execute: bool = True) -> bytes:
        """Parse (for the unnamed statement) + Bind (+ Execute), without Sync."""
        if len(params) != len(self.params):
            n = len(self.params)
            raise InterfaceError(
                f"the statement takes {n} parameter{'s' if n != 1 else ''}, {len(params)} given"
            )
        values = self._values(params)
        if portal:
            head = (
                fe.encode_bind_prefix(portal, self.name) + self._bind_head[len(self._bind_prefix) :]
            )
        else:
            head = self._bind_head
        size = len(head) + len(values) + len(self._bind_tail) + 4
        return b"".join(
            (
                self._parse,
                b"B",
                _I32.pack(size),
                head,
                values,
                self._bind_tail,
                _EXECUTE_ALL if execute else b"",
            )
        )

    def _encode_many(self, params_seq: Iterable[Sequence[Any]]) -> list[bytes]:
        """Parse (for the unnamed statement) + Bind + Execute for every parameter set."""
        n = len(self.params)
        values = self._values
        head = self._bind_head
        tail = self._bind_tail + _EXECUTE_ALL
        pre = self._parse + b"B"
        fixed = len(head) + len(self._bind_tail) + 4
        pack = _I32.pack
        parts: list[bytes] = []
        append = parts.append
        join = b"".join
        for params in params_seq:
            if type(params) is not tuple and type(params) is not list:
                _check_param_set(params)
            if len(params) != n:
                raise InterfaceError(
                    f"the statement takes {n} parameter{'s' if n != 1 else ''}, {len(params)} given"
                )
            v = values(params)
            append(join((pre, pack(fixed + len(v)), head, v, tail)))
        return parts

    def _encode_values_slow(self, params: Sequence[Any]) -> bytes:
        """The plain loop: every value through its codec, with precise errors."""
        parts: list[bytes | bytearray] = []
        for i, (value, codec) in enumerate(zip(params, self._param_codecs, strict=True)):
            if value is None:
                parts.append(b"\xff\xff\xff\xff")
                continue
            try:
                assert codec.encode is not None
                data = codec.encode(value)
            except EncodeError as exc:
                raise EncodeError(
                    f"parameter ${i + 1} ({codec_name(codec, self.params[i])}): {exc}"
                ) from exc
            except Exception as exc:
                raise EncodeError(
                    f"cannot encode parameter ${i + 1} as {codec_name(codec, self.params[i])} "
                    f"from Python {type(value).__name__}: {exc}"
                ) from exc
            parts.append(_I32.pack(len(data)))
            parts.append(data)
        return b"".join(parts)


_EXECUTE_ALL = fe.encode_execute("", 0)
_EXECUTE_ALL_SYNC = _EXECUTE_ALL + fe.SYNC
#: Parameter sets encoded per part of a big executemany batch.
_BATCH_CHUNK = 2000
#: Ends a batch that must not take effect: Execute of a portal that does not exist.
_ABORT_BATCH = fe.encode_execute("pgany: batch aborted", 0)
_ABORT_TIMEOUT = 10.0


def _check_param_set(params: object) -> None:
    """A parameter set must be a sequence of values (not a str, bytes, dict or set)."""
    if isinstance(params, (str, bytes, bytearray, memoryview)) or not isinstance(params, Sequence):
        raise InterfaceError(
            f"each parameter set must be a sequence of values (a tuple or list), not {type(params).__name__}"
        )


def codec_name(codec: Codec, oid: int) -> str:
    return codec.name if codec.oid == oid else f"type {oid}"


def _formats(formats: Sequence[int]) -> bytes:
    if not formats:
        return b"\x00\x00"
    if all(f == formats[0] for f in formats):
        return b"\x00\x01" + _I16.pack(formats[0])
    return _I16.pack(len(formats)) + b"".join(_I16.pack(f) for f in formats)


_make_row_factory = make_row_factory


def _simple_row_factory(desc: RowDescription) -> RowFactory:
    names = [f.name for f in desc.fields]
    ncols = len(names)
    cls = simple_row_class(names)
    new = tuple.__new__

    def decode_row(buf: memoryview, start: int, end: int) -> SimpleQueryRow:
        if _unpack_i16(buf, start)[0] != ncols:
            raise ProtocolError("DataRow column count does not match its RowDescription")
        pos = start + 2
        values: list[str | None] = []
        for name in names:
            if pos + 4 > end:
                raise ProtocolError("DataRow is shorter than its fields")
            n = _unpack_i32(buf, pos)[0]
            pos += 4
            if n < 0:
                values.append(None)
            else:
                if pos + n > end:
                    raise ProtocolError("DataRow is shorter than its fields")
                try:
                    values.append(str(buf[pos : pos + n], "utf-8"))
                except UnicodeDecodeError as exc:
                    raise DecodeError(f"column {name!r} is not valid UTF-8: {exc}") from exc
                pos += n
        if pos != end:
            raise ProtocolError("DataRow length does not match its fields")
        return new(cls, values)

    return decode_row


class NotificationStream:
    """The async iterator :meth:`Client.notifications` returns."""

    __module__ = "pgany"
    __slots__ = ("_driver",)

    def __init__(self, driver: Driver) -> None:
        self._driver = driver

    def __aiter__(self) -> NotificationStream:
        return self

    async def __anext__(self) -> Notification:
        driver = self._driver
        await driver.wait_notification()
        if driver.notifications:
            await anyio.lowlevel.checkpoint()
            return driver.notifications.popleft()
        assert driver.closed_error is not None
        raise ConnectionClosed(str(driver.closed_error)) from driver.closed_error.__cause__


class _CacheEntry:
    __slots__ = ("error", "ready", "statement")

    def __init__(self) -> None:
        self.ready = anyio.Event()
        self.statement: Statement | None = None
        self.error: bool = False


class CancelToken:
    """Cancels the query running on a connection, from anywhere.

    Made by :meth:`Client.cancel_token`; ``await token.cancel_query()`` opens
    a new connection to the same host and port, with the same TLS settings,
    and sends a CancelRequest. Cancellation is best effort: the server may
    have finished the query already.
    """

    __module__ = "pgany"
    __slots__ = ("_config", "_host", "process_id", "secret_key")

    def __init__(self, config: Config, host: Any, process_id: int, secret_key: bytes) -> None:
        self._config = config
        self._host = host
        #: The backend process to cancel.
        self.process_id = process_id
        self.secret_key = secret_key

    def __repr__(self) -> str:
        return f"<pgany.CancelToken pid={self.process_id} host={self._host}>"

    async def cancel_query(self) -> None:
        """Ask the server to cancel the query this session runs now (if any)."""
        from pgany._connect import open_stream

        # The same host, port and TLS settings as the session (open_stream
        # falls back to plain TCP for sslmode=prefer, as the session did).
        config = self._config
        timeout = config.connect_timeout or 10.0
        with anyio.fail_after(timeout):
            stream, _ = await open_stream(config, self._host)
            try:
                await stream.send(fe.encode_cancel_request(self.process_id, self.secret_key))
                try:
                    await stream.receive(1)  # the server closes the connection when done
                except (anyio.EndOfStream, anyio.BrokenResourceError, OSError):
                    pass
            finally:
                await anyio.aclose_forcefully(stream)


class Client(Queries):
    """A connection to PostgreSQL, shared safely by any number of tasks.

    Made by :func:`pgany.connect` or :func:`pgany.run_connection`; it is
    usable while the connection task runs.
    """

    __module__ = "pgany"

    def __init__(self, driver: Driver, config: Config, host: Any) -> None:
        self._driver = driver
        self._proto = driver.proto
        self._config = config
        self._host = host
        self._registry: TypeRegistry = self._fresh_registry(config)
        self._cache: OrderedDict[str, _CacheEntry] = OrderedDict()
        self._types = TypeLearner(self)
        self._cache_size = config.statement_cache_size
        self._names = itertools.count(1)
        driver.canceller = lambda: self.cancel_token().cancel_query()
        # A transaction or stream holding the client, the task that owns it,
        # and an event set when it lets go.
        self._holder: object | None = None
        self._holder_task: int | None = None
        self._released: anyio.Event | None = None

    def _cx(self) -> tuple[Client, object | None]:
        return self, None

    @staticmethod
    def _fresh_registry(config: Config) -> TypeRegistry:
        """A copy-on-write view of the global registry, with this connection's JSON functions."""
        registry = global_registry.child()
        if config.json_loads is not None or config.json_dumps is not None:
            for codec in json_codecs(config.json_loads, config.json_dumps):
                registry.register(codec)
            register_array_types(registry, [114, 3802])
        return registry

    def __repr__(self) -> str:
        state = "closed" if self.is_closed else self.transaction_status
        return f"<pgany.Client pid={self.backend_pid} {self._host} {state}>"

    # -- properties -------------------------------------------------------------

    @property
    def is_closed(self) -> bool:
        """True once the connection is closed or broken."""
        return self._driver.closed_error is not None

    @property
    def backend_pid(self) -> int:
        """The server process ID of this session."""
        return self._proto.process_id

    @property
    def server_version(self) -> int:
        """The server's version as an int, like ``server_version_num`` (150018)."""
        return parse_server_version(self._proto.parameters.get("server_version", "0"))

    @property
    def transaction_status(self) -> str:
        """``"idle"``, ``"in_transaction"`` or ``"failed"`` as of the latest ReadyForQuery."""
        return self._proto.transaction_status

    @property
    def notifications_dropped(self) -> int:
        """How many notifications were dropped because the buffer was full."""
        return self._driver.notifications_dropped

    @property
    def config(self) -> Config:
        """The configuration this client connected with."""
        return self._config

    def parameter_status(self, name: str) -> str | None:
        """The current value of a server parameter (``"TimeZone"``...), or ``None``."""
        return self._proto.parameters.get(name)

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
        bytes. Statements prepared before keep working and pick the new codec
        up when they are prepared again (the statement cache is cleared).
        """
        fmt = format if isinstance(format, Format) else Format[str(format).upper()]
        oid = await self.query_value("SELECT $1::text::regtype::oid", type_name)
        name = type_name.rsplit(".", 1)[-1]
        codec = Codec(int(oid), name, fmt, encode, decode)
        self._registry.register(codec)
        array_oid = await self.query_value(
            "SELECT typarray FROM pg_catalog.pg_type WHERE oid = $1", oid
        )
        if array_oid:
            register_array_of(self._registry, int(oid), int(array_oid))
        for sql in list(self._cache):
            entry = self._cache.pop(sql)
            if entry.statement is not None:
                self._close_statement(entry.statement.name)

    def clear_type_cache(self) -> None:
        """Forget the types learned from the server (after ``ALTER TYPE``, say).

        Codecs registered with :meth:`register_codec` are forgotten too, and
        the statement cache is emptied, so statements are prepared afresh.
        """
        self._registry = self._fresh_registry(self._config)
        self._types.clear()
        for sql in list(self._cache):
            entry = self._cache.pop(sql)
            if entry.statement is not None:
                self._close_statement(entry.statement.name)

    def cancel_token(self) -> CancelToken:
        """A token that can cancel this session's running query from anywhere."""
        return CancelToken(
            self._config, self._host, self._proto.process_id, self._proto.backend_key
        )

    def _type_name(self, oid: int) -> str | None:
        codec = self._registry.for_result(oid)
        return codec.name if codec.oid == oid else None

    # -- running requests ---------------------------------------------------------

    async def _submit(
        self,
        data: bytes | bytearray,
        req: Request,
        holder: object | None = None,
        *,
        send: bool = True,
        direct: bool = False,
    ) -> None:
        """Send one request once it may go (without waiting for its outcome).

        While a transaction or stream holds the client, requests from anyone
        else wait here; *holder* is the one that may pass.
        """
        driver = self._driver
        proto = self._proto
        while True:
            if driver._cancel_done is not None:
                await driver.wait_cancel_done()
            elif proto.open_request is not None:
                await driver.wait_request_closed()
            elif self._holder is not None and self._holder is not holder:
                await self._wait_released()
            elif proto.in_flight and (req.exclusive or proto.exclusive_pending):
                # A request that may COPY must have the connection to itself.
                await driver.wait_drained()
            else:
                break
        # No await between the checks above and this send: nothing can slip in.
        if send:
            driver.send(data, req, direct)

    async def _run(
        self, data: bytes | bytearray, req: Request, holder: object | None = None
    ) -> Request:
        """Send one request and wait for its outcome; on cancellation, abandon it."""
        driver = self._driver
        if self._may_send_now(req, holder):
            driver.send(data, req, True)  # no coroutine for _submit
        else:
            await self._submit(data, req, holder, direct=True)
        try:
            await driver.wait(req)
        except BaseException:
            driver.abandon(req)
            raise
        return req

    def _may_send_now(self, req: Request, holder: object | None) -> bool:
        """True when nothing makes *req* wait before it is sent (see _submit)."""
        proto = self._proto
        return (
            self._driver._cancel_done is None
            and proto.open_request is None
            and (self._holder is None or self._holder is holder)
            and not (proto.in_flight and (req.exclusive or proto.exclusive_pending))
        )

    async def _wait_released(self) -> None:
        if self._holder_task == _current_task_id():
            kind = "a stream" if isinstance(self._holder, StreamHolder) else "a transaction"
            raise InterfaceError(
                f"this task holds the connection in {kind}: run statements through "
                "that object, not the Client (calling the Client here would deadlock)"
            )
        if self._released is None:
            self._released = anyio.Event()
        await self._released.wait()

    async def _acquire(self, holder: object) -> None:
        """Take the client for a transaction or a stream (others' calls wait)."""
        while self._holder is not None:
            if self.is_closed:
                break
            await self._wait_released()
        if self.is_closed:
            raise ConnectionClosed("the connection is closed") from (
                self._driver.closed_error.__cause__ if self._driver.closed_error else None
            )
        self._holder = holder
        self._holder_task = _current_task_id()

    def _release(self, holder: object) -> None:
        if self._holder is holder:
            self._holder = None
            self._holder_task = None
            released, self._released = self._released, None
            if released is not None:
                released.set()

    def _raise_for(self, req: Request) -> None:
        error = req.error
        if error is not None:
            req.error = None  # raised once; do not keep the traceback alive
            raise error

    async def _new_statement(
        self, sql: str, types: Sequence[int], name: str, holder: object | None = None
    ) -> Statement:
        data = fe.encode_parse(name, sql, types) + fe.encode_describe("S", name) + fe.SYNC
        req = Request()
        req.discard = True  # no rows come from a Describe
        await self._run(data, req, holder)
        self._raise_for(req)
        if req.param_oids is None:
            raise ProtocolError("the server did not describe the statement's parameters")
        fields = req.row_description.fields if req.row_description is not None else ()
        oids = [*req.param_oids, *(f.type_oid for f in fields)]
        if self._types.missing(oids):
            await self._types.learn(oids, holder)
        return Statement(self, name, sql, req.param_oids, req.row_description, types)

    async def _statement(self, sql: str | Statement, holder: object | None = None) -> Statement:
        if isinstance(sql, Statement):
            if sql._client is not self:
                raise InterfaceError("this statement was prepared on another connection")
            await anyio.lowlevel.checkpoint()
            return sql
        if not isinstance(sql, str):
            raise InterfaceError(f"sql must be a str or a Statement, not {type(sql).__name__}")
        if self._cache_size == 0:
            return await self._new_statement(sql, (), "", holder)
        cache = self._cache
        while True:
            entry = cache.get(sql)
            if entry is None:
                break
            if entry.statement is not None:
                # No checkpoint here: every caller goes on to await the server.
                cache.move_to_end(sql)
                return entry.statement
            await entry.ready.wait()
            if entry.error and cache.get(sql) is entry:
                del cache[sql]
        entry = _CacheEntry()
        cache[sql] = entry
        name = f"_pgany_{next(self._names)}"
        try:
            stmt = await self._new_statement(sql, (), name, holder)
        except BaseException as exc:
            entry.error = True
            if cache.get(sql) is entry:
                del cache[sql]
            entry.ready.set()
            if not isinstance(exc, Error) and not self.is_closed:
                # Cancelled while the Parse was in flight: the server may still
                # create the statement, so close it (this request stands alone).
                self._close_statement(name)
            raise
        entry.statement = stmt
        entry.ready.set()
        self._evict()
        return stmt

    def _evict(self) -> None:
        cache = self._cache
        while len(cache) > self._cache_size:
            sql, old = next(iter(cache.items()))
            if old.statement is None:
                break  # being prepared: evict later
            del cache[sql]
            self._close_statement(old.statement.name)

    def _close_statement(self, name: str) -> None:
        req = Request()
        req.discard = True
        try:
            self._driver.send(fe.encode_close("S", name) + fe.SYNC, req)
        except Error:
            pass

    def _forget(self, stmt: Statement) -> None:
        entry = self._cache.get(stmt.sql)
        if entry is not None and entry.statement is stmt:
            del self._cache[stmt.sql]
            self._close_statement(stmt.name)

    async def _execute(
        self, sql: str | Statement, params: Sequence[Any], holder: object | None = None
    ) -> Result:
        # A cached statement is taken without a coroutine of its own (the hot path).
        if (
            isinstance(sql, str)
            and (entry := self._cache.get(sql)) is not None
            and entry.statement is not None
        ):
            self._cache.move_to_end(sql)
            stmt = entry.statement
        else:
            stmt = await self._statement(sql, holder)
        for attempt in (0, 1):
            data = stmt._request(params)
            factory = stmt._row_factory
            req = Request(row_factory=factory, exclusive=stmt.exclusive)
            if factory is None:
                req.row_factory_for = self._row_factory_for
            await self._run(data, req, holder)
            error = req.error
            if (
                error is not None
                and attempt == 0
                and _is_stale_plan(error)
                and req.status == "I"
                and not isinstance(sql, Statement)
            ):
                self._forget(stmt)
                stmt = await self._statement(stmt.sql, holder)
                continue
            self._raise_for(req)
            if req.results:
                return req.results[-1]
            return Result(None)
        raise AssertionError("unreachable")  # pragma: no cover

    async def _executemany(
        self, sql: str | Statement, params_seq: Iterable[Sequence[Any]], holder: object | None
    ) -> None:
        stmt = await self._statement(sql, holder)
        it = iter(params_seq)
        first = stmt._encode_many(itertools.islice(it, _BATCH_CHUNK))
        if not first:
            return
        req = Request(exclusive=stmt.exclusive)
        req.discard = True
        if (
            len(first) < _BATCH_CHUNK
            or holder is not None
            or self._proto.transaction_status_code != "I"
        ):
            # Small, or inside a transaction (which a bad value must not abort):
            # encode every set before anything is sent.
            first.extend(stmt._encode_many(it))
            first.append(fe.SYNC)
            await self._run(b"".join(first), req, holder)
            self._raise_for(req)
            return
        await self._stream_batch(stmt, first, it, req)

    async def _stream_batch(
        self, stmt: Statement, first: list[bytes], rest: Iterator[Sequence[Any]], req: Request
    ) -> None:
        """Send a big batch in parts, encoding the next while the server runs the last.

        The batch is one implicit transaction: if a later part can't be
        encoded (or the caller is cancelled), the batch is ended with an
        Execute that fails, so the server rolls back what it already ran,
        and the error is raised once that is done: nothing of it stays.
        """
        driver = self._driver
        await self._submit(b"", req, None, send=False)
        driver.begin(b"".join(first), req)
        error: BaseException | None = None
        try:
            while True:
                await anyio.lowlevel.checkpoint()  # the writer sends; the server starts on it
                chunk = stmt._encode_many(itertools.islice(rest, _BATCH_CHUNK))
                if not chunk:
                    break
                driver.more(b"".join(chunk))
        except BaseException as exc:
            error = exc
        finally:
            driver.end(fe.SYNC if error is None else _ABORT_BATCH + fe.SYNC)
        if error is not None:
            with anyio.CancelScope(shield=True), anyio.move_on_after(_ABORT_TIMEOUT):
                await req.waiter.wait()
            req.error = None  # the failing Execute was ours
            raise error
        try:
            await req.waiter.wait()
        except BaseException:
            driver.abandon(req)
            raise
        self._raise_for(req)

    async def _prepare(
        self, sql: str, types: Sequence[int | str] | None, holder: object | None
    ) -> Statement:
        oids = [self._resolve_type(t) for t in (types or ())]
        name = f"_pgany_p{next(self._names)}"
        return await self._new_statement(sql, oids, name, holder)

    def _row_factory_for(self, desc: RowDescription) -> RowFactory:
        registry = self._registry
        columns = [
            Column(f.name, f.type_oid, self._type_name(f.type_oid), f.table_oid, f.column_id)
            for f in desc.fields
        ]
        return _make_row_factory(columns, [registry.for_result(f.type_oid) for f in desc.fields])

    def _resolve_type(self, t: int | str) -> int:
        if isinstance(t, int):
            return t
        oid = self._registry.oid_of(t) or self._registry.oid_of(
            _TYPE_ALIASES.get(t.lower(), t.lower())
        )
        if oid is None:
            raise InterfaceError(f"unknown type name {t!r}: give its OID instead")
        return oid

    async def _simple(
        self, sql: str, *, discard: bool = False, holder: object | None = None
    ) -> Request:
        if not isinstance(sql, str):
            raise InterfaceError(f"sql must be a str, not {type(sql).__name__}")
        data = fe.encode_query(sql)
        req = Request(simple=True, exclusive=bool(_COPY_RE.search(sql)))
        if discard:
            req.discard = True
        else:
            req.row_factory_for = _simple_row_factory
        await self._run(data, req, holder)
        self._raise_for(req)
        return req

    # -- transactions and streams -------------------------------------------------------

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
        return TransactionContext(self, begin_sql(isolation, read_only, deferrable))

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
        return NotificationStream(self._driver)

    # -- closing ------------------------------------------------------------------------

    async def close(self) -> None:
        """Close the connection: later (and still waiting) calls raise ConnectionClosed."""
        await self._driver.aclose()


_TYPE_ALIASES = {
    "integer": "int4",
    "int": "int4",
    "smallint": "int2",
    "bigint": "int8",
    "boolean": "bool",
    "real": "float4",
    "double precision": "float8",
    "double": "float8",
    "character varying": "varchar",
    "character": "bpchar",
    "char": "bpchar",
    "decimal": "numeric",
    "timestamp without time zone": "timestamp",
    "timestamp with time zone": "timestamptz",
    "time without time zone": "time",
    "time with time zone": "timetz",
}


def _is_stale_plan(error: BaseException) -> bool:
    return (
        isinstance(error, DatabaseError)
        and error.sqlstate == "0A000"
        and (
            error.routine in _STALE_PLAN_ROUTINES
            or "cached plan must not change result type" in error.message
        )
    )


def _current_task_id() -> int:
    return anyio.get_current_task().id


def quote_ident(name: str) -> str:
    """Quote *name* as an SQL identifier."""
    if "\0" in name:
        raise InterfaceError("identifiers cannot contain NUL characters")
    return '"' + name.replace('"', '""') + '"'


def parse_server_version(text: str) -> int:
    """``"15.18 (Debian ...)"`` -> 150018, ``"9.6.24"`` -> 90624, ``"18beta1"`` -> 180000."""
    m = re.match(r"(\d+)(?:\.(\d+))?(?:\.(\d+))?", text)
    if not m:
        return 0
    major, minor, patch = (int(g) if g else 0 for g in m.groups())
    if major >= 10:
        return major * 10000 + minor
    return major * 10000 + minor * 100 + patch


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
    goes away; cancelling it closes the connection.
    """
    if isinstance(dsn_or_config, Config):
        config = dsn_or_config.replace(**params) if params else dsn_or_config
    else:
        config = Config.from_dsn(dsn_or_config, **params)
    client = await _open_client(config)
    task_status.started(client)
    await client._driver.run()


async def _open_client(config: Config) -> Client:
    """Open a session and wrap it in a client (whose driver is not running yet)."""
    from pgany._connect import open_session

    session = await open_session(config)
    raw_socket = None
    if not session.tls:
        try:
            raw_socket = session.stream.extra(anyio.abc.SocketAttribute.raw_socket)
        except anyio.TypedAttributeLookupError:
            raw_socket = None
        # asyncio hands out a TransportSocket wrapper; its socket is what can send.
        raw_socket = getattr(raw_socket, "_sock", raw_socket)
        if not isinstance(raw_socket, socket.socket):
            raw_socket = None  # only a plain socket can be written synchronously
    driver = Driver(
        session.proto,
        session.stream,
        on_notice=config.on_notice,
        notification_buffer=config.notification_buffer,
        raw_socket=raw_socket,
    )
    for notice in session.notices:  # before any later notice (the driver is not running yet)
        driver._deliver(notice)
    return Client(driver, config, session.host)


run_connection.__module__ = "pgany"


class connect:
    """``async with pgany.connect(dsn, **params) as client:`` — open a connection.

    Entering opens a task group, connects, starts the connection task in it
    and gives the :class:`Client`; leaving closes the client (Terminate) and
    joins the task group. Exceptions keep their identity: what the block
    raises leaves it as itself, and a failed connect raises
    :class:`~pgany.ConnectError` (or the server's login error) unwrapped.
    """

    __module__ = "pgany"

    def __init__(self, dsn: str | Config | None = None, **params: Any) -> None:
        if isinstance(dsn, Config):
            self._config = dsn.replace(**params) if params else dsn
        else:
            self._config = Config.from_dsn(dsn, **params)
        self._tg: anyio.abc.TaskGroup | None = None
        self._client: Client | None = None

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
            client = await _open_client(self._config)
        except BaseException:
            # Nothing runs in tg yet.
            try:
                await tg.__aexit__(None, None, None)
            except BaseException:
                pass
            raise
        tg.start_soon(client._driver.run, name=f"pgany connection {client.backend_pid}")
        self._tg = tg
        self._client = client
        return client

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool:
        tg, client = self._tg, self._client
        self._tg = self._client = None
        assert tg is not None
        assert client is not None
        try:
            await client.close()
        finally:
            # The driver has stopped (or been cancelled): joining cannot block.
            await tg.__aexit__(None, None, None)
        return False
