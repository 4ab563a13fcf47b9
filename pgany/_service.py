"""The connection service file, ``pg_service.conf``, read as libpq reads it.

A service is a named group of connection keywords::

    # comment
    [mydb]
    host=db.example.com
    port=5433
    dbname=app

libpq looks for the service first in the per-user file (the ``servicefile``
keyword, else ``PGSERVICEFILE``, else ``~/.pg_service.conf``), then in the
system-wide ``pg_service.conf`` in ``PGSYSCONFDIR`` (else the directory
libpq was built with; pgany tries the usual ones). The first file that has
the service wins; a missing file is skipped; a service found nowhere is an
error. Lines are ``keyword=value`` exactly: leading blanks are skipped, the
rest of the line is the value, and only libpq keywords are allowed.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from pgany._keywords import DSN_KEYS
from pgany.errors import InterfaceError

__all__ = ["service_values", "system_service_file", "user_service_file"]

#: Where libpq's SYSCONFDIR may be when PGSYSCONFDIR is not set (Debian and
#: Ubuntu, PGDG packages for RHEL, a build from source), in the order tried.
SYSCONFDIRS = ("/etc/postgresql-common", "/etc/sysconfig/pgsql", "/usr/local/pgsql/etc", "/etc")


def _home(environ: Mapping[str, str]) -> str | None:
    home = environ.get("HOME")
    if home:
        return home
    try:
        import pwd

        return pwd.getpwuid(os.getuid()).pw_dir
    except (ImportError, KeyError, OSError):
        return None


def user_service_file(servicefile: str | None, environ: Mapping[str, str]) -> str | None:
    """The per-user service file: *servicefile*, else ``~/.pg_service.conf``."""
    if servicefile:
        return servicefile
    home = _home(environ)
    return os.path.join(home, ".pg_service.conf") if home else None


def system_service_file(environ: Mapping[str, str]) -> str | None:
    """The system-wide ``pg_service.conf``: in ``PGSYSCONFDIR``, else the first usual place."""
    sysconfdir = environ.get("PGSYSCONFDIR")
    if sysconfdir:
        return os.path.join(sysconfdir, "pg_service.conf")
    for directory in SYSCONFDIRS:
        path = os.path.join(directory, "pg_service.conf")
        if os.path.isfile(path):
            return path
    return None


def service_values(
    name: str, *, servicefile: str | None = None, environ: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The keywords of service *name*, from the first service file that defines it.

    *servicefile* is the ``servicefile`` keyword or ``PGSERVICEFILE``;
    *environ* (default ``os.environ``) supplies ``PGSYSCONFDIR`` and ``HOME``.
    """
    env: Mapping[str, str] = os.environ if environ is None else environ
    for path in (user_service_file(servicefile, env), system_service_file(env)):
        if path is None or not os.path.exists(path):
            continue
        found = _parse_file(path, name)
        if found is not None:
            return found
    raise InterfaceError(f'definition of service "{name}" not found')


def _parse_file(path: str, name: str) -> dict[str, str] | None:
    """The keywords of group ``[name]`` in the file at *path*, or ``None`` if it has none."""
    try:
        with open(path, encoding="utf-8") as f:
            lines = f.read().split("\n")
    except (OSError, UnicodeDecodeError) as exc:
        raise InterfaceError(f'could not read service file "{path}": {exc}') from exc
    values: dict[str, str] | None = None
    for number, raw in enumerate(lines, 1):
        line = raw.rstrip("\r").lstrip(" \t\n\r\v\f")
        if not line or line.startswith("#"):
            continue
        if line.startswith("["):
            if values is not None:
                break  # the end of our group
            if line[1 : len(name) + 1] == name and line[len(name) + 1 : len(name) + 2] == "]":
                values = {}
            continue
        if values is None:
            continue
        key, eq, value = line.partition("=")
        if not eq:
            raise InterfaceError(f'syntax error in service file "{path}", line {number}')
        if key == "service":
            raise InterfaceError(
                f'nested service specifications not supported in service file "{path}", '
                f"line {number}"
            )
        if key not in DSN_KEYS:
            raise InterfaceError(
                f'syntax error in service file "{path}", line {number}: '
                f'invalid connection option "{key}"'
            )
        values.setdefault(key, value)
    return values
