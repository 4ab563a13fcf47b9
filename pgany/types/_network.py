"""Network addresses: inet, cidr, macaddr and macaddr8.

Binary formats (``src/backend/utils/adt/network.c``, ``mac.c``, ``mac8.c``):
inet and cidr are four bytes -- the family (2 for IPv4, 3 for IPv6, which
is ``PGSQL_AF_INET`` and ``PGSQL_AF_INET + 1``, not the platform's
``AF_INET6``), the netmask length in bits, an is-cidr flag (ignored on
receive: the type decides) and the address length (4 or 16) -- then the
address. macaddr is its 6 bytes, macaddr8 its 8.

inet reads as :func:`ipaddress.ip_interface` (``192.168.0.1/24``; a host
address is a ``/32`` or ``/128`` interface), cidr as
:func:`ipaddress.ip_network`. Parameters also take addresses, networks
(for inet) and ``str``. MAC addresses are ``str`` as PostgreSQL prints them
(``08:00:2b:01:02:03``); parameters take any form PostgreSQL accepts
(``:``, ``-`` or ``.`` separators, or none) or the raw ``bytes``. A 6-byte
address sent as macaddr8 becomes EUI-64 with ``ff:fe`` in the middle, as
``macaddr8_in`` does.
"""

from __future__ import annotations

import ipaddress
import re
import struct
from collections.abc import Callable
from typing import Any

from pgany.errors import DecodeError, EncodeError

from ._base import codec_pair, encode_str, registry, type_error
from ._registry import Codec

__all__ = ["CODECS"]

_PGSQL_AF_INET = 2
_PGSQL_AF_INET6 = 3

_head = struct.Struct(">BBBB")
_pack_head = _head.pack
_unpack_head: Callable[[Any], tuple[int, int, int, int]] = _head.unpack_from

IPInterface = ipaddress.IPv4Interface | ipaddress.IPv6Interface
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

_V4_INTERFACE = ipaddress.IPv4Interface
_V6_INTERFACE = ipaddress.IPv6Interface
_V4_NETWORK = ipaddress.IPv4Network
_V6_NETWORK = ipaddress.IPv6Network


# -- inet and cidr ----------------------------------------------------------------------------


def _as_interface(value: Any) -> IPInterface:
    if isinstance(value, (_V4_INTERFACE, _V6_INTERFACE)):
        return value
    if isinstance(value, (ipaddress.IPv4Address, ipaddress.IPv6Address)):
        return ipaddress.ip_interface(value)
    if isinstance(value, (_V4_NETWORK, _V6_NETWORK)):
        return ipaddress.ip_interface((value.network_address, value.prefixlen))
    if isinstance(value, str):
        try:
            return ipaddress.ip_interface(value)
        except ValueError as exc:
            raise EncodeError(f"cannot encode {value!r} as inet: {exc}") from exc
    raise type_error(value, "inet", "ipaddress.ip_interface, ip_address, ip_network or str")


def _as_network(value: Any) -> IPNetwork:
    if isinstance(value, (_V4_NETWORK, _V6_NETWORK)):
        return value
    if isinstance(value, (ipaddress.IPv4Address, ipaddress.IPv6Address)):
        return ipaddress.ip_network(value)
    if isinstance(value, (_V4_INTERFACE, _V6_INTERFACE, str)):
        try:
            # strict: a cidr may not have bits set right of its mask.
            return ipaddress.ip_network(str(value))
        except ValueError as exc:
            raise EncodeError(f"cannot encode {str(value)!r} as cidr: {exc}") from exc
    raise type_error(value, "cidr", "ipaddress.ip_network, ip_address or str")


def _pack_address(
    address: ipaddress.IPv4Address | ipaddress.IPv6Address, bits: int, cidr: int
) -> bytes:
    packed = address.packed
    family = _PGSQL_AF_INET if len(packed) == 4 else _PGSQL_AF_INET6
    return _pack_head(family, bits, cidr, len(packed)) + packed


def _encode_inet(value: Any) -> bytes:
    iface = _as_interface(value)
    return _pack_address(iface.ip, iface.network.prefixlen, 0)


def _encode_cidr(value: Any) -> bytes:
    network = _as_network(value)
    return _pack_address(network.network_address, network.prefixlen, 1)


def _unpack_inet(data: Any) -> tuple[int, int]:
    """(address as an int, its bit count 32 or 128) and checks; the prefix is data[1]."""
    family, bits, _cidr, size = _unpack_head(data)
    expected = 4 if family == _PGSQL_AF_INET else 16 if family == _PGSQL_AF_INET6 else -1
    if size != expected or len(data) != 4 + size or bits > size * 8:
        raise DecodeError(f"invalid inet/cidr value (family {family}, {bits} bits, {size} bytes)")
    return int.from_bytes(data[4:], "big"), size * 8


def _decode_inet(data: Any) -> IPInterface:
    address, maxbits = _unpack_inet(data)
    bits: int = data[1]
    if maxbits == 32:
        return _V4_INTERFACE((address, bits))
    return _V6_INTERFACE((address, bits))


def _decode_cidr(data: Any) -> IPNetwork:
    address, maxbits = _unpack_inet(data)
    bits: int = data[1]
    try:
        if maxbits == 32:
            return _V4_NETWORK((address, bits))
        return _V6_NETWORK((address, bits))
    except ValueError as exc:
        raise DecodeError(f"invalid cidr value: {exc}") from exc


def _encode_inet_text(value: Any) -> bytes:
    if isinstance(value, str):
        return encode_str(value, "inet")
    return str(_as_interface(value)).encode("ascii")


def _encode_cidr_text(value: Any) -> bytes:
    if isinstance(value, str):
        return encode_str(value, "cidr")
    return str(_as_network(value)).encode("ascii")


def _decode_inet_text(data: Any) -> IPInterface:
    try:
        return ipaddress.ip_interface(str(data, "ascii"))
    except ValueError as exc:
        raise DecodeError(f"cannot parse {bytes(data)!r} as inet: {exc}") from exc


def _decode_cidr_text(data: Any) -> IPNetwork:
    try:
        return ipaddress.ip_network(str(data, "ascii"))
    except ValueError as exc:
        raise DecodeError(f"cannot parse {bytes(data)!r} as cidr: {exc}") from exc


# -- macaddr and macaddr8 ---------------------------------------------------------------------

_MAC_SEPARATORS = re.compile(r"[:.\-]")
_HEX = re.compile(r"[0-9A-Fa-f]+")


def _mac_bytes(value: Any, name: str, size: int) -> bytes:
    if isinstance(value, (bytes, bytearray, memoryview)):
        raw = bytes(value)
    elif isinstance(value, str):
        digits = _MAC_SEPARATORS.sub("", value.strip())
        if not _HEX.fullmatch(digits) or len(digits) not in (12, 16):
            raise EncodeError(f"cannot encode {value!r} as {name}: not a MAC address")
        raw = bytes.fromhex(digits)
    else:
        raise type_error(value, name, "str or bytes")
    if len(raw) == 6 and size == 8:
        raw = raw[:3] + b"\xff\xfe" + raw[3:]
    if len(raw) != size:
        raise EncodeError(f"cannot encode a {len(raw)}-byte address as {name} ({size} bytes)")
    return raw


def _mac_codecs(oid: int, name: str, array_oid: int, size: int) -> list[Codec]:
    def encode(value: Any) -> bytes:
        return _mac_bytes(value, name, size)

    def decode(data: Any) -> str:
        if len(data) != size:
            raise DecodeError(f"{name} is {size} bytes, not {len(data)}")
        return bytes(data).hex(":")

    def encode_text(value: Any) -> bytes:
        if isinstance(value, str):
            return encode_str(value, name)
        return _mac_bytes(value, name, size).hex(":").encode("ascii")

    def decode_text(data: Any) -> str:
        return str(data, "ascii")

    return codec_pair(oid, name, array_oid, (encode, decode), (encode_text, decode_text))


CODECS: list[Codec] = [
    *codec_pair(
        869, "inet", 1041, (_encode_inet, _decode_inet), (_encode_inet_text, _decode_inet_text)
    ),
    *codec_pair(
        650, "cidr", 651, (_encode_cidr, _decode_cidr), (_encode_cidr_text, _decode_cidr_text)
    ),
    *_mac_codecs(829, "macaddr", 1040, 6),
    *_mac_codecs(774, "macaddr8", 775, 8),
]

for _codec in CODECS:
    registry.register(_codec)
