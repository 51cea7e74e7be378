import Foundation
import Logging
import MarketplaceStorage
import Postgres
import Synchronization
import Testing

/// The PostgreSQL the integration tests use: `MARKETPLACE_TEST_DATABASE_URL`, which `Scripts/test`
/// sets after starting a throwaway cluster (Scripts/lib/postgres.sh). Each test makes its own
/// database (`test_<random>`) from that maintenance database and drops it afterwards, so tests
/// are independent and may run in parallel.
enum TestDatabase {
  static let urlVariable = "MARKETPLACE_TEST_DATABASE_URL"

  static var url: String? {
    guard let url = ProcessInfo.processInfo.environment[urlVariable], !url.isEmpty else {
      return nil
    }
    return url
  }

  static var isCI: Bool {
    ["true", "1", "yes"].contains(ProcessInfo.processInfo.environment["CI"]?.lowercased() ?? "")
  }

  /// Whether suites that need PostgreSQL run: always under CI (where a missing URL must fail, not
  /// skip), otherwise only when the URL is set.
  static var shouldRun: Bool { url != nil || isCI }

  static let disabledReason: Comment =
    "MARKETPLACE_TEST_DATABASE_URL is unset: run Scripts/test, which starts a throwaway PostgreSQL and sets it"

  struct NotConfigured: Error, CustomStringConvertible {
    var description: String {
      "MARKETPLACE_TEST_DATABASE_URL is unset, and CI=true: the PostgreSQL tests cannot run. "
        + "Scripts/test starts a throwaway cluster (Scripts/lib/postgres.sh) and sets it."
    }
  }

  /// Options for the maintenance database, or for `database` on the same server.
  static func options(database: String? = nil) throws -> PGConnection.Options {
    guard let url else { throw NotConfigured() }
    var options = PGConnection.Options(conninfo: url)
    options.applicationName = "marketplace-tests"
    if let database { options.overrides["dbname"] = database }
    return options
  }

  static let logger = Logger(label: "IntegrationTests") { _ in SwiftLogNoOpLogHandler() }

  /// Runs `body` with a fresh, empty database (dropped afterwards, even if `body` throws).
  static func withFreshDatabase<T: Sendable>(
    _ body: (_ options: PGConnection.Options, _ name: String) async throws -> T
  ) async throws -> T {
    let name =
      "test_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased().prefix(16)
    let admin = try await PGConnection.connect(options: options(), logger: logger)
    do {
      try await admin.withSession { try $0.execute("CREATE DATABASE \(identifier: name)") }
      let result: T
      do {
        result = try await body(try options(database: name), name)
      } catch {
        _ = try? await admin.withSession {
          try $0.execute("DROP DATABASE \(identifier: name) WITH (FORCE)")
        }
        throw error
      }
      try await admin.withSession {
        try $0.execute("DROP DATABASE \(identifier: name) WITH (FORCE)")
      }
      await admin.close()
      return result
    } catch {
      await admin.close()
      throw error
    }
  }

  /// Runs `body` with a pool on a fresh database (closed and dropped afterwards). With
  /// `migrated`, the marketplace schema is applied first.
  static func withPool<T: Sendable>(
    maximumConnections: Int = 4,
    migrated: Bool = false,
    configure: (inout PGPool.Config) -> Void = { _ in },
    _ body: (_ pool: PGPool, _ database: String) async throws -> T
  ) async throws -> T {
    try await withFreshDatabase { options, name in
      var config = PGPool.Config(connection: options)
      config.maximumConnections = maximumConnections
      configure(&config)
      let pool = PGPool(config: config, logger: logger)
      do {
        if migrated { try await MarketplaceSchema.migrator().migrate(pool, logger: logger) }
        let result = try await body(pool, name)
        await pool.close()
        return result
      } catch {
        await pool.close()
        throw error
      }
    }
  }

  /// Runs `body` with a pipelined client on a fresh database (closed and dropped afterwards). With
  /// `migrated`, the marketplace schema is applied first.
  static func withClient<T: Sendable>(
    maximumConnections: Int = 4, pipelineDepth: Int = PGClient.Config.defaults.pipelineDepth, migrated: Bool = false,
    _ body: (_ client: PGClient, _ database: String) async throws -> T
  ) async throws -> T {
    try await withFreshDatabase { options, name in
      if migrated {
        let pool = PGPool(config: PGPool.Config(connection: options), logger: logger)
        do {
          try await MarketplaceSchema.migrator().migrate(pool, logger: logger)
        } catch {
          await pool.close()
          throw error
        }
        await pool.close()
      }
      var config = PGClient.Config(connection: options)
      config.maximumConnections = maximumConnections
      config.pipelineDepth = pipelineDepth
      let client = try PGClient(config: config, logger: logger)
      defer { client.close() }
      return try await body(client, name)
    }
  }

  /// Runs `body` on a connection to the maintenance database (for watching and killing backends).
  @discardableResult
  static func withAdmin<T: Sendable>(_ body: @escaping @Sendable (PGSession) throws -> T)
    async throws -> T
  {
    let admin = try await PGConnection.connect(options: options(), logger: logger)
    do {
      let result = try await admin.withSession(body)
      await admin.close()
      return result
    } catch {
      await admin.close()
      throw error
    }
  }

  /// Polls `condition` (every 20 ms, up to `timeout`) until it holds; false if it never did.
  static func eventually(
    timeout: Duration = .seconds(10), _ condition: () async throws -> Bool
  ) async rethrows -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
      if try await condition() { return true }
      try? await Task.sleep(for: .milliseconds(20))
    }
    return try await condition()
  }

  /// Backends connected to `database` (from the maintenance database), optionally only those
  /// running a statement that starts with `queryPrefix`.
  static func backends(in database: String, runningQueryPrefix queryPrefix: String? = nil)
    async throws
    -> [Int32]
  {
    try await withAdmin { session in
      let rows =
        if let queryPrefix {
          try session.query(
            """
            SELECT pid FROM pg_stat_activity
            WHERE datname = \(database) AND state = 'active' AND starts_with(query, \(queryPrefix))
            """)
        } else {
          try session.query("SELECT pid FROM pg_stat_activity WHERE datname = \(database)")
        }
      return try rows.map { try $0.int32(0) ?? 0 }
    }
  }
}

/// A barrier for closures running on different connection threads (never on the cooperative
/// pool): each caller blocks until `parties` have arrived, or `timeout` passes.
final class ThreadBarrier: @unchecked Sendable {  // all state is guarded by `condition`
  private let condition = NSCondition()
  private let parties: Int
  private var arrived = 0

  init(parties: Int) { self.parties = parties }

  /// Returns false if the others did not arrive in time.
  @discardableResult
  func arriveAndWait(timeout: TimeInterval = 10) -> Bool {
    condition.lock()
    defer { condition.unlock() }
    arrived += 1
    condition.broadcast()
    let deadline = Date(timeIntervalSinceNow: timeout)
    while arrived < parties {
      if !condition.wait(until: deadline) { return false }
    }
    return true
  }
}

/// A gate a closure on a connection thread blocks on until the test opens it.
final class ThreadGate: @unchecked Sendable {  // all state is guarded by `condition`
  private let condition = NSCondition()
  private var isOpen = false
  private var waiting = 0

  func wait(timeout: TimeInterval = 10) {
    condition.lock()
    defer { condition.unlock() }
    waiting += 1
    let deadline = Date(timeIntervalSinceNow: timeout)
    while !isOpen && condition.wait(until: deadline) {}
  }

  var waiters: Int {
    condition.lock()
    defer { condition.unlock() }
    return waiting
  }

  func open() {
    condition.lock()
    isOpen = true
    condition.broadcast()
    condition.unlock()
  }
}

/// A counter shared by closures on connection threads.
final class Counter: Sendable {
  private let count = Atomic<Int>(0)

  /// Adds one and returns the new value.
  func increment() -> Int { count.add(1, ordering: .sequentiallyConsistent).newValue }

  var value: Int { count.load(ordering: .sequentiallyConsistent) }
}
