"""What a request or a response may cost the server, and what stock clients may do while it flows.

- Large streams both ways with grpcio (C-core), whose BDP pings while data flows must not count as
  ping abuse (gRFC A8: only pings with nothing sent in between are strikes).
- Strings are checked at decode time: invalid UTF-8 or a NUL is INVALID_ARGUMENT naming the field.
- Decoding has a memory budget per message; responses have a size limit.
- The interop services are served only with --test-services.
"""

from __future__ import annotations

import uuid

import grpc

from e2e_util import RPC_TIMEOUT, expect_rpc_error

STREAMING_OUTPUT = "/grpc.testing.TestService/StreamingOutputCall"
GET_PROPERTY = "/marketplace.v1.PropertyService/GetProperty"
UNARY_CALL = "/grpc.testing.TestService/UnaryCall"
MIB = 1024 * 1024


def length_delimited(number: int, payload: bytes) -> bytes:
    """One length-delimited protobuf field (field numbers < 16)."""
    size = len(payload)
    varint = bytearray()
    while True:
        byte, size = size & 0x7F, size >> 7
        varint.append(byte | (0x80 if size else 0))
        if not size:
            break
    return bytes([number << 3 | 2]) + bytes(varint) + payload


def test_large_server_stream_download_is_not_sent_away(channel, pb):
    """3,000 responses of 200 KB (572 MiB) to a grpcio client that pings while it downloads."""
    m = pb.messages_pb2
    stub = pb.test_pb2_grpc.TestServiceStub(channel)
    count, size = 3000, 200 * 1024
    request = m.StreamingOutputCallRequest(response_parameters=[m.ResponseParameters(size=size)] * count)
    received = 0
    for response in stub.StreamingOutputCall(request, timeout=120):
        assert len(response.payload.body) == size
        received += 1
    assert received == count


def test_large_client_stream_upload(channel, pb):
    """1,500 requests of 200 KB (293 MiB) uploaded on one stream."""
    m = pb.messages_pb2
    stub = pb.test_pb2_grpc.TestServiceStub(channel)
    count, size = 1500, 200 * 1024
    payload = m.StreamingInputCallRequest(payload=m.Payload(body=b"\0" * size))
    response = stub.StreamingInputCall(iter([payload] * count), timeout=120)
    assert response.aggregated_payload_size == count * size


def test_many_interleaved_uploads_all_complete(fresh_channel, pb):
    """40 client streams of 8 messages of 700 KiB at once all complete, whatever the bound on
    partial messages holds back while they interleave."""
    m = pb.messages_pb2
    stub = pb.test_pb2_grpc.TestServiceStub(fresh_channel)
    size = 700 * 1024
    request = m.StreamingInputCallRequest(payload=m.Payload(body=b"\0" * size))
    calls = [stub.StreamingInputCall.future(iter([request] * 8), timeout=60) for _ in range(40)]
    assert [call.result(timeout=90).aggregated_payload_size for call in calls] == [8 * size] * 40


def test_invalid_utf8_in_a_string_is_invalid_argument_naming_it(channel):
    call = channel.unary_unary(GET_PROPERTY, request_serializer=None, response_deserializer=None)
    err = expect_rpc_error("property_id of bytes FF FE", call, length_delimited(1, b"\xff\xfe"),
                           timeout=RPC_TIMEOUT, expected=grpc.StatusCode.INVALID_ARGUMENT)
    assert "property_id" in err.details() and "UTF-8" in err.details()


def test_nul_inside_a_string_is_refused_not_cut(channel):
    """'<uuid>\\0junk' must not be read as the uuid."""
    call = channel.unary_unary(GET_PROPERTY, request_serializer=None, response_deserializer=None)
    value = str(uuid.uuid4()).encode() + b"\0junk"
    err = expect_rpc_error("property_id with a NUL", call, length_delimited(1, value),
                           timeout=RPC_TIMEOUT, expected=grpc.StatusCode.INVALID_ARGUMENT)
    assert "property_id" in err.details() and "NUL" in err.details()


def test_nested_string_is_checked_with_its_path(channel):
    """SimpleRequest.response_status.message, two levels down."""
    call = channel.unary_unary(UNARY_CALL, request_serializer=None, response_deserializer=None)
    request = length_delimited(7, length_delimited(2, b"ok\xc0\x80"))
    err = expect_rpc_error("nested invalid UTF-8", call, request, timeout=RPC_TIMEOUT,
                           expected=grpc.StatusCode.INVALID_ARGUMENT)
    assert "response_status.message" in err.details()


def test_oversized_shape_requests_keep_memory_bounded(own_server, pb):
    """100 concurrent 4 MB requests of 2M empty sub-messages each: protobuf-c would size them at
    ~224 MiB apiece; the arena budget (8 x 4 MiB) refuses each one. Their partial messages are
    bounded too (over 8 MiB held, only the oldest gets stream credit): 169 MiB measured, 400 before."""
    server = own_server()
    request = b"\x12\x00" * 2_000_000  # StreamingOutputCallRequest.response_parameters, all empty
    channel = grpc.insecure_channel(f"127.0.0.1:{server.port}")
    try:
        call = channel.unary_unary(STREAMING_OUTPUT, request_serializer=None, response_deserializer=None)
        futures = [call.future(request, timeout=60) for _ in range(100)]
        codes = []
        for future in futures:
            try:
                future.result(timeout=90)
                codes.append(grpc.StatusCode.OK)
            except grpc.RpcError as err:
                codes.append(err.code())
        assert codes == [grpc.StatusCode.RESOURCE_EXHAUSTED] * 100, set(codes)
        # The connection and the server go on.
        m = pb.messages_pb2
        stub = pb.test_pb2_grpc.TestServiceStub(channel)
        request = m.StreamingOutputCallRequest(response_parameters=[m.ResponseParameters(size=10)] * 3)
        assert [len(r.payload.body) for r in stub.StreamingOutputCall(request, timeout=RPC_TIMEOUT)] == [10] * 3
    finally:
        channel.close()
    peak = server.peak_rss_kib()
    assert peak < 256 * 1024, f"peak RSS {peak // 1024} MiB (bound 256 MiB)"


def test_responses_over_the_send_limit_are_resource_exhausted(channel, target, pb):
    """The default max send message size is 4 MiB; the handler refuses before building."""
    m = pb.messages_pb2
    test = pb.test_pb2_grpc.TestServiceStub(channel)
    benchmark = pb.benchmark_pb2_grpc.BenchmarkServiceStub(channel)
    too_big = 4 * MIB + 1
    for what, call in [
        ("UnaryCall", lambda: test.UnaryCall(m.SimpleRequest(response_size=too_big), timeout=RPC_TIMEOUT)),
        ("BenchmarkService.UnaryCall",
         lambda: benchmark.UnaryCall(m.SimpleRequest(response_size=2**31 - 1), timeout=RPC_TIMEOUT)),
        ("StreamingOutputCall", lambda: list(test.StreamingOutputCall(
            m.StreamingOutputCallRequest(response_parameters=[m.ResponseParameters(size=too_big)]),
            timeout=RPC_TIMEOUT))),
    ]:
        err = expect_rpc_error(what, call, expected=grpc.StatusCode.RESOURCE_EXHAUSTED)
        assert "limit" in err.details(), err.details()
    # Exactly the limit still goes (the client's own receive limit raised to take it).
    big_channel = grpc.insecure_channel(target, options=[("grpc.max_receive_message_length", 8 * MIB)])
    try:
        stub = pb.test_pb2_grpc.TestServiceStub(big_channel)
        body = 4 * MIB - 16  # the payload's own tag and length make it just under 4 MiB on the wire
        assert len(stub.UnaryCall(m.SimpleRequest(response_size=body), timeout=RPC_TIMEOUT).payload.body) == body
    finally:
        big_channel.close()


def test_interop_services_only_with_the_flag(own_server, pb):
    server = own_server(test_services=False)
    channel = grpc.insecure_channel(f"127.0.0.1:{server.port}")
    try:
        reflection = pb.reflection_v1_pb2_grpc.ServerReflectionStub(channel)
        request = pb.reflection_v1_pb2.ServerReflectionRequest(list_services="")
        listed = [s.name for r in reflection.ServerReflectionInfo(iter([request]), timeout=RPC_TIMEOUT)
                  for s in r.list_services_response.service]
        assert "grpc.health.v1.Health" in listed
        assert not [name for name in listed if name.startswith("grpc.testing.")], listed
        stub = pb.test_pb2_grpc.TestServiceStub(channel)
        expect_rpc_error("TestService without --test-services", stub.EmptyCall, pb.empty_pb2.Empty(),
                         timeout=RPC_TIMEOUT, expected=grpc.StatusCode.UNIMPLEMENTED)
    finally:
        channel.close()
