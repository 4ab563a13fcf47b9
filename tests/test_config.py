"""Connection settings without a server: libpq's connection strings, environment, files, TLS rules.

The parsing tables come from libpq's own URI regression test
(``src/interfaces/libpq/t/001_uri.pl``), the examples of libpq's
documentation and tokio-postgres's parse tests; each expects what libpq
does. Then the environment, ``pg_service.conf``, ``~/.pgpass``, the TLS
helpers (host-name rules, channel-binding hashes, key-file permissions) and
the authenticator's ``require_auth`` and ``channel_binding`` rules.
"""

from __future__ import annotations

import datetime
import hashlib
import logging
import os
import ssl
from pathlib import Path
from typing import Any

import pytest
import scramp

import pgany
from pgany import _tls
from pgany._pgpass import find_password, lookup_password, password_host
from pgany._service import service_values
from pgany.config import HostSpec, parse_dsn
from pgany.protocol import frontend as fe
from pgany.protocol import messages as m
from pgany.protocol.auth import Authenticator, parse_require_auth


def config(
    dsn: str | None = None, environ: dict[str, str] | None = None, **kw: Any
) -> pgany.Config:
    """Config.from_dsn isolated from this machine's PG* variables."""
    return pgany.Config.from_dsn(dsn, environ=environ or {}, **kw)


# -- libpq's URI regression table --------------------------------------------------------------

LIBPQ_URIS = [
    (
        "postgresql://uri-user:secret@host:12345/db",
        {"user": "uri-user", "password": "secret", "dbname": "db", "host": "host", "port": "12345"},
    ),
    (
        "postgresql://uri-user@host:12345/db",
        {"user": "uri-user", "dbname": "db", "host": "host", "port": "12345"},
    ),
    ("postgresql://uri-user@host/db", {"user": "uri-user", "dbname": "db", "host": "host"}),
    ("postgresql://host:12345/db", {"dbname": "db", "host": "host", "port": "12345"}),
    ("postgresql://host/db", {"dbname": "db", "host": "host"}),
    ("postgresql://uri-user@host:12345/", {"user": "uri-user", "host": "host", "port": "12345"}),
    ("postgresql://uri-user@host/", {"user": "uri-user", "host": "host"}),
    ("postgresql://uri-user@", {"user": "uri-user"}),
    ("postgresql://host:12345/", {"host": "host", "port": "12345"}),
    ("postgresql://host:12345", {"host": "host", "port": "12345"}),
    ("postgresql://host/", {"host": "host"}),
    ("postgresql://host", {"host": "host"}),
    ("postgresql://", {}),
    ("postgresql://?hostaddr=127.0.0.1", {"hostaddr": "127.0.0.1"}),
    ("postgresql://example.com?hostaddr=63.1.2.4", {"host": "example.com", "hostaddr": "63.1.2.4"}),
    ("postgresql://%68ost/", {"host": "host"}),
    ("postgresql://host/db?user=uri-user", {"user": "uri-user", "dbname": "db", "host": "host"}),
    (
        "postgresql://host/db?user=uri-user&port=12345",
        {"user": "uri-user", "dbname": "db", "host": "host", "port": "12345"},
    ),
    (
        "postgresql://host/db?u%73er=someotheruser&port=12345",
        {"user": "someotheruser", "dbname": "db", "host": "host", "port": "12345"},
    ),
    (
        "postgresql://host:12345?user=uri-user",
        {"user": "uri-user", "host": "host", "port": "12345"},
    ),
    ("postgresql://host?user=uri-user", {"user": "uri-user", "host": "host"}),
    ("postgresql://host?", {"host": "host"}),
    ("postgresql://[::1]:12345/db", {"dbname": "db", "host": "::1", "port": "12345"}),
    ("postgresql://[::1]/db", {"dbname": "db", "host": "::1"}),
    ("postgresql://[2001:db8::1234]/", {"host": "2001:db8::1234"}),
    ("postgresql://[200z:db8::1234]/", {"host": "200z:db8::1234"}),
    ("postgresql://[::1]", {"host": "::1"}),
    ("postgres://", {}),
    ("postgres:///", {}),
    ("postgres:///db", {"dbname": "db"}),
    ("postgres://uri-user@/db", {"user": "uri-user", "dbname": "db"}),
    ("postgres://?host=/path/to/socket/dir", {"host": "/path/to/socket/dir"}),
    ("postgres://@host", {"host": "host"}),
    ("postgres://host:/", {"host": "host"}),
    ("postgres://:12345/", {"port": "12345"}),
    (
        "postgres://otheruser@?host=/no/such/directory",
        {"user": "otheruser", "host": "/no/such/directory"},
    ),
    (
        "postgres://otheruser@/?host=/no/such/directory",
        {"user": "otheruser", "host": "/no/such/directory"},
    ),
    (
        "postgres://otheruser@:12345?host=/no/such/socket/path",
        {"user": "otheruser", "host": "/no/such/socket/path", "port": "12345"},
    ),
    (
        "postgres://otheruser@:12345/db?host=/path/to/socket",
        {"user": "otheruser", "dbname": "db", "host": "/path/to/socket", "port": "12345"},
    ),
    (
        "postgres://:12345/db?host=/path/to/socket",
        {"dbname": "db", "host": "/path/to/socket", "port": "12345"},
    ),
    ("postgres://:12345?host=/path/to/socket", {"host": "/path/to/socket", "port": "12345"}),
    (
        "postgres://%2Fvar%2Flib%2Fpostgresql/dbname",
        {"dbname": "dbname", "host": "/var/lib/postgresql"},
    ),
]


@pytest.mark.parametrize(("uri", "expected"), LIBPQ_URIS, ids=[u for u, _ in LIBPQ_URIS])
def test_libpq_uri_table(uri: str, expected: dict[str, str]) -> None:
    assert parse_dsn(uri) == expected
    c = config(uri)  # and the whole Config accepts it
    if "host" in expected and "hostaddr" not in expected:
        unix = expected["host"].startswith("/")
        assert all(h.is_unix == unix for h in c.hosts())
    if "hostaddr" in expected:
        assert not c.hosts()[0].is_unix


LIBPQ_URI_ERRORS = [
    ("postgresql://host/db?u%7aer=someotheruser&port=12345", 'invalid URI query parameter: "uzer"'),
    ("postgresql://host?uzer=", 'invalid URI query parameter: "uzer"'),
    ("postgre://", 'missing "=" after "postgre://" in connection info string'),
    (
        "postgres://[::1",
        'end of string reached when looking for matching "]" in IPv6 host address in URI: '
        '"postgres://[::1"',
    ),
    ("postgres://[]", 'IPv6 host address may not be empty in URI: "postgres://[]"'),
    (
        "postgres://[::1]z",
        'unexpected character "z" at position 17 in URI (expected ":" or "/"): "postgres://[::1]z"',
    ),
    ("postgresql://host?zzz", 'missing key/value separator "=" in URI query parameter: "zzz"'),
    (
        "postgresql://host?value1&value2",
        'missing key/value separator "=" in URI query parameter: "value1"',
    ),
    (
        "postgresql://host?key=key=value",
        'extra key/value separator "=" in URI query parameter: "key"',
    ),
    ("postgres://host?dbname=%XXfoo", 'invalid percent-encoded token: "%XXfoo"'),
    ("postgresql://a%00b", 'forbidden value %00 in percent-encoded value: "a%00b"'),
    ("postgresql://%zz", 'invalid percent-encoded token: "%zz"'),
    ("postgresql://%1", 'invalid percent-encoded token: "%1"'),
    ("postgresql://%", 'invalid percent-encoded token: "%"'),
]


@pytest.mark.parametrize(("uri", "message"), LIBPQ_URI_ERRORS, ids=[u for u, _ in LIBPQ_URI_ERRORS])
def test_libpq_uri_errors(uri: str, message: str) -> None:
    with pytest.raises(pgany.InterfaceError) as info:
        config(uri)
    assert str(info.value) == message


def test_uri_errors_never_show_the_password() -> None:
    for uri in (
        "postgresql://u:hunter2@[::1]z/db",
        "postgresql://u:hunter2@[::1",
        "postgresql://u:hunter2%zz@host/db",
        "postgresql://u:hunter2%00@host/db",
        "postgresql://host/db?password=hunter2%zz",
    ):
        with pytest.raises(pgany.InterfaceError) as info:
            config(uri)
        assert "hunter2" not in str(info.value), uri


def test_uri_scheme_is_case_insensitive_and_both_names_work() -> None:
    assert (
        parse_dsn("PostgreSQL://h/d") == parse_dsn("postgres://h/d") == {"host": "h", "dbname": "d"}
    )


def test_uri_percent_decoding() -> None:
    values = parse_dsn(
        "postgresql://us%40er:p%3Aw%2Fd%20%2B+@h%C3%A9te/d%C3%A9b?application_name=a%26b%3Dc"
    )
    assert values == {
        "user": "us@er",
        "password": "p:w/d +" + "+",  # "+" is not a space in a URI
        "host": "h\u00e9te",
        "dbname": "d\u00e9b",
        "application_name": "a&b=c",
    }


def test_uri_password_may_contain_colons_and_query_may_override_netloc() -> None:
    assert parse_dsn("postgresql://u:a:b@h:1/d?host=other&port=2") == {
        "user": "u",
        "password": "a:b",
        "host": "other",
        "port": "2",
        "dbname": "d",
    }


def test_uri_ssl_true_is_jdbc_for_sslmode_require() -> None:
    assert parse_dsn("postgresql://h?ssl=true") == {"host": "h", "sslmode": "require"}
    with pytest.raises(pgany.InterfaceError, match='invalid URI query parameter: "ssl"'):
        parse_dsn("postgresql://h?ssl=false")


# -- libpq's documented examples and tokio-postgres's parse cases ------------------------------


def test_libpq_documentation_examples() -> None:
    kv = config("host=localhost port=5432 dbname=mydb connect_timeout=10")
    assert (kv.host, kv.port, kv.dbname, kv.connect_timeout) == ("localhost", "5432", "mydb", 10.0)
    assert config("postgresql://localhost:5433").hosts() == [HostSpec("localhost", 5433)]
    other = config("postgresql://other@localhost/otherdb?connect_timeout=10&application_name=myapp")
    assert (other.user, other.dbname, other.connect_timeout, other.application_name) == (
        "other",
        "otherdb",
        10.0,
        "myapp",
    )
    multi = config(
        "postgresql://host1:123,host2:456/somedb?target_session_attrs=any&application_name=myapp"
    )
    assert multi.hosts() == [HostSpec("host1", 123), HostSpec("host2", 456)]
    assert multi == config(
        "host=host1,host2 port=123,456 dbname=somedb target_session_attrs=any "
        "application_name=myapp"
    )
    assert config("postgresql:///mydb?host=localhost&port=5433").hosts() == [
        HostSpec("localhost", 5433)
    ]
    assert config("postgresql://[2001:db8::1234]/database").hosts() == [
        HostSpec("2001:db8::1234", 5432)
    ]
    assert str(config("postgresql://[2001:db8::1234]:5433/x").hosts()[0]) == "[2001:db8::1234]:5433"
    sock = config("postgresql:///dbname?host=/var/lib/postgresql").hosts()[0]
    assert sock.is_unix and sock.socket_path == "/var/lib/postgresql/.s.PGSQL.5432"
    assert config("postgresql://%2Fvar%2Flib%2Fpostgresql/dbname").hosts() == [sock]
    assert config("postgresql://user@host1:123,host2:456/somedb").user == "user"


TOKIO_POSTGRES_CASES = [
    (
        r"user=foo password=' fizz \'buzz\\ ' application_name = ''",
        {"user": "foo", "password": r" fizz 'buzz\ ", "application_name": ""},
    ),
    (" user\t=\r\n\x0bfoo \t password = hunter2 ", {"user": "foo", "password": "hunter2"}),
    (
        "connect_timeout=3 keepalives=0 keepalives_idle=30 target_session_attrs=read-write",
        {
            "connect_timeout": 3.0,
            "keepalives": False,
            "keepalives_idle": 30,
            "target_session_attrs": "read-write",
        },
    ),
    (
        "keepalives=1 keepalives_idle=15 keepalives_interval=5 keepalives_retries=9",
        {
            "keepalives": True,
            "keepalives_idle": 15,
            "keepalives_interval": 5,
            "keepalives_count": 9,
        },
    ),
    ("postgresql://", {}),
    ("postgresql://localhost", {"host": "localhost"}),
    ("postgresql://localhost:5433", {"host": "localhost", "port": "5433"}),
    ("postgresql://localhost/mydb", {"host": "localhost", "dbname": "mydb"}),
    ("postgresql://user@localhost", {"user": "user", "host": "localhost"}),
    (
        "postgresql://user:secret@localhost",
        {"user": "user", "password": "secret", "host": "localhost"},
    ),
    (
        "postgresql://host1:123,host2:456/somedb?target_session_attrs=any&application_name=myapp",
        {"host": "host1,host2", "port": "123,456", "dbname": "somedb", "application_name": "myapp"},
    ),
    (
        "postgresql:///mydb?host=localhost&port=5433",
        {"host": "localhost", "port": "5433", "dbname": "mydb"},
    ),
    ("postgresql://[2001:db8::1234]/database", {"host": "2001:db8::1234", "dbname": "database"}),
    (
        "postgresql:///dbname?host=/var/lib/postgresql",
        {"host": "/var/lib/postgresql", "dbname": "dbname"},
    ),
    (
        "postgresql://%2Fvar%2Flib%2Fpostgresql/dbname",
        {"host": "/var/lib/postgresql", "dbname": "dbname"},
    ),
]


@pytest.mark.parametrize(
    ("dsn", "fields"), TOKIO_POSTGRES_CASES, ids=range(len(TOKIO_POSTGRES_CASES))
)
def test_tokio_postgres_parse_cases(dsn: str, fields: dict[str, Any]) -> None:
    assert config(dsn) == pgany.Config(**fields)


# -- key/value strings ----------------------------------------------------------------------------

KEYVALUE_CASES = [
    ("host=h", {"host": "h"}),
    ("host = h  port\t=\t5433", {"host": "h", "port": "5433"}),
    ("password='a b' user=u", {"password": "a b", "user": "u"}),
    (r"password='it\'s \\ here'", {"password": "it's \\ here"}),
    (r"password=it\'s\ here", {"password": "it's here"}),  # backslash escapes unquoted too
    ("password=''", {"password": ""}),
    ("user='x'dbname=y", {"user": "x", "dbname": "y"}),  # libpq needs no blank after a quote
    ("user=a user=b", {"user": "b"}),  # the last one wins
    ("options='-c search_path=app'", {"options": "-c search_path=app"}),
    ("user=tail\\", {"user": "tail"}),  # a final lone backslash disappears
    ("  ", {}),
    ("", {}),
]


@pytest.mark.parametrize(("dsn", "expected"), KEYVALUE_CASES, ids=range(len(KEYVALUE_CASES)))
def test_keyvalue_parsing(dsn: str, expected: dict[str, str]) -> None:
    assert parse_dsn(dsn) == expected


KEYVALUE_ERRORS = [
    ("host", 'missing "=" after "host" in connection info string'),
    ("host=a port", 'missing "=" after "port" in connection info string'),
    ("password='abc", "unterminated quoted string in connection info string"),
    ("hots=a", 'invalid connection option "hots"'),
    ("=a", 'invalid connection option ""'),
]


@pytest.mark.parametrize(("dsn", "message"), KEYVALUE_ERRORS)
def test_keyvalue_errors(dsn: str, message: str) -> None:
    with pytest.raises(pgany.InterfaceError) as info:
        config(dsn)
    assert str(info.value) == message


# -- values and validation -----------------------------------------------------------------------

BAD_VALUES = [
    ({"sslmode": "sometimes"}, 'invalid sslmode value: "sometimes"'),
    ({"channel_binding": "maybe"}, 'invalid channel_binding value: "maybe"'),
    ({"target_session_attrs": "master"}, 'invalid target_session_attrs value: "master"'),
    ({"load_balance_hosts": "round-robin"}, 'invalid load_balance_hosts value: "round-robin"'),
    ({"sslnegotiation": "requiredirect"}, 'invalid sslnegotiation value: "requiredirect"'),
    ({"gssencmode": "sure"}, 'invalid gssencmode value: "sure"'),
    ({"gssencmode": "require"}, 'gssencmode value "require" invalid'),
    ({"sslcertmode": "require"}, "sslcertmode"),
    ({"ssl_min_protocol_version": "SSLv3"}, 'invalid ssl_min_protocol_version value: "SSLv3"'),
    (
        {"ssl_min_protocol_version": "TLSv1.3", "ssl_max_protocol_version": "TLSv1.2"},
        "invalid SSL protocol version range",
    ),
    (
        {"connect_timeout": "10s"},
        'invalid integer value "10s" for connection option "connect_timeout"',
    ),
    (
        {"connect_timeout": "2.5"},
        'invalid integer value "2.5" for connection option "connect_timeout"',
    ),
    ({"keepalives": "yes"}, 'invalid integer value "yes" for connection option "keepalives"'),
    ({"keepalives_idle": "1_0"}, 'for connection option "keepalives_idle"'),
    ({"port": "http"}, 'invalid integer value "http" for connection option "port"'),
    ({"port": "70000"}, 'invalid port number: "70000"'),
    ({"host": "a,b", "port": "1,2,3"}, "could not match 3 port numbers to 2 hosts"),
    ({"host": "a,b", "hostaddr": "127.0.0.1"}, "could not match 2 host names to 1 hostaddr values"),
    ({"hostaddr": "localhost"}, 'could not parse network address "localhost"'),
    ({"require_auth": "md5,!password"}, "cannot be mixed"),
    ({"require_auth": "kerberos"}, 'invalid require_auth value: "kerberos"'),
    ({"client_encoding": "LATIN1"}, 'invalid client_encoding value: "LATIN1"'),
    ({"replication": "database"}, "replication connections are not supported"),
    ({"min_protocol_version": "3.2"}, 'min_protocol_version value "3.2" is not supported'),
    ({"max_protocol_version": "4.0"}, 'invalid max_protocol_version value: "4.0"'),
    (
        {"sslnegotiation": "direct"},
        'weak sslmode "prefer" may not be used with sslnegotiation=direct',
    ),
    (
        {"sslrootcert": "system", "sslmode": "require"},
        'weak sslmode "require" may not be used with sslrootcert=system',
    ),
    ({"statement_cache_size": "-1"}, "statement_cache_size must be >= 0"),
]


@pytest.mark.parametrize(("values", "message"), BAD_VALUES, ids=[str(v) for v, _ in BAD_VALUES])
def test_bad_values_are_errors_naming_the_key(values: dict[str, str], message: str) -> None:
    dsn = " ".join(f"{k}='{v}'" for k, v in values.items())
    with pytest.raises(pgany.InterfaceError) as info:
        config(dsn)
    assert message in str(info.value)
    # The same through keyword arguments, and through Config itself.
    with pytest.raises(pgany.InterfaceError):
        config(**values)


def test_unknown_keyword_argument_is_an_error() -> None:
    with pytest.raises(pgany.InterfaceError, match='invalid connection option "hots"'):
        config(hots="x")
    with pytest.raises(pgany.InterfaceError, match='invalid connection option "hots"'):
        config().replace(hots="x")


def test_values_are_converted() -> None:
    c = config("connect_timeout=1 keepalives=0 sslsni=0 statement_cache_size=0")
    assert (c.connect_timeout, c.keepalives, c.sslsni, c.statement_cache_size) == (
        2.0,
        False,
        False,
        0,
    )
    assert config("connect_timeout=0").connect_timeout is None  # wait forever
    assert config("connect_timeout=-5").connect_timeout is None
    assert config("connect_timeout=' 7 '").connect_timeout == 7.0
    # Numbers given as keywords are used as they are.
    kw = config(port=5433, connect_timeout=0.5, keepalives_idle=3)
    assert (kw.port, kw.connect_timeout, kw.keepalives_idle) == ("5433", 0.5, 3)
    assert pgany.Config(port=5433, host=["a", "b"]).hosts() == [
        HostSpec("a", 5433),
        HostSpec("b", 5433),
    ]
    assert config(passfile=Path("/x/y")).passfile == "/x/y"
    # client_encoding and the GSS keys are accepted and dropped.
    assert (
        config("client_encoding=utf8 gsslib=gssapi krbsrvname=pg gssencmode=disable").gssencmode
        == "disable"
    )
    assert config("client_encoding=auto") == config()


def test_keyword_arguments_override_the_connection_string() -> None:
    c = config("postgresql://u:pw@h:1/d?application_name=a", dbname="e", port=2, user=None)
    assert (c.user, c.password, c.host, c.port, c.dbname, c.application_name) == (
        "u",
        "pw",
        "h",
        "2",
        "e",
        "a",
    )
    assert c.replace(dbname=None) == c  # None leaves a setting as it is
    assert c.replace(sslmode="disable").sslmode == "disable"
    with pytest.raises(pgany.InterfaceError, match="sslmode"):
        c.replace(sslmode="bogus")


def test_repr_never_shows_a_password() -> None:
    c = config("postgresql://u:hunter2@h/d", sslpassword="keypass")
    for text in (repr(c), str(c), repr(pgany.connect(c))):
        assert "hunter2" not in text and "keypass" not in text
        assert "password='***'" in text and "sslpassword='***'" in text
    assert "password" not in repr(config("host=h"))


def test_sslrootcert_system_makes_verify_full_the_default() -> None:
    assert config(environ={"PGSSLROOTCERT": "system"}).sslmode == "verify-full"
    assert config("sslrootcert=system").sslmode == "verify-full"
    assert config("sslrootcert=system sslmode=verify-full").sslmode == "verify-full"
    for mode in ("disable", "prefer", "require", "verify-ca"):
        with pytest.raises(pgany.InterfaceError, match=f'weak sslmode "{mode}"'):
            config(f"sslmode={mode}", environ={"PGSSLROOTCERT": "system"})


def test_sslnegotiation_direct_needs_require_or_stronger() -> None:
    for mode in ("require", "verify-ca", "verify-full"):
        assert config(f"sslnegotiation=direct sslmode={mode}").sslnegotiation == "direct"
    for mode in ("disable", "allow", "prefer"):
        with pytest.raises(pgany.InterfaceError, match="sslnegotiation=direct"):
            config(f"sslnegotiation=direct sslmode={mode}")


# -- hosts -----------------------------------------------------------------------------------------


def test_hosts_ports_and_hostaddr() -> None:
    assert config("host=a,b,c port=1").hosts() == [
        HostSpec("a", 1),
        HostSpec("b", 1),
        HostSpec("c", 1),
    ]
    assert config("host=a,b port=1,").hosts() == [HostSpec("a", 1), HostSpec("b", 5432)]
    both = config("host=db.example,other hostaddr=10.0.0.1,::1 port=5,6").hosts()
    assert both == [HostSpec("db.example", 5, "10.0.0.1"), HostSpec("other", 6, "::1")]
    only_addr = config("hostaddr=10.0.0.1").hosts()[0]
    assert only_addr == HostSpec("", 5432, "10.0.0.1")
    assert str(only_addr) == "10.0.0.1:5432" and not only_addr.is_unix
    # hostaddr wins over a socket directory: TCP it is.
    assert not config("host=/tmp hostaddr=127.0.0.1").hosts()[0].is_unix
    assert config("host=@abstract port=7").hosts()[0].socket_path == "\0abstract/.s.PGSQL.7"


def test_default_host_is_a_socket_directory_or_localhost(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import pgany.config as cfg

    monkeypatch.setattr(cfg, "_DEFAULT_SOCKET_DIRS", (str(tmp_path / "none"), str(tmp_path)))
    assert config().hosts() == [HostSpec("localhost", 5432)]
    (tmp_path / ".s.PGSQL.5433").touch()
    assert config(port=5433).hosts() == [HostSpec(str(tmp_path), 5433)]
    assert config("host=,b port=5433").hosts() == [
        HostSpec(str(tmp_path), 5433),
        HostSpec("b", 5433),
    ]


# -- the environment --------------------------------------------------------------------------------


def test_environment_variables_fill_what_is_not_given() -> None:
    env = {
        "PGHOST": "envhost",
        "PGPORT": "6000",
        "PGUSER": "envuser",
        "PGPASSWORD": "envpw",
        "PGDATABASE": "envdb",
        "PGAPPNAME": "envapp",
        "PGSSLMODE": "require",
        "PGCONNECT_TIMEOUT": "1",
        "PGOPTIONS": "-c x=y",
        "PGTARGETSESSIONATTRS": "read-write",
        "PGLOADBALANCEHOSTS": "random",
        "PGCHANNELBINDING": "require",
        "PGREQUIREAUTH": "scram-sha-256",
        "PGSSLNEGOTIATION": "direct",
        "PGSSLROOTCERT": "/r.crt",
        "PGSSLCERT": "/c.crt",
        "PGSSLKEY": "/c.key",
        "PGSSLCRL": "/r.crl",
        "PGSSLCRLDIR": "/crls",
        "PGSSLMINPROTOCOLVERSION": "TLSv1.3",
        "PGSSLMAXPROTOCOLVERSION": "TLSv1.3",
        "PGPASSFILE": "/pgpass",
        "PGSSLSNI": "0",
        "PGREQUIREPEER": "postgres",
        "PGHOSTADDR": "127.0.0.1",
        "PGGSSENCMODE": "disable",
        "PGCLIENTENCODING": "UTF8",
    }
    c = config(environ=env)
    assert (c.host, c.port, c.user, c.password, c.dbname, c.application_name) == (
        "envhost",
        "6000",
        "envuser",
        "envpw",
        "envdb",
        "envapp",
    )
    assert (c.sslmode, c.connect_timeout, c.options, c.target_session_attrs) == (
        "require",
        2.0,
        "-c x=y",
        "read-write",
    )
    assert (c.load_balance_hosts, c.channel_binding, c.require_auth, c.sslnegotiation) == (
        "random",
        "require",
        "scram-sha-256",
        "direct",
    )
    assert (c.sslrootcert, c.sslcert, c.sslkey, c.sslcrl, c.sslcrldir) == (
        "/r.crt",
        "/c.crt",
        "/c.key",
        "/r.crl",
        "/crls",
    )
    assert (c.ssl_min_protocol_version, c.passfile, c.sslsni, c.requirepeer, c.hostaddr) == (
        "TLSv1.3",
        "/pgpass",
        False,
        "postgres",
        "127.0.0.1",
    )
    # The connection string and keywords win; empty variables count as unset.
    c = config("host=dsnhost", environ={**env, "PGDATABASE": ""}, port=7)
    assert (c.host, c.port, c.dbname) == ("dsnhost", "7", None)


def test_os_environ_is_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PGAPPNAME", "from-env")
    monkeypatch.delenv("PGSERVICE", raising=False)
    assert pgany.Config.from_dsn("host=h").application_name == "from-env"
    assert pgany.Config.from_dsn("host=h", environ={}).application_name is None


def test_defaults_are_libpq_s() -> None:
    c = config()
    assert (c.sslmode, c.sslnegotiation, c.channel_binding, c.target_session_attrs) == (
        "prefer",
        "postgres",
        "prefer",
        "any",
    )
    assert (c.load_balance_hosts, c.keepalives, c.sslsni, c.gssencmode, c.sslcertmode) == (
        "disable",
        True,
        True,
        "prefer",
        "allow",
    )
    assert c.connect_timeout is None and c.ssl_min_protocol_version is None
    assert config(user="alice").effective_dbname() == "alice"
    assert config(user="alice", dbname="db").startup_parameters() == {
        "user": "alice",
        "database": "db",
        "client_encoding": "UTF8",
    }


# -- pg_service.conf --------------------------------------------------------------------------------

SERVICES = """\
# A comment, then a blank line

[other]
host=wrong
[app]
host=svc-host
  port=6543
dbname=svcdb
application_name=with spaces and = sign
[after]
host=also-wrong
"""


def test_service_file_from_pgservicefile(tmp_path: Path) -> None:
    path = tmp_path / "services.conf"
    path.write_text(SERVICES)
    env = {"PGSERVICEFILE": str(path)}
    c = config("service=app", environ=env)
    assert (c.host, c.port, c.dbname, c.application_name) == (
        "svc-host",
        "6543",
        "svcdb",
        "with spaces and = sign",
    )
    # The connection string and keywords beat the service; the service beats the environment.
    c = config(
        "service=app dbname=mine", environ={**env, "PGHOST": "envhost", "PGUSER": "envuser"}, port=1
    )
    assert (c.host, c.port, c.dbname, c.user) == ("svc-host", "1", "mine", "envuser")
    # PGSERVICE names the service too; the servicefile keyword names the file.
    assert config(environ={**env, "PGSERVICE": "app"}).host == "svc-host"
    assert config(f"service=app servicefile={path}").host == "svc-host"


def test_service_file_in_home_then_sysconfdir(tmp_path: Path) -> None:
    home, sysconf = tmp_path / "home", tmp_path / "etc"
    home.mkdir()
    sysconf.mkdir()
    (sysconf / "pg_service.conf").write_text("[sys]\nhost=system-host\n[both]\nhost=system\n")
    (home / ".pg_service.conf").write_text("[both]\nhost=user\n")
    env = {"HOME": str(home), "PGSYSCONFDIR": str(sysconf)}
    assert config("service=both", environ=env).host == "user"
    assert config("service=sys", environ=env).host == "system-host"
    with pytest.raises(pgany.InterfaceError, match='definition of service "nope" not found'):
        config("service=nope", environ=env)
    # A missing file is skipped.
    assert config(
        "service=sys", environ={**env, "PGSERVICEFILE": str(tmp_path / "absent")}
    ).host == ("system-host")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[s]\nhost\n", 'syntax error in service file ".*", line 2'),
        ("[s]\nservice=t\n", "nested service specifications not supported"),
        ("[s]\nhots=x\n", 'invalid connection option "hots"'),
        ("[s]\nhost = x\n", 'invalid connection option "host "'),  # no blanks around "=" in libpq
    ],
)
def test_service_file_errors(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "s.conf"
    path.write_text(text)
    with pytest.raises(pgany.InterfaceError, match=message):
        service_values("s", servicefile=str(path), environ={})


def test_service_file_lines_are_taken_as_they_are(tmp_path: Path) -> None:
    path = tmp_path / "s.conf"
    path.write_text("[s]\r\n\thost=first\r\nhost=second\npassword=p#w \n[s2]\n")
    assert service_values("s", servicefile=str(path), environ={}) == {
        "host": "first",  # the first value wins
        "password": "p#w ",
    }
    assert service_values("s2", servicefile=str(path), environ={}) == {}


# -- the password file -------------------------------------------------------------------------------

PGPASS_LINES = [
    "# comment",
    "db.example:5432:app:alice:alice-pw",
    "db.example:*:*:bob:bob\\:pw\\\\x:ignored",
    "*:5433:*:alice:any-host-pw",
    "localhost:5432:*:carol:local-pw",
    "10.0.0.1:5432:*:*:by-address",
    "odd\\:host:5432:*:*:escaped-host",
    "*:*:*:*:fallback",
]


@pytest.mark.parametrize(
    ("host", "port", "db", "user", "password"),
    [
        ("db.example", "5432", "app", "alice", "alice-pw"),
        ("db.example", "5432", "other", "alice", "fallback"),
        ("db.example", "9999", "x", "bob", "bob:pw\\x"),
        ("anything", "5433", "x", "alice", "any-host-pw"),
        ("localhost", "5432", "x", "carol", "local-pw"),
        ("10.0.0.1", "5432", "x", "dave", "by-address"),
        ("odd:host", "5432", "x", "eve", "escaped-host"),
        ("DB.EXAMPLE", "5432", "app", "alice", "fallback"),  # matching is exact
    ],
)
def test_pgpass_matching(host: str, port: str, db: str, user: str, password: str) -> None:
    assert find_password(PGPASS_LINES, host, port, db, user) == password


def test_pgpass_no_match() -> None:
    assert find_password(PGPASS_LINES[:-1], "nowhere", "1", "d", "u") is None
    assert find_password(["h:1:d:u:"], "h", "1", "d", "u") == ""
    assert find_password(["h:1:d:u"], "h", "1", "d", "u") is None  # no ":" after the user
    assert find_password(["h:1:d"], "h", "1", "d", "u") is None


def test_pgpass_host_name_rules() -> None:
    assert password_host(HostSpec("db", 5432)) == "db"
    assert password_host(HostSpec("", 5432, "10.0.0.1")) == "10.0.0.1"
    assert password_host(HostSpec("db", 5432, "10.0.0.1")) == "db"
    # The default socket directory (or no host) is "localhost"; another directory is itself.
    assert password_host(HostSpec("/var/run/postgresql", 5432)) == "localhost"
    assert password_host(HostSpec("/tmp", 5432)) == "localhost"
    assert password_host(HostSpec("/srv/pg", 5432)) == "/srv/pg"


def test_pgpass_file_lookup_and_permissions(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "pgpass"
    path.write_text("h:5432:d:u:secret\n")
    path.chmod(0o600)
    assert lookup_password(str(path), HostSpec("h", 5432), "d", "u") == ("secret", str(path))
    assert lookup_password(str(path), HostSpec("h", 5433), "d", "u") is None
    assert lookup_password(str(tmp_path / "missing"), HostSpec("h", 5432), "d", "u") is None
    assert caplog.records == []
    # Group or world access: ignored with a warning, as libpq does.
    path.chmod(0o640)
    with caplog.at_level(logging.WARNING, logger="pgany"):
        assert lookup_password(str(path), HostSpec("h", 5432), "d", "u") is None
    assert "has group or world access" in caplog.text and "secret" not in caplog.text
    caplog.clear()
    # A directory is not a password file.
    with caplog.at_level(logging.WARNING, logger="pgany"):
        assert lookup_password(str(tmp_path), HostSpec("h", 5432), "d", "u") is None
    assert "is not a plain file" in caplog.text


def test_pgpass_default_is_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    (tmp_path / ".pgpass").write_text("*:*:*:*:from-home\n")
    (tmp_path / ".pgpass").chmod(0o600)
    assert lookup_password(None, HostSpec("h", 1), "d", "u") == (
        "from-home",
        str(tmp_path / ".pgpass"),
    )


# -- require_auth ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "allowed", "required"),
    [
        ("md5", {"md5"}, True),
        ("password,scram-sha-256", {"password", "scram-sha-256"}, True),
        ("none", set(), False),
        ("none,md5", {"md5"}, False),
        ("!md5", {"password", "gss", "sspi", "scram-sha-256"}, False),
        ("!none", {"password", "md5", "gss", "sspi", "scram-sha-256"}, True),
        ("!password,!md5", {"gss", "sspi", "scram-sha-256"}, False),
    ],
)
def test_require_auth_parsing(value: str, allowed: set[str], required: bool) -> None:
    assert parse_require_auth(value) == (frozenset(allowed), required)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("!md5,password", 'require_auth method "password" cannot be mixed with negative methods'),
        ("md5,!password", 'negative require_auth method "!password" cannot be mixed'),
        ("md5,md5", 'require_auth method "md5" is specified more than once'),
        ("scram", 'invalid require_auth value: "scram"'),
        ("", 'invalid require_auth value: ""'),
    ],
)
def test_require_auth_errors(value: str, message: str) -> None:
    with pytest.raises(pgany.InterfaceError) as info:
        parse_require_auth(value)
    assert message in str(info.value)


def _sent(data: bytes, kind: str) -> Any:
    return fe.decode_frontend(data[0], data[5:], password_kind=kind)


@pytest.mark.parametrize(
    ("require_auth", "request_msg", "ok"),
    [
        ("md5", m.AuthenticationMD5Password(b"salt"), True),
        ("md5", m.AuthenticationCleartextPassword(), False),
        ("password", m.AuthenticationCleartextPassword(), True),
        ("!password", m.AuthenticationCleartextPassword(), False),
        ("!password", m.AuthenticationMD5Password(b"salt"), True),
        ("scram-sha-256", m.AuthenticationMD5Password(b"salt"), False),
        ("md5", m.AuthenticationSASL(("SCRAM-SHA-256",)), False),
        ("!scram-sha-256", m.AuthenticationSASL(("SCRAM-SHA-256",)), False),
        ("scram-sha-256", m.AuthenticationSASL(("SCRAM-SHA-256",)), True),
        ("md5", m.AuthenticationGSS(), False),
    ],
)
def test_require_auth_requests(require_auth: str, request_msg: m.BackendMessage, ok: bool) -> None:
    auth = Authenticator("u", "pw", require_auth=require_auth)
    if ok:
        assert auth.handle(request_msg)
    else:
        with pytest.raises(
            pgany.ConnectError,
            match=f'authentication method requirement "{require_auth}" failed: server requested',
        ):
            auth.handle(request_msg)


@pytest.mark.parametrize(
    ("require_auth", "ok"),
    [
        ("none", True),
        ("!md5", True),
        ("md5", False),
        ("!none", False),
        ("scram-sha-256,none", True),
    ],
)
def test_require_auth_and_trust(require_auth: str, ok: bool) -> None:
    auth = Authenticator("u", "pw", require_auth=require_auth)
    if ok:
        auth.check_complete()
    else:
        with pytest.raises(pgany.ConnectError, match="server did not complete authentication"):
            auth.check_complete()


def test_require_auth_passes_after_a_finished_exchange() -> None:
    auth = Authenticator("u", "pw", require_auth="md5")
    auth.handle(m.AuthenticationMD5Password(b"salt"))
    auth.check_complete()


# -- channel binding -------------------------------------------------------------------------------


class PlusServer:
    """The server side of SCRAM-SHA-256(-PLUS), played by scramp."""

    def __init__(self, mechanism: str, cb_data: bytes | None) -> None:
        mech = scramp.ScramMechanism(mechanism)
        info = mech.make_auth_info("pw", iteration_count=4096)
        binding = ("tls-server-end-point", cb_data) if cb_data else None
        self.server = mech.make_server(lambda _user: info, channel_binding=binding)

    def run(self, auth: Authenticator, offered: tuple[str, ...]) -> str:
        initial = _sent(auth.handle(m.AuthenticationSASL(offered)), "sasl_initial")
        self.server.set_client_first(initial.data.decode())
        reply = auth.handle(m.AuthenticationSASLContinue(self.server.get_server_first().encode()))
        self.server.set_client_final(_sent(reply, "sasl").data.decode())
        auth.handle(m.AuthenticationSASLFinal(self.server.get_server_final().encode()))
        auth.check_complete()
        return str(initial.mechanism) + " " + initial.data.decode().split(",")[0]


CB = hashlib.sha256(b"certificate").digest()


@pytest.mark.parametrize("channel_binding", ["prefer", "require"])
def test_scram_plus_over_tls(channel_binding: str) -> None:
    auth = Authenticator("u", "pw", channel_binding=channel_binding, cb_data=CB, tls=True)
    used = PlusServer("SCRAM-SHA-256-PLUS", CB).run(auth, ("SCRAM-SHA-256-PLUS", "SCRAM-SHA-256"))
    assert used == "SCRAM-SHA-256-PLUS p=tls-server-end-point"


def test_scram_plus_with_the_wrong_certificate_fails() -> None:
    auth = Authenticator("u", "pw", channel_binding="require", cb_data=CB, tls=True)
    with pytest.raises(scramp.ScramException):
        PlusServer("SCRAM-SHA-256-PLUS", bytes(32)).run(auth, ("SCRAM-SHA-256-PLUS",))


def test_channel_binding_disable_over_tls_says_n() -> None:
    auth = Authenticator("u", "pw", channel_binding="disable", cb_data=CB, tls=True)
    used = PlusServer("SCRAM-SHA-256", None).run(auth, ("SCRAM-SHA-256-PLUS", "SCRAM-SHA-256"))
    assert used == "SCRAM-SHA-256 n"


def test_tls_without_plus_on_offer_says_y() -> None:
    # The client could bind but the server offers no -PLUS: "y", so a server that
    # does support binding can tell that -PLUS was stripped on the way.
    auth = Authenticator("u", "pw", cb_data=CB, tls=True)
    assert PlusServer("SCRAM-SHA-256", None).run(auth, ("SCRAM-SHA-256",)) == "SCRAM-SHA-256 y"
    stripped = Authenticator("u", "pw", cb_data=CB, tls=True)
    with pytest.raises(scramp.ScramException, match="channel binding"):
        PlusServer("SCRAM-SHA-256", CB).run(stripped, ("SCRAM-SHA-256",))


def test_plus_offered_without_tls_is_refused() -> None:
    auth = Authenticator("u", "pw", tls=False)
    with pytest.raises(
        pgany.ConnectError, match="SCRAM-SHA-256-PLUS authentication over a non-SSL"
    ):
        auth.handle(m.AuthenticationSASL(("SCRAM-SHA-256-PLUS", "SCRAM-SHA-256")))


@pytest.mark.parametrize(
    "request_msg",
    [
        m.AuthenticationCleartextPassword(),
        m.AuthenticationMD5Password(b"salt"),
        m.AuthenticationGSS(),
    ],
)
def test_channel_binding_require_never_sends_a_password_outside_scram(
    request_msg: m.BackendMessage,
) -> None:
    auth = Authenticator("u", "hunter2", channel_binding="require", cb_data=CB, tls=True)
    with pytest.raises(pgany.ConnectError, match="channel_binding=require") as info:
        auth.handle(request_msg)
    assert "hunter2" not in str(info.value)


def test_channel_binding_require_refuses_scram_without_plus_and_trust() -> None:
    auth = Authenticator("u", "pw", channel_binding="require", cb_data=CB, tls=True)
    with pytest.raises(pgany.ConnectError, match="channel_binding=require"):
        auth.handle(m.AuthenticationSASL(("SCRAM-SHA-256",)))
    with pytest.raises(pgany.ConnectError, match=r"channel_binding=require.*trust"):
        Authenticator("u", "pw", channel_binding="require", cb_data=CB, tls=True).check_complete()
    plain = Authenticator("u", "pw", channel_binding="require", tls=False)
    with pytest.raises(pgany.ConnectError, match="does not use TLS"):
        plain.handle(m.AuthenticationSASL(("SCRAM-SHA-256",)))


# -- TLS helpers -----------------------------------------------------------------------------------


def _cert(san: list[tuple[str, str]], cn: str | None = None) -> dict[str, Any]:
    cert: dict[str, Any] = {"subject": ((("commonName", cn),),) if cn else ()}
    if san:
        cert["subjectAltName"] = tuple(san)
    return cert


@pytest.mark.parametrize(
    ("cert", "host", "ok"),
    [
        (_cert([("DNS", "db.example")]), "db.example", True),
        (_cert([("DNS", "DB.Example")]), "db.example", True),
        (_cert([("DNS", "db.example")]), "other.example", False),
        (_cert([("DNS", "*.example")]), "db.example", True),
        (_cert([("DNS", "*.example")]), "a.db.example", False),  # one label only
        (_cert([("DNS", "*.example")]), "example", False),
        (_cert([("DNS", "d*.example")]), "db.example", False),  # only a leading "*."
        (_cert([("IP Address", "127.0.0.1")]), "127.0.0.1", True),
        (_cert([("IP Address", "2001:DB8:0:0:0:0:0:1\n")]), "2001:db8::1", True),
        (_cert([("IP Address", "127.0.0.1")]), "127.0.0.2", False),
        # The CN counts only without a SAN of the host's type.
        (_cert([], cn="db.example"), "db.example", True),
        (_cert([("DNS", "other")], cn="db.example"), "db.example", False),
        (_cert([("IP Address", "10.0.0.1")], cn="db.example"), "db.example", True),
        (_cert([("DNS", "other")], cn="127.0.0.1"), "127.0.0.1", True),
        (_cert([("IP Address", "10.0.0.1")], cn="127.0.0.1"), "127.0.0.1", False),
    ],
)
def test_host_name_check(cert: dict[str, Any], host: str, ok: bool) -> None:
    if ok:
        _tls.check_host_name(cert, host)
    else:
        with pytest.raises(pgany.ConnectError, match=f'does not match host name "{host}"'):
            _tls.check_host_name(cert, host)


def test_host_name_mismatch_message() -> None:
    with pytest.raises(pgany.ConnectError) as info:
        _tls.check_host_name(_cert([("DNS", "a"), ("DNS", "b")]), "c")
    assert (
        str(info.value)
        == 'server certificate for "a" (and 1 other name) does not match host name "c"'
    )


def _self_signed(hash_name: str) -> bytes:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
    from cryptography.x509.oid import NameOID

    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test")])
    now = datetime.datetime.now(datetime.timezone.utc)
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .serial_number(1)
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=1))
    )
    key: Any
    algorithm: Any
    if hash_name == "ed25519":
        key, algorithm = ed25519.Ed25519PrivateKey.generate(), None
    elif hash_name == "ecdsa-sha384":
        key, algorithm = ec.generate_private_key(ec.SECP256R1()), hashes.SHA384()
    else:
        key = rsa.generate_private_key(public_exponent=65537, key_size=1024)
        algorithm = {"sha256": hashes.SHA256(), "sha512": hashes.SHA512()}[hash_name]
    builder = builder.public_key(key.public_key())
    cert = builder.sign(key, algorithm)
    return cert.public_bytes(serialization.Encoding.DER)


@pytest.mark.parametrize(
    ("kind", "hash_name"),
    [("sha256", "sha256"), ("sha512", "sha512"), ("ecdsa-sha384", "sha384")],
)
def test_end_point_hash_uses_the_signature_hash(kind: str, hash_name: str) -> None:
    der = _self_signed(kind)
    assert _tls.end_point_hash(der) == hashlib.new(hash_name, der).digest()
    # The same as scramp's own (asn1crypto-based) computation.
    assert _tls.end_point_hash(der) == bytes(scramp.core.CBindData.from_der(der))


@pytest.mark.parametrize("oid", ["2a864886f70d010104", "2a864886f70d010105"], ids=["md5", "sha1"])
def test_end_point_hash_of_md5_and_sha1_certificates_is_sha256(oid: str) -> None:
    # cryptography no longer signs with them: relabel a SHA-256 certificate (same OID length).
    sha256 = bytes.fromhex("2a864886f70d01010b")
    der = _self_signed("sha256").replace(sha256, bytes.fromhex(oid))
    assert _tls.signature_hash(der) == {"2a864886f70d010104": "md5"}.get(oid, "sha1")
    assert _tls.end_point_hash(der) == hashlib.sha256(der).digest()


def test_end_point_hash_unknown_algorithm() -> None:
    assert _tls.end_point_hash(_self_signed("ed25519")) is None
    assert _tls.end_point_hash(b"\x30\x03garbage") is None


def test_ssl_context_rules(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import trustme

    monkeypatch.setenv("HOME", str(tmp_path))
    ca = trustme.CA()
    root = tmp_path / "root.crt"
    ca.cert_pem.write_to_path(str(root))
    # No root certificate: require does not verify, verify-ca can't work.
    ctx = _tls.make_ssl_context(config("sslmode=require"))
    assert ctx.verify_mode == ssl.CERT_NONE and not ctx.check_hostname
    assert ctx.minimum_version == ssl.TLSVersion.TLSv1_2
    with pytest.raises(pgany.ConnectError, match=r"root certificate file .* does not exist"):
        _tls.make_ssl_context(config("sslmode=verify-ca"))
    # A root certificate given, or in ~/.postgresql/root.crt: verified even with require.
    assert (
        _tls.make_ssl_context(config(f"sslmode=require sslrootcert={root}")).verify_mode
        == ssl.CERT_REQUIRED
    )
    (tmp_path / ".postgresql").mkdir()
    ca.cert_pem.write_to_path(str(tmp_path / ".postgresql" / "root.crt"))
    assert _tls.make_ssl_context(config("sslmode=prefer")).verify_mode == ssl.CERT_REQUIRED
    assert _tls.make_ssl_context(config("sslmode=verify-ca")).verify_mode == ssl.CERT_REQUIRED
    # CRLs switch on checking the whole chain.
    ctx = _tls.make_ssl_context(config(f"sslcrl={root}"))
    assert ctx.verify_flags & ssl.VERIFY_CRL_CHECK_CHAIN
    ctx = _tls.make_ssl_context(
        config("ssl_min_protocol_version=TLSv1.3 ssl_max_protocol_version=TLSv1.3")
    )
    assert ctx.minimum_version == ctx.maximum_version == ssl.TLSVersion.TLSv1_3
    keylog = tmp_path / "keys.log"
    assert _tls.make_ssl_context(config(sslkeylogfile=str(keylog))).keylog_filename == str(keylog)
    system = _tls.make_ssl_context(config("sslrootcert=system"))
    assert system.verify_mode == ssl.CERT_REQUIRED


def test_client_key_rules(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import trustme

    monkeypatch.setenv("HOME", str(tmp_path))
    leaf = trustme.CA().issue_cert("client.example", common_name="alice")
    cert, key = tmp_path / "c.crt", tmp_path / "c.key"
    leaf.cert_chain_pems[0].write_to_path(str(cert))
    leaf.private_key_pem.write_to_path(str(key))
    key.chmod(0o600)
    _tls.make_ssl_context(config(f"sslcert={cert} sslkey={key}"))
    # A missing certificate is no error (libpq goes on without one); a missing key is.
    _tls.make_ssl_context(config(f"sslcert={tmp_path / 'nope.crt'}"))
    with pytest.raises(pgany.ConnectError, match="certificate present, but not private key file"):
        _tls.make_ssl_context(config(f"sslcert={cert} sslkey={tmp_path / 'nope.key'}"))
    key.chmod(0o644)
    if os.getuid() == 0:
        key.chmod(0o604)  # root may have 0640, not world access
    with pytest.raises(pgany.ConnectError, match="has group or world access"):
        _tls.make_ssl_context(config(f"sslcert={cert} sslkey={key}"))
    # An encrypted key: sslpassword decrypts it, and a wrong one never reaches a prompt.
    from cryptography.hazmat.primitives import serialization

    private = serialization.load_pem_private_key(leaf.private_key_pem.bytes(), password=None)
    key.write_bytes(
        private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(b"key-secret"),
        )
    )
    key.chmod(0o600)
    _tls.make_ssl_context(config(f"sslcert={cert} sslkey={key}", sslpassword="key-secret"))
    for wrong in ("nope", None):
        with pytest.raises(
            pgany.ConnectError, match="could not load the client certificate"
        ) as info:
            _tls.make_ssl_context(config(f"sslcert={cert} sslkey={key}", sslpassword=wrong))
        assert "key-secret" not in str(info.value)
    # sslcertmode=disable sends none, even though the files are there.
    _tls.make_ssl_context(
        config(f"sslcert={cert} sslkey={tmp_path / 'nope.key'} sslcertmode=disable")
    )


@pytest.mark.parametrize("value", ["0", "false", "off", "no"])
def test_replication_off_is_an_ordinary_connection(value: str) -> None:
    pgany.Config.from_dsn(f"host=h replication={value}", environ={})
