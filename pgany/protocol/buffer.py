"""The receive buffer: framing of backend messages at linear cost.

Bytes are appended to one ``bytearray``; a read offset moves forward as
messages are taken, and the consumed prefix is dropped once per
:meth:`ReceiveBuffer.feed` (never per message, which would be quadratic).
"""

from __future__ import annotations

from pgany.errors import ProtocolError

__all__ = ["DEFAULT_MAX_MESSAGE_SIZE", "ReceiveBuffer"]

#: Largest message length accepted by default: a field may be up to 1 GiB in
#: PostgreSQL, plus some room for the rest of a row.
DEFAULT_MAX_MESSAGE_SIZE = (1 << 30) + (1 << 20)


class ReceiveBuffer:
    """Bytes received from the server and not yet taken as messages."""

    __slots__ = ("_data", "_pos", "max_message_size")

    def __init__(self, max_message_size: int = DEFAULT_MAX_MESSAGE_SIZE) -> None:
        self._data = bytearray()
        self._pos = 0
        #: A declared message length above this is a :class:`~pgany.ProtocolError`.
        self.max_message_size = max_message_size

    def __len__(self) -> int:
        return len(self._data) - self._pos

    def feed(self, data: bytes | bytearray | memoryview) -> None:
        """Append *data*, first dropping what has been consumed."""
        pos = self._pos
        if pos:
            buf = self._data
            if pos == len(buf):
                try:
                    buf.clear()
                except BufferError:  # a view of the old bytes is still alive somewhere
                    self._data = bytearray()
            else:
                try:
                    del buf[:pos]
                except BufferError:
                    self._data = buf[pos:]
            self._pos = 0
        try:
            self._data += data
        except BufferError:  # nothing was consumed, and a view of the bytes is alive
            self._data = self._data + data

    @property
    def data(self) -> bytearray:
        """The underlying buffer (read-only use: pair with :attr:`pos`)."""
        return self._data

    @property
    def pos(self) -> int:
        """Offset of the first unconsumed byte in :attr:`data`."""
        return self._pos

    def next_frame(self) -> tuple[int, int, int] | None:
        """Take the next complete message, or return ``None`` if it hasn't all arrived.

        Returns ``(type_byte, body_start, body_end)`` as offsets into :attr:`data`;
        they stay valid until the next :meth:`feed`.
        """
        buf = self._data
        pos = self._pos
        avail = len(buf) - pos
        if avail < 5:
            return None
        length = int.from_bytes(buf[pos + 1 : pos + 5], "big")
        if length < 4 or length > self.max_message_size:
            kind = chr(buf[pos])
            raise ProtocolError(
                f"message {kind!r} declares an invalid length {length} "
                f"(limit {self.max_message_size})"
            )
        end = pos + 1 + length
        if end > len(buf):
            return None
        self._pos = end
        return buf[pos], pos + 5, end

    def advance(self, pos: int) -> None:
        """Mark everything before offset *pos* of :attr:`data` as consumed."""
        if not self._pos <= pos <= len(self._data):
            raise ValueError(f"cannot advance from {self._pos} to {pos}")
        self._pos = pos

    def take_bytes(self, n: int) -> bytes | None:
        """Take exactly *n* raw bytes (for the one-byte SSLRequest answer), or ``None``."""
        if len(self) < n:
            return None
        out = bytes(self._data[self._pos : self._pos + n])
        self._pos += n
        return out
