/// Percent-encoding of `grpc-message`: every byte outside printable ASCII 0x20...0x7E, and `%`
/// itself, is sent as `%XX` of its UTF-8 bytes.
public enum StatusMessageEncoding {
  public static func encode(_ message: String) -> String {
    guard message.utf8.contains(where: needsEncoding) else { return message }
    var output: [UInt8] = []
    output.reserveCapacity(message.utf8.count * 2)
    for byte in message.utf8 {
      if needsEncoding(byte) {
        output.append(UInt8(ascii: "%"))
        output.append(hexDigit(byte >> 4))
        output.append(hexDigit(byte & 0xf))
      } else {
        output.append(byte)
      }
    }
    return String(decoding: output, as: UTF8.self)
  }

  /// Decodes leniently, as the spec asks of receivers: a malformed `%` sequence is kept verbatim.
  public static func decode(_ value: String) -> String {
    guard value.utf8.contains(UInt8(ascii: "%")) else { return value }
    let bytes = Array(value.utf8)
    var output: [UInt8] = []
    output.reserveCapacity(bytes.count)
    var index = 0
    while index < bytes.count {
      if bytes[index] == UInt8(ascii: "%"), index + 2 < bytes.count,
        let high = hexValue(bytes[index + 1]), let low = hexValue(bytes[index + 2])
      {
        output.append(high << 4 | low)
        index += 3
      } else {
        output.append(bytes[index])
        index += 1
      }
    }
    return String(decoding: output, as: UTF8.self)
  }

  private static func needsEncoding(_ byte: UInt8) -> Bool {
    byte < 0x20 || byte > 0x7e || byte == UInt8(ascii: "%")
  }

  private static func hexDigit(_ value: UInt8) -> UInt8 {
    value < 10 ? UInt8(ascii: "0") + value : UInt8(ascii: "A") + value - 10
  }

  private static func hexValue(_ byte: UInt8) -> UInt8? {
    switch byte {
    case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
    case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
    case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
    default: nil
    }
  }
}
