/// Base64 for `-bin` metadata and embedded descriptors. Encodes with padding; decodes with or without it, as the gRPC
/// spec requires of receivers.
public enum Base64 {
  private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

  private static let reverse: [UInt8] = {
    var table = [UInt8](repeating: 0xff, count: 256)
    for (index, byte) in alphabet.enumerated() { table[Int(byte)] = UInt8(index) }
    return table
  }()

  public static func encode(_ bytes: [UInt8]) -> String {
    var output: [UInt8] = []
    output.reserveCapacity((bytes.count + 2) / 3 * 4)
    var index = 0
    while index + 2 < bytes.count {
      let value = UInt32(bytes[index]) << 16 | UInt32(bytes[index + 1]) << 8 | UInt32(bytes[index + 2])
      for shift in [18, 12, 6, 0] { output.append(alphabet[Int(value >> UInt32(shift) & 63)]) }
      index += 3
    }
    let rest = bytes.count - index
    if rest > 0 {
      let value = UInt32(bytes[index]) << 16 | (rest == 2 ? UInt32(bytes[index + 1]) << 8 : 0)
      output.append(alphabet[Int(value >> 18 & 63)])
      output.append(alphabet[Int(value >> 12 & 63)])
      output.append(rest == 2 ? alphabet[Int(value >> 6 & 63)] : UInt8(ascii: "="))
      output.append(UInt8(ascii: "="))
    }
    return String(decoding: output, as: UTF8.self)
  }

  public static func decode(_ string: String) -> [UInt8]? {
    var output: [UInt8] = []
    output.reserveCapacity(string.utf8.count * 3 / 4)
    return scan(string.utf8) { output.append($0) } ? output : nil
  }

  /// Whether `bytes` are base64 that `decode` would accept, without decoding them into memory.
  public static func isValid(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
    scan(bytes) { _ in }
  }

  /// Walks base64 text, handing each decoded byte to `emit`; false if it is not valid base64.
  private static func scan(_ text: some Sequence<UInt8>, _ emit: (UInt8) -> Void) -> Bool {
    var buffer: UInt32 = 0
    var bits = 0
    var padding = 0
    for byte in text {
      if byte == UInt8(ascii: "=") {
        padding += 1
        continue
      }
      guard padding == 0 else { return false }  // data after padding
      let value = reverse[Int(byte)]
      guard value != 0xff else { return false }
      buffer = buffer << 6 | UInt32(value)
      bits += 6
      if bits >= 8 {
        bits -= 8
        emit(UInt8(truncatingIfNeeded: buffer >> UInt32(bits)))
      }
    }
    return padding <= 2 && bits < 6
  }
}
