"""Every public coroutine is a checkpoint, and a cancelled call sends nothing.

The coroutines are found by introspection: every class reachable from
``pgany.__all__`` and ``pgany.copy.__all__`` (or returned by a public
function there) through the return annotations of public methods and
properties. Each has a recipe below; a new coroutine
without one fails :func:`test_every_public_coroutine_has_a_recipe`, so none
can escape these tests.

For each recipe:

- on trio, the call runs under ``trio.testing.assert_checkpoints()``: it
  checks for cancellation and yields to the scheduler, even when its answer
  is already readable;
- on both backends, the call made inside an already-cancelled scope raises
  the cancellation and the server never sees its statement (each statement
  inserts a row into a table the test counts afterwards), and the connection
  stays usable.
"""

from __future__ import annotations

import functools
import inspect
import sys
import typing
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import anyio
import pytest

import pgany
import pgany.copy

pytestmark = pytest.mark.anyio

#: Async dunders that are part of the public surface (context managers, iterators).
_PUBLIC_DUNDERS = ("__aenter__", "__aexit__", "__anext__")


def _pgany_class(obj: object) -> bool:
    return inspect.isclass(obj) and getattr(obj, "__module__", "").startswith("pgany")


def _annotation_classes(hint: object) -> list[type]:
    """The pgany classes named by a type hint (unions and generics opened)."""
    if _pgany_class(hint):
        assert isinstance(hint, type)
        return [hint]
    out: list[type] = []
    for arg in typing.get_args(hint):
        out.extend(_annotation_classes(arg))
    origin = typing.get_origin(hint)
    if origin is not None and _pgany_class(origin):
        out.append(origin)
    return out


def _hints(func: Any) -> dict[str, Any]:
    module = sys.modules.get(getattr(func, "__module__", ""), None)
    ns = dict(vars(pgany))
    if module is not None:
        ns.update(vars(module))
    for name in (
        "pgany.copy",
        "pgany._transaction",
        "pgany._stream",
        "pgany._session",
        "pgany.client",
        "pgany._queries",
        "pgany._pool",
    ):
        ns.update(vars(sys.modules[name]))
    try:
        return typing.get_type_hints(func, globalns=ns)
    except Exception:  # an annotation this test cannot resolve: say which
        raise AssertionError(f"cannot resolve the annotations of {func!r}") from None


def public_classes() -> list[type]:
    """Every pgany class a user can reach from the public names."""
    todo: list[type] = []
    for mod in (pgany, pgany.copy):
        for name in mod.__all__:
            obj = getattr(mod, name)
            if _pgany_class(obj):
                todo.append(obj)
            elif callable(obj):  # (create_pool's context manager, say)
                todo.extend(_annotation_classes(_hints(obj).get("return")))
    seen: list[type] = []
    while todo:
        cls = todo.pop()
        if cls in seen:
            continue
        seen.append(cls)
        for name, member in inspect.getmembers(cls):
            if name.startswith("_") and name not in _PUBLIC_DUNDERS:
                continue
            func = member.fget if isinstance(member, property) else member
            if callable(func) and not inspect.isclass(func):
                ret = _hints(func).get("return")
                todo.extend(_annotation_classes(ret))
    return sorted(seen, key=lambda c: c.__qualname__)


def public_coroutines() -> list[str]:
    """``Class.method`` for every coroutine method of every public class."""
    names = []
    for cls in public_classes():
        for name, member in inspect.getmembers(cls):
            if name.startswith("_") and name not in _PUBLIC_DUNDERS:
                continue
            if inspect.iscoroutinefunction(member):
                names.append(f"{cls.__name__}.{name}")
    for mod in (pgany, pgany.copy):
        for name in mod.__all__:
            if inspect.iscoroutinefunction(getattr(mod, name)):
                names.append(f"{mod.__name__}.{name}")
    return sorted(set(names))


# -- the recipes ---------------------------------------------------------------------------


@dataclass
class Env:
    """What a recipe works with: a client, a table counting side effects, the DSN."""

    client: pgany.Client
    table: str
    dsn: str
    #: Set by a recipe whose call must leave the server something to check.
    extra: dict[str, Any] = field(default_factory=dict)

    def ins(self, tag: str = "x", returning: bool = False) -> str:
        sql = f"INSERT INTO {self.table} VALUES ('{tag}')"
        return sql + " RETURNING 1" if returning else sql

    async def count(self) -> int:
        async with pgany.connect(self.dsn) as other:
            return int(await other.query_value(f"SELECT count(*) FROM {self.table}"))


#: A recipe: given the environment, an async context manager that sets up
#: what the call needs and yields the call itself (an awaitable factory).
Recipe = Callable[[Env], Any]
RECIPES: dict[str, Recipe] = {}


def recipe(*names: str) -> Callable[[Recipe], Recipe]:
    def deco(func: Recipe) -> Recipe:
        for name in names:
            RECIPES[name] = asynccontextmanager(func)
        return func

    return deco


_QUERY_CALLS: dict[str, Callable[[Any, Env], Awaitable[Any]]] = {
    "query": lambda o, e: o.query(e.ins(returning=True)),
    "query_one": lambda o, e: o.query_one(e.ins(returning=True)),
    "query_opt": lambda o, e: o.query_opt(e.ins(returning=True)),
    "query_value": lambda o, e: o.query_value(e.ins(returning=True)),
    "execute": lambda o, e: o.execute(e.ins()),
    "executemany": lambda o, e: o.executemany(
        f"INSERT INTO {e.table} VALUES ($1)", [("a",), ("b",)]
    ),
    "simple_query": lambda o, e: o.simple_query(e.ins()),
    "batch_execute": lambda o, e: o.batch_execute(e.ins()),
    "copy_records_in": lambda o, e: o.copy_records_in(e.table, [("c",)]),
}


@recipe(*(f"Client.{m}" for m in _QUERY_CALLS))
async def _client_query(env: Env, method: str) -> AsyncIterator[Callable[[], Awaitable[Any]]]:
    # Warm the statement cache, so the cached fast path is what is measured.
    if method.startswith("query") or method == "execute":
        await env.client.execute(f"DELETE FROM {env.table}")
        await _QUERY_CALLS[method](env.client, env)
        await env.client.execute(f"DELETE FROM {env.table}")
    yield lambda: _QUERY_CALLS[method](env.client, env)


@recipe(*(f"Transaction.{m}" for m in _QUERY_CALLS), *(f"Savepoint.{m}" for m in _QUERY_CALLS))
async def _tx_query(env: Env, method: str) -> AsyncIterator[Callable[[], Awaitable[Any]]]:
    kind = env.extra["kind"]
    async with env.client.transaction() as tx:
        if kind == "Savepoint":
            async with tx.savepoint() as sp:
                yield lambda: _QUERY_CALLS[method](sp, env)
        else:
            yield lambda: _QUERY_CALLS[method](tx, env)


@recipe("Client.prepare", "Transaction.prepare", "Savepoint.prepare")
async def _prepare(env: Env, method: str) -> AsyncIterator[Callable[[], Awaitable[Any]]]:
    kind = env.extra["kind"]
    env.extra["check"] = _no_prepared
    if kind == "Client":
        yield lambda: env.client.prepare(env.ins())
        return
    async with env.client.transaction() as tx:
        target: Any = tx
        if kind == "Savepoint":
            async with tx.savepoint() as sp:
                yield lambda: sp.prepare(env.ins())
            return
        yield lambda: target.prepare(env.ins())


@recipe("Client.listen")
async def _listen(env: Env, method: str) -> AsyncIterator[Callable[[], Awaitable[Any]]]:
    env.extra["check"] = _no_channels
    yield lambda: env.client.listen("ckpt")


@recipe("Client.unlisten")
async def _unlisten(env: Env, method: str) -> AsyncIterator[Callable[[], Awaitable[Any]]]:
    await env.client.listen("ckpt")
    env.extra["check"] = _still_listening
    yield lambda: env.client.unlisten("ckpt")


async def _no_prepared(env: Env) -> None:
    sql = "SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE 'INSERT%'"
    assert await env.client.query_value(sql) == 0


async def _no_channels(env: Env) -> None:
    assert await env.client.query("SELECT pg_listening_channels()") == []


async def _still_listening(env: Env) -> None:
    rows = await env.client.query("SELECT pg_listening_channels()")
    assert [r[0] for r in rows] == ["ckpt"]
    await env.client.unlisten("*")


@recipe("Client.register_codec")
async def _register(env: Env, method: str) -> AsyncIterator[Callable[[], Awaitable[Any]]]:
    yield lambda: env.client.register_codec("macaddr", decode=bytes, format="text")


@recipe("Client.close")
async def _close(env: Env, method: str) -> AsyncIterator[Callable[[], Awaitable[Any]]]:
    env.extra["closes"] = True
    yield env.client.close


@recipe("Transaction.commit", "Savepoint.commit")
async def _commit(env: Env, method: str) -> AsyncIterator[Callable[[], Awaitable[Any]]]:
    async with _open(env) as target:
        await target.execute(env.ins())
        yield target.commit


@recipe("Transaction.rollback", "Savepoint.rollback")
async def _rollback(env: Env, method: str) -> AsyncIterator[Callable[[], Awaitable[Any]]]:
    env.extra["finishes"] = True  # rolling back is cleanup: it is done even when cancelled
    async with _open(env) as target:
        await target.execute(env.ins())
        yield target.rollback


@asynccontextmanager
async def _open(env: Env) -> AsyncIterator[Any]:
    """The Transaction or Savepoint the recipe is about (its kind in env.extra)."""
    async with env.client.transaction() as tx:
        if env.extra["kind"] == "Savepoint":
            async with tx.savepoint() as sp:
                yield sp
            # (the outer transaction commits: what the savepoint kept is counted)
        else:
            yield tx


@recipe("Transaction.bind", "Savepoint.bind")
async def _bind(env: Env, method: str) -> AsyncIterator[Callable[[], Awaitable[Any]]]:
    async with _open(env) as target:
        yield lambda: target.bind(env.ins(returning=True))


@recipe("Transaction.query_portal", "Savepoint.query_portal")
async def _query_portal(env: Env, method: str) -> AsyncIterator[Callable[[], Awaitable[Any]]]:
    async with _open(env) as target:
        portal = await target.bind("SELECT generate_series(1, 10)")
        await target.query_portal(portal, 2)  # (a statement the server knows)
        yield lambda: target.query_portal(portal, 2)


class _Entering:
    """A context manager's ``__aenter__`` as the call under test; left again if it entered."""

    def __init__(self, ctx: Any) -> None:
        self._ctx = ctx
        self.entered = False

    async def call(self) -> None:
        await self._ctx.__aenter__()
        self.entered = True

    async def leave(self) -> None:
        if self.entered:
            await self._ctx.__aexit__(None, None, None)


@recipe("TransactionContext.__aenter__")
async def _tx_enter(env: Env, method: str) -> AsyncIterator[Callable[[], Awaitable[Any]]]:
    ctx = env.client.transaction()
    env.extra["check"] = _idle
    entering = _Entering(ctx)
    yield entering.call
    await entering.leave()


async def _idle(env: Env) -> None:
    assert env.client.transaction_status == "idle"


@recipe("TransactionContext.__aexit__")
async def _tx_exit(env: Env, method: str) -> AsyncIterator[Callable[[], Awaitable[Any]]]:
    # Leaving the block normally commits, unless the scope is cancelled: then
    # the transaction rolls back and the cancellation propagates.
    ctx = env.client.transaction()
    tx = await ctx.__aenter__()
    await tx.execute(env.ins())
    yield lambda: ctx.__aexit__(None, None, None)


@recipe("SavepointContext.__aenter__")
async def _sp_enter(env: Env, method: str) -> AsyncIterator[Callable[[], Awaitable[Any]]]:
    async with env.client.transaction() as tx:
        ctx = tx.savepoint()
        entering = _Entering(ctx)
        yield entering.call
        await entering.leave()
        # No savepoint may exist if entering was cancelled.
        env.extra["savepoints"] = entering.entered


@recipe("SavepointContext.__aexit__")
async def _sp_exit(env: Env, method: str) -> AsyncIterator[Callable[[], Awaitable[Any]]]:
    async with env.client.transaction() as tx:
        ctx = tx.savepoint()
        sp = await ctx.__aenter__()
        await sp.execute(env.ins())
        yield lambda: ctx.__aexit__(None, None, None)
        if env.extra.get("cancelled"):
            # A cancelled release rolls the savepoint back: its row is gone
            # from the transaction too.
            assert await tx.query_value(f"SELECT count(*) FROM {env.table}") == 0
        await tx.rollback()


@recipe("StreamContext.__aenter__")
async def _stream_enter(env: Env, method: str) -> AsyncIterator[Callable[[], Awaitable[Any]]]:
    ctx = env.client.query_stream(env.ins(returning=True))
    entering = _Entering(ctx)
    env.extra["check"] = _idle
    yield entering.call
    await entering.leave()


@recipe("StreamContext.__aexit__")
async def _stream_exit(env: Env, method: str) -> AsyncIterator[Callable[[], Awaitable[Any]]]:
    ctx = env.client.query_stream(env.ins(returning=True))
    stream = await ctx.__aenter__()
    async for _ in stream:
        pass
    # Leaving the stream's own transaction: cancelled, it rolls back.
    yield lambda: ctx.__aexit__(None, None, None)


@recipe("RowStream.__anext__")
async def _stream_next(env: Env, method: str) -> AsyncIterator[Callable[[], Awaitable[Any]]]:
    # The first row: the stream fetches (a row from a fetched batch only
    # checks for cancellation: test_stream.py::test_cancel_in_the_middle_of_a_batch).
    async with env.client.query_stream("SELECT generate_series(1, 5)", batch_size=2) as stream:
        yield stream.__anext__


@recipe("NotificationStream.__anext__")
async def _notify_next(env: Env, method: str) -> AsyncIterator[Callable[[], Awaitable[Any]]]:
    await env.client.listen("ckpt_n")
    await env.client.execute("NOTIFY ckpt_n, 'p'")
    # (a session's own notification arrives before its NOTIFY returns)
    stream = env.client.notifications()
    # The notification is buffered already: the call is a checkpoint anyway.
    yield stream.__anext__
    await env.client.unlisten("*")


@recipe("CancelToken.cancel_query")
async def _cancel_query(env: Env, method: str) -> AsyncIterator[Callable[[], Awaitable[Any]]]:
    token = env.client.cancel_token()
    outcome: list[object] = []
    async with anyio.create_task_group() as tg:

        async def sleeper() -> None:
            try:
                await env.client.query("SELECT pg_sleep(0.5)")
                outcome.append("finished")
            except pgany.errors.QueryCanceled:
                outcome.append("cancelled")

        tg.start_soon(sleeper)
        await anyio.sleep(0.1)
        yield token.cancel_query
    env.extra["cancel_outcome"] = outcome


@recipe("connect.__aenter__")
async def _connect_enter(env: Env, method: str) -> AsyncIterator[Callable[[], Awaitable[Any]]]:
    ctx = pgany.connect(env.dsn, application_name="ckpt_connect")
    entering = _Entering(ctx)
    yield entering.call
    await entering.leave()
    env.extra["connected"] = entering.entered


@recipe("connect.__aexit__")
async def _connect_exit(env: Env, method: str) -> AsyncIterator[Callable[[], Awaitable[Any]]]:
    # (entered in the scope the call runs in: a task group's scopes must nest)
    ctx = pgany.connect(env.dsn)

    async def enter() -> None:
        env.extra["other"] = await ctx.__aenter__()

    env.extra["prelude"] = enter
    yield lambda: ctx.__aexit__(None, None, None)


@recipe("pgany.run_connection")
async def _run_connection(env: Env, method: str) -> AsyncIterator[Callable[[], Awaitable[Any]]]:
    async def call() -> None:
        async with anyio.create_task_group() as tg:
            config = pgany.Config.from_dsn(env.dsn, application_name="ckpt_run_connection")
            client = await tg.start(pgany.run_connection, config)
            await client.close()

    env.extra["check"] = _no_run_connection
    yield call


async def _no_run_connection(env: Env) -> None:
    sql = "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'ckpt_run_connection'"
    assert await env.client.query_value(sql) == 0


# The pool's recipes: a small pool per test, its backends found by application_name.


def _app(env: Env) -> str:
    return f"ckpt_pool_{env.table}"


async def _pool_backends(env: Env, *, until: int | None = None) -> int:
    """The recipe's pool's backends on the server (polled for a while until there
    are *until*: a closed connection's backend takes a moment to go)."""
    sql = "SELECT count(*) FROM pg_stat_activity WHERE application_name = $1"
    n = int(await env.client.query_value(sql, _app(env)))
    with anyio.move_on_after(0 if until is None else 5):
        while n != until:
            await anyio.sleep(0.02)
            n = int(await env.client.query_value(sql, _app(env)))
    return n


@asynccontextmanager
async def _pool(env: Env, **options: Any) -> AsyncIterator[pgany.Pool]:
    options = {"min_size": 1, "max_size": 1, "application_name": _app(env), **options}
    async with pgany.create_pool(env.dsn, **options) as pool:
        await pool.wait()
        yield pool


async def _pool_intact(env: Env, pool: pgany.Pool) -> None:
    """After a cancelled call: nothing checked out or waiting, nothing left in a
    transaction, and the pool works."""
    s = pool.statistics()
    assert (s.in_use, s.waiting) == (0, 0)
    assert await pool.query_value("SELECT 1") == 1
    sql = "SELECT state FROM pg_stat_activity WHERE application_name = $1"
    assert {r[0] for r in await env.client.query(sql, _app(env))} == {"idle"}


async def _insert_row(env: Env, client: pgany.Client) -> None:
    """A pool's ``check`` or ``configure`` hook that leaves a row to count (shielded:
    reaching the hook at all is what counts)."""
    with anyio.CancelScope(shield=True):
        await client.execute(env.ins("hook"))


@recipe(*(f"Pool.{m}" for m in _QUERY_CALLS if hasattr(pgany.Pool, m)))
async def _pool_query(env: Env, method: str) -> AsyncIterator[Callable[[], Awaitable[Any]]]:
    # One connection, its statement cache warm: the shared fast path is measured.
    async with _pool(env) as pool:
        await _QUERY_CALLS[method](pool, env)
        await pool.execute(f"DELETE FROM {env.table}")
        yield lambda: _QUERY_CALLS[method](pool, env)
        if env.extra.get("cancelled"):
            await _pool_intact(env, pool)


@recipe("_Checkout.__aenter__", "_PoolTransaction.__aenter__")
async def _checkout_enter(env: Env, method: str) -> AsyncIterator[Callable[[], Awaitable[Any]]]:
    # The pool's check inserts a row: a cancelled checkout runs no check (and no BEGIN).
    async with _pool(env, check=lambda c: _insert_row(env, c)) as pool:
        ctx = pool.connection() if env.extra["kind"] == "_Checkout" else pool.transaction()
        entering = _Entering(ctx)
        yield entering.call
        await entering.leave()
        if env.extra.get("cancelled"):
            assert not entering.entered
            assert pool.statistics().checkouts == 0
            await _pool_intact(env, pool)


@recipe("_Checkout.__aexit__")
async def _checkout_exit(env: Env, method: str) -> AsyncIterator[Callable[[], Awaitable[Any]]]:
    # Returning the connection rolls its open transaction back, cancelled or not.
    async with _pool(env) as pool:
        ctx = pool.connection()
        client = await ctx.__aenter__()
        await client.execute("BEGIN")
        await client.execute(env.ins())
        yield lambda: ctx.__aexit__(None, None, None)
        with pytest.raises(pgany.InterfaceError):
            await client.query_value("SELECT 1")  # (returned, even when cancelled)
        if env.extra.get("cancelled"):
            await _pool_intact(env, pool)


@recipe("_PoolTransaction.__aexit__")
async def _pool_tx_exit(env: Env, method: str) -> AsyncIterator[Callable[[], Awaitable[Any]]]:
    # As TransactionContext.__aexit__: cancelled, it rolls back (never commits).
    async with _pool(env) as pool:
        ctx = pool.transaction()
        tx = await ctx.__aenter__()
        await tx.execute(env.ins())
        yield lambda: ctx.__aexit__(None, None, None)
        if env.extra.get("cancelled"):
            await _pool_intact(env, pool)


@recipe("Pool.wait")
async def _pool_wait(env: Env, method: str) -> AsyncIterator[Callable[[], Awaitable[Any]]]:
    async with _pool(env) as pool:
        yield pool.wait  # (min_size connections are open already)


@recipe("Pool.resize")
async def _pool_resize(env: Env, method: str) -> AsyncIterator[Callable[[], Awaitable[Any]]]:
    async with _pool(env, max_size=2) as pool:
        yield lambda: pool.resize(2, 3)
        if env.extra.get("cancelled"):
            assert (pool.min_size, pool.max_size) == (1, 2)
            assert pool.statistics().size == 1  # (no connection opened for it)
            await _pool_intact(env, pool)


@recipe("Pool.close")
async def _pool_close(env: Env, method: str) -> AsyncIterator[Callable[[], Awaitable[Any]]]:
    async with _pool(env, min_size=2, max_size=2) as pool:
        yield pool.close
        if env.extra.get("cancelled"):
            # As Client.close: it closes even when cancelled, then raises.
            assert pool.is_closed
            assert pool.statistics().size == 0
            assert await _pool_backends(env, until=0) == 0


@recipe("PoolListener.__aenter__")
async def _listener_enter(env: Env, method: str) -> AsyncIterator[Callable[[], Awaitable[Any]]]:
    # The listener's connection is configured like the pool's: a row would show it.
    async with _pool(env, configure=lambda c: _insert_row(env, c)) as pool:
        await pool.execute(f"DELETE FROM {env.table}")  # (the pool's own connection's row)
        entering = _Entering(pool.listen(env.table))
        yield entering.call
        await entering.leave()
        if env.extra.get("cancelled"):
            assert not entering.entered
            assert await _pool_backends(env) == 1  # (the pool's own: no listener's)


@recipe("PoolListener.__aexit__")
async def _listener_exit(env: Env, method: str) -> AsyncIterator[Callable[[], Awaitable[Any]]]:
    async with _pool(env) as pool:
        listener = pool.listen(env.table)
        await listener.__aenter__()
        yield lambda: listener.__aexit__(None, None, None)
        if env.extra.get("cancelled"):
            # Its connection is closed even when cancelled.
            assert await _pool_backends(env, until=1) == 1
            await _pool_intact(env, pool)


@recipe("PoolListener.__anext__")
async def _listener_next(env: Env, method: str) -> AsyncIterator[Callable[[], Awaitable[Any]]]:
    async with _pool(env) as pool, pool.listen(env.table) as listener:
        await env.client.execute(f"NOTIFY {env.table}, 'p'")
        await anyio.sleep(0.1)  # (arrived: the call is a checkpoint anyway)
        yield listener.__anext__
        if env.extra.get("cancelled"):
            with anyio.fail_after(5):
                assert (await listener.__anext__()).payload == "p"  # (not lost)


@recipe("pgany.run_pool")
async def _run_pool(env: Env, method: str) -> AsyncIterator[Callable[[], Awaitable[Any]]]:
    # A connection that opened would insert a row (configure) and show on the server.
    async def call() -> None:
        async with anyio.create_task_group() as tg:
            run = functools.partial(
                pgany.run_pool,
                env.dsn,
                application_name=_app(env),
                configure=lambda c: _insert_row(env, c),
            )
            pool = await tg.start(run)
            await pool.close()

    env.extra["check"] = _no_pool_backends
    yield call


async def _no_pool_backends(env: Env) -> None:
    assert await _pool_backends(env) == 0


@recipe("_PoolContext.__aenter__")
async def _create_pool_enter(env: Env, method: str) -> AsyncIterator[Callable[[], Awaitable[Any]]]:
    ctx = pgany.create_pool(
        env.dsn, application_name=_app(env), configure=lambda c: _insert_row(env, c)
    )
    entering = _Entering(ctx)
    env.extra["check"] = _no_pool_backends
    yield entering.call
    await entering.leave()
    if env.extra.get("cancelled"):
        assert not entering.entered


@recipe("_PoolContext.__aexit__")
async def _create_pool_exit(env: Env, method: str) -> AsyncIterator[Callable[[], Awaitable[Any]]]:
    # (entered in the scope the call runs in: a task group's scopes must nest)
    ctx = pgany.create_pool(env.dsn, min_size=2, application_name=_app(env))

    async def enter() -> None:
        pool = await ctx.__aenter__()
        await pool.wait()
        env.extra["pool"] = pool

    env.extra["prelude"] = enter
    env.extra["check"] = _pool_closed
    yield lambda: ctx.__aexit__(None, None, None)


async def _pool_closed(env: Env) -> None:
    # Leaving closes the pool even when cancelled.
    assert env.extra["pool"].is_closed
    assert await _pool_backends(env, until=0) == 0


@recipe("CopyInContext.__aenter__")
async def _copy_in_enter(env: Env, method: str) -> AsyncIterator[Callable[[], Awaitable[Any]]]:
    ctx = env.client.copy_in(f"COPY {env.table} FROM STDIN")
    entering = _Entering(ctx)
    yield entering.call
    await entering.leave()


@recipe("CopyInContext.__aexit__")
async def _copy_in_exit(env: Env, method: str) -> AsyncIterator[Callable[[], Awaitable[Any]]]:
    ctx = env.client.copy_in(f"COPY {env.table} FROM STDIN")
    sink = await ctx.__aenter__()
    await sink.write(b"r\n")
    yield lambda: ctx.__aexit__(None, None, None)


@recipe("CopyIn.write", "CopyIn.write_all")
async def _copy_write(env: Env, method: str) -> AsyncIterator[Callable[[], Awaitable[Any]]]:
    env.extra["aborts_copy"] = True
    try:
        async with env.client.copy_in(f"COPY {env.table} FROM STDIN") as sink:
            if method == "write":
                yield lambda: sink.write(b"r\n")
            else:
                yield lambda: sink.write_all([b"r\n", b"s\n"])
            if env.extra.get("cancelled"):
                raise _Abort  # a cancelled write: the block must not commit the COPY
    except _Abort:
        pass


class _Abort(Exception):
    pass


@recipe(
    "BinaryCopyInWriter.write_row", "BinaryCopyInWriter.write_rows", "BinaryCopyInWriter.finish"
)
async def _binary_write(env: Env, method: str) -> AsyncIterator[Callable[[], Awaitable[Any]]]:
    try:
        async with env.client.copy_in(f"COPY {env.table} FROM STDIN (FORMAT binary)") as sink:
            writer = pgany.copy.BinaryCopyInWriter(sink, ["text"])
            if method == "write_row":
                yield lambda: writer.write_row(["r"])
            elif method == "write_rows":
                yield lambda: writer.write_rows([["r"], ["s"]])
            else:
                await writer.write_row(["r"])
                yield writer.finish
            if env.extra.get("cancelled"):
                raise _Abort
            await writer.finish()
    except _Abort:
        pass


@recipe("CopyOutContext.__aenter__")
async def _copy_out_enter(env: Env, method: str) -> AsyncIterator[Callable[[], Awaitable[Any]]]:
    ctx = env.client.copy_out("COPY (SELECT 1) TO STDOUT")
    entering = _Entering(ctx)
    yield entering.call
    await entering.leave()


@recipe("CopyOutContext.__aexit__")
async def _copy_out_exit(env: Env, method: str) -> AsyncIterator[Callable[[], Awaitable[Any]]]:
    ctx = env.client.copy_out("COPY (SELECT generate_series(1, 3)) TO STDOUT")
    await ctx.__aenter__()
    yield lambda: ctx.__aexit__(None, None, None)


@recipe("CopyOut.__anext__", "CopyOut.read_all")
async def _copy_out(env: Env, method: str) -> AsyncIterator[Callable[[], Awaitable[Any]]]:
    async with env.client.copy_out("COPY (SELECT generate_series(1, 3)) TO STDOUT") as source:
        await anyio.sleep(0.1)  # (the data is there before the call)
        yield getattr(source, method)


@recipe("BinaryCopyOutReader.__anext__")
async def _binary_read(env: Env, method: str) -> AsyncIterator[Callable[[], Awaitable[Any]]]:
    sql = "COPY (SELECT generate_series(1, 3)::int4) TO STDOUT (FORMAT binary)"
    async with env.client.copy_out(sql) as source:
        reader = pgany.copy.BinaryCopyOutReader(source, ["int4"])
        yield reader.__anext__


# -- the tests ------------------------------------------------------------------------------


def test_every_public_coroutine_has_a_recipe() -> None:
    found = public_coroutines()
    # A sanity check of the introspection itself.
    for name in ("Client.query", "Transaction.commit", "CopyIn.write", "RowStream.__anext__"):
        assert name in found
    assert [n for n in found if n not in RECIPES] == []


@pytest.fixture
async def env(client: pgany.Client, pg_dsn: str) -> Env:
    table = f"ckpt_{uuid.uuid4().hex[:12]}"
    await client.execute(f"CREATE TABLE {table} (v text)")
    return Env(client, table, pg_dsn)


def _prepare_env(env: Env, name: str) -> tuple[Recipe, str]:
    kind, method = name.rsplit(".", 1)
    env.extra["kind"] = kind
    return RECIPES[name], method


@pytest.mark.parametrize("anyio_backend", ["trio"])  # (assert_checkpoints is trio's)
@pytest.mark.parametrize("name", public_coroutines())
async def test_is_a_checkpoint_on_trio(env: Env, name: str) -> None:
    import trio.testing

    make, method = _prepare_env(env, name)
    async with make(env, method) as call:
        if "prelude" in env.extra:
            await env.extra["prelude"]()
        with trio.testing.assert_checkpoints():
            await call()


@pytest.mark.parametrize("name", public_coroutines())
async def test_cancelled_call_sends_nothing(env: Env, name: str) -> None:
    make, method = _prepare_env(env, name)
    cancelled = anyio.get_cancelled_exc_class()
    before = await env.count()
    raised = False
    async with make(env, method) as call:
        with anyio.CancelScope() as scope:
            if "prelude" in env.extra:
                await env.extra["prelude"]()
            scope.cancel()
            env.extra["cancelled"] = True
            try:
                await call()
            except cancelled:
                raised = True
                raise
        assert scope.cancelled_caught, f"{name} did not raise the cancellation"
    assert raised
    client = env.client
    if env.extra.get("closes"):
        assert client.is_closed  # close() closes even when cancelled, then raises
        return
    assert await env.count() == before, f"the server ran {name}'s statement"
    if "check" in env.extra:
        await env.extra["check"](env)
    if name.startswith("connect."):
        other = env.extra.get("other")
        if other is not None:
            assert other.is_closed  # leaving closes even when cancelled
        else:
            assert env.extra["connected"] is False
    if name == "CancelToken.cancel_query":
        assert env.extra["cancel_outcome"] == ["finished"]
    if name == "SavepointContext.__aenter__":
        assert env.extra["savepoints"] is False
    # The connection is consistent and usable.
    assert client.transaction_status == "idle"
    assert await client.query_value("SELECT 1") == 1


# -- the scenarios that showed the defect ---------------------------------------------------


async def test_cancelled_transaction_never_commits(env: Env) -> None:
    # On trio the second execute used to return normally (its answer was
    # readable at once) and the block committed both rows.
    with anyio.CancelScope() as scope:
        async with env.client.transaction() as tx:
            await tx.execute(env.ins("1"))
            scope.cancel()
            await tx.execute(env.ins("2"))
            raise AssertionError("not reached: the execute above raises the cancellation")
    assert scope.cancelled_caught
    assert await env.count() == 0
    assert env.client.transaction_status == "idle"


async def test_cancelled_just_before_the_block_ends_rolls_back(env: Env) -> None:
    # The block's last statement is done; the scope is cancelled before the
    # block ends: COMMIT is not sent, the block rolls back, the cancellation shows.
    with anyio.CancelScope() as scope:
        async with env.client.transaction() as tx:
            await tx.execute(env.ins("1"))
            scope.cancel()
    assert scope.cancelled_caught
    assert await env.count() == 0
    assert await env.client.query_value("SELECT 1") == 1


async def test_cancelled_savepoint_block_rolls_back_to_the_savepoint(env: Env) -> None:
    async with env.client.transaction() as tx:
        await tx.execute(env.ins("outer"))
        with anyio.CancelScope() as scope:
            async with tx.savepoint() as sp:
                await sp.execute(env.ins("inner"))
                scope.cancel()
        assert scope.cancelled_caught
        assert await tx.query_value(f"SELECT count(*) FROM {env.table}") == 1
    assert await env.count() == 1


async def test_a_commit_in_flight_is_awaited_not_abandoned(env: Env) -> None:
    # A deadline that expires while COMMIT runs: the caller learns the outcome
    # (here: committed, no exception from the block), never "cancelled" for
    # work that was committed.
    await env.client.execute(
        f"CREATE FUNCTION {env.table}_slow() RETURNS trigger LANGUAGE plpgsql AS "
        "$$ BEGIN PERFORM pg_sleep(0.3); RETURN NULL; END $$"
    )
    await env.client.execute(
        f"CREATE CONSTRAINT TRIGGER slow AFTER INSERT ON {env.table} "
        f"DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION {env.table}_slow()"
    )
    committed = False
    with anyio.move_on_after(0.1) as scope:
        async with env.client.transaction() as tx:
            await tx.execute(env.ins("1"))
        committed = True  # (the deferred trigger runs inside COMMIT, past the deadline)
    assert committed
    assert not scope.cancelled_caught
    assert await env.count() == 1


async def test_a_pool_transactions_commit_in_flight_is_awaited_not_abandoned(env: Env) -> None:
    # As above, through pool.transaction(): giving the connection back after
    # the COMMIT adds no checkpoint of its own, so a deadline that expired
    # during the COMMIT does not report committed work as cancelled.
    await env.client.execute(
        f"CREATE FUNCTION {env.table}_slow() RETURNS trigger LANGUAGE plpgsql AS "
        "$$ BEGIN PERFORM pg_sleep(0.3); RETURN NULL; END $$"
    )
    await env.client.execute(
        f"CREATE CONSTRAINT TRIGGER slow AFTER INSERT ON {env.table} "
        f"DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION {env.table}_slow()"
    )
    async with _pool(env) as pool:
        committed = False
        with anyio.move_on_after(0.1) as scope:
            async with pool.transaction() as tx:
                await tx.execute(env.ins("1"))
            committed = True
        assert committed
        assert not scope.cancelled_caught
        assert pool.statistics().in_use == 0  # (given back all the same)
    assert await env.count() == 1
