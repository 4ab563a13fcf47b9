"""The session: the one road every request of a connection takes.

API modules (:mod:`pgany.client`, :mod:`pgany._queries`,
:mod:`pgany._transaction`, :mod:`pgany._stream`, :mod:`pgany.copy`,
:mod:`pgany._typeinfo`) build nothing of the wire protocol and never touch
the driver, the protocol core or a waiter: they call a :class:`Session`.

The session owns the statement cache (:class:`Statement`, Bind encoding
through the protocol core's :mod:`~pgany.protocol.frontend`), the gate that
decides when a request may be sent, waiting for a request's outcome,
turning a failed outcome into its exception, portals, the COPY sub-protocol
and ending units of work (COMMIT / ROLLBACK, shielded and bounded).

Every request is bytes ending in Sync (or a simple Query) handed to the
driver with a :class:`~pgany.protocol.Request` that collects its outcome, so
any number of tasks can share one connection: their requests are pipelined
on the socket and their results come back in order.
"""

from __future__ import annotations

import itertools
import re
import socket
import struct
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

import anyio
import anyio.abc

from pgany import types as pgtypes
from pgany._connect import open_session, open_stream
from pgany._driver import GC_PAUSE_STREAM_READ, Driver, Notification
from pgany._paramcodec import make_values_encoder
from pgany._rowcodec import make_row_factory
from pgany._rows import Column, SimpleQueryRow, simple_row_class
from pgany._typeinfo import CATALOG_QUERIES, TypeLearner, catalog_query
from pgany.config import Config
from pgany.errors import (
    ConnectionClosed,
    DatabaseError,
    DecodeError,
    EncodeError,
    Error,
    FeatureNotSupported,
    InterfaceError,
    InvalidSqlStatementName,
    ProtocolError,
)
from pgany.protocol import CopyDirection, Request, Result
from pgany.protocol import frontend as fe
from pgany.protocol.messages import FieldDescription, RowDescription
from pgany.protocol.pipeline import RowFactory
from pgany.protocol.state import Phase
from pgany.types import TypeRegistry, json_codecs
from pgany.types._array import register_array_of, register_array_types
from pgany.types._interval import register_for_server as register_interval_for_server
from pgany.types._registry import FALLBACK_TEXT, Codec, Format, builtin_registry, parse_format

__all__ = [
    "END_TIMEOUT",
    "CancelToken",
    "Holder",
    "Notification",
    "NotificationStream",
    "Portal",
    "Session",
    "Statement",
    "StreamHolder",
    "connect_session",
    "parse_server_version",
]

_I16 = struct.Struct("!h")
_I32 = struct.Struct("!i")
_unpack_i32 = _I32.unpack_from
_unpack_i16 = _I16.unpack_from

# "cached plan must not change result type": the server wants a fresh Parse.
_STALE_PLAN_ROUTINES = ("RevalidateCachedQuery", "CheckCachedPlan")
_COPY_RE = re.compile(r"\bcopy\b", re.IGNORECASE)
_WORD_RE = re.compile(r"[A-Za-z_]+")

#: Statements whose rows the server shapes when they run, not when they are
#: prepared (FETCH follows the cursor open then, EXECUTE the prepared
#: statement of that name then): their rows are described at every execution.
_SHAPED_AT_EXECUTION = frozenset({"fetch", "execute"})
#: The first letters, then the first four, of the command tags that may make
#: cached statements stale or end a transaction (two quick tests, so that a
#: plain SELECT / INSERT / UPDATE / DELETE costs next to nothing; then
#: :meth:`Client._after_command` looks closer).
_TAG_INITIALS = "ACDR"
_TAG_HEADS = frozenset({"CREA", "ALTE", "DROP", "DISC", "DEAL", "ROLL", "COMM"})
#: Command tags after which every cached statement is forgotten: DDL (a cached
#: ``SELECT *`` may now have other columns) and what deallocates statements.
_CLEARING_TAGS = ("CREATE ", "ALTER ", "DROP ", "DISCARD ", "DEALLOCATE ALL")
#: Server settings (reported by ParameterStatus) under which a statement's
#: literals were read and its names resolved: when one changes, cached
#: statements are stale. (search_path is reported from PostgreSQL 18 on.)
_PARSE_SETTINGS = frozenset(
    {"DateStyle", "IntervalStyle", "TimeZone", "standard_conforming_strings", "search_path"}
)


def _leading_keyword(sql: str) -> str:
    """The first word of *sql*, lowercased, past whitespace and comments (``""`` if none)."""
    i, n = 0, len(sql)
    while i < n:
        if sql[i].isspace():
            i += 1
        elif sql.startswith("--", i):
            j = sql.find("\n", i)
            i = n if j < 0 else j + 1
        elif sql.startswith("/*", i):
            depth = 0  # (block comments nest in PostgreSQL)
            while i < n:
                if sql.startswith("/*", i):
                    depth += 1
                    i += 2
                elif sql.startswith("*/", i):
                    depth -= 1
                    i += 2
                    if depth == 0:
                        break
                else:
                    i += 1
        else:
            break
    m = _WORD_RE.match(sql, i)
    return m.group(0).lower() if m else ""


#: A statement that is a COPY (after any leading comments).
_COPY_STATEMENT_RE = re.compile(r"(?:\s|--[^\n]*|/\*.*?\*/)*copy\b", re.IGNORECASE | re.DOTALL)

#: Seconds the end of a unit of work (a rollback, the end of a COPY or a
#: stream) may take before the connection is closed.
END_TIMEOUT = 10.0
_COPY_DATA_HEADER = struct.Struct("!cI")
_portal_names = itertools.count(1)


class Holder:
    """The identity that may use a held session (one per transaction or stream)."""

    __slots__ = ()
    kind = "a transaction"


class StreamHolder(Holder):
    """Holds a session for a row stream outside a transaction."""

    __slots__ = ()
    kind = "a stream"


class Statement:
    """A prepared statement: its SQL, parameter types and result columns.

    Made by :meth:`Client.prepare` (or, behind the scenes, by the statement
    cache). Executing it again skips Parse. The rows of a ``FETCH`` or
    ``EXECUTE`` statement take the shape the cursor or prepared statement has
    when it runs, which may differ from :attr:`columns`.
    """

    __module__ = "pgany"
    __slots__ = (
        "_bind_head",
        "_bind_prefix",
        "_bind_tail",
        "_description",
        "_exec_sync",
        "_param_codecs",
        "_param_formats",
        "_parse",
        "_reshaped",
        "_result_formats",
        "_row_factory",
        "_row_factory_for",
        "_session",
        "_shaped_at_execution",
        "_values",
        "columns",
        "exclusive",
        "name",
        "params",
        "sql",
    )

    def __init__(
        self,
        session: Session,
        name: str,
        sql: str,
        param_oids: Sequence[int],
        description: RowDescription | None,
        explicit_types: Sequence[int] = (),
    ) -> None:
        # pgany's own catalog queries never meet a user's codec.
        registry = builtin_registry() if sql in CATALOG_QUERIES else session.registry
        self._description = description
        #: The SQL text.
        self.sql = sql
        #: The server-side name (``""`` for the unnamed statement).
        self.name = name
        #: The parameter type OIDs, as the server reported them.
        self.params: tuple[int, ...] = tuple(param_oids)
        fields = description.fields if description is not None else ()
        #: The result columns (empty for a statement that returns no rows).
        self.columns: tuple[Column, ...] = tuple(
            Column(f.name, f.type_oid, session.type_name(f.type_oid), f.table_oid, f.column_id)
            for f in fields
        )
        self.exclusive = bool(_COPY_RE.search(sql))
        self._session = session
        self._param_codecs = [registry.for_param(oid) for oid in self.params]
        self._param_formats = tuple(int(c.format) for c in self._param_codecs)
        result_codecs = [registry.for_result(f.type_oid) for f in fields]
        self._result_formats = tuple(int(c.format) for c in result_codecs)
        # (A RowDescription with no fields still means rows: ``SELECT;`` returns
        # rows with no columns. Only NoData means none.)
        self._row_factory: RowFactory | None = (
            _make_row_factory(self.columns, result_codecs) if description is not None else None
        )
        self._bind_prefix = fe.encode_bind_prefix("", name)
        self._bind_head = (
            self._bind_prefix + _formats(self._param_formats) + _I16.pack(len(self.params))
        )
        self._bind_tail = _formats(self._result_formats)
        #: FETCH / EXECUTE: the server shapes the rows when the statement runs,
        #: so every execution asks for the portal's description (see _factory_for).
        self._shaped_at_execution = _leading_keyword(sql) in _SHAPED_AT_EXECUTION
        self._reshaped: tuple[tuple[FieldDescription, ...], RowFactory] | None = None
        self._row_factory_for: Callable[[RowDescription], RowFactory] | None
        if self._shaped_at_execution:
            self._exec_sync = _DESCRIBE_EXECUTE_ALL_SYNC
            self._row_factory_for = self._factory_for
            if not fields:
                self._bind_tail = _ALL_BINARY  # (whatever columns the rows turn out to have)
        else:
            self._exec_sync = _EXECUTE_ALL_SYNC
            self._row_factory_for = session.row_factory_for if description is None else None
        self._values = make_values_encoder(
            self.params, self._param_codecs, self._encode_values_slow
        )
        # The unnamed statement is re-parsed in every request, so each request
        # stands alone even when other tasks' requests run in between.
        self._parse = fe.encode_parse("", sql, self.params) if not name else b""

    def _refresh(self) -> RowFactory | None:
        """Take the registry's codecs again (a learned type changed); the row
        decoder of the formats bound until now (``None`` if there is none)."""
        registry = self._session.registry
        codecs = []
        for column, fmt in zip(self.columns, self._result_formats, strict=True):
            codec = registry.get(column.type_oid, Format(fmt))
            if codec is None and fmt == Format.TEXT:
                codec = FALLBACK_TEXT
            if codec is None or codec.decode is None:
                return None
            codecs.append(codec)
        old = _make_row_factory(self.columns, codecs) if self._description is not None else None
        self.__init__(self._session, self.name, self.sql, self.params, self._description)  # type: ignore[misc]
        return old

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
                self._exec_sync,
            )
        )

    def _factory_for(self, desc: RowDescription) -> RowFactory:
        """The row decoder for the shape a FETCH / EXECUTE portal has now.

        The statement's own decoder when the shape is the one it was prepared
        with; else one made for the portal's description (kept for next time).
        """
        fields = desc.fields
        factory = self._row_factory
        columns = self.columns
        if (
            factory is not None
            and len(fields) == len(columns)
            and all(
                f.type_oid == c.type_oid and f.name == c.name
                for f, c in zip(fields, columns, strict=True)
            )
        ):
            return factory
        reshaped = self._reshaped
        if reshaped is not None and reshaped[0] == fields:
            return reshaped[1]
        factory = self._session.described_row_factory(desc)
        self._reshaped = (fields, factory)
        return factory

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
_DESCRIBE_EXECUTE_ALL_SYNC = fe.encode_describe("P", "") + _EXECUTE_ALL_SYNC
#: Result format codes: one code, binary, for every column.
_ALL_BINARY = _I16.pack(1) + _I16.pack(int(Format.BINARY))
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


#: A type's OID and its array type's OID, for register_codec.
_TYPE_OIDS = catalog_query(
    "SELECT t.oid, t.typarray FROM pg_catalog.pg_type t WHERE t.oid = $1::text::regtype"
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
    __slots__ = ("error", "ready", "stale", "statement")

    def __init__(self) -> None:
        self.ready = anyio.Event()
        self.statement: Statement | None = None
        self.error: bool = False
        # The cache was cleared while this statement was being prepared.
        self.stale: bool = False


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


class Session:
    """The one road for every request of one connection.

    Client, Transaction, Savepoint, row streams, COPY and type learning run
    their requests through these methods and nothing else: the session owns
    the statement cache, the gate that decides when a request may be sent
    (a transaction or stream holding the connection, a COPY that must run
    alone), Bind encoding, waiting for the outcome and turning a failed
    outcome into its exception. It alone talks to the driver.
    """

    def __init__(self, driver: Driver, config: Config, host: Any) -> None:
        self._driver = driver
        self._proto = driver.proto
        self._config = config
        self._host = host
        self._codecs: list[Codec] = []
        self.registry: TypeRegistry = self._fresh_registry(config, self.server_version)
        self._cache: OrderedDict[str, _CacheEntry] = OrderedDict()
        self.types = TypeLearner(self)
        self._cache_size = config.statement_cache_size
        self._names = itertools.count(1)
        # FETCH / EXECUTE statements, prepared afresh at every execution: the
        # latest Statement per SQL, reused while their rows keep its shape.
        self._shaped_now: OrderedDict[str, Statement] = OrderedDict()
        # Names of forgotten statements, closed on the server with the next Parse.
        self._pending_closes: list[str] = []
        # DDL ran in the open transaction: a rollback undoes it, so cached
        # statements prepared since are stale again.
        self._ddl_in_transaction = False
        self._parse_settings = {n: self._proto.parameters.get(n) for n in _PARSE_SETTINGS}
        driver.add_parameter_listener(self._on_parameter_status)
        driver.canceller = lambda: self.cancel_token().cancel_query()
        if config.connect_timeout is not None:
            driver.close_cancel_timeout = min(driver.close_cancel_timeout, config.connect_timeout)
        # A transaction or stream holding the client, the task that owns it,
        # and an event set when it lets go.
        self._holder: object | None = None
        self._holder_task: int | None = None
        self._released: anyio.Event | None = None

    @staticmethod
    def _fresh_registry(
        config: Config, server_version: int, codecs: Sequence[Codec] = ()
    ) -> TypeRegistry:
        """A copy-on-write view of the global registry, with this connection's JSON
        functions, fitted to the server's version, and *codecs* (registered with
        :meth:`register_codec`, in order)."""
        registry = pgtypes.registry.child()  # (looked up at each connect)
        if config.json_loads is not None or config.json_dumps is not None:
            for codec in json_codecs(config.json_loads, config.json_dumps):
                registry.register(codec)
            register_array_types(registry, [114, 3802])
        if register_interval_for_server(registry, server_version):
            register_array_types(registry, [1186])
        for codec in codecs:
            registry.override(codec)
            if codec.array_oid:
                register_array_of(registry, codec.oid, codec.array_oid)
        return registry

    def __repr__(self) -> str:
        state = "closed" if self.is_closed else self.transaction_status
        return f"<pgany session pid={self.backend_pid} {self._host} {state}>"

    @property
    def host(self) -> Any:
        """The host this session is connected to."""
        return self._host

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
        """See :meth:`pgany.Client.register_codec`."""
        fmt = parse_format(format)
        row = (await self.execute(_TYPE_OIDS, (type_name,))).rows[0]
        name = type_name.rsplit(".", 1)[-1]
        self._codecs.append(Codec(int(row[0]), name, fmt, encode, decode, int(row[1])))
        # Types learned from the server (domains, ranges, composites) were built
        # from the codecs they saw: start again from the global registry.
        self.registry = self._fresh_registry(self._config, self.server_version, self._codecs)
        self.types.clear()
        self._clear_statements()

    def clear_type_cache(self) -> None:
        """Forget the types learned from the server (after ``ALTER TYPE``, say).

        Codecs registered with :meth:`register_codec` are forgotten too, and
        the statement cache is emptied, so statements are prepared afresh.
        """
        self._codecs = []
        self.registry = self._fresh_registry(self._config, self.server_version)
        self.types.clear()
        self._clear_statements()

    def cancel_token(self) -> CancelToken:
        """A token that can cancel this session's running query from anywhere."""
        return CancelToken(
            self._config, self._host, self._proto.process_id, self._proto.backend_key
        )

    def type_name(self, oid: int) -> str | None:
        codec = self.registry.for_result(oid)
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
        maybe_cancelled = driver.maybe_cancelled
        if maybe_cancelled is None or maybe_cancelled():
            await driver.checkpoint_if_cancelled()  # a cancelled call sends nothing
        while True:
            if driver.cancel_done is not None:
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
        """Send one request and wait for its outcome; on cancellation, abandon it.

        A checkpoint on every path: cancellation is checked before anything
        is sent, and waiting for the outcome is a schedule point even when it
        is already readable.
        """
        driver = self._driver
        maybe_cancelled = driver.maybe_cancelled
        if maybe_cancelled is None or maybe_cancelled():
            await driver.checkpoint_if_cancelled()
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
            self._driver.cancel_done is None
            and proto.open_request is None
            and (self._holder is None or self._holder is holder)
            and not (proto.in_flight and (req.exclusive or proto.exclusive_pending))
        )

    async def _wait_released(self) -> None:
        if self._holder_task == _current_task_id():
            kind = self._holder.kind if isinstance(self._holder, Holder) else "a transaction"
            raise InterfaceError(
                f"this task holds the connection in {kind}: run statements through "
                "that object, not the Client (calling the Client here would deadlock)"
            )
        if self._released is None:
            self._released = anyio.Event()
        await self._released.wait()

    async def acquire(self, holder: object) -> None:
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

    def holds(self, holder: object | None) -> bool:
        """True when *holder* (a transaction or stream) holds the session now:
        other tasks' requests wait until it lets go, so it must never wait for them."""
        return holder is not None and self._holder is holder

    def release(self, holder: object) -> None:
        if self._holder is holder:
            self._holder = None
            self._holder_task = None
            released, self._released = self._released, None
            if released is not None:
                released.set()

    def raise_for(self, req: Request) -> None:
        error = req.error
        if req.refused_copy is not None:
            error = _refused_copy_error(req.refused_copy, error)
        if error is not None:
            req.error = None  # raised once; do not keep the traceback alive
            raise error

    async def _describe(
        self, sql: str, types: Sequence[int], name: str, holder: object | None
    ) -> tuple[tuple[int, ...], RowDescription | None]:
        """Parse and describe *sql* as *name*; learn the types it uses."""
        data = fe.encode_parse(name, sql, types) + fe.encode_describe("S", name) + fe.SYNC
        closes = self._pending_closes
        if closes:
            # Forgotten statements are closed in the same request (no round trip of their own).
            self._pending_closes = []
            data = b"".join(fe.encode_close("S", n) for n in closes) + data
        req = Request()
        req.discard = True  # no rows come from a Describe
        try:
            await self._run(data, req, holder)
        except BaseException:
            if closes and not req.done and all(r is not req for r in self._proto.requests()):
                self._pending_closes[:0] = closes  # never sent
            raise
        self.raise_for(req)
        if req.param_oids is None:
            raise ProtocolError("the server did not describe the statement's parameters")
        fields = req.row_description.fields if req.row_description is not None else ()
        oids = [*req.param_oids, *(f.type_oid for f in fields)]
        if self.types.missing(oids):
            await self.types.learn(oids, holder)
        return req.param_oids, req.row_description

    async def _new_statement(
        self, sql: str, types: Sequence[int], name: str, holder: object | None = None
    ) -> Statement:
        param_oids, description = await self._describe(sql, types, name, holder)
        return Statement(self, name, sql, param_oids, description, types)

    async def _shaped_statement(self, sql: str, holder: object | None) -> Statement:
        """FETCH / EXECUTE: prepared afresh, unnamed, at every execution.

        Their rows take the shape the cursor or prepared statement has when
        they run, and a server describes a prepared one as it was when it was
        prepared. The Statement (and its row decoder) is reused while the
        description stays the same.
        """
        param_oids, description = await self._describe(sql, (), "", holder)
        fields = description.fields if description is not None else ()
        shaped = self._shaped_now
        stmt = shaped.get(sql)
        if (
            stmt is not None
            and stmt.params == param_oids
            and len(stmt.columns) == len(fields)
            and all(
                (c.name, c.type_oid, c.table_oid, c.column_id)
                == (f.name, f.type_oid, f.table_oid, f.column_id)
                for c, f in zip(stmt.columns, fields, strict=True)
            )
        ):
            shaped.move_to_end(sql)
            return stmt
        stmt = Statement(self, "", sql, param_oids, description)
        shaped[sql] = stmt
        while len(shaped) > self._cache_size:
            shaped.popitem(last=False)
        return stmt

    async def statement(self, sql: str | Statement, holder: object | None = None) -> Statement:
        if isinstance(sql, Statement):
            if sql._session is not self:
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
            if self.holds(holder):
                # Another task is preparing it, and waits at the gate this
                # caller's transaction or stream keeps shut: waiting for it
                # would never end. Prepare it unnamed, for this use only.
                return await self._new_statement(sql, (), "", holder)
            await entry.ready.wait()
            if entry.error and cache.get(sql) is entry:
                del cache[sql]
        if _leading_keyword(sql) in _SHAPED_AT_EXECUTION:
            return await self._shaped_statement(sql, holder)
        entry = _CacheEntry()
        cache[sql] = entry
        while True:
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
                    # create the statement, so close it.
                    self._close_statement(name)
                raise
            if not entry.stale:
                break
            # The cache was cleared meanwhile (DDL, DISCARD ALL, a setting that
            # changed): the server may have parsed it before that. Again.
            entry.stale = False
            self._close_statement(name)
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
        """Close the server's statement *name*, with the next Parse this client sends."""
        self._pending_closes.append(name)

    def _forget(self, stmt: Statement) -> None:
        entry = self._cache.get(stmt.sql)
        if entry is not None and entry.statement is stmt:
            del self._cache[stmt.sql]
            self._close_statement(stmt.name)

    def _clear_statements(self) -> None:
        """Forget every cached statement: the next use of each prepares it again."""
        cache = self._cache
        for sql, entry in list(cache.items()):
            if entry.statement is None:
                entry.stale = True  # being prepared: its preparer prepares it again
            else:
                del cache[sql]
                self._close_statement(entry.statement.name)
        self._shaped_now.clear()

    def _on_parameter_status(self, name: str, value: str) -> None:
        """A reported server setting changed (ParameterStatus)."""
        if name in _PARSE_SETTINGS and self._parse_settings.get(name) != value:
            # Cached statements keep the literals (dates, intervals, strings)
            # and names read under the old value.
            self._parse_settings[name] = value
            self._clear_statements()

    def _after_command(self, tag: str, status: str | None) -> None:
        """Forget the cached statements a command (told by its tag) may have made stale.

        Called for the tags that begin like one of :data:`_TAG_HEADS`.
        """
        if tag.startswith(_CLEARING_TAGS):
            self._clear_statements()
            if status != "I":
                self._ddl_in_transaction = True
        elif tag == "ROLLBACK" and self._ddl_in_transaction:
            self._clear_statements()  # (also ROLLBACK TO SAVEPOINT: the DDL may be undone)
        if status == "I":
            self._ddl_in_transaction = False

    def _recover(self, stmt: Statement, error: BaseException) -> bool:
        """After *stmt* failed with *error*: forget what is stale; True if running
        it again, prepared afresh, may succeed."""
        if _is_stale_plan(error):
            self._forget(stmt)
            return True
        if stmt.name and isinstance(error, InvalidSqlStatementName):
            # One of our statements is gone (DISCARD ALL or DEALLOCATE ALL that
            # this client did not see): so are the others.
            self._clear_statements()
            return True
        return False

    async def execute(
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
            stmt = await self.statement(sql, holder)
        for attempt in (0, 1):
            try:
                data = stmt._request(params)
            except EncodeError:
                # A composite altered since it was learned: learn it again, once.
                if attempt or not await self.types.relearn(holder):
                    raise
                stmt._refresh()
                data = stmt._request(params)
            req = Request(
                row_factory=stmt._row_factory,
                row_factory_for=stmt._row_factory_for,
                exclusive=stmt.exclusive,
            )
            if self.types.has_learned:
                req.keep_failed_rows = True
            await self._run(data, req, holder)
            error = req.error
            if req.failed_rows is not None and await self._decode_again(stmt, req, holder):
                error = None
            if error is not None:
                if (
                    self._recover(stmt, error)
                    and attempt == 0
                    and req.status == "I"  # (in a transaction, the error aborted it)
                    and not isinstance(sql, Statement)
                ):
                    stmt = await self.statement(stmt.sql, holder)
                    continue
                self.raise_for(req)
            elif req.refused_copy is not None:
                self.raise_for(req)  # (a COPY TO STDOUT drained: no server error)
            results = req.results
            if results:
                result = results[-1]
                tag = result.tag
                if tag and tag[0] in _TAG_INITIALS and tag[:4] in _TAG_HEADS:
                    self._after_command(tag, req.status)
                return result
            return Result(None)
        raise AssertionError("unreachable")  # pragma: no cover

    async def _decode_again(self, stmt: Statement, req: Request, holder: object | None) -> bool:
        """After a row failed to decode: learn the types again and decode the rows kept.

        True if that mended it (*req* then holds the rows and no error).
        """
        failed, req.failed_rows = req.failed_rows, None
        if failed is None or not await self.types.relearn(holder):
            return False
        factory = stmt._refresh()
        if factory is None:
            return False
        try:
            rows = [factory(memoryview(body), 0, len(body)) for body in failed]
        except Exception:
            return False  # the first error says it
        result = req.results[-1] if req.results else None
        if result is None:
            return False
        result.rows = req.kept_rows + rows
        req.kept_rows = []
        req.error = None
        return True

    async def executemany(
        self, sql: str | Statement, params_seq: Iterable[Sequence[Any]], holder: object | None
    ) -> None:
        stmt = await self.statement(sql, holder)
        if stmt.exclusive and _COPY_STATEMENT_RE.match(stmt.sql):
            # (Refused before anything is sent: in one batch, the server would
            # take the next set's Bind for COPY data.)
            raise InterfaceError(
                "executemany() cannot run COPY: use copy_in() or copy_records_in() "
                "(COPY FROM STDIN), copy_out() (COPY TO STDOUT)"
            )
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
        else:
            await self._stream_batch(stmt, first, it, req)
        if req.error is not None:
            # (not retried: the parameter sets are consumed) the next call prepares afresh.
            self._recover(stmt, req.error)
            self.raise_for(req)

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
                await self._driver.wait_resolved(req)
            req.error = None  # the failing Execute was ours
            raise error
        try:
            await self._driver.wait_resolved(req)
        except BaseException:
            driver.abandon(req)
            raise

    async def prepare(
        self, sql: str, types: Sequence[int | str] | None, holder: object | None
    ) -> Statement:
        oids = [self.resolve_type(t) for t in (types or ())]
        name = f"_pgany_p{next(self._names)}"
        return await self._new_statement(sql, oids, name, holder)

    def described_row_factory(self, desc: RowDescription) -> RowFactory:
        """A row decoder for a portal's description: each column in the format it names."""
        registry = self.registry
        codecs: list[Codec] = []
        for f in desc.fields:
            fmt = Format.BINARY if f.format == Format.BINARY else Format.TEXT
            codec = registry.get(f.type_oid, fmt)
            if codec is None or codec.decode is None:
                if fmt is Format.BINARY:
                    raise DecodeError(
                        f"column {f.name!r} (type OID {f.type_oid}) came in binary, which "
                        "pgany cannot decode: the rows changed shape after the statement "
                        "was prepared; prepare it again"
                    )
                codec = FALLBACK_TEXT
            codecs.append(codec)
        columns = [
            Column(f.name, f.type_oid, self.type_name(f.type_oid), f.table_oid, f.column_id)
            for f in desc.fields
        ]
        return _make_row_factory(columns, codecs)

    def row_factory_for(self, desc: RowDescription) -> RowFactory:
        registry = self.registry
        columns = [
            Column(f.name, f.type_oid, self.type_name(f.type_oid), f.table_oid, f.column_id)
            for f in desc.fields
        ]
        return _make_row_factory(columns, [registry.for_result(f.type_oid) for f in desc.fields])

    def resolve_type(self, t: int | str) -> int:
        if isinstance(t, int):
            return t
        oid = self.registry.oid_of(t) or self.registry.oid_of(
            _TYPE_ALIASES.get(t.lower(), t.lower())
        )
        if oid is None:
            raise InterfaceError(f"unknown type name {t!r}: give its OID instead")
        return oid

    async def simple(
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
        for result in req.results:
            tag = result.tag
            if tag and tag[0] in _TAG_INITIALS and tag[:4] in _TAG_HEADS:
                self._after_command(tag, req.status)
        self.raise_for(req)
        return req

    # -- ending units of work -------------------------------------------------------------

    async def abort_hold(self, holder: object) -> None:
        """A transaction or stream failed to begin: undo a BEGIN the server may
        still run (shielded, bounded), and let go of the session."""
        try:
            if not self.is_closed:
                await self.end_bounded("ROLLBACK", holder)
        finally:
            self.release(holder)

    async def end_bounded(self, sql: str, holder: object) -> None:
        """Run *sql* (ROLLBACK...) shielded and bounded; close the connection if it can't finish."""
        with anyio.CancelScope(shield=True):
            with anyio.move_on_after(END_TIMEOUT) as scope:
                try:
                    await self.simple(sql, discard=True, holder=holder)
                except ConnectionClosed:
                    return
            if scope.cancelled_caught:
                await self.close()

    async def finish(self, sql: str, undo: str, holder: object) -> Request:
        """Run *sql* (COMMIT, RELEASE) unless the caller is cancelled: then run *undo*.

        Cancellation is checked before *sql* is sent; once it is sent, its
        outcome is awaited shielded and bounded, so the caller learns what
        happened (a cancelled unit of work never commits, and committed work is
        never reported as cancelled). An error from *sql* is raised after *undo*.
        """
        try:
            await anyio.lowlevel.checkpoint_if_cancelled()
        except BaseException:
            await self.end_bounded(undo, holder)
            raise
        with anyio.CancelScope(shield=True):
            with anyio.move_on_after(END_TIMEOUT) as scope:
                try:
                    return await self.simple(sql, discard=True, holder=holder)
                except ConnectionClosed:
                    raise
                except BaseException:
                    await self.end_bounded(undo, holder)
                    raise
        assert scope.cancelled_caught
        await self.close()
        raise ConnectionClosed(
            f"{sql.split()[0]} did not complete within {END_TIMEOUT:g} s: the connection was "
            "closed and the outcome is unknown"
        )

    async def settle(self, req: Request) -> None:
        """Wait, shielded and bounded, for the outcome of *req* (a COPY being ended,
        a stream's last Executes); close the connection if it does not come."""
        with anyio.CancelScope(shield=True):
            with anyio.move_on_after(END_TIMEOUT) as scope:
                await self._driver.wait_resolved(req)
            if scope.cancelled_caught:
                await self.close()

    # -- portals and row streams --------------------------------------------------------

    async def bind_portal(
        self, stmt: str | Statement, params: Sequence[Any], holder: object | None
    ) -> Portal:
        """Bind *params* to *stmt* as a new named portal (valid until the transaction ends)."""
        statement = await self.statement(stmt, holder)
        name = f"pgany_portal_{next(_portal_names)}"
        data = statement._encode(params, portal=name, execute=False)
        if statement._shaped_at_execution:
            # FETCH / EXECUTE: the portal's rows have the shape it has now; ask for it.
            req = Request(row_factory_for=statement._row_factory_for)
            data += fe.encode_describe("P", name)
        else:
            req = Request()
            req.discard = True
        await self._run(data + fe.SYNC, req, holder)
        self.raise_for(req)
        factory = req.row_factory if statement._shaped_at_execution else statement._row_factory
        return Portal(name, statement, self, factory)

    async def query_portal(self, portal: Portal, max_rows: int, holder: object | None) -> list[Any]:
        """Up to *max_rows* more rows from *portal*; ``[]`` once it is exhausted."""
        if portal._session is not self:
            raise InterfaceError("this portal belongs to another connection")
        if max_rows < 1:
            raise InterfaceError("max_rows must be at least 1")
        if portal.exhausted:
            await anyio.lowlevel.checkpoint()
            return []
        req = Request(row_factory=portal._row_factory)
        if req.row_factory is None:
            req.discard = True
        await self._run(fe.encode_execute(portal.name, max_rows) + fe.SYNC, req, holder)
        self.raise_for(req)
        return portal._take(req)

    async def close_portal(self, portal: Portal, holder: object | None) -> None:
        """Close *portal* on the server (shielded, bounded): its resources go now."""
        req = Request()
        req.discard = True
        with anyio.CancelScope(shield=True), anyio.move_on_after(END_TIMEOUT):
            await self._run(fe.encode_close("P", portal.name) + fe.SYNC, req, holder)

    async def fetch_ahead(self, portal: Portal, batch_size: int, holder: object) -> Request:
        """Send an Execute of *batch_size* rows of *portal* (without waiting for them).

        Sent from the calling task and without waking the reader task: the
        caller reads the batch itself when it gets to it (see Driver.wait).
        """
        req = Request(row_factory=portal._row_factory)
        if req.row_factory is None:
            req.discard = True
        data = portal._execute_bytes(batch_size)
        if self._may_send_now(req, holder):
            self._driver.send(data, req, True, True)
        else:
            await self._submit(data, req, holder, direct=True)
        return req

    async def fetched_rows(self, portal: Portal, req: Request) -> list[Any]:
        """The rows of a batch sent by :meth:`fetch_ahead`, once they are read."""
        try:
            await self._driver.wait(req, GC_PAUSE_STREAM_READ)
        except BaseException:
            self._driver.abandon(req)
            raise
        self.raise_for(req)
        return portal._take(req)

    async def wait_unwanted(self, req: Request) -> None:
        """Wait for a request whose answer nobody needs (an Execute past a portal's end)."""
        await self._driver.wait(req)
        req.error = None  # (nothing was asked of it)

    def abandon(self, req: Request) -> None:
        """Give up on *req*: its answer is discarded (the server is told to stop if it runs)."""
        self._driver.abandon(req)

    # -- COPY ----------------------------------------------------------------------------

    async def start_copy(self, sql: str, mode: CopyDirection, holder: object | None) -> Request:
        """Send ``COPY ...`` and wait until the server is in COPY (or answered otherwise)."""
        if not isinstance(sql, str):
            raise InterfaceError(f"sql must be a str, not {type(sql).__name__}")
        req = Request(simple=True, exclusive=True)
        req.copy_mode = mode
        req.row_factory_for = _no_rows  # a statement that is not COPY may return rows
        driver = self._driver
        await self._submit(fe.encode_query(sql), req, holder)
        try:
            await driver.wait_copy(req)
            while not req.done and not req.copy_ready:
                await driver.wait_copy(req)
        except BaseException:
            driver.abandon(req)
            raise
        if req.done and not req.copy_ready:
            self.raise_for(req)
            direction = "FROM STDIN" if mode is CopyDirection.IN else "TO STDOUT"
            raise InterfaceError(f"the statement is not a COPY {direction}: {sql[:60]!r}")
        return req

    def copying_in(self, req: Request) -> bool:
        """True while the server takes COPY data for *req*."""
        proto = self._proto
        return not req.done and proto.phase is Phase.COPY_IN and proto.head is req

    def send_copy_data(self, data: bytes | bytearray | memoryview) -> None:
        """Queue one CopyData message holding *data*."""
        driver = self._driver
        driver.send_raw(_COPY_DATA_HEADER.pack(b"d", len(data) + 4))
        driver.send_raw(data)

    async def wait_copy_flushed(self) -> None:
        """Wait until the COPY data queued so far is written (backpressure)."""
        if self._proto.pending_output > 0:
            await self._driver.wait_flushed()

    def end_copy(self, req: Request, message: bytes) -> None:
        """End the COPY of *req* with CopyDone or CopyFail, if the server still takes its data."""
        if self.copying_in(req):
            self._driver.end_copy(message)

    async def wait_copy(self, req: Request) -> None:
        """Wait for more COPY data (or the end) of *req*."""
        await self._driver.wait_copy(req)

    def copy_consumed(self) -> None:
        """COPY data was taken out of a request: the reader may read on."""
        self._driver.copy_consumed()

    # -- for a pool ----------------------------------------------------------------------

    @property
    def requests_sent(self) -> int:
        """How many requests this session has sent (its use, as a pool sees it)."""
        return self._driver.requests_sent

    @property
    def busy(self) -> bool:
        """True while a request is in flight or being cancelled (or a transaction
        or stream holds the session)."""
        return bool(
            self._proto.in_flight
            or self._driver.cancel_done is not None
            or self._proto.open_request is not None
            or self._holder is not None
        )

    async def check_alive(self) -> bool:
        """Whether the connection is alive, without a round trip (see Driver.check_alive)."""
        return await self._driver.check_alive()

    async def wait_quiet(self) -> None:
        """Wait until nothing is in flight and no CancelRequest is under way."""
        driver = self._driver
        while self._proto.in_flight or driver.cancel_done is not None:
            if self.is_closed:
                return
            await driver.wait_cancel_done()
            await driver.wait_drained()

    def send_unawaited(self, sql: str) -> Request | None:
        """Send *sql* (simple protocol, rows discarded) now, without waiting for it:
        the requests sent next queue behind it. ``None`` if it can't go at once."""
        req = Request(simple=True)
        req.discard = True
        if self.is_closed or not self._may_send_now(req, None):
            return None
        self._driver.send(fe.encode_query(sql), req)
        return req

    # -- notifications and closing -------------------------------------------------------

    def notifications(self) -> NotificationStream:
        return NotificationStream(self._driver)

    async def close(self) -> None:
        """Close the connection (see Client.close)."""
        await self._driver.aclose()
        await anyio.lowlevel.checkpoint()

    async def run_driver(self) -> None:
        """Run the connection task (see run_connection)."""
        await self._driver.run()

    async def close_driver(self) -> None:
        """Close the connection without the trailing checkpoint (connect's exit)."""
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


def _refused_copy_error(direction: CopyDirection, cause: BaseException | None) -> InterfaceError:
    """The error for a COPY run through a query method (the core refused or drained it)."""
    if direction is CopyDirection.IN:
        text = (
            "COPY FROM STDIN cannot run through this call: use copy_in() "
            "(the server was sent CopyFail; nothing was copied)"
        )
    else:
        text = (
            "COPY TO STDOUT cannot run through this call: use copy_out() (its output was discarded)"
        )
    error = InterfaceError(text)
    error.__cause__ = cause
    return error


def _is_stale_plan(error: BaseException) -> bool:
    return (
        isinstance(error, DatabaseError)
        and isinstance(error, FeatureNotSupported)
        and (
            error.routine in _STALE_PLAN_ROUTINES
            or "cached plan must not change result type" in error.message
        )
    )


def _current_task_id() -> int:
    return anyio.get_current_task().id


def parse_server_version(text: str) -> int:
    """``"15.18 (Debian ...)"`` -> 150018, ``"9.6.24"`` -> 90624, ``"18beta1"`` -> 180000."""
    m = re.match(r"(\d+)(?:\.(\d+))?(?:\.(\d+))?", text)
    if not m:
        return 0
    major, minor, patch = (int(g) if g else 0 for g in m.groups())
    if major >= 10:
        return major * 10000 + minor
    return major * 10000 + minor * 100 + patch


class Portal:
    """A bound statement inside a transaction, read with :meth:`Transaction.query_portal`."""

    __module__ = "pgany"
    __slots__ = (
        "_fetched",
        "_row_factory",
        "_session",
        "exhausted",
        "name",
        "rows_affected",
        "statement",
    )

    def __init__(
        self, name: str, statement: Statement, session: Session, row_factory: RowFactory | None
    ) -> None:
        #: The portal's name on the server.
        self.name = name
        #: The statement it was bound from.
        self.statement = statement
        #: True once every row has been fetched.
        self.exhausted = False
        #: The command's row count, once exhausted.
        self.rows_affected = 0
        self._session = session
        self._fetched = 0
        # (the statement's, or for FETCH / EXECUTE the one for the portal's own shape)
        self._row_factory = row_factory

    def _execute_bytes(self, max_rows: int) -> bytes:
        return fe.encode_execute(self.name, max_rows) + fe.SYNC

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


def _no_rows(desc: object) -> Any:
    return _ignore_row


def _ignore_row(buf: memoryview, start: int, end: int) -> None:
    return None


async def connect_session(config: Config) -> Session:
    """Connect and make the session (whose driver is not running yet)."""
    opened = await open_session(config)
    raw_socket = None
    if not opened.tls:
        try:
            raw_socket = opened.stream.extra(anyio.abc.SocketAttribute.raw_socket)
        except anyio.TypedAttributeLookupError:
            raw_socket = None
        # (pgany's own streams give the socket itself; anything else is not written directly)
        if not isinstance(raw_socket, socket.socket):
            raw_socket = None  # only a plain socket can be written synchronously
    driver = Driver(
        opened.proto,
        opened.stream,
        on_notice=config.on_notice,
        notification_buffer=config.notification_buffer,
        raw_socket=raw_socket,
    )
    for notice in opened.notices:  # before any later notice (the driver is not running yet)
        driver.deliver(notice)
    return Session(driver, config, opened.host)
