"""gRPC-over-HTTP/2 protocol edge cases (grpc/doc/PROTOCOL-HTTP2.md, compression.md).

Raw requests go through h2raw.RawH2Connection so HTTP status codes, header
blocks and the compressed-flag byte are visible.
"""

from __future__ import annotations

import time

import grpc
import pytest

from e2e_util import RPC_TIMEOUT, code_name, expect_rpc_error, zeros
from h2raw import grpc_frame

EMPTY_CALL = "/grpc.testing.TestService/EmptyCall"
UNARY_CALL = "/grpc.testing.TestService/UnaryCall"
FULL_DUPLEX = "/grpc.testing.TestService/FullDuplexCall"
FIVE_MIB = 5 * 1024 * 1024
UNIMPLEMENTED = 12
DEADLINE_EXCEEDED = 4


def empty_call_works(channel, pb, what):
    stub = pb.test_pb2_grpc.TestServiceStub(channel)
    try:
        stub.EmptyCall(pb.empty_pb2.Empty(), timeout=RPC_TIMEOUT)
    except grpc.RpcError as err:
        pytest.fail(f"channel unusable after {what}: EmptyCall failed with {code_name(err.code())} {err.details()!r}")


# --------------------------------------------------------------- grpcio-level cases


def test_oversized_request_resource_exhausted(fresh_channel, pb):
    """A 5 MiB request exceeds the default 4 MiB max receive size."""
    m = pb.messages_pb2
    stub = pb.test_pb2_grpc.TestServiceStub(fresh_channel)
    req = m.SimpleRequest(response_size=1, payload=m.Payload(body=zeros(FIVE_MIB)))
    expect_rpc_error("5 MiB request", stub.UnaryCall, req, timeout=RPC_TIMEOUT,
                     expected=grpc.StatusCode.RESOURCE_EXHAUSTED)
    empty_call_works(fresh_channel, pb, "an oversized request")
    resp = stub.UnaryCall(m.SimpleRequest(response_size=10, payload=m.Payload(body=zeros(10))), timeout=RPC_TIMEOUT)
    assert len(resp.payload.body) == 10


def test_request_just_under_limit_accepted(fresh_channel, pb):
    """A ~3.9 MiB request is below the 4 MiB default and must succeed."""
    m = pb.messages_pb2
    stub = pb.test_pb2_grpc.TestServiceStub(fresh_channel)
    size = 4 * 1024 * 1024 - 64 * 1024
    resp = stub.UnaryCall(m.SimpleRequest(response_size=1, payload=m.Payload(body=zeros(size))), timeout=RPC_TIMEOUT)
    assert len(resp.payload.body) == 1


def test_garbage_message_body(fresh_channel, pb):
    """Bytes that do not decode as SimpleRequest -> INTERNAL or INVALID_ARGUMENT."""
    call = fresh_channel.unary_unary(UNARY_CALL, request_serializer=None, response_deserializer=None)
    expect_rpc_error("undecodable request body", call, b"\xff\xff\xff\xff", timeout=RPC_TIMEOUT,
                     expected=(grpc.StatusCode.INTERNAL, grpc.StatusCode.INVALID_ARGUMENT))
    empty_call_works(fresh_channel, pb, "an undecodable request")


# --------------------------------------------------------------------- raw HTTP/2


def test_raw_empty_call_wire_format(raw):
    """Baseline for the raw client: headers, one zero-length message, trailers with grpc-status 0."""
    resp = raw.call(EMPTY_CALL, grpc_frame(b""), timeout=RPC_TIMEOUT)
    assert resp.http_status == 200, resp.describe()
    ctype = resp.header("content-type") or ""
    assert ctype.startswith("application/grpc"), f"response content-type {ctype!r}"
    assert not resp.headers_ended_stream, f"successful call must not be trailers-only: {resp.describe()}"
    assert resp.trailers is not None, f"no trailers: {resp.describe()}"
    assert resp.grpc_status == 0, resp.describe()
    msgs = resp.messages()
    assert [(m.compressed, m.raw) for m in msgs] == [(False, b"")], f"expected one empty message, got {msgs}"


def test_content_type_grpc_proto_accepted(raw):
    """content-type application/grpc+proto is a valid gRPC content-type."""
    resp = raw.call(EMPTY_CALL, grpc_frame(b""), timeout=RPC_TIMEOUT, content_type="application/grpc+proto")
    assert resp.http_status == 200 and resp.grpc_status == 0, resp.describe()


def test_wrong_content_type_415(raw):
    """PROTOCOL-HTTP2.md: a non application/grpc content-type SHOULD get HTTP 415."""
    resp = raw.call(EMPTY_CALL, grpc_frame(b""), timeout=RPC_TIMEOUT, content_type="text/plain")
    assert resp.http_status == 415, f"content-type text/plain: HTTP status {resp.http_status}, expected 415; {resp.describe()}"


def test_missing_content_type_415(raw):
    resp = raw.call(EMPTY_CALL, grpc_frame(b""), timeout=RPC_TIMEOUT, content_type=None)
    assert resp.http_status == 415, f"no content-type: HTTP status {resp.http_status}, expected 415; {resp.describe()}"


def test_get_method_rejected(raw):
    """Only POST carries gRPC; GET should get 405 (any non-200 status is accepted)."""
    sid = raw.start(EMPTY_CALL, method="GET", end_stream=True)
    resp = raw.wait(sid, timeout=RPC_TIMEOUT)
    assert resp.http_status is not None, f"no response headers to GET: {resp.describe()}"
    assert resp.http_status != 200, f"GET answered with HTTP 200 (expected 405): {resp.describe()}"


@pytest.mark.parametrize("path", ["/grpc.testing.TestService/NoSuchMethod", "/marketplace.e2e.NoSuchService/Call"])
def test_unknown_path_trailers_only_unimplemented(raw, path):
    resp = raw.call(path, grpc_frame(b""), timeout=RPC_TIMEOUT)
    assert resp.http_status == 200, resp.describe()
    assert resp.grpc_status == UNIMPLEMENTED, f"{path}: grpc-status {resp.grpc_status}, expected 12; {resp.describe()}"
    assert resp.headers_ended_stream, f"{path}: expected a trailers-only response (one HEADERS frame with END_STREAM); {resp.describe()}"
    assert resp.data_frames == 0 and not resp.data, f"{path}: unexpected DATA in trailers-only response"


def test_grpc_timeout_header_enforced_by_server(raw, pb):
    """grpc-timeout: 1m (1 millisecond) on a call whose handler sleeps -> server sends DEADLINE_EXCEEDED."""
    m = pb.messages_pb2
    req = m.StreamingOutputCallRequest(response_parameters=[m.ResponseParameters(size=10, interval_us=3_000_000)])
    started = time.monotonic()
    sid = raw.start(FULL_DUPLEX, extra_headers=[("grpc-timeout", "1m")])
    raw.send(sid, grpc_frame(req.SerializeToString()))  # stream left open: the server must time out
    resp = raw.wait(sid, timeout=RPC_TIMEOUT)
    elapsed = time.monotonic() - started
    assert resp.grpc_status == DEADLINE_EXCEEDED, (
        f"grpc-timeout 1m: grpc-status {resp.grpc_status}, expected 4 (DEADLINE_EXCEEDED); {resp.describe()}")
    assert elapsed < 2.5, f"server took {elapsed:.2f}s to enforce a 1 ms deadline (before the 3 s sleep ended?)"


def test_grpc_timeout_not_expired_succeeds(raw):
    resp = raw.call(EMPTY_CALL, grpc_frame(b""), timeout=RPC_TIMEOUT, extra_headers=[("grpc-timeout", "10S")])
    assert resp.grpc_status == 0, resp.describe()


def test_unknown_message_encoding_unimplemented(raw):
    """compression.md: a message compressed with an unsupported algorithm -> UNIMPLEMENTED."""
    body = grpc_frame(b"\x01\x02\x03 not really snappy", compressed=True)
    resp = raw.call(EMPTY_CALL, body, timeout=RPC_TIMEOUT, extra_headers=[("grpc-encoding", "snappy")])
    assert resp.grpc_status == UNIMPLEMENTED, (
        f"grpc-encoding snappy: grpc-status {resp.grpc_status}, expected 12; {resp.describe()}")


def test_unknown_message_encoding_advertises_accept_encoding(raw):
    """compression.md: the UNIMPLEMENTED answer includes grpc-accept-encoding listing what the server supports."""
    body = grpc_frame(b"\x01\x02\x03", compressed=True)
    resp = raw.call(EMPTY_CALL, body, timeout=RPC_TIMEOUT, extra_headers=[("grpc-encoding", "snappy")])
    accept = resp.header("grpc-accept-encoding") or resp.trailer("grpc-accept-encoding")
    assert accept, f"no grpc-accept-encoding in the response: {resp.describe()}"
    assert "gzip" in [a.strip() for a in accept.split(",")], f"grpc-accept-encoding {accept!r} lacks gzip"


def test_compressed_flag_without_encoding_is_internal(raw):
    """PROTOCOL-HTTP2.md: compressed flag 1 with no grpc-encoding (identity) is a protocol error -> INTERNAL."""
    resp = raw.call(EMPTY_CALL, grpc_frame(b"", compressed=True), timeout=RPC_TIMEOUT)
    assert resp.grpc_status == 13, f"grpc-status {resp.grpc_status}, expected 13 (INTERNAL); {resp.describe()}"


def test_connection_survives_bad_streams(raw):
    """After rejected streams on one HTTP/2 connection, a normal call on it still works."""
    raw.call("/marketplace.e2e.NoSuchService/Call", grpc_frame(b""), timeout=RPC_TIMEOUT)
    raw.call(EMPTY_CALL, grpc_frame(b"\xff"), timeout=RPC_TIMEOUT)
    resp = raw.call(EMPTY_CALL, grpc_frame(b""), timeout=RPC_TIMEOUT)
    assert resp.grpc_status == 0, resp.describe()


SETTINGS_NO_RFC7540_PRIORITIES = 0x9  # RFC 9218


def test_rfc7540_priorities_off_and_ignored(raw):
    """The server turns RFC 7540 priorities off (SETTINGS_NO_RFC7540_PRIORITIES = 1, as RFC 9218
    lets it), so a client's priority signals are ignored, not errors: prioritized HEADERS, PRIORITY
    frames on open, closed and idle streams, and a stream depending on another still open."""
    first = raw.call(EMPTY_CALL, grpc_frame(b""), timeout=RPC_TIMEOUT)
    assert first.grpc_status == 0, first.describe()
    assert raw.conn.remote_settings.get(SETTINGS_NO_RFC7540_PRIORITIES) == 1
    parent = raw.start(EMPTY_CALL)
    child = raw.start(EMPTY_CALL, priority={"priority_weight": 200, "priority_depends_on": parent,
                                            "priority_exclusive": True})
    raw.prioritize(parent, weight=1, depends_on=first.stream_id)  # on a closed stream
    raw.prioritize(child + 20, weight=32)  # on a stream not yet opened
    for sid in (parent, child):
        raw.send(sid, grpc_frame(b""), end_stream=True)
    for sid in (parent, child):
        resp = raw.wait(sid, timeout=RPC_TIMEOUT)
        assert resp.grpc_status == 0, f"stream {sid}: {resp.describe()}"
    assert raw.goaway is None


def test_concurrent_streams_one_connection(raw):
    """Several streams interleaved on one connection complete independently."""
    sids = [raw.start(EMPTY_CALL) for _ in range(8)]
    for sid in sids:
        raw.send(sid, grpc_frame(b""), end_stream=True)
    for sid in sids:
        resp = raw.wait(sid, timeout=RPC_TIMEOUT)
        assert resp.grpc_status == 0, f"stream {sid}: {resp.describe()}"


PROTOCOL_ERROR = 0x1


def _request_head(raw, path: str = EMPTY_CALL) -> list[tuple[str, str]]:
    return [(":method", "POST"), (":scheme", "http"), (":path", path), (":authority", raw.authority),
            ("content-type", "application/grpc"), ("te", "trailers")]


MALFORMED_HEADS = {
    "upper-case name": lambda head: head + [("Content-Encoding", "identity")],
    "connection-specific field": lambda head: head + [("connection", "keep-alive")],
    "transfer-encoding": lambda head: head + [("transfer-encoding", "chunked")],
    "te other than trailers": lambda head: [f for f in head if f[0] != "te"] + [("te", "gzip")],
    "missing :scheme": lambda head: [f for f in head if f[0] != ":scheme"],
    "missing :authority and host": lambda head: [f for f in head if f[0] != ":authority"],
    "pseudo-header after a regular field": lambda head: head[1:] + head[:1],
    "unknown pseudo-header": lambda head: [(":status", "200")] + head,
    "repeated :path": lambda head: head[:3] + [(":path", EMPTY_CALL)] + head[3:],
    "empty :path": lambda head: [(n, "" if n == ":path" else v) for n, v in head],
    ":path with a space": lambda head: [(n, "/a b" if n == ":path" else v) for n, v in head],
    "content-length not a number": lambda head: head + [("content-length", "5x")],
    "control character in a value": lambda head: head + [("x-custom", "bad\x01value")],
    "space at the start of a value": lambda head: head + [("x-custom", " value")],
    "space in a name": lambda head: head + [("x custom", "value")],
}


@pytest.mark.parametrize("label", MALFORMED_HEADS)
def test_malformed_request_head_reset_with_protocol_error(raw, label):
    """RFC 9113 §8.1.1: a malformed request is a stream error of type PROTOCOL_ERROR, before any
    handler runs; the connection goes on."""
    sid = raw.send_unchecked_headers(MALFORMED_HEADS[label](_request_head(raw)))
    raw.send(sid, grpc_frame(b""), end_stream=True)
    resp = raw.wait(sid, RPC_TIMEOUT)
    assert resp.reset_code == PROTOCOL_ERROR, f"{label}: {resp.describe()}"
    assert raw.call(EMPTY_CALL, grpc_frame(b""), timeout=RPC_TIMEOUT).grpc_status == 0


def test_body_longer_or_shorter_than_content_length_reset(raw):
    """DATA must add up to the content-length the request declared (RFC 9113 §8.1.1)."""
    for declared, body in ((3, grpc_frame(b"")), (9, grpc_frame(b""))):
        sid = raw.send_unchecked_headers(_request_head(raw) + [("content-length", str(declared))])
        raw.send(sid, body, end_stream=True)
        resp = raw.wait(sid, RPC_TIMEOUT)
        assert resp.reset_code == PROTOCOL_ERROR, f"content-length {declared}, {len(body)} bytes: {resp.describe()}"
    sid = raw.send_unchecked_headers(_request_head(raw) + [("content-length", "5")])
    raw.send(sid, grpc_frame(b""), end_stream=True)
    assert raw.wait(sid, RPC_TIMEOUT).grpc_status == 0


def test_pseudo_header_in_trailers_reset(raw):
    """Request trailers may not carry pseudo-header fields (RFC 9113 §8.1)."""
    sid = raw.send_unchecked_headers(_request_head(raw))
    raw.send(sid, grpc_frame(b""))
    raw.send_unchecked_headers([(":path", EMPTY_CALL)], sid=sid, end_stream=True)
    resp = raw.wait(sid, RPC_TIMEOUT)
    assert resp.reset_code == PROTOCOL_ERROR, resp.describe()


def test_trailers_without_end_stream_reset(raw):
    """Request trailers must end the stream (RFC 9113 §8.1). h2 refuses to send such a frame, so
    it is written by hand: one literal field, which leaves HPACK's tables as they were."""
    sid = raw.send_unchecked_headers(_request_head(raw))
    raw.send(sid, grpc_frame(b""))
    name, value = b"x-trailer", b"1"
    block = bytes([0x00, len(name)]) + name + bytes([len(value)]) + value
    END_HEADERS = 0x4
    raw.sock.sendall(len(block).to_bytes(3, "big") + bytes([0x1, END_HEADERS]) + sid.to_bytes(4, "big") + block)
    resp = raw.wait(sid, RPC_TIMEOUT)
    assert resp.reset_code == PROTOCOL_ERROR, resp.describe()
    assert raw.call(EMPTY_CALL, grpc_frame(b""), timeout=RPC_TIMEOUT).grpc_status == 0
