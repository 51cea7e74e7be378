/// HTTP/2's rules for a request message (RFC 9113 §8.1-8.3), checked field by field as they
/// arrive, with the outcomes of nghttp2 1.52's checks for a server.
///
/// Our sessions turn nghttp2's HTTP messaging off (`nghttp2_option_set_no_http_messaging`), as
/// Envoy does: nghttp2 checked every field in a pass of its own, with a token lookup per name (7%
/// of a unary call's CPU). Here the checks share the one recognition of each name
/// (`RequestFieldName`) with the gRPC head, and only names not recognised have their characters
/// checked. The one thing not carried over: nghttp2 read an RFC 9218 `priority` field to order
/// its responses; gRPC clients send none.
///
/// A malformed request (a false from any check) ends in RST_STREAM PROTOCOL_ERROR, a field with a
/// character HTTP does not allow included: nghttp2 drops such fields only for an application that
/// asks to see them (`on_invalid_header_callback`), and we never did.
struct H2RequestRules {
  private struct Seen: OptionSet {
    let rawValue: UInt16
    static let method = Seen(rawValue: 1 << 0)
    static let scheme = Seen(rawValue: 1 << 1)
    static let path = Seen(rawValue: 1 << 2)
    static let authority = Seen(rawValue: 1 << 3)
    static let host = Seen(rawValue: 1 << 4)
    /// A regular field came: pseudo-header fields may no longer (§8.3).
    static let regularField = Seen(rawValue: 1 << 5)
    static let connectMethod = Seen(rawValue: 1 << 6)
    static let optionsMethod = Seen(rawValue: 1 << 7)
    /// `:path` starts with "/".
    static let originPath = Seen(rawValue: 1 << 8)
    /// `:path` is "*".
    static let asteriskPath = Seen(rawValue: 1 << 9)
    /// `:scheme` is http or https, whose `:path` must be an origin form or "*".
    static let httpScheme = Seen(rawValue: 1 << 10)
  }

  private var seen: Seen = []
  /// The `content-length` declared, if any; DATA must add up to it (§8.1.1).
  private var contentLength: Int64?
  private var receivedLength: Int64 = 0

  /// Checks one field of the request's header block (`isTrailer` false) or of its trailers.
  mutating func field(
    _ field: RequestFieldName, name: UnsafeBufferPointer<UInt8>, value: UnsafeBufferPointer<UInt8>,
    isTrailer: Bool
  ) -> Bool {
    switch field {
    case .method, .scheme, .path, .authority, .otherPseudoHeader:
      return pseudoHeaderField(field, value: value, isTrailer: isTrailer)
    default:
      seen.insert(.regularField)
      return regularField(field, name: name, value: value)
    }
  }

  private mutating func regularField(
    _ field: RequestFieldName, name: UnsafeBufferPointer<UInt8>, value: UnsafeBufferPointer<UInt8>
  ) -> Bool {
    switch field {
    case .other, .grpcReserved:
      // Names we did not recognise are the only ones whose characters are still unknown.
      return !name.isEmpty && CharacterClass.fieldName.containsAll(name) && Self.isValidFieldValue(value)
    case .host:
      return !value.isEmpty && CharacterClass.authority.containsAll(value) && seen.insert(.host).inserted
    case .te:
      return value.equalsIgnoringCase("trailers")  // the only TE a request may carry (§8.2.2)
    case .connectionSpecific:
      return false  // §8.2.2
    case .contentLength:
      guard contentLength == nil, let length = Self.parseContentLength(value) else { return false }
      contentLength = length
      return true
    default:
      return Self.isValidFieldValue(value)  // content-type, user-agent, grpc-timeout, ...
    }
  }

  private mutating func pseudoHeaderField(
    _ field: RequestFieldName, value: UnsafeBufferPointer<UInt8>, isTrailer: Bool
  ) -> Bool {
    // Only in the request's header block, before any regular field, each once and not empty.
    guard !isTrailer, !seen.contains(.regularField), !value.isEmpty else { return false }
    switch field {
    case .method:
      guard CharacterClass.method.containsAll(value), seen.insert(.method).inserted else { return false }
      if value.equals("CONNECT") {
        seen.insert(.connectMethod)
      } else if value.equals("OPTIONS") {
        seen.insert(.optionsMethod)
      }
    case .path:
      guard CharacterClass.path.containsAll(value), seen.insert(.path).inserted else { return false }
      if value[0] == UInt8(ascii: "/") {
        seen.insert(.originPath)
      } else if value.count == 1, value[0] == UInt8(ascii: "*") {
        seen.insert(.asteriskPath)
      }
    case .authority:
      guard CharacterClass.authority.containsAll(value), seen.insert(.authority).inserted else { return false }
    case .scheme:
      guard Self.isValidScheme(value), seen.insert(.scheme).inserted else { return false }
      if value.equalsIgnoringCase("http") || value.equalsIgnoringCase("https") { seen.insert(.httpScheme) }
    default:
      return false  // unknown, or :protocol (we do not offer extended CONNECT)
    }
    return true
  }

  /// The header block is complete: the pseudo-header fields a request needs are there (§8.3.1,
  /// §8.5). False: malformed.
  mutating func headersComplete() -> Bool {
    if seen.contains(.connectMethod) {
      guard seen.isDisjoint(with: [.scheme, .path]), seen.contains(.authority) else { return false }
      contentLength = nil  // a tunnel's DATA is not a message body
      return true
    }
    guard seen.isSuperset(of: [.method, .scheme, .path]), !seen.isDisjoint(with: [.authority, .host]) else {
      return false
    }
    return !seen.contains(.httpScheme) || seen.contains(.originPath)
      || seen.isSuperset(of: [.optionsMethod, .asteriskPath])
  }

  /// `count` bytes of DATA arrived. False: more than `content-length` declared.
  mutating func received(_ count: Int) -> Bool {
    receivedLength += Int64(count)
    return contentLength.map { receivedLength <= $0 } ?? true
  }

  /// The request ended (END_STREAM). False: its DATA fell short of `content-length`.
  func ended() -> Bool {
    contentLength.map { receivedLength == $0 } ?? true
  }

  /// RFC 9113 §8.2.1: no NUL, CR or LF (nor other controls but HTAB), and no whitespace at either end.
  static func isValidFieldValue(_ value: UnsafeBufferPointer<UInt8>) -> Bool {
    guard let first = value.first, let last = value.last else { return true }
    func isWhitespace(_ byte: UInt8) -> Bool { byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") }
    return !isWhitespace(first) && !isWhitespace(last) && CharacterClass.fieldValue.containsAll(value)
  }

  /// RFC 3986's scheme: a letter, then letters, digits, "+", "-" or ".".
  static func isValidScheme(_ value: UnsafeBufferPointer<UInt8>) -> Bool {
    guard let first = value.first, (first | 0x20) >= UInt8(ascii: "a"), (first | 0x20) <= UInt8(ascii: "z") else {
      return false
    }
    return CharacterClass.schemeTail.containsAll(value)
  }

  /// Decimal digits only, at most 2^63 - 1.
  static func parseContentLength(_ value: UnsafeBufferPointer<UInt8>) -> Int64? {
    guard !value.isEmpty else { return nil }
    var length: Int64 = 0
    for byte in value {
      let digit = Int64(byte) &- Int64(UInt8(ascii: "0"))
      guard digit >= 0, digit <= 9 else { return nil }
      let (shifted, overflowA) = length.multipliedReportingOverflow(by: 10)
      let (sum, overflowB) = shifted.addingReportingOverflow(digit)
      guard !overflowA, !overflowB else { return nil }
      length = sum
    }
    return length
  }
}

/// The request fields the transport acts on, recognised once per field from the name's bytes and
/// shared by the HTTP/2 rules and the gRPC head. A name recognised here is known to be well
/// formed; only the others (`other`, `grpcReserved`) have their characters checked.
enum RequestFieldName {
  case method, scheme, path, authority
  /// A pseudo-header field we do not know (`:protocol` among them): malformed in a request.
  case otherPseudoHeader
  case contentType, te, userAgent, contentLength, host
  case grpcTimeout, grpcEncoding, grpcAcceptEncoding
  /// Another `grpc-` field: reserved by gRPC, not passed on as metadata.
  case grpcReserved
  /// `connection`, `keep-alive`, `proxy-connection`, `transfer-encoding`, `upgrade`.
  case connectionSpecific
  /// Anything else: custom metadata.
  case other

  init(_ name: UnsafeBufferPointer<UInt8>) {
    switch name.count {
    case 2 where name.equals("te"): self = .te
    case 4 where name.equals("host"): self = .host
    case 5 where name.equals(":path"): self = .path
    case 7 where name.equals(":method"): self = .method
    case 7 where name.equals(":scheme"): self = .scheme
    case 10 where name.equals(":authority"): self = .authority
    case 10 where name.equals("user-agent"): self = .userAgent
    case 12 where name.equals("content-type"): self = .contentType
    case 12 where name.equals("grpc-timeout"): self = .grpcTimeout
    case 13 where name.equals("grpc-encoding"): self = .grpcEncoding
    case 14 where name.equals("content-length"): self = .contentLength
    case 20 where name.equals("grpc-accept-encoding"): self = .grpcAcceptEncoding
    case 7 where name.equals("upgrade"), 10 where name.equals("connection") || name.equals("keep-alive"),
      16 where name.equals("proxy-connection"), 17 where name.equals("transfer-encoding"):
      self = .connectionSpecific
    default:
      if name.first == UInt8(ascii: ":") {
        self = .otherPseudoHeader
      } else {
        self = name.hasPrefix("grpc-") ? .grpcReserved : .other
      }
    }
  }
}

/// A set of bytes: ASCII as a 128-bit mask, the bytes above as all in or all out. A membership
/// test is a shift and an AND, with no table to load. The masks are nghttp2 1.52's character
/// tables; the tests spell each out from its RFC.
struct CharacterClass {
  private let low: UInt64
  private let high: UInt64
  private let obsText: Bool
  /// For a class that holds every byte from `floor` up but DEL (and perhaps a few below): words of
  /// eight bytes with no byte below `floor` and no DEL pass at once, and only the others go
  /// byte by byte (values and paths are most of a request's header bytes).
  private let wordFloor: UInt8?

  private init(_ low: UInt64, _ high: UInt64, obsText: Bool, wordFloor: UInt8? = nil) {
    (self.low, self.high, self.obsText, self.wordFloor) = (low, high, obsText, wordFloor)
  }

  @inline(__always)
  func contains(_ byte: UInt8) -> Bool {
    guard byte < 128 else { return obsText }
    return (byte < 64 ? low : high) & (1 << UInt64(byte & 63)) != 0
  }

  func containsAll(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
    var start = 0
    if let wordFloor, bytes.count >= 8, let base = bytes.baseAddress {
      let ones: UInt64 = 0x0101_0101_0101_0101
      /// No byte of the eight at `offset` is below the floor or DEL (a zero byte once XORed with
      /// DEL): the classic "has less than" and "has zero" tests, exact for bytes of 0x80 and up.
      func isClean(_ offset: Int) -> Bool {
        let word = UnsafeRawPointer(base + offset).loadUnaligned(as: UInt64.self)
        let del = word ^ (0x7f &* ones)
        return ((word &- UInt64(wordFloor) &* ones) & ~word | (del &- ones) & ~del) & (0x80 &* ones) == 0
      }
      while start + 8 <= bytes.count, isClean(start) { start += 8 }
      // Every whole word was clean: the rest is the end of one last, overlapping word.
      if start + 8 > bytes.count, isClean(bytes.count - 8) { return true }
    }
    for byte in bytes[start...] where !contains(byte) { return false }
    return true
  }

  // Computed, not stored: the masks fold into the code, with no lazy global to check per use.

  /// RFC 9110's tchar without upper-case letters (RFC 9113 §8.2.1: names are lower case).
  static var fieldName: Self { Self(0x03ff_6cfa_0000_0000, 0x57ff_ffff_c000_0000, obsText: false) }
  /// HTAB, visible ASCII, space, and obs-text (0x80-0xFF).
  static var fieldValue: Self {
    Self(0xffff_ffff_0000_0200, 0x7fff_ffff_ffff_ffff, obsText: true, wordFloor: 0x20)
  }
  /// RFC 9110's tchar.
  static var method: Self { Self(0x03ff_6cfa_0000_0000, 0x57ff_ffff_c7ff_fffe, obsText: false) }
  /// Visible ASCII and obs-text: no controls, no space.
  static var path: Self { Self(0xffff_fffe_0000_0000, 0x7fff_ffff_ffff_ffff, obsText: true, wordFloor: 0x21) }
  /// RFC 3986's unreserved, sub-delims, ":", "@", "[", "]" and "%".
  static var authority: Self { Self(0x2fff_7ff2_0000_0000, 0x47ff_fffe_afff_ffff, obsText: false) }
  /// Letters, digits, "+", "-" and ".".
  static var schemeTail: Self { Self(0x03ff_6800_0000_0000, 0x07ff_fffe_07ff_fffe, obsText: false) }
}

extension UnsafeBufferPointer<UInt8> {
  /// ASCII case-insensitive equality with a lower-case constant.
  func equalsIgnoringCase(_ lowercase: StaticString) -> Bool {
    guard count == lowercase.utf8CodeUnitCount else { return false }
    for index in 0..<count {
      let byte = self[index]
      let folded = byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte | 0x20 : byte
      if folded != lowercase.utf8Start[index] { return false }
    }
    return true
  }
}
