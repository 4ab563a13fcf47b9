"""``python -m pgany.testing``: start a throwaway cluster and print how to reach it.

``python -m pgany.testing --version`` lists the server binaries found instead.
"""

from __future__ import annotations

import argparse
import signal
import sys
import time
from pathlib import Path
from types import FrameType

from ._binaries import NO_SERVER_HELP, ClusterError, bindir_version, find_bindirs
from ._cluster import Cluster


def _show_bindirs() -> int:
    try:
        bindirs = find_bindirs()
    except ClusterError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if not bindirs:
        print(NO_SERVER_HELP, file=sys.stderr)
        return 1
    for bindir in bindirs:
        major, minor = divmod(bindir_version(bindir), 10000)
        print(f"PostgreSQL {major}.{minor}\t{bindir}")
    return 0


def _terminate(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m pgany.testing",
        description="Start a throwaway PostgreSQL cluster; Ctrl-C stops it and deletes it.",
    )
    parser.add_argument(
        "--version", action="store_true", help="list the server binaries found, and exit"
    )
    parser.add_argument("--bindir", type=Path, help="server binaries to use (default: first found)")
    parser.add_argument(
        "--hba", action="append", default=[], metavar="LINE", help="a pg_hba.conf line (repeat)"
    )
    parser.add_argument(
        "--conf", action="append", default=[], metavar="NAME=VALUE", help="a setting (repeat)"
    )
    args = parser.parse_args(argv)
    if args.version:
        return _show_bindirs()

    conf = {}
    for item in args.conf:
        name, sep, value = item.partition("=")
        if not sep:
            parser.error(f"--conf wants NAME=VALUE, not {item!r}")
        conf[name.strip()] = value.strip()

    signal.signal(signal.SIGTERM, _terminate)
    try:
        with Cluster(args.bindir, hba=args.hba, conf=conf) as cluster:
            major, minor = divmod(cluster.version, 10000)
            print(f"PostgreSQL {major}.{minor} from {cluster.bindir}")
            print(f"  DSN (TCP):    {cluster.dsn()}")
            print(f"  DSN (socket): {cluster.dsn(host=cluster.socket_dir)}")
            print(f"  psql:         {cluster.bindir / 'psql'} '{cluster.dsn()}'")
            if cluster.server_user:
                print(f"  server runs as OS user {cluster.server_user!r}")
            print("Ctrl-C to stop and delete it.", flush=True)
            while True:
                time.sleep(3600)
    except KeyboardInterrupt:
        print("\nstopped; the cluster is deleted", file=sys.stderr)
    except ClusterError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
