"""The sans-I/O Connection, driven by scripted server bytes (no server, no I/O).

The server's side is built with :func:`encode_backend` (tested against the
documented bytes in ``test_messages.py``); what the client writes is read back
from :meth:`Connection.data_to_send` with the frontend decoders.
"""

from __future__ import annotations

import base64
import hashlib
from typing import Any

import pytest
import scramp

import pgany
import pgany.errors
from pgany.protocol import (
    NEED_DATA,
    Connected,
    Connection,
    ConnectionEnded,
    CopyDirection,
    CopyStarted,
    Phase,
    Request,
    RequestDone,
    rows_from_tag,
)
from pgany.protocol import frontend as fe
from pgany.protocol import messages as m
from pgany.protocol.buffer import ReceiveBuffer
from pgany.protocol.messages import decode_backend, encode_backend

USER = "alice"
STARTUP = {"user": USER, "database": "app"}
KEY = b"\x0a\x0b\x0c\x0d"

INT4 = m.FieldDescription("n", 0, 0, 23, 4, -1, 0)
TEXT = m.FieldDescription("s", 0, 0, 25, -1, -1, 0)


def server(*msgs: m.BackendMessage) -> bytes:
    return b"".join(encode_backend(msg) for msg in msgs)


def events(conn: Connection, limit: int = 1000) -> list[Any]:
    """Every event until NEED_DATA (bounded, so a bug cannot hang the suite)."""
    out: list[Any] = []
    for _ in range(limit):
        event = conn.next_event()
        if event is NEED_DATA:
            return out
        out.append(event)
    raise AssertionError(f"no NEED_DATA after {limit} events")


def sent(data: bytes, password_kind: str = "password") -> list[fe.FrontendMessage]:
    """The typed frontend messages in *data*."""
    buf = ReceiveBuffer()
    buf.feed(data)
    out: list[fe.FrontendMessage] = []
    while (frame := buf.next_frame()) is not None:
        type_byte, start, end = frame
        out.append(
            fe.decode_frontend(type_byte, bytes(buf.data[start:end]), password_kind=password_kind)
        )
    assert len(buf) == 0
    return out


def values_factory(buf: memoryview, start: int, end: int) -> tuple[bytes | None, ...]:
    """A row factory: the raw values of the DataRow body at buf[start:end]."""
    row = decode_backend(ord("D"), buf[start:end])
    assert isinstance(row, m.DataRow)
    return row.values


def ready_for_query() -> bytes:
    return server(
        m.ParameterStatus("server_version", "17.2"),
        m.ParameterStatus("TimeZone", "UTC"),
        m.BackendKeyData(4242, KEY),
        m.ReadyForQuery("I"),
    )


def connected(**kwargs: Any) -> Connection:
    """A Connection through a trust startup, its output drained."""
    conn = Connection(STARTUP, **kwargs)
    conn.data_to_send()
    conn.receive_data(server(m.AuthenticationOk()) + ready_for_query())
    assert events(conn)[-1] == Connected()
    assert conn.phase is Phase.IDLE
    return conn


def query(
    conn: Connection, sql: str = "SELECT 1", **kwargs: Any
) -> tuple[Request, list[fe.FrontendMessage]]:
    req = conn.send_request(fe.encode_query(sql), Request(simple=True, **kwargs))
    return req, sent(conn.data_to_send())


def row_response(tag: str, *rows: tuple[bytes | None, ...]) -> bytes:
    return server(
        m.RowDescription((INT4, TEXT)),
        *(m.DataRow(row) for row in rows),
        m.CommandComplete(tag),
        m.ReadyForQuery("I"),
    )


def error(code: str, message: str, severity: str = "ERROR") -> m.ErrorResponse:
    return m.ErrorResponse((("S", severity), ("V", severity), ("C", code), ("M", message)))


# -- startup ----------------------------------------------------------------------


def test_startup_message_is_sent_first() -> None:
    conn = Connection(STARTUP)
    data = conn.data_to_send()
    assert data == b"\x00\x00\x00\x21\x00\x03\x00\x00user\x00alice\x00database\x00app\x00\x00"
    assert fe.decode_startup(data[4:]) == fe.StartupMessage(STARTUP)
    assert conn.data_to_send() == b""
    assert conn.phase is Phase.STARTUP
    assert conn.next_event() is NEED_DATA


def test_a_user_is_required() -> None:
    with pytest.raises(pgany.InterfaceError, match="user"):
        Connection({"database": "app"})


def test_trust_startup() -> None:
    conn = Connection(STARTUP)
    conn.data_to_send()
    conn.receive_data(server(m.AuthenticationOk()) + ready_for_query())
    assert events(conn) == [
        m.ParameterStatus("server_version", "17.2"),
        m.ParameterStatus("TimeZone", "UTC"),
        Connected(),
    ]
    assert conn.phase is Phase.IDLE
    assert conn.parameters == {"server_version": "17.2", "TimeZone": "UTC"}
    assert conn.process_id == 4242
    assert conn.backend_key == KEY
    assert conn.transaction_status == "idle"
    assert conn.in_flight == 0
    assert conn.head is None
    assert conn.data_to_send() == b""  # trust: nothing to answer
    assert "IDLE" in repr(conn)


def test_startup_fed_one_byte_at_a_time() -> None:
    conn = Connection(STARTUP)
    conn.data_to_send()
    data = server(m.AuthenticationOk()) + ready_for_query()
    got: list[Any] = []
    for i in range(len(data)):
        conn.receive_data(data[i : i + 1])
        got += events(conn)
    assert got[-1] == Connected()
    assert conn.process_id == 4242


def test_cleartext_password() -> None:
    conn = Connection(STARTUP, password="s3cr\u00e9t")
    conn.data_to_send()
    conn.receive_data(server(m.AuthenticationCleartextPassword()))
    assert events(conn) == []
    assert conn.phase is Phase.AUTHENTICATING
    # 'p', length 4 + 7 + 1, the UTF-8 password, NUL.
    assert conn.data_to_send() == b"p\x00\x00\x00\x0cs3cr\xc3\xa9t\x00"
    conn.receive_data(server(m.AuthenticationOk()) + ready_for_query())
    assert events(conn)[-1] == Connected()


def test_md5_password() -> None:
    salt = b"\x93\x01\xff\x7a"
    conn = Connection(STARTUP, password="pw")
    conn.data_to_send()
    conn.receive_data(server(m.AuthenticationMD5Password(salt)))
    assert events(conn) == []
    inner = hashlib.md5(b"pw" + USER.encode()).hexdigest().encode()
    expected = b"md5" + hashlib.md5(inner + salt).hexdigest().encode()
    assert len(expected) == 35
    assert conn.data_to_send() == b"p\x00\x00\x00\x28" + expected + b"\x00"
    conn.receive_data(server(m.AuthenticationOk()) + ready_for_query())
    assert events(conn)[-1] == Connected()


@pytest.mark.parametrize(
    "request_msg", [m.AuthenticationCleartextPassword(), m.AuthenticationMD5Password(b"salt")]
)
def test_missing_password(request_msg: m.BackendMessage) -> None:
    conn = Connection(STARTUP)
    conn.data_to_send()
    conn.receive_data(server(request_msg))
    with pytest.raises(pgany.ConnectError, match="password"):
        conn.next_event()
    assert conn.phase is Phase.CLOSED
    assert conn.data_to_send() == b""
    assert events(conn) == [ConnectionEnded(None)]


@pytest.mark.parametrize(
    "request_msg",
    [m.AuthenticationGSS(), m.AuthenticationSSPI(), m.AuthenticationKerberosV5()],
)
def test_unsupported_method(request_msg: m.BackendMessage) -> None:
    conn = Connection(STARTUP, password="pw")
    conn.data_to_send()
    conn.receive_data(server(request_msg))
    with pytest.raises(pgany.ConnectError, match="does not support"):
        conn.next_event()
    assert conn.phase is Phase.CLOSED


class ScramPeer:
    """The server's side of SCRAM-SHA-256, played by scramp."""

    def __init__(self, password: str, *, signature: bytes | None = None) -> None:
        mech = scramp.ScramMechanism("SCRAM-SHA-256")
        auth_info = mech.make_auth_info(password, iteration_count=4096)
        self.users: list[str] = []

        def auth_fn(username: str) -> Any:
            self.users.append(username)
            return auth_info

        self.server = mech.make_server(auth_fn)
        self.signature = signature

    def run(self, conn: Connection) -> None:
        conn.receive_data(server(m.AuthenticationSASL(("SCRAM-SHA-256-PLUS", "SCRAM-SHA-256"))))
        assert events(conn) == []
        [initial] = sent(conn.data_to_send(), "sasl_initial")
        assert isinstance(initial, fe.SASLInitialResponse)
        assert initial.mechanism == "SCRAM-SHA-256"  # no TLS: no -PLUS
        assert initial.data is not None
        self.server.set_client_first(initial.data.decode())
        conn.receive_data(
            server(m.AuthenticationSASLContinue(self.server.get_server_first().encode()))
        )
        assert events(conn) == []
        [final] = sent(conn.data_to_send(), "sasl")
        assert isinstance(final, fe.SASLResponse)
        self.server.set_client_final(final.data.decode())  # raises if the proof is wrong
        outcome = self.server.get_server_final().encode()
        if self.signature is not None:
            outcome = b"v=" + base64.b64encode(self.signature)
        conn.receive_data(server(m.AuthenticationSASLFinal(outcome)))


def test_scram_sha_256() -> None:
    conn = Connection(STARTUP, password="correct horse")
    conn.data_to_send()
    peer = ScramPeer("correct horse")
    peer.run(conn)
    assert events(conn) == []
    assert conn.data_to_send() == b""  # SASLFinal needs no answer
    conn.receive_data(server(m.AuthenticationOk()) + ready_for_query())
    assert events(conn)[-1] == Connected()
    assert peer.users == [USER]


def test_scram_with_a_wrong_server_signature() -> None:
    conn = Connection(STARTUP, password="correct horse")
    conn.data_to_send()
    ScramPeer("correct horse", signature=bytes(32)).run(conn)
    with pytest.raises(pgany.ConnectError, match="signature"):
        conn.next_event()
    assert conn.phase is Phase.CLOSED


def test_scram_proof_with_a_wrong_password_is_refused_by_the_server() -> None:
    conn = Connection(STARTUP, password="wrong")
    conn.data_to_send()
    with pytest.raises(scramp.ScramException):
        ScramPeer("correct horse").run(conn)


def test_scram_without_the_server_final_message() -> None:
    conn = Connection(STARTUP, password="pw")
    conn.data_to_send()
    conn.receive_data(server(m.AuthenticationSASL(("SCRAM-SHA-256",))))
    assert events(conn) == []
    conn.receive_data(server(m.AuthenticationOk()))
    with pytest.raises(pgany.ConnectError, match="without proving"):
        conn.next_event()


def test_scram_without_a_supported_mechanism() -> None:
    conn = Connection(STARTUP, password="pw")
    conn.data_to_send()
    conn.receive_data(server(m.AuthenticationSASL(("SCRAM-SHA-1",))))
    with pytest.raises(pgany.ConnectError, match="no SASL mechanism"):
        conn.next_event()


def test_channel_binding_require_refuses_trust() -> None:
    conn = Connection(STARTUP, channel_binding="require")
    conn.data_to_send()
    conn.receive_data(server(m.AuthenticationOk()))
    with pytest.raises(pgany.ConnectError, match="channel_binding=require"):
        conn.next_event()


def test_sasl_continue_before_sasl_is_a_protocol_error() -> None:
    conn = Connection(STARTUP, password="pw")
    conn.data_to_send()
    conn.receive_data(server(m.AuthenticationSASLContinue(b"r=x")))
    with pytest.raises(pgany.ProtocolError, match="in STARTUP"):
        conn.next_event()
    assert conn.phase is Phase.BROKEN


def test_invalid_password_during_startup() -> None:
    conn = Connection(STARTUP, password="pw")
    conn.data_to_send()
    conn.receive_data(
        server(
            m.AuthenticationCleartextPassword(),
            error("28P01", 'password authentication failed for user "alice"', "FATAL"),
        )
    )
    with pytest.raises(pgany.errors.InvalidPassword) as exc_info:
        conn.next_event()
    err = exc_info.value
    assert isinstance(err, pgany.DatabaseError)
    assert err.sqlstate == "28P01"
    assert err.severity == "FATAL"
    assert conn.phase is Phase.CLOSED
    assert conn.end_error is err


def test_non_fatal_error_during_startup_also_ends_it() -> None:
    conn = Connection(STARTUP)
    conn.data_to_send()
    conn.receive_data(server(m.AuthenticationOk(), error("3D000", "no such database")))
    with pytest.raises(pgany.errors.InvalidCatalogName):
        conn.next_event()
    assert conn.phase is Phase.CLOSED


def test_negotiate_protocol_version_and_notices_during_startup() -> None:
    conn = Connection(STARTUP)
    conn.data_to_send()
    notice = m.NoticeResponse((("S", "WARNING"), ("M", "hello")))
    conn.receive_data(
        server(m.NegotiateProtocolVersion(0, ("_pq_.x",)), notice, m.AuthenticationOk())
        + ready_for_query()
    )
    assert events(conn) == [
        notice,
        m.ParameterStatus("server_version", "17.2"),
        m.ParameterStatus("TimeZone", "UTC"),
        Connected(),
    ]
    assert conn.protocol_minor == 0


def test_requests_before_startup_finished_are_refused() -> None:
    conn = Connection(STARTUP)
    before = conn.data_to_send()
    assert before
    with pytest.raises(pgany.InterfaceError):
        conn.send_request(fe.encode_query("SELECT 1"), Request())
    assert conn.data_to_send() == b""  # nothing was queued
    assert conn.in_flight == 0


def test_eof_during_startup() -> None:
    conn = Connection(STARTUP)
    conn.data_to_send()
    conn.receive_data(b"")
    [ended] = events(conn)
    assert isinstance(ended, ConnectionEnded)
    assert isinstance(ended.error, pgany.ConnectionClosed)
    assert conn.phase is Phase.CLOSED


# -- requests -----------------------------------------------------------------------


def test_one_simple_query() -> None:
    conn = connected()
    req, wrote = query(conn, "SELECT 1, 'a'", row_factory_for=lambda desc: values_factory)
    assert wrote == [fe.Query("SELECT 1, 'a'")]
    assert conn.phase is Phase.BUSY
    assert conn.head is req
    conn.receive_data(row_response("SELECT 1", (b"1", b"a")))
    assert events(conn) == [RequestDone(req)]
    assert req.done
    assert req.error is None
    assert req.status == "I"
    [result] = req.results
    assert result.rows == [(b"1", b"a")]
    assert result.tag == "SELECT 1"
    assert result.rows_affected == 1
    assert result.description == m.RowDescription((INT4, TEXT))
    assert conn.phase is Phase.IDLE
    assert conn.in_flight == 0


def test_pipelined_requests_finish_in_order() -> None:
    conn = connected()
    first, _ = query(conn, "SELECT 1", row_factory_for=lambda desc: values_factory)
    extended = (
        fe.encode_parse("", "SELECT $1")
        + fe.encode_bind("", "", [], [b"2"], [])
        + fe.encode_execute()
        + fe.SYNC
    )
    second = conn.send_request(extended, Request(row_factory=values_factory))
    assert list(conn.requests()) == [first, second]
    assert conn.in_flight == 2
    assert [type(msg) for msg in sent(conn.data_to_send())] == [
        fe.Parse,
        fe.Bind,
        fe.Execute,
        fe.Sync,
    ]
    conn.receive_data(
        row_response("SELECT 1", (b"1", None))
        + server(
            m.ParseComplete(),
            m.BindComplete(),
            m.DataRow((b"2", b"")),
            m.DataRow((None, None)),
            m.CommandComplete("SELECT 2"),
            m.ReadyForQuery("T"),
        )
    )
    assert events(conn) == [RequestDone(first), RequestDone(second)]
    assert [r.rows for r in first.results] == [[(b"1", None)]]
    assert [r.rows for r in second.results] == [[(b"2", b""), (None, None)]]
    assert second.results[0].tag == "SELECT 2"
    assert (first.status, second.status) == ("I", "T")
    assert conn.transaction_status == "in_transaction"
    assert conn.phase is Phase.IDLE


def test_an_error_fails_only_its_own_request() -> None:
    conn = connected()
    first, _ = query(conn, "SELEC 1", row_factory_for=lambda desc: values_factory)
    second, _ = query(conn, "SELECT 2", row_factory_for=lambda desc: values_factory)
    conn.receive_data(
        server(error("42601", 'syntax error at or near "SELEC"'), m.ReadyForQuery("I"))
        + row_response("SELECT 1", (b"2", b"b"))
    )
    assert events(conn) == [RequestDone(first), RequestDone(second)]
    assert isinstance(first.error, pgany.errors.SyntaxError)
    assert first.error.sqlstate == "42601"
    assert first.results == []
    assert second.error is None
    assert second.results[0].rows == [(b"2", b"b")]


def test_simple_query_with_several_statements() -> None:
    conn = connected()
    req, _ = query(conn, "SELECT 1; ; UPDATE t SET x = 1", row_factory_for=lambda d: values_factory)
    conn.receive_data(
        server(
            m.RowDescription((INT4,)),
            m.DataRow((b"1",)),
            m.CommandComplete("SELECT 1"),
            m.EmptyQueryResponse(),
            m.CommandComplete("UPDATE 3"),
            m.ReadyForQuery("I"),
        )
    )
    assert events(conn) == [RequestDone(req)]
    assert [(r.tag, r.empty, r.rows) for r in req.results] == [
        ("SELECT 1", False, [(b"1",)]),
        (None, True, []),
        ("UPDATE 3", False, []),
    ]
    assert req.results[2].rows_affected == 3
    assert req.results[2].description is None


def test_describe_and_portal_suspended() -> None:
    conn = connected()
    req = conn.send_request(b"", Request(row_factory_for=lambda desc: values_factory))
    conn.receive_data(
        server(
            m.ParseComplete(),
            m.ParameterDescription((23, 25)),
            m.RowDescription((INT4,)),
            m.BindComplete(),
            m.DataRow((b"1",)),
            m.PortalSuspended(),
            m.CloseComplete(),
            m.ReadyForQuery("T"),
        )
    )
    assert events(conn) == [RequestDone(req)]
    assert req.param_oids == (23, 25)
    assert req.fields == (INT4,)
    [result] = req.results
    assert result.suspended
    assert result.tag is None
    assert result.rows == [(b"1",)]


def test_no_data() -> None:
    conn = connected()
    req = conn.send_request(b"", Request())
    conn.receive_data(server(m.NoData(), m.CommandComplete("CREATE TABLE"), m.ReadyForQuery("I")))
    assert events(conn) == [RequestDone(req)]
    assert req.fields == ()
    assert req.results[0].tag == "CREATE TABLE"
    assert req.results[0].rows_affected == 0


def test_rows_go_through_the_row_factory() -> None:
    conn = connected()
    calls: list[tuple[int, int]] = []

    def factory(buf: memoryview, start: int, end: int) -> dict[str, Any]:
        calls.append((start, end))
        values = values_factory(buf, start, end)
        return {"n": int(values[0] or b"0"), "s": values[1]}

    req = conn.send_request(b"", Request(row_factory=factory))
    conn.receive_data(row_response("SELECT 2", (b"7", b"x"), (b"8", None)))
    events(conn)
    assert req.results[0].rows == [{"n": 7, "s": b"x"}, {"n": 8, "s": None}]
    assert len(calls) == 2


def test_a_failing_row_factory_fails_the_request_only() -> None:
    conn = connected()

    def factory(buf: memoryview, start: int, end: int) -> Any:
        raise pgany.DecodeError("cannot decode")

    req = conn.send_request(b"", Request(row_factory=factory))
    other = conn.send_request(b"", Request(row_factory=values_factory))
    conn.receive_data(
        row_response("SELECT 2", (b"1", b"a"), (b"2", b"b"))
        + row_response("SELECT 1", (b"3", b"c"))
    )
    assert events(conn) == [RequestDone(req), RequestDone(other)]
    assert isinstance(req.error, pgany.DecodeError)
    assert other.error is None
    assert other.results[0].rows == [(b"3", b"c")]


def test_a_server_error_outranks_a_decoding_error() -> None:
    conn = connected()

    def factory(buf: memoryview, start: int, end: int) -> Any:
        raise pgany.DecodeError("cannot decode")

    req = conn.send_request(b"", Request(row_factory=factory))
    conn.receive_data(
        server(m.DataRow((b"1",)), error("22012", "division by zero"), m.ReadyForQuery("I"))
    )
    events(conn)
    assert isinstance(req.error, pgany.errors.DivisionByZero)
    assert isinstance(req.error.__context__, pgany.DecodeError)


def test_rows_are_skipped_when_nobody_waits() -> None:
    conn = connected()
    calls = []

    def factory(buf: memoryview, start: int, end: int) -> Any:
        calls.append(1)
        return 1

    req = conn.send_request(b"", Request(row_factory=factory))
    req.discard = True
    conn.receive_data(row_response("SELECT 2", (b"1", b"a"), (b"2", b"b")))
    assert events(conn) == [RequestDone(req)]
    assert calls == []
    assert req.results[0].rows == []
    assert req.results[0].tag == "SELECT 2"


def test_rows_kept_as_views_survive_later_reads() -> None:
    # A row factory may keep a view into the receive buffer (a lazy row);
    # feeding more bytes must neither fail nor overwrite those bytes.
    conn = connected()
    req = conn.send_request(b"", Request(row_factory=lambda buf, start, end: buf[start:end]))
    rows_part = server(
        m.RowDescription((INT4, TEXT)), m.DataRow((b"1", b"a")), m.DataRow((b"2", b"b"))
    )
    end_part = server(m.CommandComplete("SELECT 2"), m.ReadyForQuery("I"))
    conn.receive_data(rows_part + end_part[:2])  # rows taken, the tail left behind
    assert events(conn) == []
    rows = list(req.current().rows)
    snapshot = [bytes(r) for r in rows]
    assert snapshot == [
        encode_backend(m.DataRow((b"1", b"a")))[5:],
        encode_backend(m.DataRow((b"2", b"b")))[5:],
    ]
    conn.receive_data(end_part[2:])
    assert events(conn) == [RequestDone(req)]
    conn.receive_data(server(m.NotificationResponse(1, "c", "x" * 100)))
    assert len(events(conn)) == 1
    assert [bytes(r) for r in rows] == snapshot


def test_copy_out_data_is_kept_for_copy_out_requests() -> None:
    conn = connected()
    req, _ = query(conn, "COPY t TO STDOUT")
    req.copy_mode = CopyDirection.OUT
    conn.receive_data(server(m.CopyOutResponse(0, (0, 0))))
    assert events(conn) == [CopyStarted(req)]
    assert conn.phase is Phase.COPY_OUT
    conn.receive_data(
        server(
            m.CopyData(b"1\ta\n"),
            m.CopyData(b"2\tb\n"),
            m.CopyDone(),
            m.CommandComplete("COPY 2"),
            m.ReadyForQuery("I"),
        )
    )
    assert events(conn) == [RequestDone(req)]
    assert req.copy_data == [b"1\ta\n", b"2\tb\n"]
    assert req.copy_bytes == 8
    assert req.results[0].rows_affected == 2


def test_copy_out_data_is_dropped_for_other_requests() -> None:
    conn = connected()
    req, _ = query(conn, "COPY t TO STDOUT")
    conn.receive_data(server(m.CopyOutResponse(0, (0, 0))))
    assert events(conn) == []
    conn.receive_data(
        server(
            m.CopyData(b"1\ta\n"), m.CopyDone(), m.CommandComplete("COPY 1"), m.ReadyForQuery("I")
        )
    )
    assert events(conn) == [RequestDone(req)]
    assert not req.copy_data
    assert req.results[0].rows_affected == 1


def test_copy_in_for_a_copy_in_request_starts_copy() -> None:
    conn = connected()
    req, _ = query(conn, "COPY t FROM STDIN")
    req.copy_mode = CopyDirection.IN
    conn.receive_data(server(m.CopyInResponse(0, (0,))))
    assert events(conn) == [CopyStarted(req)]
    assert conn.phase is Phase.COPY_IN
    conn.send_copy(fe.encode_copy_data(b"1\n"))
    conn.end_copy(fe.COPY_DONE)
    assert sent(conn.data_to_send()) == [fe.CopyDataF(b"1\n"), fe.CopyDoneF()]
    conn.receive_data(server(m.CommandComplete("COPY 1"), m.ReadyForQuery("I")))
    assert events(conn) == [RequestDone(req)]


def test_copy_in_for_a_normal_request_is_refused_with_copy_fail() -> None:
    conn = connected()
    req, _ = query(conn, "COPY t FROM STDIN")
    conn.receive_data(server(m.CopyInResponse(0, (0,))))
    assert events(conn) == []
    assert conn.phase is Phase.BUSY  # through COPY_IN and out again
    [fail] = sent(conn.data_to_send())
    assert isinstance(fail, fe.CopyFail)
    assert "copy_in()" in fail.message
    with pytest.raises(pgany.InterfaceError):
        conn.send_copy(fe.encode_copy_data(b"x"))
    conn.receive_data(server(error("57014", "COPY from stdin failed: ..."), m.ReadyForQuery("I")))
    assert events(conn) == [RequestDone(req)]
    assert isinstance(req.error, pgany.errors.QueryCanceled)


def extended(conn: Connection, **kwargs: Any) -> Request:
    """An extended-protocol request (Bind + Execute + Sync), as query methods send."""
    data = fe.encode_bind_prefix("", "s") + b"\x00\x00\x00\x00\x00\x00"
    data = b"B" + (len(data) + 4).to_bytes(4, "big") + data
    return conn.send_request(data + fe.encode_execute("", 0) + fe.SYNC, Request(**kwargs))


def test_copy_in_for_an_extended_request_is_refused_with_copy_fail_and_sync() -> None:
    # The server swallows a Sync that reaches it during COPY FROM STDIN, and
    # after the CopyFail's error it waits for one: without it, it waits forever.
    conn = connected()
    req = extended(conn)
    conn.data_to_send()
    conn.receive_data(server(m.CopyInResponse(0, (0,))))
    assert events(conn) == []
    assert conn.phase is Phase.BUSY
    fail, sync = sent(conn.data_to_send())
    assert isinstance(fail, fe.CopyFail)
    assert "copy_in()" in fail.message
    assert isinstance(sync, fe.Sync)
    assert req.refused_copy is CopyDirection.IN
    conn.receive_data(server(error("57014", "COPY from stdin failed: ..."), m.ReadyForQuery("I")))
    assert events(conn) == [RequestDone(req)]
    assert conn.phase is Phase.IDLE


def test_copy_in_refused_for_a_simple_request_is_marked_and_sends_no_sync() -> None:
    conn = connected()
    req, _ = query(conn, "COPY t FROM STDIN")
    conn.receive_data(server(m.CopyInResponse(0, (0,))))
    assert events(conn) == []
    [fail] = sent(conn.data_to_send())  # one Query, one ReadyForQuery: no Sync
    assert isinstance(fail, fe.CopyFail)
    assert req.refused_copy is CopyDirection.IN


def test_copy_in_for_an_abandoned_copy_in_request_is_not_marked_refused() -> None:
    conn = connected()
    req, _ = query(conn, "COPY t FROM STDIN")
    req.copy_mode = CopyDirection.IN
    req.discard = True
    conn.receive_data(server(m.CopyInResponse(0, (0,))))
    assert events(conn) == []
    [fail] = sent(conn.data_to_send())
    assert isinstance(fail, fe.CopyFail)
    assert req.refused_copy is None  # copy_in() asked for it: nobody is told otherwise


def test_copy_out_for_a_request_that_did_not_ask_is_drained_and_marked() -> None:
    conn = connected()
    req = extended(conn)
    conn.data_to_send()
    conn.receive_data(
        server(
            m.CopyOutResponse(0, (0,)),
            m.CopyData(b"1\n"),
            m.CopyDone(),
            m.CommandComplete("COPY 1"),
            m.ReadyForQuery("I"),
        )
    )
    assert events(conn) == [RequestDone(req)]
    assert conn.data_to_send() == b""  # nothing to answer
    assert req.refused_copy is CopyDirection.OUT
    assert not req.copy_data
    assert req.error is None


def test_copy_out_for_a_copy_out_request_is_not_marked() -> None:
    conn = connected()
    req, _ = query(conn, "COPY t TO STDOUT")
    req.copy_mode = CopyDirection.OUT
    conn.receive_data(server(m.CopyOutResponse(0, (0,))))
    assert events(conn) == [CopyStarted(req)]
    assert req.refused_copy is None


def test_rows_with_no_columns_follow_an_empty_row_description() -> None:
    conn = connected()
    req, _ = query(conn, "SELECT;", row_factory_for=lambda desc: values_factory)
    conn.receive_data(
        server(
            m.RowDescription(()),
            m.DataRow(()),
            m.DataRow(()),
            m.CommandComplete("SELECT 2"),
            m.ReadyForQuery("I"),
        )
    )
    assert events(conn) == [RequestDone(req)]
    assert req.error is None
    assert req.results[0].rows == [(), ()]


def test_a_row_that_fails_to_decode_is_kept_raw_when_asked() -> None:
    decoded = 0

    def factory(buf: memoryview, start: int, end: int) -> Any:
        nonlocal decoded
        decoded += 1
        if decoded == 2:
            raise pgany.DecodeError("stale")
        return values_factory(buf, start, end)

    conn = connected()
    req = extended(conn, row_factory=factory)
    req.keep_failed_rows = True
    conn.receive_data(
        row_response("SELECT 3", (b"1", b"a"), (b"2", b"b"), (b"3", None))[
            len(encode_backend(m.RowDescription((INT4, TEXT)))) :
        ]
    )
    assert events(conn) == [RequestDone(req)]
    assert isinstance(req.error, pgany.DecodeError)
    assert req.kept_rows == [(b"1", b"a")]
    assert req.failed_rows is not None
    assert [values_factory(memoryview(b), 0, len(b)) for b in req.failed_rows] == [
        (b"2", b"b"),
        (b"3", None),
    ]


def test_copy_outside_copy_in_is_refused() -> None:
    conn = connected()
    query(conn, "SELECT 1")
    with pytest.raises(pgany.InterfaceError, match="in BUSY"):
        conn.end_copy(fe.COPY_DONE)
    with pytest.raises(pgany.InterfaceError, match="in BUSY"):
        conn.send_copy(fe.encode_copy_data(b"x"))
    assert conn.phase is Phase.BUSY
    assert conn.data_to_send() == b""


@pytest.mark.parametrize(
    ("body", "why"),
    [
        (b"TimeZone\x00UTC", "unterminated"),
        (b"TimeZone\x00UTC\x00extra\x00", "extra bytes"),
        (b"TimeZone\x00\xff\xfe\x00", "not UTF-8"),
        (b"TimeZone\x00", "unterminated"),
    ],
)
def test_malformed_parameter_status_is_a_protocol_error(body: bytes, why: str) -> None:
    conn = connected()
    conn.receive_data(b"S" + (len(body) + 4).to_bytes(4, "big") + body)
    with pytest.raises(pgany.ProtocolError, match=why):
        conn.next_event()
    assert conn.parameters["TimeZone"] == "UTC"  # (unchanged)


def test_parameter_status_before_authentication_is_a_protocol_error() -> None:
    conn = Connection(STARTUP)
    conn.data_to_send()
    conn.receive_data(server(m.ParameterStatus("TimeZone", "UTC")))
    with pytest.raises(pgany.ProtocolError):
        conn.next_event()
    assert "TimeZone" not in conn.parameters


def test_notification_and_parameter_status_while_idle_and_busy() -> None:
    conn = connected()
    note = m.NotificationResponse(99, "jobs", "\u2603")
    conn.receive_data(server(note, m.ParameterStatus("TimeZone", "Europe/Paris")))
    assert events(conn) == [note, m.ParameterStatus("TimeZone", "Europe/Paris")]
    assert conn.parameters["TimeZone"] == "Europe/Paris"
    req, _ = query(conn, row_factory_for=lambda d: values_factory)
    conn.receive_data(
        server(m.RowDescription((INT4,)), note, m.DataRow((b"1",)), m.CommandComplete("SELECT 1"))
        + server(m.ReadyForQuery("I"))
    )
    assert events(conn) == [note, RequestDone(req)]
    assert req.results[0].rows == [(b"1",)]


# -- the end -------------------------------------------------------------------------


def test_fatal_error_while_idle() -> None:
    conn = connected()
    conn.receive_data(server(error("57P01", "terminating connection", "FATAL")))
    [ended] = events(conn)
    assert isinstance(ended, ConnectionEnded)
    assert isinstance(ended.error, pgany.errors.AdminShutdown)
    assert conn.end_error is ended.error
    assert conn.phase is Phase.CLOSED
    with pytest.raises(pgany.ConnectionClosed):
        conn.send_request(fe.encode_query("SELECT 1"), Request())
    conn.receive_data(b"")  # the socket's EOF after the FATAL: nothing more
    assert events(conn) == []


def test_fatal_error_while_busy() -> None:
    conn = connected()
    first, _ = query(conn)
    second, _ = query(conn)
    conn.receive_data(server(error("57P01", "terminating connection", "FATAL")))
    got = events(conn)
    assert got[:2] == [RequestDone(first), RequestDone(second)]
    assert isinstance(first.error, pgany.errors.AdminShutdown)
    assert isinstance(second.error, pgany.ConnectionClosed)
    assert second.error.__cause__ is first.error
    assert isinstance(got[2], ConnectionEnded)
    assert got[2].error is first.error
    assert len(got) == 3


def test_eof_with_requests_in_flight() -> None:
    conn = connected()
    first, _ = query(conn)
    second, _ = query(conn)
    conn.receive_data(b"")
    got = events(conn)
    assert got[:2] == [RequestDone(first), RequestDone(second)]
    for req in (first, second):
        assert req.done
        assert isinstance(req.error, pgany.ConnectionClosed)
        assert isinstance(req.error.__cause__, pgany.ConnectionClosed)
    [ended] = got[2:]
    assert isinstance(ended, ConnectionEnded)
    assert isinstance(ended.error, pgany.ConnectionClosed)
    assert conn.phase is Phase.CLOSED
    assert conn.in_flight == 0


def test_eof_in_the_middle_of_a_message() -> None:
    conn = connected()
    conn.receive_data(b"Z\x00\x00")
    conn.receive_data(b"")
    [ended] = events(conn)
    assert isinstance(ended, ConnectionEnded)
    assert isinstance(ended.error, pgany.ProtocolError)


def test_data_after_eof_is_an_interface_error() -> None:
    conn = connected()
    conn.receive_data(b"")
    with pytest.raises(pgany.InterfaceError):
        conn.receive_data(b"Z")


def test_terminate() -> None:
    conn = connected()
    conn.terminate()
    assert conn.data_to_send() == b"X\x00\x00\x00\x04"
    assert conn.phase is Phase.CLOSED
    conn.terminate()  # idempotent
    assert conn.data_to_send() == b""
    with pytest.raises(pgany.ConnectionClosed):
        conn.send_request(fe.encode_query("SELECT 1"), Request())
    assert conn.data_to_send() == b""
    conn.receive_data(b"")
    assert events(conn) == [ConnectionEnded(None)]


def test_fail_all() -> None:
    conn = connected()
    first, _ = query(conn)
    second, _ = query(conn)
    boom = OSError("reset")
    assert conn.fail_all(boom) == [first, second]
    assert first.error is boom and second.error is boom
    assert first.done and second.done
    assert conn.end_error is boom
    assert conn.phase is Phase.CLOSED
    assert conn.in_flight == 0
    with pytest.raises(pgany.ConnectionClosed):
        conn.send_request(b"", Request())


# -- protocol violations -------------------------------------------------------------


def assert_poisoned(conn: Connection) -> None:
    assert conn.phase is Phase.BROKEN
    with pytest.raises(pgany.ProtocolError):
        conn.next_event()
    with pytest.raises(pgany.ConnectionClosed):
        conn.send_request(fe.encode_query("SELECT 1"), Request())
    conn.receive_data(server(m.ReadyForQuery("I")))
    with pytest.raises(pgany.ProtocolError):
        conn.next_event()


def test_ready_for_query_with_nothing_in_flight() -> None:
    conn = connected()
    conn.receive_data(server(m.ReadyForQuery("I")))
    with pytest.raises(pgany.ProtocolError, match="cannot handle ReadyForQuery in IDLE"):
        conn.next_event()
    assert_poisoned(conn)


def test_data_row_without_row_description() -> None:
    conn = connected()
    conn.send_request(fe.encode_query("SELECT 1"), Request())
    conn.receive_data(server(m.DataRow((b"1",))))
    with pytest.raises(pgany.ProtocolError, match="without a RowDescription"):
        conn.next_event()
    assert_poisoned(conn)


@pytest.mark.parametrize(
    "msg",
    [
        m.DataRow((b"1",)),
        m.CommandComplete("SELECT 1"),
        m.BackendKeyData(1, KEY),
        m.AuthenticationOk(),
        m.CopyData(b"x"),
        error("42601", "not FATAL"),
    ],
)
def test_unexpected_message_while_idle(msg: m.BackendMessage) -> None:
    conn = connected()
    conn.receive_data(server(msg))
    with pytest.raises(pgany.ProtocolError, match="in IDLE"):
        conn.next_event()
    assert_poisoned(conn)


@pytest.mark.parametrize(
    "data",
    [
        b"x\x00\x00\x00\x04",  # unknown type
        b"Z\x00\x00\x00\x03",  # length below 4
        b"Z\x00\x00\x00\x05X",  # bad status
        b"C\x00\x00\x00\x06ab",  # missing NUL
        b"d\x00\x00\x01\x00",  # above max_message_size
    ],
)
def test_malformed_bytes_while_busy(data: bytes) -> None:
    conn = connected(max_message_size=128)
    req, _ = query(conn)
    conn.receive_data(data)
    with pytest.raises(pgany.ProtocolError):
        conn.next_event()
    assert_poisoned(conn)
    assert not req.done  # the driver fails it when it tears the connection down
    assert conn.fail_all(pgany.ConnectionClosed("broken")) == [req]


@pytest.mark.parametrize(
    ("tag", "count"),
    [
        ("INSERT 0 5", 5),
        ("SELECT 3", 3),
        ("UPDATE 0", 0),
        ("DELETE 12", 12),
        ("MERGE 2", 2),
        ("COPY 10", 10),
        ("FETCH 1", 1),
        ("MOVE 4", 4),
        ("CREATE TABLE", 0),
        ("LISTEN", 0),
        ("GRANT 5", 0),  # not a row count
        ("", 0),
    ],
)
def test_rows_from_tag(tag: str, count: int) -> None:
    assert rows_from_tag(tag) == count


def test_exclusive_requests_are_visible() -> None:
    conn = connected()
    conn.send_request(fe.encode_query("SELECT 1"), Request())
    assert not conn.exclusive_pending
    conn.send_request(fe.encode_query("COPY t TO STDOUT"), Request(exclusive=True))
    assert conn.exclusive_pending
