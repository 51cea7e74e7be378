import MarketplaceProtos
import RPCCore
import Testing

/// Wire bytes of one length-delimited field.
private func field(_ number: UInt8, _ bytes: [UInt8]) -> [UInt8] {
  precondition(bytes.count < 128 && number < 16)
  return [number << 3 | 2, UInt8(bytes.count)] + bytes
}

@Suite("UTF-8 classification")
struct UTF8TextTests {
  @Test(
    "valid text",
    arguments: [
      "", "a", "plain ascii longer than one word", "café", "€ and 😀 and 中文", "ü" + String(repeating: "x", count: 17),
    ])
  func valid(_ text: String) {
    #expect(classify(Array(text.utf8)) == .valid)
  }

  @Test(
    "invalid sequences",
    arguments: [
      [0xff, 0xfe], [0x80], [0xc0, 0x80], [0xc1, 0xbf], [0xe0, 0x80, 0x80], [0xed, 0xa0, 0x80],
      [0xf4, 0x90, 0x80, 0x80], [0xf5, 0x80, 0x80, 0x80], [0xe2, 0x82],
      [0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67, 0xe2],
      [0xe2, 0x28, 0xa1], [0xf0, 0x9f, 0x98],
    ] as [[UInt8]])
  func invalid(_ bytes: [UInt8]) {
    #expect(classify(bytes) == .invalid)
  }

  @Test("a NUL anywhere is reported, in the word-at-a-time path too", arguments: [0, 3, 8, 15, 20])
  func nul(_ position: Int) {
    var bytes = Array(String(repeating: "n", count: 21).utf8)
    bytes[position] = 0
    #expect(classify(bytes) == .containsNUL)
  }

  private func classify(_ bytes: [UInt8]) -> UTF8Text.Verdict {
    bytes.withUnsafeBytes { UTF8Text.classify($0) }
  }
}

@Suite("decode-time checks")
struct DecodeChecksTests {
  @Test("a top-level string with a NUL is refused, naming the field")
  func nulInString() throws {
    let uuid = Array("7d3c2a9e-0000-4000-8000-000000000001".utf8)
    #expect(throws: MessageDecodingError.nulCharacter(field: "property_id")) {
      try Marketplace_V1_GetPropertyRequest.parse(field(1, uuid + [0] + Array("junk".utf8)))
    }
    #expect(
      try Marketplace_V1_GetPropertyRequest.parse(field(1, uuid)).propertyId == String(decoding: uuid, as: UTF8.self))
  }

  @Test("a nested string that is not UTF-8 is refused with its path")
  func nestedInvalid() {
    // SimpleRequest.response_status (7) is an EchoStatus whose message (2) is a string.
    let request = [0x10, 0x05] + field(7, field(2, [0x6f, 0x6b, 0xff, 0xfe]))
    #expect(throws: MessageDecodingError.invalidUTF8(field: "response_status.message")) {
      try Grpc_Testing_SimpleRequest.parse(request)
    }
  }

  @Test("repeated nested messages are each checked")
  func repeatedNested() throws {
    // ServerReflectionResponse.list_services_response (6) holds repeated service (1), each a
    // ServiceResponse whose name (1) is a string.
    let good = field(1, field(1, Array("a.B".utf8)))
    let bad = field(1, field(1, [0xc0, 0x80]))
    #expect(throws: MessageDecodingError.invalidUTF8(field: "list_services_response.service.name")) {
      try Grpc_Reflection_V1_ServerReflectionResponse.parse(field(6, good + bad))
    }
    #expect(try Grpc_Reflection_V1_ServerReflectionResponse.parse(field(6, good + good)).listServicesResponse != nil)
  }

  @Test("bytes fields are not text: any bytes pass")
  func bytesPass() throws {
    // SimpleRequest.payload (3) is a Payload whose body (2) is bytes.
    let view = try Grpc_Testing_SimpleRequest.parse(field(3, field(2, [0xff, 0x00, 0xfe])))
    #expect(view.payload.map { Array($0.body) } == [0xff, 0x00, 0xfe])
  }

  @Test("decoding past the arena's budget is refused, and within it succeeds")
  func budget() throws {
    // 20,000 empty ResponseParameters (field 2): 40 KB on the wire, far more once unpacked.
    let request = [UInt8]((0..<20_000).flatMap { _ in [0x12, 0x00] as [UInt8] })
    let small = Arena.make(budget: 256 * 1024)
    let error = request.withUnsafeBytes { bytes in
      Result { () throws(MessageDecodingError) in
        try Grpc_Testing_StreamingOutputCallRequest.decode(bytes, arena: small)
      }
    }
    #expect(throws: MessageDecodingError.overBudget(limit: 256 * 1024)) { try error.get() }
    #expect(try Grpc_Testing_StreamingOutputCallRequest.parse(request).responseParameters.count == 20_000)
  }

  @Test("the status each refusal becomes")
  func statuses() {
    #expect(MessageDecodingError.malformed.status.code == .internal)
    #expect(MessageDecodingError.invalidUTF8(field: "a.b").status.code == .invalidArgument)
    #expect(MessageDecodingError.invalidUTF8(field: "a.b").status.message.contains("`a.b`"))
    #expect(MessageDecodingError.nulCharacter(field: "x").status.code == .invalidArgument)
    #expect(MessageDecodingError.overBudget(limit: 10).status.code == .resourceExhausted)
  }
}
