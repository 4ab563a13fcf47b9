"""What happens before the session is handed over: startup notices, the SSLRequest's answer."""

from __future__ import annotations

import struct
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from urllib.parse import urlsplit

import anyio
import anyio.abc
import pytest

import pgany

pytestmark = pytest.mark.anyio

SSL_REQUEST_CODE = 80877103


# -- notices sent during startup ---------------------------------------------------------


async def test_startup_notice_reaches_on_notice_first(pg_dsn: str) -> None:
    """A 65-character application_name draws a truncation notice during startup (as in libpq)."""
    notices: list[pgany.DatabaseError] = []
    name = "a" * 65
    async with pgany.connect(pg_dsn, application_name=name, on_notice=notices.append) as client:
        assert [n.message for n in notices] == [
            f'identifier "{name}" will be truncated to "{name[:63]}"'
        ]
        assert notices[0].severity == "NOTICE"
        await client.execute("DO $$ BEGIN RAISE NOTICE 'later'; END $$")
        assert [n.message for n in notices][1:] == ["later"]
        assert await client.query_value("SHOW application_name") == name[:63]


async def test_no_startup_notice_no_call(pg_dsn: str) -> None:
    notices: list[pgany.DatabaseError] = []
    async with pgany.connect(pg_dsn, application_name="short", on_notice=notices.append) as client:
        assert await client.query_value("SELECT 1") == 1
    assert notices == []


async def test_startup_notice_goes_to_the_logger_without_on_notice(
    pg_dsn: str, caplog: pytest.LogCaptureFixture
) -> None:
    name = "b" * 70
    with caplog.at_level("INFO", logger="pgany"):
        async with pgany.connect(pg_dsn, application_name=name):
            pass
    assert any("will be truncated" in r.getMessage() for r in caplog.records)


# -- the answer to SSLRequest --------------------------------------------------------------


class _Peer:
    """A listener that answers SSLRequest with *answer*, and a startup message with an error."""

    def __init__(self, answer: bytes) -> None:
        self.answer = answer
        self.connections = 0
        self.ssl_requests = 0
        self.port = 0

    async def handle(self, stream: anyio.abc.SocketStream) -> None:
        self.connections += 1
        async with stream:
            try:
                head = b""
                while len(head) < 8:
                    head += await stream.receive(8 - len(head))
                _length, code = struct.unpack("!ii", head)
                if code == SSL_REQUEST_CODE:
                    self.ssl_requests += 1
                    await stream.send(self.answer)
                else:  # a plain startup message: refuse it as a busy server would
                    fields = b"SFATAL\0VFATAL\0C53300\0Msorry, too many clients already\0\0"
                    await stream.send(b"E" + struct.pack("!i", len(fields) + 4) + fields)
                with anyio.move_on_after(2):
                    while await stream.receive():
                        pass
            except (anyio.EndOfStream, anyio.BrokenResourceError):
                pass


@asynccontextmanager
async def _peer(answer: bytes) -> AsyncIterator[_Peer]:
    peer = _Peer(answer)
    listener = await anyio.create_tcp_listener(local_host="127.0.0.1")
    peer.port = listener.extra(anyio.abc.SocketAttribute.local_port)
    async with listener, anyio.create_task_group() as tg:
        tg.start_soon(listener.serve, peer.handle)
        try:
            yield peer
        finally:
            tg.cancel_scope.cancel()


ERROR_ANSWER = b"E" + struct.pack("!i", 30) + b"SFATAL\0C53300\0Mtoo many\0\0\0"


@pytest.mark.parametrize("sslmode", ["prefer", "require"])
async def test_invalid_answer_to_ssl_request_fails_without_plain_retry(sslmode: str) -> None:
    async with _peer(b"X") as peer:
        with pytest.raises(pgany.ConnectError) as info:
            async with pgany.connect(
                host="127.0.0.1", port=peer.port, user="u", dbname="d", sslmode=sslmode
            ):
                pass
        assert "received invalid response to SSL negotiation: X" in str(info.value)
        assert peer.connections == 1  # no second, plain connection


@pytest.mark.parametrize("sslmode", ["prefer", "require"])
async def test_error_answer_to_ssl_request_fails_without_plain_retry(sslmode: str) -> None:
    async with _peer(ERROR_ANSWER) as peer:
        with pytest.raises(pgany.ConnectError) as info:
            async with pgany.connect(
                host="127.0.0.1", port=peer.port, user="u", dbname="d", sslmode=sslmode
            ):
                pass
        assert "server sent an error response during SSL exchange" in str(info.value)
        # The server has not proven who it is: its text is not repeated.
        assert "too many" not in str(info.value)
        assert peer.connections == 1


async def test_unprintable_answer_is_shown_escaped() -> None:
    async with _peer(b"\x01") as peer:
        with pytest.raises(pgany.ConnectError, match=r"SSL negotiation: \\x01"):
            async with pgany.connect(
                host="127.0.0.1", port=peer.port, user="u", dbname="d", sslmode="prefer"
            ):
                pass


async def test_allow_tries_tls_after_plain_and_reports_the_invalid_answer() -> None:
    """allow: plain first; refused, then TLS, whose SSLRequest gets nonsense (as libpq)."""
    async with _peer(b"X") as peer:
        with pytest.raises(pgany.ConnectError) as info:
            async with pgany.connect(
                host="127.0.0.1", port=peer.port, user="u", dbname="d", sslmode="allow"
            ):
                pass
        text = str(info.value)
        assert "too many clients" in text
        assert "received invalid response to SSL negotiation: X" in text
        assert (peer.connections, peer.ssl_requests) == (2, 1)


@pytest.mark.parametrize("answer", [b"X", ERROR_ANSWER], ids=["invalid", "error"])
async def test_bad_answer_moves_on_to_the_next_host(pg_dsn: str, answer: bytes) -> None:
    """As libpq does: that host failed; the next one is tried."""
    real = urlsplit(pg_dsn)
    if real.hostname is None or real.port is None:
        pytest.skip("needs a TCP server")
    async with _peer(answer) as peer:
        async with pgany.connect(
            pg_dsn,
            host=f"127.0.0.1,{real.hostname}",
            port=f"{peer.port},{real.port}",
            sslmode="prefer",
        ) as client:
            assert await client.query_value("SELECT 1") == 1
        assert peer.connections == 1
