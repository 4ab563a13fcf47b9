"""The README's quickstart (examples/quickstart.py) runs against the test server."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).parent.parent / "examples" / "quickstart.py"


def _load():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("quickstart_example", EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.anyio
async def test_quickstart_main(pg_dsn: str) -> None:
    await _load().main(pg_dsn)


def test_quickstart_script_with_a_dsn(pg_dsn: str) -> None:
    proc = subprocess.run(
        [sys.executable, str(EXAMPLE), pg_dsn],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.count("42 from PostgreSQL") == 2  # asyncio, then trio


def test_quickstart_script_starts_its_own_server() -> None:
    """With no DSN the README command starts a throwaway server itself."""
    import os

    env = {k: v for k, v in os.environ.items() if k not in ("PGANY_DSN",)}
    proc = subprocess.run(
        [sys.executable, str(EXAMPLE)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env=env,
    )
    assert proc.returncode == 0, proc.stderr
    assert "started a throwaway PostgreSQL" in proc.stdout
    assert proc.stdout.count("42 from PostgreSQL") == 2
