"""The session: the one road of every request (pgany/_session.py).

What a user relies on from it: who may send while a transaction or stream
holds the connection, statements and portals stay with their connection, a
failed request raises once and leaves the connection usable, and every way
of running SQL reaches the server through the same gate.
"""

from __future__ import annotations

import anyio
import pytest

import pgany

pytestmark = pytest.mark.anyio


async def test_the_task_holding_a_transaction_is_told_to_use_it(client: pgany.Client) -> None:
    async with client.transaction() as tx:
        with pytest.raises(pgany.InterfaceError, match="holds the connection in a transaction"):
            await client.query_value("SELECT 1")
        assert await tx.query_value("SELECT 2") == 2
    assert await client.query_value("SELECT 3") == 3


async def test_the_task_holding_a_stream_is_told_to_use_it(client: pgany.Client) -> None:
    async with client.query_stream("SELECT g FROM generate_series(1, 3) g") as stream:
        with pytest.raises(pgany.InterfaceError, match="holds the connection in a stream"):
            await client.execute("SELECT 1")
        assert [row[0] async for row in stream] == [1, 2, 3]
    assert await client.query_value("SELECT 4") == 4


async def test_other_tasks_wait_at_the_gate_in_order(client: pgany.Client) -> None:
    """While a transaction holds the connection, others' requests wait; none runs inside it."""
    seen: list[str] = []

    async def other() -> None:
        # txid_current_if_assigned() is NULL outside the transaction that wrote.
        seen.append(f"other {await client.query_value('SELECT txid_current_if_assigned()')}")

    async with anyio.create_task_group() as tg:
        async with client.transaction() as tx:
            await tx.execute("CREATE TEMP TABLE gate (x int)")
            tg.start_soon(other)
            await anyio.sleep(0.05)
            seen.append("tx")
            assert await tx.query_value("SELECT txid_current_if_assigned()") is not None
    assert seen == ["tx", "other None"]


async def test_a_statement_being_prepared_by_a_waiting_task_does_not_stall_the_holder(
    client: pgany.Client,
) -> None:
    """The holder needs a statement another task began preparing, which waits at the gate."""
    sql = "SELECT $1::int * 2"
    async with anyio.create_task_group() as tg:
        async with client.transaction() as tx:
            tg.start_soon(client.query_value, sql, 1)
            await anyio.sleep(0.05)  # (it made the cache entry, and waits at the gate)
            with anyio.fail_after(5):
                assert await tx.query_value(sql, 21) == 42


async def test_a_type_being_learned_by_a_waiting_task_does_not_stall_the_holder(
    client: pgany.Client, pg_dsn: str
) -> None:
    """Another task's type lookup was sent after its Describe, behind the holder's BEGIN."""
    name = f"mood_{id(client)}"
    async with pgany.connect(pg_dsn) as admin:
        await admin.execute(f"CREATE TYPE {name} AS ENUM ('sad', 'happy')")
    try:
        async with anyio.create_task_group() as tg:
            tg.start_soon(client.query_value, f"SELECT $1::{name}", "happy")
            for _ in range(3):
                await anyio.lowlevel.checkpoint()  # (its Describe is on its way)
            async with client.transaction() as tx:
                await anyio.sleep(0.05)  # (its lookup waits at the gate now)
                with anyio.fail_after(5):
                    assert await tx.query_value(f"SELECT $1::{name} AS m", "sad") == "sad"
    finally:
        async with pgany.connect(pg_dsn) as admin:
            await admin.execute(f"DROP TYPE {name}")


async def test_statements_and_portals_stay_with_their_connection(
    client: pgany.Client, pg_dsn: str
) -> None:
    stmt = await client.prepare("SELECT $1::int")
    async with pgany.connect(pg_dsn) as other:
        with pytest.raises(pgany.InterfaceError, match="prepared on another connection"):
            await other.query(stmt, 1)
        async with client.transaction() as tx, other.transaction() as other_tx:
            portal = await tx.bind(stmt, 5)
            with pytest.raises(pgany.InterfaceError, match="belongs to another connection"):
                await other_tx.query_portal(portal, 1)
            assert [r[0] for r in await tx.query_portal(portal, 10)] == [5]


async def test_a_failed_request_raises_once_and_the_connection_goes_on(
    client: pgany.Client,
) -> None:
    for _ in range(3):
        with pytest.raises(pgany.errors.DivisionByZero):
            await client.query_value("SELECT 1 / $1::int", 0)
        assert await client.query_value("SELECT 1 / $1::int", 1) == 1
    assert client.transaction_status == "idle"


async def test_every_api_reaches_the_server_through_the_session_gate(
    client: pgany.Client,
) -> None:
    """A cancelled scope stops each way of running SQL at the same gate: nothing is sent."""
    calls = {
        "query": lambda: client.query("SELECT 1"),
        "execute": lambda: client.execute("SELECT 1"),
        "executemany": lambda: client.executemany("SELECT $1::int", [(1,), (2,)]),
        "prepare": lambda: client.prepare("SELECT 2"),
        "simple_query": lambda: client.simple_query("SELECT 1"),
        "batch_execute": lambda: client.batch_execute("SELECT 1"),
    }
    for name, call in calls.items():
        with anyio.CancelScope() as scope:
            scope.cancel()
            await call()
        assert scope.cancelled_caught, name
    # Nothing of them reached the server: no statement was prepared.
    rows = await client.simple_query("SELECT statement FROM pg_prepared_statements")
    assert [m for m in rows if isinstance(m, pgany.SimpleQueryRow)] == []
