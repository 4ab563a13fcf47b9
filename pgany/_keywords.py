"""The libpq connection keywords pgany knows: what a connection string or a service file may hold.

One table for :mod:`pgany.config`, which reads connection strings and the
environment, and for :mod:`pgany._service`, which reads ``pg_service.conf``:
both accept exactly :data:`DSN_KEYS`.
"""

from __future__ import annotations

__all__ = ["ALIASES", "DSN_KEYS", "KEYWORDS", "PGANY_TEXT_KEYS"]

#: Every libpq keyword pgany knows, and its environment variable (``None``: it has none).
KEYWORDS: dict[str, str | None] = {
    "host": "PGHOST",
    "hostaddr": "PGHOSTADDR",
    "port": "PGPORT",
    "dbname": "PGDATABASE",
    "user": "PGUSER",
    "password": "PGPASSWORD",
    "passfile": "PGPASSFILE",
    "require_auth": "PGREQUIREAUTH",
    "channel_binding": "PGCHANNELBINDING",
    "connect_timeout": "PGCONNECT_TIMEOUT",
    "client_encoding": "PGCLIENTENCODING",
    "options": "PGOPTIONS",
    "application_name": "PGAPPNAME",
    "fallback_application_name": None,
    "keepalives": None,
    "keepalives_idle": None,
    "keepalives_interval": None,
    "keepalives_count": None,
    "tcp_user_timeout": None,
    "replication": None,
    "gssencmode": "PGGSSENCMODE",
    "sslmode": "PGSSLMODE",
    "sslnegotiation": "PGSSLNEGOTIATION",
    "sslcompression": "PGSSLCOMPRESSION",
    "sslcert": "PGSSLCERT",
    "sslkey": "PGSSLKEY",
    "sslkeylogfile": None,
    "sslpassword": None,
    "sslcertmode": "PGSSLCERTMODE",
    "sslrootcert": "PGSSLROOTCERT",
    "sslcrl": "PGSSLCRL",
    "sslcrldir": "PGSSLCRLDIR",
    "sslsni": "PGSSLSNI",
    "requirepeer": "PGREQUIREPEER",
    "ssl_min_protocol_version": "PGSSLMINPROTOCOLVERSION",
    "ssl_max_protocol_version": "PGSSLMAXPROTOCOLVERSION",
    "min_protocol_version": "PGMINPROTOCOLVERSION",
    "max_protocol_version": "PGMAXPROTOCOLVERSION",
    "krbsrvname": "PGKRBSRVNAME",
    "gsslib": "PGGSSLIB",
    "gssdelegation": "PGGSSDELEGATION",
    "service": "PGSERVICE",
    "servicefile": "PGSERVICEFILE",
    "target_session_attrs": "PGTARGETSESSIONATTRS",
    "load_balance_hosts": "PGLOADBALANCEHOSTS",
}

#: Other spellings accepted for a keyword (tokio-postgres calls keepalives_count so).
ALIASES = {"keepalives_retries": "keepalives_count"}

#: pgany's own keywords that may appear in a connection string.
PGANY_TEXT_KEYS = frozenset({"statement_cache_size", "notification_buffer"})

#: Keys a connection string (or a service file) may hold.
DSN_KEYS = frozenset(KEYWORDS) | PGANY_TEXT_KEYS | frozenset(ALIASES)
