"""The workloads, their sizes, the columns of the table and the targets (issue 7).

Shared by the harness (which prints and judges) and the workers (which run).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "COLUMNS",
    "CONCURRENT_TASKS",
    "COPY_COLUMNS",
    "INSERT_SQL_DOLLAR",
    "INTS_SQL",
    "PEERS",
    "POOL_CHURN_TASKS",
    "POOL_QUERY_PER_TASK",
    "POOL_SELECT_SQL_DOLLAR",
    "POOL_SIZE",
    "POOL_TX_PER_TASK",
    "POOL_TX_TASKS",
    "POOL_UPDATE_SQL_DOLLAR",
    "POOL_WORKLOADS",
    "SEQ_SQL_DOLLAR",
    "SETUP_SQL",
    "STREAM_BATCH",
    "WIDE_SQL",
    "WORKLOADS",
    "Target",
    "Workload",
    "columns_for",
    "load_rows",
    "setup_statements",
]


@dataclass(frozen=True)
class Target:
    """What pgany must reach: its rate divided by a peer's, at least :attr:`ratio`."""

    #: The ratio pgany's rate must reach.
    ratio: float
    #: The peer column to compare with; ``None`` means the best peer of the run.
    peer: str | None = None
    #: The workload whose pgany rate is the baseline (the trio rows, streaming).
    baseline: str | None = None
    #: The backend the baseline workload runs on.
    baseline_backend: str = "asyncio"

    def describe(self) -> str:
        if self.baseline is not None:
            return f">= {self.ratio:g} x pgany {self.baseline_backend} ({self.baseline})"
        return f">= {self.ratio:g} x {self.peer or 'best peer'}"


@dataclass(frozen=True)
class Workload:
    """One row of the table."""

    #: "1" ... "12", and "8.1", "8.2", "9.1", "9.2", "13.1" ... "13.3" for the trio rows.
    key: str
    #: A short label for the table; ``{n}`` stands for the size.
    label: str
    #: What one unit is: "queries", "rows", "connections", "transactions" or "checkouts".
    unit: str
    #: The number of units, full size and ``--quick`` size.
    size: int
    quick_size: int
    target: Target
    #: The anyio backend the workload runs on.
    backend: str = "asyncio"
    #: The workload this row runs (a trio row runs an asyncio row's work); ``None``: its own.
    runs: str | None = None

    @property
    def base(self) -> str:
        """The key of the work this row does (``"1"`` for ``"8.1"``)."""
        return self.runs or self.key

    def count(self, quick: bool) -> int:
        return self.quick_size if quick else self.size

    def title(self, n: int) -> str:
        return f"({self.key}) " + self.label.format(n=f"{n:,}")


#: Concurrent tasks sharing one connection in workloads 2 and 8.2.
CONCURRENT_TASKS = 50

_W1 = Workload("1", "{n} sequential SELECT $1::int", "queries", 5_000, 500, Target(1.0))
_W2 = Workload(
    "2",
    "{n} SELECTs from 50 tasks, 1 conn",
    "queries",
    5_000,
    500,
    Target(1.3, peer="psycopg-pipeline"),
)
_W4 = Workload(
    "4", "fetch {n} rows of int4", "rows", 1_000_000, 50_000, Target(1.0, peer="asyncpg")
)
#: Streaming in bounded memory costs little more than fetching: pgany's (9) against its (4).
_W9 = Workload(
    "9", "stream {n} rows of int4", "rows", _W4.size, _W4.quick_size, Target(0.5, baseline="4")
)

#: Connections in every pool of workloads 10-12 (min_size = max_size: all open before the clock).
POOL_SIZE = 10
#: Workload 10: queries per task; its size / 5 tasks (1,000 at full size) start at once.
POOL_QUERY_PER_TASK = 5
#: Workload 11: transactions per task; its size / 20 tasks (100 at full size) start at
#: once, each on its own row of bench_pool, which has a row for each of the most tasks.
POOL_TX_PER_TASK = 20
POOL_TX_TASKS = 100
#: Workload 12: tasks taking turns at the pool's connections; each checks out size / 50 times.
POOL_CHURN_TASKS = 50

_W10 = Workload(
    "10",
    f"pool of {POOL_SIZE}: {{n}} SELECTs, {POOL_QUERY_PER_TASK} per task",
    "queries",
    POOL_QUERY_PER_TASK * 1_000,
    POOL_QUERY_PER_TASK * 100,
    Target(1.5),
)
_W11 = Workload(
    "11",
    f"pool of {POOL_SIZE}: {{n}} 2-statement tx, {POOL_TX_PER_TASK} per task",
    "transactions",
    POOL_TX_PER_TASK * POOL_TX_TASKS,
    POOL_TX_PER_TASK * 10,
    Target(1.0),
)
_W12 = Workload(
    "12",
    f"pool of {POOL_SIZE}: {{n}} checkouts from {POOL_CHURN_TASKS} tasks",
    "checkouts",
    10_000,
    1_000,
    Target(1.0),
)

#: Rows per batch when streaming (workload 9): pgany's batch_size, asyncpg's
#: prefetch, psycopg's itersize, all the same.
STREAM_BATCH = 1000

WORKLOADS: dict[str, Workload] = {
    w.key: w
    for w in (
        _W1,
        _W2,
        Workload("3", "fetch {n} rows x 7 types", "rows", 200_000, 10_000, Target(0.8)),
        _W4,
        Workload("5", "COPY in {n} rows", "rows", 500_000, 20_000, Target(1.0, peer="psycopg")),
        Workload(
            "6", "executemany {n} inserts", "rows", 20_000, 2_000, Target(0.8, peer="asyncpg")
        ),
        Workload("7", "{n} connect/close (TCP)", "connections", 200, 20, Target(1.0)),
        Workload(
            "8.1",
            "trio: (1) {n} sequential",
            "queries",
            _W1.size,
            _W1.quick_size,
            Target(0.9, baseline="1"),
            backend="trio",
            runs="1",
        ),
        Workload(
            "8.2",
            "trio: (2) {n} from 50 tasks",
            "queries",
            _W2.size,
            _W2.quick_size,
            Target(0.9, baseline="2"),
            backend="trio",
            runs="2",
        ),
        _W9,
        Workload(
            "9.1",
            "trio: (4) fetch {n} rows of int4",
            "rows",
            _W4.size,
            _W4.quick_size,
            Target(0.9, baseline="4"),
            backend="trio",
            runs="4",
        ),
        Workload(
            "9.2",
            "trio: (9) stream {n} rows of int4",
            "rows",
            _W9.size,
            _W9.quick_size,
            Target(0.5, baseline="9.1", baseline_backend="trio"),
            backend="trio",
            runs="9",
        ),
        _W10,
        _W11,
        _W12,
        Workload(
            "13.1",
            "trio: (10) pool, {n} SELECTs",
            "queries",
            _W10.size,
            _W10.quick_size,
            Target(0.9, baseline="10"),
            backend="trio",
            runs="10",
        ),
        Workload(
            "13.2",
            "trio: (11) pool, {n} tx",
            "transactions",
            _W11.size,
            _W11.quick_size,
            Target(0.9, baseline="11"),
            backend="trio",
            runs="11",
        ),
        Workload(
            "13.3",
            "trio: (12) pool, {n} checkouts",
            "checkouts",
            _W12.size,
            _W12.quick_size,
            Target(0.9, baseline="12"),
            backend="trio",
            runs="12",
        ),
    )
}

#: The pool workloads (10-12, and 13.x on trio run them).
POOL_WORKLOADS = ("10", "11", "12")

#: The table's columns, in order. psycopg's pipeline mode is a column of its own.
COLUMNS = ("pgany", "asyncpg", "psycopg", "psycopg-pipeline", "pg8000", "pg-purepy")
PEERS = tuple(c for c in COLUMNS if c != "pgany")

#: The drivers that run on trio (anyio-based), for the trio rows.
_TRIO_COLUMNS = ("pgany", "pg-purepy")
#: The drivers whose pools are measured: asyncpg.Pool and psycopg_pool's AsyncConnectionPool.
_POOL_COLUMNS = ("pgany", "asyncpg", "psycopg")


def columns_for(key: str) -> tuple[str, ...]:
    """The columns that workload *key* has."""
    if key == "9.1":
        return ("pgany",)  # a baseline for 9.2
    if WORKLOADS[key].base in POOL_WORKLOADS:
        return _POOL_COLUMNS if WORKLOADS[key].backend == "asyncio" else ("pgany",)
    if WORKLOADS[key].backend == "trio":
        return _TRIO_COLUMNS
    if key == "2":
        return COLUMNS
    return tuple(c for c in COLUMNS if c != "psycopg-pipeline")


# -- SQL ---------------------------------------------------------------------------------

SEQ_SQL_DOLLAR = "SELECT $1::int"
WIDE_SQL = "SELECT id, name, amount, ts, flag, doc, score FROM bench_wide"
INTS_SQL = "SELECT n FROM bench_ints"
COPY_COLUMNS = ("id", "name", "score")
INSERT_SQL_DOLLAR = "INSERT INTO bench_many (id, name, score) VALUES ($1, $2, $3)"
#: Workload 11's transaction: each task bumps its own row (no lock waits between tasks)
#: and reads it back.
POOL_UPDATE_SQL_DOLLAR = "UPDATE bench_pool SET n = n + 1 WHERE id = $1"
POOL_SELECT_SQL_DOLLAR = "SELECT n FROM bench_pool WHERE id = $1"

SETUP_SQL = """
DROP TABLE IF EXISTS bench_wide, bench_ints, bench_copy, bench_many, bench_pool;
CREATE TABLE bench_wide (
    id int8, name text, amount numeric(12,2), ts timestamptz, flag bool, doc jsonb, score float8
);
INSERT INTO bench_wide
    SELECT g, 'name ' || g, (g % 100000) / 7.0,
           timestamptz '2024-01-01 00:00:00+00' + g * interval '1 second',
           g % 3 = 0, jsonb_build_object('id', g, 'tag', 't' || (g % 10), 'ok', g % 2 = 0),
           g / 3.0
    FROM generate_series(1, {wide}) AS g;
CREATE TABLE bench_ints (n int4);
INSERT INTO bench_ints SELECT g FROM generate_series(1, {ints}) AS g;
CREATE TABLE bench_copy (id int8, name text, score float8) WITH (autovacuum_enabled = false);
CREATE TABLE bench_many (id int8, name text, score float8) WITH (autovacuum_enabled = false);
CREATE TABLE bench_pool (id int4 PRIMARY KEY, n int4 NOT NULL)
    WITH (autovacuum_enabled = false, fillfactor = 50);
INSERT INTO bench_pool SELECT g, 0 FROM generate_series(0, {pool_rows} - 1) AS g;
VACUUM (FREEZE, ANALYZE) bench_wide;
VACUUM (FREEZE, ANALYZE) bench_ints
"""


def setup_statements(quick: bool) -> list[str]:
    """The statements that make the tables, one by one (VACUUM cannot run in a block)."""
    sql = SETUP_SQL.format(
        wide=WORKLOADS["3"].count(quick), ints=WORKLOADS["4"].count(quick), pool_rows=POOL_TX_TASKS
    )
    return [s.strip() for s in sql.split(";") if s.strip()]


def load_rows(n: int) -> list[tuple[int, str, float]]:
    """The (int8, text, float8) rows of workloads 5 and 6."""
    return [(i, f"name {i}", i * 1.25) for i in range(n)]
