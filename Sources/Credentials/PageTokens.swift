import CSodium

/// Opaque, tamper-evident page tokens: a cursor's bytes and a MAC (libsodium's `crypto_auth`,
/// HMAC-SHA-512-256) over them and the query they page through. A token that was forged, edited,
/// or issued for another query (other filters, another caller) does not open.
///
/// The key is shared by every server process on one database (`server_keys`), so a token from
/// one process pages on in another.
public struct PageTokens: Sendable {
  static let version: UInt8 = 1
  static let tagBytes = Int(crypto_auth_BYTES)
  /// A key is this many bytes.
  public static let keyBytes = Int(crypto_auth_KEYBYTES)

  private let key: [UInt8]

  public init(key: [UInt8]) {
    precondition(key.count == Self.keyBytes, "a page token key is \(Self.keyBytes) bytes")
    _ = Sodium.initialized
    self.key = key
  }

  /// A new random key.
  public static func generateKey() -> [UInt8] {
    _ = Sodium.initialized
    var key = [UInt8](repeating: 0, count: keyBytes)
    crypto_auth_keygen(&key)
    return key
  }

  /// The token for `cursor` on the query `query` (a canonical description of its filters).
  public func seal(_ cursor: [UInt8], query: String) -> String {
    let body = [Self.version] + cursor
    return Base64URL.encode(body + tag(body, query: query))
  }

  /// The cursor inside `token`, or nil unless this server sealed it for `query`.
  public func open(_ token: String, query: String) -> [UInt8]? {
    guard let bytes = Base64URL.decode(token), bytes.count > Self.tagBytes + 1, bytes[0] == Self.version else {
      return nil
    }
    let body = Array(bytes.dropLast(Self.tagBytes))
    let expected = tag(body, query: query)
    guard Secrets.equal(Array(bytes.suffix(Self.tagBytes)), expected) else { return nil }
    return Array(body.dropFirst())
  }

  private func tag(_ body: [UInt8], query: String) -> [UInt8] {
    // The query's length first, so that no split of query and body bytes collides with another.
    let queryBytes = Array(query.utf8)
    let length = withUnsafeBytes(of: UInt32(queryBytes.count).bigEndian, Array.init)
    let message = length + queryBytes + body
    var out = [UInt8](repeating: 0, count: Self.tagBytes)
    let status = crypto_auth(&out, message, UInt64(message.count), key)
    precondition(status == 0, "crypto_auth failed")
    return out
  }
}

/// base64url without padding (RFC 4648 §5), as tokens travel in JSON and URLs.
enum Base64URL {
  static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

  static func encode(_ bytes: [UInt8]) -> String {
    var out: [UInt8] = []
    out.reserveCapacity((bytes.count * 4 + 2) / 3)
    var index = 0
    while index < bytes.count {
      let chunk = bytes[index..<min(index + 3, bytes.count)]
      var value: UInt32 = 0
      for byte in chunk { value = value << 8 | UInt32(byte) }
      value <<= UInt32(8 * (3 - chunk.count))
      for position in 0...chunk.count { out.append(alphabet[Int(value >> UInt32(18 - 6 * position)) & 63]) }
      index += 3
    }
    return String(decoding: out, as: UTF8.self)
  }

  static func decode(_ text: String) -> [UInt8]? {
    var values: [UInt8] = []
    values.reserveCapacity(text.utf8.count)
    for byte in text.utf8 {
      guard let value = alphabet.firstIndex(of: byte) else { return nil }
      values.append(UInt8(value))
    }
    guard values.count % 4 != 1 else { return nil }
    var out: [UInt8] = []
    out.reserveCapacity(values.count * 3 / 4)
    var index = 0
    while index < values.count {
      let chunk = values[index..<min(index + 4, values.count)]
      var value: UInt32 = 0
      for sextet in chunk { value = value << 6 | UInt32(sextet) }
      value <<= UInt32(6 * (4 - chunk.count))
      // Canonical encodings only: the bits past the last whole byte are zero, so that no two
      // strings decode to the same bytes (an edited token must not open).
      guard value & ((1 << UInt32(24 - 8 * (chunk.count - 1))) - 1) == 0 else { return nil }
      for position in 0..<(chunk.count - 1) {
        out.append(UInt8(truncatingIfNeeded: value >> UInt32(16 - 8 * position)))
      }
      index += 4
    }
    return out
  }
}
