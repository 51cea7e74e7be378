"""Minimal raw HTTP/2 (h2c, prior knowledge) gRPC client built on the ``h2`` package.

Used where grpcio hides what the suite must see or control: per-message
compression flags, HTTP status codes, trailers-only responses, malformed
requests. Every blocking operation is bounded by a deadline.
"""

from __future__ import annotations

import gzip
import socket
import struct
import time
from dataclasses import dataclass, field

import h2.config
import h2.connection
import h2.events
import h2.exceptions
import h2.settings

DEFAULT_TIMEOUT = 10.0
RECEIVE_WINDOW = 8 * 1024 * 1024


def grpc_frame(payload: bytes, compressed: bool = False) -> bytes:
    """Length-prefixed gRPC message: 1 byte flag, 4 bytes big-endian length."""
    return struct.pack(">BI", 1 if compressed else 0, len(payload)) + payload


def gzip_frame(payload: bytes) -> bytes:
    return grpc_frame(gzip.compress(payload), compressed=True)


@dataclass
class GrpcMessage:
    compressed: bool
    raw: bytes  # as on the wire (possibly compressed)

    def decoded(self, encoding: str | None) -> bytes:
        if not self.compressed:
            return self.raw
        if encoding == "gzip":
            return gzip.decompress(self.raw)
        raise AssertionError(f"compressed message with unsupported grpc-encoding {encoding!r}")


@dataclass
class RawResponse:
    stream_id: int
    headers: list[tuple[str, str]] | None = None
    headers_ended_stream: bool = False  # True => trailers-only response
    data: bytearray = field(default_factory=bytearray)
    data_frames: int = 0
    trailers: list[tuple[str, str]] | None = None
    reset_code: int | None = None
    ended: bool = False
    connection_closed: bool = False

    # -- helpers ---------------------------------------------------------
    @staticmethod
    def _get(block, name):
        if block is None:
            return None
        for k, v in block:
            if k == name:
                return v
        return None

    def header(self, name: str) -> str | None:
        return self._get(self.headers, name)

    def trailer(self, name: str) -> str | None:
        """Value from the trailers, or from the headers of a trailers-only response."""
        if self.trailers is not None:
            return self._get(self.trailers, name)
        if self.headers_ended_stream:
            return self._get(self.headers, name)
        return None

    @property
    def http_status(self) -> int | None:
        value = self.header(":status")
        return int(value) if value is not None else None

    @property
    def grpc_status(self) -> int | None:
        value = self.trailer("grpc-status")
        return int(value) if value is not None else None

    @property
    def grpc_message(self) -> str | None:
        return self.trailer("grpc-message")

    def messages(self) -> list[GrpcMessage]:
        out, buf, off = [], bytes(self.data), 0
        while off < len(buf):
            if len(buf) - off < 5:
                raise AssertionError(f"truncated gRPC message prefix at offset {off}: {buf[off:]!r}")
            flag, length = struct.unpack_from(">BI", buf, off)
            if flag not in (0, 1):
                raise AssertionError(f"invalid gRPC compressed-flag byte {flag} at offset {off}")
            off += 5
            if len(buf) - off < length:
                raise AssertionError(f"truncated gRPC message: want {length} bytes, have {len(buf) - off}")
            out.append(GrpcMessage(bool(flag), buf[off:off + length]))
            off += length
        return out

    def describe(self) -> str:
        return (f"headers={self.headers} trailers={self.trailers} "
                f"trailers_only={self.headers_ended_stream} data_len={len(self.data)} "
                f"reset_code={self.reset_code} connection_closed={self.connection_closed}")


class RawH2Connection:
    """One cleartext HTTP/2 connection, client side, prior knowledge."""

    def __init__(self, host: str, port: int, timeout: float = DEFAULT_TIMEOUT,
                 window: int = RECEIVE_WINDOW, ack_data: bool = True):
        # ack_data=False never returns flow-control credit: a client that reads nothing.
        self.ack_data = ack_data
        self.host, self.port = host, port
        self.authority = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        cfg = h2.config.H2Configuration(client_side=True, header_encoding="utf-8")
        self.conn = h2.connection.H2Connection(config=cfg)
        self.conn.initiate_connection()
        self.conn.update_settings({
            h2.settings.SettingCodes.ENABLE_PUSH: 0,
            h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: window,
        })
        if window > 65535:
            self.conn.increment_flow_control_window(window)
        self.streams: dict[int, RawResponse] = {}
        self.closed = False
        self.goaway: h2.events.ConnectionTerminated | None = None
        self.pings_received = 0  # PINGs from the server (h2 acknowledges them itself)
        self._flush()

    # -- context manager ---------------------------------------------------
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        try:
            if not self.closed:
                self.conn.close_connection()
                self._flush()
        except Exception:  # noqa: BLE001 - best effort
            pass
        finally:
            self.closed = True
            self.sock.close()

    # -- low level ---------------------------------------------------------
    def _flush(self):
        data = self.conn.data_to_send()
        if data:
            self.sock.sendall(data)

    def _handle(self, ev):
        st = self.streams.get(getattr(ev, "stream_id", None) or -1)
        if isinstance(ev, h2.events.ResponseReceived) and st:
            st.headers = list(ev.headers)
            if ev.stream_ended is not None:
                st.headers_ended_stream = True
        elif isinstance(ev, h2.events.DataReceived) and st:
            st.data += ev.data
            st.data_frames += 1
            if ev.flow_controlled_length and self.ack_data:
                try:
                    self.conn.acknowledge_received_data(ev.flow_controlled_length, ev.stream_id)
                except h2.exceptions.StreamClosedError:
                    pass
        elif isinstance(ev, h2.events.TrailersReceived) and st:
            st.trailers = list(ev.headers)
        elif isinstance(ev, h2.events.StreamEnded) and st:
            st.ended = True
        elif isinstance(ev, h2.events.StreamReset) and st:
            st.reset_code = int(ev.error_code)
            st.ended = True
        elif isinstance(ev, h2.events.PingReceived):
            self.pings_received += 1
        elif isinstance(ev, h2.events.ConnectionTerminated):
            self.goaway = ev
            # Streams above last_stream_id were not processed; the rest may still finish,
            # but once the socket closes nothing more arrives.

    def _pump(self, until, deadline: float, what: str):
        while not until():
            if self.closed:
                return
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"timed out waiting for {what}")
            self.sock.settimeout(remaining)
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout as exc:
                raise TimeoutError(f"timed out waiting for {what}") from exc
            except ConnectionError:
                chunk = b""
            if not chunk:
                self.closed = True
                for st in self.streams.values():
                    if not st.ended:
                        st.connection_closed = True
                return
            for ev in self.conn.receive_data(chunk):
                self._handle(ev)
            self._flush()

    def prioritize(self, sid: int, **priority):
        """Sends a PRIORITY frame for stream ``sid`` (h2's ``weight``, ``depends_on``, ``exclusive``)."""
        self.conn.prioritize(sid, **priority)
        self._flush()

    def ping(self, payload: bytes = b"pingpong"):
        """Sends one PING (8 bytes of opaque data)."""
        self.conn.ping(payload)
        self._flush()

    def wait_for(self, until, timeout: float = DEFAULT_TIMEOUT, what: str = "condition"):
        """Reads and handles frames until ``until()`` holds or the connection closes."""
        self._pump(until, time.monotonic() + timeout, what)

    # -- requests ------------------------------------------------------------
    def start(self, path: str, *, method: str = "POST", content_type: str | None = "application/grpc",
              extra_headers=(), end_stream: bool = False, include_te: bool = True,
              priority: dict | None = None) -> int:
        """Opens a stream; ``priority`` holds h2's ``priority_*`` arguments of ``send_headers``."""
        sid = self.conn.get_next_available_stream_id()
        headers = [(":method", method), (":scheme", "http"), (":path", path),
                   (":authority", self.authority)]
        if content_type is not None:
            headers.append(("content-type", content_type))
        if include_te:
            headers.append(("te", "trailers"))
        headers.append(("user-agent", "marketplace-e2e-raw-h2/1"))
        headers.extend(extra_headers)
        self.streams[sid] = RawResponse(stream_id=sid)
        self.conn.send_headers(sid, headers, end_stream=end_stream, **(priority or {}))
        self._flush()
        return sid

    def send_unchecked_headers(self, headers, *, sid: int | None = None, end_stream: bool = False) -> int:
        """Sends exactly ``headers`` (names, case and order as given) on a new stream, or as trailers
        on stream ``sid``, with h2's own checks and normalization off: what a broken client sends."""
        config = self.conn.config
        saved = (config.validate_outbound_headers, config.normalize_outbound_headers)
        config.validate_outbound_headers = config.normalize_outbound_headers = False
        try:
            if sid is None:
                sid = self.conn.get_next_available_stream_id()
                self.streams[sid] = RawResponse(stream_id=sid)
            self.conn.send_headers(sid, headers, end_stream=end_stream)
        finally:
            config.validate_outbound_headers, config.normalize_outbound_headers = saved
        self._flush()
        return sid

    def send(self, sid: int, body: bytes, *, end_stream: bool = False, timeout: float = DEFAULT_TIMEOUT):
        """Send body on stream sid, honouring flow control. Stops quietly if the peer ends the stream."""
        deadline = time.monotonic() + timeout
        st = self.streams[sid]
        view, off = memoryview(body), 0
        try:
            while off < len(body):
                if st.ended or self.closed:
                    return
                window = min(self.conn.local_flow_control_window(sid), self.conn.max_outbound_frame_size)
                if window <= 0:
                    self._pump(lambda: st.ended or self.conn.local_flow_control_window(sid) > 0,
                               deadline, f"flow-control window on stream {sid}")
                    continue
                self.conn.send_data(sid, bytes(view[off:off + window]))
                off += window
                self._flush()
            if end_stream and not st.ended:
                self.conn.end_stream(sid)
                self._flush()
        except h2.exceptions.StreamClosedError:
            return

    def end(self, sid: int):
        try:
            self.conn.end_stream(sid)
            self._flush()
        except h2.exceptions.StreamClosedError:
            pass

    def wait(self, sid: int, timeout: float = DEFAULT_TIMEOUT) -> RawResponse:
        st = self.streams[sid]
        self._pump(lambda: st.ended, time.monotonic() + timeout, f"end of stream {sid}")
        return st

    def call(self, path: str, body: bytes = b"", *, timeout: float = DEFAULT_TIMEOUT, **start_kwargs) -> RawResponse:
        """Headers + body + half-close, then wait for the stream to end."""
        deadline = time.monotonic() + timeout
        sid = self.start(path, **start_kwargs)
        self.send(sid, body, end_stream=True, timeout=timeout)
        return self.wait(sid, max(0.1, deadline - time.monotonic()))
