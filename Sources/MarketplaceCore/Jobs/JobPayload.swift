/// What a job needs to know: a flat JSON object of string values, e.g. `["booking_id": "..."]`.
///
/// Ids and references only: the payload is stored with the job (and kept after it ran), so a
/// handler reads current data by id instead of carrying copies of it, and no personal data sits
/// in the queue. Never logged.
public struct JobPayload: Sendable, Hashable, ExpressibleByDictionaryLiteral, CustomStringConvertible {
  public var values: [String: String]

  public init(_ values: [String: String] = [:]) { self.values = values }

  public init(dictionaryLiteral elements: (String, String)...) {
    self.init(Dictionary(elements, uniquingKeysWith: { _, last in last }))
  }

  public subscript(key: String) -> String? {
    get { values[key] }
    set { values[key] = newValue }
  }

  /// The JSON object, keys sorted (so that equal payloads encode equally).
  public var json: String {
    var text = "{"
    for (index, key) in values.keys.sorted().enumerated() {
      if index > 0 { text += "," }
      Self.appendString(key, to: &text)
      text += ":"
      Self.appendString(values[key]!, to: &text)
    }
    return text + "}"
  }

  /// Keys only: the values may be personal data.
  public var description: String { "JobPayload(keys: \(values.keys.sorted()))" }

  /// Reads a JSON object (as PostgreSQL prints a jsonb one). Values that are not strings are kept
  /// as their JSON text (`1`, `true`, `{"a":1}`), so any object reads; `null` members are left
  /// out. Nil if `json` is not one JSON object.
  public init?(json: String) {
    var parser = FlatJSONParser(Array(json.utf8))
    guard let values = parser.parseObject() else { return nil }
    self.values = values
  }

  private static func appendString(_ string: String, to text: inout String) {
    text += "\""
    for scalar in string.unicodeScalars {
      switch scalar {
      case "\"": text += "\\\""
      case "\\": text += "\\\\"
      case "\n": text += "\\n"
      case "\r": text += "\\r"
      case "\t": text += "\\t"
      case _ where scalar.value < 0x20:
        let hex = String(scalar.value, radix: 16)
        text += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
      default: text.unicodeScalars.append(scalar)
      }
    }
    text += "\""
  }
}

/// A JSON reader for one object whose members are flattened to strings (RFC 8259 grammar).
private struct FlatJSONParser {
  let bytes: [UInt8]
  var index = 0

  init(_ bytes: [UInt8]) { self.bytes = bytes }

  mutating func parseObject() -> [String: String]? {
    skipWhitespace()
    guard consume(UInt8(ascii: "{")) else { return nil }
    var values: [String: String] = [:]
    skipWhitespace()
    if !consume(UInt8(ascii: "}")) {
      repeat {
        skipWhitespace()
        guard let key = parseString() else { return nil }
        skipWhitespace()
        guard consume(UInt8(ascii: ":")) else { return nil }
        skipWhitespace()
        let start = index
        if peek == UInt8(ascii: "\"") {
          guard let value = parseString() else { return nil }
          values[key] = value
        } else {
          guard skipValue() else { return nil }
          let text = String(decoding: bytes[start..<index], as: UTF8.self)
          if text != "null" { values[key] = text }
        }
        skipWhitespace()
      } while consume(UInt8(ascii: ","))
      guard consume(UInt8(ascii: "}")) else { return nil }
    }
    skipWhitespace()
    return index == bytes.count ? values : nil
  }

  private var peek: UInt8? { index < bytes.count ? bytes[index] : nil }

  private mutating func consume(_ byte: UInt8) -> Bool {
    guard peek == byte else { return false }
    index += 1
    return true
  }

  private mutating func skipWhitespace() {
    while let byte = peek, byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D { index += 1 }
  }

  /// A string literal, escapes resolved.
  private mutating func parseString() -> String? {
    guard consume(UInt8(ascii: "\"")) else { return nil }
    var scalars = String.UnicodeScalarView()
    var runStart = index
    func flushRun() {
      scalars.append(contentsOf: String(decoding: bytes[runStart..<index], as: UTF8.self).unicodeScalars)
    }
    while let byte = peek {
      switch byte {
      case UInt8(ascii: "\""):
        flushRun()
        index += 1
        return String(scalars)
      case UInt8(ascii: "\\"):
        flushRun()
        index += 1
        guard let escaped = peek else { return nil }
        index += 1
        switch escaped {
        case UInt8(ascii: "\""): scalars.append("\"")
        case UInt8(ascii: "\\"): scalars.append("\\")
        case UInt8(ascii: "/"): scalars.append("/")
        case UInt8(ascii: "b"): scalars.append("\u{08}")
        case UInt8(ascii: "f"): scalars.append("\u{0C}")
        case UInt8(ascii: "n"): scalars.append("\n")
        case UInt8(ascii: "r"): scalars.append("\r")
        case UInt8(ascii: "t"): scalars.append("\t")
        case UInt8(ascii: "u"):
          guard let scalar = parseUnicodeEscape() else { return nil }
          scalars.append(scalar)
        default: return nil
        }
        runStart = index
      case 0..<0x20:
        return nil
      default:
        index += 1
      }
    }
    return nil
  }

  /// The code point of `XXXX` after `\u` (a surrogate pair takes the next `\uXXXX` too).
  private mutating func parseUnicodeEscape() -> Unicode.Scalar? {
    guard let high = parseHex4() else { return nil }
    if (0xD800..<0xDC00).contains(high) {
      guard consume(UInt8(ascii: "\\")), consume(UInt8(ascii: "u")), let low = parseHex4(),
        (0xDC00..<0xE000).contains(low)
      else { return nil }
      return Unicode.Scalar(0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00))
    }
    return Unicode.Scalar(high)
  }

  private mutating func parseHex4() -> UInt32? {
    guard index + 4 <= bytes.count else { return nil }
    var value: UInt32 = 0
    for byte in bytes[index..<index + 4] {
      guard let digit = Self.hexDigit(byte) else { return nil }
      value = value << 4 | digit
    }
    index += 4
    return value
  }

  private static func hexDigit(_ byte: UInt8) -> UInt32? {
    switch byte {
    case UInt8(ascii: "0")...UInt8(ascii: "9"): UInt32(byte - UInt8(ascii: "0"))
    case UInt8(ascii: "a")...UInt8(ascii: "f"): UInt32(byte - UInt8(ascii: "a") + 10)
    case UInt8(ascii: "A")...UInt8(ascii: "F"): UInt32(byte - UInt8(ascii: "A") + 10)
    default: nil
    }
  }

  /// Skips any JSON value (its text is kept by the caller).
  private mutating func skipValue() -> Bool {
    switch peek {
    case UInt8(ascii: "\""):
      return parseString() != nil
    case UInt8(ascii: "{"), UInt8(ascii: "["):
      let close = peek == UInt8(ascii: "{") ? UInt8(ascii: "}") : UInt8(ascii: "]")
      index += 1
      skipWhitespace()
      if consume(close) { return true }
      repeat {
        skipWhitespace()
        if close == UInt8(ascii: "}") {
          guard parseString() != nil else { return false }
          skipWhitespace()
          guard consume(UInt8(ascii: ":")) else { return false }
          skipWhitespace()
        }
        guard skipValue() else { return false }
        skipWhitespace()
      } while consume(UInt8(ascii: ","))
      return consume(close)
    default:
      // A number, true, false or null: the run of characters that can make one up.
      let start = index
      while let byte = peek,
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
          || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "+") || byte == UInt8(ascii: ".")
          || byte == UInt8(ascii: "E")
      {
        index += 1
      }
      let literal = bytes[start..<index]
      guard let first = literal.first else { return false }
      return first == UInt8(ascii: "-") || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(first)
        || literal.elementsEqual("true".utf8) || literal.elementsEqual("false".utf8)
        || literal.elementsEqual("null".utf8)
    }
  }
}
