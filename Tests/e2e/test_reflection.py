"""gRPC server reflection, both grpc.reflection.v1 and grpc.reflection.v1alpha."""

from __future__ import annotations

import uuid

import pytest
from google.protobuf import descriptor_pb2

from e2e_util import RPC_TIMEOUT

REQUIRED_SERVICES = {
    "grpc.health.v1.Health",
    "grpc.reflection.v1.ServerReflection",
    "grpc.testing.TestService",
    "grpc.testing.BenchmarkService",
}
NOT_FOUND = 5


class Reflection:
    def __init__(self, channel, pb2, pb2_grpc):
        self.pb2 = pb2
        self.stub = pb2_grpc.ServerReflectionStub(channel)

    def ask_all(self, *requests):
        """Send requests on one ServerReflectionInfo stream, return one response per request."""
        call = self.stub.ServerReflectionInfo(iter(requests), timeout=RPC_TIMEOUT)
        responses = list(call)
        assert len(responses) == len(requests), (
            f"{len(requests)} reflection requests got {len(responses)} responses")
        return responses

    def ask(self, **kw):
        return self.ask_all(self.pb2.ServerReflectionRequest(**kw))[0]


@pytest.fixture(params=["v1", "v1alpha"])
def reflection(request, channel, pb):
    version = request.param
    return Reflection(channel, getattr(pb, f"reflection_{version}_pb2"), getattr(pb, f"reflection_{version}_pb2_grpc"))


def _file_descriptors(resp, what):
    kind = resp.WhichOneof("message_response")
    assert kind == "file_descriptor_response", (
        f"{what}: expected file_descriptor_response, got {kind}: {resp}")
    files = []
    for raw in resp.file_descriptor_response.file_descriptor_proto:
        fd = descriptor_pb2.FileDescriptorProto()
        fd.ParseFromString(raw)
        files.append(fd)
    assert files, f"{what}: empty file_descriptor_response"
    return files


def test_list_services(reflection):
    resp = reflection.ask(list_services="")
    assert resp.WhichOneof("message_response") == "list_services_response", f"unexpected response: {resp}"
    names = {s.name for s in resp.list_services_response.service}
    missing = REQUIRED_SERVICES - names
    assert not missing, f"list_services lacks {sorted(missing)}; got {sorted(names)}"


def test_response_echoes_original_request(reflection):
    req = reflection.pb2.ServerReflectionRequest(list_services="*")
    resp = reflection.ask_all(req)[0]
    assert resp.original_request == req, f"original_request {resp.original_request} != sent {req}"


def test_file_containing_symbol_service(reflection):
    files = _file_descriptors(reflection.ask(file_containing_symbol="grpc.testing.TestService"),
                              "file_containing_symbol(grpc.testing.TestService)")
    by_name = {f.name: f for f in files}
    assert "grpc/testing/test.proto" in by_name, f"got files {list(by_name)}"
    test_proto = by_name["grpc/testing/test.proto"]
    assert test_proto.package == "grpc.testing"
    assert "TestService" in [s.name for s in test_proto.service]
    methods = {mth.name for s in test_proto.service if s.name == "TestService" for mth in s.method}
    assert {"EmptyCall", "UnaryCall", "FullDuplexCall"} <= methods, f"TestService methods: {methods}"


def test_file_containing_symbol_message(reflection):
    files = _file_descriptors(reflection.ask(file_containing_symbol="grpc.testing.SimpleRequest"),
                              "file_containing_symbol(grpc.testing.SimpleRequest)")
    assert "grpc/testing/messages.proto" in [f.name for f in files], f"got files {[f.name for f in files]}"


def test_file_by_filename(reflection):
    files = _file_descriptors(reflection.ask(file_by_filename="grpc/testing/messages.proto"),
                              "file_by_filename(grpc/testing/messages.proto)")
    by_name = {f.name: f for f in files}
    assert "grpc/testing/messages.proto" in by_name, f"got files {list(by_name)}"
    messages = {mt.name for mt in by_name["grpc/testing/messages.proto"].message_type}
    assert {"SimpleRequest", "SimpleResponse", "Payload"} <= messages, f"message types: {sorted(messages)}"


def test_unknown_symbol_not_found(reflection):
    resp = reflection.ask(file_containing_symbol="marketplace.e2e.NoSuchSymbol")
    assert resp.WhichOneof("message_response") == "error_response", f"expected error_response, got {resp}"
    assert resp.error_response.error_code == NOT_FOUND, (
        f"error_code {resp.error_response.error_code}, expected {NOT_FOUND} (NOT_FOUND)")


def test_unknown_filename_not_found(reflection):
    resp = reflection.ask(file_by_filename="marketplace/e2e/no_such_file.proto")
    assert resp.WhichOneof("message_response") == "error_response", f"expected error_response, got {resp}"
    assert resp.error_response.error_code == NOT_FOUND


def test_several_requests_on_one_stream(reflection):
    pb2 = reflection.pb2
    responses = reflection.ask_all(
        pb2.ServerReflectionRequest(list_services=""),
        pb2.ServerReflectionRequest(file_by_filename="grpc/testing/test.proto"),
        pb2.ServerReflectionRequest(file_containing_symbol="marketplace.e2e.NoSuchSymbol"),
    )
    kinds = [r.WhichOneof("message_response") for r in responses]
    assert kinds == ["list_services_response", "file_descriptor_response", "error_response"], kinds


def test_marketplace_api_is_discoverable_and_callable_by_reflection_alone(reflection, channel, seeded):
    """What grpcurl does: list, fetch the service's file and its imports, build a descriptor pool,
    then call a method with messages made from the reflected descriptors only."""
    from google.protobuf import descriptor_pool, message_factory

    names = {s.name for s in reflection.ask(list_services="").list_services_response.service}
    assert "marketplace.v1.PropertyService" in names, sorted(names)

    files = {}
    pending = [f for f in _file_descriptors(
        reflection.ask(file_containing_symbol="marketplace.v1.PropertyService"), "PropertyService")]
    while pending:
        fd = pending.pop()
        files[fd.name] = fd
        for dependency in fd.dependency:
            if dependency not in files and all(p.name != dependency for p in pending):
                pending += _file_descriptors(reflection.ask(file_by_filename=dependency), dependency)
    assert {"marketplace/v1/properties.proto", "marketplace/v1/common.proto",
            "google/protobuf/timestamp.proto"} <= set(files), sorted(files)

    pool = descriptor_pool.DescriptorPool()
    added = set()

    def add(name):
        if name in added:
            return
        for dependency in files[name].dependency:
            add(dependency)
        pool.Add(files[name])
        added.add(name)

    for name in files:
        add(name)
    method = pool.FindServiceByName("marketplace.v1.PropertyService").FindMethodByName("SearchProperties")
    request_class = message_factory.GetMessageClass(method.input_type)
    response_class = message_factory.GetMessageClass(method.output_type)
    call = channel.unary_unary("/marketplace.v1.PropertyService/SearchProperties",
                               request_serializer=request_class.SerializeToString,
                               response_deserializer=response_class.FromString)
    response = call(request_class(page_size=2), timeout=RPC_TIMEOUT)
    assert len(response.properties) == 2 and response.next_page_token, response
    for listing in response.properties:
        assert str(uuid.UUID(listing.id)) == listing.id
        assert len(listing.price_per_night.currency) == 3 and listing.price_per_night.amount_minor > 0
