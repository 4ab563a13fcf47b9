"""Backend messages and their framing, against PostgreSQL's documented formats.

Every expected byte string below is written out by hand from the "Message
Formats" page of the PostgreSQL manual (protocol-message-formats.html): a
type byte, an Int32 length that counts itself but not the type byte, then the
body. None of them is computed by the code under test. One table serves the
encoder and the decoder alike, and each decoding is tried with the bytes fed
whole, one byte at a time, and followed by the start of another message
(h11's ``test_io.py``).
"""

from __future__ import annotations

import time
from typing import Any

import pytest

import pgany
from pgany.protocol import messages as m
from pgany.protocol.buffer import ReceiveBuffer
from pgany.protocol.messages import decode_backend, encode_backend

ROW_ID = m.FieldDescription("id", 16384, 1, 23, 4, -1, 0)
ROW_NAME = m.FieldDescription("name", 16384, 2, 25, -1, -1, 1)

#: (message, the exact bytes a server sends for it).
BACKEND_CASES: list[tuple[m.BackendMessage, bytes]] = [
    # Authentication: 'R', length, Int32 request code, then the code's data.
    (m.AuthenticationOk(), b"R\x00\x00\x00\x08\x00\x00\x00\x00"),
    (m.AuthenticationKerberosV5(), b"R\x00\x00\x00\x08\x00\x00\x00\x02"),
    (m.AuthenticationCleartextPassword(), b"R\x00\x00\x00\x08\x00\x00\x00\x03"),
    (
        m.AuthenticationMD5Password(b"\x01\x02\xfe\xff"),
        b"R\x00\x00\x00\x0c\x00\x00\x00\x05\x01\x02\xfe\xff",
    ),
    (m.AuthenticationGSS(), b"R\x00\x00\x00\x08\x00\x00\x00\x07"),
    (m.AuthenticationGSSContinue(b"gss-token"), b"R\x00\x00\x00\x11\x00\x00\x00\x08gss-token"),
    (m.AuthenticationGSSContinue(b""), b"R\x00\x00\x00\x08\x00\x00\x00\x08"),
    (m.AuthenticationSSPI(), b"R\x00\x00\x00\x08\x00\x00\x00\x09"),
    (
        m.AuthenticationSASL(("SCRAM-SHA-256-PLUS", "SCRAM-SHA-256")),
        b"R\x00\x00\x00\x2a\x00\x00\x00\x0aSCRAM-SHA-256-PLUS\x00SCRAM-SHA-256\x00\x00",
    ),
    (m.AuthenticationSASL(()), b"R\x00\x00\x00\x09\x00\x00\x00\x0a\x00"),
    (
        m.AuthenticationSASLContinue(b"r=abc,s=c2FsdA==,i=4096"),
        b"R\x00\x00\x00\x1f\x00\x00\x00\x0br=abc,s=c2FsdA==,i=4096",
    ),
    (m.AuthenticationSASLFinal(b"v=c2ln"), b"R\x00\x00\x00\x0e\x00\x00\x00\x0cv=c2ln"),
    # BackendKeyData: process ID, then the secret key (4 bytes in 3.0, up to 256 in 3.2).
    (
        m.BackendKeyData(1234, b"\xde\xad\xbe\xef"),
        b"K\x00\x00\x00\x0c\x00\x00\x04\xd2\xde\xad\xbe\xef",
    ),
    (
        m.BackendKeyData(-2, bytes(range(32))),
        b"K\x00\x00\x00\x28\xff\xff\xff\xfe" + bytes(range(32)),
    ),
    (m.BindComplete(), b"2\x00\x00\x00\x04"),
    (m.CloseComplete(), b"3\x00\x00\x00\x04"),
    (m.CommandComplete("INSERT 0 1"), b"C\x00\x00\x00\x0fINSERT 0 1\x00"),
    (m.CommandComplete(""), b"C\x00\x00\x00\x05\x00"),
    (m.CopyData(b"hello"), b"d\x00\x00\x00\x09hello"),
    (m.CopyData(b""), b"d\x00\x00\x00\x04"),
    (m.CopyDone(), b"c\x00\x00\x00\x04"),
    # Copy*Response: Int8 overall format, Int16 column count, Int16 per column.
    (m.CopyInResponse(0, (0, 0)), b"G\x00\x00\x00\x0b\x00\x00\x02\x00\x00\x00\x00"),
    (m.CopyOutResponse(1, (1,)), b"H\x00\x00\x00\x09\x01\x00\x01\x00\x01"),
    (m.CopyBothResponse(0, ()), b"W\x00\x00\x00\x07\x00\x00\x00"),
    # DataRow: Int16 count, then per value an Int32 length (-1 = NULL) and the bytes.
    (
        m.DataRow((b"42", None, b"")),
        b"D\x00\x00\x00\x14\x00\x03\x00\x00\x00\x0242\xff\xff\xff\xff\x00\x00\x00\x00",
    ),
    (m.DataRow(()), b"D\x00\x00\x00\x06\x00\x00"),
    (m.EmptyQueryResponse(), b"I\x00\x00\x00\x04"),
    # ErrorResponse / NoticeResponse: (Byte1 code, String value)*, then a NUL.
    (
        m.ErrorResponse((("S", "ERROR"), ("V", "ERROR"), ("C", "42601"), ("M", "syntax error"))),
        b"E\x00\x00\x00\x28SERROR\x00VERROR\x00C42601\x00Msyntax error\x00\x00",
    ),
    (m.ErrorResponse(()), b"E\x00\x00\x00\x05\x00"),
    (m.FunctionCallResponse(b"ok"), b"V\x00\x00\x00\x0a\x00\x00\x00\x02ok"),
    (m.FunctionCallResponse(b""), b"V\x00\x00\x00\x08\x00\x00\x00\x00"),
    (m.FunctionCallResponse(None), b"V\x00\x00\x00\x08\xff\xff\xff\xff"),
    (
        m.NegotiateProtocolVersion(0, ("_pq_.foo",)),
        b"v\x00\x00\x00\x15\x00\x00\x00\x00\x00\x00\x00\x01_pq_.foo\x00",
    ),
    (m.NegotiateProtocolVersion(2, ()), b"v\x00\x00\x00\x0c\x00\x00\x00\x02\x00\x00\x00\x00"),
    (m.NoData(), b"n\x00\x00\x00\x04"),
    (
        m.NoticeResponse((("S", "NOTICE"), ("C", "00000"), ("M", "hi"))),
        b"N\x00\x00\x00\x18SNOTICE\x00C00000\x00Mhi\x00\x00",
    ),
    # NotificationResponse: Int32 process ID, String channel, String payload.
    (
        m.NotificationResponse(77, "chan", "h\u00e9llo \u2603"),
        b"A\x00\x00\x00\x18\x00\x00\x00\x4dchan\x00h\xc3\xa9llo \xe2\x98\x83\x00",
    ),
    (m.NotificationResponse(1, "c", ""), b"A\x00\x00\x00\x0b\x00\x00\x00\x01c\x00\x00"),
    # ParameterDescription: Int16 count, then one OID (unsigned Int32) each.
    (
        m.ParameterDescription((23, 4294967295)),
        b"t\x00\x00\x00\x0e\x00\x02\x00\x00\x00\x17\xff\xff\xff\xff",
    ),
    (m.ParameterDescription(()), b"t\x00\x00\x00\x06\x00\x00"),
    (m.ParameterStatus("TimeZone", "UTC"), b"S\x00\x00\x00\x11TimeZone\x00UTC\x00"),
    (m.ParseComplete(), b"1\x00\x00\x00\x04"),
    (m.PortalSuspended(), b"s\x00\x00\x00\x04"),
    (m.ReadyForQuery("I"), b"Z\x00\x00\x00\x05I"),
    (m.ReadyForQuery("T"), b"Z\x00\x00\x00\x05T"),
    (m.ReadyForQuery("E"), b"Z\x00\x00\x00\x05E"),
    # RowDescription: Int16 count; per field a String name, Int32 table OID,
    # Int16 column, Int32 type OID, Int16 size, Int32 modifier, Int16 format.
    (
        m.RowDescription((ROW_ID, ROW_NAME)),
        b"T\x00\x00\x00\x32\x00\x02"
        b"id\x00\x00\x00\x40\x00\x00\x01\x00\x00\x00\x17\x00\x04\xff\xff\xff\xff\x00\x00"
        b"name\x00\x00\x00\x40\x00\x00\x02\x00\x00\x00\x19\xff\xff\xff\xff\xff\xff\x00\x01",
    ),
    (m.RowDescription(()), b"T\x00\x00\x00\x06\x00\x00"),
]

CASE_IDS = [f"{type(msg).__name__}-{i}" for i, (msg, _) in enumerate(BACKEND_CASES)]

#: The first bytes of another message, left behind in the buffer.
TRAILER = b"Z\x00\x00"


def backend_classes() -> set[type[Any]]:
    return {getattr(m, name) for name in m.__all__} - {
        m.FieldDescription,
        m.decode_backend,
        m.encode_backend,
        m.BackendMessage,
    }


def test_the_table_covers_every_backend_message() -> None:
    assert {type(msg) for msg, _ in BACKEND_CASES} == backend_classes()
    assert set(m.BackendMessage.__args__) == backend_classes()


def take(buf: ReceiveBuffer) -> m.BackendMessage | None:
    frame = buf.next_frame()
    if frame is None:
        return None
    type_byte, start, end = frame
    return decode_backend(type_byte, buf.data[start:end])


@pytest.mark.parametrize(("msg", "data"), BACKEND_CASES, ids=CASE_IDS)
def test_encode(msg: m.BackendMessage, data: bytes) -> None:
    assert encode_backend(msg) == data


@pytest.mark.parametrize(("msg", "data"), BACKEND_CASES, ids=CASE_IDS)
def test_decode_whole(msg: m.BackendMessage, data: bytes) -> None:
    buf = ReceiveBuffer()
    buf.feed(data)
    assert take(buf) == msg
    assert len(buf) == 0
    assert take(buf) is None


@pytest.mark.parametrize(("msg", "data"), BACKEND_CASES, ids=CASE_IDS)
def test_decode_one_byte_at_a_time(msg: m.BackendMessage, data: bytes) -> None:
    buf = ReceiveBuffer()
    for i in range(len(data) - 1):
        buf.feed(data[i : i + 1])
        assert buf.next_frame() is None
    buf.feed(data[-1:])
    assert take(buf) == msg
    assert len(buf) == 0


@pytest.mark.parametrize(("msg", "data"), BACKEND_CASES, ids=CASE_IDS)
def test_decode_with_trailing_data(msg: m.BackendMessage, data: bytes) -> None:
    buf = ReceiveBuffer()
    buf.feed(data + TRAILER)
    assert take(buf) == msg
    assert len(buf) == len(TRAILER)
    assert buf.next_frame() is None
    assert bytes(buf.data[buf.pos :]) == TRAILER
    buf.feed(b"\x00\x05I")  # the rest of ReadyForQuery('I')
    assert take(buf) == m.ReadyForQuery("I")


def test_decode_accepts_any_buffer_type() -> None:
    body = b"\x00\x01\x00\x00\x00\x02ok"
    expected = m.DataRow((b"ok",))
    for arg in (body, bytearray(body), memoryview(body)):
        assert decode_backend(ord("D"), arg) == expected


def test_all_cases_back_to_back() -> None:
    stream = b"".join(data for _, data in BACKEND_CASES)
    buf = ReceiveBuffer()
    buf.feed(stream)
    got = []
    while (msg := take(buf)) is not None:
        got.append(msg)
    assert got == [msg for msg, _ in BACKEND_CASES]


def test_error_and_notice_as_dict() -> None:
    err = m.ErrorResponse((("S", "ERROR"), ("C", "42601")))
    assert err.as_dict() == {"S": "ERROR", "C": "42601"}
    assert m.NoticeResponse((("M", "x"),)).as_dict() == {"M": "x"}


def test_messages_are_frozen_and_slotted() -> None:
    for cls in backend_classes():
        assert "__slots__" in cls.__dict__, cls
    msg = m.CommandComplete("SELECT 1")
    with pytest.raises(AttributeError):
        msg.tag = "x"  # type: ignore[misc]


# -- malformed input ------------------------------------------------------------


def frame(type_byte: bytes, body: bytes) -> bytes:
    return type_byte + (len(body) + 4).to_bytes(4, "big") + body


MALFORMED_BODIES: list[tuple[bytes, bytes]] = [
    # unknown types
    (b"x", b""),
    (b"\x00", b""),
    (b"\xff", b"abc"),
    # Authentication
    (b"R", b""),
    (b"R", b"\x00\x00"),
    (b"R", b"\x00\x00\x00\x04"),  # unknown request code 4
    (b"R", b"\xff\xff\xff\xff"),
    (b"R", b"\x00\x00\x00\x00\x00"),  # AuthenticationOk with an extra byte
    (b"R", b"\x00\x00\x00\x03x"),
    (b"R", b"\x00\x00\x00\x05\x01\x02\x03"),  # MD5 salt truncated
    (b"R", b"\x00\x00\x00\x05\x01\x02\x03\x04\x05"),  # MD5 salt too long
    (b"R", b"\x00\x00\x00\x0aSCRAM-SHA-256\x00"),  # SASL list not terminated
    (b"R", b"\x00\x00\x00\x0aSCRAM-SHA-256"),  # mechanism not terminated
    (b"R", b"\x00\x00\x00\x0a\x00x"),  # bytes after the SASL list
    (b"R", b"\x00\x00\x00\x0a\xff\xfe\x00\x00"),  # mechanism not UTF-8
    # BackendKeyData
    (b"K", b""),
    (b"K", b"\x00\x00\x04\xd2"),  # no key
    (b"K", b"\x00\x00\x04\xd2\x01\x02\x03"),  # 3-byte key
    (b"K", b"\x00\x00\x04\xd2" + bytes(257)),  # key above 256 bytes
    # empty bodies with extra bytes
    (b"2", b"\x00"),
    (b"3", b"x"),
    (b"c", b"\x00"),
    (b"I", b"\x00"),
    (b"n", b"x"),
    (b"1", b"\x00\x00"),
    (b"s", b"x"),
    # CommandComplete
    (b"C", b""),
    (b"C", b"INSERT 0 1"),
    (b"C", b"INSERT 0 1\x00x"),
    (b"C", b"\xc3\x28\x00"),
    # Copy*Response
    (b"G", b""),
    (b"G", b"\x00\x00"),
    (b"G", b"\x00\x00\x01"),
    (b"H", b"\x00\x00\x02\x00\x00"),
    (b"H", b"\x00\xff\xff"),  # negative column count
    (b"W", b"\x00\x00\x00\x00"),
    # DataRow
    (b"D", b""),
    (b"D", b"\x00"),
    (b"D", b"\xff\xff"),  # negative column count
    (b"D", b"\x00\x01"),
    (b"D", b"\x00\x01\x00\x00\x00\x05abc"),
    (b"D", b"\x00\x01\xff\xff\xff\xfe"),  # length -2
    (b"D", b"\x00\x01\x80\x00\x00\x00"),
    (b"D", b"\x00\x00\x00"),
    (b"D", b"\x00\x01\xff\xff\xff\xffx"),
    (b"D", b"\x7f\xff"),  # 32767 values announced, none sent
    # ErrorResponse / NoticeResponse
    (b"E", b""),
    (b"E", b"SERROR\x00"),  # no final NUL
    (b"E", b"SERROR"),
    (b"E", b"\x00x"),
    (b"E", b"M\xff\x00\x00"),
    (b"N", b"S"),
    (b"N", b"SNOTICE\x00\x00\x00"),
    # FunctionCallResponse
    (b"V", b""),
    (b"V", b"\x00\x00\x00\x03ok"),
    (b"V", b"\x00\x00\x00\x01ok"),
    (b"V", b"\xff\xff\xff\xfe"),
    (b"V", b"\xff\xff\xff\xff\x00"),
    # NegotiateProtocolVersion
    (b"v", b"\x00\x00\x00\x00"),
    (b"v", b"\x00\x00\x00\x00\x00\x00\x00\x01"),
    (b"v", b"\x00\x00\x00\x00\x00\x00\x00\x01_pq_.x"),
    (b"v", b"\x00\x00\x00\x00\xff\xff\xff\xff"),  # negative option count
    (b"v", b"\x00\x00\x00\x00\x00\x00\x00\x00x"),
    # NotificationResponse
    (b"A", b"\x00\x00\x00\x01"),
    (b"A", b"\x00\x00\x00\x01chan\x00"),
    (b"A", b"\x00\x00\x00\x01chan\x00payload"),
    (b"A", b"\x00\x00\x00\x01chan\x00p\x00x"),
    (b"A", b"\x00\x00\x00\x01chan\x00\xe2\x98\x00"),  # cut UTF-8 sequence
    # ParameterDescription
    (b"t", b""),
    (b"t", b"\x00\x01"),
    (b"t", b"\x00\x01\x00\x00\x00"),
    (b"t", b"\xff\xff"),  # negative count
    (b"t", b"\x00\x00\x00"),
    # ParameterStatus
    (b"S", b""),
    (b"S", b"TimeZone\x00"),
    (b"S", b"TimeZone\x00UTC"),
    (b"S", b"TimeZone\x00UTC\x00x"),
    (b"S", b"\xff\x00UTC\x00"),
    # ReadyForQuery
    (b"Z", b""),
    (b"Z", b"X"),
    (b"Z", b"i"),
    (b"Z", b"\x00"),
    (b"Z", b"II"),
    # RowDescription
    (b"T", b""),
    (b"T", b"\xff\xff"),  # negative count
    (b"T", b"\x00\x01"),
    (b"T", b"\x00\x01id"),
    (b"T", b"\x00\x01id\x00\x00\x00\x40\x00"),
    (b"T", b"\x00\x01id\x00" + bytes(17)),
    (b"T", b"\x00\x01id\x00" + bytes(19)),
    (b"T", b"\x00\x00\x00"),
]


@pytest.mark.parametrize(
    ("type_byte", "body"), MALFORMED_BODIES, ids=[f"{t!r}-{b!r}"[:60] for t, b in MALFORMED_BODIES]
)
def test_malformed_body_is_a_protocol_error(type_byte: bytes, body: bytes) -> None:
    with pytest.raises(pgany.ProtocolError):
        decode_backend(type_byte[0], body)
    # The same through the buffer: the frame itself is fine, its body is not.
    buf = ReceiveBuffer()
    buf.feed(frame(type_byte, body))
    with pytest.raises(pgany.ProtocolError):
        take(buf)


#: Messages whose last field runs to the end of the body: any tail decodes.
REST_OF_BODY = (
    m.CopyData,
    m.AuthenticationGSSContinue,
    m.AuthenticationSASLContinue,
    m.AuthenticationSASLFinal,
    m.BackendKeyData,
)
FIXED_CASES = [(msg, data) for msg, data in BACKEND_CASES if not isinstance(msg, REST_OF_BODY)]


@pytest.mark.parametrize(("msg", "data"), BACKEND_CASES, ids=CASE_IDS)
def test_every_truncation_of_a_body_is_a_protocol_error(msg: m.BackendMessage, data: bytes) -> None:
    body = data[5:]
    for cut in range(len(body)):
        short = body[:cut]
        try:
            decoded = decode_backend(data[0], short)
        except pgany.ProtocolError:
            continue
        assert isinstance(msg, REST_OF_BODY), (msg, short, decoded)
        assert decoded != msg


@pytest.mark.parametrize(
    ("msg", "data"), FIXED_CASES, ids=[f"{type(msg).__name__}" for msg, _ in FIXED_CASES]
)
def test_an_extra_byte_is_a_protocol_error(msg: m.BackendMessage, data: bytes) -> None:
    with pytest.raises(pgany.ProtocolError, match="extra bytes"):
        decode_backend(data[0], data[5:] + b"\x00")


@pytest.mark.parametrize("length", [0, 1, 2, 3, 0x80000000, 0xFFFFFFFF])
def test_declared_length_below_4_or_huge(length: int) -> None:
    buf = ReceiveBuffer()
    buf.feed(b"Z" + length.to_bytes(4, "big") + b"I")
    with pytest.raises(pgany.ProtocolError, match="invalid length"):
        buf.next_frame()


def test_length_above_the_cap() -> None:
    buf = ReceiveBuffer(max_message_size=64)
    ok = frame(b"d", bytes(60))  # length 64: at the cap
    buf.feed(ok)
    assert take(buf) == m.CopyData(bytes(60))
    # Rejected from the header alone, before the body arrives.
    buf.feed(frame(b"d", bytes(61))[:5])
    with pytest.raises(pgany.ProtocolError, match="limit 64"):
        buf.next_frame()


def test_an_incomplete_header_is_not_an_error() -> None:
    buf = ReceiveBuffer(max_message_size=16)
    buf.feed(b"d\xff\xff\xff")
    assert buf.next_frame() is None


# -- ReceiveBuffer --------------------------------------------------------------

SMALL = b"1\x00\x00\x00\x04"  # ParseComplete
N_SMALL = 50_000


def test_feed_in_chunks_keeps_the_buffer_compact() -> None:
    stream = SMALL * N_SMALL
    chunk = 4096
    buf = ReceiveBuffer()
    taken = 0
    largest = 0
    for i in range(0, len(stream), chunk):
        buf.feed(stream[i : i + chunk])
        largest = max(largest, len(buf.data))
        while (f := buf.next_frame()) is not None:
            assert f[0] == ord("1")
            taken += 1
    assert taken == N_SMALL
    # Never more than one chunk plus the tail of one message: consumed bytes are dropped.
    assert largest <= chunk + len(SMALL)
    assert len(buf) == 0
    buf.feed(SMALL)
    assert len(buf.data) == len(SMALL)
    assert buf.pos == 0


def test_taking_messages_never_reslices() -> None:
    # One big feed, then 50,000 takes: each take moves the offset, nothing is copied.
    buf = ReceiveBuffer()
    buf.feed(SMALL * N_SMALL)
    data = buf.data
    size = len(data)
    for i in range(N_SMALL):
        f = buf.next_frame()
        assert f == (ord("1"), 5 * i + 5, 5 * i + 5)
        assert buf.data is data
        assert len(data) == size
    assert buf.next_frame() is None


def test_feed_and_take_is_linear() -> None:
    def run(n: int) -> float:
        stream = SMALL * n
        buf = ReceiveBuffer()
        start = time.perf_counter()
        for i in range(0, len(stream), 1000):
            buf.feed(stream[i : i + 1000])
            while buf.next_frame() is not None:
                pass
        return time.perf_counter() - start

    run(1000)  # warm up
    small = min(run(N_SMALL // 4) for _ in range(3))
    large = min(run(N_SMALL) for _ in range(3))
    # 4x the messages: about 4x the time. Quadratic would be about 16x.
    assert large < small * 10 + 0.05


@pytest.mark.parametrize("leftover", [b"", b"Z\x00"])
def test_feed_with_a_live_view_of_consumed_bytes(leftover: bytes) -> None:
    buf = ReceiveBuffer()
    buf.feed(b"d\x00\x00\x00\x07abc" + leftover)
    f = buf.next_frame()
    assert f is not None
    _, start, end = f
    view = memoryview(buf.data)[start:end]  # e.g. a row that kept its bytes
    buf.feed(b"\x00\x00\x05I" if leftover else b"Z\x00\x00\x00\x05I")
    assert bytes(view) == b"abc"  # still intact
    assert take(buf) == m.ReadyForQuery("I")
    view.release()


def test_feed_with_a_live_view_and_nothing_consumed() -> None:
    buf = ReceiveBuffer()
    buf.feed(b"Z\x00\x00")
    view = memoryview(buf.data)
    buf.feed(b"\x00\x05T")  # must not raise BufferError
    assert bytes(view) == b"Z\x00\x00"
    assert take(buf) == m.ReadyForQuery("T")
    view.release()


def test_feed_accepts_memoryview_and_bytearray() -> None:
    buf = ReceiveBuffer()
    buf.feed(memoryview(b"Z\x00\x00"))
    buf.feed(bytearray(b"\x00\x05E"))
    assert take(buf) == m.ReadyForQuery("E")


def test_take_bytes() -> None:
    buf = ReceiveBuffer()
    assert buf.take_bytes(1) is None
    buf.feed(b"SZ\x00\x00\x00\x05I")
    assert buf.take_bytes(1) == b"S"
    assert take(buf) == m.ReadyForQuery("I")
    assert buf.take_bytes(1) is None
