"""Connecting: transports, DSN forms, run_connection, failures and authentication."""

from __future__ import annotations

import functools
import socket
from collections.abc import Iterator
from typing import Any

import anyio
import pytest

import pgany
import pgany.errors
from pgany.testing import Cluster

pytestmark = pytest.mark.anyio


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_tcp_and_unix_socket(pg_cluster: Cluster) -> None:
    async with pgany.connect(pg_cluster.dsn()) as client:
        assert await client.query_value("SELECT inet_client_addr() IS NOT NULL")
    async with pgany.connect(pg_cluster.dsn(host=pg_cluster.socket_dir)) as client:
        # Over a Unix socket the server sees no client address.
        assert await client.query_value("SELECT inet_client_addr() IS NULL")


async def test_keyvalue_dsn_and_keywords(pg_cluster: Cluster) -> None:
    dsn = f"host=127.0.0.1 port={pg_cluster.port} user=postgres dbname=postgres"
    async with pgany.connect(
        dsn, application_name="pgany-test", options="-c search_path=pg_catalog"
    ) as c:
        assert await c.query_value("SHOW application_name") == "pgany-test"
        assert await c.query_value("SHOW search_path") == "pg_catalog"
        assert c.parameter_status("application_name") == "pgany-test"
    # Keyword arguments override the DSN.
    async with pgany.connect(pg_cluster.dsn(dbname="nope"), dbname="template1") as c:
        assert await c.query_value("SELECT current_database()") == "template1"


async def test_config_object(pg_cluster: Cluster) -> None:
    config = pgany.Config.from_dsn(pg_cluster.dsn(), application_name="from-config")
    async with pgany.connect(config) as c:
        assert await c.query_value("SHOW application_name") == "from-config"


async def test_run_connection_in_own_task_group(pg_dsn: str) -> None:
    async with anyio.create_task_group() as tg:
        client = await tg.start(pgany.run_connection, pg_dsn)
        assert isinstance(client, pgany.Client)
        assert await client.query_value("SELECT 1") == 1
        await client.close()
    # The task group ended because the connection task returned after close().
    assert client.is_closed


async def test_run_connection_start_raises_connect_error() -> None:
    port = _free_port()
    async with anyio.create_task_group() as tg:
        with pytest.raises(pgany.ConnectError) as info:
            await tg.start(pgany.run_connection, f"postgresql://postgres@127.0.0.1:{port}/postgres")
    assert f"127.0.0.1:{port}" in str(info.value)


async def test_cancelling_the_task_group_closes_the_client(pg_dsn: str) -> None:
    async with anyio.create_task_group() as tg:
        client = await tg.start(pgany.run_connection, pg_dsn)
        tg.cancel_scope.cancel()
    assert client.is_closed
    with pytest.raises(pgany.ConnectionClosed):
        await client.query("SELECT 1")


async def test_connect_error_lists_every_host() -> None:
    p1, p2 = _free_port(), _free_port()
    dsn = f"host=127.0.0.1,127.0.0.1 port={p1},{p2} user=postgres connect_timeout=5"
    with pytest.raises(pgany.ConnectError) as info:
        async with pgany.connect(dsn):
            pass
    message = str(info.value)
    assert "could not connect to 2 hosts" in message
    assert f"127.0.0.1:{p1}" in message and f"127.0.0.1:{p2}" in message
    assert isinstance(info.value, pgany.Error)


async def test_second_host_is_used_when_first_fails(pg_cluster: Cluster) -> None:
    dead = _free_port()
    dsn = f"host=127.0.0.1,127.0.0.1 port={dead},{pg_cluster.port} user=postgres dbname=postgres"
    async with pgany.connect(dsn) as client:
        assert await client.query_value("SELECT 1") == 1


async def test_connect_timeout_against_a_stalled_peer() -> None:
    # A listener that accepts and never answers.
    listener = await anyio.create_tcp_listener(local_host="127.0.0.1")
    port = listener.extra(anyio.abc.SocketAttribute.local_port)
    accepted: list[Any] = []

    async def hold(stream: Any) -> None:
        async with stream:
            accepted.append(stream)
            await anyio.sleep_forever()

    async with anyio.create_task_group() as tg:
        tg.start_soon(listener.serve, hold)
        with anyio.fail_after(10):
            with pytest.raises(pgany.ConnectError, match="timed out"):
                async with pgany.connect(
                    f"postgresql://postgres@127.0.0.1:{port}/postgres?sslmode=disable",
                    connect_timeout=0.5,
                ):
                    pass
        tg.cancel_scope.cancel()
    await listener.aclose()


async def test_body_exception_keeps_its_identity(pg_dsn: str) -> None:
    class Boom(Exception):
        pass

    with pytest.raises(Boom):
        async with pgany.connect(pg_dsn):
            raise Boom()


async def test_database_does_not_exist(pg_cluster: Cluster) -> None:
    with pytest.raises(pgany.ConnectError) as info:
        async with pgany.connect(pg_cluster.dsn(dbname="no_such_db")):
            pass
    assert "no_such_db" in str(info.value)
    assert isinstance(info.value.__cause__, pgany.errors.InvalidCatalogName)


# -- authentication ------------------------------------------------------------------

PASSWORD = "s3cret-Pässword"


@pytest.fixture(scope="module")
def auth_users(pg_cluster: Cluster) -> Iterator[None]:
    """Roles whose passwords are stored with each method, and pg_hba rules to match."""
    for role, encryption in (
        ("u_scram", "scram-sha-256"),
        ("u_md5", "md5"),
        ("u_clear", "scram-sha-256"),
    ):
        pg_cluster.sql(
            f"SET password_encryption = '{encryption}'; DROP ROLE IF EXISTS {role}; "
            f"CREATE ROLE {role} LOGIN PASSWORD '{PASSWORD}'"
        )
    pg_cluster.sql("DROP ROLE IF EXISTS u_trust; CREATE ROLE u_trust LOGIN")
    hba = [
        "host all u_scram 127.0.0.1/32 scram-sha-256",
        "host all u_md5 127.0.0.1/32 md5",
        "host all u_clear 127.0.0.1/32 password",
        "host all u_trust 127.0.0.1/32 trust",
    ]
    with pg_cluster.temporary_hba(hba):
        yield


@pytest.mark.usefixtures("auth_users")
@pytest.mark.parametrize("user", ["u_scram", "u_md5", "u_clear"])
async def test_password_methods(pg_cluster: Cluster, user: str) -> None:
    connect = functools.partial(pgany.connect, pg_cluster.dsn(user=user), sslmode="disable")
    async with connect(password=PASSWORD) as client:
        assert await client.query_value("SELECT current_user") == user
    with pytest.raises(pgany.errors.InvalidPassword) as info:
        async with connect(password="wrong"):
            pass
    assert "wrong" not in str(info.value) and PASSWORD not in repr(info.value)
    assert info.value.sqlstate == "28P01"
    with pytest.raises(pgany.ConnectError, match="none was given"):
        async with connect(password=None):
            pass


@pytest.mark.usefixtures("auth_users")
async def test_trust(pg_cluster: Cluster) -> None:
    async with pgany.connect(pg_cluster.dsn(user="u_trust")) as client:
        assert await client.query_value("SELECT current_user") == "u_trust"


@pytest.mark.usefixtures("auth_users")
async def test_auth_failure_does_not_try_next_host(pg_cluster: Cluster) -> None:
    dead = _free_port()
    dsn = (
        f"host=127.0.0.1,127.0.0.1 port={pg_cluster.port},{dead} user=u_scram "
        "dbname=postgres password=wrong sslmode=disable"
    )
    with pytest.raises(pgany.errors.InvalidPassword):
        async with pgany.connect(dsn):
            pass


@pytest.mark.usefixtures("auth_users")
async def test_channel_binding_require_without_tls(pg_cluster: Cluster) -> None:
    with pytest.raises(pgany.ConnectError, match="channel_binding=require"):
        async with pgany.connect(
            pg_cluster.dsn(user="u_scram"),
            password=PASSWORD,
            sslmode="disable",
            channel_binding="require",
        ):
            pass


async def test_password_not_in_config_repr(pg_cluster: Cluster) -> None:
    config = pgany.Config.from_dsn(pg_cluster.dsn(password="hunter2"))
    assert "hunter2" not in repr(config)
    assert "hunter2" not in str(config)
    async with pgany.connect(config) as client:
        assert "hunter2" not in repr(client)
