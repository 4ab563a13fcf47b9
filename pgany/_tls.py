"""TLS for PostgreSQL connections, with libpq's rules.

- The root certificate is ``sslrootcert``, else ``~/.postgresql/root.crt``;
  ``sslrootcert=system`` loads the system's trusted CAs. When a root
  certificate file exists, the server's chain is checked whatever the
  ``sslmode`` (so ``require`` then behaves like ``verify-ca``, as in libpq);
  without one, only ``verify-ca`` and ``verify-full`` fail.
- CRLs: ``sslcrl`` (else ``~/.postgresql/root.crl``) and ``sslcrldir`` are
  loaded if present; then every certificate of the chain is checked.
- ``verify-full`` also checks the host name (``host``, never ``hostaddr``)
  with libpq's own rules: Subject Alternative Names of the host's type (DNS
  name or IP address), else the Common Name; ``*.`` matches one label.
- The client certificate is ``sslcert``, else ``~/.postgresql/postgresql.crt``
  if it exists, with ``sslkey`` (else ``~/.postgresql/postgresql.key``),
  decrypted with ``sslpassword``. The key file must not be readable by group
  or others (0640 is allowed for a key owned by root), as libpq demands.
- TLS 1.2 at least unless ``ssl_min_protocol_version`` says otherwise; ALPN
  ``postgresql`` is offered (``sslnegotiation=direct`` requires it).
"""

from __future__ import annotations

import hashlib
import ipaddress
import os
import ssl
import stat
from typing import Any

from pgany.config import Config
from pgany.errors import ConnectError

__all__ = [
    "ALPN_PROTOCOL",
    "check_host_name",
    "end_point_hash",
    "make_ssl_context",
    "verifies_chain",
]

#: The ALPN protocol name of PostgreSQL (required by direct TLS negotiation).
ALPN_PROTOCOL = "postgresql"

_TLS_VERSIONS = {
    "TLSv1": ssl.TLSVersion.TLSv1,
    "TLSv1.1": ssl.TLSVersion.TLSv1_1,
    "TLSv1.2": ssl.TLSVersion.TLSv1_2,
    "TLSv1.3": ssl.TLSVersion.TLSv1_3,
}


def _user_file(name: str) -> str | None:
    home = os.environ.get("HOME") or os.path.expanduser("~")
    if not home or home == "~":
        return None
    return os.path.join(home, ".postgresql", name)


def _exists(path: str | None) -> bool:
    if not path:
        return False
    try:
        os.stat(path)
    except FileNotFoundError:
        return False
    except NotADirectoryError:
        return False
    return True


def root_cert_path(config: Config) -> str | None:
    """The root certificate file libpq would use (``None`` if there is none, or ``system``)."""
    if config.sslrootcert == "system":
        return None
    return config.sslrootcert or _user_file("root.crt")


def verifies_chain(config: Config) -> bool:
    """Whether the server's certificate chain is checked (a root certificate is at hand)."""
    return config.sslrootcert == "system" or _exists(root_cert_path(config))


def make_ssl_context(config: Config) -> ssl.SSLContext:
    """The client TLS context for *config*, as libpq's initialize_SSL builds it.

    Raises :exc:`~pgany.ConnectError` when a file it needs is missing or
    unreadable (the message names the file, never a password).
    """
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False  # pgany checks the name itself, with libpq's rules
    ctx.minimum_version = _TLS_VERSIONS[config.ssl_min_protocol_version or "TLSv1.2"]
    if config.ssl_max_protocol_version:
        ctx.maximum_version = _TLS_VERSIONS[config.ssl_max_protocol_version]
    ctx.set_alpn_protocols([ALPN_PROTOCOL])
    _load_roots(ctx, config)
    if config.sslcertmode != "disable":
        _load_client_certificate(ctx, config)
    if config.sslkeylogfile:
        ctx.keylog_filename = config.sslkeylogfile
    return ctx


def _load_roots(ctx: ssl.SSLContext, config: Config) -> None:
    if config.sslrootcert == "system":
        ctx.verify_mode = ssl.CERT_REQUIRED
        ctx.load_default_certs(ssl.Purpose.SERVER_AUTH)
        return
    root = root_cert_path(config)
    if not _exists(root):
        if config.sslmode in ("verify-ca", "verify-full"):
            raise ConnectError(
                f'root certificate file "{root}" does not exist; either provide the file, '
                "use the system's trusted roots with sslrootcert=system, or change sslmode "
                "to disable server certificate verification"
            )
        ctx.verify_mode = ssl.CERT_NONE
        return
    assert root is not None
    try:
        ctx.load_verify_locations(cafile=root)
    except (OSError, ssl.SSLError) as exc:
        raise ConnectError(
            f'could not read root certificate file "{root}": {_reason(exc)}'
        ) from None
    ctx.verify_mode = ssl.CERT_REQUIRED
    crl = config.sslcrl or (None if config.sslcrldir else _user_file("root.crl"))
    loaded = False
    for kwargs in ({"cafile": crl}, {"capath": config.sslcrldir}):
        target = next(iter(kwargs.values()))
        if target and _exists(target):
            try:
                ctx.load_verify_locations(**kwargs)
                loaded = True
            except (OSError, ssl.SSLError):
                pass  # libpq: a CRL that can't be loaded is ignored
    if loaded:
        ctx.verify_flags |= ssl.VERIFY_CRL_CHECK_CHAIN


def _load_client_certificate(ctx: ssl.SSLContext, config: Config) -> None:
    cert = config.sslcert or _user_file("postgresql.crt")
    if not cert or not _exists(cert):
        return  # libpq goes on without a client certificate
    key = config.sslkey or _user_file("postgresql.key")
    if not key or not _exists(key):
        raise ConnectError(f'certificate present, but not private key file "{key}"')
    _check_key_file(key)
    password = (config.sslpassword or "").encode("utf-8")
    try:
        # A callable, so that OpenSSL never prompts on the terminal for a passphrase.
        ctx.load_cert_chain(cert, key, password=lambda: password)
    except ssl.SSLError as exc:
        raise ConnectError(
            f'could not load the client certificate "{cert}" with private key "{key}": '
            f"{_reason(exc)}" + ("" if config.sslpassword else " (is the key encrypted?)")
        ) from None
    except OSError as exc:
        raise ConnectError(
            f'could not read the client certificate "{cert}" or key "{key}": {_reason(exc)}'
        ) from None


def _check_key_file(path: str) -> None:
    """libpq refuses a private key others may read (root-owned keys may be 0640)."""
    try:
        st = os.stat(path)
    except OSError as exc:
        raise ConnectError(f'could not access private key file "{path}": {_reason(exc)}') from None
    if not stat.S_ISREG(st.st_mode):
        raise ConnectError(f'private key file "{path}" is not a regular file')
    if os.name != "posix":
        return
    if st.st_uid == 0:
        bad = st.st_mode & (stat.S_IWGRP | stat.S_IXGRP | stat.S_IRWXO)
    else:
        bad = st.st_mode & (stat.S_IRWXG | stat.S_IRWXO)
    if bad:
        raise ConnectError(
            f'private key file "{path}" has group or world access; file must have '
            "permissions u=rw (0600) or less if owned by the current user, or permissions "
            "u=rw,g=r (0640) or less if owned by root"
        )


def _reason(exc: BaseException) -> str:
    if isinstance(exc, ssl.SSLError):
        return exc.reason or exc.strerror or str(exc)
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc)


# -- host names --------------------------------------------------------------------------


def _wildcard_match(pattern: str, name: str) -> bool:
    """libpq's wildcard_certificate_match: ``*.example.com`` matches exactly one more label."""
    if len(pattern) < 3 or not pattern.startswith("*."):
        return False
    if len(pattern) > len(name):
        return False
    suffix = pattern[1:]
    if not name.lower().endswith(suffix.lower()):
        return False
    return "." not in name[: len(name) - len(suffix)]


def _name_matches(cert_name: str, host: str) -> bool:
    if "\0" in cert_name:
        return False
    return cert_name.lower() == host.lower() or _wildcard_match(cert_name, host)


def _parse_ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text.strip())
    except ValueError:
        return None


def check_host_name(cert: dict[str, Any], host: str) -> None:
    """Raise :exc:`~pgany.ConnectError` unless the certificate *cert* names *host*.

    *cert* is :meth:`ssl.SSLSocket.getpeercert`'s dictionary. libpq's rules:
    Subject Alternative Names first, both DNS names and IP addresses; the
    Common Name only when there is no SAN of the host's type.
    """
    host_ip = _parse_ip(host)
    names: list[str] = []
    check_cn = True
    for kind, value in cert.get("subjectAltName", ()):
        if kind == "DNS":
            names.append(value)
            if _name_matches(value, host):
                return
            if host_ip is None:
                check_cn = False
        elif kind == "IP Address":
            names.append(value.strip())
            if host_ip is not None and _parse_ip(value) == host_ip:
                return
            if host_ip is not None:
                check_cn = False
    if check_cn:
        for rdn in cert.get("subject", ()):
            for key, value in rdn:
                if key == "commonName":
                    names.append(value)
                    if _name_matches(value, host):
                        return
    if not names:
        raise ConnectError("could not get server's host name from server certificate")
    others = len(names) - 1
    extra = f" (and {others} other name{'s' if others > 1 else ''})" if others else ""
    raise ConnectError(
        f'server certificate for "{names[0]}"{extra} does not match host name "{host}"'
    )


# -- channel binding ----------------------------------------------------------------------

# Signature algorithm OIDs (DER-encoded contents) and the hash each signs with.
_SIGNATURE_HASHES = {
    bytes.fromhex("2a864886f70d010104"): "md5",  # md5WithRSAEncryption
    bytes.fromhex("2a864886f70d010105"): "sha1",  # sha1WithRSAEncryption
    bytes.fromhex("2a864886f70d01010e"): "sha224",
    bytes.fromhex("2a864886f70d01010b"): "sha256",
    bytes.fromhex("2a864886f70d01010c"): "sha384",
    bytes.fromhex("2a864886f70d01010d"): "sha512",
    bytes.fromhex("2a8648ce3d040301"): "sha224",  # ecdsa-with-SHA224
    bytes.fromhex("2a8648ce3d040302"): "sha256",
    bytes.fromhex("2a8648ce3d040303"): "sha384",
    bytes.fromhex("2a8648ce3d040304"): "sha512",
    bytes.fromhex("2a8648ce380403"): "sha1",  # dsa-with-sha1
    bytes.fromhex("608648016503040302"): "sha256",  # dsa-with-sha256
}


def _der_element(data: bytes, pos: int) -> tuple[int, int, int]:
    """(tag, start of contents, end of contents) of the DER element at *pos*."""
    tag = data[pos]
    length = data[pos + 1]
    pos += 2
    if length & 0x80:
        count = length & 0x7F
        length = int.from_bytes(data[pos : pos + count], "big")
        pos += count
    if pos + length > len(data):
        raise ValueError("truncated DER element")
    return tag, pos, pos + length


def signature_hash(der: bytes) -> str | None:
    """The hash of the certificate's signature algorithm (``None`` if unknown, e.g. Ed25519)."""
    try:
        _, start, _ = _der_element(der, 0)  # Certificate ::= SEQUENCE {
        _, _, tbs_end = _der_element(der, start)  # tbsCertificate,
        _, alg_start, _ = _der_element(der, tbs_end)  # signatureAlgorithm SEQUENCE {
        tag, oid_start, oid_end = _der_element(der, alg_start)  # algorithm OID
    except (IndexError, ValueError):
        return None
    if tag != 0x06:
        return None
    return _SIGNATURE_HASHES.get(der[oid_start:oid_end])


def end_point_hash(der: bytes) -> bytes | None:
    """The ``tls-server-end-point`` channel-binding data of a DER certificate (RFC 5929).

    The certificate is hashed with its signature's hash function, SHA-256
    for MD5 and SHA-1; ``None`` when that function is unknown.
    """
    algo = signature_hash(der)
    if algo is None:
        return None
    if algo in ("md5", "sha1"):
        algo = "sha256"
    return hashlib.new(algo, der).digest()
