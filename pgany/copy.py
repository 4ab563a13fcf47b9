"""COPY FROM STDIN and COPY TO STDOUT, in text and binary.

``async with client.copy_in("COPY t FROM STDIN") as sink: await sink.write(...)``
sends data; ``async with client.copy_out("COPY t TO STDOUT") as source:
async for chunk in source`` receives it. A COPY holds the connection alone:
requests from other tasks queue behind it and then run.

:class:`BinaryCopyInWriter` and :class:`BinaryCopyOutReader` speak COPY's
binary format with pgany's binary codecs.
"""

from __future__ import annotations

import re
import struct
from collections.abc import AsyncIterable, Iterable, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar

import anyio

from pgany._session import END_TIMEOUT as END_TIMEOUT  # (seconds an aborted COPY may take to end)
from pgany.errors import ConnectionClosed, DecodeError, EncodeError, Error, InterfaceError
from pgany.protocol import CopyDirection, Request
from pgany.protocol import frontend as fe

if TYPE_CHECKING:
    from pgany._session import Session
    from pgany.types import Codec

__all__ = [
    "BinaryCopyInWriter",
    "BinaryCopyOutReader",
    "CopyIn",
    "CopyInContext",
    "CopyOut",
    "CopyOutContext",
]

#: Small writes are gathered into CopyData messages of about this size.
CHUNK_SIZE = 64 * 1024
#: What a COPY context gives on entering (CopyIn or CopyOut).
_End = TypeVar("_End")

_I16 = struct.Struct("!h")
_I32 = struct.Struct("!i")

#: The signature, flags and header-extension length that open binary COPY data.
BINARY_HEADER = b"PGCOPY\n\xff\r\n\x00" + b"\x00\x00\x00\x00" + b"\x00\x00\x00\x00"
BINARY_TRAILER = b"\xff\xff"


class CopyIn:
    """The sink of ``COPY ... FROM STDIN``: ``await sink.write(data)``.

    Small writes are gathered into CopyData messages of about 64 KiB; a
    large write goes out as it is. Leaving the block normally finishes the
    :class:`BinaryCopyInWriter` objects writing to it, then ends the COPY.
    After the block, :attr:`rows_copied` holds the server's count.
    """

    __module__ = "pgany.copy"
    __slots__ = ("_buf", "_req", "_session", "_writers", "rows_copied")

    def __init__(self, session: Session, req: Request) -> None:
        self._session = session
        self._req = req
        self._buf = bytearray()
        # The binary writers on this sink, finished when the block ends normally.
        self._writers: list[BinaryCopyInWriter] = []
        #: Rows the server copied (set after a successful exit from the block).
        self.rows_copied: int | None = None

    def _check(self) -> None:
        if self.rows_copied is not None:
            raise InterfaceError("this COPY is finished")
        if not self._session.copying_in(self._req):
            # The server ended the COPY (an error in the data) or the connection went.
            raise _Aborted

    async def write(self, data: bytes | bytearray | memoryview | str) -> None:
        """Send *data* (bytes, or str encoded as UTF-8) as COPY data."""
        if isinstance(data, str):
            data = data.encode("utf-8")
        elif not isinstance(data, (bytes, bytearray, memoryview)):
            raise InterfaceError(f"COPY data must be bytes or str, not {type(data).__name__}")
        await anyio.lowlevel.checkpoint_if_cancelled()  # (cancelled: nothing is sent)
        try:
            self._check()
        except _Aborted:
            await self._raise_server_error()
        buf = self._buf
        n = len(data)
        if n >= CHUNK_SIZE:
            if buf:
                self._send(buf)
                buf.clear()
            self._send(data)
        else:
            buf += data
            if len(buf) >= CHUNK_SIZE:
                self._send(buf)
                buf.clear()
        await self._session.wait_copy_flushed()
        await anyio.lowlevel.checkpoint()

    async def write_all(self, chunks: Iterable[Any] | AsyncIterable[Any]) -> None:
        """Write every chunk of a sync or async iterable."""
        if isinstance(chunks, AsyncIterable):
            async for chunk in chunks:
                await self.write(chunk)
        else:
            for chunk in chunks:
                await self.write(chunk)

    def _send(self, data: bytes | bytearray | memoryview) -> None:
        self._session.send_copy_data(data)

    async def _raise_server_error(self) -> None:
        req = self._req
        await self._session.settle(req)
        if req.error is not None:
            self._session.raise_for(req)
        raise ConnectionClosed("the COPY ended before its data was sent")

    async def _finish_writers(self) -> None:
        """Send what the binary writers on this sink hold, and their trailers."""
        for writer in self._writers:
            await writer.finish()

    async def _finish(self) -> None:
        req = self._req
        session = self._session
        if session.copying_in(req):
            if self._buf:
                self._send(self._buf)
                self._buf.clear()
            session.end_copy(req, fe.COPY_DONE)
        # CopyDone is sent: the outcome is awaited shielded (bounded), so a
        # COPY that took effect is never reported as cancelled.
        await session.settle(req)
        session.raise_for(req)
        result = req.results[-1] if req.results else None
        self.rows_copied = result.rows_affected if result is not None else 0

    async def _abort(self, message: str) -> None:
        req = self._req
        session = self._session
        session.end_copy(req, fe.encode_copy_fail(message[:1000]))
        await session.settle(req)
        req.error = None  # the server's "COPY from stdin failed" is our own doing


class _Aborted(Exception):
    pass


class _CopyContext(Generic[_End]):
    """What CopyInContext and CopyOutContext share: start the COPY on entering."""

    __slots__ = ("_end", "_holder", "_session", "_sql")
    _direction: ClassVar[CopyDirection]

    def __init__(self, session: Session, sql: str, holder: object | None) -> None:
        self._session = session
        self._sql = sql
        self._holder = holder
        self._end: _End | None = None

    async def __aenter__(self) -> _End:
        req = await self._session.start_copy(self._sql, self._direction, self._holder)
        end = self._end = self._wrap(req)
        return end

    def _wrap(self, req: Request) -> _End:
        raise NotImplementedError


class CopyInContext(_CopyContext["CopyIn"]):
    """The async context manager :meth:`Client.copy_in` returns."""

    __module__ = "pgany.copy"
    __slots__ = ()
    _direction = CopyDirection.IN

    def _wrap(self, req: Request) -> CopyIn:
        return CopyIn(self._session, req)

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool:
        sink = self._end
        assert sink is not None
        if exc is None:
            try:
                # A cancelled block sends no CopyDone: the COPY is aborted instead.
                await anyio.lowlevel.checkpoint_if_cancelled()
                await sink._finish_writers()
            except BaseException as error:
                await _abandon(sink, error)
                raise
            await sink._finish()
        else:
            await _abandon(sink, exc)
        return False


async def _abandon(sink: CopyIn, exc: BaseException) -> None:
    """End the COPY of a block left by *exc*: nothing it sent is copied."""
    if isinstance(exc, Error) and sink._req.done:
        return  # the server already ended the COPY (its error is what is raised)
    reason = "cancelled" if isinstance(exc, anyio.get_cancelled_exc_class()) else repr(exc)
    await sink._abort(f"aborted by the client: {reason}")


class CopyOut:
    """The source of ``COPY ... TO STDOUT``: ``async for chunk in source`` gives ``bytes``.

    Chunks are whatever has arrived, joined (at least one whole COPY row).
    A slow consumer holds the connection, not memory: the connection task
    stops reading when about 1 MiB waits. After the last chunk,
    :attr:`rows_copied` holds the server's count.
    """

    __module__ = "pgany.copy"
    __slots__ = ("_req", "_session", "rows_copied")

    def __init__(self, session: Session, req: Request) -> None:
        self._session = session
        self._req = req
        #: Rows the server copied (set once every chunk has been read).
        self.rows_copied: int | None = None

    def __aiter__(self) -> CopyOut:
        return self

    async def __anext__(self) -> bytes:
        req = self._req
        session = self._session
        while True:
            data = req.copy_data
            if data:
                chunk = data[0] if len(data) == 1 else b"".join(data)
                data.clear()
                req.copy_bytes = 0
                session.copy_consumed()
                await anyio.lowlevel.checkpoint()
                return chunk
            if req.done:
                session.raise_for(req)
                result = req.results[-1] if req.results else None
                self.rows_copied = result.rows_affected if result is not None else 0
                raise StopAsyncIteration
            try:
                await session.wait_copy(req)
            except BaseException:
                self._stop()
                raise

    def _stop(self) -> None:
        req = self._req
        req.discard = True
        if req.copy_data:
            req.copy_data.clear()
        req.copy_bytes = 0
        self._session.copy_consumed()
        self._session.abandon(req)

    async def read_all(self) -> bytes:
        """Every remaining chunk, joined."""
        return b"".join([chunk async for chunk in self])


class CopyOutContext(_CopyContext["CopyOut"]):
    """The async context manager :meth:`Client.copy_out` returns."""

    __module__ = "pgany.copy"
    __slots__ = ()
    _direction = CopyDirection.OUT

    def _wrap(self, req: Request) -> CopyOut:
        return CopyOut(self._session, req)

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool:
        source = self._end
        assert source is not None
        req = source._req
        if not req.done:
            # Stopped early: discard the rest (and ask the server to stop), bounded.
            source._stop()
            await self._session.settle(req)
            req.error = None
        elif exc_type is None and req.error is not None:
            self._session.raise_for(req)
        if exc_type is None:
            await anyio.lowlevel.checkpoint()  # (stopped either way; then a cancellation shows)
        return False


# -- the binary format ------------------------------------------------------------------


class BinaryCopyInWriter:
    """Writes rows in COPY's binary format to a :class:`CopyIn` sink.

    ``types`` gives each column's type, by name (``"int8"``) or OID, and
    picks its binary codec (a codec registered in the binary format for the
    type on the connection, else pgany's own). Use with ``COPY t (cols) FROM
    STDIN (FORMAT binary)``::

        async with client.copy_in("COPY t FROM STDIN (FORMAT binary)") as sink:
            writer = BinaryCopyInWriter(sink, ["int8", "text"])
            await writer.write_row([1, "a"])

    Leaving the block normally finishes the writer (its buffered rows and
    the trailer are sent before the COPY ends); an exception aborts the COPY
    and nothing is copied. :meth:`finish` does the same earlier.
    """

    __module__ = "pgany.copy"
    __slots__ = (
        "_buf",
        "_count",
        "_encoders",
        "_fields",
        "_finished",
        "_names",
        "_ncols",
        "_sink",
        "rows",
    )

    def __init__(self, sink: CopyIn, types: Sequence[int | str]) -> None:
        from pgany._paramcodec import make_values_encoder

        self._sink = sink
        codecs = [_binary_codec(sink._session, t, "encode") for t in types]
        self._encoders = [c.encode for c in codecs]
        self._names = [c.name for c in codecs]
        self._ncols = len(codecs)
        self._count = _I16.pack(self._ncols)
        self._fields = make_values_encoder([c.oid for c in codecs], codecs, self._encode_slow)
        self._buf = bytearray(BINARY_HEADER)
        self._finished = False
        #: Rows written so far.
        self.rows = 0
        sink._writers.append(self)

    def encode_row(self, values: Sequence[Any]) -> None:
        """Encode one row into the buffer (no I/O)."""
        if type(values) is not tuple and type(values) is not list:
            _check_row(values)
        if len(values) != self._ncols:
            raise EncodeError(
                f"the row has {len(values)} values, the COPY has {self._ncols} columns"
            )
        buf = self._buf
        buf += self._count
        buf += self._fields(values)
        self.rows += 1

    def _encode_slow(self, values: Sequence[Any]) -> bytes:
        parts: list[bytes | bytearray] = []
        for i, (value, encode) in enumerate(zip(values, self._encoders, strict=True)):
            if value is None:
                parts.append(b"\xff\xff\xff\xff")
                continue
            data = _encode_column(encode, value, i, self._names[i])
            parts.append(_I32.pack(len(data)))
            parts.append(data)
        return b"".join(parts)

    async def write_row(self, values: Sequence[Any]) -> None:
        """Write one row (a sequence of values, ``None`` for NULL)."""
        if self._finished:
            raise InterfaceError("the writer is finished")
        await anyio.lowlevel.checkpoint_if_cancelled()  # (cancelled: the row is not taken)
        self.encode_row(values)
        if len(self._buf) >= CHUNK_SIZE:
            await self._flush()
        else:
            await anyio.lowlevel.checkpoint()

    async def write_rows(
        self, rows: Iterable[Sequence[Any]] | AsyncIterable[Sequence[Any]]
    ) -> None:
        """Write every row of a sync or async iterable."""
        await anyio.lowlevel.checkpoint_if_cancelled()
        if isinstance(rows, AsyncIterable):
            async for row in rows:
                await self.write_row(row)
        else:
            ncols, count, fields, buf = self._ncols, self._count, self._fields, self._buf
            n = 0
            for row in rows:
                if type(row) is not tuple and type(row) is not list:
                    _check_row(row)
                if len(row) != ncols:
                    raise EncodeError(
                        f"the row has {len(row)} values, the COPY has {ncols} columns"
                    )
                buf += count
                buf += fields(row)
                n += 1
                if len(buf) >= CHUNK_SIZE:
                    self.rows += n
                    n = 0
                    await self._flush()
            self.rows += n
            await anyio.lowlevel.checkpoint()

    async def _flush(self) -> None:
        buf = self._buf
        if buf:
            data = bytes(buf)
            buf.clear()
            await self._sink.write(data)

    async def finish(self) -> None:
        """Write what is buffered and the trailer; no row may follow.

        Leaving the ``copy_in`` block normally does it; calling it again does nothing.
        """
        if self._finished:
            await anyio.lowlevel.checkpoint()
            return
        await anyio.lowlevel.checkpoint_if_cancelled()  # (cancelled: the writer stays open)
        self._finished = True
        self._buf += BINARY_TRAILER
        await self._flush()


class BinaryCopyOutReader:
    """Reads rows from binary COPY data: ``async for row in BinaryCopyOutReader(source, types)``.

    *source* is a :class:`CopyOut` (or any async iterable of bytes); rows
    come back as tuples decoded with pgany's binary codecs.
    """

    __module__ = "pgany.copy"
    __slots__ = ("_buf", "_decoders", "_done", "_header", "_it", "_names", "_pos", "_source")

    def __init__(self, source: CopyOut | AsyncIterable[bytes], types: Sequence[int | str]) -> None:
        self._source = source
        session = source._session if isinstance(source, CopyOut) else None
        codecs = [_binary_codec(session, t, "decode") for t in types]
        self._decoders = [c.decode for c in codecs]
        self._names = [c.name for c in codecs]
        self._buf = bytearray()
        self._pos = 0
        self._header = False
        self._done = False
        self._it: Any = None

    def __aiter__(self) -> BinaryCopyOutReader:
        return self

    async def _fill(self, need: int) -> bool:
        """Make at least *need* unread bytes available; False at the end of the data."""
        while len(self._buf) - self._pos < need:
            if self._it is None:
                self._it = self._source.__aiter__()
            try:
                chunk = await self._it.__anext__()
            except StopAsyncIteration:
                return False
            if self._pos:
                del self._buf[: self._pos]
                self._pos = 0
            self._buf += chunk
        return True

    async def __anext__(self) -> tuple[Any, ...]:
        if self._done:
            raise StopAsyncIteration
        if not self._header:
            if not await self._fill(19):
                raise DecodeError("binary COPY data is truncated: no header")
            if bytes(self._buf[self._pos : self._pos + 11]) != BINARY_HEADER[:11]:
                raise DecodeError("binary COPY data has a bad signature")
            flags = _I32.unpack_from(self._buf, self._pos + 11)[0]
            if flags & 0x10000:
                raise DecodeError("binary COPY data with OIDs is not supported")
            ext = _I32.unpack_from(self._buf, self._pos + 15)[0]
            if ext < 0:
                raise DecodeError("binary COPY data has a bad header extension length")
            self._pos += 19
            if not await self._fill(ext):
                raise DecodeError("binary COPY data is truncated in its header extension")
            self._pos += ext
            self._header = True
        if not await self._fill(2):
            raise DecodeError("binary COPY data is truncated: no trailer")
        n = _I16.unpack_from(self._buf, self._pos)[0]
        self._pos += 2
        if n == -1:
            self._done = True
            raise StopAsyncIteration
        if n != len(self._decoders):
            raise DecodeError(
                f"binary COPY row has {n} fields, the reader expects {len(self._decoders)}"
            )
        values: list[Any] = []
        for i, decode in enumerate(self._decoders):
            if not await self._fill(4):
                raise DecodeError("binary COPY data is truncated in a row")
            length = _I32.unpack_from(self._buf, self._pos)[0]
            self._pos += 4
            if length == -1:
                values.append(None)
                continue
            if not await self._fill(length):
                raise DecodeError("binary COPY data is truncated in a field")
            raw = bytes(self._buf[self._pos : self._pos + length])
            self._pos += length
            try:
                values.append(decode(raw))  # type: ignore[misc]
            except DecodeError:
                raise
            except Exception as exc:
                raise DecodeError(f"cannot decode field {i + 1} ({self._names[i]}): {exc}") from exc
        return tuple(values)


def _encode_column(encode: Any, value: Any, i: int, name: str) -> bytes | bytearray:
    """One COPY field through its codec; a failure names the column and its type."""
    try:
        data: bytes | bytearray = encode(value)
    except EncodeError as exc:
        raise EncodeError(f"column {i + 1} ({name}): {exc}") from exc
    except Exception as exc:
        raise EncodeError(
            f"cannot encode column {i + 1} as {name} from Python {type(value).__name__}: {exc}"
        ) from exc
    return data


def _check_row(row: object) -> None:
    if isinstance(row, (str, bytes, bytearray, memoryview)) or not isinstance(row, Sequence):
        raise EncodeError(
            f"each row must be a sequence of values (a tuple or list), not {type(row).__name__}"
        )


def _binary_codec(session: Session | None, t: int | str, direction: str) -> Codec:
    from pgany.types import Format
    from pgany.types import registry as global_registry

    registry = session.registry if session is not None else global_registry
    oid = (
        t
        if isinstance(t, int)
        else (session.resolve_type(t) if session is not None else registry.oid_of(t))
    )
    if oid is None:
        raise InterfaceError(f"unknown type {t!r}")
    codec = registry.get(oid, Format.BINARY)
    if codec is None or getattr(codec, direction) is None:
        text = registry.get(oid, Format.TEXT)
        if text is not None and getattr(text, direction) is not None:
            raise InterfaceError(
                f"type {t!r} is converted in the text format "
                "here (a text codec is registered for it): binary COPY needs a binary codec"
            )
        raise InterfaceError(f"pgany has no binary codec for type {t!r}")
    return codec


async def write_text_rows(
    sink: CopyIn,
    codecs: Sequence[Codec],
    rows: Iterable[Sequence[Any]] | AsyncIterable[Sequence[Any]],
) -> None:
    """Write *rows* in COPY's text format, each value through its codec.

    Values are tab-separated, rows end with a newline and NULL is ``\\N``; a
    codec's text is escaped as ``COPY ... FROM STDIN`` reads it back. A
    binary codec's bytes are not text: every codec must be a text one.
    """
    encoders = [c.encode for c in codecs]
    names = [c.name for c in codecs]
    ncols = len(encoders)

    def encode_row(row: Sequence[Any]) -> bytes:
        if type(row) is not tuple and type(row) is not list:
            _check_row(row)
        if len(row) != ncols:
            raise EncodeError(f"the row has {len(row)} values, the COPY has {ncols} columns")
        fields = []
        for i, (value, encode) in enumerate(zip(row, encoders, strict=True)):
            if value is None:
                fields.append(b"\\N")
                continue
            data = bytes(_encode_column(encode, value, i, names[i]))
            fields.append(_TEXT_SPECIAL.sub(_text_escape, data))
        return b"\t".join(fields) + b"\n"

    if isinstance(rows, AsyncIterable):
        async for row in rows:
            await sink.write(encode_row(row))
    else:
        for row in rows:
            await sink.write(encode_row(row))


#: What COPY's text format escapes in a value, and how.
_TEXT_SPECIAL = re.compile(rb"[\\\t\n\r]")
_TEXT_ESCAPES = {b"\\": b"\\\\", b"\t": b"\\t", b"\n": b"\\n", b"\r": b"\\r"}


def _text_escape(match: re.Match[bytes]) -> bytes:
    return _TEXT_ESCAPES[match.group()]
