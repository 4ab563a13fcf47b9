"""Config.from_dsn: the two DSN forms, keyword overrides, and what repr() hides."""

import anyio

import pgany


async def main(dsn: str) -> None:
    # environ={} ignores the PG* environment variables, to show the parsing alone.
    uri = pgany.Config.from_dsn(
        "postgresql://app:s3cret@db1:5432,db2:5433/shop?sslmode=require&connect_timeout=10",
        environ={},
    )
    keyvalue = pgany.Config.from_dsn(
        "host=db1,db2 port=5432,5433 user=app password=s3cret dbname=shop "
        "sslmode=require connect_timeout=10",
        environ={},
    )
    assert uri == keyvalue
    assert [str(host) for host in uri.hosts()] == ["db1:5432", "db2:5433"]
    assert uri.connect_timeout == 10.0
    assert "s3cret" not in repr(uri)  # password='***'

    # Keyword arguments override the DSN.
    config = pgany.Config.from_dsn(dsn, application_name="reporting", statement_cache_size=0)
    assert config.statement_cache_size == 0

    # connect() and run_connection() take a DSN, a Config, or keywords alone.
    async with pgany.connect(config) as client:
        assert client.parameter_status("application_name") == "reporting"
        assert await client.query_value("SELECT current_setting('application_name')") == "reporting"


if __name__ == "__main__":
    import sys

    anyio.run(main, sys.argv[1] if len(sys.argv) > 1 else "")
