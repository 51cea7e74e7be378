import CSodium

/// Bearer tokens: 256 random bits from libsodium's CSPRNG, sent as `mkp_` and 43 base64url
/// characters (the prefix lets secret scanners recognise a leaked one). The server stores only
/// the token's digest (BLAKE2b-256): a stolen database does not sign anyone in.
public struct BearerToken: Sendable {
  static let prefix = "mkp_"
  static let randomBytes = 32
  /// The base64url length of 32 bytes, unpadded.
  static let encodedLength = 43

  /// What the client sends.
  public let token: String
  /// What the server stores and looks up.
  public let digest: [UInt8]

  /// A new random token.
  public static func generate() -> BearerToken {
    _ = Sodium.initialized
    var bytes = [UInt8](repeating: 0, count: randomBytes)
    randombytes_buf(&bytes, bytes.count)
    let token = prefix + Base64URL.encode(bytes)
    return BearerToken(token: token, digest: digest(ofWellFormed: token))
  }

  /// The digest of a token a client sent, or nil when it cannot be one of ours (wrong prefix,
  /// length or alphabet): such a token is rejected without a lookup.
  public static func digest(of token: some StringProtocol) -> [UInt8]? {
    let utf8 = token.utf8
    guard utf8.count == prefix.utf8.count + encodedLength, token.hasPrefix(prefix),
      utf8.dropFirst(prefix.utf8.count).allSatisfy(isBase64URL)
    else { return nil }
    return digest(ofWellFormed: String(token))
  }

  private static func digest(ofWellFormed token: String) -> [UInt8] {
    Digest.blake2b256(Array(token.utf8))
  }

  private static func isBase64URL(_ byte: UInt8) -> Bool {
    byte.isASCIIAlphanumeric || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_")
  }
}

extension UInt8 {
  fileprivate var isASCIIAlphanumeric: Bool {
    (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(self) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(self)
      || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(self)
  }
}
