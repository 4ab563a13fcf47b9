"""Backend messages of protocol 3.0: one frozen, slotted dataclass each.

``decode_backend(type_byte, body)`` turns one framed message into its
dataclass, using a table keyed by the type byte; ``encode_backend(msg)`` does
the reverse (used by tests and by the scripted fake server).
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeAlias

from pgany.errors import ProtocolError

__all__ = [
    "AuthenticationCleartextPassword",
    "AuthenticationGSS",
    "AuthenticationGSSContinue",
    "AuthenticationKerberosV5",
    "AuthenticationMD5Password",
    "AuthenticationOk",
    "AuthenticationSASL",
    "AuthenticationSASLContinue",
    "AuthenticationSASLFinal",
    "AuthenticationSSPI",
    "BackendKeyData",
    "BackendMessage",
    "BindComplete",
    "CloseComplete",
    "CommandComplete",
    "CopyBothResponse",
    "CopyData",
    "CopyDone",
    "CopyInResponse",
    "CopyOutResponse",
    "DataRow",
    "EmptyQueryResponse",
    "ErrorResponse",
    "FieldDescription",
    "FunctionCallResponse",
    "NegotiateProtocolVersion",
    "NoData",
    "NoticeResponse",
    "NotificationResponse",
    "ParameterDescription",
    "ParameterStatus",
    "ParseComplete",
    "PortalSuspended",
    "ReadyForQuery",
    "RowDescription",
    "decode_backend",
    "encode_backend",
]

_I16 = struct.Struct("!h")
_I32 = struct.Struct("!i")
_U32 = struct.Struct("!I")
_HEADER = struct.Struct("!cI")


# -- Authentication ('R') ---------------------------------------------------


@dataclass(frozen=True, slots=True)
class AuthenticationOk:
    """Authentication succeeded."""


@dataclass(frozen=True, slots=True)
class AuthenticationKerberosV5:
    """The server asks for Kerberos V5 (unsupported by PostgreSQL since 9.4)."""


@dataclass(frozen=True, slots=True)
class AuthenticationCleartextPassword:
    """The server asks for the password in clear text."""


@dataclass(frozen=True, slots=True)
class AuthenticationMD5Password:
    """The server asks for an MD5-hashed password, salted with :attr:`salt`."""

    salt: bytes


@dataclass(frozen=True, slots=True)
class AuthenticationGSS:
    """The server asks for GSSAPI authentication."""


@dataclass(frozen=True, slots=True)
class AuthenticationGSSContinue:
    """GSSAPI or SSPI authentication data."""

    data: bytes


@dataclass(frozen=True, slots=True)
class AuthenticationSSPI:
    """The server asks for SSPI authentication."""


@dataclass(frozen=True, slots=True)
class AuthenticationSASL:
    """The server asks for SASL, offering :attr:`mechanisms` in order of preference."""

    mechanisms: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class AuthenticationSASLContinue:
    """A SASL challenge."""

    data: bytes


@dataclass(frozen=True, slots=True)
class AuthenticationSASLFinal:
    """The SASL outcome ("additional data with success")."""

    data: bytes


# -- Everything else --------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BackendKeyData:
    """The process ID and secret key a CancelRequest needs."""

    process_id: int
    secret_key: bytes


@dataclass(frozen=True, slots=True)
class BindComplete:
    """A Bind succeeded."""


@dataclass(frozen=True, slots=True)
class CloseComplete:
    """A Close succeeded."""


@dataclass(frozen=True, slots=True)
class CommandComplete:
    """A command finished; :attr:`tag` is its command tag (``"INSERT 0 1"``)."""

    tag: str


@dataclass(frozen=True, slots=True)
class CopyData:
    """A chunk of COPY data."""

    data: bytes


@dataclass(frozen=True, slots=True)
class CopyDone:
    """The end of COPY data."""


@dataclass(frozen=True, slots=True)
class CopyInResponse:
    """The server is ready to receive COPY data."""

    format: int
    column_formats: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class CopyOutResponse:
    """The server is about to send COPY data."""

    format: int
    column_formats: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class CopyBothResponse:
    """Both directions of COPY (streaming replication)."""

    format: int
    column_formats: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class DataRow:
    """One result row: each value's raw bytes, ``None`` for NULL."""

    values: tuple[bytes | None, ...]


@dataclass(frozen=True, slots=True)
class EmptyQueryResponse:
    """The query string was empty."""


@dataclass(frozen=True, slots=True)
class ErrorResponse:
    """An error, as (field code, value) pairs (``"C"`` is the SQLSTATE, ``"M"`` the message)."""

    fields: tuple[tuple[str, str], ...]

    def as_dict(self) -> dict[str, str]:
        """The fields keyed by their one-letter code."""
        return dict(self.fields)


@dataclass(frozen=True, slots=True)
class NoticeResponse:
    """A notice (a warning or informational message), fields as in :class:`ErrorResponse`."""

    fields: tuple[tuple[str, str], ...]

    def as_dict(self) -> dict[str, str]:
        """The fields keyed by their one-letter code."""
        return dict(self.fields)


@dataclass(frozen=True, slots=True)
class FunctionCallResponse:
    """The result of a FunctionCall (``None`` for NULL)."""

    value: bytes | None


@dataclass(frozen=True, slots=True)
class NegotiateProtocolVersion:
    """The server supports an older minor version, or not all requested options."""

    newest_minor: int
    unrecognized: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class NoData:
    """The statement or portal described returns no rows."""


@dataclass(frozen=True, slots=True)
class NotificationResponse:
    """A NOTIFY delivered to this session."""

    process_id: int
    channel: str
    payload: str


@dataclass(frozen=True, slots=True)
class ParameterDescription:
    """The parameter type OIDs of a prepared statement."""

    type_oids: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class ParameterStatus:
    """The current value of a server parameter (``server_version``, ``TimeZone``...)."""

    name: str
    value: str


@dataclass(frozen=True, slots=True)
class ParseComplete:
    """A Parse succeeded."""


@dataclass(frozen=True, slots=True)
class PortalSuspended:
    """An Execute reached its row limit before the portal was exhausted."""


@dataclass(frozen=True, slots=True)
class ReadyForQuery:
    """The server is ready; :attr:`status` is ``"I"`` (idle), ``"T"`` (in a
    transaction) or ``"E"`` (in a failed transaction)."""

    status: str


@dataclass(frozen=True, slots=True)
class FieldDescription:
    """One column of a :class:`RowDescription`."""

    name: str
    table_oid: int
    column_id: int
    type_oid: int
    type_size: int
    type_modifier: int
    format: int


@dataclass(frozen=True, slots=True)
class RowDescription:
    """The columns of the rows that follow."""

    fields: tuple[FieldDescription, ...]


BackendMessage: TypeAlias = (
    AuthenticationOk
    | AuthenticationKerberosV5
    | AuthenticationCleartextPassword
    | AuthenticationMD5Password
    | AuthenticationGSS
    | AuthenticationGSSContinue
    | AuthenticationSSPI
    | AuthenticationSASL
    | AuthenticationSASLContinue
    | AuthenticationSASLFinal
    | BackendKeyData
    | BindComplete
    | CloseComplete
    | CommandComplete
    | CopyData
    | CopyDone
    | CopyInResponse
    | CopyOutResponse
    | CopyBothResponse
    | DataRow
    | EmptyQueryResponse
    | ErrorResponse
    | FunctionCallResponse
    | NegotiateProtocolVersion
    | NoData
    | NoticeResponse
    | NotificationResponse
    | ParameterDescription
    | ParameterStatus
    | ParseComplete
    | PortalSuspended
    | ReadyForQuery
    | RowDescription
)


# -- Decoding ---------------------------------------------------------------


class _Reader:
    """Reads fields from one message body, raising ProtocolError on truncation."""

    __slots__ = ("data", "name", "pos")

    def __init__(self, name: str, data: bytes) -> None:
        self.name = name
        self.data = data
        self.pos = 0

    def _need(self, n: int) -> int:
        pos = self.pos
        if n < 0 or pos + n > len(self.data):
            raise ProtocolError(f"{self.name} message is truncated")
        self.pos = pos + n
        return pos

    def int16(self) -> int:
        return int(_I16.unpack_from(self.data, self._need(2))[0])

    def int32(self) -> int:
        return int(_I32.unpack_from(self.data, self._need(4))[0])

    def uint32(self) -> int:
        return int(_U32.unpack_from(self.data, self._need(4))[0])

    def byte(self) -> int:
        return self.data[self._need(1)]

    def raw(self, n: int) -> bytes:
        pos = self._need(n)
        return self.data[pos : pos + n]

    def rest(self) -> bytes:
        pos = self.pos
        self.pos = len(self.data)
        return self.data[pos:]

    def cstring(self) -> str:
        end = self.data.find(b"\0", self.pos)
        if end < 0:
            raise ProtocolError(f"{self.name} message has an unterminated string")
        raw = self.data[self.pos : end]
        self.pos = end + 1
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ProtocolError(f"{self.name} message has a string that is not UTF-8") from exc

    def done(self) -> None:
        if self.pos != len(self.data):
            raise ProtocolError(f"{self.name} message has {len(self.data) - self.pos} extra bytes")


def _empty(cls: type[Any]) -> Callable[[_Reader], Any]:
    def decode(r: _Reader) -> Any:
        r.done()
        return cls()

    return decode


def _decode_auth(r: _Reader) -> BackendMessage:
    code = r.int32()
    msg: BackendMessage
    if code == 0:
        msg = AuthenticationOk()
    elif code == 2:
        msg = AuthenticationKerberosV5()
    elif code == 3:
        msg = AuthenticationCleartextPassword()
    elif code == 5:
        msg = AuthenticationMD5Password(r.raw(4))
    elif code == 7:
        msg = AuthenticationGSS()
    elif code == 8:
        msg = AuthenticationGSSContinue(r.rest())
    elif code == 9:
        msg = AuthenticationSSPI()
    elif code == 10:
        mechanisms = []
        while True:
            name = r.cstring()
            if not name:
                break
            mechanisms.append(name)
        msg = AuthenticationSASL(tuple(mechanisms))
    elif code == 11:
        msg = AuthenticationSASLContinue(r.rest())
    elif code == 12:
        msg = AuthenticationSASLFinal(r.rest())
    else:
        raise ProtocolError(f"unknown authentication request code {code}")
    r.done()
    return msg


def _decode_fields(r: _Reader) -> tuple[tuple[str, str], ...]:
    fields = []
    while True:
        code = r.byte()
        if code == 0:
            break
        fields.append((chr(code), r.cstring()))
    r.done()
    return tuple(fields)


def _decode_copy_response(cls: type[Any]) -> Callable[[_Reader], Any]:
    def decode(r: _Reader) -> Any:
        fmt = r.byte()
        n = r.int16()
        if n < 0:
            raise ProtocolError(f"{r.name} message has a negative column count")
        formats = tuple(r.int16() for _ in range(n))
        r.done()
        return cls(fmt, formats)

    return decode


def _decode_data_row(r: _Reader) -> DataRow:
    n = r.int16()
    if n < 0:
        raise ProtocolError("DataRow message has a negative column count")
    values: list[bytes | None] = []
    for _ in range(n):
        length = r.int32()
        values.append(None if length == -1 else r.raw(length))
    r.done()
    return DataRow(tuple(values))


def _decode_function_call_response(r: _Reader) -> FunctionCallResponse:
    length = r.int32()
    value = None if length == -1 else r.raw(length)
    r.done()
    return FunctionCallResponse(value)


def _decode_negotiate(r: _Reader) -> NegotiateProtocolVersion:
    minor = r.int32()
    n = r.int32()
    if n < 0:
        raise ProtocolError("NegotiateProtocolVersion message has a negative option count")
    names = tuple(r.cstring() for _ in range(n))
    r.done()
    return NegotiateProtocolVersion(minor, names)


def _decode_notification(r: _Reader) -> NotificationResponse:
    pid = r.int32()
    channel = r.cstring()
    payload = r.cstring()
    r.done()
    return NotificationResponse(pid, channel, payload)


def _decode_parameter_description(r: _Reader) -> ParameterDescription:
    n = r.int16()
    if n < 0:
        raise ProtocolError("ParameterDescription message has a negative parameter count")
    oids = tuple(r.uint32() for _ in range(n))
    r.done()
    return ParameterDescription(oids)


def _decode_parameter_status(r: _Reader) -> ParameterStatus:
    name = r.cstring()
    value = r.cstring()
    r.done()
    return ParameterStatus(name, value)


def _decode_ready(r: _Reader) -> ReadyForQuery:
    status = chr(r.byte())
    r.done()
    if status not in "ITE":
        raise ProtocolError(f"ReadyForQuery message has an unknown status {status!r}")
    return ReadyForQuery(status)


def _decode_row_description(r: _Reader) -> RowDescription:
    n = r.int16()
    if n < 0:
        raise ProtocolError("RowDescription message has a negative column count")
    fields = []
    for _ in range(n):
        name = r.cstring()
        fields.append(
            FieldDescription(
                name, r.uint32(), r.int16(), r.uint32(), r.int16(), r.int32(), r.int16()
            )
        )
    r.done()
    return RowDescription(tuple(fields))


def _decode_backend_key(r: _Reader) -> BackendKeyData:
    pid = r.int32()
    key = r.rest()
    if not 4 <= len(key) <= 256:
        raise ProtocolError(f"BackendKeyData message has a {len(key)}-byte key")
    return BackendKeyData(pid, key)


def _decode_command_complete(r: _Reader) -> CommandComplete:
    tag = r.cstring()
    r.done()
    return CommandComplete(tag)


def _decode_copy_data(r: _Reader) -> CopyData:
    return CopyData(r.rest())


_DECODERS: dict[int, tuple[str, Callable[[_Reader], Any]]] = {
    ord("R"): ("Authentication", _decode_auth),
    ord("K"): ("BackendKeyData", _decode_backend_key),
    ord("2"): ("BindComplete", _empty(BindComplete)),
    ord("3"): ("CloseComplete", _empty(CloseComplete)),
    ord("C"): ("CommandComplete", _decode_command_complete),
    ord("d"): ("CopyData", _decode_copy_data),
    ord("c"): ("CopyDone", _empty(CopyDone)),
    ord("G"): ("CopyInResponse", _decode_copy_response(CopyInResponse)),
    ord("H"): ("CopyOutResponse", _decode_copy_response(CopyOutResponse)),
    ord("W"): ("CopyBothResponse", _decode_copy_response(CopyBothResponse)),
    ord("D"): ("DataRow", _decode_data_row),
    ord("I"): ("EmptyQueryResponse", _empty(EmptyQueryResponse)),
    ord("E"): ("ErrorResponse", lambda r: ErrorResponse(_decode_fields(r))),
    ord("V"): ("FunctionCallResponse", _decode_function_call_response),
    ord("v"): ("NegotiateProtocolVersion", _decode_negotiate),
    ord("n"): ("NoData", _empty(NoData)),
    ord("N"): ("NoticeResponse", lambda r: NoticeResponse(_decode_fields(r))),
    ord("A"): ("NotificationResponse", _decode_notification),
    ord("t"): ("ParameterDescription", _decode_parameter_description),
    ord("S"): ("ParameterStatus", _decode_parameter_status),
    ord("1"): ("ParseComplete", _empty(ParseComplete)),
    ord("s"): ("PortalSuspended", _empty(PortalSuspended)),
    ord("Z"): ("ReadyForQuery", _decode_ready),
    ord("T"): ("RowDescription", _decode_row_description),
}


def decode_backend(type_byte: int, body: bytes | bytearray | memoryview) -> BackendMessage:
    """Decode one backend message given its type byte and its body (without the header).

    Raises :class:`~pgany.ProtocolError` for an unknown type or a malformed body.
    """
    entry = _DECODERS.get(type_byte)
    if entry is None:
        raise ProtocolError(f"unknown backend message type {chr(type_byte)!r}")
    name, decoder = entry
    result: BackendMessage = decoder(_Reader(name, bytes(body)))
    return result


# -- Encoding (tests and the fake server) -----------------------------------


def _frame(type_byte: bytes, body: bytes) -> bytes:
    return _HEADER.pack(type_byte, len(body) + 4) + body


def _cstr(s: str) -> bytes:
    return s.encode("utf-8") + b"\0"


def _fields(fields: tuple[tuple[str, str], ...]) -> bytes:
    return b"".join(code.encode("ascii") + _cstr(value) for code, value in fields) + b"\0"


def _copy_response(msg: CopyInResponse | CopyOutResponse | CopyBothResponse) -> bytes:
    return (
        bytes([msg.format])
        + _I16.pack(len(msg.column_formats))
        + b"".join(_I16.pack(f) for f in msg.column_formats)
    )


def _value(value: bytes | None) -> bytes:
    return _I32.pack(-1) if value is None else _I32.pack(len(value)) + value


_AUTH_CODES: dict[type[Any], int] = {
    AuthenticationOk: 0,
    AuthenticationKerberosV5: 2,
    AuthenticationCleartextPassword: 3,
    AuthenticationMD5Password: 5,
    AuthenticationGSS: 7,
    AuthenticationGSSContinue: 8,
    AuthenticationSSPI: 9,
    AuthenticationSASL: 10,
    AuthenticationSASLContinue: 11,
    AuthenticationSASLFinal: 12,
}


def _encode_auth(msg: Any) -> bytes:
    body = _I32.pack(_AUTH_CODES[type(msg)])
    if isinstance(msg, AuthenticationMD5Password):
        body += msg.salt
    elif isinstance(
        msg, (AuthenticationGSSContinue, AuthenticationSASLContinue, AuthenticationSASLFinal)
    ):
        body += msg.data
    elif isinstance(msg, AuthenticationSASL):
        body += b"".join(_cstr(m) for m in msg.mechanisms) + b"\0"
    return body


def _encode_row_description(msg: RowDescription) -> bytes:
    parts = [_I16.pack(len(msg.fields))]
    for f in msg.fields:
        parts.append(_cstr(f.name))
        parts.append(
            struct.pack(
                "!IhIhih",
                f.table_oid,
                f.column_id,
                f.type_oid,
                f.type_size,
                f.type_modifier,
                f.format,
            )
        )
    return b"".join(parts)


_ENCODERS: dict[type[Any], tuple[bytes, Callable[[Any], bytes]]] = {
    **{cls: (b"R", _encode_auth) for cls in _AUTH_CODES},
    BackendKeyData: (b"K", lambda m: _I32.pack(m.process_id) + m.secret_key),
    BindComplete: (b"2", lambda m: b""),
    CloseComplete: (b"3", lambda m: b""),
    CommandComplete: (b"C", lambda m: _cstr(m.tag)),
    CopyData: (b"d", lambda m: m.data),
    CopyDone: (b"c", lambda m: b""),
    CopyInResponse: (b"G", _copy_response),
    CopyOutResponse: (b"H", _copy_response),
    CopyBothResponse: (b"W", _copy_response),
    DataRow: (b"D", lambda m: _I16.pack(len(m.values)) + b"".join(_value(v) for v in m.values)),
    EmptyQueryResponse: (b"I", lambda m: b""),
    ErrorResponse: (b"E", lambda m: _fields(m.fields)),
    FunctionCallResponse: (b"V", lambda m: _value(m.value)),
    NegotiateProtocolVersion: (
        b"v",
        lambda m: (
            _I32.pack(m.newest_minor)
            + _I32.pack(len(m.unrecognized))
            + b"".join(_cstr(n) for n in m.unrecognized)
        ),
    ),
    NoData: (b"n", lambda m: b""),
    NoticeResponse: (b"N", lambda m: _fields(m.fields)),
    NotificationResponse: (
        b"A",
        lambda m: _I32.pack(m.process_id) + _cstr(m.channel) + _cstr(m.payload),
    ),
    ParameterDescription: (
        b"t",
        lambda m: _I16.pack(len(m.type_oids)) + b"".join(_U32.pack(o) for o in m.type_oids),
    ),
    ParameterStatus: (b"S", lambda m: _cstr(m.name) + _cstr(m.value)),
    ParseComplete: (b"1", lambda m: b""),
    PortalSuspended: (b"s", lambda m: b""),
    ReadyForQuery: (b"Z", lambda m: m.status.encode("ascii")),
    RowDescription: (b"T", _encode_row_description),
}


def encode_backend(msg: BackendMessage) -> bytes:
    """The exact bytes a server sends for *msg* (header included)."""
    type_byte, encoder = _ENCODERS[type(msg)]
    return _frame(type_byte, encoder(msg))
