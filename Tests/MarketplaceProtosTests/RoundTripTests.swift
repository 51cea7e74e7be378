import MarketplaceProtos
import RPCCore
import Testing

@Suite("generated views and builders")
struct RoundTripTests {
  @Test("a builder packs the protobuf encoding byte for byte")
  func knownEncoding() {
    let request = Grpc_Testing_SimpleRequest.builder(in: Arena.make())
    request.responseSize = 100
    // field 2 (varint) = 100
    #expect(request.serializedBytes() == [0x10, 0x64])
    request.payload.setBody([1, 2, 3])
    // + field 3 (length-delimited) = Payload { field 2 (bytes) = 01 02 03 }
    #expect(request.serializedBytes() == [0x10, 0x64, 0x1a, 0x05, 0x12, 0x03, 1, 2, 3])
  }

  @Test("scalars, strings, bytes, nested messages and enums survive pack and unpack")
  func nested() throws {
    let builder = Grpc_Testing_SimpleRequest.builder(in: Arena.make())
    builder.responseSize = 314_159
    builder.fillUsername = true
    builder.responseCompressed.value = true
    builder.responseStatus.code = 2
    builder.responseStatus.message = "test status message ☺"
    builder.payload.setBody(count: 5000) { $0.initializeMemory(as: UInt8.self, repeating: 7) }
    builder.responseType = .compressable

    let view = try Grpc_Testing_SimpleRequest.parse(builder.serializedBytes())
    #expect(view.responseSize == 314_159)
    #expect(view.fillUsername)
    #expect(!view.fillOauthScope)
    #expect(view.responseCompressed?.value == true)
    #expect(view.expectCompressed == nil)
    #expect(view.responseStatus?.code == 2)
    #expect(view.responseStatus?.message == "test status message ☺")
    #expect(view.payload?.body.count == 5000)
    #expect(view.payload?.body.allSatisfy { $0 == 7 } == true)
    #expect(view.responseType == .compressable)
  }

  @Test("repeated messages and oneofs")
  func repeatedAndOneof() throws {
    let response = Grpc_Reflection_V1_ServerReflectionResponse.builder(in: Arena.make())
    response.validHost = "localhost"
    response.originalRequest.listServices = "*"
    let list = response.listServicesResponse
    for name in ["a.A", "b.B", "c.C", "d.D", "e.E", "f.F"] { list.addService().name = name }

    let view = try Grpc_Reflection_V1_ServerReflectionResponse.parse(response.serializedBytes())
    #expect(view.validHost == "localhost")
    guard case .listServices(let value) = view.originalRequest?.messageRequest else {
      Issue.record("expected list_services in the original request")
      return
    }
    #expect(value == "*")
    guard case .listServicesResponse(let services) = view.messageResponse else {
      Issue.record("expected a list_services_response")
      return
    }
    #expect(services.service.map(\.name) == ["a.A", "b.B", "c.C", "d.D", "e.E", "f.F"])
    #expect(view.errorResponse == nil)
  }

  @Test("repeated bytes")
  func repeatedBytes() throws {
    let response = Grpc_Reflection_V1_FileDescriptorResponse.builder(in: Arena.make())
    response.appendFileDescriptorProto([1, 2])
    response.appendFileDescriptorProto([])
    response.appendFileDescriptorProto(Array(repeating: 9, count: 300))
    let view = try Grpc_Reflection_V1_FileDescriptorResponse.parse(response.serializedBytes())
    #expect(view.fileDescriptorProto.map { Array($0) } == [[1, 2], [], Array(repeating: 9, count: 300)])
  }

  @Test("bytes that are not a valid message do not parse", arguments: [[0xff, 0xff, 0xff, 0xff], [0x1a, 0x10, 0x01]])
  func garbage(_ bytes: [UInt8]) {
    #expect(throws: MessageDecodingError.malformed) { try Grpc_Testing_SimpleRequest.parse(bytes) }
  }

  @Test("an empty buffer is the empty message")
  func empty() throws {
    let view = try Grpc_Testing_SimpleRequest.parse([UInt8]())
    #expect(view.responseSize == 0 && view.payload == nil)
  }
}

@Suite("proto registry")
struct ProtoRegistryTests {
  @Test("every compiled file is registered once, with its symbols")
  func files() throws {
    let names = ProtoRegistry.files.map(\.name)
    #expect(Set(names).count == names.count)
    for expected in [
      "grpc/testing/test.proto", "grpc/testing/messages.proto", "grpc/health/v1/health.proto",
      "grpc/reflection/v1/reflection.proto", "marketplace/v1/common.proto",
    ] {
      #expect(names.contains(expected), "\(expected) missing")
    }
    let test = try #require(ProtoRegistry.files.first { $0.name == "grpc/testing/test.proto" })
    #expect(test.symbols.contains("grpc.testing.TestService"))
    #expect(test.symbols.contains("grpc.testing.TestService.UnaryCall"))
    #expect(test.dependencies.contains("grpc/testing/messages.proto"))
  }

  @Test("descriptors are serialized FileDescriptorProtos naming their file")
  func descriptors() {
    for file in ProtoRegistry.files {
      let bytes = file.serializedDescriptor
      // field 1 (name), length-delimited, first: 0x0a, length, then the name itself.
      #expect(bytes.first == 0x0a)
      let length = Int(bytes[1])
      #expect(Array(bytes[2..<2 + length]) == Array(file.name.utf8))
    }
  }
}
