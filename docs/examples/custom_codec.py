"""register_codec: read and write a type your own way, everywhere or on one connection."""

import struct

import anyio

import pgany
import pgany.types

POINT_OID = 600  # pg_type.oid of point
XY = struct.Struct(">dd")  # point's binary form: x and y, big-endian float8


def decode_point(data: bytes | memoryview) -> tuple[float, float]:
    x, y = XY.unpack(data)
    return x, y


def decode_mac(data: bytes | memoryview) -> tuple[int, ...]:
    return tuple(int(part, 16) for part in bytes(data).split(b":"))


def encode_mac(value: tuple[int, ...]) -> bytes:
    if len(value) != 6 or not all(isinstance(b, int) and 0 <= b <= 255 for b in value):
        raise pgany.EncodeError("a macaddr is a tuple of six ints from 0 to 255")
    return ":".join(f"{b:02x}" for b in value).encode()


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

        # For this connection only, in the text format: macaddr as six ints.
        await client.register_codec("macaddr", encode=encode_mac, decode=decode_mac, format="text")
        mac = (8, 0, 0x2B, 1, 2, 3)
        assert await client.query_value("SELECT '08:00:2b:01:02:03'::macaddr") == mac
        assert await client.query_value("SELECT $1::macaddr::text", mac) == "08:00:2b:01:02:03"
        assert await client.query_value("SELECT ARRAY[$1::macaddr]", mac) == [mac]


if __name__ == "__main__":
    import sys

    anyio.run(main, sys.argv[1] if len(sys.argv) > 1 else "")
