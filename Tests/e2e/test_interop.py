"""Standard gRPC interop test cases (grpc/doc/interop-test-descriptions.md)
against grpc.testing.TestService, plus gzip-channel variants and BenchmarkService.

Cases needing wire-level visibility (compressed-flag bits, per-message
compression) use the raw HTTP/2 client in h2raw.py.
"""

from __future__ import annotations

import time

import grpc
import pytest

from e2e_util import RPC_TIMEOUT, RequestStream, code_name, expect_rpc_error, metadata_pairs, zeros
from h2raw import grpc_frame, gzip_frame

LARGE_REQ, LARGE_RESP = 271828, 314159
CLIENT_STREAM_SIZES = [27182, 8, 1828, 45904]
SERVER_STREAM_SIZES = [31415, 9, 2653, 58979]
ECHO_INITIAL_KEY, ECHO_INITIAL_VALUE = "x-grpc-test-echo-initial", "test_initial_metadata_value"
ECHO_TRAILING_KEY, ECHO_TRAILING_VALUE = "x-grpc-test-echo-trailing-bin", b"\xab\xab\xab"
SPECIAL_MESSAGE = "\t\ntest with whitespace\r\nand Unicode BMP \u263a and non-BMP \U0001f608\t\n"


def large_request(pb, **kw):
    m = pb.messages_pb2
    return m.SimpleRequest(response_size=LARGE_RESP, payload=m.Payload(body=zeros(LARGE_REQ)), **kw)


def assert_zero_body(body: bytes, size: int, what: str):
    assert len(body) == size, f"{what}: payload body is {len(body)} bytes, expected {size}"
    assert body == zeros(size), f"{what}: payload body is not all zeros"


def empty_call_works(channel, pb):
    stub = pb.test_pb2_grpc.TestServiceStub(channel)
    resp = stub.EmptyCall(pb.empty_pb2.Empty(), timeout=RPC_TIMEOUT)
    assert isinstance(resp, pb.empty_pb2.Empty)


# --------------------------------------------------------------------------- basic


def test_empty_unary(stub, pb):
    resp = stub.EmptyCall(pb.empty_pb2.Empty(), timeout=RPC_TIMEOUT)
    assert isinstance(resp, pb.empty_pb2.Empty), f"EmptyCall returned {type(resp)}"
    assert resp.ByteSize() == 0


def test_large_unary(stub, pb):
    resp = stub.UnaryCall(large_request(pb), timeout=RPC_TIMEOUT)
    assert_zero_body(resp.payload.body, LARGE_RESP, "large_unary")


def test_client_streaming(stub, pb):
    m = pb.messages_pb2
    reqs = [m.StreamingInputCallRequest(payload=m.Payload(body=zeros(n))) for n in CLIENT_STREAM_SIZES]
    resp = stub.StreamingInputCall(iter(reqs), timeout=RPC_TIMEOUT)
    assert resp.aggregated_payload_size == 74922, (
        f"aggregated_payload_size={resp.aggregated_payload_size}, expected 74922")


def test_server_streaming(stub, pb):
    m = pb.messages_pb2
    req = m.StreamingOutputCallRequest(
        response_parameters=[m.ResponseParameters(size=n) for n in SERVER_STREAM_SIZES])
    call = stub.StreamingOutputCall(req, timeout=RPC_TIMEOUT)
    sizes = [len(r.payload.body) for r in call]
    assert sizes == SERVER_STREAM_SIZES, f"response sizes {sizes}, expected {SERVER_STREAM_SIZES}"
    assert call.code() == grpc.StatusCode.OK


def _ping_pong(channel, pb):
    m = pb.messages_pb2
    stub = pb.test_pb2_grpc.TestServiceStub(channel)
    reqs = RequestStream()
    call = stub.FullDuplexCall(reqs, timeout=RPC_TIMEOUT)
    try:
        for req_size, resp_size in zip(CLIENT_STREAM_SIZES, SERVER_STREAM_SIZES):
            reqs.send(m.StreamingOutputCallRequest(
                response_parameters=[m.ResponseParameters(size=resp_size)],
                payload=m.Payload(body=zeros(req_size))))
            resp = next(call)
            assert_zero_body(resp.payload.body, resp_size, f"ping_pong response for {req_size}-byte request")
        reqs.close()
        extra = list(call)
        assert extra == [], f"ping_pong: {len(extra)} unexpected extra responses after half-close"
        assert call.code() == grpc.StatusCode.OK, f"ping_pong ended with {code_name(call.code())}"
    finally:
        reqs.close()
        call.cancel()


def test_ping_pong(channel, pb):
    _ping_pong(channel, pb)


def test_empty_stream(stub):
    call = stub.FullDuplexCall(iter(()), timeout=RPC_TIMEOUT)
    responses = list(call)
    assert responses == [], f"empty_stream: got {len(responses)} responses, expected none"
    assert call.code() == grpc.StatusCode.OK


# --------------------------------------------------------------------- cancellation / deadlines


def test_cancel_after_begin(channel, stub, pb):
    reqs = RequestStream()
    future = stub.StreamingInputCall.future(reqs, timeout=RPC_TIMEOUT)
    try:
        future.cancel()
        assert future.code() == grpc.StatusCode.CANCELLED, f"got {code_name(future.code())}"
    finally:
        reqs.close()
    empty_call_works(channel, pb)  # server coped with the RST_STREAM


def test_cancel_after_first_response(channel, stub, pb):
    m = pb.messages_pb2
    reqs = RequestStream()
    call = stub.FullDuplexCall(reqs, timeout=RPC_TIMEOUT)
    try:
        reqs.send(m.StreamingOutputCallRequest(
            response_parameters=[m.ResponseParameters(size=31415)], payload=m.Payload(body=zeros(27182))))
        first = next(call)
        assert len(first.payload.body) == 31415
        call.cancel()
        expect_rpc_error("cancel_after_first_response: next() after cancel", next, call,
                         expected=grpc.StatusCode.CANCELLED)
        assert call.code() == grpc.StatusCode.CANCELLED
    finally:
        reqs.close()
    empty_call_works(channel, pb)


def test_timeout_on_sleeping_server(channel, stub, pb):
    m = pb.messages_pb2
    reqs = RequestStream()
    # The server sleeps interval_us before its response; the stream stays open.
    reqs.send(m.StreamingOutputCallRequest(
        payload=m.Payload(body=zeros(27182)),
        response_parameters=[m.ResponseParameters(size=31415, interval_us=2_000_000)]))
    call = stub.FullDuplexCall(reqs, timeout=0.001)
    started = time.monotonic()
    try:
        expect_rpc_error("timeout_on_sleeping_server", list, call, expected=grpc.StatusCode.DEADLINE_EXCEEDED)
        assert time.monotonic() - started < RPC_TIMEOUT
    finally:
        reqs.close()
    empty_call_works(channel, pb)


# ------------------------------------------------------------------------- status


def test_status_code_and_message_unary(stub, pb):
    m = pb.messages_pb2
    req = m.SimpleRequest(response_status=m.EchoStatus(code=2, message="test status message"))
    err = expect_rpc_error("status_code_and_message (UnaryCall)", stub.UnaryCall, req, timeout=RPC_TIMEOUT,
                           expected=grpc.StatusCode.UNKNOWN)
    assert err.details() == "test status message", f"status message {err.details()!r}"


def test_status_code_and_message_full_duplex(stub, pb):
    m = pb.messages_pb2
    req = m.StreamingOutputCallRequest(response_status=m.EchoStatus(code=2, message="test status message"))
    call = stub.FullDuplexCall(iter([req]), timeout=RPC_TIMEOUT)
    err = expect_rpc_error("status_code_and_message (FullDuplexCall)", list, call, expected=grpc.StatusCode.UNKNOWN)
    assert err.details() == "test status message", f"status message {err.details()!r}"


def test_special_status_message(stub, pb):
    m = pb.messages_pb2
    req = m.SimpleRequest(response_status=m.EchoStatus(code=2, message=SPECIAL_MESSAGE))
    err = expect_rpc_error("special_status_message", stub.UnaryCall, req, timeout=RPC_TIMEOUT,
                           expected=grpc.StatusCode.UNKNOWN)
    assert err.details() == SPECIAL_MESSAGE, (
        f"status message not preserved: got {err.details()!r}, expected {SPECIAL_MESSAGE!r}")


def test_unimplemented_method(stub, pb):
    expect_rpc_error("TestService/UnimplementedCall", stub.UnimplementedCall, pb.empty_pb2.Empty(),
                     timeout=RPC_TIMEOUT, expected=grpc.StatusCode.UNIMPLEMENTED)


def test_unimplemented_service(channel, pb):
    stub = pb.test_pb2_grpc.UnimplementedServiceStub(channel)
    expect_rpc_error("UnimplementedService/UnimplementedCall", stub.UnimplementedCall, pb.empty_pb2.Empty(),
                     timeout=RPC_TIMEOUT, expected=grpc.StatusCode.UNIMPLEMENTED)


# ------------------------------------------------------------------------- metadata

ECHO_METADATA = ((ECHO_INITIAL_KEY, ECHO_INITIAL_VALUE), (ECHO_TRAILING_KEY, ECHO_TRAILING_VALUE))


def _assert_echoed(initial, trailing, what):
    initial, trailing = metadata_pairs(initial), metadata_pairs(trailing)
    assert (ECHO_INITIAL_KEY, ECHO_INITIAL_VALUE) in initial, (
        f"{what}: {ECHO_INITIAL_KEY} not echoed in initial metadata: {initial}")
    assert (ECHO_TRAILING_KEY, ECHO_TRAILING_VALUE) in trailing, (
        f"{what}: {ECHO_TRAILING_KEY} not echoed in trailing metadata: {trailing}")
    # Each once: the server once sent every trailing entry twice.
    assert [k for k, _ in initial].count(ECHO_INITIAL_KEY) == 1, f"{what}: initial metadata {initial}"
    assert [k for k, _ in trailing].count(ECHO_TRAILING_KEY) == 1, f"{what}: trailing metadata {trailing}"


def test_custom_metadata_unary(stub, pb):
    resp, call = stub.UnaryCall.with_call(large_request(pb), metadata=ECHO_METADATA, timeout=RPC_TIMEOUT)
    assert len(resp.payload.body) == LARGE_RESP
    _assert_echoed(call.initial_metadata(), call.trailing_metadata(), "UnaryCall")


def test_custom_metadata_full_duplex(stub, pb):
    m = pb.messages_pb2
    req = m.StreamingOutputCallRequest(
        response_parameters=[m.ResponseParameters(size=LARGE_RESP)], payload=m.Payload(body=zeros(LARGE_REQ)))
    call = stub.FullDuplexCall(iter([req]), metadata=ECHO_METADATA, timeout=RPC_TIMEOUT)
    sizes = [len(r.payload.body) for r in call]
    assert sizes == [LARGE_RESP]
    assert call.code() == grpc.StatusCode.OK
    _assert_echoed(call.initial_metadata(), call.trailing_metadata(), "FullDuplexCall")


# ----------------------------------------------------------------------- compression


def test_client_compressed_unary_probe_rejects_uncompressed(stub, pb):
    """expect_compressed=true on an uncompressed request must fail with INVALID_ARGUMENT."""
    req = large_request(pb, expect_compressed=pb.messages_pb2.BoolValue(value=True))
    expect_rpc_error("client_compressed_unary probe (uncompressed request, expect_compressed=true)",
                     stub.UnaryCall, req, timeout=RPC_TIMEOUT, compression=grpc.Compression.NoCompression,
                     expected=grpc.StatusCode.INVALID_ARGUMENT)


def test_client_compressed_unary(stub, pb):
    m = pb.messages_pb2
    compressed = stub.UnaryCall(large_request(pb, expect_compressed=m.BoolValue(value=True)),
                                timeout=RPC_TIMEOUT, compression=grpc.Compression.Gzip)
    assert_zero_body(compressed.payload.body, LARGE_RESP, "compressed request")
    plain = stub.UnaryCall(large_request(pb, expect_compressed=m.BoolValue(value=False)),
                           timeout=RPC_TIMEOUT, compression=grpc.Compression.NoCompression)
    assert_zero_body(plain.payload.body, LARGE_RESP, "uncompressed request")


def test_client_compressed_streaming_probe_rejects_uncompressed(stub, pb):
    m = pb.messages_pb2
    req = m.StreamingInputCallRequest(expect_compressed=m.BoolValue(value=True), payload=m.Payload(body=zeros(27182)))
    expect_rpc_error("client_compressed_streaming probe (uncompressed message, expect_compressed=true)",
                     stub.StreamingInputCall, iter([req]), timeout=RPC_TIMEOUT,
                     compression=grpc.Compression.NoCompression, expected=grpc.StatusCode.INVALID_ARGUMENT)


def test_client_compressed_streaming(raw, pb):
    """First message gzip-compressed (flag 1), second uncompressed (flag 0), same stream."""
    m = pb.messages_pb2
    first = m.StreamingInputCallRequest(expect_compressed=m.BoolValue(value=True), payload=m.Payload(body=zeros(27182)))
    second = m.StreamingInputCallRequest(expect_compressed=m.BoolValue(value=False), payload=m.Payload(body=zeros(45904)))
    body = gzip_frame(first.SerializeToString()) + grpc_frame(second.SerializeToString())
    resp = raw.call("/grpc.testing.TestService/StreamingInputCall", body, timeout=RPC_TIMEOUT,
                    extra_headers=[("grpc-encoding", "gzip"), ("grpc-accept-encoding", "identity,gzip")])
    assert resp.grpc_status == 0, f"client_compressed_streaming failed: {resp.grpc_status} {resp.grpc_message!r}; {resp.describe()}"
    msgs = resp.messages()
    assert len(msgs) == 1, f"expected one response message, got {len(msgs)}"
    out = m.StreamingInputCallResponse.FromString(msgs[0].decoded(resp.header("grpc-encoding")))
    assert out.aggregated_payload_size == 73086, f"aggregated_payload_size={out.aggregated_payload_size}, expected 73086"


def test_client_compressed_streaming_grpcio(stub, pb):
    """Same as above with grpcio call-level gzip (every message compressed)."""
    m = pb.messages_pb2
    reqs = [m.StreamingInputCallRequest(expect_compressed=m.BoolValue(value=True), payload=m.Payload(body=zeros(27182))),
            m.StreamingInputCallRequest(expect_compressed=m.BoolValue(value=False), payload=m.Payload(body=zeros(45904)))]
    resp = stub.StreamingInputCall(iter(reqs), timeout=RPC_TIMEOUT, compression=grpc.Compression.Gzip)
    assert resp.aggregated_payload_size == 73086


@pytest.mark.parametrize("response_compressed", [True, False])
def test_server_compressed_unary(raw, pb, response_compressed):
    m = pb.messages_pb2
    req = large_request(pb, response_compressed=m.BoolValue(value=response_compressed))
    resp = raw.call("/grpc.testing.TestService/UnaryCall", grpc_frame(req.SerializeToString()),
                    timeout=RPC_TIMEOUT, extra_headers=[("grpc-accept-encoding", "identity,gzip")])
    assert resp.http_status == 200 and resp.grpc_status == 0, f"call failed: {resp.describe()}"
    msgs = resp.messages()
    assert len(msgs) == 1, f"expected 1 response message, got {len(msgs)}"
    assert msgs[0].compressed == response_compressed, (
        f"response_compressed={response_compressed} but compressed flag is {int(msgs[0].compressed)}")
    if response_compressed:
        assert resp.header("grpc-encoding") == "gzip", f"grpc-encoding header is {resp.header('grpc-encoding')!r}"
    out = m.SimpleResponse.FromString(msgs[0].decoded(resp.header("grpc-encoding")))
    assert_zero_body(out.payload.body, LARGE_RESP, "server_compressed_unary")


@pytest.mark.parametrize("response_compressed", [True, False])
def test_server_compressed_unary_grpcio(stub, pb, response_compressed):
    req = large_request(pb, response_compressed=pb.messages_pb2.BoolValue(value=response_compressed))
    resp = stub.UnaryCall(req, timeout=RPC_TIMEOUT)
    assert_zero_body(resp.payload.body, LARGE_RESP, "server_compressed_unary")


def test_server_compressed_streaming(raw, pb):
    m = pb.messages_pb2
    req = m.StreamingOutputCallRequest(response_parameters=[
        m.ResponseParameters(size=31415, compressed=m.BoolValue(value=True)),
        m.ResponseParameters(size=92653, compressed=m.BoolValue(value=False)),
    ])
    resp = raw.call("/grpc.testing.TestService/StreamingOutputCall", grpc_frame(req.SerializeToString()),
                    timeout=RPC_TIMEOUT, extra_headers=[("grpc-accept-encoding", "identity,gzip")])
    assert resp.http_status == 200 and resp.grpc_status == 0, f"call failed: {resp.describe()}"
    msgs = resp.messages()
    assert [x.compressed for x in msgs] == [True, False], (
        f"compressed flags {[int(x.compressed) for x in msgs]}, expected [1, 0]")
    assert resp.header("grpc-encoding") == "gzip"
    sizes = [len(m.StreamingOutputCallResponse.FromString(x.decoded("gzip")).payload.body) for x in msgs]
    assert sizes == [31415, 92653]


def test_server_compressed_streaming_uncompressed_first(raw, pb):
    """An uncompressed message before a compressed one: order kept, grpc-encoding sent up front."""
    m = pb.messages_pb2
    req = m.StreamingOutputCallRequest(response_parameters=[
        m.ResponseParameters(size=10, compressed=m.BoolValue(value=False)),
        m.ResponseParameters(size=20, compressed=m.BoolValue(value=True)),
        m.ResponseParameters(size=30, compressed=m.BoolValue(value=False)),
    ])
    resp = raw.call("/grpc.testing.TestService/StreamingOutputCall", grpc_frame(req.SerializeToString()),
                    timeout=RPC_TIMEOUT, extra_headers=[("grpc-accept-encoding", "identity,gzip")])
    assert resp.grpc_status == 0, f"call failed: {resp.describe()}"
    msgs = resp.messages()
    assert [x.compressed for x in msgs] == [False, True, False]
    assert resp.header("grpc-encoding") == "gzip"
    sizes = [len(m.StreamingOutputCallResponse.FromString(x.decoded("gzip")).payload.body) for x in msgs]
    assert sizes == [10, 20, 30]


# ----------------------------------------------------------------- gzip channel variants


def test_large_unary_gzip_channel(gzip_channel, pb):
    stub = pb.test_pb2_grpc.TestServiceStub(gzip_channel)
    resp = stub.UnaryCall(large_request(pb), timeout=RPC_TIMEOUT)
    assert_zero_body(resp.payload.body, LARGE_RESP, "large_unary over gzip channel")


def test_ping_pong_gzip_channel(gzip_channel, pb):
    _ping_pong(gzip_channel, pb)


# ------------------------------------------------------------------- BenchmarkService
# Requests carry response_size == len(payload) with a zero payload, so both
# readings of the service (echo the payload / answer response_size zero bytes)
# give the same response.


def _bench_request(pb, size):
    m = pb.messages_pb2
    return m.SimpleRequest(response_size=size, payload=m.Payload(body=zeros(size)))


@pytest.mark.parametrize("size", [0, 1, 1024, 65536])
def test_benchmark_unary(channel, pb, size):
    stub = pb.benchmark_pb2_grpc.BenchmarkServiceStub(channel)
    resp = stub.UnaryCall(_bench_request(pb, size), timeout=RPC_TIMEOUT)
    assert_zero_body(resp.payload.body, size, "BenchmarkService/UnaryCall")


def test_benchmark_streaming(channel, pb):
    stub = pb.benchmark_pb2_grpc.BenchmarkServiceStub(channel)
    reqs = RequestStream()
    call = stub.StreamingCall(reqs, timeout=RPC_TIMEOUT)
    try:
        for size in [1, 100, 4096, 0, 70000]:
            reqs.send(_bench_request(pb, size))
            resp = next(call)
            assert_zero_body(resp.payload.body, size, f"StreamingCall round trip of {size} bytes")
        reqs.close()
        assert list(call) == []
        assert call.code() == grpc.StatusCode.OK
    finally:
        reqs.close()
        call.cancel()
