"""Connection configuration: libpq connection strings, keywords, environment and service files.

:meth:`Config.from_dsn` reads a libpq connection string in either form, URI
(``postgresql://user:pw@host:port/db?sslmode=require``) or key/value
(``host=... port=... dbname=...``), exactly as libpq parses them. Each
setting then comes from the first of: a keyword argument, the connection
string, the service named by ``service`` / ``PGSERVICE`` in
``pg_service.conf``, the ``PG*`` environment variable, libpq's default.

The password file (``~/.pgpass``) is read later, when connecting, because its
entries match each host and port in turn (see :mod:`pgany._pgpass`).
"""

from __future__ import annotations

import dataclasses
import getpass
import ipaddress
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pgany._keywords import ALIASES, DSN_KEYS, KEYWORDS, PGANY_TEXT_KEYS
from pgany._service import service_values
from pgany.errors import InterfaceError
from pgany.protocol.auth import parse_require_auth

__all__ = ["Config", "HostSpec"]

#: The environment variable of each keyword that has one (the docs list this).
_ENV: dict[str, str] = {key: var for key, var in KEYWORDS.items() if var}
_ENV_KEYS = {var: key for key, var in _ENV.items()}
_ENV_VARS = frozenset(_ENV_KEYS)

# libpq keywords that are checked and then dropped: pgany has no use for them.
_DROPPED = frozenset(
    {
        "client_encoding",
        "replication",
        "sslcompression",
        "krbsrvname",
        "gsslib",
        "gssdelegation",
        "min_protocol_version",
        "max_protocol_version",
    }
)

#: pgany's own keywords, all of them (the rest only as keyword arguments).
_PGANY_KEYS = PGANY_TEXT_KEYS | {"on_notice", "json_loads", "json_dumps", "server_settings"}

_SSLMODES = ("disable", "allow", "prefer", "require", "verify-ca", "verify-full")
_VERIFYING = ("verify-ca", "verify-full")
_TARGET_SESSION_ATTRS = ("any", "read-write", "read-only", "primary", "standby", "prefer-standby")
_CHANNEL_BINDING = ("disable", "prefer", "require")
_TLS_VERSIONS = ("TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3")
_PROTOCOL_VERSIONS = ("3.0", "3.2", "latest")

#: Where libpq's default Unix socket may be; the first with a socket for the port wins.
_DEFAULT_SOCKET_DIRS = ("/var/run/postgresql", "/run/postgresql", "/tmp")
#: The host used when none is given and no default socket exists.
DEFAULT_HOST = "localhost"
DEFAULT_PORT = 5432

_SECRET_FIELDS = ("password", "sslpassword")
_INT_RE = re.compile(r"\s*[+-]?[0-9]+\s*\Z")


@dataclass(frozen=True, slots=True)
class HostSpec:
    """One host to try: a name or IP address (or a Unix socket directory), a port, maybe an address.

    *host* is empty when only ``hostaddr`` was given. When *hostaddr* is set,
    pgany connects there over TCP and uses *host* only to check the server
    certificate, for SNI and to find the password in the password file.
    """

    host: str
    port: int
    hostaddr: str | None = None
    #: Set on the host a session connected to: whether it uses TLS (so that a
    #: cancel request does the same). ``None`` before connecting.
    tls: bool | None = field(default=None, compare=False)

    @property
    def is_unix(self) -> bool:
        """True when this is a Unix-domain socket directory (and no hostaddr overrides it)."""
        return not self.hostaddr and (self.host.startswith("/") or self.host.startswith("@"))

    @property
    def socket_path(self) -> str:
        """The socket file of a Unix-domain host (``@dir`` is Linux's abstract namespace)."""
        path = os.path.join(self.host, f".s.PGSQL.{self.port}")
        return "\0" + path[1:] if path.startswith("@") else path

    @property
    def name(self) -> str:
        """The host as the user named it (``host``, else ``hostaddr``)."""
        return self.host or self.hostaddr or ""

    def __str__(self) -> str:
        if self.is_unix:
            return os.path.join(self.host, f".s.PGSQL.{self.port}")
        name = self.name
        if ":" in name:
            return f"[{name}]:{self.port}"
        return f"{name}:{self.port}"


def _hide(value: str | None) -> str:
    return "None" if value is None else "'***'"


@dataclass(slots=True)
class Config:
    """A parsed connection configuration; ``repr()`` never shows a password.

    Field names are libpq's keywords, with libpq's defaults; :meth:`hosts`
    is the list of hosts to try, in order. Values are converted and checked
    when the Config is made (``Config(port=5433)`` works, and
    ``Config(sslmode="sometimes")`` raises :exc:`~pgany.InterfaceError`).
    """

    __module__ = "pgany"

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
    sslcrldir: str | None = None
    sslcertmode: str = "allow"
    sslsni: bool = True
    sslkeylogfile: str | None = None
    sslnegotiation: str = "postgres"
    ssl_min_protocol_version: str | None = None
    ssl_max_protocol_version: str | None = None
    channel_binding: str = "prefer"
    require_auth: str | None = None
    requirepeer: str | None = None
    gssencmode: str = "prefer"
    target_session_attrs: str = "any"
    load_balance_hosts: str = "disable"
    service: str | None = None
    servicefile: str | None = None
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

    def __post_init__(self) -> None:
        for name, default in _DEFAULTS:
            value = getattr(self, name)
            if value is not None and value is not default:
                setattr(self, name, _convert(name, value))
        self._validate()

    def __repr__(self) -> str:
        parts = []
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if f.name in _SECRET_FIELDS:
                if value is not None:
                    parts.append(f"{f.name}={_hide(value)}")
                continue
            if value is None or value == f.default or (f.name == "server_settings" and not value):
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

        What neither gives comes from the service file, if ``service`` (or
        ``PGSERVICE``) names one, then from the ``PG*`` environment variables
        (*environ*, default ``os.environ``; it also supplies ``PGSERVICEFILE``,
        ``PGSYSCONFDIR`` and ``HOME`` for finding the service file), then
        libpq's defaults.
        """
        env: Mapping[str, str] = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        if dsn:
            values.update(parse_dsn(dsn))
        for key, value in params.items():
            if value is not None:
                values[ALIASES.get(key, key)] = value
        service = values.get("service") or env.get("PGSERVICE")
        if service:
            servicefile = values.get("servicefile") or env.get("PGSERVICEFILE")
            found = service_values(
                str(service), servicefile=servicefile and str(servicefile), environ=env
            )
            for key, value in found.items():
                values.setdefault(ALIASES.get(key, key), value)
        # (one pass over the environment: a lookup per variable costs more)
        for var in _ENV_VARS.intersection(env):
            key = _ENV_KEYS[var]
            if key not in values and env[var]:
                values[key] = env[var]
        if values.get("sslrootcert") == "system" and "sslmode" not in values:
            # libpq: the system's CAs make sense only with the host name checked.
            values["sslmode"] = "verify-full"
        return cls(**_keyword_arguments(values))

    def replace(self, **changes: Any) -> Config:
        """A copy with some settings changed (libpq keywords; ``None`` leaves a setting as is)."""
        values = {ALIASES.get(k, k): v for k, v in changes.items() if v is not None}
        return dataclasses.replace(self, **_keyword_arguments(values))

    def _validate(self) -> None:
        _check_choice("sslmode", self.sslmode, _SSLMODES)
        _check_choice("sslnegotiation", self.sslnegotiation, ("postgres", "direct"))
        _check_choice("channel_binding", self.channel_binding, _CHANNEL_BINDING)
        _check_choice("target_session_attrs", self.target_session_attrs, _TARGET_SESSION_ATTRS)
        _check_choice("load_balance_hosts", self.load_balance_hosts, ("disable", "random"))
        _check_choice("gssencmode", self.gssencmode, ("disable", "prefer", "require"))
        _check_choice("sslcertmode", self.sslcertmode, ("disable", "allow", "require"))
        if self.gssencmode == "require":
            raise InterfaceError(
                'gssencmode value "require" invalid: pgany does not support GSSAPI encryption'
            )
        if self.sslcertmode == "require":
            raise InterfaceError(
                'sslcertmode value "require" is not supported by pgany '
                '(use "allow", or "disable" not to send a client certificate)'
            )
        if self.sslnegotiation == "direct" and self.sslmode not in ("require", *_VERIFYING):
            raise InterfaceError(
                f'weak sslmode "{self.sslmode}" may not be used with sslnegotiation=direct '
                '(use "require", "verify-ca", or "verify-full")'
            )
        if self.sslrootcert == "system" and self.sslmode != "verify-full":
            raise InterfaceError(
                f'weak sslmode "{self.sslmode}" may not be used with sslrootcert=system '
                '(use "verify-full")'
            )
        for key in ("ssl_min_protocol_version", "ssl_max_protocol_version"):
            value = getattr(self, key)
            if value is not None:
                _check_choice(key, value, _TLS_VERSIONS)
        low, high = self.ssl_min_protocol_version, self.ssl_max_protocol_version
        if low and high and _TLS_VERSIONS.index(low) > _TLS_VERSIONS.index(high):
            raise InterfaceError(
                f"invalid SSL protocol version range: ssl_min_protocol_version={low} "
                f"is above ssl_max_protocol_version={high}"
            )
        if self.require_auth:
            parse_require_auth(self.require_auth)
        if self.statement_cache_size < 0:
            raise InterfaceError("statement_cache_size must be >= 0")
        if self.notification_buffer < 1:
            raise InterfaceError("notification_buffer must be >= 1")
        self.hosts()  # checks the host / hostaddr / port lists

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
        """The hosts to try, in the order given, with libpq's defaults filled in.

        ``host`` and ``hostaddr`` are comma-separated lists of the same
        length (when both are given); ``port`` gives one port for all hosts or
        one per host. An empty entry means the default: the Unix socket in the
        usual directory (else ``localhost``), port 5432.
        """
        host_list = _split(self.host) if self.host else []
        addr_list = _split(self.hostaddr) if self.hostaddr else []
        port_list = _split(self.port) if self.port else []
        if host_list and addr_list and len(host_list) != len(addr_list):
            raise InterfaceError(
                f"could not match {len(host_list)} host names to {len(addr_list)} hostaddr values"
            )
        n = max(len(host_list), len(addr_list), 1)
        if len(port_list) > 1 and len(port_list) != n:
            raise InterfaceError(f"could not match {len(port_list)} port numbers to {n} hosts")
        specs = []
        for i in range(n):
            host = host_list[i] if host_list else ""
            addr = addr_list[i] if addr_list else ""
            port_text = port_list[i] if len(port_list) > 1 else (port_list[0] if port_list else "")
            port = _port(port_text) if port_text else DEFAULT_PORT
            if addr:
                _check_hostaddr(addr)
            elif not host:
                host = _default_host(port)
            specs.append(HostSpec(host, port, addr or None))
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


# -- values --------------------------------------------------------------------------


def _keyword_arguments(values: Mapping[str, Any]) -> dict[str, Any]:
    """Check libpq keywords and pgany's own; drop those pgany has no field for."""
    fields = Config.__dataclass_fields__
    kwargs: dict[str, Any] = {}
    for key, value in values.items():
        if key in _DROPPED:
            _check_dropped(key, value)
        elif key in fields:
            kwargs[key] = value
        else:
            raise InterfaceError(f'invalid connection option "{key}"')
    return kwargs


def _check_dropped(key: str, value: Any) -> None:
    text = str(value)
    if key == "client_encoding":
        if text.upper().replace("-", "").replace("_", "") not in ("UTF8", "UNICODE", "AUTO"):
            raise InterfaceError(
                f'invalid client_encoding value: "{text}" (pgany speaks UTF8 only)'
            )
    elif key == "replication":
        # libpq: a false value means an ordinary connection.
        if text.strip().lower() not in ("0", "false", "no", "off"):
            raise InterfaceError("replication connections are not supported by pgany")
    elif key == "min_protocol_version":
        _check_choice(key, text, _PROTOCOL_VERSIONS)
        if text != "3.0":
            raise InterfaceError(
                f'min_protocol_version value "{text}" is not supported: pgany speaks protocol 3.0'
            )
    elif key == "max_protocol_version":
        _check_choice(key, text, _PROTOCOL_VERSIONS)


#: Each field's name and default, for __post_init__ (dataclasses.fields() costs more).
_DEFAULTS = tuple((f.name, f.default) for f in dataclasses.fields(Config))


def _check_choice(key: str, value: str, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise InterfaceError(f'invalid {key} value: "{value}" (one of {", ".join(choices)})')


def _int_value(key: str, value: Any) -> int:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    text = str(value)
    if not _INT_RE.match(text):
        raise InterfaceError(f'invalid integer value "{text}" for connection option "{key}"')
    return int(text)


def _convert(key: str, value: Any) -> Any:
    """Convert a keyword's value (often text from a connection string) to the field's type."""
    if key in (
        "statement_cache_size",
        "notification_buffer",
        "keepalives_idle",
        "keepalives_interval",
        "keepalives_count",
        "tcp_user_timeout",
    ):
        return _int_value(key, value)
    if key == "connect_timeout":
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            seconds = float(value)  # a number given as a keyword is used as it is
            return seconds if seconds > 0 else None
        # libpq: an integer; 0 or negative means wait forever; 1 counts as 2.
        whole = _int_value(key, value)
        return float(max(whole, 2)) if whole > 0 else None
    if key in ("keepalives", "sslsni"):
        return value if isinstance(value, bool) else _int_value(key, value) != 0
    if key == "server_settings":
        if not isinstance(value, Mapping):
            raise InterfaceError("server_settings must be a mapping of setting names to values")
        return {str(k): str(v) for k, v in value.items()}
    if key in ("on_notice", "json_loads", "json_dumps"):
        if not callable(value):
            raise InterfaceError(f"{key} must be callable")
        return value
    if key in ("host", "hostaddr", "port") and isinstance(value, (list, tuple)):
        return ",".join(str(v) for v in value)
    if isinstance(value, (os.PathLike, int)) and not isinstance(value, bool):
        return os.fspath(value) if isinstance(value, os.PathLike) else str(value)
    if not isinstance(value, str):
        raise InterfaceError(f"invalid {key} value: {type(value).__name__} (expected a string)")
    return value


def _split(value: str) -> list[str]:
    return [part.strip() for part in str(value).split(",")]


def _port(text: str) -> int:
    port = _int_value("port", text)
    if not 1 <= port <= 65535:
        raise InterfaceError(f'invalid port number: "{text}"')
    return port


def _check_hostaddr(addr: str) -> None:
    try:
        ipaddress.ip_address(addr)
    except ValueError:
        raise InterfaceError(
            f'could not parse network address "{addr}" (hostaddr must be a numeric IP address)'
        ) from None


def _default_host(port: int) -> str:
    for d in _DEFAULT_SOCKET_DIRS:
        if os.path.exists(os.path.join(d, f".s.PGSQL.{port}")):
            return d
    return DEFAULT_HOST


def default_socket_dirs() -> tuple[str, ...]:
    """The directories where libpq's default Unix socket may be."""
    return _DEFAULT_SOCKET_DIRS


# -- connection strings ----------------------------------------------------------------

_URI_PREFIXES = ("postgresql://", "postgres://")
_SPACE = " \t\n\r\v\f"  # C's isspace(), which libpq uses
_HEX = frozenset("0123456789abcdefABCDEF")


def parse_dsn(dsn: str) -> dict[str, str]:
    """The keywords of a libpq connection string (URI or key/value form), unconverted."""
    for prefix in _URI_PREFIXES:
        if dsn[: len(prefix)].lower() == prefix:
            return _parse_uri(dsn, len(prefix))
    return _parse_keyvalue(dsn)


def _redact(uri: str) -> str:
    """*uri* with the password of its user info replaced by ``***``."""
    start = next(len(p) for p in _URI_PREFIXES if uri[: len(p)].lower() == p)
    end = start
    while end < len(uri) and uri[end] not in "@/":
        end += 1
    if end < len(uri) and uri[end] == "@":
        colon = uri.find(":", start, end)
        if colon >= 0:
            return uri[: colon + 1] + "***" + uri[end:]
    return uri


def _uri_decode(text: str, uri: str, *, secret: bool = False) -> str:
    """Percent-decode one part of a URI as libpq does (``+`` stays ``+``, ``%00`` is refused)."""
    if "%" not in text:
        return text
    shown = "***" if secret else text
    out = bytearray()
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch == "%":
            digits = text[i + 1 : i + 3]
            if len(digits) < 2 or not set(digits) <= _HEX:
                raise InterfaceError(f'invalid percent-encoded token: "{shown}"')
            byte = int(digits, 16)
            if byte == 0:
                raise InterfaceError(f'forbidden value %00 in percent-encoded value: "{shown}"')
            out.append(byte)
            i += 3
        else:
            out += ch.encode("utf-8")
            i += 1
    try:
        return out.decode("utf-8")
    except UnicodeDecodeError:
        raise InterfaceError(
            f'invalid percent-encoded value (not UTF-8): "{shown}" in URI "{_redact(uri)}"'
        ) from None


def _parse_uri(uri: str, p: int) -> dict[str, str]:
    """libpq's conninfo_uri_parse_options, step by step."""
    s, n = uri, len(uri)
    values: dict[str, str] = {}
    # user[:password]@ — the first "@" before any "/".
    q = p
    while q < n and s[q] not in "@/":
        q += 1
    if q < n and s[q] == "@":
        user, colon, password = s[p:q].partition(":")
        if user:
            values["user"] = _uri_decode(user, uri)
        if colon and password:
            values["password"] = _uri_decode(password, uri, secret=True)
        p = q + 1
    # host[:port][,host[:port]...]
    hosts: list[str] = []
    ports: list[str] = []
    while True:
        if p < n and s[p] == "[":
            end = s.find("]", p + 1)
            if end < 0:
                raise InterfaceError(
                    'end of string reached when looking for matching "]" in IPv6 host address '
                    f'in URI: "{_redact(uri)}"'
                )
            if end == p + 1:
                raise InterfaceError(f'IPv6 host address may not be empty in URI: "{_redact(uri)}"')
            host = s[p + 1 : end]
            p = end + 1
            if p < n and s[p] not in ":/?,":
                raise InterfaceError(
                    f'unexpected character "{s[p]}" at position {p + 1} in URI '
                    f'(expected ":" or "/"): "{_redact(uri)}"'
                )
        else:
            start = p
            while p < n and s[p] not in ":/?,":
                p += 1
            host = s[start:p]
        term = s[p] if p < n else ""
        port = ""
        if term == ":":
            p += 1
            start = p
            while p < n and s[p] not in "/?,":
                p += 1
            port = s[start:p]
            term = s[p] if p < n else ""
        hosts.append(host)
        ports.append(port)
        if term != ",":
            break
        p += 1
    host_text, port_text = ",".join(hosts), ",".join(ports)
    if host_text:
        values["host"] = _uri_decode(host_text, uri)
    if port_text:
        values["port"] = _uri_decode(port_text, uri)
    # /dbname
    if term == "/":
        p += 1
        start = p
        while p < n and s[p] != "?":
            p += 1
        dbname = s[start:p]
        term = s[p] if p < n else ""
        if dbname:  # an empty one would hide PGDATABASE
            values["dbname"] = _uri_decode(dbname, uri)
    # ?key=value&...
    if term == "?":
        values.update(_parse_uri_query(s[p + 1 :], uri))
    return values


def _parse_uri_query(query: str, uri: str) -> dict[str, str]:
    values: dict[str, str] = {}
    i, n = 0, len(query)
    while i < n:
        start, eq = i, -1
        while True:
            if i < n and query[i] == "=":
                if eq >= 0:
                    raise InterfaceError(
                        f'extra key/value separator "=" in URI query parameter: "{query[start:eq]}"'
                    )
                eq = i
                i += 1
            elif i >= n or query[i] == "&":
                end = i
                if i < n:
                    i += 1
                if eq < 0:
                    raise InterfaceError(
                        'missing key/value separator "=" in URI query parameter: '
                        f'"{query[start:end]}"'
                    )
                break
            else:
                i += 1
        key = _uri_decode(query[start:eq], uri)
        value = _uri_decode(query[eq + 1 : end], uri, secret=key in _SECRET_FIELDS)
        if key == "ssl" and value == "true":  # JDBC's spelling
            key, value = "sslmode", "require"
        if key not in DSN_KEYS:
            raise InterfaceError(f'invalid URI query parameter: "{key}"')
        values[ALIASES.get(key, key)] = value
    return values


def _parse_keyvalue(dsn: str) -> dict[str, str]:
    """libpq's conninfo_parse: ``key = value`` pairs, values maybe quoted, ``\\`` escapes."""
    values: dict[str, str] = {}
    i, n = 0, len(dsn)
    while i < n:
        if dsn[i] in _SPACE:
            i += 1
            continue
        start = i
        while i < n and dsn[i] != "=" and dsn[i] not in _SPACE:
            i += 1
        key = dsn[start:i]
        while i < n and dsn[i] in _SPACE:
            i += 1
        if i >= n or dsn[i] != "=":
            raise InterfaceError(f'missing "=" after "{key}" in connection info string')
        i += 1
        while i < n and dsn[i] in _SPACE:
            i += 1
        chars: list[str] = []
        if i < n and dsn[i] == "'":
            i += 1
            while True:
                if i >= n:
                    raise InterfaceError("unterminated quoted string in connection info string")
                ch = dsn[i]
                if ch == "\\":
                    i += 1
                    if i < n:
                        chars.append(dsn[i])
                        i += 1
                    continue
                if ch == "'":
                    i += 1
                    break
                chars.append(ch)
                i += 1
        else:
            while i < n and dsn[i] not in _SPACE:
                ch = dsn[i]
                if ch == "\\":
                    i += 1
                    if i < n:
                        chars.append(dsn[i])
                        i += 1
                    continue
                chars.append(ch)
                i += 1
        if key not in DSN_KEYS:
            raise InterfaceError(f'invalid connection option "{key}"')
        values[ALIASES.get(key, key)] = "".join(chars)
    return values
