"""Frontend messages against PostgreSQL's documented formats.

As in ``test_messages.py``, the expected bytes are written out by hand from
the "Message Formats" page of the PostgreSQL manual, and one table serves the
encoder and the decoder. The first messages of a connection (StartupMessage,
SSLRequest, GSSENCRequest, CancelRequest) have no type byte: an Int32 length,
then an Int32 code.
"""

from __future__ import annotations

from typing import Any

import pytest

import pgany
from pgany.protocol import frontend as fe
from pgany.protocol.buffer import ReceiveBuffer
from pgany.protocol.frontend import decode_frontend, decode_startup, encode_frontend

#: How to read a message back: None for the untyped first messages, else the
#: ``password_kind`` decode_frontend needs (it only matters for ``'p'``).
UNTYPED = None
TYPED = "password"

#: (message, the exact bytes a client sends for it, how to decode it).
FRONTEND_CASES: list[tuple[fe.FrontendMessage, bytes, str | None]] = [
    (
        fe.StartupMessage({"user": "alice", "database": "db"}),
        b"\x00\x00\x00\x20\x00\x03\x00\x00user\x00alice\x00database\x00db\x00\x00",
        UNTYPED,
    ),
    (
        fe.StartupMessage({"user": "j\u00f6"}, 196610),  # protocol 3.2
        b"\x00\x00\x00\x12\x00\x03\x00\x02user\x00j\xc3\xb6\x00\x00",
        UNTYPED,
    ),
    (fe.SSLRequest(), b"\x00\x00\x00\x08\x04\xd2\x16\x2f", UNTYPED),
    (fe.GSSENCRequest(), b"\x00\x00\x00\x08\x04\xd2\x16\x30", UNTYPED),
    (
        fe.CancelRequest(1234, b"\xde\xad\xbe\xef"),
        b"\x00\x00\x00\x10\x04\xd2\x16\x2e\x00\x00\x04\xd2\xde\xad\xbe\xef",
        UNTYPED,
    ),
    (fe.PasswordMessage(b"secret"), b"p\x00\x00\x00\x0bsecret\x00", "password"),
    (fe.PasswordMessage(b""), b"p\x00\x00\x00\x05\x00", "password"),
    (
        fe.SASLInitialResponse("SCRAM-SHA-256", b"n,,n=,r=abc"),
        b"p\x00\x00\x00\x21SCRAM-SHA-256\x00\x00\x00\x00\x0bn,,n=,r=abc",
        "sasl_initial",
    ),
    (
        fe.SASLInitialResponse("SCRAM-SHA-256", None),
        b"p\x00\x00\x00\x16SCRAM-SHA-256\x00\xff\xff\xff\xff",
        "sasl_initial",
    ),
    (fe.SASLResponse(b"c=biws,r=abc,p=xyz"), b"p\x00\x00\x00\x16c=biws,r=abc,p=xyz", "sasl"),
    (fe.Query("SELECT 1"), b"Q\x00\x00\x00\x0dSELECT 1\x00", TYPED),
    (fe.Query("SELECT '\u00e9'"), b"Q\x00\x00\x00\x10SELECT '\xc3\xa9'\x00", TYPED),
    (
        fe.Parse("s1", "SELECT $1", (23,)),
        b"P\x00\x00\x00\x17s1\x00SELECT $1\x00\x00\x01\x00\x00\x00\x17",
        TYPED,
    ),
    (fe.Parse("", "SELECT 1"), b"P\x00\x00\x00\x10\x00SELECT 1\x00\x00\x00", TYPED),
    (
        fe.Bind("", "s1", (1,), (b"\x00\x00\x00\x2a", None), (1,)),
        b"B\x00\x00\x00\x1e\x00s1\x00\x00\x01\x00\x01\x00\x02"
        b"\x00\x00\x00\x04\x00\x00\x00\x2a\xff\xff\xff\xff\x00\x01\x00\x01",
        TYPED,
    ),
    (
        fe.Bind("p", "", (0, 1), (b"a", b""), ()),
        b"B\x00\x00\x00\x1ap\x00\x00\x00\x02\x00\x00\x00\x01\x00\x02"
        b"\x00\x00\x00\x01a\x00\x00\x00\x00\x00\x00",
        TYPED,
    ),
    (fe.Bind("", "", (), (), ()), b"B\x00\x00\x00\x0c\x00\x00\x00\x00\x00\x00\x00\x00", TYPED),
    (fe.Describe("S", "s1"), b"D\x00\x00\x00\x08Ss1\x00", TYPED),
    (fe.Describe("P", ""), b"D\x00\x00\x00\x06P\x00", TYPED),
    (fe.Execute("", 0), b"E\x00\x00\x00\x09\x00\x00\x00\x00\x00", TYPED),
    (fe.Execute("p", 100), b"E\x00\x00\x00\x0ap\x00\x00\x00\x00\x64", TYPED),
    (fe.Sync(), b"S\x00\x00\x00\x04", TYPED),
    (fe.Flush(), b"H\x00\x00\x00\x04", TYPED),
    (fe.Close("S", "s1"), b"C\x00\x00\x00\x08Ss1\x00", TYPED),
    (fe.Close("P", "p"), b"C\x00\x00\x00\x07Pp\x00", TYPED),
    (fe.CopyDataF(b"1\tfoo\n"), b"d\x00\x00\x00\x0a1\tfoo\n", TYPED),
    (fe.CopyDataF(b""), b"d\x00\x00\x00\x04", TYPED),
    (fe.CopyDoneF(), b"c\x00\x00\x00\x04", TYPED),
    (fe.CopyFail("bad"), b"f\x00\x00\x00\x08bad\x00", TYPED),
    (
        fe.FunctionCall(1598, (1,), (b"\x00\x00\x00\x01", None), 1),
        b"F\x00\x00\x00\x1c\x00\x00\x06\x3e\x00\x01\x00\x01\x00\x02"
        b"\x00\x00\x00\x04\x00\x00\x00\x01\xff\xff\xff\xff\x00\x01",
        TYPED,
    ),
    (
        fe.FunctionCall(42, (), (), 0),
        b"F\x00\x00\x00\x0e\x00\x00\x00\x2a\x00\x00\x00\x00\x00\x00",
        TYPED,
    ),
    (fe.Terminate(), b"X\x00\x00\x00\x04", TYPED),
]

CASE_IDS = [f"{type(msg).__name__}-{i}" for i, (msg, _, _) in enumerate(FRONTEND_CASES)]


def frontend_classes() -> set[type[Any]]:
    names = set(fe.__all__) - {"PROTOCOL_VERSION", "FrontendMessage"}
    return {getattr(fe, n) for n in names if isinstance(getattr(fe, n), type)}


def test_the_table_covers_every_frontend_message() -> None:
    assert {type(msg) for msg, _, _ in FRONTEND_CASES} == frontend_classes()
    assert set(fe.FrontendMessage.__args__) == frontend_classes()


def take(buf: ReceiveBuffer, how: str | None) -> fe.FrontendMessage | None:
    """The next whole message in *buf*, as a server would read it, or None."""
    if how is UNTYPED:
        if len(buf) < 4:
            return None
        length = int.from_bytes(buf.data[buf.pos : buf.pos + 4], "big")
        raw = buf.take_bytes(length)
        return None if raw is None else decode_startup(raw[4:])
    frame = buf.next_frame()
    if frame is None:
        return None
    type_byte, start, end = frame
    return decode_frontend(type_byte, bytes(buf.data[start:end]), password_kind=how)


@pytest.mark.parametrize(("msg", "data", "how"), FRONTEND_CASES, ids=CASE_IDS)
def test_encode(msg: fe.FrontendMessage, data: bytes, how: str | None) -> None:
    assert encode_frontend(msg) == data


@pytest.mark.parametrize(("msg", "data", "how"), FRONTEND_CASES, ids=CASE_IDS)
def test_decode_whole(msg: fe.FrontendMessage, data: bytes, how: str | None) -> None:
    if how is UNTYPED:
        assert decode_startup(data[4:]) == msg
    else:
        assert decode_frontend(data[0], data[5:], password_kind=how) == msg
    buf = ReceiveBuffer()
    buf.feed(data)
    assert take(buf, how) == msg
    assert len(buf) == 0


@pytest.mark.parametrize(("msg", "data", "how"), FRONTEND_CASES, ids=CASE_IDS)
def test_decode_one_byte_at_a_time(msg: fe.FrontendMessage, data: bytes, how: str | None) -> None:
    buf = ReceiveBuffer()
    for i in range(len(data) - 1):
        buf.feed(data[i : i + 1])
        assert take(buf, how) is None
    buf.feed(data[-1:])
    assert take(buf, how) == msg
    assert len(buf) == 0


@pytest.mark.parametrize(("msg", "data", "how"), FRONTEND_CASES, ids=CASE_IDS)
def test_decode_with_trailing_data(msg: fe.FrontendMessage, data: bytes, how: str | None) -> None:
    buf = ReceiveBuffer()
    buf.feed(data + b"S\x00\x00")
    assert take(buf, how) == msg
    assert bytes(buf.data[buf.pos :]) == b"S\x00\x00"
    buf.feed(b"\x00\x04")
    assert take(buf, TYPED) == fe.Sync()


def test_a_whole_extended_query_back_to_back() -> None:
    typed = [(msg, data, how) for msg, data, how in FRONTEND_CASES if how == TYPED]
    buf = ReceiveBuffer()
    buf.feed(b"".join(data for _, data, _ in typed))
    assert [take(buf, TYPED) for _ in typed] == [msg for msg, _, _ in typed]
    assert take(buf, TYPED) is None


def test_password_repr_hides_the_password() -> None:
    msg = fe.PasswordMessage(b"hunter2")
    assert "hunter2" not in repr(msg)
    assert "hunter2" not in str(msg)
    assert repr(msg) == "PasswordMessage(password=<hidden>)"
    assert "hunter2" not in repr([msg])


def test_messages_are_frozen_and_slotted() -> None:
    for cls in frontend_classes():
        assert "__slots__" in cls.__dict__, cls
    with pytest.raises(AttributeError):
        fe.Query("x").sql = "y"  # type: ignore[misc]


def test_the_direct_encoders_match_encode_frontend() -> None:
    assert fe.encode_query("SELECT 1") == b"Q\x00\x00\x00\x0dSELECT 1\x00"
    assert fe.encode_bind(
        "", "s1", [1], [bytearray(b"\x00\x00\x00\x2a"), None], [1]
    ) == encode_frontend(fe.Bind("", "s1", (1,), (b"\x00\x00\x00\x2a", None), (1,)))
    assert fe.encode_bind_prefix("p", "s") == b"p\x00s\x00"
    assert fe.encode_execute() == b"E\x00\x00\x00\x09\x00\x00\x00\x00\x00"
    assert fe.encode_copy_data(memoryview(b"ab")) == b"d\x00\x00\x00\x06ab"
    assert fe.encode_cancel_request(1, b"\x00\x00\x00\x02") == (
        b"\x00\x00\x00\x10\x04\xd2\x16\x2e\x00\x00\x00\x01\x00\x00\x00\x02"
    )
    assert fe.encode_password(b"x") == b"p\x00\x00\x00\x06x\x00"
    assert fe.SYNC == b"S\x00\x00\x00\x04"
    assert fe.FLUSH == b"H\x00\x00\x00\x04"
    assert fe.TERMINATE == b"X\x00\x00\x00\x04"
    assert fe.COPY_DONE == b"c\x00\x00\x00\x04"
    assert fe.PROTOCOL_VERSION == 3 << 16


@pytest.mark.parametrize(
    "encode",
    [
        lambda: fe.encode_query("SELECT '\0'"),
        lambda: fe.encode_parse("a\0b", "SELECT 1"),
        lambda: fe.encode_describe("S", "\0"),
        lambda: fe.encode_startup({"user": "a\0"}),
        lambda: fe.encode_bind("", "s\0", [], [], []),
    ],
)
def test_nul_in_a_string_is_an_interface_error(encode: Any) -> None:
    with pytest.raises(pgany.InterfaceError, match="NUL"):
        encode()


def test_copy_fail_drops_nul_characters() -> None:
    assert fe.encode_copy_fail("a\0b") == b"f\x00\x00\x00\x07ab\x00"


def test_encode_frontend_refuses_other_objects() -> None:
    with pytest.raises(KeyError):
        encode_frontend(object())  # type: ignore[arg-type]


# -- malformed input ------------------------------------------------------------

MALFORMED_TYPED: list[tuple[bytes, bytes, str]] = [
    (b"Z", b"", TYPED),  # not a frontend type
    (b"\x00", b"", TYPED),
    (b"Q", b"SELECT 1", TYPED),  # no NUL
    (b"Q", b"SELECT 1\x00x", TYPED),  # extra bytes
    (b"Q", b"\xff\x00", TYPED),  # not UTF-8
    (b"P", b"s\x00SELECT 1\x00", TYPED),  # no OID count
    (b"P", b"s\x00SELECT 1\x00\x00\x01\x00\x00", TYPED),
    (b"P", b"s\x00SELECT 1\x00\xff\xff", TYPED),  # negative count
    (b"B", b"\x00\x00\x00", TYPED),
    (b"B", b"\x00\x00\xff\xff\x00\x00\x00\x00", TYPED),  # negative format count
    (b"B", b"\x00\x00\x00\x00\xff\xff\x00\x00", TYPED),  # negative value count
    (b"B", b"\x00\x00\x00\x00\x00\x01\x00\x00\x00\x05abc\x00\x00", TYPED),
    (b"B", b"\x00\x00\x00\x00\x00\x01\xff\xff\xff\xfe\x00\x00", TYPED),  # length -2
    (b"B", b"\x00\x00\x00\x00\x00\x00\x00\x00\x00", TYPED),
    (b"D", b"", TYPED),
    (b"D", b"S", TYPED),
    (b"E", b"\x00\x00\x00", TYPED),
    (b"E", b"\x00\x00\x00\x00\x00\x00", TYPED),
    (b"S", b"\x00", TYPED),
    (b"H", b"x", TYPED),
    (b"X", b"\x00", TYPED),
    (b"c", b"\x00", TYPED),
    (b"C", b"P", TYPED),
    (b"f", b"bad", TYPED),
    (b"F", b"\x00\x00\x00", TYPED),
    (b"F", b"\x00\x00\x00\x2a\x00\x00\x00\x00", TYPED),
    (b"F", b"\x00\x00\x00\x2a\x00\x00\x00\x00\x00\x00\x00", TYPED),
    (b"p", b"SCRAM-SHA-256\x00\x00\x00", "sasl_initial"),
    (b"p", b"SCRAM-SHA-256\x00\x00\x00\x00\x05abc", "sasl_initial"),
    (b"p", b"SCRAM-SHA-256", "sasl_initial"),
    (b"p", b"SCRAM-SHA-256\x00\xff\xff\xff\xffx", "sasl_initial"),
]


@pytest.mark.parametrize(("type_byte", "body", "how"), MALFORMED_TYPED)
def test_malformed_frontend_message(type_byte: bytes, body: bytes, how: str) -> None:
    with pytest.raises(pgany.ProtocolError):
        decode_frontend(type_byte[0], body, password_kind=how)


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"\x00\x03",
        b"\x00\x03\x00\x00",  # no terminator
        b"\x00\x03\x00\x00user\x00",
        b"\x00\x03\x00\x00user\x00alice\x00",
        b"\x00\x03\x00\x00user\x00alice\x00\x00x",  # extra bytes
        b"\x00\x03\x00\x00\xff\x00x\x00\x00",
        b"\x04\xd2\x16\x2fx",  # SSLRequest with a body
        b"\x04\xd2\x16\x2e\x00\x00",  # CancelRequest without its key
    ],
)
def test_malformed_startup(body: bytes) -> None:
    with pytest.raises(pgany.ProtocolError):
        decode_startup(body)
