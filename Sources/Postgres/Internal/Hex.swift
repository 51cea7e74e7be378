/// Lower-case hexadecimal digits, for bytea in COPY text, uuids and digests.
enum Hex {
  static func digit(_ nibble: UInt8) -> UInt8 {
    nibble < 10 ? UInt8(ascii: "0") + nibble : UInt8(ascii: "a") + nibble - 10
  }

  /// Appends the two digits of `byte`.
  static func append(_ byte: UInt8, to text: inout [UInt8]) {
    text.append(digit(byte >> 4))
    text.append(digit(byte & 0x0f))
  }
}
