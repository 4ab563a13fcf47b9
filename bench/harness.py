"""``python -m bench``: the side-by-side benchmark (issue 7).

Starts a throwaway server (or uses ``--dsn``), pins it and the client to
different cores, makes the tables once, then for each workload runs every
driver in a process of its own (:mod:`bench.worker`), one repetition per
process, the drivers taking turns round after round (their order rotates),
so that a burst of load on a noisy machine falls on all of them alike. It
prints the medians, the rates and pgany's ratios to its peers, and writes
everything to ``--json FILE``.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import json
import os
import platform
import statistics
import struct
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.workloads import COLUMNS, PEERS, WORKLOADS, columns_for

__all__ = ["main"]

_ROOT = Path(__file__).resolve().parent.parent
_DEFAULT_REPS = 5
#: Settings of the throwaway server on top of pgany.testing's (fsync off and so on).
_SERVER_CONF = {"jit": "off"}


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# -- the server and the cores --------------------------------------------------------------


@dataclass
class Server:
    dsn: str
    #: "throwaway cluster from BINDIR" or "--dsn".
    source: str
    postmaster: int | None = None


@contextlib.contextmanager
def server(args: argparse.Namespace) -> Iterator[Server]:
    if args.dsn:
        yield Server(args.dsn, "existing server (--dsn)")
        return
    from pgany.testing import Cluster

    log("starting a throwaway PostgreSQL ...")
    with Cluster(args.bindir, conf=_SERVER_CONF) as cluster:
        yield Server(cluster.dsn(), f"throwaway cluster from {cluster.bindir}", cluster.pid)


def split_cpus() -> tuple[set[int], set[int]] | None:
    """(server cores, client cores), or None with fewer than two cores to use."""
    if not hasattr(os, "sched_getaffinity"):
        return None
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) < 2:
        return None
    half = len(cpus) // 2
    return set(cpus[:half]), set(cpus[half:])


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # "pid (comm) state ppid ...": comm may hold spaces and parentheses.
        fields = stat.rsplit(")", 1)[-1].split()
        if len(fields) > 1 and fields[1] == str(pid):
            found.append(int(entry.name))
    return found


def pin_server(postmaster: int, cpus: set[int]) -> str | None:
    """Pin the postmaster and its current children; backends fork from it and inherit."""
    pids = [postmaster, *_children(postmaster)]
    try:
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.sched_setaffinity(pid, cpus)
    except OSError as exc:
        return f"cannot pin the server: {exc}"
    return None


# -- running the workers -----------------------------------------------------------------


@dataclass
class Cell:
    """One driver on one workload: its times over the rounds, or why it has none."""

    times: list[float] = field(default_factory=list)
    count: int = 0
    error: str | None = None
    skipped: str | None = None
    note: str | None = None
    version: str | None = None
    #: Modules the workload needs besides the driver (psycopg_pool) -> their versions.
    extra_versions: dict[str, str | None] = field(default_factory=dict)

    @property
    def median(self) -> float | None:
        return statistics.median(self.times) if self.times and not self.error else None

    @property
    def rate(self) -> float | None:
        median = self.median
        return self.count / median if median else None


def run_worker(
    args: argparse.Namespace, dsn: str, driver: str, key: str, reps: int
) -> dict[str, Any]:
    argv = [args.python, "-m", "bench.worker", "--driver", driver, "--workload", key]
    argv += ["--dsn", dsn, "--reps", str(reps)]
    if args.quick:
        argv.append("--quick")
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(_ROOT), env.get("PYTHONPATH")]))
    try:
        proc = subprocess.run(
            argv,
            capture_output=True,
            text=True,
            timeout=args.timeout,
            cwd=_ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {args.timeout:g} s"}
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith("{"):
            with contextlib.suppress(ValueError):
                result: dict[str, Any] = json.loads(line)
                return result
    last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
    return {"error": f"worker exited with {proc.returncode}: {last}"}


def plan_groups(keys: list[str], drivers: list[str]) -> list[list[tuple[str, str]]]:
    """The (workload, driver) pairs that take turns, one list per group.

    Each workload is a group of its own, except the trio rows: they join the
    asyncio workload they are compared with, so that pgany on trio and on
    asyncio meet the same load. A trio row chosen without its baseline brings
    the baseline's pgany along.
    """
    groups: dict[str, list[tuple[str, str]]] = {}
    for key in keys:
        pairs = [(key, d) for d in columns_for(key) if d in drivers]
        baseline = WORKLOADS[key].target.baseline
        if baseline is None:
            groups.setdefault(key, []).extend(pairs)
            continue
        root = baseline  # (9.2 is measured against 9.1, which is against 4: one group)
        while WORKLOADS[root].target.baseline is not None:
            root = WORKLOADS[root].target.baseline  # type: ignore[assignment]
        group = groups.setdefault(root, [])
        if baseline not in keys and "pgany" in drivers and (baseline, "pgany") not in group:
            group.insert(0, (baseline, "pgany"))
        group.extend(p for p in pairs if p not in group)
    return [pairs for pairs in groups.values() if pairs]


def run_group(
    args: argparse.Namespace, dsn: str, pairs: list[tuple[str, str]]
) -> dict[tuple[str, str], Cell]:
    cells = {pair: Cell() for pair in pairs}
    for round_ in range(args.reps):
        # Rotate the order, so no driver always runs first (or right after another).
        shift = round_ % len(pairs)
        for key, driver in pairs[shift:] + pairs[:shift]:
            cell = cells[key, driver]
            if cell.error or cell.skipped:
                continue
            result = run_worker(args, dsn, driver, key, reps=1)
            cell.count = result.get("count", cell.count)
            cell.note = result.get("note", cell.note)
            cell.version = result.get("version", cell.version)
            cell.extra_versions.update(result.get("extra_versions") or {})
            cell.times.extend(result.get("times") or [])
            cell.error = result.get("error")
            cell.skipped = result.get("skipped")
            if cell.error:
                shown = f"error: {cell.error}"
            elif cell.skipped:
                shown = f"n/a: {cell.skipped}"
            else:
                shown = f"{cell.times[-1]:.3f} s"
            log(f"  {f'({key})':<6}{driver:<17} round {round_ + 1}/{args.reps}: {shown}")
    return cells


# -- ratios ------------------------------------------------------------------------------


def judge(
    key: str, cells: dict[str, Cell], all_cells: dict[str, dict[str, Cell]]
) -> dict[str, Any]:
    """pgany's ratios on one workload: to the best peer, and to what the target names."""
    workload = WORKLOADS[key]
    mine = cells.get("pgany")
    rate = mine.rate if mine else None
    peers = {d: c.rate for d, c in cells.items() if d != "pgany" and c.rate}
    out: dict[str, Any] = {
        "best_peer": None,
        "vs_best": None,
        "target": workload.target.describe(),
        "target_ratio": workload.target.ratio,
        "target_against": None,
        "vs_target": None,
        "met": None,
    }
    if peers:
        best = max(peers, key=lambda d: peers[d])
        out["best_peer"] = best
        out["vs_best"] = rate / peers[best] if rate else None
    target = workload.target
    if target.baseline is not None:
        base = all_cells.get(target.baseline, {}).get("pgany")
        against = base.rate if base else None
        out["target_against"] = f"pgany ({target.baseline})"
    elif target.peer is not None:
        against = peers.get(target.peer)
        out["target_against"] = target.peer
    else:
        against = peers.get(out["best_peer"]) if out["best_peer"] else None
        out["target_against"] = out["best_peer"]
    if rate and against:
        out["vs_target"] = rate / against
        out["met"] = out["vs_target"] >= target.ratio
    return out


# -- the table ---------------------------------------------------------------------------


def fmt_rate(rate: float | None) -> str:
    if rate is None:
        return "-"
    if rate >= 1e6:
        return f"{rate / 1e6:.2f}M"
    if rate >= 1e4:
        return f"{rate / 1e3:.0f}k"
    if rate >= 1e3:
        return f"{rate / 1e3:.1f}k"
    return f"{rate:.0f}"


def fmt_time(cell: Cell) -> str:
    median = cell.median
    if median is None:
        return "-"
    spread = (max(cell.times) - min(cell.times)) / 2 / median if len(cell.times) > 1 else 0
    return f"{median:.3f} ±{spread:.0%}" if len(cell.times) > 1 else f"{median:.3f}"


def cell_text(cell: Cell | None, value: str) -> str:
    if cell is None:
        return ""
    if cell.error:
        return "missing" if cell.error.startswith("not installed") else "error"
    if cell.skipped:
        return "n/a"
    return value


_UNIT = {
    "queries": "queries/s",
    "rows": "rows/s",
    "connections": "connects/s",
    "transactions": "tx/s",
    "checkouts": "checkouts/s",
}


def render(report: dict[str, Any], cells: dict[str, dict[str, Cell]]) -> str:
    meta = report["meta"]
    columns = [c for c in COLUMNS if any(c in row for row in cells.values())]
    label_width = max(len(f"{w['title']} [{_UNIT[w['unit']]}]") for w in report["workloads"])
    widths = [max(len(c), 10) + 2 for c in columns]

    def row(label: str, values: list[str]) -> str:
        return label.ljust(label_width) + "".join(
            v.rjust(n) for v, n in zip(values, widths, strict=True)
        )

    lines = [
        f"pgany benchmark, {meta['date']}: median of {meta['reps']} "
        f"{'repetition' if meta['reps'] == 1 else 'repetitions'}"
        + (" (--quick: small sizes, not for comparison)" if meta["quick"] else ""),
        f"PostgreSQL {meta['server_version']} ({meta['server']}); "
        f"Python {meta['python']}; {meta['pinning']}; load average {meta['load_before']} "
        f"before, {meta['load_after']} after; cores' wake-up latency: "
        f"{meta.get('cpu_latency', '?')}",
        "drivers: " + ", ".join(f"{d} {v}" for d, v in report["versions"].items() if v),
        "",
        "Rates (higher is better)",
        row("workload", columns),
    ]
    for w in report["workloads"]:
        row_cells = cells[w["key"]]
        values = [
            cell_text(row_cells.get(c), fmt_rate((row_cells.get(c) or Cell()).rate))
            for c in columns
        ]
        lines.append(row(f"{w['title']} [{_UNIT[w['unit']]}]", values))
    lines += ["", "Median seconds (± half the spread of the repetitions)", row("workload", columns)]
    for w in report["workloads"]:
        row_cells = cells[w["key"]]
        values = [
            cell_text(row_cells.get(c), fmt_time(row_cells.get(c) or Cell())) for c in columns
        ]
        lines.append(row(w["title"], values))

    lines += [
        "",
        "pgany's ratios (pgany's rate / the other's; above 1 = pgany faster)",
        f"{'workload':<10}{'vs best peer':<28}{'target':<36}{'ratio':>7}  met",
    ]
    for w in report["workloads"]:
        j = w["judgement"]
        best = f"{j['vs_best']:.2f} ({j['best_peer']})" if j["vs_best"] is not None else "-"
        ratio = f"{j['vs_target']:.2f}" if j["vs_target"] is not None else "-"
        met = {True: "yes", False: "NO", None: "-"}[j["met"]]
        lines.append(
            f"({w['key']})".ljust(10)
            + best.ljust(28)
            + j["target"].ljust(36)
            + ratio.rjust(7)
            + "  "
            + met
        )

    notes = []
    for w in report["workloads"]:
        for driver, cell in cells[w["key"]].items():
            if cell.error and not cell.error.startswith("not installed"):
                notes.append(f"  ({w['key']}) {driver}: error: {cell.error}")
            elif cell.skipped and not cell.skipped.startswith("pipeline mode"):
                notes.append(f"  ({w['key']}) {driver}: n/a: {cell.skipped}")
    for driver, reason in report["missing"].items():
        notes.append(f"  {driver}: missing: {reason}")
    if notes:
        lines += ["", "Not measured", *notes]
    hows = sorted(
        {
            (w["key"], d, c.note)
            for w in report["workloads"]
            for d, c in cells[w["key"]].items()
            if c.note and not c.error and not c.skipped and w["backend"] == "asyncio"
        }
    )
    if hows:
        lines += ["", "How"]
        lines += [f"  ({key}) {driver}: {note}" for key, driver, note in hows]
    return "\n".join(lines)


# -- main --------------------------------------------------------------------------------


def _select_workloads(text: str | None) -> list[str]:
    if not text:
        return list(WORKLOADS)
    keys: list[str] = []
    for part in text.split(","):
        part = part.strip()
        matches = [k for k in WORKLOADS if k == part or k.split(".")[0] == part]
        if not matches:
            raise SystemExit(f"no workload {part!r} (choose from {', '.join(WORKLOADS)})")
        keys += [k for k in matches if k not in keys]
    return sorted(keys, key=_order)


def _order(key: str) -> list[int]:
    return [int(x) for x in key.split(".")]


def _select_drivers(text: str | None) -> list[str]:
    if not text:
        return list(COLUMNS)
    chosen = {d.strip() for d in text.split(",") if d.strip()}
    unknown = chosen - set(COLUMNS)
    if unknown:
        raise SystemExit(f"unknown driver(s) {sorted(unknown)}; choose from {', '.join(COLUMNS)}")
    if "psycopg" in chosen:
        chosen.add("psycopg-pipeline")
    return [c for c in COLUMNS if c in chosen]


@contextlib.contextmanager
def cpu_latency_limit(microseconds: int | None) -> Iterator[str]:
    """Ask Linux to keep every core's wake-up latency under *microseconds*.

    Writing to ``/dev/cpu_dma_latency`` (root; held while the file stays open)
    keeps idle cores out of deep sleep states, the usual setting for latency
    measurements. On a virtual machine whose idle cores halt, waking a halted
    core adds several microseconds to every round trip, and a client that
    computes less per query (so goes idle more often) pays it more often: the
    limit takes that cost out, for every driver alike. Yields what was done.
    """
    if microseconds is None:
        yield "the machine's own (see --cpu-latency)"
        return
    try:
        fd = os.open("/dev/cpu_dma_latency", os.O_WRONLY)
    except OSError as exc:
        yield f"the machine's own (could not limit it: {exc})"
        return
    try:
        os.write(fd, struct.pack("i", microseconds))
        yield f"at most {microseconds} us (/dev/cpu_dma_latency held)"
    finally:
        os.close(fd)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="pgany against asyncpg, psycopg 3, pg8000 and pg-purepy (see bench/README.md).",
    )
    parser.add_argument("--workloads", help="comma-separated, e.g. 1,2,8 (default: all)")
    parser.add_argument(
        "--drivers", help=f"comma-separated among {', '.join(COLUMNS)} (default: all)"
    )
    parser.add_argument("--reps", type=int, help=f"repetitions (default {_DEFAULT_REPS})")
    parser.add_argument("--quick", action="store_true", help="small sizes, 1 repetition")
    parser.add_argument("--json", type=Path, metavar="FILE", help="write the results here")
    server_group = parser.add_mutually_exclusive_group()
    server_group.add_argument("--bindir", help="the PostgreSQL binaries for the throwaway server")
    server_group.add_argument(
        "--dsn", help="use this existing server instead (its bench_* tables are replaced)"
    )
    parser.add_argument(
        "--python",
        default=sys.executable,
        help="the interpreter that runs the workers (default: this one)",
    )
    parser.add_argument("--no-pin", action="store_true", help="do not pin client and server")
    parser.add_argument(
        "--cpu-latency",
        type=int,
        metavar="US",
        help="keep idle cores' wake-up latency under US microseconds while it runs "
        "(Linux, root: /dev/cpu_dma_latency; 0 keeps them from sleeping)",
    )
    parser.add_argument(
        "--timeout", type=float, default=900, help="seconds one worker may take (default 900)"
    )
    args = parser.parse_args(argv)
    if args.reps is None:
        args.reps = 1 if args.quick else _DEFAULT_REPS
    if args.reps < 1:
        parser.error("--reps must be at least 1")
    return args


def _load() -> str:
    with contextlib.suppress(OSError, AttributeError):
        return f"{os.getloadavg()[0]:.2f}"
    return "?"


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    keys = _select_workloads(args.workloads)
    drivers = _select_drivers(args.drivers)
    started = time.monotonic()
    load_before = _load()
    cells: dict[str, dict[str, Cell]] = {}
    with cpu_latency_limit(args.cpu_latency) as cpu_latency, server(args) as srv:
        log(f"wake-up latency: {cpu_latency}")
        pinning = "no pinning (--no-pin)" if args.no_pin else "no pinning (fewer than 2 cores)"
        split = None if args.no_pin else split_cpus()
        if split is not None:
            server_cpus, client_cpus = split
            if srv.postmaster is None:
                pinning = f"client on cores {sorted(client_cpus)} (server not ours: unpinned)"
            else:
                problem = pin_server(srv.postmaster, server_cpus)
                pinning = (
                    f"server on cores {sorted(server_cpus)}, client on {sorted(client_cpus)}"
                    if problem is None
                    else f"client on cores {sorted(client_cpus)} ({problem})"
                )
            # The workers inherit this process's affinity.
            os.sched_setaffinity(0, client_cpus)
        log(pinning)
        log("making the tables ...")
        setup_argv = [args.python, "-m", "bench.worker", "--setup", "--dsn", srv.dsn]
        if args.quick:
            setup_argv.append("--quick")
        done = subprocess.run(
            setup_argv, capture_output=True, text=True, cwd=_ROOT, stdin=subprocess.DEVNULL
        )
        if done.returncode != 0:
            log(done.stderr)
            log("could not make the tables")
            return 1
        setup = json.loads(done.stdout.strip().splitlines()[-1])
        for pairs in plan_groups(keys, drivers):
            for key in dict.fromkeys(k for k, _ in pairs):
                log(WORKLOADS[key].title(WORKLOADS[key].count(args.quick)))
            for (key, driver), cell in run_group(args, srv.dsn, pairs).items():
                cells.setdefault(key, {})[driver] = cell

    versions: dict[str, str | None] = {}
    extra_versions: dict[str, str | None] = {}
    missing: dict[str, str] = {}
    for row_cells in cells.values():
        for driver, cell in row_cells.items():
            if cell.version:
                versions.setdefault(driver.removesuffix("-pipeline"), cell.version)
            for module, version in cell.extra_versions.items():
                extra_versions.setdefault(module, version)
            if cell.error and cell.error.startswith("not installed"):
                # A driver may import and still lack a module some rows need (psycopg_pool).
                known = missing.get(driver)
                if known is None:
                    missing[driver] = cell.error
                elif cell.error not in known.split("; "):
                    missing[driver] = f"{known}; {cell.error}"
    workloads = []
    for key in sorted(cells, key=_order):
        row_cells = cells[key]
        workload = WORKLOADS[key]
        n = next((c.count for c in row_cells.values() if c.count), workload.count(args.quick))
        workloads.append(
            {
                "key": key,
                "title": workload.title(n),
                "unit": workload.unit,
                "count": n,
                "backend": workload.backend,
                "results": {
                    d: {
                        "times": c.times,
                        "median": c.median,
                        "rate": c.rate,
                        "error": c.error,
                        "skipped": c.skipped,
                        "note": c.note,
                    }
                    for d, c in row_cells.items()
                },
                "judgement": judge(key, row_cells, cells),
            }
        )
    report = {
        "meta": {
            "date": datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"),
            "command": ["python", "-m", "bench", *(sys.argv[1:] if argv is None else argv)],
            "reps": args.reps,
            "quick": args.quick,
            "python": platform.python_version(),
            "worker_python": args.python,
            "server": srv.source,
            "server_version": setup.get("server_version", "?").split()[0],
            "pinning": pinning,
            "cpu_latency": cpu_latency,
            "cpus": os.cpu_count(),
            "load_before": load_before,
            "load_after": _load(),
            "seconds": round(time.monotonic() - started, 1),
        },
        "versions": {d: versions.get(d) for d in COLUMNS if d in versions} | extra_versions,
        "missing": missing,
        "peers": list(PEERS),
        "workloads": workloads,
    }
    print(render(report, cells))
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n")
        log(f"wrote {args.json}")
    log(f"took {report['meta']['seconds']} s")
    return 0
