"""Connection configuration: libpq connection strings, keywords and environment.

:meth:`Config.from_dsn` reads a libpq connection string in either form, URI
(``postgresql://user:pw@host:port/db?sslmode=require``) or key/value
(``host=... port=... dbname=...``); keyword arguments override it; whatever
neither gives comes from libpq's environment variables, then libpq's defaults.
"""

from __future__ import annotations

import dataclasses
import getpass
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from pgany.errors import InterfaceError

__all__ = ["Config", "HostSpec"]

#: libpq keywords that pgany reads, and the environment variable of each.
_ENV: dict[str, str] = {
    "host": "PGHOST",
    "hostaddr": "PGHOSTADDR",
    "port": "PGPORT",
    "user": "PGUSER",
    "password": "PGPASSWORD",
    "passfile": "PGPASSFILE",
    "dbname": "PGDATABASE",
    "application_name": "PGAPPNAME",
    "options": "PGOPTIONS",
    "connect_timeout": "PGCONNECT_TIMEOUT",
    "sslmode": "PGSSLMODE",
    "sslrootcert": "PGSSLROOTCERT",
    "sslcert": "PGSSLCERT",
    "sslkey": "PGSSLKEY",
    "sslcrl": "PGSSLCRL",
    "sslnegotiation": "PGSSLNEGOTIATION",
    "channel_binding": "PGCHANNELBINDING",
    "require_auth": "PGREQUIREAUTH",
    "target_session_attrs": "PGTARGETSESSIONATTRS",
    "load_balance_hosts": "PGLOADBALANCEHOSTS",
    "service": "PGSERVICE",
    "ssl_min_protocol_version": "PGSSLMINPROTOCOLVERSION",
    "ssl_max_protocol_version": "PGSSLMAXPROTOCOLVERSION",
    "tcp_user_timeout": None,  # type: ignore[dict-item]
}
_ENV = {k: v for k, v in _ENV.items() if v}

# Keys libpq accepts that pgany parses (some are acted on by later layers).
_LIBPQ_KEYS = frozenset(
    {
        *_ENV,
        "sslpassword",
        "fallback_application_name",
        "keepalives",
        "keepalives_idle",
        "keepalives_interval",
        "keepalives_count",
        "tcp_user_timeout",
        "client_encoding",
        "gssencmode",
        "sslcompression",
        "sslsni",
        "krbsrvname",
        "gsslib",
        "requirepeer",
        "replication",
    }
)

_PGANY_KEYS = frozenset(
    {"statement_cache_size", "notification_buffer", "on_notice", "json_loads", "json_dumps"}
)

_SSLMODES = ("disable", "allow", "prefer", "require", "verify-ca", "verify-full")
_TARGET_SESSION_ATTRS = ("any", "read-write", "read-only", "primary", "standby", "prefer-standby")
_CHANNEL_BINDING = ("disable", "prefer", "require")

_DEFAULT_SOCKET_DIRS = ("/var/run/postgresql", "/run/postgresql", "/tmp")


@dataclass(frozen=True, slots=True)
class HostSpec:
    """One host to try: a name or IP address (or a Unix socket directory) and a port."""

    host: str
    port: int
    hostaddr: str | None = None

    @property
    def is_unix(self) -> bool:
        """True when *host* is a Unix-domain socket directory."""
        return self.host.startswith("/") or self.host.startswith("@")

    @property
    def socket_path(self) -> str:
        """The socket file of a Unix-domain host."""
        return os.path.join(self.host, f".s.PGSQL.{self.port}")

    def __str__(self) -> str:
        if self.is_unix:
            return self.socket_path
        if ":" in self.host:
            return f"[{self.host}]:{self.port}"
        return f"{self.host}:{self.port}"


def _hide(value: str | None) -> str:
    return "None" if value is None else "'***'"


@dataclass(slots=True)
class Config:
    """A parsed connection configuration; ``repr()`` never shows the password.

    Field names are libpq's keywords; :attr:`hosts` is the list of
    (host, port) pairs to try, in order.
    """

    host: str | None = None
    hostaddr: str | None = None
    port: str | None = None
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    passfile: str | None = None
    dbname: str | None = None
    application_name: str | None = None
    fallback_application_name: str | None = None
    options: str | None = None
    connect_timeout: float | None = None
    sslmode: str = "prefer"
    sslrootcert: str | None = None
    sslcert: str | None = None
    sslkey: str | None = None
    sslpassword: str | None = field(default=None, repr=False)
    sslcrl: str | None = None
    sslnegotiation: str = "postgres"
    ssl_min_protocol_version: str | None = None
    ssl_max_protocol_version: str | None = None
    channel_binding: str = "prefer"
    require_auth: str | None = None
    target_session_attrs: str = "any"
    load_balance_hosts: str = "disable"
    service: str | None = None
    keepalives: bool = True
    keepalives_idle: int | None = None
    keepalives_interval: int | None = None
    keepalives_count: int | None = None
    tcp_user_timeout: int | None = None
    #: Extra run-time parameters sent at startup (``client_encoding`` is always UTF8).
    server_settings: dict[str, str] = field(default_factory=dict)
    #: Size of the per-connection LRU of prepared statements (0 = unnamed statements only).
    statement_cache_size: int = 256
    #: Notifications kept for a slow consumer before the oldest are dropped.
    notification_buffer: int = 10_000
    #: Called with each notice the server sends (else notices go to the ``pgany`` logger).
    on_notice: Callable[[Any], object] | None = field(default=None, compare=False)
    #: Decodes json/jsonb values (default :func:`json.loads`).
    json_loads: Callable[[str | bytes], Any] | None = field(default=None, compare=False)
    #: Encodes json/jsonb parameters (default :func:`json.dumps`).
    json_dumps: Callable[[Any], str | bytes] | None = field(default=None, compare=False)

    def __repr__(self) -> str:
        parts = []
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if f.name in ("password", "sslpassword"):
                if value is not None:
                    parts.append(f"{f.name}={_hide(value)}")
                continue
            if (
                value is None
                or value == f.default
                or (f.name in ("server_settings",) and not value)
            ):
                continue
            parts.append(f"{f.name}={value!r}")
        return f"pgany.Config({', '.join(parts)})"

    __str__ = __repr__

    # -- construction --------------------------------------------------------

    @classmethod
    def from_dsn(
        cls, dsn: str | None = None, *, environ: Mapping[str, str] | None = None, **params: Any
    ) -> Config:
        """Parse a libpq connection string; *params* (libpq keywords) override it.

        Whatever neither gives comes from the PG* environment variables
        (*environ*, default ``os.environ``), then libpq's defaults.
        """
        values: dict[str, Any] = {}
        if dsn:
            values.update(_parse_dsn(dsn))
        for key, value in params.items():
            if value is not None:
                values[key] = value
        env = os.environ if environ is None else environ
        for key, var in _ENV.items():
            if key not in values and var in env and env[var] != "":
                values[key] = env[var]
        return cls._build(values)

    @classmethod
    def _build(cls, values: dict[str, Any]) -> Config:
        kwargs: dict[str, Any] = {}
        settings: dict[str, str] = dict(values.pop("server_settings", None) or {})
        for key, value in values.items():
            if key in _PGANY_KEYS:
                kwargs[key] = _convert(key, value)
            elif key in _LIBPQ_KEYS:
                if key in ("client_encoding",):
                    if str(value).upper().replace("-", "") not in ("UTF8", "UNICODE"):
                        raise InterfaceError(
                            f"client_encoding: pgany speaks UTF8 only, not {value!r}"
                        )
                    continue
                if key in (
                    "gssencmode",
                    "sslcompression",
                    "sslsni",
                    "krbsrvname",
                    "gsslib",
                    "requirepeer",
                ):
                    continue
                if key == "replication":
                    raise InterfaceError("replication connections are not supported")
                kwargs[key] = _convert(key, value)
            else:
                raise InterfaceError(f"invalid connection option {key!r}")
        kwargs["server_settings"] = settings
        config = cls(**kwargs)
        config._validate()
        return config

    def _validate(self) -> None:
        if self.sslmode not in _SSLMODES:
            raise InterfaceError(
                f"invalid sslmode value: {self.sslmode!r} (one of {', '.join(_SSLMODES)})"
            )
        if self.channel_binding not in _CHANNEL_BINDING:
            raise InterfaceError(f"invalid channel_binding value: {self.channel_binding!r}")
        if self.target_session_attrs not in _TARGET_SESSION_ATTRS:
            raise InterfaceError(
                f"invalid target_session_attrs value: {self.target_session_attrs!r}"
            )
        if self.load_balance_hosts not in ("disable", "random"):
            raise InterfaceError(f"invalid load_balance_hosts value: {self.load_balance_hosts!r}")
        if self.sslnegotiation not in ("postgres", "direct"):
            raise InterfaceError(f"invalid sslnegotiation value: {self.sslnegotiation!r}")
        if self.statement_cache_size < 0:
            raise InterfaceError("statement_cache_size must be >= 0")
        if self.notification_buffer < 1:
            raise InterfaceError("notification_buffer must be >= 1")
        self.hosts()  # validates host/port pairing

    def replace(self, **changes: Any) -> Config:
        """A copy with some fields changed."""
        return dataclasses.replace(self, **changes)

    # -- derived values ---------------------------------------------------------

    def effective_user(self) -> str:
        """The user to log in as: ``user``, else the operating-system user."""
        if self.user:
            return self.user
        try:
            return getpass.getuser()
        except Exception as exc:
            raise InterfaceError("no user given and the operating-system user is unknown") from exc

    def effective_dbname(self) -> str:
        """The database: ``dbname``, else the user name."""
        return self.dbname or self.effective_user()

    def hosts(self) -> list[HostSpec]:
        """The (host, port) pairs to try, in order, with libpq's defaults filled in."""
        host_list = _split(self.host) if self.host else []
        addr_list = _split(self.hostaddr) if self.hostaddr else []
        port_list = _split(self.port) if self.port else []
        n = max(len(host_list), len(addr_list), 1)
        if host_list and addr_list and len(host_list) != len(addr_list):
            raise InterfaceError(
                f"could not match {len(host_list)} host names to {len(addr_list)} hostaddr values"
            )
        if len(port_list) > 1 and len(port_list) != n:
            raise InterfaceError(f"could not match {len(port_list)} port numbers to {n} hosts")
        specs = []
        for i in range(n):
            host = host_list[i] if i < len(host_list) else ""
            addr = addr_list[i] if i < len(addr_list) else None
            port_text = port_list[i] if len(port_list) > 1 else (port_list[0] if port_list else "")
            port = _port(port_text) if port_text else 5432
            if not host and not addr:
                host = _default_host()
            specs.append(HostSpec(host or (addr or ""), port, addr or None))
        return specs

    def startup_parameters(self) -> dict[str, str]:
        """The StartupMessage parameters for this configuration."""
        params = {"user": self.effective_user(), "database": self.effective_dbname()}
        app = self.application_name or self.fallback_application_name
        if app:
            params["application_name"] = app
        if self.options:
            params["options"] = self.options
        params.update(self.server_settings)
        params["client_encoding"] = "UTF8"
        return params


def _default_host() -> str:
    for d in _DEFAULT_SOCKET_DIRS:
        if os.path.isdir(d) and any(name.startswith(".s.PGSQL.") for name in _listdir(d)):
            return d
    return "localhost"


def _listdir(d: str) -> list[str]:
    try:
        return os.listdir(d)
    except OSError:
        return []


def _split(value: str) -> list[str]:
    return [part.strip() for part in str(value).split(",")]


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        raise InterfaceError(f"invalid port number: {text!r}") from None
    if not 1 <= port <= 65535:
        raise InterfaceError(f"invalid port number: {text!r}")
    return port


def _convert(key: str, value: Any) -> Any:
    """Convert a keyword's value (often text from a DSN) to the field's type."""
    if key in ("statement_cache_size", "notification_buffer"):
        try:
            return int(value)
        except (TypeError, ValueError):
            raise InterfaceError(f"invalid {key} value: {value!r}") from None
    if key == "connect_timeout":
        try:
            seconds = float(value)
        except (TypeError, ValueError):
            raise InterfaceError(f"invalid connect_timeout value: {value!r}") from None
        # libpq: 0, negative or absent means wait forever; below 2 s counts as 2 s.
        if seconds <= 0:
            return None
        return max(seconds, 2.0) if isinstance(value, str) else seconds
    if key in ("keepalives_idle", "keepalives_interval", "keepalives_count", "tcp_user_timeout"):
        try:
            return int(value)
        except (TypeError, ValueError):
            raise InterfaceError(f"invalid {key} value: {value!r}") from None
    if key == "keepalives":
        if isinstance(value, bool):
            return value
        return str(value).strip() not in ("0",)
    if key == "port":
        return str(value)
    if key in ("on_notice", "json_loads", "json_dumps"):
        if value is not None and not callable(value):
            raise InterfaceError(f"{key} must be callable")
        return value
    if not isinstance(value, str):
        if key in ("host", "hostaddr") and isinstance(value, (list, tuple)):
            return ",".join(str(v) for v in value)
        return str(value)
    return value


# -- DSN parsing ----------------------------------------------------------------

_URI_RE = re.compile(r"^(postgres|postgresql)://", re.IGNORECASE)


def _parse_dsn(dsn: str) -> dict[str, str]:
    if _URI_RE.match(dsn):
        return _parse_uri(dsn)
    return _parse_keyvalue(dsn)


def _parse_uri(uri: str) -> dict[str, str]:
    rest = uri.split("://", 1)[1]
    values: dict[str, str] = {}
    query = ""
    if "?" in rest:
        rest, query = rest.split("?", 1)
    path = None
    if "/" in rest:
        rest, path = rest.split("/", 1)
    netloc = rest
    if "@" in netloc:
        userinfo, netloc = netloc.rsplit("@", 1)
        if ":" in userinfo:
            user, password = userinfo.split(":", 1)
            values["password"] = unquote(password)
        else:
            user = userinfo
        if user:
            values["user"] = unquote(user)
    hosts: list[str] = []
    ports: list[str] = []
    if netloc:
        for part in _split_hosts(netloc):
            if part.startswith("["):
                end = part.find("]")
                if end < 0:
                    raise InterfaceError(f"invalid URI: unterminated IPv6 address in {part!r}")
                host, tail = part[1:end], part[end + 1 :]
                port = tail[1:] if tail.startswith(":") else ""
            elif ":" in part:
                host, port = part.rsplit(":", 1)
            else:
                host, port = part, ""
            hosts.append(unquote(host))
            ports.append(port)
        if any(hosts):
            values["host"] = ",".join(hosts)
        if any(ports):
            values["port"] = ",".join(ports)
    if path:
        values["dbname"] = unquote(path)
    if query:
        for item in query.split("&"):
            if not item:
                continue
            if "=" not in item:
                raise InterfaceError(f"invalid URI query parameter {item!r}: missing '='")
            key, value = item.split("=", 1)
            key = unquote(key)
            if key == "ssl" and value == "true":
                key, value = "sslmode", "require"
            values[key] = unquote(value)
    return values


def _split_hosts(netloc: str) -> list[str]:
    parts: list[str] = []
    cur: list[str] = []
    depth = 0
    for ch in netloc:
        if ch == "[":
            depth += 1
        elif ch == "]":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    parts.append("".join(cur))
    return parts


def _parse_keyvalue(dsn: str) -> dict[str, str]:
    values: dict[str, str] = {}
    i, n = 0, len(dsn)
    while True:
        while i < n and dsn[i].isspace():
            i += 1
        if i >= n:
            break
        start = i
        while i < n and dsn[i] != "=" and not dsn[i].isspace():
            i += 1
        key = dsn[start:i]
        while i < n and dsn[i].isspace():
            i += 1
        if i >= n or dsn[i] != "=":
            raise InterfaceError(f'missing "=" after "{key}" in connection info string')
        i += 1
        while i < n and dsn[i].isspace():
            i += 1
        chars: list[str] = []
        if i < n and dsn[i] == "'":
            i += 1
            while True:
                if i >= n:
                    raise InterfaceError("unterminated quoted string in connection info string")
                ch = dsn[i]
                if ch == "\\" and i + 1 < n:
                    chars.append(dsn[i + 1])
                    i += 2
                    continue
                if ch == "'":
                    i += 1
                    break
                chars.append(ch)
                i += 1
        else:
            while i < n and not dsn[i].isspace():
                ch = dsn[i]
                if ch == "\\" and i + 1 < n:
                    chars.append(dsn[i + 1])
                    i += 2
                    continue
                chars.append(ch)
                i += 1
        if not key:
            raise InterfaceError("empty key in connection info string")
        values[key] = "".join(chars)
    return values
