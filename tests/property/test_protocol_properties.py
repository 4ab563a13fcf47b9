"""Properties of the sans-I/O core, driven by hypothesis (no server, no I/O).

- Every backend and frontend message survives encode -> frame -> decode,
  whether its bytes arrive whole or split at arbitrary points.
- Arbitrary bytes, and valid streams truncated or with bytes flipped, fed to
  the receive buffer and decoder, or to a Connection past its startup, only
  ever produce messages, events, ``NEED_DATA`` or :class:`pgany.ProtocolError`:
  never another exception, never an endless loop.
"""

from __future__ import annotations

from typing import Any, TypeVar

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import pgany
import pgany.errors
from pgany.protocol import (
    NEED_DATA,
    Connected,
    Connection,
    ConnectionEnded,
    Phase,
    Request,
    RequestDone,
)
from pgany.protocol import frontend as fe
from pgany.protocol import messages as m
from pgany.protocol.buffer import ReceiveBuffer
from pgany.protocol.messages import decode_backend, encode_backend
from pgany.protocol.pipeline import CopyDirection

T = TypeVar("T")

SETTINGS = settings(max_examples=300, deadline=None)

int16 = st.integers(-(2**15), 2**15 - 1)
int32 = st.integers(-(2**31), 2**31 - 1)
uint32 = st.integers(0, 2**32 - 1)
blob = st.binary(max_size=48)
value = st.none() | blob
#: A protocol String: UTF-8, no NUL.
text = st.text(st.characters(codec="utf-8", exclude_characters="\0"), max_size=16)
name = text.filter(bool)
#: An error or notice field code: one ASCII byte, not NUL.
field_code = st.characters(min_codepoint=1, max_codepoint=127)
fields = st.lists(st.tuples(field_code, text), max_size=6).map(tuple)


def small_tuple(elements: st.SearchStrategy[T]) -> st.SearchStrategy[tuple[T, ...]]:
    return st.lists(elements, max_size=8).map(tuple)


def _empty(cls: type[Any]) -> st.SearchStrategy[Any]:
    return st.just(cls())


field_description = st.builds(m.FieldDescription, text, uint32, int16, uint32, int16, int32, int16)

BACKEND_STRATEGIES: dict[type[Any], st.SearchStrategy[Any]] = {
    m.AuthenticationOk: _empty(m.AuthenticationOk),
    m.AuthenticationKerberosV5: _empty(m.AuthenticationKerberosV5),
    m.AuthenticationCleartextPassword: _empty(m.AuthenticationCleartextPassword),
    m.AuthenticationMD5Password: st.builds(
        m.AuthenticationMD5Password, st.binary(min_size=4, max_size=4)
    ),
    m.AuthenticationGSS: _empty(m.AuthenticationGSS),
    m.AuthenticationGSSContinue: st.builds(m.AuthenticationGSSContinue, blob),
    m.AuthenticationSSPI: _empty(m.AuthenticationSSPI),
    m.AuthenticationSASL: st.builds(m.AuthenticationSASL, small_tuple(name)),
    m.AuthenticationSASLContinue: st.builds(m.AuthenticationSASLContinue, blob),
    m.AuthenticationSASLFinal: st.builds(m.AuthenticationSASLFinal, blob),
    m.BackendKeyData: st.builds(m.BackendKeyData, int32, st.binary(min_size=4, max_size=256)),
    m.BindComplete: _empty(m.BindComplete),
    m.CloseComplete: _empty(m.CloseComplete),
    m.CommandComplete: st.builds(m.CommandComplete, text),
    m.CopyData: st.builds(m.CopyData, blob),
    m.CopyDone: _empty(m.CopyDone),
    m.CopyInResponse: st.builds(m.CopyInResponse, st.integers(0, 255), small_tuple(int16)),
    m.CopyOutResponse: st.builds(m.CopyOutResponse, st.integers(0, 255), small_tuple(int16)),
    m.CopyBothResponse: st.builds(m.CopyBothResponse, st.integers(0, 255), small_tuple(int16)),
    m.DataRow: st.builds(m.DataRow, small_tuple(value)),
    m.EmptyQueryResponse: _empty(m.EmptyQueryResponse),
    m.ErrorResponse: st.builds(m.ErrorResponse, fields),
    m.FunctionCallResponse: st.builds(m.FunctionCallResponse, value),
    m.NegotiateProtocolVersion: st.builds(m.NegotiateProtocolVersion, int32, small_tuple(text)),
    m.NoData: _empty(m.NoData),
    m.NoticeResponse: st.builds(m.NoticeResponse, fields),
    m.NotificationResponse: st.builds(m.NotificationResponse, int32, text, text),
    m.ParameterDescription: st.builds(m.ParameterDescription, small_tuple(uint32)),
    m.ParameterStatus: st.builds(m.ParameterStatus, text, text),
    m.ParseComplete: _empty(m.ParseComplete),
    m.PortalSuspended: _empty(m.PortalSuspended),
    m.ReadyForQuery: st.builds(m.ReadyForQuery, st.sampled_from("ITE")),
    m.RowDescription: st.builds(m.RowDescription, small_tuple(field_description)),
}
backend_message = st.one_of(*BACKEND_STRATEGIES.values())

fmt = st.sampled_from((0, 1))
_SPECIAL_CODES = {fe.SSL_REQUEST_CODE, fe.GSSENC_REQUEST_CODE, fe.CANCEL_REQUEST_CODE}

FRONTEND_STRATEGIES: dict[type[Any], st.SearchStrategy[Any]] = {
    fe.StartupMessage: st.builds(
        fe.StartupMessage,
        st.dictionaries(name, text, max_size=4),
        st.integers(0, 2**31 - 1).filter(lambda v: v not in _SPECIAL_CODES),
    ),
    fe.SSLRequest: _empty(fe.SSLRequest),
    fe.GSSENCRequest: _empty(fe.GSSENCRequest),
    fe.CancelRequest: st.builds(fe.CancelRequest, int32, st.binary(min_size=4, max_size=256)),
    fe.PasswordMessage: st.builds(
        fe.PasswordMessage, st.binary(max_size=40).map(lambda b: b.replace(b"\0", b""))
    ),
    fe.SASLInitialResponse: st.builds(fe.SASLInitialResponse, name, value),
    fe.SASLResponse: st.builds(fe.SASLResponse, blob),
    fe.Query: st.builds(fe.Query, text),
    fe.Parse: st.builds(fe.Parse, text, text, small_tuple(uint32)),
    fe.Bind: st.builds(fe.Bind, text, text, small_tuple(fmt), small_tuple(value), small_tuple(fmt)),
    fe.Describe: st.builds(fe.Describe, st.sampled_from("SP"), text),
    fe.Execute: st.builds(fe.Execute, text, int32),
    fe.Sync: _empty(fe.Sync),
    fe.Flush: _empty(fe.Flush),
    fe.Close: st.builds(fe.Close, st.sampled_from("SP"), text),
    fe.CopyDataF: st.builds(fe.CopyDataF, blob),
    fe.CopyDoneF: _empty(fe.CopyDoneF),
    fe.CopyFail: st.builds(fe.CopyFail, text),
    fe.FunctionCall: st.builds(
        fe.FunctionCall, uint32, small_tuple(fmt), small_tuple(value), int16
    ),
    fe.Terminate: _empty(fe.Terminate),
}
frontend_message = st.one_of(*FRONTEND_STRATEGIES.values())

UNTYPED = (fe.StartupMessage, fe.SSLRequest, fe.GSSENCRequest, fe.CancelRequest)


def test_every_message_has_a_strategy() -> None:
    assert set(BACKEND_STRATEGIES) == set(m.BackendMessage.__args__)
    assert set(FRONTEND_STRATEGIES) == set(fe.FrontendMessage.__args__)


def split_points(data: bytes, draw: st.DataObject) -> list[bytes]:
    cuts = sorted(draw.draw(st.lists(st.integers(0, len(data)), max_size=6), label="cuts"))
    pieces, last = [], 0
    for cut in [*cuts, len(data)]:
        pieces.append(data[last:cut])
        last = cut
    return pieces


def take_backend(buf: ReceiveBuffer) -> m.BackendMessage | None:
    frame = buf.next_frame()
    if frame is None:
        return None
    type_byte, start, end = frame
    return decode_backend(type_byte, buf.data[start:end])


# -- round trips --------------------------------------------------------------------


@SETTINGS
@given(msgs=st.lists(backend_message, min_size=1, max_size=5), draw=st.data())
def test_backend_round_trip(msgs: list[m.BackendMessage], draw: st.DataObject) -> None:
    encoded = [encode_backend(msg) for msg in msgs]
    for msg, data in zip(msgs, encoded, strict=True):
        assert data[1:5] == (len(data) - 1).to_bytes(4, "big")
        assert decode_backend(data[0], data[5:]) == msg
    stream = b"".join(encoded)
    buf = ReceiveBuffer()
    got: list[m.BackendMessage] = []
    fed = 0
    for piece in split_points(stream, draw):
        buf.feed(piece)
        fed += len(piece)
        while (out := take_backend(buf)) is not None:
            got.append(out)
        # Exactly the messages wholly received so far have come out.
        complete = 0
        total = 0
        for data in encoded:
            if total + len(data) > fed:
                break
            total += len(data)
            complete += 1
        assert len(got) == complete
    assert got == msgs
    assert len(buf) == 0


def take_frontend(buf: ReceiveBuffer, msg: fe.FrontendMessage) -> fe.FrontendMessage | None:
    """Read the next message as a server would, knowing what to expect."""
    if isinstance(msg, UNTYPED):
        if len(buf) < 4:
            return None
        length = int.from_bytes(buf.data[buf.pos : buf.pos + 4], "big")
        raw = buf.take_bytes(length)
        return None if raw is None else fe.decode_startup(raw[4:])
    frame = buf.next_frame()
    if frame is None:
        return None
    type_byte, start, end = frame
    kind = {fe.SASLInitialResponse: "sasl_initial", fe.SASLResponse: "sasl"}.get(
        type(msg), "password"
    )
    return fe.decode_frontend(type_byte, bytes(buf.data[start:end]), password_kind=kind)


@SETTINGS
@given(msg=frontend_message, draw=st.data())
def test_frontend_round_trip(msg: fe.FrontendMessage, draw: st.DataObject) -> None:
    expected = [msg, fe.Sync()]  # and a message behind it, to check the framing
    data = fe.encode_frontend(msg)
    buf = ReceiveBuffer()
    got: list[fe.FrontendMessage] = []
    for piece in split_points(data + fe.SYNC, draw):
        buf.feed(piece)
        while len(got) < len(expected):
            out = take_frontend(buf, expected[len(got)])
            if out is None:
                break
            got.append(out)
    assert got == expected
    assert len(buf) == 0


# -- robustness: the decoder --------------------------------------------------------


def decode_all(data_pieces: list[bytes], max_message_size: int = 1 << 16) -> None:
    """Feed the pieces and decode every frame; only ProtocolError may escape."""
    buf = ReceiveBuffer(max_message_size)
    for piece in data_pieces:
        buf.feed(piece)
        for _ in range(len(piece) + 1):  # each frame consumes at least 5 bytes
            if take_backend(buf) is None:
                break
        else:
            raise AssertionError("more frames than bytes")


def assert_only_protocol_errors(data_pieces: list[bytes]) -> None:
    try:
        decode_all(data_pieces)
    except pgany.ProtocolError:
        pass


@SETTINGS
@given(data=st.binary(max_size=300), draw=st.data())
def test_arbitrary_bytes_to_the_decoder(data: bytes, draw: st.DataObject) -> None:
    assert_only_protocol_errors(split_points(data, draw))


@SETTINGS
@given(type_byte=st.integers(0, 255), body=st.binary(max_size=200))
def test_arbitrary_bodies_to_decode_backend(type_byte: int, body: bytes) -> None:
    try:
        decode_backend(type_byte, body)
    except pgany.ProtocolError:
        pass


def mutate(data: bytes, draw: st.DataObject) -> bytes:
    """Truncate *data*, or flip some of its bytes, or both."""
    if not data:
        return data
    out = bytearray(data)
    for _ in range(draw.draw(st.integers(0, 4), label="flips")):
        i = draw.draw(st.integers(0, len(out) - 1), label="at")
        out[i] = draw.draw(st.integers(0, 255), label="to")
    cut = draw.draw(st.integers(0, len(out)), label="cut")
    return bytes(out[:cut]) if draw.draw(st.booleans(), label="truncate") else bytes(out)


@SETTINGS
@given(msgs=st.lists(backend_message, min_size=1, max_size=5), draw=st.data())
def test_mutated_valid_streams_to_the_decoder(
    msgs: list[m.BackendMessage], draw: st.DataObject
) -> None:
    data = mutate(b"".join(encode_backend(msg) for msg in msgs), draw)
    assert_only_protocol_errors(split_points(data, draw))


@SETTINGS
@given(msg=frontend_message, draw=st.data())
def test_mutated_frontend_messages_to_the_decoders(
    msg: fe.FrontendMessage, draw: st.DataObject
) -> None:
    data = mutate(fe.encode_frontend(msg), draw)
    try:
        if isinstance(msg, UNTYPED):
            fe.decode_startup(data[4:])
        elif data:
            how = draw.draw(st.sampled_from(["password", "sasl_initial", "sasl"]), label="how")
            fe.decode_frontend(data[0], data[5:], password_kind=how)
    except pgany.ProtocolError:
        pass


# -- robustness: a Connection past its startup ---------------------------------------


def values_factory(buf: memoryview, start: int, end: int) -> Any:
    row = decode_backend(ord("D"), buf[start:end])
    assert isinstance(row, m.DataRow)
    return row.values


def busy_connection() -> tuple[Connection, list[Request]]:
    conn = Connection({"user": "u"}, password="pw", max_message_size=1 << 12)
    conn.data_to_send()
    conn.receive_data(
        encode_backend(m.AuthenticationMD5Password(b"salt"))
        + encode_backend(m.AuthenticationOk())
        + encode_backend(m.BackendKeyData(7, b"\x00\x01\x02\x03"))
        + encode_backend(m.ReadyForQuery("I"))
    )
    assert conn.next_event() == Connected()
    assert conn.next_event() is NEED_DATA
    conn.data_to_send()
    requests = [
        conn.send_request(
            fe.encode_query("SELECT 1"),
            Request(simple=True, row_factory_for=lambda d: values_factory),
        ),
        conn.send_request(fe.SYNC, Request(row_factory=values_factory)),
        conn.send_request(fe.SYNC, Request()),
    ]
    requests[2].copy_mode = CopyDirection.OUT  # a copy_out() request keeps its COPY data
    return conn, requests


def drive(conn: Connection, pieces: list[bytes]) -> tuple[list[Any], pgany.ProtocolError | None]:
    """Feed *pieces* then EOF; collect events until the end or a ProtocolError."""
    got: list[Any] = []
    try:
        for piece in [*filter(None, pieces), b""]:  # b"" is EOF: only at the end
            conn.receive_data(piece)
            for _ in range(len(piece) + 10):  # each event takes a message, or ends the session
                event = conn.next_event()
                if event is NEED_DATA:
                    break
                got.append(event)
            else:
                raise AssertionError("next_event never returned NEED_DATA")
    except pgany.ProtocolError as exc:
        assert conn.phase is Phase.BROKEN
        with pytest.raises(pgany.ProtocolError):  # poisoned
            conn.next_event()
        return got, exc
    # Without a violation, EOF ends the session, and only once, last.
    assert sum(isinstance(e, ConnectionEnded) for e in got) == 1
    assert isinstance(got[-1], ConnectionEnded)
    assert conn.in_flight == 0
    assert conn.phase is Phase.CLOSED
    return got, None


#: A plausible answer to the three requests, with messages that may come any time.
RESPONSE: list[m.BackendMessage] = [
    m.NoticeResponse((("S", "NOTICE"), ("M", "hi"))),
    m.RowDescription((m.FieldDescription("n", 0, 0, 23, 4, -1, 0),)),
    m.DataRow((b"1",)),
    m.DataRow((None,)),
    m.CommandComplete("SELECT 2"),
    m.EmptyQueryResponse(),
    m.ReadyForQuery("I"),
    m.ParseComplete(),
    m.BindComplete(),
    m.NotificationResponse(1, "chan", "payload"),
    m.DataRow((b"x", b"y")),
    m.ErrorResponse((("S", "ERROR"), ("C", "22012"), ("M", "division by zero"))),
    m.ReadyForQuery("E"),
    m.CopyOutResponse(0, (0,)),
    m.CopyData(b"row\n"),
    m.CopyDone(),
    m.CommandComplete("COPY 1"),
    m.ParameterStatus("TimeZone", "UTC"),
    m.ReadyForQuery("I"),
]


@SETTINGS
@given(data=st.binary(max_size=300), draw=st.data())
def test_arbitrary_bytes_to_a_connection(data: bytes, draw: st.DataObject) -> None:
    conn, _ = busy_connection()
    drive(conn, split_points(data, draw))


@SETTINGS
@given(
    msgs=st.lists(st.sampled_from(RESPONSE) | backend_message, max_size=12),
    draw=st.data(),
)
def test_random_messages_to_a_connection(msgs: list[m.BackendMessage], draw: st.DataObject) -> None:
    conn, _ = busy_connection()
    data = b"".join(encode_backend(msg) for msg in msgs)
    drive(conn, split_points(data, draw))


@SETTINGS
@given(draw=st.data())
def test_mutated_responses_to_a_connection(draw: st.DataObject) -> None:
    conn, requests = busy_connection()
    data = b"".join(encode_backend(msg) for msg in RESPONSE)
    mutated = mutate(data, draw)
    got, error = drive(conn, split_points(mutated, draw))
    done = [e.request for e in got if isinstance(e, RequestDone)]
    assert done == requests[: len(done)]  # in order, whatever happened
    if mutated == data:
        assert error is None
        assert done == requests
        assert requests[0].results[0].rows == [(b"1",), (None,)]
        assert isinstance(requests[1].error, pgany.errors.DivisionByZero)
        assert requests[2].copy_data == [b"row\n"]
        assert isinstance(got[-1], ConnectionEnded)
