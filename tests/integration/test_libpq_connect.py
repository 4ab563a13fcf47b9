"""Connecting like libpq against a real server: files, environment, hosts, session kinds, require_auth.

Plain TCP and Unix sockets only, so every test here runs on every server
(TLS is in ``test_tls.py``). Where a real primary server can't show a
behaviour (a standby, a server too old to report ``in_hot_standby``, one that
is starting up), a scripted fake server built from pgany's encoders
(``tests/driver/fakeserver.py``) plays it.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import pwd
import socket
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from types import ModuleType
from typing import Any

import anyio
import anyio.abc
import pytest

import pgany
import pgany._connect
import pgany.errors
from pgany.protocol import messages as m
from pgany.testing import Cluster

pytestmark = pytest.mark.anyio

PASSWORD = "pässword:with\\odd chars"


def _load_fakeserver() -> ModuleType:
    """``tests/driver/fakeserver.py``, shared with the driver tests (one module object)."""
    if "fakeserver" in sys.modules:
        return sys.modules["fakeserver"]
    path = Path(__file__).resolve().parent.parent / "driver" / "fakeserver.py"
    spec = importlib.util.spec_from_file_location("fakeserver", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["fakeserver"] = module
    spec.loader.exec_module(module)
    return module


fakeserver = _load_fakeserver()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(autouse=True)
def home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No PG* variable, ~/.pgpass or ~/.pg_service.conf of this machine leaks in."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    for name in list(os.environ):
        if name.startswith("PG") and name != "PGANY_PG_BINDIR":
            monkeypatch.delenv(name)
    return home


@pytest.fixture(scope="module")
def users(pg_cluster: Cluster) -> Iterator[None]:
    """Roles whose passwords are stored with each method, and pg_hba rules to match."""
    for role, encryption in (("lc_scram", "scram-sha-256"), ("lc_md5", "md5"), ("lc_clear", "md5")):
        pg_cluster.sql(
            f"SET password_encryption = '{encryption}'; DROP ROLE IF EXISTS {role}; "
            f"CREATE ROLE {role} LOGIN PASSWORD $pw${PASSWORD}$pw$"
        )
    pg_cluster.sql("DROP ROLE IF EXISTS lc_trust; CREATE ROLE lc_trust LOGIN")
    hba = [
        "host all lc_scram 127.0.0.1/32 scram-sha-256",
        "local all lc_scram scram-sha-256",
        "host all lc_md5 127.0.0.1/32 md5",
        "host all lc_clear 127.0.0.1/32 password",
        "host all lc_trust 127.0.0.1/32 trust",
    ]
    with pg_cluster.temporary_hba(hba):
        yield


def tcp(pg_cluster: Cluster, **params: str) -> str:
    """A key/value DSN for the cluster over TCP, without TLS."""
    extra = " ".join(f"{k}='{v}'" for k, v in params.items())
    return f"host=127.0.0.1 port={pg_cluster.port} dbname=postgres sslmode=disable {extra}"


# -- require_auth ------------------------------------------------------------------------------------


@pytest.mark.usefixtures("users")
@pytest.mark.parametrize(
    ("user", "require_auth", "ok"),
    [
        ("lc_scram", "scram-sha-256", True),
        ("lc_scram", "md5,scram-sha-256", True),
        ("lc_scram", "!md5", True),
        ("lc_scram", "md5", False),
        ("lc_scram", "!scram-sha-256", False),
        ("lc_scram", "none", False),
        ("lc_md5", "md5", True),
        ("lc_md5", "!password", True),
        ("lc_md5", "scram-sha-256", False),
        ("lc_clear", "password", True),
        ("lc_clear", "!password", False),
        ("lc_clear", "md5", False),
        ("lc_trust", "none", True),
        ("lc_trust", "!md5", True),
        ("lc_trust", "scram-sha-256,none", True),
        ("lc_trust", "scram-sha-256", False),
        ("lc_trust", "!none", False),
    ],
)
async def test_require_auth(pg_cluster: Cluster, user: str, require_auth: str, ok: bool) -> None:
    connect = pgany.connect(
        tcp(pg_cluster, user=user, require_auth=require_auth), password=PASSWORD
    )
    if ok:
        async with connect as client:
            assert await client.query_value("SELECT current_user") == user
        return
    with pytest.raises(pgany.ConnectError) as info:
        async with connect:
            pass
    message = str(info.value)
    assert f'authentication method requirement "{require_auth}" failed' in message
    assert PASSWORD not in message


# -- the password file ---------------------------------------------------------------------------------


def _pgpass(path: Path, text: str, mode: int = 0o600) -> Path:
    path.write_text(text)
    path.chmod(mode)
    return path


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace(":", "\\:")


@pytest.mark.usefixtures("users")
@pytest.mark.parametrize("user", ["lc_scram", "lc_md5", "lc_clear"])
async def test_passfile_keyword(pg_cluster: Cluster, tmp_path: Path, user: str) -> None:
    passfile = _pgpass(
        tmp_path / "pgpass",
        f"otherhost:*:*:*:wrong\n127.0.0.1:{pg_cluster.port}:postgres:{user}:{_escape(PASSWORD)}\n",
    )
    async with pgany.connect(tcp(pg_cluster, user=user, passfile=str(passfile))) as client:
        assert await client.query_value("SELECT current_user") == user


@pytest.mark.usefixtures("users")
async def test_pgpassfile_variable_and_home(
    pg_cluster: Cluster,
    tmp_path: Path,
    home: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    line = f"*:{pg_cluster.port}:*:lc_scram:{_escape(PASSWORD)}\n"
    _pgpass(home / ".pgpass", line)
    async with pgany.connect(tcp(pg_cluster, user="lc_scram")) as client:
        assert await client.query_value("SELECT 1") == 1
    (home / ".pgpass").unlink()
    monkeypatch.setenv("PGPASSFILE", str(_pgpass(tmp_path / "elsewhere", line)))
    async with pgany.connect(tcp(pg_cluster, user="lc_scram")) as client:
        assert await client.query_value("SELECT 1") == 1


@pytest.mark.usefixtures("users")
async def test_passfile_over_a_unix_socket(pg_cluster: Cluster, tmp_path: Path) -> None:
    # Not the default socket directory: the directory itself is the host name to match.
    socket_dir = _escape(str(pg_cluster.socket_dir))
    passfile = _pgpass(
        tmp_path / "pgpass",
        f"localhost:*:*:*:wrong\n{socket_dir}:{pg_cluster.port}:*:lc_scram:{_escape(PASSWORD)}\n",
    )
    dsn = f"host={pg_cluster.socket_dir} port={pg_cluster.port} user=lc_scram dbname=postgres"
    async with pgany.connect(dsn, passfile=str(passfile)) as client:
        assert await client.query_value("SELECT inet_client_addr() IS NULL")


@pytest.mark.usefixtures("users")
async def test_passfile_with_group_access_is_ignored_with_a_warning(
    pg_cluster: Cluster, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    passfile = _pgpass(tmp_path / "pgpass", f"*:*:*:*:{_escape(PASSWORD)}\n", mode=0o644)
    with caplog.at_level(logging.WARNING, logger="pgany"):
        with pytest.raises(pgany.ConnectError, match="none was given"):
            async with pgany.connect(tcp(pg_cluster, user="lc_scram", passfile=str(passfile))):
                pass
    assert "has group or world access" in caplog.text
    assert PASSWORD not in caplog.text


@pytest.mark.usefixtures("users")
async def test_given_password_beats_the_passfile(pg_cluster: Cluster, tmp_path: Path) -> None:
    passfile = _pgpass(tmp_path / "pgpass", "*:*:*:*:wrong\n")
    dsn = tcp(pg_cluster, user="lc_scram", passfile=str(passfile))
    async with pgany.connect(dsn, password=PASSWORD) as client:
        assert await client.query_value("SELECT 1") == 1
    # A wrong password from the file: the server's error, which names the file.
    with pytest.raises(pgany.errors.InvalidPassword) as info:
        async with pgany.connect(dsn):
            pass
    notes = getattr(info.value, "__notes__", [])
    assert notes == [f'password retrieved from file "{passfile}"']
    assert "wrong" not in str(info.value)


# -- service files and the environment ----------------------------------------------------------------


@pytest.mark.usefixtures("users")
async def test_service_file(
    pg_cluster: Cluster,
    tmp_path: Path,
    home: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    (home / ".pg_service.conf").write_text(
        f"[app]\nhost=127.0.0.1\nport={pg_cluster.port}\nuser=lc_md5\ndbname=postgres\n"
        f"application_name=from-service\nsslmode=disable\npassword={PASSWORD}\n"
    )
    async with pgany.connect("service=app") as client:
        assert await client.query_value("SELECT current_user") == "lc_md5"
        assert client.parameter_status("application_name") == "from-service"
    # PGSERVICE, and PGSYSCONFDIR for the system-wide file.
    (home / ".pg_service.conf").unlink()
    (tmp_path / "pg_service.conf").write_text(
        f"[sys]\nhost=127.0.0.1\nport={pg_cluster.port}\nuser=lc_trust\ndbname=postgres\n"
    )
    monkeypatch.setenv("PGSYSCONFDIR", str(tmp_path))
    monkeypatch.setenv("PGSERVICE", "sys")
    async with pgany.connect(application_name="kw") as client:
        assert await client.query_value("SELECT current_user") == "lc_trust"
        assert client.parameter_status("application_name") == "kw"


@pytest.mark.usefixtures("users")
async def test_environment_variables(pg_cluster: Cluster, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {
        "PGHOST": "127.0.0.1",
        "PGPORT": str(pg_cluster.port),
        "PGUSER": "lc_clear",
        "PGPASSWORD": PASSWORD,
        "PGDATABASE": "template1",
        "PGAPPNAME": "from-env",
        "PGSSLMODE": "disable",
        "PGOPTIONS": "-c search_path=pg_catalog",
        "PGCONNECT_TIMEOUT": "10",
        "PGTARGETSESSIONATTRS": "read-write",
        "PGREQUIREAUTH": "password",
    }.items():
        monkeypatch.setenv(name, value)
    async with pgany.connect() as client:
        row = await client.query_one(
            "SELECT current_user, current_database(), current_setting('application_name'), "
            "current_setting('search_path')"
        )
        assert tuple(row) == ("lc_clear", "template1", "from-env", "pg_catalog")


async def test_unix_socket_ignores_sslmode(pg_cluster: Cluster) -> None:
    # libpq: sslmode is ignored for Unix-domain sockets, even require.
    for mode in ("require", "verify-full"):
        dsn = pg_cluster.dsn(host=pg_cluster.socket_dir, sslmode=mode)
        async with pgany.connect(dsn) as client:
            assert await client.query_value("SELECT inet_client_addr() IS NULL")


async def test_requirepeer(pg_cluster: Cluster) -> None:
    owner = pwd.getpwuid(
        os.stat(Path(pg_cluster.socket_dir) / f".s.PGSQL.{pg_cluster.port}").st_uid
    )
    dsn = pg_cluster.dsn(host=pg_cluster.socket_dir)
    async with pgany.connect(dsn, requirepeer=owner.pw_name) as client:
        assert await client.query_value("SELECT 1") == 1
    with pytest.raises(pgany.ConnectError, match=f'actual peer user name is "{owner.pw_name}"'):
        async with pgany.connect(dsn, requirepeer="no-such-user"):
            pass


# -- several hosts and addresses ------------------------------------------------------------------------


async def test_hosts_are_tried_in_order_and_every_failure_is_listed(pg_cluster: Cluster) -> None:
    dead1, dead2 = _free_port(), _free_port()
    dsn = (
        f"host=127.0.0.1,no-such-host.invalid,127.0.0.1,127.0.0.1 port={dead1},1,{dead2},"
        f"{pg_cluster.port} user=postgres dbname=postgres sslmode=disable"
    )
    async with pgany.connect(dsn) as client:
        assert await client.query_value("SELECT 1") == 1
    with pytest.raises(pgany.ConnectError) as info:
        async with pgany.connect(dsn.replace(f",{pg_cluster.port}", f",{_free_port()}")):
            pass
    lines = str(info.value).splitlines()
    assert lines[0] == "could not connect to 4 hosts:"
    assert lines[1] == f"  127.0.0.1:{dead1}: Connection refused"
    assert lines[2].startswith(
        '  no-such-host.invalid:1: could not translate host name "no-such-host.invalid"'
    )
    assert lines[3] == f"  127.0.0.1:{dead2}: Connection refused"
    assert len(lines) == 5
    assert len(info.value.attempts) == 4  # type: ignore[attr-defined]


async def test_hostaddr_skips_name_resolution(pg_cluster: Cluster) -> None:
    dsn = (
        f"host=db.example.invalid hostaddr=127.0.0.1 port={pg_cluster.port} "
        "user=postgres dbname=postgres sslmode=disable"
    )
    async with pgany.connect(dsn) as client:
        assert await client.query_value("SELECT 1") == 1


async def test_every_resolved_address_is_tried(
    pg_cluster: Cluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    resolved: list[str] = []

    async def resolve(host: Any) -> list[str]:
        resolved.append(host.host)
        return ["127.0.0.2", "127.0.0.3", "127.0.0.1"] if host.host == "db.test" else ["127.0.0.2"]

    monkeypatch.setattr(pgany._connect, "_resolve", resolve)
    dsn = f"host=db.test port={pg_cluster.port} user=postgres dbname=postgres sslmode=disable"
    async with pgany.connect(dsn) as client:
        assert await client.query_value("SELECT inet_client_addr()::text") == "127.0.0.1/32"
        assert client.cancel_token()._host.hostaddr == "127.0.0.1"  # the address used
    with pytest.raises(pgany.ConnectError) as info:
        async with pgany.connect(dsn.replace("db.test", "other.test")):
            pass
    assert f"other.test:{pg_cluster.port} (127.0.0.2): Connection refused" in str(info.value)
    assert resolved == ["db.test", "other.test"]


async def test_load_balance_hosts_random_shuffles_hosts(monkeypatch: pytest.MonkeyPatch) -> None:
    shuffled: list[list[Any]] = []

    def reverse(items: list[Any]) -> None:
        shuffled.append(list(items))
        items.reverse()

    monkeypatch.setattr(pgany._connect.random, "shuffle", reverse)
    ports = [_free_port() for _ in range(3)]
    dsn = f"host=127.0.0.1 port={','.join(map(str, ports))} user=u sslmode=disable"
    host_line = "127.0.0.1,127.0.0.1,127.0.0.1"
    for balance, order in (("disable", ports), ("random", ports[::-1])):
        with pytest.raises(pgany.ConnectError) as info:
            async with pgany.connect(
                dsn.replace("127.0.0.1", host_line), load_balance_hosts=balance
            ):
                pass
        tried = [host.port for host, _ in info.value.attempts]  # type: ignore[attr-defined]
        assert tried == order
    assert len(shuffled) == 4  # the hosts, then each host's addresses


@asynccontextmanager
async def stalled_listeners(n: int) -> AsyncIterator[list[int]]:
    """*n* TCP listeners that accept and never answer."""
    listeners = [await anyio.create_tcp_listener(local_host="127.0.0.1") for _ in range(n)]

    async def hold(stream: anyio.abc.SocketStream) -> None:
        async with stream:
            await anyio.sleep_forever()

    try:
        async with anyio.create_task_group() as tg:
            for listener in listeners:
                tg.start_soon(listener.serve, hold)
            try:
                yield [
                    listener.extra(anyio.abc.SocketAttribute.local_port) for listener in listeners
                ]
            finally:
                tg.cancel_scope.cancel()
    finally:
        for listener in listeners:
            await listener.aclose()


async def test_connect_timeout_applies_to_each_attempt(pg_cluster: Cluster) -> None:
    async with stalled_listeners(2) as (p1, p2):
        dsn = (
            f"host=127.0.0.1,127.0.0.1,127.0.0.1 port={p1},{p2},{pg_cluster.port} "
            "user=postgres dbname=postgres"
        )
        start = time.monotonic()
        with anyio.fail_after(20):
            async with pgany.connect(dsn, connect_timeout=0.5) as client:
                assert await client.query_value("SELECT 1") == 1
        assert 1.0 <= time.monotonic() - start < 10
        # As text, libpq's rule: at least 2 seconds.
        with anyio.fail_after(20):
            with pytest.raises(pgany.ConnectError) as info:
                async with pgany.connect(f"host=127.0.0.1 port={p1} user=u connect_timeout=1"):
                    pass
        assert str(info.value).endswith(f"127.0.0.1:{p1}: timed out after 2 s")


# -- target_session_attrs -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("attrs", "read_only_default", "error"),
    [
        ("any", False, None),
        ("read-write", False, None),
        ("primary", False, None),
        ("prefer-standby", False, None),
        ("read-only", False, "session is not read-only"),
        ("standby", False, "server is not in hot standby mode"),
        ("read-only", True, None),
        ("read-write", True, "session is read-only"),
        ("primary", True, None),
    ],
)
async def test_target_session_attrs_against_the_primary(
    pg_cluster: Cluster, attrs: str, read_only_default: bool, error: str | None
) -> None:
    dsn = pg_cluster.dsn(sslmode="disable", target_session_attrs=attrs)
    options = "-c default_transaction_read_only=on" if read_only_default else None
    if error is None:
        async with pgany.connect(dsn, options=options) as client:
            assert await client.query_value("SELECT NOT pg_is_in_recovery()")
        return
    with pytest.raises(pgany.ConnectError) as info:
        async with pgany.connect(dsn, options=options):
            pass
    assert f"127.0.0.1:{pg_cluster.port}: {error}" in str(info.value)


async def test_prefer_standby_falls_back_to_the_primary_after_a_full_pass(
    pg_cluster: Cluster,
) -> None:
    dead = _free_port()
    dsn = (
        f"host=127.0.0.1,127.0.0.1 port={dead},{pg_cluster.port} user=postgres dbname=postgres "
        "sslmode=disable target_session_attrs=prefer-standby"
    )
    async with pgany.connect(dsn) as client:
        assert await client.query_value("SELECT NOT pg_is_in_recovery()")


def _greeting(peer: Any, **parameters: str) -> list[m.BackendMessage]:
    return [
        m.AuthenticationOk(),
        *(
            m.ParameterStatus(k, v)
            for k, v in {**fakeserver.SERVER_PARAMETERS, **parameters}.items()
        ),
        m.BackendKeyData(peer.process_id, peer.secret_key),
        m.ReadyForQuery("I"),
    ]


def _old_server(read_only: str, in_recovery: str) -> Any:
    """A server too old to report in_hot_standby: it must be asked."""

    async def script(peer: Any) -> None:
        await peer.send(*_greeting(peer, server_version="13.0"))
        while True:
            unit = await peer.read_until_sync()
            if isinstance(unit[0], fakeserver.fe.Query):
                sql = unit[0].sql
                value = read_only if "transaction_read_only" in sql else in_recovery
                column = m.FieldDescription("x", 0, 0, 25, -1, -1, 0)
                await peer.send(
                    m.RowDescription((column,)),
                    m.DataRow((value.encode(),)),
                    m.CommandComplete("SELECT 1"),
                    m.ReadyForQuery("I"),
                )
            else:
                await peer.answer(unit)

    return script


@pytest.mark.parametrize(
    ("attrs", "read_only", "in_recovery", "asked", "error"),
    [
        ("read-write", "off", "f", "SHOW transaction_read_only", None),
        ("read-write", "on", "f", "SHOW transaction_read_only", "session is read-only"),
        ("read-only", "on", "t", "SHOW transaction_read_only", None),
        ("primary", "off", "f", "SELECT pg_catalog.pg_is_in_recovery()", None),
        (
            "primary",
            "on",
            "t",
            "SELECT pg_catalog.pg_is_in_recovery()",
            "server is in hot standby mode",
        ),
        ("standby", "on", "t", "SELECT pg_catalog.pg_is_in_recovery()", None),
        ("prefer-standby", "off", "f", "SELECT pg_catalog.pg_is_in_recovery()", None),
        ("any", "on", "t", None, None),
    ],
)
async def test_target_session_attrs_asks_an_old_server(
    attrs: str, read_only: str, in_recovery: str, asked: str | None, error: str | None
) -> None:
    async with fakeserver.fake_server(_old_server(read_only, in_recovery), greet=False) as server:
        dsn = server.dsn + f" target_session_attrs={attrs}"
        if error is None:
            async with pgany.connect(dsn) as client:
                assert await client.query_value("SELECT $1::int4", 5) == 5
        else:
            with pytest.raises(pgany.ConnectError, match=error):
                async with pgany.connect(dsn):
                    pass
        queries = [
            msg.sql
            for peer in server.peers
            for msg in peer.received
            if isinstance(msg, fakeserver.fe.Query)
        ]
        # prefer-standby asks on its first pass; the second pass takes the server as it is.
        assert queries == ([asked] if asked else [])


def _reporting_server(in_hot_standby: str, default_read_only: str = "off") -> Any:
    async def script(peer: Any) -> None:
        params = {
            "in_hot_standby": in_hot_standby,
            "default_transaction_read_only": default_read_only,
        }
        await peer.send(*_greeting(peer, **params))
        await peer.serve()

    return script


@pytest.mark.parametrize(
    ("attrs", "chosen"),
    [
        ("any", "primary"),
        ("primary", "primary"),
        ("read-write", "primary"),
        ("standby", "standby"),
        ("read-only", "standby"),
        ("prefer-standby", "standby"),
    ],
)
async def test_target_session_attrs_picks_the_right_host(attrs: str, chosen: str) -> None:
    async with (
        fakeserver.fake_server(_reporting_server("off"), greet=False) as primary,
        fakeserver.fake_server(_reporting_server("on"), greet=False) as standby,
    ):
        dsn = (
            f"host=127.0.0.1,127.0.0.1 port={primary.port},{standby.port} user=fake "
            f"sslmode=disable target_session_attrs={attrs}"
        )
        async with pgany.connect(dsn) as client:
            used = client.cancel_token()._host.port
        assert used == {"primary": primary.port, "standby": standby.port}[chosen]
        if chosen == "standby":
            # The primary did not suit: it was told goodbye (Terminate).
            (peer,) = primary.peers
            with anyio.fail_after(10):
                await peer.closed.wait()
            assert isinstance(peer.received[-1], fakeserver.fe.Terminate)


async def test_prefer_standby_second_pass_takes_any() -> None:
    async with fakeserver.fake_server(_reporting_server("off"), greet=False) as primary:
        dsn = primary.dsn + " sslmode=disable target_session_attrs=prefer-standby"
        async with pgany.connect(dsn) as client:
            assert await client.query_value("SELECT $1::int4", 1) == 1
        assert len(primary.peers) == 2  # the first pass wanted a standby


# -- which failures move on to the next host (libpq's rules) ---------------------------------------------


def _refusing_server(sqlstate: str, message: str) -> Any:
    async def script(peer: Any) -> None:
        await peer.send(fakeserver.error_response(sqlstate, message, "FATAL"))
        await peer.close()

    return script


async def _serving(peer: Any) -> None:
    await peer.serve()


async def test_a_starting_server_moves_on_to_the_next_host() -> None:
    async with (
        fakeserver.fake_server(
            _refusing_server("57P03", "the database system is starting up"), greet=False
        ) as starting,
        fakeserver.fake_server(_serving) as ready,
    ):
        dsn = (
            f"host=127.0.0.1,127.0.0.1 port={starting.port},{ready.port} user=fake sslmode=disable"
        )
        async with pgany.connect(dsn) as client:
            assert await client.query_value("SELECT $1::int4", 3) == 3


async def test_other_startup_errors_stop_at_that_host() -> None:
    async with (
        fakeserver.fake_server(
            _refusing_server("53300", "sorry, too many clients already"), greet=False
        ) as full,
        fakeserver.fake_server(_serving) as ready,
    ):
        dsn = f"host=127.0.0.1,127.0.0.1 port={full.port},{ready.port} user=fake sslmode=disable"
        with pytest.raises(pgany.ConnectError, match="too many clients") as info:
            async with pgany.connect(dsn):
                pass
        assert isinstance(info.value.__cause__, pgany.errors.TooManyConnections)
        assert ready.peers == []
