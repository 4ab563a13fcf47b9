"""How values travel: PostgreSQL types and their Python types."""

import datetime
import ipaddress
import uuid
from decimal import Decimal

import anyio

import pgany


async def main(dsn: str) -> None:
    async with pgany.connect(dsn) as client:
        row = await client.query_one(
            """
            SELECT true AS flag, 9000000000::int8 AS big, 0.1::float8 AS ratio,
                   1.10::numeric AS price, 'héllo'::text AS greeting,
                   '\\x00ff'::bytea AS raw, '{"a": [1, null]}'::jsonb AS doc,
                   'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid AS id,
                   DATE '2024-02-29' AS day, TIMESTAMP '2024-02-29 12:30' AS local,
                   TIMESTAMPTZ '2024-02-29 12:30+02' AS instant,
                   INTERVAL '1 month 2 days 03:00:00' AS span,
                   '08:00:2b:01:02:03'::macaddr AS mac, '{{1,2},{3,NULL}}'::int4[] AS grid,
                   int4range(1, 10) AS span10, '10.0.0.1/8'::inet AS host
            """
        )
        assert row["flag"] is True
        assert row["big"] == 9_000_000_000
        assert row["ratio"] == 0.1
        assert row["price"] == Decimal("1.10")  # the scale is kept
        assert row["greeting"] == "héllo"
        assert row["raw"] == b"\x00\xff"
        assert row["doc"] == {"a": [1, None]}
        assert row["id"] == uuid.UUID("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11")
        assert row["day"] == datetime.date(2024, 2, 29)
        assert row["local"] == datetime.datetime(2024, 2, 29, 12, 30)  # naive
        utc = datetime.timezone.utc
        assert row["instant"] == datetime.datetime(2024, 2, 29, 10, 30, tzinfo=utc)
        assert row["instant"].tzinfo is utc  # aware, in UTC
        assert row["span"] == pgany.Interval(months=1, days=2, microseconds=3 * 3600 * 10**6)
        assert row["mac"] == "08:00:2b:01:02:03"  # as PostgreSQL prints it
        assert row["grid"] == [[1, 2], [3, None]]
        assert row["span10"] == pgany.Range(1, 10, bounds="[)")
        assert row["host"] == ipaddress.ip_interface("10.0.0.1/8")

        # Parameters are converted by the type the server expects.
        assert await client.query_value("SELECT $1::numeric * 2", 0.1) == Decimal("0.2")
        assert await client.query_value("SELECT $1::jsonb -> 'k'", {"k": [1, 2]}) == [1, 2]
        assert await client.query_value("SELECT $1::jsonb", "text") == "text"  # a JSON string

        # An interval parameter may be a timedelta; results are always Interval.
        span = await client.query_value("SELECT $1::interval", datetime.timedelta(hours=25))
        assert span == pgany.Interval(days=1, microseconds=3600 * 10**6)
        assert span.to_timedelta() == datetime.timedelta(hours=25)
        month = await client.query_value("SELECT INTERVAL '1 month'")
        assert month.to_timedelta(days_per_month=30) == datetime.timedelta(days=30)

        # Infinity: date.max / datetime.max (and min) stand for PostgreSQL's ±infinity.
        day, moment = await client.query_one("SELECT 'infinity'::date, '-infinity'::timestamptz")
        assert day == datetime.date.max
        assert moment == datetime.datetime.min.replace(tzinfo=utc)
        assert await client.query_value("SELECT $1::date::text", datetime.date.max) == "infinity"

        # Out-of-range values and impossible conversions are errors, not surprises.
        try:
            await client.query_value("SELECT $1::int2", 100_000)
        except pgany.EncodeError:
            pass  # raised before anything was sent
        try:
            await client.query_value("SELECT DATE '10000-01-01'")
        except pgany.DecodeError as exc:
            assert "date" in str(exc)


if __name__ == "__main__":
    import sys

    anyio.run(main, sys.argv[1] if len(sys.argv) > 1 else "")
