"""The connection pool against a real server, on asyncio and trio."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from typing import Any

import anyio
import pytest

import pgany
import pgany.testing

pytestmark = pytest.mark.anyio

_names = itertools.count(1)


@pytest.fixture
def app_name() -> str:
    """An application_name per test, to find the pool's backends on the server."""
    return f"pgany_pool_test_{next(_names)}"


@pytest.fixture
async def admin(pg_dsn: str) -> AsyncIterator[pgany.Client]:
    async with pgany.connect(pg_dsn) as c:
        yield c


async def backends(admin: pgany.Client, app_name: str) -> int:
    n: int = await admin.query_value(
        "SELECT count(*) FROM pg_stat_activity WHERE application_name = $1", app_name
    )
    return n


async def test_shortcuts_checkouts_and_transactions(pg_dsn: str) -> None:
    async with pgany.create_pool(pg_dsn, min_size=1, max_size=3) as pool:
        assert isinstance(pool, pgany.Pool)
        assert await pool.query_value("SELECT $1::int + 1", 41) == 42
        assert (await pool.query_one("SELECT 1 AS a"))["a"] == 1
        assert await pool.query_opt("SELECT 1 WHERE false") is None
        assert [r[0] for r in await pool.query("SELECT generate_series(1, 3)")] == [1, 2, 3]
        await pool.execute("CREATE TEMP TABLE IF NOT EXISTS x (a int)")
        async with pool.connection() as client:
            assert isinstance(client, pgany.Client)
            await client.execute("CREATE TABLE IF NOT EXISTS pool_t (a int)")
            await client.execute("TRUNCATE pool_t")
        async with pool.transaction() as tx:
            await tx.executemany("INSERT INTO pool_t VALUES ($1)", [(1,), (2,)])
        await pool.executemany("INSERT INTO pool_t VALUES ($1)", [(3,)])
        assert await pool.query_value("SELECT sum(a) FROM pool_t") == 6
        with pytest.raises(RuntimeError):
            async with pool.transaction() as tx:
                await tx.execute("INSERT INTO pool_t VALUES (100)")
                raise RuntimeError("boom")
        assert await pool.query_value("SELECT count(*) FROM pool_t WHERE a = 100") == 0
        await pool.execute("DROP TABLE pool_t")
    assert pool.is_closed
    with pytest.raises(pgany.PoolClosed):
        await pool.query_value("SELECT 1")
    with pytest.raises(pgany.PoolClosed):
        async with pool.connection():
            pass


async def test_run_pool_in_the_callers_task_group(pg_dsn: str) -> None:
    async with anyio.create_task_group() as tg:
        pool: pgany.Pool = await tg.start(pgany.run_pool, pg_dsn)
        await pool.wait()
        assert await pool.query_value("SELECT 7") == 7
        await pool.close()
    assert pool.is_closed


async def test_cancelling_run_pool_closes_every_connection(
    pg_dsn: str, admin: pgany.Client, app_name: str
) -> None:
    async with anyio.create_task_group() as tg:
        pool: pgany.Pool = await tg.start(
            lambda task_status: pgany.run_pool(
                pg_dsn, min_size=3, application_name=app_name, task_status=task_status
            )
        )
        await pool.wait()
        assert await backends(admin, app_name) == 3
        tg.cancel_scope.cancel()
    with anyio.fail_after(5):
        while await backends(admin, app_name):
            await anyio.sleep(0.02)


async def test_a_returned_client_is_unusable(pg_dsn: str) -> None:
    async with pgany.create_pool(pg_dsn) as pool:
        async with pool.connection() as client:
            pass
        with pytest.raises(pgany.InterfaceError, match="returned to the pool"):
            await client.query_value("SELECT 1")


async def test_min_size_is_kept_after_idle_expiry(
    pg_dsn: str, admin: pgany.Client, app_name: str
) -> None:
    async with pgany.create_pool(
        pg_dsn, min_size=2, max_size=5, max_idle=0.2, application_name=app_name
    ) as pool:
        await pool.wait()
        async with anyio.create_task_group() as tg:
            for _ in range(5):
                tg.start_soon(_hold, pool, 0.2)
        assert pool.statistics().size == 5
        with anyio.fail_after(5):
            while pool.statistics().size > 2:
                await anyio.sleep(0.05)
        await anyio.sleep(0.6)  # (several idle periods more: never below min_size)
        stats = pool.statistics()
        assert stats.size == 2
        assert stats.connections_closed == 3
        assert await backends(admin, app_name) == 2


async def _hold(pool: pgany.Pool, seconds: float) -> None:
    async with pool.connection() as client:
        await client.query_value("SELECT 1")
        await anyio.sleep(seconds)


async def test_max_lifetime_is_checked_at_checkout(pg_dsn: str) -> None:
    async with pgany.create_pool(pg_dsn, min_size=1, max_size=1, max_lifetime=0.3) as pool:
        async with pool.connection() as client:
            first = client.backend_pid
        await anyio.sleep(0.4)
        async with pool.connection() as client:
            assert client.backend_pid != first
        assert pool.statistics().connections_closed >= 1


async def test_max_lifetime_is_checked_at_return(pg_dsn: str) -> None:
    async with pgany.create_pool(pg_dsn, min_size=0, max_size=1, max_lifetime=0.3) as pool:
        async with pool.connection() as client:
            first = client.backend_pid
            await anyio.sleep(0.4)
        assert pool.statistics().connections_closed == 1
        async with pool.connection() as client:
            assert client.backend_pid != first


async def test_a_query_cancelled_mid_flight_leaves_nothing_running(
    pg_dsn: str, admin: pgany.Client, app_name: str
) -> None:
    async with pgany.create_pool(pg_dsn, min_size=1, max_size=1, application_name=app_name) as pool:
        with anyio.move_on_after(0.2):
            async with pool.connection() as client:
                pid = client.backend_pid
                await client.query_value("SELECT pg_sleep(30)")
        # Back in the pool, clean: the server no longer runs the sleep.
        state = await admin.query_value("SELECT state FROM pg_stat_activity WHERE pid = $1", pid)
        assert state in (None, "idle")
        async with pool.connection() as client:
            assert client.transaction_status == "idle"
            assert await client.query_value("SELECT 5") == 5
        stats = pool.statistics()
        assert (stats.idle, stats.in_use, stats.waiting) == (1, 0, 0)


async def test_an_open_transaction_is_rolled_back_and_session_state_reset(pg_dsn: str) -> None:
    async with pgany.create_pool(pg_dsn, min_size=1, max_size=1) as pool:
        await pool.execute("CREATE TABLE IF NOT EXISTS pool_open_tx (a int)")
        async with pool.connection() as client:
            pid = client.backend_pid
            prepared = await client.prepare("SELECT 42")
            await client.batch_execute("BEGIN; INSERT INTO pool_open_tx VALUES (1)")
            await client.execute("SET SESSION search_path TO nowhere")
            await client.listen("pool_channel")
            await client.query_value("SELECT pg_advisory_lock(4242)")
        async with pool.connection() as client:
            assert client.backend_pid == pid  # (the same connection, made clean)
            assert client.transaction_status == "idle"
            assert await client.query_value("SELECT count(*) FROM public.pool_open_tx") == 0
            assert await client.query_value("SHOW search_path") == '"$user", public'
            assert await client.query("SELECT pg_listening_channels()") == []
            assert (
                await client.query_value(
                    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' "
                    "AND pid = pg_backend_pid()"
                )
                == 0
            )
            # The statement cache survives the reset.
            assert await client.query_value(prepared) == 42
        await pool.execute("DROP TABLE public.pool_open_tx")


async def test_checkout_timeout(pg_dsn: str) -> None:
    async with pgany.create_pool(pg_dsn, min_size=1, max_size=1, timeout=0.2) as pool:
        async with pool.connection():
            with pytest.raises(pgany.PoolTimeout) as info:
                async with pool.connection():
                    pass
            assert isinstance(info.value, TimeoutError)
            assert isinstance(info.value, pgany.Error)
            assert "within 0.2 s" in str(info.value)
            with pytest.raises(pgany.PoolTimeout):
                async with pool.connection(timeout=0.05):
                    pass
        stats = pool.statistics()
        assert stats.timeouts == 2
        assert (stats.waiting, stats.in_use, stats.idle) == (0, 0, 1)


async def test_max_waiting(pg_dsn: str) -> None:
    async with pgany.create_pool(pg_dsn, min_size=1, max_size=1, max_waiting=1) as pool:
        got: list[str] = []
        async with anyio.create_task_group() as tg:
            async with pool.connection():

                async def waiter() -> None:
                    async with pool.connection():
                        got.append("waiter")

                tg.start_soon(waiter)
                await anyio.sleep(0.05)
                assert pool.statistics().waiting == 1
                with pytest.raises(pgany.PoolTooBusy):
                    async with pool.connection():
                        pass
        assert got == ["waiter"]
        assert pool.statistics().refused == 1


async def test_waiters_are_served_in_order(pg_dsn: str) -> None:
    async with pgany.create_pool(pg_dsn, min_size=1, max_size=1) as pool:
        order: list[int] = []

        async def take(i: int) -> None:
            async with pool.connection():
                order.append(i)

        async with anyio.create_task_group() as tg:
            async with pool.connection():
                for i in range(6):
                    tg.start_soon(take, i)
                    await anyio.sleep(0.01)
        assert order == list(range(6))


async def test_cancelled_waiters_and_holders_lose_nothing(pg_dsn: str) -> None:
    async with pgany.create_pool(pg_dsn, min_size=2, max_size=2) as pool:
        await pool.wait()
        for round_ in range(20):
            async with anyio.create_task_group() as tg:
                for i in range(10):

                    async def work(i: int = i, round_: int = round_) -> None:
                        with anyio.move_on_after(0.001 * ((i + round_) % 7)):
                            if i % 3 == 0:
                                async with pool.transaction() as tx:
                                    await tx.query_value("SELECT pg_sleep(0.002)")
                            elif i % 3 == 1:
                                async with pool.connection() as client:
                                    await client.query_value("SELECT 1")
                            else:
                                await pool.query_value("SELECT 2")

                    tg.start_soon(work)
        stats = pool.statistics()
        assert (stats.waiting, stats.in_use) == (0, 0)
        assert stats.size == 2
        async with pool.connection() as a, pool.connection() as b:
            assert a.transaction_status == b.transaction_status == "idle"
            assert await a.query_value("SELECT 1") == await b.query_value("SELECT 1") == 1


async def test_shared_shortcuts_need_few_backends(
    pg_dsn: str, admin: pgany.Client, app_name: str
) -> None:
    async with pgany.create_pool(pg_dsn, min_size=1, max_size=3, application_name=app_name) as pool:
        results: list[int] = []

        async def work(i: int) -> None:
            for _ in range(3):
                results.append(await pool.query_value("SELECT $1::int", i))

        async with anyio.create_task_group() as tg:
            for i in range(300):
                tg.start_soon(work, i)
        assert sorted(results) == sorted(list(range(300)) * 3)
        assert pool.statistics().size <= 3
        assert await backends(admin, app_name) <= 3
        assert pool.statistics().shared_requests == 900


async def test_callable_credentials(pg_dsn: str) -> None:
    calls = 0

    def sync_dsn() -> str:
        nonlocal calls
        calls += 1
        return pg_dsn

    async def async_dsn() -> pgany.Config:
        nonlocal calls
        calls += 1
        return pgany.Config.from_dsn(pg_dsn)

    for source in (sync_dsn, async_dsn):
        calls = 0
        async with pgany.create_pool(source, min_size=2, max_size=2) as pool:
            await pool.wait()
            assert await pool.query_value("SELECT 1") == 1
        assert calls == pool.statistics().connections_created == 2


async def test_dead_connections_are_replaced_never_handed_out(
    pg_dsn: str, admin: pgany.Client
) -> None:
    for check in (None, "ping"):
        async with pgany.create_pool(pg_dsn, min_size=2, max_size=2, check=check) as pool:
            await pool.wait()
            async with pool.connection() as a, pool.connection() as b:
                pids = {a.backend_pid, b.backend_pid}
            await admin.query("SELECT pg_terminate_backend(p) FROM unnest($1::int[]) p", list(pids))
            with anyio.fail_after(5):  # (until the backends are gone: the signal takes a moment)
                while await admin.query_value(
                    "SELECT count(*) FROM pg_stat_activity WHERE pid = ANY($1::int[])", list(pids)
                ):
                    await anyio.sleep(0.01)
            for _ in range(4):
                async with pool.connection() as client:
                    assert client.backend_pid not in pids
                    assert await client.query_value("SELECT 1") == 1
                assert await pool.query_value("SELECT 2") == 2
            assert pool.statistics().connections_broken == 2


async def test_a_failing_check_replaces_the_connection(pg_dsn: str) -> None:
    failed: set[int] = set()

    async def check(client: pgany.Client) -> None:
        if client.backend_pid not in failed and len(failed) < 1:
            failed.add(client.backend_pid)
            raise RuntimeError("not this one")

    async with pgany.create_pool(pg_dsn, min_size=1, max_size=2, check=check) as pool:
        async with pool.connection() as client:
            assert client.backend_pid not in failed
        assert len(failed) == 1
        assert pool.statistics().connections_broken == 1


async def test_configure_once_per_connection_and_reset_at_return(pg_dsn: str) -> None:
    configured: list[int] = []
    resets: list[int] = []

    async def configure(client: pgany.Client) -> None:
        configured.append(client.backend_pid)
        await client.register_codec("int4", decode=lambda b: int.from_bytes(b, "big") * 10)

    async def reset(client: pgany.Client) -> None:
        resets.append(client.backend_pid)

    async with pgany.create_pool(
        pg_dsn, min_size=1, max_size=1, configure=configure, reset=reset
    ) as pool:
        for _ in range(3):
            async with pool.connection() as client:
                assert await client.query_value("SELECT 4") == 40
        async with pool.connection():
            pass  # (unused: nothing to reset)
        assert await pool.query_value("SELECT 5") == 50
    assert len(configured) == 1
    assert resets == configured * 3


async def test_close_waits_for_checkouts_then_closes(pg_dsn: str) -> None:
    async with pgany.create_pool(pg_dsn, min_size=1, max_size=2) as pool:
        done: list[str] = []

        async def user() -> None:
            async with pool.connection() as client:
                await anyio.sleep(0.2)
                done.append(str(await client.query_value("SELECT 'finished'")))

        async with anyio.create_task_group() as tg:
            tg.start_soon(user)
            await anyio.sleep(0.05)
            await pool.close(timeout=5)
            assert done == ["finished"]
            assert pool.statistics().size == 0


async def test_close_does_not_wait_past_its_timeout(pg_dsn: str) -> None:
    async with pgany.create_pool(pg_dsn, min_size=1, max_size=1) as pool:
        errors: list[BaseException] = []

        async def user() -> None:
            try:
                async with pool.connection() as client:
                    await anyio.sleep(0.5)
                    await client.query_value("SELECT 1")
            except pgany.Error as exc:
                errors.append(exc)

        async with anyio.create_task_group() as tg:
            tg.start_soon(user)
            await anyio.sleep(0.05)
            with anyio.fail_after(2):
                await pool.close(timeout=0.1)
        assert len(errors) == 1


async def test_resize(pg_dsn: str, admin: pgany.Client, app_name: str) -> None:
    async with pgany.create_pool(pg_dsn, min_size=1, max_size=2, application_name=app_name) as pool:
        await pool.resize(4, 6)
        await pool.wait()
        assert (pool.min_size, pool.max_size) == (4, 6)
        assert pool.statistics().size == 4
        await pool.resize(1, 2)
        with anyio.fail_after(5):
            while await backends(admin, app_name) > 2:
                await anyio.sleep(0.05)
        with pytest.raises(pgany.InterfaceError):
            await pool.resize(3, 2)


async def test_bad_options_fail_at_once(pg_dsn: str) -> None:
    with pytest.raises(pgany.InterfaceError):
        async with pgany.create_pool(pg_dsn, min_size=5, max_size=2):
            pass
    with pytest.raises(pgany.InterfaceError):
        async with pgany.create_pool(pg_dsn, check="sometimes"):
            pass
    with pytest.raises(pgany.InterfaceError):
        async with pgany.create_pool(pg_dsn, no_such_parameter=1):
            pass


async def test_unreachable_server_times_out_with_the_reason(pg_dsn: str) -> None:
    calls: list[Any] = []
    async with pgany.create_pool(
        "postgresql://nobody@127.0.0.1:1/db",
        min_size=1,
        timeout=0.5,
        connect_timeout=1,
        reconnect_timeout=0.2,
        reconnect_failed=calls.append,
    ) as pool:
        with pytest.raises(pgany.PoolTimeout) as info:
            await pool.query_value("SELECT 1")
        assert "connecting fails" in str(info.value)
        assert isinstance(info.value.__cause__, pgany.ConnectError)
        with pytest.raises(pgany.PoolTimeout):
            await pool.wait(timeout=0.3)
        with anyio.fail_after(5):
            while not calls:
                await anyio.sleep(0.05)
        assert calls == [pool]
        assert pool.statistics().connect_errors >= 2


async def test_a_listener_survives_losing_its_connection(
    pg_dsn: str, admin: pgany.Client, app_name: str
) -> None:
    async with pgany.create_pool(pg_dsn, min_size=1, application_name=app_name) as pool:
        async with pool.listen("pool_jobs", "pool_other") as listener:
            assert isinstance(listener, pgany.PoolListener)
            await admin.execute("SELECT pg_notify('pool_jobs', 'one')")
            with anyio.fail_after(5):
                first = await listener.__anext__()
            assert (first.channel, first.payload) == ("pool_jobs", "one")
            assert listener.reconnects == 0
            # Its backend goes away (as in a server restart).
            pid = first.process_id
            await admin.query_value(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE application_name = $1 AND query LIKE 'LISTEN%'",
                app_name,
            )

            async def notify_until_heard() -> None:
                while True:
                    await admin.execute("SELECT pg_notify('pool_other', 'two')")
                    await anyio.sleep(0.05)

            async with anyio.create_task_group() as tg:
                tg.start_soon(notify_until_heard)
                with anyio.fail_after(10):
                    second = await listener.__anext__()
                tg.cancel_scope.cancel()
            assert (second.channel, second.payload) == ("pool_other", "two")
            assert listener.reconnects == 1
            assert pid  # (the notifying backend's pid, from the first notification)
        # The listener's connection is closed with the block; the pool's stay.
        with anyio.fail_after(5):
            while await admin.query_value(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE application_name = $1 AND query LIKE 'LISTEN%'",
                app_name,
            ):
                await anyio.sleep(0.02)
        assert pool.statistics().size >= 1


def _restartable(cluster: Any) -> Any:
    if not isinstance(cluster, pgany.testing.Cluster):
        pytest.skip("needs a throwaway cluster to restart (PGANY_TEST_DSN is set)")
    return cluster


async def test_the_pool_recovers_after_a_server_restart(
    pg_cluster: Any, pg_dsn: str, app_name: str
) -> None:
    cluster = _restartable(pg_cluster)
    async with pgany.create_pool(
        pg_dsn, min_size=2, max_size=4, timeout=15, application_name=app_name
    ) as pool:
        await pool.wait()
        assert await pool.query_value("SELECT 1") == 1
        await anyio.to_thread.run_sync(cluster.restart)
        # The old connections are dead: none is handed out; new ones are made.
        with anyio.fail_after(15):
            while True:
                try:
                    assert await pool.query_value("SELECT 2") == 2
                    break
                except (pgany.ConnectionClosed, pgany.errors.AdminShutdown):
                    await anyio.sleep(0.05)  # (a statement sent as the server went down)
            async with pool.connection() as client:
                assert await client.query_value("SELECT 3") == 3
        await pool.wait()
        assert pool.statistics().connections_broken >= 2


async def test_chaos(pg_cluster: Any, pg_dsn: str, admin: pgany.Client, app_name: str) -> None:
    """1,000 tasks: shortcuts, checkouts and transactions, cancelled and timed out at
    random, while backends are killed and the server restarts once."""
    import random

    cluster = _restartable(pg_cluster)
    rng = random.Random(1234)
    table = f"chaos_{app_name}"
    await admin.execute(f"CREATE TABLE {table} (id int PRIMARY KEY)")
    committed: set[int] = set()  # certainly committed
    unknown: set[int] = set()  # the outcome can't be known (the connection broke)
    rolled_back: set[int] = set()  # certainly not committed
    unexpected: list[BaseException] = []
    expected = (
        pgany.ConnectionClosed,
        pgany.PoolTimeout,
        pgany.errors.AdminShutdown,
        pgany.errors.CannotConnectNow,
        pgany.errors.QueryCanceled,
    )

    async with pgany.create_pool(
        pg_dsn, min_size=2, max_size=8, timeout=5, application_name=app_name
    ) as pool:

        async def task(i: int) -> None:
            kind = i % 4
            delay = rng.choice([None, None, 0.001, 0.005, 0.02, 0.1])
            base = i * 10
            done = False
            try:
                with anyio.move_on_after(delay if delay is not None else 30):
                    if kind == 0:
                        await pool.execute(f"INSERT INTO {table} VALUES ($1)", base)
                        committed.add(base)
                        done = True
                    elif kind == 1:
                        async with pool.transaction() as tx:
                            await tx.execute(f"INSERT INTO {table} VALUES ($1)", base)
                            await tx.execute(f"INSERT INTO {table} VALUES ($1)", base + 1)
                        committed.update((base, base + 1))
                        done = True
                    elif kind == 2:
                        try:
                            async with pool.transaction() as tx:
                                await tx.execute(f"INSERT INTO {table} VALUES ($1)", base)
                                raise LookupError("roll back")
                        except LookupError:
                            rolled_back.add(base)
                            done = True
                    else:
                        async with pool.connection() as client:
                            await client.query_value("SELECT pg_sleep(0.001)")
                        done = True
                if not done and kind in (0, 1):
                    # Cancelled: a shortcut may have committed (autocommit);
                    # a transaction never did (COMMIT is never sent cancelled).
                    if kind == 0:
                        unknown.add(base)
                    else:
                        rolled_back.update((base, base + 1))
            except expected:
                unknown.update((base, base + 1))
            except BaseException as exc:  # pragma: no cover (reported below)
                unexpected.append(exc)

        async def killer() -> None:
            for _ in range(15):
                await anyio.sleep(0.05)
                try:
                    async with pgany.connect(pg_dsn) as killing:
                        await killing.query(
                            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                            "WHERE application_name = $1 ORDER BY random() LIMIT 1",
                            app_name,
                        )
                except (pgany.ConnectError, *expected):
                    pass  # (the server is restarting)

        with anyio.fail_after(120):  # (nothing hangs)
            async with anyio.create_task_group() as tg:
                tg.start_soon(killer)
                for i in range(1000):
                    tg.start_soon(task, i)
                    if i == 500:
                        await anyio.to_thread.run_sync(cluster.restart)
                    if i % 50 == 0:
                        await anyio.sleep(0.01)
        assert unexpected == []
        stats = pool.statistics()
        assert (stats.in_use, stats.waiting) == (0, 0)
        # (the chaos happened: work committed, rolled back and cut off; backends lost)
        assert len(committed) > 100 and len(rolled_back) > 100
        assert stats.connections_broken > 0

        async with pgany.connect(pg_dsn) as check:
            rows = {r[0] for r in await check.query(f"SELECT id FROM {table}")}
            assert committed <= rows
            assert not (rolled_back - unknown) & rows
            assert rows <= committed | unknown
            # The pool's counts are the server's.
            with anyio.fail_after(10):
                while True:
                    n = await check.query_value(
                        "SELECT count(*) FROM pg_stat_activity WHERE application_name = $1",
                        app_name,
                    )
                    if n == pool.statistics().size - pool._connecting:
                        break
                    await anyio.sleep(0.05)
    async with pgany.connect(pg_dsn) as check:
        with anyio.fail_after(10):  # nothing leaked after close
            while await check.query_value(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = $1", app_name
            ):
                await anyio.sleep(0.05)
        await check.execute(f"DROP TABLE {table}")
