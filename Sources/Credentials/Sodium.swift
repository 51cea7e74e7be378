import CSodium

/// libsodium's one-time initialisation (thread-safe, idempotent; needed before its random
/// generator and hashing are used).
enum Sodium {
  static let initialized: Void = {
    precondition(sodium_init() >= 0, "libsodium could not initialise")
  }()
}

/// Constant-time comparison of secrets (libsodium's `sodium_memcmp`): the time does not depend
/// on where two equal-length values first differ.
public enum Secrets {
  public static func equal(_ a: [UInt8], _ b: [UInt8]) -> Bool {
    guard a.count == b.count else { return false }
    guard !a.isEmpty else { return true }
    return a.withUnsafeBytes { a in
      b.withUnsafeBytes { b in sodium_memcmp(a.baseAddress!, b.baseAddress!, a.count) == 0 }
    }
  }
}

/// BLAKE2b-256 (libsodium's `crypto_generichash`): fingerprints of secrets and requests.
public enum Digest {
  public static func blake2b256(_ input: [UInt8]) -> [UInt8] {
    _ = Sodium.initialized
    var out = [UInt8](repeating: 0, count: 32)
    let status = crypto_generichash(&out, out.count, input, UInt64(input.count), nil, 0)
    precondition(status == 0, "crypto_generichash failed")
    return out
  }
}
