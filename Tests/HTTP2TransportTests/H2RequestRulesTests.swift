import Testing

@testable import HTTP2Transport

@Suite("HTTP/2 request rules")
struct H2RequestRulesTests {
  typealias Field = (name: String, value: String)

  static let grpcRequest: [Field] = [
    (":method", "POST"), (":scheme", "http"), (":path", "/grpc.testing.TestService/EmptyCall"),
    (":authority", "localhost:50051"), ("content-type", "application/grpc"), ("te", "trailers"),
    ("user-agent", "grpc-python/1.60"),
  ]

  static func isValid(_ rules: inout H2RequestRules, _ field: Field, isTrailer: Bool = false) -> Bool {
    Array(field.name.utf8).withUnsafeBufferPointer { name in
      Array(field.value.utf8).withUnsafeBufferPointer { value in
        rules.field(RequestFieldName(name), name: name, value: value, isTrailer: isTrailer)
      }
    }
  }

  /// The name of the first field not valid; "incomplete" when the head lacks what a request
  /// needs; nil when the request is valid.
  static func firstFailure(_ fields: [Field]) -> String? {
    var rules = H2RequestRules()
    for field in fields {
      if !isValid(&rules, field) { return field.name }
    }
    return rules.headersComplete() ? nil : "incomplete"
  }

  @Test("a gRPC request is valid, and so are OPTIONS * and CONNECT")
  func validRequests() {
    #expect(Self.firstFailure(Self.grpcRequest) == nil)
    #expect(Self.firstFailure([(":method", "OPTIONS"), (":scheme", "https"), (":path", "*"), ("host", "a")]) == nil)
    #expect(Self.firstFailure([(":method", "CONNECT"), (":authority", "example.com:443")]) == nil)
    #expect(
      Self.firstFailure([(":method", "POST"), (":scheme", "foo+bar"), (":path", "x"), (":authority", "a")]) == nil)
  }

  @Test(
    "malformed heads are refused",
    arguments: [
      ("missing :method", [(":scheme", "http"), (":path", "/a"), (":authority", "a")]),
      ("missing :scheme", [(":method", "POST"), (":path", "/a"), (":authority", "a")]),
      ("missing :path", [(":method", "POST"), (":scheme", "http"), (":authority", "a")]),
      ("no authority and no host", [(":method", "POST"), (":scheme", "http"), (":path", "/a")]),
      ("path not origin form", [(":method", "POST"), (":scheme", "http"), (":path", "a"), (":authority", "a")]),
      ("* with POST", [(":method", "POST"), (":scheme", "http"), (":path", "*"), (":authority", "a")]),
      ("CONNECT with a path", [(":method", "CONNECT"), (":authority", "a:1"), (":path", "/")]),
      ("CONNECT without authority", [(":method", "CONNECT")]),
    ] as [(String, [Field])])
  func incompleteHeads(_ label: String, _ fields: [Field]) {
    #expect(Self.firstFailure(fields) == "incomplete", "\(label)")
  }

  @Test(
    "malformed fields reset the stream",
    arguments: [
      ("Content-Type", "application/grpc"),  // upper case
      ("connection", "keep-alive"), ("keep-alive", "5"), ("proxy-connection", "x"),
      ("transfer-encoding", "chunked"), ("upgrade", "h2c"),
      ("te", "gzip"), ("content-length", "12x"), ("content-length", "99999999999999999999"),
      (":status", "200"), (":protocol", "websocket"), (":path", ""), (":path", "/a b"),
      (":method", "PO ST"), (":scheme", "1http"), (":authority", "a/b"), (":", "x"),
    ] as [Field])
  func malformedFields(_ field: Field) {
    var fields = Array(Self.grpcRequest.prefix(4))
    if !field.name.hasPrefix(":") { fields.append(field) } else { fields.insert(field, at: 0) }
    #expect(Self.firstFailure(fields) == field.name)
  }

  @Test("pseudo-header fields: once each, before regular fields, never in trailers")
  func pseudoHeaderOrder() {
    var fields = Self.grpcRequest
    fields.append((":authority", "b"))
    #expect(Self.firstFailure(fields) == ":authority")
    #expect(Self.firstFailure(Self.grpcRequest + [(":method", "POST")]) == ":method")
    #expect(Self.firstFailure([(":method", "POST"), (":method", "GET")]) == ":method")
    var rules = H2RequestRules()
    #expect(Self.isValid(&rules, ("grpc-status", "0"), isTrailer: true))
    #expect(!Self.isValid(&rules, (":path", "/a"), isTrailer: true))
    #expect(Self.firstFailure(Self.grpcRequest + [("host", "a"), ("host", "b")]) == "host")
    #expect(Self.firstFailure(Self.grpcRequest + [("host", "")]) == "host")
    #expect(
      Self.firstFailure(Self.grpcRequest + [("content-length", "1"), ("content-length", "1")])
        == "content-length")
  }

  @Test(
    "fields with characters HTTP does not allow are malformed",
    arguments: [
      ("x-bad name", "v"), ("x-bad\u{7F}", "v"), ("", "v"), ("x-lead", " v"), ("x-trail", "v\t"),
      ("x-nul", "a\u{0}b"), ("x-cr", "a\rb"), ("x-lf", "a\nb"), ("x-del", "a\u{7F}b"),
      ("x-del-in-a-word", "0123456\u{7F}89"), ("x-ctl-late", "0123456789abcdef\u{1}"), ("host", "a b"),
    ] as [Field])
  func forbiddenCharacters(_ field: Field) {
    var rules = H2RequestRules()
    #expect(!Self.isValid(&rules, field))
  }

  @Test("TE is case-insensitive; values may hold HTAB and obs-text inside")
  func lenientValues() {
    var rules = H2RequestRules()
    #expect(Self.isValid(&rules, ("te", "Trailers")))
    #expect(Self.isValid(&rules, ("x-tab", "a\tb")))
    #expect(Self.isValid(&rules, ("x-utf8", "café, 0123456789 ünïcödé")))
    #expect(Self.isValid(&rules, ("x-empty", "")))
  }

  @Test("DATA must add up to content-length")
  func contentLength() {
    var rules = H2RequestRules()
    #expect(Self.isValid(&rules, ("content-length", "10")))
    let afterFour = rules.received(4)
    #expect(afterFour && !rules.ended())
    let afterTen = rules.received(6)
    #expect(afterTen && rules.ended())
    let afterEleven = rules.received(1)
    #expect(!afterEleven)
    var undeclared = H2RequestRules()
    let anyLength = undeclared.received(1 << 20)
    #expect(anyLength && undeclared.ended())
  }

  @Test("names are recognised by their exact bytes; any other spelling is an unknown name")
  func fieldNames() {
    func kind(_ name: String) -> RequestFieldName { Array(name.utf8).withUnsafeBufferPointer(RequestFieldName.init) }
    #expect(kind(":path") == .path && kind(":authority") == .authority && kind("te") == .te)
    #expect(kind("grpc-timeout") == .grpcTimeout && kind("grpc-accept-encoding") == .grpcAcceptEncoding)
    #expect(kind("keep-alive") == .connectionSpecific && kind("transfer-encoding") == .connectionSpecific)
    #expect(kind("grpc-status-details-bin") == .grpcReserved && kind("x-trace") == .other)
    #expect(kind(":PATH") == .otherPseudoHeader && kind(":protocol") == .otherPseudoHeader)
    #expect(kind("TE") == .other && kind("Content-Type") == .other && kind("content-typ") == .other)
  }

  @Test("every byte is judged as by the class's definition, word by word or byte by byte")
  func characterClasses() {
    func bytes(_ characters: String) -> Set<UInt8> { Set(characters.utf8) }
    let digits = Set(UInt8(ascii: "0")...UInt8(ascii: "9"))
    let lower = Set(UInt8(ascii: "a")...UInt8(ascii: "z"))
    let upper = Set(UInt8(ascii: "A")...UInt8(ascii: "Z"))
    let tchar = bytes("!#$%&'*+-.^_`|~").union(digits).union(lower).union(upper)  // RFC 9110
    let authority = bytes("-._~!$&'()*+,;=:@[]%").union(digits).union(lower).union(upper)  // RFC 3986
    let classes: [(CharacterClass, (UInt8) -> Bool)] = [
      (.fieldName, { tchar.contains($0) && !upper.contains($0) }),
      (.method, { tchar.contains($0) }),
      (.fieldValue, { $0 == 0x09 || ($0 >= 0x20 && $0 != 0x7F) }),
      (.path, { $0 > 0x20 && $0 != 0x7F }),
      (.authority, { authority.contains($0) }),
      (.schemeTail, { bytes("+-.").union(digits).union(lower).union(upper).contains($0) }),
    ]
    for (index, (characterClass, definition)) in classes.enumerated() {
      for byte in UInt8.min...UInt8.max {
        #expect(characterClass.contains(byte) == definition(byte), "class \(index), byte \(byte)")
        // The byte alone, and at each position of a 17-byte run of a member (the word path).
        let member = (UInt8.min...UInt8.max).first(where: definition)!
        for position in [0, 7, 8, 15, 16] {
          var bytes = [UInt8](repeating: member, count: 17)
          bytes[position] = byte
          let all = bytes.withUnsafeBufferPointer { characterClass.containsAll($0) }
          #expect(all == definition(byte), "class \(index), byte \(byte) at \(position)")
        }
      }
    }
  }
}
