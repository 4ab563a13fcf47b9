"""Frontend messages: one frozen, slotted dataclass each, with exact encoders.

The client's hot paths call the ``encode_*`` functions directly; the
dataclasses and :func:`decode_frontend` exist for tests and the scripted fake
server, which must read what the client wrote.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeAlias

from pgany.errors import InterfaceError, ProtocolError

__all__ = [
    "PROTOCOL_VERSION",
    "Bind",
    "CancelRequest",
    "Close",
    "CopyDataF",
    "CopyDoneF",
    "CopyFail",
    "Describe",
    "Execute",
    "Flush",
    "FrontendMessage",
    "FunctionCall",
    "GSSENCRequest",
    "Parse",
    "PasswordMessage",
    "Query",
    "SASLInitialResponse",
    "SASLResponse",
    "SSLRequest",
    "StartupMessage",
    "Sync",
    "Terminate",
    "decode_frontend",
    "decode_startup",
    "encode_bind",
    "encode_frontend",
]

#: Protocol 3.0, as sent in StartupMessage.
PROTOCOL_VERSION = 196608
SSL_REQUEST_CODE = 80877103
GSSENC_REQUEST_CODE = 80877104
CANCEL_REQUEST_CODE = 80877102

_I16 = struct.Struct("!h")
_I32 = struct.Struct("!i")
_U32 = struct.Struct("!I")
_HEADER = struct.Struct("!cI")

SYNC = b"S\x00\x00\x00\x04"
FLUSH = b"H\x00\x00\x00\x04"
TERMINATE = b"X\x00\x00\x00\x04"
COPY_DONE = b"c\x00\x00\x00\x04"


@dataclass(frozen=True, slots=True)
class StartupMessage:
    """Opens a session: protocol version and parameters (``user``, ``database``...)."""

    parameters: Mapping[str, str]
    protocol_version: int = PROTOCOL_VERSION


@dataclass(frozen=True, slots=True)
class SSLRequest:
    """Asks the server to switch to TLS; it answers one byte, ``S`` or ``N``."""


@dataclass(frozen=True, slots=True)
class GSSENCRequest:
    """Asks the server to switch to GSSAPI encryption; it answers ``G`` or ``N``."""


@dataclass(frozen=True, slots=True)
class CancelRequest:
    """Sent on a new connection to cancel the query running in another session."""

    process_id: int
    secret_key: bytes


@dataclass(frozen=True, slots=True)
class PasswordMessage:
    """A password (cleartext or MD5-hashed), NUL-terminated on the wire."""

    password: bytes

    def __repr__(self) -> str:
        return "PasswordMessage(password=<hidden>)"


@dataclass(frozen=True, slots=True)
class SASLInitialResponse:
    """The chosen SASL mechanism and its first message."""

    mechanism: str
    data: bytes | None


@dataclass(frozen=True, slots=True)
class SASLResponse:
    """A SASL message after the first."""

    data: bytes


@dataclass(frozen=True, slots=True)
class Query:
    """A simple-protocol query (one or more statements)."""

    sql: str


@dataclass(frozen=True, slots=True)
class Parse:
    """Prepares *sql* as statement *name* (``""`` is the unnamed statement)."""

    name: str
    sql: str
    param_oids: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class Bind:
    """Binds parameter values to a statement, making a portal."""

    portal: str
    statement: str
    param_formats: tuple[int, ...]
    params: tuple[bytes | None, ...]
    result_formats: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class Describe:
    """Asks for the description of a statement (``kind="S"``) or portal (``"P"``)."""

    kind: str
    name: str


@dataclass(frozen=True, slots=True)
class Execute:
    """Runs a portal, returning at most *max_rows* rows (0 = all)."""

    portal: str
    max_rows: int = 0


@dataclass(frozen=True, slots=True)
class Sync:
    """Ends an extended-protocol unit; the server answers ReadyForQuery."""


@dataclass(frozen=True, slots=True)
class Flush:
    """Asks the server to send what it has buffered."""


@dataclass(frozen=True, slots=True)
class Close:
    """Closes a statement (``kind="S"``) or portal (``"P"``)."""

    kind: str
    name: str


@dataclass(frozen=True, slots=True)
class CopyDataF:
    """COPY data sent by the client."""

    data: bytes


@dataclass(frozen=True, slots=True)
class CopyDoneF:
    """The client finished sending COPY data."""


@dataclass(frozen=True, slots=True)
class CopyFail:
    """The client aborts COPY FROM STDIN with a message."""

    message: str


@dataclass(frozen=True, slots=True)
class FunctionCall:
    """Calls a function by OID (the legacy fast-path interface)."""

    function_oid: int
    arg_formats: tuple[int, ...]
    args: tuple[bytes | None, ...]
    result_format: int


@dataclass(frozen=True, slots=True)
class Terminate:
    """Ends the session."""


FrontendMessage: TypeAlias = (
    StartupMessage
    | SSLRequest
    | GSSENCRequest
    | CancelRequest
    | PasswordMessage
    | SASLInitialResponse
    | SASLResponse
    | Query
    | Parse
    | Bind
    | Describe
    | Execute
    | Sync
    | Flush
    | Close
    | CopyDataF
    | CopyDoneF
    | CopyFail
    | FunctionCall
    | Terminate
)


# -- Encoding ---------------------------------------------------------------


def _cstr(s: str) -> bytes:
    b = s.encode("utf-8")
    if b"\0" in b:
        raise InterfaceError("strings sent to the server cannot contain NUL characters")
    return b + b"\0"


def _frame(type_byte: bytes, body: bytes) -> bytes:
    return _HEADER.pack(type_byte, len(body) + 4) + body


def encode_startup(parameters: Mapping[str, str], version: int = PROTOCOL_VERSION) -> bytes:
    body = _I32.pack(version) + b"".join(_cstr(k) + _cstr(v) for k, v in parameters.items()) + b"\0"
    return _I32.pack(len(body) + 4) + body


def encode_cancel_request(process_id: int, secret_key: bytes) -> bytes:
    body = _I32.pack(CANCEL_REQUEST_CODE) + _I32.pack(process_id) + secret_key
    return _I32.pack(len(body) + 4) + body


def encode_query(sql: str) -> bytes:
    return _frame(b"Q", _cstr(sql))


def encode_parse(name: str, sql: str, param_oids: Sequence[int] = ()) -> bytes:
    body = (
        _cstr(name)
        + _cstr(sql)
        + _I16.pack(len(param_oids))
        + b"".join(_U32.pack(o) for o in param_oids)
    )
    return _frame(b"P", body)


def _formats(formats: Sequence[int]) -> bytes:
    n = len(formats)
    if n == 0:
        return b"\x00\x00"
    if n == 1:
        return b"\x00\x01" + (b"\x00\x01" if formats[0] else b"\x00\x00")
    return _I16.pack(n) + b"".join(b"\x00\x01" if f else b"\x00\x00" for f in formats)


def encode_bind_prefix(portal: str, statement: str) -> bytes:
    """The start of a Bind body; a prepared statement caches it."""
    return _cstr(portal) + _cstr(statement)


def encode_bind(
    portal: str,
    statement: str,
    param_formats: Sequence[int],
    params: Sequence[bytes | bytearray | None],
    result_formats: Sequence[int],
) -> bytes:
    parts: list[bytes | bytearray] = [
        encode_bind_prefix(portal, statement),
        _formats(param_formats),
        _I16.pack(len(params)),
    ]
    for value in params:
        if value is None:
            parts.append(b"\xff\xff\xff\xff")
        else:
            parts.append(_I32.pack(len(value)))
            parts.append(value)
    parts.append(_formats(result_formats))
    body = b"".join(parts)
    return _HEADER.pack(b"B", len(body) + 4) + body


def encode_describe(kind: str, name: str) -> bytes:
    return _frame(b"D", kind.encode("ascii") + _cstr(name))


def encode_execute(portal: str = "", max_rows: int = 0) -> bytes:
    return _frame(b"E", _cstr(portal) + _I32.pack(max_rows))


def encode_close(kind: str, name: str) -> bytes:
    return _frame(b"C", kind.encode("ascii") + _cstr(name))


def encode_copy_data(data: bytes | bytearray | memoryview) -> bytes:
    return _HEADER.pack(b"d", len(data) + 4) + bytes(data)


def encode_copy_fail(message: str) -> bytes:
    return _frame(b"f", _cstr(message.replace("\0", "")))


def encode_password(password: bytes) -> bytes:
    return _frame(b"p", password + b"\0")


def encode_sasl_initial(mechanism: str, data: bytes | None) -> bytes:
    tail = _I32.pack(-1) if data is None else _I32.pack(len(data)) + data
    return _frame(b"p", _cstr(mechanism) + tail)


def encode_sasl_response(data: bytes) -> bytes:
    return _frame(b"p", data)


def encode_function_call(
    function_oid: int,
    arg_formats: Sequence[int],
    args: Sequence[bytes | None],
    result_format: int,
) -> bytes:
    parts = [_U32.pack(function_oid), _formats(arg_formats), _I16.pack(len(args))]
    for value in args:
        parts.append(b"\xff\xff\xff\xff" if value is None else _I32.pack(len(value)) + value)
    parts.append(_I16.pack(result_format))
    return _frame(b"F", b"".join(parts))


def _encode_any(msg: Any) -> bytes:
    if isinstance(msg, StartupMessage):
        return encode_startup(msg.parameters, msg.protocol_version)
    if isinstance(msg, SSLRequest):
        return _I32.pack(8) + _I32.pack(SSL_REQUEST_CODE)
    if isinstance(msg, GSSENCRequest):
        return _I32.pack(8) + _I32.pack(GSSENC_REQUEST_CODE)
    if isinstance(msg, CancelRequest):
        return encode_cancel_request(msg.process_id, msg.secret_key)
    raise TypeError(f"not a frontend message: {msg!r}")


_ENCODERS: dict[type[Any], Callable[[Any], bytes]] = {
    StartupMessage: _encode_any,
    SSLRequest: _encode_any,
    GSSENCRequest: _encode_any,
    CancelRequest: _encode_any,
    PasswordMessage: lambda m: encode_password(m.password),
    SASLInitialResponse: lambda m: encode_sasl_initial(m.mechanism, m.data),
    SASLResponse: lambda m: encode_sasl_response(m.data),
    Query: lambda m: encode_query(m.sql),
    Parse: lambda m: encode_parse(m.name, m.sql, m.param_oids),
    Bind: lambda m: encode_bind(m.portal, m.statement, m.param_formats, m.params, m.result_formats),
    Describe: lambda m: encode_describe(m.kind, m.name),
    Execute: lambda m: encode_execute(m.portal, m.max_rows),
    Sync: lambda m: SYNC,
    Flush: lambda m: FLUSH,
    Close: lambda m: encode_close(m.kind, m.name),
    CopyDataF: lambda m: encode_copy_data(m.data),
    CopyDoneF: lambda m: COPY_DONE,
    CopyFail: lambda m: encode_copy_fail(m.message),
    FunctionCall: lambda m: encode_function_call(
        m.function_oid, m.arg_formats, m.args, m.result_format
    ),
    Terminate: lambda m: TERMINATE,
}


def encode_frontend(msg: FrontendMessage) -> bytes:
    """The exact bytes the client sends for *msg*."""
    return _ENCODERS[type(msg)](msg)


# -- Decoding (tests and the fake server) -----------------------------------


class _Reader:
    __slots__ = ("data", "pos")

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def take(self, n: int) -> bytes:
        if n < 0 or self.pos + n > len(self.data):
            raise ProtocolError("frontend message is truncated")
        out = self.data[self.pos : self.pos + n]
        self.pos += n
        return out

    def int16(self) -> int:
        return int(_I16.unpack(self.take(2))[0])

    def int32(self) -> int:
        return int(_I32.unpack(self.take(4))[0])

    def uint32(self) -> int:
        return int(_U32.unpack(self.take(4))[0])

    def cstring(self) -> str:
        end = self.data.find(b"\0", self.pos)
        if end < 0:
            raise ProtocolError("frontend message has an unterminated string")
        try:
            out = self.data[self.pos : end].decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ProtocolError("frontend message has a string that is not UTF-8") from exc
        self.pos = end + 1
        return out

    def rest(self) -> bytes:
        return self.take(len(self.data) - self.pos)

    def count(self) -> int:
        n = self.int16()
        if n < 0:
            raise ProtocolError("frontend message has a negative count")
        return n

    def done(self, msg: FrontendMessage) -> FrontendMessage:
        if self.pos != len(self.data):
            raise ProtocolError(f"frontend message has {len(self.data) - self.pos} extra bytes")
        return msg

    def formats(self) -> tuple[int, ...]:
        return tuple(self.int16() for _ in range(self.count()))

    def values(self) -> tuple[bytes | None, ...]:
        out: list[bytes | None] = []
        for _ in range(self.count()):
            n = self.int32()
            out.append(None if n == -1 else self.take(n))
        return tuple(out)


def decode_startup(body: bytes) -> FrontendMessage:
    """Decode an untyped first message (its body, after the length)."""
    r = _Reader(bytes(body))
    code = r.int32()
    if code == SSL_REQUEST_CODE:
        return r.done(SSLRequest())
    if code == GSSENC_REQUEST_CODE:
        return r.done(GSSENCRequest())
    if code == CANCEL_REQUEST_CODE:
        return CancelRequest(r.int32(), r.rest())
    params: dict[str, str] = {}
    while True:
        key = r.cstring()
        if not key:
            break
        params[key] = r.cstring()
    return r.done(StartupMessage(params, code))


def decode_frontend(
    type_byte: int, body: bytes, *, password_kind: str = "password"
) -> FrontendMessage:
    """Decode a typed frontend message.

    ``'p'`` means different messages in different phases: *password_kind* is
    ``"password"``, ``"sasl_initial"`` or ``"sasl"``.
    """
    r = _Reader(bytes(body))
    return r.done(_decode_typed(r, chr(type_byte), password_kind))


def _decode_typed(r: _Reader, t: str, password_kind: str) -> FrontendMessage:
    if t == "p":
        if password_kind == "sasl_initial":
            mech = r.cstring()
            n = r.int32()
            return SASLInitialResponse(mech, None if n == -1 else r.take(n))
        if password_kind == "sasl":
            return SASLResponse(r.rest())
        return PasswordMessage(r.rest().rstrip(b"\0"))
    if t == "Q":
        return Query(r.cstring())
    if t == "P":
        name = r.cstring()
        sql = r.cstring()
        return Parse(name, sql, tuple(r.uint32() for _ in range(r.count())))
    if t == "B":
        portal = r.cstring()
        stmt = r.cstring()
        pf = r.formats()
        params = r.values()
        return Bind(portal, stmt, pf, params, r.formats())
    if t == "D":
        return Describe(chr(r.take(1)[0]), r.cstring())
    if t == "E":
        return Execute(r.cstring(), r.int32())
    if t == "S":
        return Sync()
    if t == "H":
        return Flush()
    if t == "C":
        return Close(chr(r.take(1)[0]), r.cstring())
    if t == "d":
        return CopyDataF(r.rest())
    if t == "c":
        return CopyDoneF()
    if t == "f":
        return CopyFail(r.cstring())
    if t == "F":
        oid = r.uint32()
        af = r.formats()
        args = r.values()
        return FunctionCall(oid, af, args, r.int16())
    if t == "X":
        return Terminate()
    raise ProtocolError(f"unknown frontend message type {t!r}")
