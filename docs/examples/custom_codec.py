"""pgany.types.register_codec: read and write a type your own way."""

import struct

import anyio

import pgany
import pgany.types

POINT_OID = 600  # pg_type.oid of point
XY = struct.Struct(">dd")  # point's binary form: x and y, big-endian float8


def decode_point(data: bytes | memoryview) -> tuple[float, float]:
    x, y = XY.unpack(data)
    return x, y


def encode_point(value: tuple[float, float]) -> bytes:
    try:
        return XY.pack(*value)
    except (TypeError, struct.error) as exc:
        raise pgany.EncodeError(f"a point is an (x, y) pair of floats: {exc}") from exc


async def main(dsn: str) -> None:
    # For every connection made from now on (instead of pgany.types.Point).
    pgany.types.register_codec(
        "point", oid=POINT_OID, encode=encode_point, decode=decode_point, format="binary"
    )
    async with pgany.connect(dsn) as client:
        assert await client.query_value("SELECT point(1.5, 2)") == (1.5, 2.0)
        assert await client.query_value("SELECT ($1::point)[0]", (3.0, 4.0)) == 3.0


if __name__ == "__main__":
    import sys

    anyio.run(main, sys.argv[1] if len(sys.argv) > 1 else "")
