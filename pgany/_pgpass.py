"""The password file, ``~/.pgpass``, read as libpq reads it.

Each line is ``hostname:port:database:username:password``. The first line
whose first four fields match the connection gives the password; ``*``
matches anything; ``\\:`` and ``\\\\`` stand for a colon and a backslash.
The host name matched is ``host`` (else ``hostaddr``); a Unix-domain
connection to the default socket directory, or one with no host at all,
matches ``localhost``.

The file is ``passfile`` (or ``PGPASSFILE``), else ``~/.pgpass``. As in
libpq, a file that is not a plain file, or that its group or others may
read or write, is ignored with a warning; a missing one silently.
"""

from __future__ import annotations

import logging
import os
import stat

from pgany.config import DEFAULT_HOST, HostSpec, default_socket_dirs

__all__ = ["default_passfile", "lookup_password", "password_host"]

logger = logging.getLogger("pgany")


def default_passfile() -> str | None:
    """``~/.pgpass`` (``$HOME`` first, as libpq does), or ``None`` without a home directory."""
    home = os.environ.get("HOME")
    if not home:
        try:
            import pwd

            home = pwd.getpwuid(os.getuid()).pw_dir
        except (ImportError, KeyError, OSError):
            return None
    return os.path.join(home, ".pgpass")


def password_host(host: HostSpec) -> str:
    """The host name a password-file line must match for *host*."""
    name = host.host or host.hostaddr or ""
    if not name or (host.is_unix and name.rstrip("/") in default_socket_dirs()):
        return DEFAULT_HOST
    return name


def _match(line: str, pos: int, token: str) -> int:
    """libpq's pwdfMatchesString: where the next field starts if this one matches, else -1."""
    if line.startswith("*:", pos):
        return pos + 2
    t = 0
    n = len(line)
    while pos < n:
        escaped = False
        if line[pos] == "\\":
            pos += 1
            escaped = True
            if pos >= n:
                return -1
        ch = line[pos]
        if ch == ":" and not escaped and t == len(token):
            return pos + 1
        if t == len(token) or ch != token[t]:
            return -1
        pos += 1
        t += 1
    return -1


def _unescape_password(text: str) -> str:
    out: list[str] = []
    i, n = 0, len(text)
    while i < n and text[i] != ":":
        if text[i] == "\\" and i + 1 < n:
            i += 1
        out.append(text[i])
        i += 1
    return "".join(out)


def find_password(lines: list[str], host: str, port: str, dbname: str, user: str) -> str | None:
    """The password of the first of *lines* that matches, or ``None``."""
    for raw in lines:
        line = raw.rstrip("\r\n")
        if not line or line.startswith("#"):
            continue
        pos = 0
        for token in (host, port, dbname, user):
            pos = _match(line, pos, token)
            if pos < 0:
                break
        else:
            return _unescape_password(line[pos:])
    return None


def lookup_password(
    passfile: str | None, host: HostSpec, dbname: str, user: str
) -> tuple[str, str] | None:
    """``(password, file)`` for *host*, *dbname* and *user* from the password file, if any."""
    path = passfile or default_passfile()
    if not path:
        return None
    try:
        st = os.stat(path)
    except OSError:
        return None
    if not stat.S_ISREG(st.st_mode):
        logger.warning('password file "%s" is not a plain file', path)
        return None
    if os.name == "posix" and st.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        logger.warning(
            'password file "%s" has group or world access; permissions should be '
            "u=rw (0600) or less",
            path,
        )
        return None
    try:
        with open(path, encoding="utf-8", errors="surrogateescape") as f:
            lines = f.read().split("\n")
    except OSError:
        return None
    password = find_password(lines, password_host(host), str(host.port), dbname, user)
    if password is None:
        return None
    return password, path
