"""The connection's phases and the one table of transitions between them.

Nothing outside this module assigns a phase: :class:`StateMachine.apply`
looks the (phase, kind) pair up in :data:`TRANSITIONS` and either moves to
the phase it gives or raises :class:`~pgany.ProtocolError` and poisons the
connection (every later :meth:`StateMachine.apply` fails at once).
"""

from __future__ import annotations

import enum

from pgany.errors import ConnectionClosed, InterfaceError, ProtocolError

__all__ = ["TRANSITIONS", "Kind", "Phase", "StateMachine", "kind_of_type_byte"]


class Phase(enum.Enum):
    """Where the connection is."""

    # Members are singletons: identity hashing is right, and C-fast (the
    # transition lookups hash a phase and a kind for every message).
    __hash__ = object.__hash__

    #: StartupMessage sent; waiting for the server's authentication request.
    STARTUP = "STARTUP"
    #: An authentication exchange is under way.
    AUTHENTICATING = "AUTHENTICATING"
    #: AuthenticationOk received; waiting for BackendKeyData, ParameterStatus, ReadyForQuery.
    AUTHENTICATED = "AUTHENTICATED"
    #: Ready, with no request in flight.
    IDLE = "IDLE"
    #: Requests are in flight; messages go to the oldest.
    BUSY = "BUSY"
    #: The oldest request is in COPY FROM STDIN: the client sends data.
    COPY_IN = "COPY_IN"
    #: The oldest request is in COPY TO STDOUT: the server sends data.
    COPY_OUT = "COPY_OUT"
    #: COPY in both directions (replication); pgany does not drive it.
    COPY_BOTH = "COPY_BOTH"
    #: Terminated by the client, or the server went away.
    CLOSED = "CLOSED"
    #: The server broke the protocol; nothing more can be done on this connection.
    BROKEN = "BROKEN"


class Kind(enum.Enum):
    """What happened: a backend message arrived, or the client did something."""

    __hash__ = object.__hash__

    #: AuthenticationOk.
    AUTH_OK = "AuthenticationOk"
    #: A request for credentials: cleartext, MD5, SASL, GSS, SSPI, Kerberos.
    AUTH_REQUEST = "AuthenticationRequest"
    #: AuthenticationSASLContinue or AuthenticationGSSContinue.
    AUTH_CONTINUE = "AuthenticationContinue"
    #: AuthenticationSASLFinal.
    AUTH_FINAL = "AuthenticationSASLFinal"
    #: BackendKeyData.
    BACKEND_KEY_DATA = "BackendKeyData"
    #: BindComplete.
    BIND_COMPLETE = "BindComplete"
    #: CloseComplete.
    CLOSE_COMPLETE = "CloseComplete"
    #: CommandComplete.
    COMMAND_COMPLETE = "CommandComplete"
    #: CopyData from the server.
    COPY_DATA = "CopyData"
    #: CopyDone from the server.
    COPY_DONE = "CopyDone"
    #: CopyInResponse.
    COPY_IN_RESPONSE = "CopyInResponse"
    #: CopyOutResponse.
    COPY_OUT_RESPONSE = "CopyOutResponse"
    #: CopyBothResponse.
    COPY_BOTH_RESPONSE = "CopyBothResponse"
    #: DataRow.
    DATA_ROW = "DataRow"
    #: EmptyQueryResponse.
    EMPTY_QUERY = "EmptyQueryResponse"
    #: ErrorResponse.
    ERROR = "ErrorResponse"
    #: ErrorResponse with severity FATAL or PANIC: the server closes the connection.
    FATAL = "ErrorResponse(FATAL)"
    #: FunctionCallResponse.
    FUNCTION_CALL_RESPONSE = "FunctionCallResponse"
    #: NegotiateProtocolVersion.
    NEGOTIATE_PROTOCOL_VERSION = "NegotiateProtocolVersion"
    #: NoData.
    NO_DATA = "NoData"
    #: NoticeResponse.
    NOTICE = "NoticeResponse"
    #: NotificationResponse.
    NOTIFICATION = "NotificationResponse"
    #: ParameterDescription.
    PARAMETER_DESCRIPTION = "ParameterDescription"
    #: ParameterStatus.
    PARAMETER_STATUS = "ParameterStatus"
    #: ParseComplete.
    PARSE_COMPLETE = "ParseComplete"
    #: PortalSuspended.
    PORTAL_SUSPENDED = "PortalSuspended"
    #: ReadyForQuery, and no request is left in flight.
    READY_FOR_QUERY = "ReadyForQuery"
    #: ReadyForQuery, and more requests are in flight behind the finished one.
    READY_FOR_QUERY_MORE = "ReadyForQuery(more queued)"
    #: RowDescription.
    ROW_DESCRIPTION = "RowDescription"
    #: The client queued a request.
    REQUEST = "request"
    #: The client ended COPY FROM STDIN (CopyDone or CopyFail).
    COPY_END = "end of COPY data"
    #: The client sent Terminate.
    TERMINATE = "Terminate"
    #: The connection reached end of file.
    EOF = "end of file"


_SIMPLE_KINDS = {
    ord("K"): Kind.BACKEND_KEY_DATA,
    ord("2"): Kind.BIND_COMPLETE,
    ord("3"): Kind.CLOSE_COMPLETE,
    ord("C"): Kind.COMMAND_COMPLETE,
    ord("d"): Kind.COPY_DATA,
    ord("c"): Kind.COPY_DONE,
    ord("G"): Kind.COPY_IN_RESPONSE,
    ord("H"): Kind.COPY_OUT_RESPONSE,
    ord("W"): Kind.COPY_BOTH_RESPONSE,
    ord("D"): Kind.DATA_ROW,
    ord("I"): Kind.EMPTY_QUERY,
    ord("E"): Kind.ERROR,
    ord("V"): Kind.FUNCTION_CALL_RESPONSE,
    ord("v"): Kind.NEGOTIATE_PROTOCOL_VERSION,
    ord("n"): Kind.NO_DATA,
    ord("N"): Kind.NOTICE,
    ord("A"): Kind.NOTIFICATION,
    ord("t"): Kind.PARAMETER_DESCRIPTION,
    ord("S"): Kind.PARAMETER_STATUS,
    ord("1"): Kind.PARSE_COMPLETE,
    ord("s"): Kind.PORTAL_SUSPENDED,
    ord("Z"): Kind.READY_FOR_QUERY,
    ord("T"): Kind.ROW_DESCRIPTION,
}


def kind_of_type_byte(type_byte: int) -> Kind | None:
    """The kind of a backend message type (Authentication and ErrorResponse are refined later)."""
    return _SIMPLE_KINDS.get(type_byte)


def _build() -> dict[tuple[Phase, Kind], Phase]:
    P, K = Phase, Kind
    t: dict[tuple[Phase, Kind], Phase] = {
        # startup and authentication
        (P.STARTUP, K.AUTH_REQUEST): P.AUTHENTICATING,
        (P.STARTUP, K.AUTH_OK): P.AUTHENTICATED,
        (P.STARTUP, K.NEGOTIATE_PROTOCOL_VERSION): P.STARTUP,
        (P.AUTHENTICATING, K.AUTH_REQUEST): P.AUTHENTICATING,
        (P.AUTHENTICATING, K.AUTH_CONTINUE): P.AUTHENTICATING,
        (P.AUTHENTICATING, K.AUTH_FINAL): P.AUTHENTICATING,
        (P.AUTHENTICATING, K.AUTH_OK): P.AUTHENTICATED,
        (P.AUTHENTICATED, K.BACKEND_KEY_DATA): P.AUTHENTICATED,
        (P.AUTHENTICATED, K.READY_FOR_QUERY): P.IDLE,
        # requests
        (P.IDLE, K.REQUEST): P.BUSY,
        (P.BUSY, K.REQUEST): P.BUSY,
        (P.BUSY, K.READY_FOR_QUERY): P.IDLE,
        (P.BUSY, K.READY_FOR_QUERY_MORE): P.BUSY,
        (P.BUSY, K.COPY_IN_RESPONSE): P.COPY_IN,
        (P.BUSY, K.COPY_OUT_RESPONSE): P.COPY_OUT,
        (P.BUSY, K.COPY_BOTH_RESPONSE): P.COPY_BOTH,
        # COPY
        (P.COPY_IN, K.REQUEST): P.COPY_IN,
        (P.COPY_IN, K.COPY_END): P.BUSY,
        (P.COPY_IN, K.ERROR): P.BUSY,
        (P.COPY_OUT, K.REQUEST): P.COPY_OUT,
        (P.COPY_OUT, K.COPY_DATA): P.COPY_OUT,
        (P.COPY_OUT, K.COPY_DONE): P.BUSY,
        (P.COPY_OUT, K.ERROR): P.BUSY,
        (P.COPY_BOTH, K.REQUEST): P.COPY_BOTH,
        (P.COPY_BOTH, K.COPY_DATA): P.COPY_BOTH,
        (P.COPY_BOTH, K.COPY_DONE): P.BUSY,
        (P.COPY_BOTH, K.COPY_END): P.BUSY,
        (P.COPY_BOTH, K.ERROR): P.BUSY,
    }
    for kind in (
        K.PARSE_COMPLETE,
        K.BIND_COMPLETE,
        K.CLOSE_COMPLETE,
        K.PARAMETER_DESCRIPTION,
        K.ROW_DESCRIPTION,
        K.NO_DATA,
        K.DATA_ROW,
        K.COMMAND_COMPLETE,
        K.EMPTY_QUERY,
        K.PORTAL_SUSPENDED,
        K.ERROR,
        K.FUNCTION_CALL_RESPONSE,
    ):
        t[(P.BUSY, kind)] = P.BUSY
    # Messages the server may send at any time once the session exists.
    live = (P.AUTHENTICATED, P.IDLE, P.BUSY, P.COPY_IN, P.COPY_OUT, P.COPY_BOTH)
    for phase in live:
        for kind in (K.NOTICE, K.NOTIFICATION, K.PARAMETER_STATUS):
            t[(phase, kind)] = phase
    for phase in (P.STARTUP, P.AUTHENTICATING):
        t[(phase, K.NOTICE)] = phase
    # A startup failure, a FATAL error, Terminate and EOF end the session.
    for phase in (P.STARTUP, P.AUTHENTICATING, P.AUTHENTICATED):
        t[(phase, K.ERROR)] = P.CLOSED
    for phase in (P.STARTUP, P.AUTHENTICATING, *live):
        t[(phase, K.FATAL)] = P.CLOSED
        t[(phase, K.TERMINATE)] = P.CLOSED
        t[(phase, K.EOF)] = P.CLOSED
    t[(P.CLOSED, K.EOF)] = P.CLOSED
    t[(P.CLOSED, K.TERMINATE)] = P.CLOSED
    return t


#: Every legal transition: (phase, kind) -> next phase.
TRANSITIONS: dict[tuple[Phase, Kind], Phase] = _build()

#: Client-side kinds: refusing them raises InterfaceError, not ProtocolError.
CLIENT_KINDS = frozenset({Kind.REQUEST, Kind.COPY_END, Kind.TERMINATE})


class StateMachine:
    """Holds the phase and moves it only along :data:`TRANSITIONS`."""

    __slots__ = ("_broken_by", "phase")

    def __init__(self) -> None:
        #: The current phase.
        self.phase = Phase.STARTUP
        self._broken_by: ProtocolError | None = None

    def apply(self, kind: Kind) -> Phase:
        """Move along the transition for *kind*, or raise.

        A server message with no transition raises :class:`~pgany.ProtocolError`
        and poisons the machine. A client action with no transition raises
        :class:`~pgany.InterfaceError` (or :class:`~pgany.ConnectionClosed`)
        and changes nothing.
        """
        phase = self.phase
        nxt = TRANSITIONS.get((phase, kind))
        if nxt is not None:
            self.phase = nxt
            return nxt
        if kind in CLIENT_KINDS:
            if phase is Phase.CLOSED:
                raise ConnectionClosed("the connection is closed")
            if phase is Phase.BROKEN:
                raise ConnectionClosed("the connection is broken") from self._broken_by
            raise InterfaceError(f"cannot send {kind.value} in {phase.name}")
        if phase is Phase.BROKEN and self._broken_by is not None:
            raise ProtocolError(str(self._broken_by)) from self._broken_by
        return self.fail(ProtocolError(f"cannot handle {kind.value} in {phase.name}"))

    def fail(self, error: ProtocolError) -> Phase:
        """Poison the machine with *error* and raise it."""
        self.phase = Phase.BROKEN
        self._broken_by = error
        raise error
