"""pgany.types.register_codec: read and write a type your own way."""

import anyio

import pgany
import pgany.types

POINT_OID = 600  # pg_type.oid of point


def decode_point(data: bytes | memoryview) -> tuple[float, float]:
    x, y = bytes(data).decode()[1:-1].split(",")  # the text form: "(1.5,2)"
    return float(x), float(y)


def encode_point(value: tuple[float, float]) -> bytes:
    x, y = value
    return f"({x!r},{y!r})".encode()


async def main(dsn: str) -> None:
    # For every connection made from now on.
    pgany.types.register_codec(
        "point", oid=POINT_OID, encode=encode_point, decode=decode_point, format="text"
    )
    async with pgany.connect(dsn) as client:
        assert await client.query_value("SELECT point(1.5, 2)") == (1.5, 2.0)
        assert await client.query_value("SELECT ($1::point)[0]", (3.0, 4.0)) == 3.0


if __name__ == "__main__":
    import sys

    anyio.run(main, sys.argv[1] if len(sys.argv) > 1 else "")
