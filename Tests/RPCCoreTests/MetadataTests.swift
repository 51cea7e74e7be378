import RPCCore
import Testing

@Suite("metadata")
struct MetadataTests {
  @Test("-bin values are base64 on the wire, padded or not")
  func binary() {
    var metadata = Metadata()
    let accepted = [
      metadata.appendWireValue("x-trace-bin", "q6ur"), metadata.appendWireValue("x-pad-bin", "AQ=="),
      metadata.appendWireValue("x-nopad-bin", "AQ"), metadata.appendWireValue("x-bad-bin", "not base64!"),
    ]
    #expect(accepted == [true, true, true, false])
    #expect(metadata["x-trace-bin"] == [.binary([0xab, 0xab, 0xab])])
    #expect(metadata["x-pad-bin"] == [.binary([1])])
    #expect(metadata["x-nopad-bin"] == [.binary([1])])
    #expect(metadata["x-bad-bin"].isEmpty)
    #expect(Metadata.wireValue(.binary([0xab, 0xab, 0xab])) == "q6ur")
    #expect(Metadata.wireValue(.binary([1, 2])) == "AQI=")
  }

  @Test("string values and key normalisation")
  func strings() {
    var metadata: Metadata = ["X-Request-Id": "abc"]
    metadata.append("x-request-id", "def")
    #expect(metadata.first("x-request-id") == "abc")
    #expect(metadata["X-REQUEST-ID"] == [.string("abc"), .string("def")])
  }

  @Test(
    "custom keys exclude reserved and malformed names",
    arguments: [
      ("x-user", true), ("a.b_c-1", true), ("grpc-status", false), (":path", false), ("Upper", false), ("", false),
    ])
  func keys(_ key: String, _ valid: Bool) {
    #expect(Metadata.isValidCustomKey(key) == valid)
  }

  @Test("wire metadata keeps bytes and decodes on demand")
  func wire() {
    var wire = WireMetadata()
    #expect(wire.isEmpty)
    func add(_ name: String, _ value: String) {
      Array(name.utf8).withUnsafeBufferPointer { n in
        Array(value.utf8).withUnsafeBufferPointer { v in wire.append(name: n, value: v) }
      }
    }
    add("x-user", "ada")
    add("x-trace-bin", "q6ur")
    add("x-empty", "")
    add("x-user", "grace")
    let decoded = wire.decoded()
    #expect(decoded["x-user"] == [.string("ada"), .string("grace")])
    #expect(decoded["x-trace-bin"] == [.binary([0xab, 0xab, 0xab])])
    #expect(decoded["x-empty"] == [.string("")])
    #expect(decoded.count == 4)
    // One key read straight from the bytes gives what the decoded metadata gives.
    add("x-bad-bin", "not base64!")
    for key in ["x-user", "X-User", "x-trace-bin", "x-empty", "x-bad-bin", "x-none", "x-use"] {
      #expect(wire.values(key) == wire.decoded()[key], "\(key)")
    }
    #expect(WireMetadata().values("x-user").isEmpty)
  }

  @Test("a context reads one request key without decoding the rest, and agrees once decoded")
  func contextValues() {
    var wire = WireMetadata()
    Array("authorization".utf8).withUnsafeBufferPointer { name in
      Array("Bearer abc".utf8).withUnsafeBufferPointer { wire.append(name: name, value: $0) }
    }
    let context = ServerContext(
      method: MethodDescriptor(service: "test.Service", method: "Call"), requestMetadata: wire, peer: "test",
      deadline: nil, requestEncoding: .identity, acceptEncodingHeader: nil)
    #expect(context.requestMetadataValues("authorization") == [.string("Bearer abc")])
    #expect(context.requestMetadata["authorization"] == [.string("Bearer abc")])
    #expect(context.requestMetadataValues("Authorization") == [.string("Bearer abc")])
    #expect(context.requestMetadataValues("x-none").isEmpty)
  }
}
