import CSodium
public import NIOCore
public import NIOPosix
import Synchronization

/// Argon2id password hashing (libsodium's `crypto_pwhash_str`) on a bounded pool of threads of
/// its own: never on an event loop, never on the database's threads, so a burst of sign-ins
/// delays only other sign-ins. Past the pool's threads and its bounded queue, calls fail at
/// once with `.saturated` rather than wait.
public final class PasswordHasher: Sendable {
  /// Argon2id's cost: libsodium's named limits.
  public enum Strength: String, Sendable, CaseIterable {
    /// 2 passes over 64 MiB: libsodium's `INTERACTIVE` limits, its advice for online sign-in.
    case interactive
    /// 3 passes over 256 MiB.
    case moderate

    var opsLimit: UInt64 {
      self == .interactive ? UInt64(crypto_pwhash_opslimit_interactive()) : UInt64(crypto_pwhash_opslimit_moderate())
    }
    var memLimit: Int {
      self == .interactive ? crypto_pwhash_memlimit_interactive() : crypto_pwhash_memlimit_moderate()
    }
  }

  public struct Config: Sendable {
    /// Threads that hash (each uses `strength`'s memory while it works).
    public var threads: Int
    /// Calls that may wait for a thread; one more fails with `.saturated`.
    public var queueLimit: Int
    public var strength: Strength

    public init(threads: Int = System.coreCount, queueLimit: Int = 64, strength: Strength = .interactive) {
      self.threads = max(1, threads)
      self.queueLimit = max(0, queueLimit)
      self.strength = strength
    }
  }

  public enum Verification: Sendable, Equatable {
    /// The password is right; `needsRehash` when the stored hash is weaker than today's
    /// strength (hash it again and store it).
    case matches(needsRehash: Bool)
    case mismatch
  }

  public enum Failure: Error, Sendable, Equatable {
    /// Every thread busy and the queue full: try again shortly.
    case saturated
    /// The pool has shut down.
    case unavailable
  }

  public let config: Config
  private let pool: NIOThreadPool
  private let admitted = Atomic<Int>(0)
  /// A hash of a password nobody knows, verified when an email has no account so that the
  /// answer takes as long as for a wrong password.
  private let decoyHash: String

  public init(config: Config = Config()) {
    _ = Sodium.initialized
    self.config = config
    pool = NIOThreadPool(numberOfThreads: config.threads)
    decoyHash = Self.hashNow(BearerToken.generate().token, strength: config.strength)!
  }

  public func start() { pool.start() }

  public func shutdown() async throws { try await pool.shutdownGracefully() }

  /// The PHC string (`$argon2id$v=19$m=...`) for `password`.
  public func hash(_ password: String) async throws(Failure) -> String {
    let strength = config.strength
    guard let hash = try await run({ Self.hashNow(password, strength: strength) }) else {
      // Only out of memory makes crypto_pwhash_str fail.
      throw .unavailable
    }
    return hash
  }

  /// Whether `password` matches the stored `hash`.
  public func verify(_ password: String, against hash: String) async throws(Failure) -> Verification {
    let strength = config.strength
    return try await run {
      guard Self.verifyNow(password, hash) else { return .mismatch }
      return .matches(needsRehash: Self.isWeaker(hash, than: strength))
    }
  }

  /// The work of a verification whose answer is known to be "no" (an unknown email): the same
  /// time as a wrong password, and `.mismatch`.
  public func verifyDecoy(_ password: String) async throws(Failure) -> Verification {
    let decoy = decoyHash
    _ = try await run { Self.verifyNow(password, decoy) }
    return .mismatch
  }

  private func run<T: Sendable>(_ work: @escaping @Sendable () -> T) async throws(Failure) -> T {
    let capacity = config.threads + config.queueLimit
    guard admitted.add(1, ordering: .relaxed).newValue <= capacity else {
      admitted.subtract(1, ordering: .relaxed)
      throw .saturated
    }
    defer { admitted.subtract(1, ordering: .relaxed) }
    do {
      return try await pool.runIfActive(work)
    } catch {
      throw .unavailable
    }
  }

  /// Whether `hash` was made with less memory or fewer passes than `strength` asks for (a hash
  /// made stronger than today's settings is kept, so that lowering them never weakens one).
  static func isWeaker(_ hash: String, than strength: Strength) -> Bool {
    // "$argon2id$v=19$m=65536,t=2,p=1$salt$hash": m in KiB, t passes.
    let fields = hash.split(separator: "$")
    guard fields.count >= 4, fields[0] == "argon2id" else { return true }
    var memoryKiB = 0
    var passes = 0
    for parameter in fields[2].split(separator: ",") {
      let pair = parameter.split(separator: "=")
      guard pair.count == 2, let value = Int(pair[1]) else { return true }
      if pair[0] == "m" { memoryKiB = value }
      if pair[0] == "t" { passes = value }
    }
    return memoryKiB < strength.memLimit / 1024 || UInt64(passes) < strength.opsLimit
  }

  private static func hashNow(_ password: String, strength: Strength) -> String? {
    var out = [CChar](repeating: 0, count: Int(crypto_pwhash_STRBYTES))
    // The whole UTF-8 of the password: request strings never hold NUL (refused at decoding).
    let status = password.withCString { bytes in
      crypto_pwhash_str(&out, bytes, UInt64(password.utf8.count), strength.opsLimit, strength.memLimit)
    }
    guard status == 0 else { return nil }
    return String(cString: out)
  }

  private static func verifyNow(_ password: String, _ hash: String) -> Bool {
    password.withCString { bytes in crypto_pwhash_str_verify(hash, bytes, UInt64(password.utf8.count)) == 0 }
  }
}
