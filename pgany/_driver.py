"""The connection task: the only code that does I/O on an established session.

One :class:`Driver` per connection. Its :meth:`Driver.run` runs inside a task
group the user can see (``pgany.connect`` or the user's own, through
``pgany.run_connection``) and runs two loops: the reader reads the socket in
large chunks, feeds the protocol core and resolves each finished request's
waiter; the writer sends whatever the core has queued, in one send per
wake-up, so requests issued while the socket is busy are coalesced. The
writer task starts on first use: a lone request is written by its caller.

The driver makes no protocol decision: those live in :mod:`pgany.protocol`.
Transport errors are translated here, once, into :class:`~pgany.ConnectionClosed`
with the original error as its cause.
"""

from __future__ import annotations

import gc
import logging
import socket
import struct
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

import anyio
import anyio.abc

from pgany._waiter import request_cancel_check, waiter_factory
from pgany.errors import ConnectionClosed, DatabaseError, ProtocolError
from pgany.protocol import (
    NEED_DATA,
    Connection,
    ConnectionEnded,
    CopyDirection,
    CopyStarted,
    Request,
    RequestDone,
)
from pgany.protocol.messages import NoticeResponse, NotificationResponse, ParameterStatus

__all__ = ["Driver", "Notification"]


logger = logging.getLogger("pgany")

#: Bytes asked of the socket per read.
READ_SIZE = 256 * 1024
#: Reads at least this big are decoded with the cyclic GC paused (see _feed).
GC_PAUSE_READ = 64 * 1024
#: The same for a row stream's reads of its own batches (see wait()): decoded
#: with the GC running, a batch of 1000 rows meets two or three young
#: collections that find every row alive, and there are twice as many full
#: collections. (Not for every read: a big result read in such pieces is
#: then slower, its full collections falling differently.)
GC_PAUSE_STREAM_READ = 4 * 1024
#: COPY TO STDOUT data buffered for a slow consumer before the socket stops being read.
COPY_OUT_HIGH_WATER = 1024 * 1024
#: Bytes queued for the socket above which a COPY FROM STDIN writer waits.
WRITE_HIGH_WATER = 4 * 1024 * 1024
#: Seconds allowed for a CancelRequest (connect, send, wait for the server to close).
CANCEL_TIMEOUT = 5.0
#: Seconds close() waits for Terminate to be sent before it drops the socket.
CLOSE_TIMEOUT = 5.0
#: Most seconds a closing connection spends on the CancelRequest that stops
#: the server's work on the requests it had in flight (less if
#: ``connect_timeout`` is less; see Driver._stop_server_work).
CLOSE_CANCEL_TIMEOUT = 2.0
#: SO_LINGER on, zero seconds: closing the socket resets the connection.
_LINGER_RESET = struct.pack("ii", 1, 0)
#: Seconds the reader task leaves an idle socket to callers that read their own
#: results, before it watches the socket itself (see Driver.wait).
IDLE_PARK = 0.05


class Notification:
    """A NOTIFY received on a channel this session listens to."""

    __module__ = "pgany"
    __slots__ = ("channel", "payload", "process_id")

    def __init__(self, process_id: int, channel: str, payload: str) -> None:
        #: The process ID of the notifying session.
        self.process_id = process_id
        #: The channel name.
        self.channel = channel
        #: The payload string ('' if none was given).
        self.payload = payload

    def __repr__(self) -> str:
        return (
            f"Notification(process_id={self.process_id}, "
            f"channel={self.channel!r}, payload={self.payload!r})"
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Notification):
            return NotImplemented
        return (self.process_id, self.channel, self.payload) == (
            other.process_id,
            other.channel,
            other.payload,
        )

    def __hash__(self) -> int:
        return hash((self.process_id, self.channel, self.payload))


class Driver:
    """Moves bytes between one socket and one :class:`~pgany.protocol.Connection`."""

    def __init__(
        self,
        proto: Connection,
        stream: anyio.abc.ByteStream,
        *,
        on_notice: Callable[[DatabaseError], object] | None = None,
        notification_buffer: int = 10_000,
        raw_socket: socket.socket | None = None,
    ) -> None:
        self.proto = proto
        self.stream = stream
        # Plain TCP and Unix sockets are written directly (never through the
        # stream, so no bytes can wait in its buffer); TLS goes through the stream.
        self._sock = raw_socket
        self._pending: bytes | memoryview = b""
        self._writing = False
        # The backend's own Event class: creating one skips anyio's backend lookup.
        self._event_cls: type[anyio.Event] = type(anyio.Event())
        event_cls = self._event_cls
        # What a request's caller sleeps on (lighter than an anyio.Event).
        self._waiter = waiter_factory()
        #: Before a request is sent: ``if maybe_cancelled(): await
        #: checkpoint_if_cancelled()`` raises if the caller's scope is cancelled
        #: (picked once for the backend; see pgany._waiter.request_cancel_check).
        self.maybe_cancelled, self.checkpoint_if_cancelled = request_cancel_check()
        self._on_notice = on_notice
        self._wake_writer = event_cls()
        self._writer_started = False
        self._drained: anyio.Event | None = None
        self._finished = event_cls()
        self._scope: anyio.CancelScope | None = None
        #: Why the connection is unusable (``None`` while it works).
        self.closed_error: ConnectionClosed | None = None
        self._closing = False
        # Set once close() has sent Terminate itself: the loops just return.
        self._done = False
        self.notifications: deque[Notification] = deque(maxlen=notification_buffer)
        self.notifications_dropped = 0
        self._notify_event: anyio.Event | None = None
        self._parameter_listeners: list[Callable[[str, str], object]] = []
        self._tg: anyio.abc.TaskGroup | None = None
        #: Sends a CancelRequest for this session (set by the client).
        self.canceller: Callable[[], Awaitable[None]] | None = None
        #: Seconds allowed for the CancelRequest sent when the connection ends
        #: with requests in flight (set by the client from connect_timeout).
        self.close_cancel_timeout = CLOSE_CANCEL_TIMEOUT
        # Set when the connection ends with requests in flight that the server
        # may still be running: the connection task then stops them as it ends.
        self._stop_work = False
        # The request abandon() sends a CancelRequest for, and that send's scope.
        self._cancel_target: Request | None = None
        self._cancel_scope: anyio.CancelScope | None = None
        #: Set when the CancelRequest for an abandoned request is done (``None``
        #: while there is none): nothing may be sent meanwhile.
        self.cancel_done: anyio.Event | None = None
        self._consumed: anyio.Event | None = None
        self._request_closed: anyio.Event | None = None
        self._flushed: anyio.Event | None = None
        # Who reads: a task is inside stream.receive() exactly while _reading is
        # true (the reader task, or a caller reading its own result in wait()).
        self._reading = False
        # Set while the reader task is parked, leaving the socket to callers;
        # setting it wakes the reader (which also wakes by itself now and then).
        self._unpark: anyio.Event | None = None
        self._direct_reads = 0
        #: Requests sent so far (a pool tells from it whether a checkout used the session).
        self.requests_sent = 0

    # -- called by the client ----------------------------------------------------

    def send(
        self, data: bytes | bytearray, request: Request, direct: bool = False, now: bool = False
    ) -> Request:
        """Queue one request's bytes; raises ConnectionClosed if the connection is gone.

        *direct*: the caller will :meth:`wait` for it (next, or later: until
        then the reader task is not woken for it, and the caller may read the
        result itself). *now*: write it from this task even with others in
        flight, when nothing else is being written (a caller that sends one
        request at a time, such as a row stream: there is nothing to gather).
        """
        if self.closed_error is not None:
            raise ConnectionClosed(str(self.closed_error)) from self.closed_error.__cause__
        proto = self.proto
        proto.send_request(data, request)
        self.requests_sent += 1
        if not direct:
            request.waiter = self._waiter()
            self._need_reader()
        # (else wait() makes the waiter, if it has to wait for the reader task at all)
        if (
            (now or proto.in_flight == 1)
            and self._sock is not None
            and not self._writing
            and not self._pending
        ):
            # Nothing else in flight: send now, from this task, without a task switch.
            self._send_now()
        else:
            # Others are in flight: let the writer gather everything issued meanwhile.
            self._wake()
        return request

    def _send_now(self) -> None:
        sock = self._sock
        assert sock is not None
        data = self.proto.data_to_send()
        if not data:
            return
        try:
            n = sock.send(data)
        except (BlockingIOError, InterruptedError):
            n = 0
        except OSError:
            n = 0  # the writer meets the error again and reports it
        if n < len(data):
            # The socket is full: from now on every write goes through the
            # stream (in order), which waits for the socket as it should.
            self._sock = None
            self._pending = memoryview(data)[n:]
            self._wake()

    def begin(self, data: bytes | bytearray, request: Request) -> Request:
        """Queue the first part of a request sent in parts (see Connection.begin_request)."""
        if self.closed_error is not None:
            raise ConnectionClosed(str(self.closed_error)) from self.closed_error.__cause__
        request.waiter = self._waiter()
        self.proto.begin_request(data, request)
        self.requests_sent += 1
        self._need_reader()
        self._wake()
        return request

    def more(self, data: bytes | bytearray) -> None:
        """Queue the next part of the open request."""
        self.proto.continue_request(data)
        self._wake()

    def end(self, data: bytes | bytearray) -> None:
        """Queue the last part of the open request; other requests may go again."""
        self.proto.end_request(data)
        self._wake()
        event, self._request_closed = self._request_closed, None
        if event is not None:
            event.set()

    async def wait_request_closed(self) -> None:
        """Wait while a request is being sent in parts."""
        while self.proto.open_request is not None and self.closed_error is None:
            if self._request_closed is None:
                self._request_closed = anyio.Event()
            await self._request_closed.wait()

    def send_raw(self, data: bytes | bytearray | memoryview) -> None:
        """Queue bytes outside a request (COPY data)."""
        self.proto.send_copy(data)
        self._wake()

    async def wait(self, request: Request, gc_pause_read: int = GC_PAUSE_READ) -> None:
        """Wait until *request* is done.

        *gc_pause_read*: reads this big or bigger that the caller makes itself
        are decoded with the cyclic GC paused (see :meth:`_feed`).

        When its caller is the only one waiting and the reader task is parked,
        the caller reads the socket itself: the result reaches it straight from
        the socket, without a hop through the reader task (one scheduler round
        trip less per query; what makes sequential queries fast). Otherwise it
        waits for the reader task, as every other wait does.
        """
        if request.done:
            await anyio.lowlevel.checkpoint()  # (the reader task is not needed)
            return
        if (
            self._reading
            or self._unpark is None
            or self.proto.head is not request
            or self.closed_error is not None
        ):
            await self._wait_for_reader(request)
            return
        self._reading = True
        receive = self.stream.receive
        try:
            while not request.done:
                if (
                    request.copy_mode is CopyDirection.OUT
                    and request.copy_bytes > COPY_OUT_HIGH_WATER
                ):
                    break  # the reader task applies COPY backpressure
                try:
                    data = await receive(READ_SIZE)
                except anyio.EndOfStream:
                    data = b""
                except (OSError, anyio.BrokenResourceError, anyio.ClosedResourceError) as exc:
                    if not self._closing:
                        self._broken(exc)
                    break
                if not self._feed(data, gc_pause_read):
                    break
        finally:
            self._reading = False
            self._direct_reads += 1
            unpark = self._unpark
            if unpark is not None and (self.closed_error is not None or self._reader_needed()):
                unpark.set()  # others wait for data: the reader takes over
        if not request.done:
            await self._wait_for_reader(request)

    async def wait_resolved(self, request: Request) -> None:
        """Wait until *request* is done, its answer read by the reader task
        (for waits that must not read the socket themselves: ending a COPY,
        a batch being aborted)."""
        if request.done:
            return
        await self._wait_for_reader(request)

    async def _wait_for_reader(self, request: Request) -> None:
        if request.waiter is None:
            request.waiter = self._waiter()
            if request.done:  # (resolved before it had a waiter)
                request.waiter.set()
        self._need_reader()
        await request.waiter.wait()

    def _reader_needed(self) -> bool:
        """Whether someone waits for the reader task to read.

        Not for requests in flight whose callers will read their results
        themselves (sent *direct*, not waited for yet: a row stream's batches
        requested ahead): the reader task stays parked, and the caller reads
        them when it wants them (see :meth:`wait`).
        """
        if self._notify_event is not None or self._drained is not None:
            return True
        for req in self.proto.requests():
            if req.waiter is not None or req.discard or req.copy_waiter is not None:
                return True
        return False

    def _need_reader(self) -> None:
        """Someone waits for data: wake the reader task if it is parked and nobody reads."""
        unpark = self._unpark
        if unpark is not None and not self._reading:
            unpark.set()

    def _wake(self) -> None:
        event = self._wake_writer
        if not event.is_set():
            event.set()
            if not self._writer_started and self._tg is not None:
                self._start_writer(self._tg)

    def _start_writer(self, tg: anyio.abc.TaskGroup) -> None:
        # The writer task starts the first time something has to go through it:
        # a connection whose requests never overlap (each is sent from its
        # caller's task, see send()) never has one, nor pays for starting and
        # stopping it.
        self._writer_started = True
        tg.start_soon(self._writer)

    def abandon(self, request: Request) -> None:
        """The caller stopped waiting for *request*: its results will be discarded.

        If the server is running it and nothing is queued behind it, a
        CancelRequest is sent (best effort, bounded in time) so the server
        stops working on it. Until that request has finished, new requests
        wait, so that a late cancel can never hit someone else's query.
        """
        request.discard = True
        self._need_reader()
        if (
            request.done
            or self.closed_error is not None
            or self.canceller is None
            or self._tg is None
            or self.cancel_done is not None
            or self.proto.head is not request
            or self.proto.in_flight != 1
        ):
            return
        self.cancel_done = anyio.Event()
        self._cancel_target = request
        self._tg.start_soon(self._cancel, request)

    async def _cancel(self, request: Request) -> None:
        try:
            assert self.canceller is not None
            # Shielded: if the connection closes meanwhile, this is the
            # CancelRequest that stops the server's work (see _server_busy),
            # then bounded by close_cancel_timeout (see _bound_cancel).
            with anyio.CancelScope(shield=True) as scope:
                scope.deadline = anyio.current_time() + CANCEL_TIMEOUT
                self._cancel_scope = scope
                if self._closing or self.closed_error is not None:
                    self._bound_cancel()
                await self.canceller()
        except Exception as exc:  # best effort: the query just runs to its end
            logger.debug("sending CancelRequest failed: %r", exc)
        finally:
            self._cancel_scope = None
            if request.waiter is None:
                request.waiter = self._waiter()
                if request.done:
                    request.waiter.set()
            with anyio.CancelScope(shield=True), anyio.move_on_after(CANCEL_TIMEOUT):
                await request.waiter.wait()
            self._cancel_target = None
            done, self.cancel_done = self.cancel_done, None
            if done is not None:
                done.set()

    def end_copy(self, data: bytes) -> None:
        """End the COPY FROM STDIN in progress with *data* (CopyDone or CopyFail)."""
        self.proto.end_copy(data)
        self._wake()

    async def check_alive(self) -> bool:
        """Whether the connection is alive, without a round trip.

        An idle connection has nothing to read; when something waits anyway
        (the FATAL error a server sends before it closes, or the end of the
        stream), it is read now, so that a connection whose server went away
        is known closed. TLS streams can't be peeked at: only what was read
        already counts there.
        """
        if self.closed_error is not None:
            return False
        pending = getattr(self.stream, "has_pending_input", None)
        if pending is None or self.proto.in_flight or not pending():
            return True
        if self._reading or self._unpark is None:
            # The reader task is at it: give it a moment.
            with anyio.move_on_after(0.1):
                while self.closed_error is None and pending():  # noqa: ASYNC110 (no event tells)
                    await anyio.sleep(0.002)
        else:
            self._reading = True
            try:
                data = await self._receive()
            finally:
                self._reading = False
            if data is not None:
                self._feed(data)
        return self.closed_error is None

    async def wait_cancel_done(self) -> None:
        """Wait while a CancelRequest for an abandoned request is in progress."""
        while self.cancel_done is not None:
            await self.cancel_done.wait()

    async def wait_drained(self) -> None:
        """Wait until no request is in flight."""
        while self.proto.in_flight and self.closed_error is None:
            if self._drained is None:
                self._drained = anyio.Event()
            self._need_reader()
            await self._drained.wait()

    async def wait_notification(self) -> None:
        """Wait until a notification is buffered or the connection ends."""
        while not self.notifications and self.closed_error is None:
            if self._notify_event is None:
                self._notify_event = anyio.Event()
            self._need_reader()
            await self._notify_event.wait()

    async def aclose(self) -> None:
        """Send Terminate, close the socket and wait for the loops to stop.

        With requests in flight, the server is asked to stop them instead
        (see :meth:`_stop_server_work`): a Terminate would wait behind them.
        """
        if not self._closing:
            self._closing = True
            self._bound_cancel()
            if self.closed_error is None and self._server_busy() and self.canceller is not None:
                self._mark_closed(ConnectionClosed("the connection is closed"), cause=None)
                assert self.closed_error is not None
                self._stop_work = True
                for req in self.proto.fail_all(self.closed_error):
                    self._resolve(req)
                self._wake_all()
                # The connection task ends at once (or as soon as it starts)
                # and stops the server's work on its way out.
                self._done = True
                if self._scope is not None:
                    self._scope.cancel()
            elif self.closed_error is None:
                self._mark_closed(ConnectionClosed("the connection is closed"), cause=None)
                self.proto.terminate()
                assert self.closed_error is not None
                for req in self.proto.fail_all(self.closed_error):
                    self._resolve(req)
                self._wake_all()
                if (
                    self._sock is not None
                    and not self._writing
                    and not self._pending
                    and self._send_terminate_now()
                ):
                    # Terminate is out: nothing more to send or read. The loops
                    # return when woken (cheaper than cancelling them), or at
                    # once if the connection task has not started yet; a reader
                    # inside receive() is cancelled.
                    self._done = True
                    if self._writer_started:
                        self._wake_writer.set()
                    if self._unpark is not None:
                        self._unpark.set()
                    elif self._reading and self._scope is not None:
                        self._scope.cancel()
                else:
                    self._wake()
            elif self._scope is not None:
                # Already broken or ended: nothing to say to the server, nothing to read.
                self._scope.cancel()
        with anyio.CancelScope(shield=True):
            if self._done:  # (the loops return as soon as they run: no time limit needed)
                await self._finished.wait()
                return
            with anyio.move_on_after(CLOSE_TIMEOUT):
                await self._finished.wait()
            if not self._finished.is_set() and self._scope is not None:
                self._scope.cancel()
                await self._finished.wait()

    def _send_terminate_now(self) -> bool:
        """Write what is queued (Terminate) to the socket now; True if it all went."""
        assert self._sock is not None
        data = self.proto.data_to_send()
        try:
            sent = self._sock.send(data)
        except OSError:  # (broken already, or full: the server goes away by itself)
            return True
        if sent < len(data):  # (a few bytes that did not fit: let the writer finish)
            self._pending = memoryview(data)[sent:]
            self._sock = None
            return False
        return True

    # -- the connection task --------------------------------------------------------

    async def run(self) -> None:
        """Run the reader and writer until the connection ends."""
        try:
            if not self._done:  # (else closed before the task started: just clean up)
                async with anyio.create_task_group() as tg:
                    self._scope = tg.cancel_scope
                    self._tg = tg
                    try:
                        if self._wake_writer.is_set():  # (woken before the task started)
                            self._start_writer(tg)
                        await self._reader()
                        if not self._done:
                            tg.cancel_scope.cancel()
                    finally:
                        # The task group takes no new task once its body is over
                        # (abandon() starting a CancelRequest would fail), and
                        # its tasks (a CancelRequest waiting for its request) end
                        # once the requests are.
                        self._tg = None
                        self._end_requests()
        finally:
            self._tg = None
            self._end_requests()
            with anyio.CancelScope(shield=True):
                stop_work = self._stop_work and self.canceller is not None
                if stop_work:
                    self._reset_on_close()
                try:
                    await self.stream.aclose()
                except Exception:  # the socket is already gone: nothing to report
                    pass
                if stop_work:
                    await self._stop_server_work()
            self._finished.set()

    def _server_busy(self) -> bool:
        """Whether the server may go on working for requests in flight once we close.

        Not when the only one left has its CancelRequest already (from abandon()).
        """
        proto = self.proto
        in_flight = proto.in_flight
        return in_flight > 1 or (in_flight == 1 and proto.head is not self._cancel_target)

    def _bound_cancel(self) -> None:
        """The connection is closing: abandon()'s CancelRequest gets close_cancel_timeout."""
        scope = self._cancel_scope
        if scope is not None:
            scope.deadline = min(scope.deadline, anyio.current_time() + self.close_cancel_timeout)

    def _end_requests(self) -> None:
        """The connection task is ending: fail every request still in flight."""
        if self.closed_error is None:
            # Cancelled from outside (the task group running the connection):
            # what the server runs for us is stopped too.
            self._stop_work = self._server_busy()
            self._mark_closed(ConnectionClosed("the connection task stopped"), cause=None)
        assert self.closed_error is not None
        self._bound_cancel()
        for req in self.proto.fail_all(self.closed_error):
            self._resolve(req)
        self._wake_all()

    def _reset_on_close(self) -> None:
        """Make closing the socket reset the TCP connection (RST, not FIN).

        The server learns of a closed connection only when it next writes to
        it; after a FIN, that first write still succeeds and the backend goes
        on to the next request it has already read, while after a reset it
        fails and the backend ends.
        """
        try:
            sock = self.stream.extra(anyio.abc.SocketAttribute.raw_socket, None)
            if isinstance(sock, socket.socket) and sock.family != socket.AF_UNIX:
                # (a Unix socket's peer fails at its first write already)
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _LINGER_RESET)
        except OSError:  # (the socket is already gone)
            pass

    async def _stop_server_work(self) -> None:
        """The connection ended with requests in flight: ask the server to stop them.

        Called once the socket is closed (reset, see _reset_on_close): a
        CancelRequest interrupts the request the backend runs now; the
        backend's answer then fails to reach the closed socket, and the
        backend ends instead of running the requests pipelined behind it.
        Shielded (the caller's scope) and bounded by close_cancel_timeout; a
        failure is logged at debug level (the connection is closed anyway).
        """
        assert self.canceller is not None
        try:
            with anyio.move_on_after(self.close_cancel_timeout):
                await self.canceller()
        except Exception as exc:
            logger.debug("sending CancelRequest for a closed connection failed: %r", exc)

    async def _reader(self) -> None:
        proto = self.proto
        # Startup's last read may have brought more than its ReadyForQuery (a
        # notice, a FATAL error...): handle what the core holds before reading.
        if not self._handle_events():
            return
        may_park = True
        while True:
            if self._done:
                return
            if self.closed_error is not None and not self._closing:
                return  # a caller reading its result met the end of the connection
            head = proto.head
            if (
                head is not None
                and head.copy_mode is CopyDirection.OUT
                and head.copy_bytes > COPY_OUT_HIGH_WATER
            ):
                # A slow COPY consumer holds the connection, not memory.
                self._consumed = anyio.Event()
                await self._consumed.wait()
                continue
            if self._reading or (may_park and not self._closing and not self._reader_needed()):
                # Leave the socket to callers that read their own results (wait()).
                # Parked, the reader wakes when someone needs it, or every IDLE_PARK
                # seconds to watch the socket itself once a whole spell went unused.
                before = self._direct_reads
                event = self._unpark = self._event_cls()
                try:
                    with anyio.move_on_after(IDLE_PARK):
                        await event.wait()
                finally:
                    self._unpark = None
                if not event.is_set() and self._direct_reads == before and not self._reading:
                    may_park = False
                continue
            self._reading = True
            try:
                data = await self._receive()
            finally:
                self._reading = False
            if data is None or not self._feed(data):
                return
            may_park = True

    async def _receive(self) -> bytes | None:
        """Read the socket: its bytes, b"" at its end, None if it broke."""
        try:
            return await self.stream.receive(READ_SIZE)
        except anyio.EndOfStream:
            return b""
        except (OSError, anyio.BrokenResourceError, anyio.ClosedResourceError) as exc:
            if not self._closing:
                self._broken(exc)
            return None

    def _feed(self, data: bytes, gc_pause_read: int = GC_PAUSE_READ) -> bool:
        """Hand received bytes to the core and act on its events; False once it is over."""
        proto = self.proto
        proto.receive_data(data)
        if len(data) >= gc_pause_read and gc.isenabled():
            # A big read holds many rows: the cyclic GC would scan
            # them again and again as they are made (rows are tuples of
            # plain values, never cycles). Let it run once afterwards.
            gc.disable()
            try:
                alive = self._handle_events()
            finally:
                gc.enable()
        else:
            alive = self._handle_events()
        if not alive:
            return False
        if not data:
            self._ended(proto.end_error)
            return False
        return True

    def _handle_events(self) -> bool:
        """Handle every event the core has now; False once the connection is over."""
        proto = self.proto
        next_event = proto.next_event
        try:
            while True:
                event = next_event()
                if event is NEED_DATA:
                    break
                if type(event) is RequestDone:
                    req = event.request  # (_resolve, inlined: once per query)
                    waiter = req.waiter
                    if waiter is not None:
                        waiter.set()
                    if req.copy_waiter is not None:
                        self._wake_copy(req)
                elif type(event) is CopyStarted:
                    self._wake_copy(event.request)
                elif isinstance(event, ConnectionEnded):
                    self._ended(event.error)
                    return False
                else:
                    self.deliver(event)
        except ProtocolError as exc:
            logger.error("closing the connection: %s", exc)
            self._broken(exc)
            return False
        # (the core's queue and output buffer read directly: this runs per read)
        queue = proto._queue
        if queue:
            head = queue[0]
            if head.copy_data:
                self._wake_copy(head)
        elif self._drained is not None:
            self._drained.set()
            self._drained = None
        # The core may have queued an answer (a CopyFail it decided on).
        if proto._out:
            self._wake()
        return True

    async def _writer(self) -> None:
        proto = self.proto
        stream = self.stream
        while True:
            await self._wake_writer.wait()
            if self._done:
                return
            self._wake_writer = self._event_cls()
            self._writing = True
            try:
                pending, self._pending = self._pending, b""
                data = proto.data_to_send()
                self._flushed_now()
                if pending:
                    data = bytes(pending) + data
                if data:
                    await stream.send(data)
            except (OSError, anyio.BrokenResourceError, anyio.ClosedResourceError) as exc:
                if self._closing:
                    return
                self._broken(exc)
                if self._scope is not None:
                    self._scope.cancel()
                return
            finally:
                self._writing = False
            if self._closing and self.proto.in_flight == 0:
                # Terminate (if any) is sent: end the session from our side.
                try:
                    await stream.send_eof()
                except Exception:  # not every stream can half-close
                    pass
                if self._scope is not None:
                    self._scope.cancel()
                return

    def _flushed_now(self) -> None:
        if self._flushed is not None:
            self._flushed.set()
            self._flushed = None

    # -- resolution -----------------------------------------------------------------

    def _resolve(self, req: Request) -> None:
        waiter = req.waiter
        if waiter is not None:
            waiter.set()
        if req.copy_waiter is not None:
            self._wake_copy(req)

    def _wake_copy(self, req: Request) -> None:
        waiter = req.copy_waiter
        if waiter is not None:
            req.copy_waiter = None
            waiter.set()

    async def wait_copy(self, req: Request) -> None:
        """Wait until *req* entered COPY, has COPY data, or finished."""
        if req.done or req.copy_data or (req.copy_ready and req.copy_mode is CopyDirection.IN):
            await anyio.lowlevel.checkpoint()
            return
        event = req.copy_waiter = anyio.Event()
        self._need_reader()
        await event.wait()

    def copy_consumed(self) -> None:
        """The COPY consumer took the buffered data: reading may go on."""
        event = self._consumed
        if event is not None:
            self._consumed = None
            event.set()

    async def wait_flushed(self) -> None:
        """Wait while more than WRITE_HIGH_WATER bytes wait to be sent."""
        while self.proto.pending_output > WRITE_HIGH_WATER and self.closed_error is None:
            if self._flushed is None:
                self._flushed = anyio.Event()
            await self._flushed.wait()

    def add_parameter_listener(self, listener: Callable[[str, str], object]) -> None:
        """Call *listener(name, value)* for every ParameterStatus the server sends."""
        self._parameter_listeners.append(listener)

    def deliver(self, event: Any) -> None:
        """Hand an asynchronous message (notification, notice, parameter) to its consumer."""
        if type(event) is NotificationResponse:
            if len(self.notifications) == self.notifications.maxlen:
                self.notifications_dropped += 1
                if self.notifications_dropped == 1 or self.notifications_dropped % 1000 == 0:
                    logger.warning(
                        "notification buffer full (%d): dropped the oldest (%d dropped so far)",
                        self.notifications.maxlen,
                        self.notifications_dropped,
                    )
            self.notifications.append(Notification(event.process_id, event.channel, event.payload))
            if self._notify_event is not None:
                self._notify_event.set()
                self._notify_event = None
        elif type(event) is NoticeResponse:
            notice = DatabaseError.from_fields(event.as_dict())
            if self._on_notice is not None:
                try:
                    self._on_notice(notice)
                except Exception:
                    logger.exception("on_notice callback failed")
            else:
                logger.info("%s", notice)
        elif type(event) is ParameterStatus:
            for listener in self._parameter_listeners:
                listener(event.name, event.value)

    def _mark_closed(self, error: ConnectionClosed, cause: BaseException | None) -> None:
        if self.closed_error is None:
            error.__cause__ = cause
            self.closed_error = error

    def _broken(self, exc: BaseException) -> None:
        closed = ConnectionClosed(f"the connection is broken: {exc}")
        closed.__cause__ = exc
        if self.closed_error is None:
            # The server may be alive and running them: stop it (as run() ends).
            self._stop_work = self._server_busy()
        self._mark_closed(closed, exc)
        for req in self.proto.fail_all(closed):
            if isinstance(exc, ProtocolError):
                # Those waiting get the protocol violation itself; later calls
                # get ConnectionClosed caused by it.
                error = ProtocolError(str(exc))
                error.__cause__ = exc
                req.error = error
            self._resolve(req)
        self._wake_all()

    def _ended(self, error: BaseException | None) -> None:
        if self.closed_error is None:
            if error is None:
                self._mark_closed(ConnectionClosed("the connection is closed"), cause=None)
            else:
                msg = "the server closed the connection"
                if isinstance(error, DatabaseError):
                    msg += f": {error.message}"
                self._mark_closed(ConnectionClosed(msg), cause=error)
        for req in self.proto.fail_all(self.closed_error or ConnectionClosed("closed")):
            self._resolve(req)
        self._wake_all()

    def _wake_all(self) -> None:
        self.copy_consumed()
        if self._unpark is not None:
            self._unpark.set()
        if self._request_closed is not None:
            self._request_closed.set()
            self._request_closed = None
        if self._flushed is not None:
            self._flushed.set()
            self._flushed = None
        if self.cancel_done is not None:
            self.cancel_done.set()
            self.cancel_done = None
        if self._drained is not None:
            self._drained.set()
            self._drained = None
        if self._notify_event is not None:
            self._notify_event.set()
            self._notify_event = None
