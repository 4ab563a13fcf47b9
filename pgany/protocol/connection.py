"""The sans-I/O connection: bytes in, events out, bytes to send.

:class:`Connection` composes the pieces that each own one thing: the
:class:`~pgany.protocol.buffer.ReceiveBuffer` (framing), the
:class:`~pgany.protocol.state.StateMachine` (phase), the FIFO of
:class:`~pgany.protocol.pipeline.Request` (pipeline) and the
:class:`~pgany.protocol.auth.Authenticator` (auth).

Use::

    conn = Connection({"user": "app", "database": "app"}, password="...")
    send(conn.data_to_send())              # StartupMessage
    while True:
        conn.receive_data(recv())          # b"" at end of file
        while (event := conn.next_event()) is not NEED_DATA:
            ...                            # Connected, RequestDone, notices...
"""

from __future__ import annotations

import enum
import struct
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Final

from pgany.errors import ConnectionClosed, DatabaseError, InterfaceError, ProtocolError
from pgany.protocol import frontend as fe
from pgany.protocol.auth import Authenticator
from pgany.protocol.buffer import DEFAULT_MAX_MESSAGE_SIZE, ReceiveBuffer
from pgany.protocol.messages import (
    AuthenticationGSSContinue,
    AuthenticationOk,
    AuthenticationSASLContinue,
    AuthenticationSASLFinal,
    BackendKeyData,
    BackendMessage,
    CommandComplete,
    CopyData,
    ErrorResponse,
    NegotiateProtocolVersion,
    NoticeResponse,
    NotificationResponse,
    ParameterDescription,
    ParameterStatus,
    ReadyForQuery,
    RowDescription,
    decode_backend,
)
from pgany.protocol.pipeline import CopyDirection, Request, Result
from pgany.protocol.state import TRANSITIONS, Kind, Phase, StateMachine, kind_of_type_byte

__all__ = [
    "NEED_DATA",
    "Connected",
    "Connection",
    "ConnectionEnded",
    "CopyStarted",
    "Event",
    "RequestDone",
]


class _Sentinel(enum.Enum):
    NEED_DATA = "NEED_DATA"


#: Returned by :meth:`Connection.next_event` when more bytes are needed.
NEED_DATA: Final = _Sentinel.NEED_DATA


@dataclass(frozen=True, slots=True)
class Connected:
    """Startup finished: the session is ready for requests."""


class RequestDone:
    """A request finished (successfully or not): see its ``error`` and ``results``.

    Read-only by convention (one is made per request: a plain class is a third
    of a frozen dataclass's cost to create).
    """

    __slots__ = ("request",)

    def __init__(self, request: Request) -> None:
        self.request: Final = request

    def __repr__(self) -> str:
        return f"RequestDone(request={self.request!r})"

    def __eq__(self, other: object) -> bool:
        if type(other) is not RequestDone:
            return NotImplemented
        return self.request is other.request

    def __hash__(self) -> int:
        return hash((RequestDone, id(self.request)))


@dataclass(frozen=True, slots=True)
class CopyStarted:
    """The server entered COPY for a request that asked for it (copy_in/copy_out)."""

    request: Request


@dataclass(frozen=True, slots=True)
class ConnectionEnded:
    """The session is over; :attr:`error` says why (``None`` after Terminate)."""

    error: BaseException | None


Event = (
    Connected
    | RequestDone
    | CopyStarted
    | ConnectionEnded
    | NoticeResponse
    | NotificationResponse
    | ParameterStatus
)

_D = ord("D")
_R = ord("R")
_E = ord("E")
_C = ord("C")
_Z = ord("Z")
_S = ord("S")
#: Empty messages that leave BUSY as it is, per the transition table.
_EMPTY_IN_BUSY = frozenset(
    tb
    for tb, kind in (
        (ord("1"), Kind.PARSE_COMPLETE),
        (ord("2"), Kind.BIND_COMPLETE),
        (ord("3"), Kind.CLOSE_COMPLETE),
    )
    if TRANSITIONS.get((Phase.BUSY, kind)) is Phase.BUSY
)

#: BUSY's next phase at a ReadyForQuery (nothing more queued / more queued).
_AFTER_Z = TRANSITIONS[(Phase.BUSY, Kind.READY_FOR_QUERY)]
_AFTER_Z_MORE = TRANSITIONS[(Phase.BUSY, Kind.READY_FOR_QUERY_MORE)]

#: The next phase when a request is sent, by phase (from the table).
_AFTER_REQUEST = {phase: nxt for (phase, kind), nxt in TRANSITIONS.items() if kind is Kind.REQUEST}

#: Phases in which a ParameterStatus is legal and changes nothing (from the table).
_PARAMETER_STATUS_PHASES = frozenset(
    phase
    for (phase, kind), nxt in TRANSITIONS.items()
    if kind is Kind.PARAMETER_STATUS and nxt is phase
)

_TXN_STATUS = {"I": "idle", "T": "in_transaction", "E": "failed"}

#: The answer to a COPY FROM STDIN that a request did not ask for.
_COPY_FAIL = fe.encode_copy_fail("COPY FROM STDIN is not supported by this call; use copy_in()")


_HEAD = struct.Struct("!cI").unpack_from
_LENGTH = struct.Struct("!I").unpack_from


def _skip_acks(data: bytearray, pos: int, limit: int) -> int:
    """The offset after a run of well-formed ParseComplete / BindComplete /
    CloseComplete / CommandComplete messages starting at *pos*."""
    while pos + 5 <= limit:
        t, size = _HEAD(data, pos)
        end = pos + 1 + size
        if end > limit:
            break
        if t in b"123" and size == 4:
            pos = end
        elif t == b"C" and size > 4 and data[end - 1] == 0:
            pos = end
        else:
            break
    return pos


class Connection:
    """One PostgreSQL session, without I/O."""

    __slots__ = (
        "_auth",
        "_buf",
        "_ended",
        "_eof",
        "_events",
        "_exclusive",
        "_out",
        "_queue",
        "_state",
        "backend_key",
        "end_error",
        "open_request",
        "parameters",
        "process_id",
        "protocol_minor",
        "transaction_status_code",
    )

    def __init__(
        self,
        startup_parameters: Mapping[str, str],
        *,
        password: str | None = None,
        channel_binding: str = "prefer",
        cb_data: bytes | None = None,
        tls: bool | None = None,
        require_auth: str | None = None,
        max_message_size: int = DEFAULT_MAX_MESSAGE_SIZE,
    ) -> None:
        if "user" not in startup_parameters:
            raise InterfaceError("the startup parameters need a user")
        self._buf = ReceiveBuffer(max_message_size)
        self._state = StateMachine()
        self._queue: deque[Request] = deque()
        self._exclusive = 0  # requests in flight that must run alone
        #: A request whose bytes are still being queued (see begin_request).
        self.open_request: Request | None = None
        self._auth = Authenticator(
            startup_parameters["user"],
            password,
            channel_binding=channel_binding,
            cb_data=cb_data,
            tls=tls,
            require_auth=require_auth,
        )
        self._out = bytearray(fe.encode_startup(startup_parameters))
        self._eof = False
        self._ended = False
        self._events: deque[Event] = deque()
        #: Server parameters reported by ParameterStatus, kept current.
        self.parameters: dict[str, str] = {}
        #: The backend's process ID (from BackendKeyData), 0 until known.
        self.process_id = 0
        #: The secret key a CancelRequest needs.
        self.backend_key = b""
        #: ``"I"``, ``"T"`` or ``"E"`` from the latest ReadyForQuery.
        self.transaction_status_code = "I"
        #: Protocol minor version the server accepted.
        self.protocol_minor = 0
        #: Why the session ended (``None`` while it lives or after Terminate).
        self.end_error: BaseException | None = None

    def __repr__(self) -> str:
        return f"<pgany.protocol.Connection {self.phase.name} pid={self.process_id} in_flight={len(self._queue)}>"

    # -- state -----------------------------------------------------------------

    @property
    def phase(self) -> Phase:
        """The current :class:`~pgany.protocol.state.Phase`."""
        return self._state.phase

    @property
    def transaction_status(self) -> str:
        """``"idle"``, ``"in_transaction"`` or ``"failed"``."""
        return _TXN_STATUS[self.transaction_status_code]

    @property
    def in_flight(self) -> int:
        """How many requests await their ReadyForQuery."""
        return len(self._queue)

    @property
    def pending_output(self) -> int:
        """Bytes queued for the server and not yet taken by :meth:`data_to_send`."""
        return len(self._out)

    @property
    def head(self) -> Request | None:
        """The request the server is answering now, if any."""
        return self._queue[0] if self._queue else None

    def requests(self) -> Iterable[Request]:
        """The requests in flight, oldest first."""
        return iter(self._queue)

    @property
    def exclusive_pending(self) -> bool:
        """True while a request that must run alone (it may COPY) is in flight."""
        return self._exclusive > 0

    # -- output ----------------------------------------------------------------

    def data_to_send(self) -> bytes:
        """Everything queued for the server since the last call (may be empty)."""
        out = self._out
        if not out:
            return b""
        data = bytes(out)
        out.clear()
        return data

    def send_request(self, data: bytes | bytearray, request: Request) -> Request:
        """Queue the bytes of one request (ending in Sync, or a Query) and track it.

        Raises :class:`~pgany.ConnectionClosed` if the session is over, and
        :class:`~pgany.InterfaceError` before startup finished.
        """
        if self.open_request is not None:
            raise InterfaceError("another request is still being sent")
        state = self._state
        nxt = _AFTER_REQUEST.get(state.phase)
        if nxt is None:
            state.apply(Kind.REQUEST)  # (raises: no request in this phase)
        else:
            state.phase = nxt
        self._out += data
        self._queue.append(request)
        if request.exclusive:
            self._exclusive += 1
        return request

    def begin_request(self, data: bytes | bytearray, request: Request) -> Request:
        """Like :meth:`send_request`, for a request whose bytes come in several parts.

        Until :meth:`end_request`, :meth:`continue_request` adds to it and no
        other request may be sent.
        """
        self.send_request(data, request)
        self.open_request = request
        return request

    def continue_request(self, data: bytes | bytearray) -> None:
        """Queue more bytes of the request opened with :meth:`begin_request`."""
        if self.open_request is None:
            raise InterfaceError("no request is being sent")
        if self._state.phase in (Phase.CLOSED, Phase.BROKEN):
            raise ConnectionClosed("the connection is closed")
        self._out += data

    def end_request(self, data: bytes | bytearray) -> None:
        """Queue the last bytes (ending in Sync) of the open request."""
        if self.open_request is None:
            raise InterfaceError("no request is being sent")
        self.open_request = None
        if self._state.phase not in (Phase.CLOSED, Phase.BROKEN):
            self._out += data

    def send_copy(self, data: bytes | bytearray | memoryview) -> None:
        """Queue CopyData/CopyDone/CopyFail bytes for the COPY FROM STDIN in progress."""
        if self.phase is not Phase.COPY_IN:
            raise InterfaceError(f"cannot send COPY data in {self.phase.name}")
        self._out += data

    def end_copy(self, data: bytes) -> None:
        """Queue CopyDone or CopyFail and leave COPY FROM STDIN."""
        self._state.apply(Kind.COPY_END)
        self._out += data

    def terminate(self) -> None:
        """Queue Terminate; the session is over once it is sent."""
        if self._state.phase in (Phase.CLOSED, Phase.BROKEN):
            return
        self._state.apply(Kind.TERMINATE)
        self._out += fe.TERMINATE

    # -- input -----------------------------------------------------------------

    def receive_data(self, data: bytes | bytearray | memoryview) -> None:
        """Feed bytes read from the server; ``b""`` means end of file."""
        if self._ended:
            return  # the session is over: late bytes mean nothing
        if data:
            if self._eof:
                raise InterfaceError("data received after end of file")
            self._buf.feed(data)
        else:
            self._eof = True

    def next_event(self) -> Event | _Sentinel:
        """Process received bytes up to the next event, or return :data:`NEED_DATA`.

        Rows are decoded straight into their request as they arrive; no event
        is produced per row.
        """
        buf = self._buf
        if self._events:
            return self._events.popleft()
        state = self._state
        if self._ended or (
            buf._pos == len(buf._data) and not self._eof and state.phase is not Phase.BROKEN
        ):
            # The session is over (whatever is left means nothing), or nothing
            # is left to read (the usual second call after a RequestDone).
            return NEED_DATA
        view: memoryview | None = None
        while True:
            phase = state.phase
            if phase is Phase.BUSY:
                # The hot path: the messages of every query, framed inline and
                # handled without building a message object (same transitions
                # as the table). Anything else falls through to the general path.
                data = buf._data
                size = len(data)
                pos = buf._pos
                limit = buf.max_message_size
                while size - pos >= 5:
                    type_byte = data[pos]
                    length = _LENGTH(data, pos + 1)[0]
                    end = pos + 1 + length
                    if end > size or length < 4 or length > limit:
                        break  # incomplete (or invalid: next_frame below says why)
                    start = pos + 5
                    if type_byte == _D:
                        buf._pos = pos  # (so that nothing is handled twice if this raises)
                        req = self._queue[0]
                        if view is None:
                            view = memoryview(data)
                        run = getattr(req.row_factory, "run", None)
                        if run is not None and not req.discard and req.error is None:
                            # A run of rows, framing and all, decoded by the request's decoder.
                            rows, after = run(view, pos, size)
                            if rows:
                                result = req._current
                                if result is None:
                                    result = req._current = Result(req.row_description)
                                result.rows.extend(rows)
                                pos = after
                                continue
                        buf._pos = end
                        try:
                            req.on_data_row(view, start, end)
                        except ProtocolError as exc:  # no RowDescription: poison
                            state.fail(exc)
                        pos = end
                        continue
                    if length == 4 and type_byte in _EMPTY_IN_BUSY:
                        if self._queue[0].discard:
                            # executemany's answers: BindComplete / CommandComplete pairs
                            # by the thousand, nobody reads them: skip the run in one loop.
                            pos = _skip_acks(data, end, size)
                        else:
                            pos = end  # ParseComplete, BindComplete...: nothing to keep
                        continue
                    if type_byte == _C:
                        if data[end - 1] == 0 and data.find(0, start, end - 1) < 0:
                            try:
                                tag = data[start : end - 1].decode("utf-8")
                            except UnicodeDecodeError:
                                break
                            self._queue[0].finish_tag(tag)
                            pos = end
                            continue
                        break
                    if type_byte == _Z and length == 5 and self._queue:
                        status = chr(data[start])
                        if status in "ITE":
                            buf._pos = end
                            queue = self._queue
                            # (the table's transitions, looked up once: _AFTER_Z*)
                            state.phase = _AFTER_Z_MORE if len(queue) > 1 else _AFTER_Z
                            self.transaction_status_code = status
                            req = queue.popleft()
                            if req.exclusive:
                                self._exclusive -= 1
                            req.finish(status)
                            return RequestDone(req)
                    break
                buf._pos = pos
            elif phase is Phase.BROKEN:
                state.apply(Kind.EOF)  # raises the poisoning ProtocolError
            try:
                frame = buf.next_frame()
            except ProtocolError as exc:
                state.fail(exc)
            if frame is None:
                if self._events:
                    return self._events.popleft()
                if self._eof and not self._ended:
                    return self._end_of_file()
                return NEED_DATA
            type_byte, start, end = frame
            if type_byte == _S and state.phase in _PARAMETER_STATUS_PHASES:
                # A dozen arrive at every connect: read in place when well formed.
                data = buf._data
                nul = data.find(0, start, end)
                if (
                    start <= nul < end - 1
                    and data[end - 1] == 0
                    and data.find(0, nul + 1, end - 1) < 0
                ):
                    try:
                        name = data[start:nul].decode("utf-8")
                        value = data[nul + 1 : end - 1].decode("utf-8")
                    except UnicodeDecodeError:
                        pass  # (the general path below says what is wrong)
                    else:
                        self.parameters[name] = value
                        return ParameterStatus(name, value)
            try:
                msg = decode_backend(type_byte, buf.data[start:end])
            except ProtocolError as exc:
                state.fail(exc)
            event = self._handle(type_byte, msg)
            if event is not None:
                return event

    def _kind(self, type_byte: int, msg: BackendMessage) -> Kind:
        if type_byte == _R:
            if isinstance(msg, AuthenticationOk):
                return Kind.AUTH_OK
            if isinstance(msg, AuthenticationSASLFinal):
                return Kind.AUTH_FINAL
            if isinstance(msg, (AuthenticationSASLContinue, AuthenticationGSSContinue)):
                return Kind.AUTH_CONTINUE
            return Kind.AUTH_REQUEST
        if type_byte == _E:
            assert isinstance(msg, ErrorResponse)
            fields = msg.as_dict()
            severity = fields.get("V") or fields.get("S")
            if severity in ("FATAL", "PANIC"):
                return Kind.FATAL
            return Kind.ERROR
        kind = kind_of_type_byte(type_byte)
        assert kind is not None  # decode_backend accepted the type byte
        if kind is Kind.READY_FOR_QUERY and len(self._queue) > 1:
            return Kind.READY_FOR_QUERY_MORE
        return kind

    def _handle(self, type_byte: int, msg: BackendMessage) -> Event | None:
        state = self._state
        before = state.phase
        kind = self._kind(type_byte, msg)
        if (
            kind in (Kind.READY_FOR_QUERY, Kind.READY_FOR_QUERY_MORE)
            and before is Phase.BUSY
            and not self._queue
        ):
            state.fail(ProtocolError("cannot handle ReadyForQuery with no request in flight"))
        state.apply(kind)
        # Messages that concern the session, whatever the phase.
        if kind is Kind.PARAMETER_STATUS:
            assert isinstance(msg, ParameterStatus)
            self.parameters[msg.name] = msg.value
            return msg
        if kind is Kind.NOTICE or kind is Kind.NOTIFICATION:
            assert isinstance(msg, (NoticeResponse, NotificationResponse))
            return msg
        if before in (Phase.STARTUP, Phase.AUTHENTICATING, Phase.AUTHENTICATED):
            return self._handle_startup(kind, msg)
        if kind is Kind.FATAL:
            assert isinstance(msg, ErrorResponse)
            error = DatabaseError.from_fields(msg.as_dict())
            if self._queue:
                head = self._queue.popleft()
                if head.exclusive:
                    self._exclusive -= 1
                head.set_error(error)
                head.finish(None)
                self._events.append(RequestDone(head))
            self._end(error)
            return self._events.popleft()
        return self._handle_request(kind, msg)

    def _handle_startup(self, kind: Kind, msg: BackendMessage) -> Event | None:
        if kind in (Kind.AUTH_REQUEST, Kind.AUTH_CONTINUE, Kind.AUTH_FINAL):
            try:
                self._out += self._auth.handle(msg)
            except Exception:
                self._end(None)
                raise
            return None
        if kind is Kind.AUTH_OK:
            try:
                self._auth.check_complete()
            except Exception:
                self._end(None)
                raise
            return None
        if kind is Kind.BACKEND_KEY_DATA:
            assert isinstance(msg, BackendKeyData)
            self.process_id = msg.process_id
            self.backend_key = msg.secret_key
            return None
        if kind is Kind.NEGOTIATE_PROTOCOL_VERSION:
            assert isinstance(msg, NegotiateProtocolVersion)
            self.protocol_minor = msg.newest_minor
            return None
        if kind is Kind.READY_FOR_QUERY:
            assert isinstance(msg, ReadyForQuery)
            self.transaction_status_code = msg.status
            return Connected()
        if kind in (Kind.ERROR, Kind.FATAL):
            assert isinstance(msg, ErrorResponse)
            error = DatabaseError.from_fields(msg.as_dict())
            self._end(error)
            self._events.clear()
            raise error
        raise AssertionError(f"unhandled startup kind {kind}")  # pragma: no cover

    def _handle_request(self, kind: Kind, msg: BackendMessage) -> Event | None:
        req = self._queue[0]
        if kind is Kind.READY_FOR_QUERY or kind is Kind.READY_FOR_QUERY_MORE:
            assert isinstance(msg, ReadyForQuery)
            self.transaction_status_code = msg.status
            self._queue.popleft()
            if req.exclusive:
                self._exclusive -= 1
            req.finish(msg.status)
            return RequestDone(req)
        if kind is Kind.PARAMETER_DESCRIPTION:
            assert isinstance(msg, ParameterDescription)
            req.param_oids = msg.type_oids
        elif kind is Kind.ROW_DESCRIPTION:
            assert isinstance(msg, RowDescription)
            req.on_row_description(msg)
        elif kind is Kind.NO_DATA:
            req.on_no_data()
        elif kind is Kind.COMMAND_COMPLETE:
            assert isinstance(msg, CommandComplete)
            req.finish_statement(msg.tag)
        elif kind is Kind.EMPTY_QUERY:
            req.finish_statement(None, empty=True)
        elif kind is Kind.PORTAL_SUSPENDED:
            req.finish_statement(None, suspended=True)
        elif kind is Kind.ERROR:
            assert isinstance(msg, ErrorResponse)
            req.set_error(DatabaseError.from_fields(msg.as_dict()))
        elif kind is Kind.DATA_ROW:  # only reached outside BUSY's fast path
            raise AssertionError("DataRow outside BUSY")  # pragma: no cover
        elif kind is Kind.COPY_IN_RESPONSE:
            if req.copy_mode is CopyDirection.IN and not req.discard:
                req.copy_ready = True
                return CopyStarted(req)
            # This request did not ask for COPY FROM STDIN (or was abandoned): refuse it cleanly.
            if req.copy_mode is None:
                req.refused_copy = CopyDirection.IN
            fail = _COPY_FAIL
            if not req.simple:
                # The server ignores a Sync that reaches it during COPY FROM STDIN
                # (the request's own Sync is gone), and after the error it discards
                # messages until the next Sync: send one, or it waits forever.
                fail += fe.SYNC
            self.end_copy(fail)
        elif kind is Kind.COPY_OUT_RESPONSE or kind is Kind.COPY_BOTH_RESPONSE:
            req.copy_data = []
            if req.copy_mode is CopyDirection.OUT:
                req.copy_ready = True
                return CopyStarted(req)
            if kind is Kind.COPY_OUT_RESPONSE and req.copy_mode is None:
                # The data is drained and dropped (see COPY_DATA below).
                req.refused_copy = CopyDirection.OUT
        elif kind is Kind.COPY_DATA:
            assert isinstance(msg, CopyData)
            if req.copy_data is not None and not req.discard and req.copy_mode is CopyDirection.OUT:
                req.copy_data.append(msg.data)
                req.copy_bytes += len(msg.data)
        # ParseComplete, BindComplete, CloseComplete, CopyDone, FunctionCallResponse:
        # nothing to keep.
        return None

    # -- the end -----------------------------------------------------------------

    def _end(self, error: BaseException | None) -> ConnectionEnded:
        """End the session: every request in flight finishes, then ConnectionEnded."""
        if not self._ended:
            self._ended = True
            self.end_error = error
            closed = ConnectionClosed("the server closed the connection unexpectedly")
            closed.__cause__ = error
            while self._queue:
                req = self._queue.popleft()
                if req.exclusive:
                    self._exclusive -= 1
                req.set_error(closed)
                req.finish(None)
                self._events.append(RequestDone(req))
            if self._state.phase not in (Phase.CLOSED, Phase.BROKEN):
                self._state.apply(Kind.EOF)
        ended = ConnectionEnded(self.end_error)
        self._events.append(ended)
        return ended

    def _end_of_file(self) -> Event:
        if len(self._buf):
            error: BaseException | None = ProtocolError(
                "the connection ended in the middle of a message"
            )
        elif self._state.phase is Phase.CLOSED:
            error = None  # we sent Terminate
        else:
            error = ConnectionClosed("the server closed the connection")
        self._end(error)
        return self._events.popleft()

    def fail_all(self, error: BaseException) -> list[Request]:
        """The transport failed: finish every request with *error* and end the session."""
        failed = list(self._queue)
        for req in failed:
            req.set_error(error)
            req.finish(None)
        self._queue.clear()
        self._exclusive = 0
        if not self._ended:
            self._ended = True
            self.end_error = error
            if self._state.phase not in (Phase.CLOSED, Phase.BROKEN):
                self._state.apply(Kind.EOF)
        return failed
