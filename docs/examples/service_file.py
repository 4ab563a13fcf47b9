"""A connection service file (pg_service.conf): named groups of keywords."""

import tempfile
from pathlib import Path

import anyio

import pgany


def write_service_file(path: Path, server: pgany.Config) -> None:
    host = server.hosts()[0]
    path.write_text(
        "# One group per service; its lines are keyword=value, as libpq reads them.\n"
        "[app]\n"
        f"host={host.host}\n"
        f"port={host.port}\n"
        f"user={server.effective_user()}\n"
        f"dbname={server.effective_dbname()}\n"
        "application_name=from-the-service-file\n"
    )


async def main(dsn: str) -> None:
    server = pgany.Config.from_dsn(dsn)
    with tempfile.TemporaryDirectory() as tmp:
        servicefile = Path(tmp, "pg_service.conf")
        write_service_file(servicefile, server)
        # PGSERVICEFILE (or the servicefile keyword) names the file; without it,
        # pgany looks in ~/.pg_service.conf, then in the system-wide pg_service.conf.
        environ = {"PGSERVICEFILE": str(servicefile)}
        if server.password:
            environ["PGPASSWORD"] = server.password
        config = pgany.Config.from_dsn("service=app", environ=environ)
        async with pgany.connect(config) as client:
            name = await client.query_value("SELECT current_setting('application_name')")
            assert name == "from-the-service-file"

        # The service file wins over the environment; the connection string
        # and keyword arguments win over the service file.
        environ["PGAPPNAME"] = "from-the-environment"
        config = pgany.Config.from_dsn("service=app", environ=environ)
        assert config.application_name == "from-the-service-file"
        config = pgany.Config.from_dsn("service=app application_name=mine", environ=environ)
        assert config.application_name == "mine"


if __name__ == "__main__":
    import sys

    anyio.run(main, sys.argv[1] if len(sys.argv) > 1 else "")
