"""One driver, one workload, in a process of its own; prints one line of JSON.

::

    python -m bench.worker --driver pgany --workload 1 --dsn postgresql://... --reps 5
    python -m bench.worker --setup --dsn postgresql://...      # make the tables

Each repetition is timed around the workload alone: connecting (except in
workload 7), opening the pool and its connections (workloads 10 to 12),
building the rows to load, emptying the target table and a garbage
collection happen before the clock starts, and fetched rows are freed after
it stops. One untimed warm-up at a tenth of the size comes first (workloads
1, 2, 5, 6, 7, 10, 11, 12; workload 9 streams the whole table once
untimed), and every repetition's result is checked (the sum of the values
read, the number of rows fetched or stored, of checkouts made). The JSON
line has ``times`` (seconds, one per repetition), ``count`` and ``unit``,
or ``error`` / ``skipped`` with a reason.
"""

from __future__ import annotations

import argparse
import gc
import importlib
import importlib.metadata
import json
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bench.drivers import ADAPTERS, Adapter
from bench.workloads import (
    CONCURRENT_TASKS,
    POOL_CHURN_TASKS,
    POOL_QUERY_PER_TASK,
    POOL_SIZE,
    POOL_TX_PER_TASK,
    POOL_TX_TASKS,
    WORKLOADS,
    load_rows,
    setup_statements,
)

__all__ = ["main"]


class CheckFailed(Exception):
    """A repetition did not do the work it was asked (wrong sum or row count)."""


@dataclass
class Plan:
    """What one repetition does, for the runners below."""

    #: The timed call: returns a value, or an awaitable for async drivers.
    op: Callable[[Any], Any]
    #: What ``op`` must return (``None``: do not check).
    expect: Any = None
    #: Untimed, before each repetition.
    reset_sql: str | None = None
    #: Untimed, after each repetition: must return :attr:`verify_count`.
    verify_sql: str | None = None
    verify_count: int | None = None
    #: Untimed, once, before the first repetition.
    warmup: Callable[[Any], Any] | None = None
    #: The connections of a pool that ``op`` and ``warmup`` are given instead of the
    #: connection (which then does only the untimed housekeeping); ``None``: no pool.
    pool_size: int | None = None


def make_plan(adapter: Any, key: str, n: int, dsn: str) -> Plan:
    base = WORKLOADS[key].base
    small = max(n // 10, 1)
    if base == "1":
        return Plan(
            op=lambda conn: adapter.w1(conn, n),
            expect=n * (n - 1) // 2,
            warmup=lambda conn: adapter.w1(conn, small),
        )
    if base == "2":
        warm_n = max(small, CONCURRENT_TASKS)
        return Plan(
            op=lambda conn: adapter.w2(conn, n, CONCURRENT_TASKS),
            expect=n * (n - 1) // 2,
            warmup=lambda conn: adapter.w2(conn, warm_n, CONCURRENT_TASKS),
        )
    if base == "3":
        return Plan(op=adapter.w3, expect=n)
    if base == "4":
        return Plan(op=adapter.w4, expect=n)
    if base == "9":  # returns the number of rows streamed
        return Plan(op=adapter.w9, expect=n, warmup=adapter.w9)
    if base in ("5", "6"):
        rows = load_rows(n)
        warm_rows = rows[:small]
        method = adapter.w5 if base == "5" else adapter.w6
        table = "bench_copy" if base == "5" else "bench_many"
        return Plan(
            op=lambda conn: method(conn, rows),
            reset_sql=f"TRUNCATE {table}",
            verify_sql=f"SELECT count(*) FROM {table}",
            verify_count=n,
            warmup=lambda conn: method(conn, warm_rows),
        )
    if base == "7":
        return Plan(
            op=lambda conn: adapter.w7(dsn, n),
            warmup=lambda conn: adapter.w7(dsn, min(n, 5)),
        )
    if base == "10":  # returns the sum of the values read
        tasks, warm_tasks = (max(m // POOL_QUERY_PER_TASK, 1) for m in (n, small))
        return Plan(
            op=lambda pool: adapter.w10(pool, n, tasks),
            expect=n * (n - 1) // 2,
            warmup=lambda pool: adapter.w10(pool, small, warm_tasks),
            pool_size=POOL_SIZE,
        )
    if base == "11":  # returns the sum of the values read; each task bumps its own row
        tasks, warm_tasks = (max(m // POOL_TX_PER_TASK, 1) for m in (n, small))
        if tasks > POOL_TX_TASKS:
            raise ValueError(
                f"{n} transactions need {tasks} tasks; bench_pool has rows for {POOL_TX_TASKS}"
            )
        per_task = [len(range(t, n, tasks)) for t in range(tasks)]
        return Plan(
            op=lambda pool: adapter.w11(pool, n, tasks),
            expect=sum(k * (k + 1) // 2 for k in per_task),
            reset_sql="UPDATE bench_pool SET n = 0",
            verify_sql="SELECT sum(n) FROM bench_pool",
            verify_count=n,
            warmup=lambda pool: adapter.w11(pool, small, warm_tasks),
            pool_size=POOL_SIZE,
        )
    if base == "12":  # returns the number of checkouts
        return Plan(
            op=lambda pool: adapter.w12(pool, n, POOL_CHURN_TASKS),
            expect=n,
            warmup=lambda pool: adapter.w12(pool, small, POOL_CHURN_TASKS),
            pool_size=POOL_SIZE,
        )
    raise ValueError(f"no workload {key!r}")


def _check(plan: Plan, value: Any, count: Any) -> None:
    if isinstance(value, list):  # fetched rows: freeing them is not part of the fetch
        value = len(value)
    if plan.expect is not None and value != plan.expect:
        raise CheckFailed(f"the workload returned {value!r}, expected {plan.expect!r}")
    if plan.verify_count is not None and count != plan.verify_count:
        raise CheckFailed(f"{plan.verify_sql} gave {count!r}, expected {plan.verify_count!r}")


async def run_async(adapter: Any, plan: Plan, dsn: str, reps: int) -> list[float]:
    async with adapter.open(dsn) as conn:
        if plan.pool_size is None:
            return await _repeat_async(adapter, plan, conn, conn, reps)
        async with adapter.open_pool(dsn, plan.pool_size) as pool:
            return await _repeat_async(adapter, plan, conn, pool, reps)


async def _repeat_async(adapter: Any, plan: Plan, conn: Any, target: Any, reps: int) -> list[float]:
    """Time *reps* runs of ``plan.op(target)``; the housekeeping goes through *conn*."""
    times: list[float] = []
    if plan.warmup is not None:
        await plan.warmup(target)
    for _ in range(reps):
        if plan.reset_sql:
            await adapter.execute(conn, plan.reset_sql)
        gc.collect()
        start = time.perf_counter()
        value = await plan.op(target)
        times.append(time.perf_counter() - start)
        count = await adapter.scalar(conn, plan.verify_sql) if plan.verify_sql else None
        _check(plan, value, count)
        del value
    return times


def run_sync(adapter: Any, plan: Plan, dsn: str, reps: int) -> list[float]:
    times: list[float] = []
    with adapter.open(dsn) as conn:
        if plan.warmup is not None:
            plan.warmup(conn)
        for _ in range(reps):
            if plan.reset_sql:
                adapter.execute(conn, plan.reset_sql)
            gc.collect()
            start = time.perf_counter()
            value = plan.op(conn)
            times.append(time.perf_counter() - start)
            count = adapter.scalar(conn, plan.verify_sql) if plan.verify_sql else None
            _check(plan, value, count)
            del value
    return times


def run(adapter: Adapter, key: str, n: int, dsn: str, reps: int) -> list[float]:
    backend = WORKLOADS[key].backend
    if backend == "trio" and adapter.kind != "anyio":
        raise ValueError(f"{adapter.name} does not run on trio")
    plan = make_plan(adapter, key, n, dsn)
    if adapter.kind == "sync":
        if plan.pool_size is not None:
            raise ValueError(f"{adapter.name} has no pool measured here")
        return run_sync(adapter, plan, dsn, reps)
    if adapter.kind == "anyio":
        import anyio

        return anyio.run(run_async, adapter, plan, dsn, reps, backend=backend)
    import asyncio

    return asyncio.run(run_async(adapter, plan, dsn, reps))


def describe_error(exc: BaseException) -> str:
    """One line: the first leaf of an exception group, with its type."""
    while getattr(exc, "exceptions", None):  # an exception group
        exc = exc.exceptions[0]  # type: ignore[attr-defined]
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}".rstrip(": ")


def _version(adapter: Adapter) -> str | None:
    return _distribution_version(adapter.distribution)


def _distribution_version(distribution: str) -> str | None:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return None


def bench_one(driver: str, key: str, dsn: str, reps: int, quick: bool, size: int | None) -> dict:
    workload = WORKLOADS[key]
    n = size if size is not None else workload.count(quick)
    result: dict[str, Any] = {
        "driver": driver,
        "workload": key,
        "backend": workload.backend,
        "count": n,
        "unit": workload.unit,
        "times": [],
        "version": None,
        "extra_versions": {},
        "error": None,
        "skipped": None,
    }
    adapter = ADAPTERS[driver]()
    result["note"] = adapter.notes.get(workload.base)
    try:
        importlib.import_module(adapter.module)
    except ImportError as exc:
        result["error"] = f"not installed ({describe_error(exc)})"
        return result
    result["version"] = _version(adapter)
    try:
        adapter.prepare()
        # A trio row is n/a wherever the asyncio row it runs is.
        reason = adapter.unsupported.get(key) or adapter.unsupported.get(workload.base)
        if reason is None and workload.backend == "trio" and adapter.kind != "anyio":
            reason = "not an anyio driver: asyncio only"
        if reason is None and not hasattr(adapter, f"w{workload.base}"):
            reason = "not measured with this driver"
        if reason is not None:
            result["skipped"] = reason
            return result
        extra = adapter.requires.get(workload.base)
        if extra is not None:
            try:
                importlib.import_module(extra)
            except ImportError as exc:
                result["error"] = f"not installed ({describe_error(exc)})"
                return result
            result["extra_versions"] = {extra: _distribution_version(extra)}
        result["times"] = run(adapter, key, n, dsn, reps)
    except BaseException as exc:
        traceback.print_exc(file=sys.stderr)
        result["error"] = describe_error(exc)
        if not isinstance(exc, Exception):
            raise
    return result


# -- setup ----------------------------------------------------------------------------------


def setup(dsn: str, quick: bool) -> dict[str, Any]:
    """Make the tables with the first driver that imports; return the server's version."""
    statements = setup_statements(quick)
    errors = []
    for name in ("psycopg", "pg8000", "asyncpg", "pgany"):
        try:
            importlib.import_module(name)
        except ImportError as exc:
            errors.append(f"{name}: {exc}")
            continue
        version = _SETUP[name](dsn, statements)
        return {"setup": name, "server_version": version}
    raise RuntimeError("no driver to make the tables with: " + "; ".join(errors))


def _setup_psycopg(dsn: str, statements: list[str]) -> str:
    import psycopg

    with psycopg.connect(dsn, autocommit=True) as conn:
        for sql in statements:
            conn.execute(sql)
        row = conn.execute("SHOW server_version").fetchone()
        assert row is not None
        return str(row[0])


def _setup_pg8000(dsn: str, statements: list[str]) -> str:
    import pg8000.native

    from bench.drivers import parse_dsn

    conn = pg8000.native.Connection(**parse_dsn(dsn))
    try:
        for sql in statements:
            conn.run(sql)
        return str(conn.run("SHOW server_version")[0][0])
    finally:
        conn.close()


def _setup_asyncpg(dsn: str, statements: list[str]) -> str:
    import asyncio

    import asyncpg

    async def go() -> str:
        conn = await asyncpg.connect(dsn)
        try:
            for sql in statements:
                await conn.execute(sql)
            return str(await conn.fetchval("SHOW server_version"))
        finally:
            await conn.close()

    return asyncio.run(go())


def _setup_pgany(dsn: str, statements: list[str]) -> str:
    import anyio

    import pgany

    async def go() -> str:
        async with pgany.connect(dsn) as client:
            for sql in statements:
                await client.execute(sql)
            return str(await client.query_value("SHOW server_version"))

    return anyio.run(go)


_SETUP: dict[str, Callable[[str, list[str]], str]] = {
    "psycopg": _setup_psycopg,
    "pg8000": _setup_pg8000,
    "asyncpg": _setup_asyncpg,
    "pgany": _setup_pgany,
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.worker", description=__doc__)
    parser.add_argument("--dsn", required=True)
    parser.add_argument("--setup", action="store_true", help="make the tables and exit")
    parser.add_argument("--driver", choices=sorted(ADAPTERS))
    parser.add_argument("--workload", choices=sorted(WORKLOADS))
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="the small sizes")
    parser.add_argument("--size", type=int, help="override the workload's size")
    args = parser.parse_args(argv)
    if args.setup:
        print(json.dumps(setup(args.dsn, args.quick)), flush=True)
        return 0
    if args.driver is None or args.workload is None:
        parser.error("--driver and --workload are required (or --setup)")
    result = bench_one(args.driver, args.workload, args.dsn, args.reps, args.quick, args.size)
    print(json.dumps(result), flush=True)
    return 1 if result["error"] else 0


if __name__ == "__main__":
    raise SystemExit(main())
