"""One adapter per table column: how that driver runs each workload.

Every adapter has the same methods, named after the workloads:

* ``open(dsn)``: a context manager (async, or plain for pg8000) giving a connection;
* ``execute(conn, sql)`` and ``scalar(conn, sql)``: untimed housekeeping;
* ``open_pool(dsn, size)``: an async context manager giving a pool of *size*
  connections, all open (the pool workloads, 10 to 12);
* ``w1(conn, n)`` ... ``w7(dsn, n)``, ``w9(conn)``, ``w10(pool, n, tasks)`` ...
  ``w12(pool, n, tasks)``: the timed part of one repetition.

``w1``, ``w2``, ``w10`` and ``w11`` return the sum of the values they read,
``w3`` and ``w4`` the rows (freed after the clock stops), ``w9`` the number
of rows streamed, ``w12`` the number of checkouts, so the worker can check
the work. In ``w2`` and ``w10`` to ``w12``, task *t* of *tasks* does the
items ``range(t, n, tasks)``. A workload a driver cannot run is listed in
:attr:`Adapter.unsupported` with the reason; a module it needs besides the
driver, in :attr:`Adapter.requires`. The drivers are imported lazily, in
the worker only.
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import AsyncIterator, Iterator
from typing import Any, ClassVar
from urllib.parse import unquote, urlsplit

from bench.workloads import (
    COPY_COLUMNS,
    INSERT_SQL_DOLLAR,
    INTS_SQL,
    POOL_SELECT_SQL_DOLLAR,
    POOL_UPDATE_SQL_DOLLAR,
    POOL_WORKLOADS,
    SEQ_SQL_DOLLAR,
    STREAM_BATCH,
    WIDE_SQL,
)

__all__ = ["ADAPTERS", "Adapter", "parse_dsn"]


def parse_dsn(dsn: str) -> dict[str, Any]:
    """host, port, user, password and database of a ``postgresql://`` URI."""
    parts = urlsplit(dsn)
    return {
        "host": parts.hostname or "127.0.0.1",
        "port": parts.port or 5432,
        "user": unquote(parts.username or "postgres"),
        "password": unquote(parts.password) if parts.password else None,
        "database": unquote(parts.path.lstrip("/")) or "postgres",
    }


class Adapter:
    #: The column of the table.
    name: ClassVar[str]
    #: The module whose ``__version__`` (or distribution version) is reported.
    module: ClassVar[str]
    #: The distribution name on the package index.
    distribution: ClassVar[str]
    #: "asyncio" (asyncio only), "anyio" (asyncio or trio) or "sync".
    kind: ClassVar[str]
    #: Workload key -> why this driver does not run it.
    unsupported: ClassVar[dict[str, str]] = {}
    #: Workload key -> how this driver runs it, where that needs saying.
    notes: ClassVar[dict[str, str]] = {}
    #: Workload key -> a module that workload needs besides the driver (also the
    #: distribution whose version is reported); without it the cell is ``missing``.
    requires: ClassVar[dict[str, str]] = {}

    def prepare(self) -> None:
        """Called once the driver imports, before any event loop starts."""


# -- pgany ------------------------------------------------------------------------------


class Pgany(Adapter):
    name = "pgany"
    module = "pgany"
    distribution = "pgany"
    kind = "anyio"
    notes = {
        "2": "pipelined on the shared connection",
        "5": "copy_records_in (binary COPY)",
        "6": "executemany: one pipelined batch, one Sync",
        "9": f"query_stream(batch_size={STREAM_BATCH}): a portal, two batches kept in flight",
        "10": "pool.query_value (no checkout; tasks may share a connection, pipelined)",
        "11": "async with pool.transaction() as tx: tx.execute + tx.query_value",
        "12": "async with pool.connection(): pass",
    }

    def open(self, dsn: str) -> Any:
        import pgany

        return pgany.connect(dsn)

    @contextlib.asynccontextmanager
    async def open_pool(self, dsn: str, size: int) -> AsyncIterator[Any]:
        import pgany

        async with pgany.create_pool(dsn, min_size=size, max_size=size) as pool:
            await pool.wait()  # every connection open before the clock starts
            yield pool

    @property
    def unsupported(self) -> dict[str, str]:  # type: ignore[override]
        import pgany

        missing: dict[str, str] = {}
        if not hasattr(pgany.Client, "copy_records_in"):
            missing["5"] = "not implemented yet (no copy_records_in in this pgany)"
        if not hasattr(pgany, "create_pool"):
            for key in POOL_WORKLOADS:
                missing[key] = "not implemented yet (no pgany.create_pool in this pgany)"
        return missing

    async def execute(self, conn: Any, sql: str) -> None:
        await conn.execute(sql)

    async def scalar(self, conn: Any, sql: str) -> Any:
        return await conn.query_value(sql)

    async def w1(self, conn: Any, n: int) -> int:
        query_value = conn.query_value
        total = 0
        for i in range(n):
            total += await query_value(SEQ_SQL_DOLLAR, i)
        return total

    async def w2(self, conn: Any, n: int, tasks: int) -> int:
        import anyio

        sums = [0] * tasks
        query_value = conn.query_value

        async def one(t: int) -> None:
            total = 0
            for i in range(t, n, tasks):
                total += await query_value(SEQ_SQL_DOLLAR, i)
            sums[t] = total

        async with anyio.create_task_group() as tg:
            for t in range(tasks):
                tg.start_soon(one, t)
        return sum(sums)

    async def w3(self, conn: Any) -> list[Any]:
        return await conn.query(WIDE_SQL)

    async def w4(self, conn: Any) -> list[Any]:
        return await conn.query(INTS_SQL)

    async def w9(self, conn: Any) -> int:
        n = 0
        async with conn.query_stream(INTS_SQL, batch_size=STREAM_BATCH) as stream:
            async for _ in stream:
                n += 1
        return n

    async def w5(self, conn: Any, rows: list[tuple[Any, ...]]) -> None:
        await conn.copy_records_in("bench_copy", rows, columns=COPY_COLUMNS)

    async def w6(self, conn: Any, rows: list[tuple[Any, ...]]) -> None:
        await conn.executemany(INSERT_SQL_DOLLAR, rows)

    async def w7(self, dsn: str, n: int) -> None:
        import pgany

        for _ in range(n):
            async with pgany.connect(dsn):
                pass

    async def w10(self, pool: Any, n: int, tasks: int) -> int:
        return await self.w2(pool, n, tasks)  # the same calls, on the pool's shortcuts

    async def w11(self, pool: Any, n: int, tasks: int) -> int:
        import anyio

        sums = [0] * tasks
        transaction = pool.transaction

        async def one(t: int) -> None:
            total = 0
            for _ in range(t, n, tasks):
                async with transaction() as tx:
                    await tx.execute(POOL_UPDATE_SQL_DOLLAR, t)
                    total += await tx.query_value(POOL_SELECT_SQL_DOLLAR, t)
            sums[t] = total

        async with anyio.create_task_group() as tg:
            for t in range(tasks):
                tg.start_soon(one, t)
        return sum(sums)

    async def w12(self, pool: Any, n: int, tasks: int) -> int:
        import anyio

        counts = [0] * tasks
        connection = pool.connection

        async def one(t: int) -> None:
            done = 0
            for _ in range(t, n, tasks):
                async with connection():
                    done += 1
            counts[t] = done

        async with anyio.create_task_group() as tg:
            for t in range(tasks):
                tg.start_soon(one, t)
        return sum(counts)


# -- asyncpg ----------------------------------------------------------------------------


class Asyncpg(Adapter):
    name = "asyncpg"
    module = "asyncpg"
    distribution = "asyncpg"
    kind = "asyncio"
    notes = {
        "2": "refuses concurrent use: serialised with an asyncio.Lock",
        "3": "jsonb decoded with json.loads (set_type_codec), like the others",
        "5": "copy_records_to_table",
        "9": f"cursor(prefetch={STREAM_BATCH}) in a transaction",
        "10": "asyncpg.Pool.fetchval (a checkout per query; the return runs its reset query)",
        "11": "async with pool.acquire() as conn, conn.transaction(): execute + fetchval",
        "12": "async with pool.acquire(): pass (the return runs its reset query)",
    }

    @contextlib.asynccontextmanager
    async def open(self, dsn: str) -> AsyncIterator[Any]:
        import asyncpg

        conn = await asyncpg.connect(dsn)
        try:
            # asyncpg hands jsonb out as str; every other driver parses it.
            await conn.set_type_codec(
                "jsonb", encoder=json.dumps, decoder=json.loads, schema="pg_catalog"
            )
            yield conn
        finally:
            await conn.close()

    async def execute(self, conn: Any, sql: str) -> None:
        await conn.execute(sql)

    async def scalar(self, conn: Any, sql: str) -> Any:
        return await conn.fetchval(sql)

    async def w1(self, conn: Any, n: int) -> int:
        fetchval = conn.fetchval
        total = 0
        for i in range(n):
            total += await fetchval(SEQ_SQL_DOLLAR, i)
        return total

    async def w2(self, conn: Any, n: int, tasks: int) -> int:
        import asyncio

        lock = asyncio.Lock()
        fetchval = conn.fetchval

        async def one(t: int) -> int:
            total = 0
            for i in range(t, n, tasks):
                async with lock:
                    total += await fetchval(SEQ_SQL_DOLLAR, i)
            return total

        return sum(await asyncio.gather(*(one(t) for t in range(tasks))))

    async def w3(self, conn: Any) -> list[Any]:
        return await conn.fetch(WIDE_SQL)

    async def w4(self, conn: Any) -> list[Any]:
        return await conn.fetch(INTS_SQL)

    async def w9(self, conn: Any) -> int:
        n = 0
        async with conn.transaction():
            async for _ in conn.cursor(INTS_SQL, prefetch=STREAM_BATCH):
                n += 1
        return n

    async def w5(self, conn: Any, rows: list[tuple[Any, ...]]) -> None:
        await conn.copy_records_to_table("bench_copy", records=rows, columns=list(COPY_COLUMNS))

    async def w6(self, conn: Any, rows: list[tuple[Any, ...]]) -> None:
        await conn.executemany(INSERT_SQL_DOLLAR, rows)

    async def w7(self, dsn: str, n: int) -> None:
        import asyncpg

        for _ in range(n):
            conn = await asyncpg.connect(dsn)
            await conn.close()

    @contextlib.asynccontextmanager
    async def open_pool(self, dsn: str, size: int) -> AsyncIterator[Any]:
        import asyncpg

        # Entering opens min_size connections before it returns.
        async with asyncpg.create_pool(dsn, min_size=size, max_size=size) as pool:
            yield pool

    async def w10(self, pool: Any, n: int, tasks: int) -> int:
        import asyncio

        fetchval = pool.fetchval

        async def one(t: int) -> int:
            total = 0
            for i in range(t, n, tasks):
                total += await fetchval(SEQ_SQL_DOLLAR, i)
            return total

        return sum(await asyncio.gather(*(one(t) for t in range(tasks))))

    async def w11(self, pool: Any, n: int, tasks: int) -> int:
        import asyncio

        acquire = pool.acquire

        async def one(t: int) -> int:
            total = 0
            for _ in range(t, n, tasks):
                async with acquire() as conn, conn.transaction():
                    await conn.execute(POOL_UPDATE_SQL_DOLLAR, t)
                    total += await conn.fetchval(POOL_SELECT_SQL_DOLLAR, t)
            return total

        return sum(await asyncio.gather(*(one(t) for t in range(tasks))))

    async def w12(self, pool: Any, n: int, tasks: int) -> int:
        import asyncio

        acquire = pool.acquire

        async def one(t: int) -> int:
            done = 0
            for _ in range(t, n, tasks):
                async with acquire():
                    done += 1
            return done

        return sum(await asyncio.gather(*(one(t) for t in range(tasks))))


# -- psycopg 3 ---------------------------------------------------------------------------

_SEQ_SQL_PCT = "SELECT %s::int"
_INSERT_SQL_PCT = "INSERT INTO bench_many (id, name, score) VALUES (%s, %s, %s)"
_POOL_UPDATE_SQL_PCT = POOL_UPDATE_SQL_DOLLAR.replace("$1", "%s")
_POOL_SELECT_SQL_PCT = POOL_SELECT_SQL_DOLLAR.replace("$1", "%s")


class Psycopg(Adapter):
    name = "psycopg"
    module = "psycopg"
    distribution = "psycopg"
    kind = "asyncio"
    notes = {
        "2": "serialised by psycopg's own connection lock",
        "5": "cursor.copy() + write_row (text COPY)",
        "6": "cursor.executemany in a transaction (psycopg pipelines it)",
        "9": f"server-side (named) cursor in a transaction, itersize {STREAM_BATCH}",
        "10": "psycopg_pool.AsyncConnectionPool (autocommit): a checkout per query, conn.execute",
        "11": "async with pool.connection() as conn, conn.transaction(): two conn.execute",
        "12": "async with pool.connection(): pass",
    }
    requires = dict.fromkeys(POOL_WORKLOADS, "psycopg_pool")

    @contextlib.asynccontextmanager
    async def open(self, dsn: str) -> AsyncIterator[Any]:
        import psycopg

        async with await psycopg.AsyncConnection.connect(dsn, autocommit=True) as conn:
            yield conn

    async def execute(self, conn: Any, sql: str) -> None:
        await conn.execute(sql)

    async def scalar(self, conn: Any, sql: str) -> Any:
        cur = await conn.execute(sql)
        row = await cur.fetchone()
        return row[0]

    async def w1(self, conn: Any, n: int) -> int:
        cur = conn.cursor()
        total = 0
        for i in range(n):
            await cur.execute(_SEQ_SQL_PCT, (i,))
            total += (await cur.fetchone())[0]
        return total

    async def _tasks(self, conn: Any, n: int, tasks: int) -> int:
        import asyncio

        async def one(t: int) -> int:
            cur = conn.cursor()
            total = 0
            for i in range(t, n, tasks):
                await cur.execute(_SEQ_SQL_PCT, (i,))
                total += (await cur.fetchone())[0]
            return total

        return sum(await asyncio.gather(*(one(t) for t in range(tasks))))

    async def w2(self, conn: Any, n: int, tasks: int) -> int:
        return await self._tasks(conn, n, tasks)

    async def w3(self, conn: Any) -> list[Any]:
        cur = conn.cursor()
        await cur.execute(WIDE_SQL)
        return await cur.fetchall()

    async def w4(self, conn: Any) -> list[Any]:
        cur = conn.cursor()
        await cur.execute(INTS_SQL)
        return await cur.fetchall()

    async def w9(self, conn: Any) -> int:
        n = 0
        async with conn.transaction():
            async with conn.cursor(name="bench_stream") as cur:
                cur.itersize = STREAM_BATCH
                await cur.execute(INTS_SQL)
                async for _ in cur:
                    n += 1
        return n

    async def w5(self, conn: Any, rows: list[tuple[Any, ...]]) -> None:
        cur = conn.cursor()
        async with cur.copy("COPY bench_copy (id, name, score) FROM STDIN") as copy:
            write_row = copy.write_row
            for row in rows:
                await write_row(row)

    async def w6(self, conn: Any, rows: list[tuple[Any, ...]]) -> None:
        async with conn.transaction():
            await conn.cursor().executemany(_INSERT_SQL_PCT, rows)

    async def w7(self, dsn: str, n: int) -> None:
        import psycopg

        for _ in range(n):
            conn = await psycopg.AsyncConnection.connect(dsn, autocommit=True)
            await conn.close()

    @contextlib.asynccontextmanager
    async def open_pool(self, dsn: str, size: int) -> AsyncIterator[Any]:
        from psycopg_pool import AsyncConnectionPool

        # autocommit, like open(): a lone query opens no transaction the return must roll back.
        pool = AsyncConnectionPool(
            dsn, min_size=size, max_size=size, kwargs={"autocommit": True}, open=False
        )
        await pool.open(wait=True)  # every connection open before the clock starts
        try:
            yield pool
        finally:
            await pool.close()

    async def w10(self, pool: Any, n: int, tasks: int) -> int:
        import asyncio

        connection = pool.connection

        async def one(t: int) -> int:
            total = 0
            for i in range(t, n, tasks):
                async with connection() as conn:
                    cur = await conn.execute(_SEQ_SQL_PCT, (i,))
                    total += (await cur.fetchone())[0]
            return total

        return sum(await asyncio.gather(*(one(t) for t in range(tasks))))

    async def w11(self, pool: Any, n: int, tasks: int) -> int:
        import asyncio

        connection = pool.connection

        async def one(t: int) -> int:
            total = 0
            for _ in range(t, n, tasks):
                async with connection() as conn, conn.transaction():
                    await conn.execute(_POOL_UPDATE_SQL_PCT, (t,))
                    cur = await conn.execute(_POOL_SELECT_SQL_PCT, (t,))
                    total += (await cur.fetchone())[0]
            return total

        return sum(await asyncio.gather(*(one(t) for t in range(tasks))))

    async def w12(self, pool: Any, n: int, tasks: int) -> int:
        import asyncio

        connection = pool.connection

        async def one(t: int) -> int:
            done = 0
            for _ in range(t, n, tasks):
                async with connection():
                    done += 1
            return done

        return sum(await asyncio.gather(*(one(t) for t in range(tasks))))


class PsycopgPipeline(Psycopg):
    """psycopg 3 with the 50 tasks inside ``conn.pipeline()``: workload 2 only."""

    name = "psycopg-pipeline"
    notes = {"2": "50 tasks inside one conn.pipeline() block"}
    unsupported = {
        k: "pipeline mode is measured on workload 2 only"
        for k in ("1", "3", "4", "5", "6", "7", "9", *POOL_WORKLOADS)
    }

    async def w2(self, conn: Any, n: int, tasks: int) -> int:
        async with conn.pipeline():
            return await self._tasks(conn, n, tasks)


# -- pg8000 ------------------------------------------------------------------------------


class Pg8000(Adapter):
    name = "pg8000"
    module = "pg8000"
    distribution = "pg8000"
    kind = "sync"
    notes = {
        "1": "pg8000.native prepared statement",
        "2": "synchronous: 50 threads serialised with a threading.Lock",
        "5": "COPY FROM STDIN with an iterable stream of text chunks",
        "6": "prepared INSERT run per row in one transaction (native API has no executemany)",
    }
    unsupported = {"9": "no streaming: run() and the DB-API cursor read every row first"}

    @contextlib.contextmanager
    def open(self, dsn: str) -> Iterator[Any]:
        import pg8000.native

        conn = pg8000.native.Connection(**parse_dsn(dsn))
        try:
            yield conn
        finally:
            conn.close()

    def execute(self, conn: Any, sql: str) -> None:
        conn.run(sql)

    def scalar(self, conn: Any, sql: str) -> Any:
        return conn.run(sql)[0][0]

    def w1(self, conn: Any, n: int) -> int:
        run = conn.prepare("SELECT :v::int").run
        total = 0
        for i in range(n):
            total += run(v=i)[0][0]
        return total

    def w2(self, conn: Any, n: int, tasks: int) -> int:
        run = conn.prepare("SELECT :v::int").run
        lock = threading.Lock()
        sums = [0] * tasks

        def one(t: int) -> None:
            total = 0
            for i in range(t, n, tasks):
                with lock:
                    total += run(v=i)[0][0]
            sums[t] = total

        threads = [threading.Thread(target=one, args=(t,)) for t in range(tasks)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return sum(sums)

    def w3(self, conn: Any) -> list[Any]:
        return conn.run(WIDE_SQL)

    def w4(self, conn: Any) -> list[Any]:
        return conn.run(INTS_SQL)

    def w5(self, conn: Any, rows: list[tuple[Any, ...]]) -> None:
        def chunks() -> Iterator[str]:
            step = 2_000
            for start in range(0, len(rows), step):
                yield "".join(f"{a}\t{b}\t{c!r}\n" for a, b, c in rows[start : start + step])

        conn.run("COPY bench_copy (id, name, score) FROM STDIN", stream=chunks())

    def w6(self, conn: Any, rows: list[tuple[Any, ...]]) -> None:
        run = conn.prepare("INSERT INTO bench_many (id, name, score) VALUES (:a, :b, :c)").run
        conn.run("BEGIN")
        for a, b, c in rows:
            run(a=a, b=b, c=c)
        conn.run("COMMIT")

    def w7(self, dsn: str, n: int) -> None:
        import pg8000.native

        params = parse_dsn(dsn)
        for _ in range(n):
            pg8000.native.Connection(**params).close()


# -- pg-purepy ---------------------------------------------------------------------------


def _quiet_logging() -> None:
    """pg-purepy logs every query through structlog, which prints debug by default,
    and its 0.10 release sets the root logger to DEBUG when imported."""
    import logging

    import structlog

    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.ERROR))
    import pg_purepy  # noqa: F401

    logging.getLogger().setLevel(logging.WARNING)


class PgPurepy(Adapter):
    name = "pg-purepy"
    module = "pg_purepy"
    distribution = "pg-purepy"
    kind = "anyio"
    unsupported = {
        "5": "no COPY support in pg-purepy",
        "9": "not measured here (no bounded-memory stream wired into this workload)",
    }
    notes = {
        "1": "named prepared statement (string queries take only :named parameters)",
        "2": "serialised by pg-purepy's own query lock",
        "3": "numeric decoded by an added Decimal converter (it has none)",
        "6": "prepared INSERT run per row in one transaction (no executemany)",
    }

    def prepare(self) -> None:
        _quiet_logging()

    @contextlib.asynccontextmanager
    async def open(self, dsn: str) -> AsyncIterator[Any]:
        from decimal import Decimal

        from pg_purepy import SimpleFunctionConverter, open_database_connection

        p = parse_dsn(dsn)
        async with open_database_connection(
            p["host"], p["user"], port=p["port"], password=p["password"], database=p["database"]
        ) as conn:
            # pg-purepy has no numeric converter (it would hand out str): decode like the others.
            conn.add_converter(SimpleFunctionConverter(1700, Decimal, str))
            yield conn

    async def execute(self, conn: Any, sql: str) -> None:
        await conn.execute(sql)

    async def scalar(self, conn: Any, sql: str) -> Any:
        return (await conn.fetch_one(sql)).data[0]

    def __init__(self) -> None:
        self._statements: dict[str, Any] = {}

    async def _statement(self, conn: Any, name: str, sql: str) -> Any:
        """A named prepared statement, made once per connection (the worker has one)."""
        if name not in self._statements:
            self._statements[name] = await conn.create_prepared_statement(name, sql)
        return self._statements[name]

    async def _seq_statement(self, conn: Any) -> Any:
        return await self._statement(conn, "bench_seq", SEQ_SQL_DOLLAR)

    async def w1(self, conn: Any, n: int) -> int:
        stmt = await self._seq_statement(conn)
        fetch = conn.fetch
        total = 0
        for i in range(n):
            total += (await fetch(stmt, i))[0].data[0]
        return total

    async def w2(self, conn: Any, n: int, tasks: int) -> int:
        import anyio

        stmt = await self._seq_statement(conn)
        fetch = conn.fetch
        sums = [0] * tasks

        async def one(t: int) -> None:
            total = 0
            for i in range(t, n, tasks):
                total += (await fetch(stmt, i))[0].data[0]
            sums[t] = total

        async with anyio.create_task_group() as tg:
            for t in range(tasks):
                tg.start_soon(one, t)
        return sum(sums)

    async def w3(self, conn: Any) -> list[Any]:
        return await conn.fetch(WIDE_SQL)

    async def w4(self, conn: Any) -> list[Any]:
        return await conn.fetch(INTS_SQL)

    async def w6(self, conn: Any, rows: list[tuple[Any, ...]]) -> None:
        stmt = await self._statement(conn, "bench_insert", INSERT_SQL_DOLLAR)
        execute = conn.execute
        async with conn.with_transaction():
            for row in rows:
                await execute(stmt, *row)

    async def w7(self, dsn: str, n: int) -> None:
        from pg_purepy import open_database_connection

        p = parse_dsn(dsn)
        for _ in range(n):
            async with open_database_connection(
                p["host"],
                p["user"],
                port=p["port"],
                password=p["password"],
                database=p["database"],
            ):
                pass


ADAPTERS: dict[str, type[Adapter]] = {
    a.name: a for a in (Pgany, Asyncpg, Psycopg, PsycopgPipeline, Pg8000, PgPurepy)
}
