import Foundation
import MarketplaceStorage
import ServiceLifecycle
import Testing

@testable import Postgres

/// The embedded default cluster, for real: initdb, postgres on a unix socket, as root when the
/// tests run as root (they do on the project's machines). Needs the PostgreSQL server binaries,
/// which Scripts/test installs; no MARKETPLACE_TEST_DATABASE_URL.
@Suite("embedded cluster")
struct PGEmbeddedClusterTests {
  /// A fresh directory under /tmp that the server account can reach (mkdtemp makes it 0700).
  static func withTemporaryDirectory<T>(_ body: (String) async throws -> T) async throws -> T {
    var template = Array("/tmp/pgemb.XXXXXX".utf8CString)
    guard let made = mkdtemp(&template) else { throw CocoaError(.fileWriteUnknown) }
    let directory = String(cString: made)
    chmod(directory, 0o755)
    defer { try? FileManager.default.removeItem(atPath: directory) }
    return try await body(directory)
  }

  static func config(_ directory: String) -> PGEmbeddedCluster.Config {
    var config = PGEmbeddedCluster.Config(directory: directory)
    config.durable = false
    let path =
      ProcessInfo.processInfo.environment["PATH"]?.split(separator: ":").map(String.init) ?? []
    config.binarySearchPath = path + PGEmbeddedCluster.Config.defaults.binarySearchPath
    return config
  }

  @Test("starts from nothing (initdb), serves on its socket only, stops, and is reused next start")
  func lifecycle() async throws {
    try await Self.withTemporaryDirectory { temporary in
      let directory = temporary + "/cluster"  // does not exist yet
      let config = Self.config(directory)
      let logger = TestDatabase.logger

      let cluster = PGEmbeddedCluster(config: config, logger: logger)
      let adopter = PGEmbeddedCluster(config: config, logger: logger)
      #expect(try await cluster.start() == .initialized)
      do {
        if geteuid() == 0 {
          // initdb and postgres refuse root: the cluster belongs to the server account.
          let attributes = try FileManager.default.attributesOfItem(atPath: cluster.dataDirectory)
          #expect((attributes[.ownerAccountName] as? String) == config.serverAccount)
        }
        let pool = PGPool(
          config: PGPool.Config(connection: cluster.connectionOptions), logger: logger)
        let migrator = try MarketplaceSchema.migrator()
        let applied = try await migrator.migrate(pool, logger: logger)
        #expect(applied.count == migrator.migrations.count)
        let settings = try await pool.withConnection { session in
          try session.query(
            """
            SELECT current_setting('listen_addresses'), current_setting('unix_socket_directories'),
                   current_database(), current_setting('server_encoding'), current_setting('lc_ctype')
            """
          ).first.map { row in try (0..<5).map { try row.string($0)! } }
        }
        #expect(settings == ["", directory, "marketplace", "UTF8", "C.UTF-8"])

        // A second server on the directory while this one runs is refused (adopting the cluster
        // would stop it under this one when the second stopped).
        let refused = await #expect(throws: PGEmbeddedClusterError.self) {
          try await PGEmbeddedCluster(config: config, logger: logger).start()
        }
        #expect(refused?.kind == .inUse)
        #expect(try await pool.withConnection { try $0.query("SELECT 1").count } == 1)
        await pool.close()

        // One whose earlier process died without stopping the cluster adopts it, and stops it.
        cluster.abandon()
        #expect(try await adopter.start() == .adopted)
        try await adopter.stop()
      } catch {
        try? await cluster.stop()
        try? await adopter.stop()
        throw error
      }
      #expect(!FileManager.default.fileExists(atPath: cluster.dataDirectory + "/postmaster.pid"))
      #expect(!FileManager.default.fileExists(atPath: directory + "/.s.PGSQL.5432"))

      // Next start: the same cluster, the schema still there.
      let again = PGEmbeddedCluster(config: config, logger: logger)
      #expect(try await again.start() == .started)
      do {
        let pool = PGPool(
          config: PGPool.Config(connection: again.connectionOptions), logger: logger)
        #expect(try await MarketplaceSchema.migrator().migrate(pool, logger: logger).isEmpty)
        await pool.close()
      } catch {
        try? await again.stop()
        throw error
      }
      try await again.stop()
    }
  }

  @Test("the pool survives the database going down and coming back; both shut down gracefully")
  func restart() async throws {
    try await Self.withTemporaryDirectory { temporary in
      let logger = TestDatabase.logger
      let cluster = PGEmbeddedCluster(config: Self.config(temporary + "/cluster"), logger: logger)
      try await cluster.start()
      let pool = PGPool(
        config: PGPool.Config(connection: cluster.connectionOptions), logger: logger)
      do {
        #expect(try await pool.withConnection { try $0.query("SELECT 1").first!.int(0) } == 1)
        try await cluster.stop()

        // Down: calls fail with connectionLost (UNAVAILABLE), quickly, and the pool says so.
        for _ in 0..<3 {
          let start = ContinuousClock.now
          let error = await #expect(throws: PGError.self) {
            try await pool.withConnection { try $0.query("SELECT 1") }
          }
          #expect(error?.kind == .connectionLost)
          #expect(ContinuousClock.now - start < .seconds(3))
        }
        #expect(pool.statistics.isReachable == false)

        // Back: serving again within 2 s of the database's return.
        try await cluster.start()
        let back = ContinuousClock.now
        let served = await TestDatabase.eventually(timeout: .seconds(5)) {
          (try? await pool.withConnection { try $0.query("SELECT 1").first!.int(0) }) == 1
        }
        #expect(served)
        #expect(ContinuousClock.now - back < .seconds(2))
        #expect(pool.statistics.isReachable)
        #expect(pool.statistics.open == 1)
      } catch {
        await pool.close()
        try? await cluster.stop()
        throw error
      }

      // Both are Services: in a group, graceful shutdown closes the pool, then stops the cluster.
      let group = ServiceGroup(configuration: .init(services: [cluster, pool], logger: logger))
      let running = Task { try await group.run() }
      #expect(try await pool.withConnection { try $0.query("SELECT 2").first!.int(0) } == 2)
      await group.triggerGracefulShutdown()
      try await running.value
      #expect(pool.statistics.open == 0)
      #expect(!FileManager.default.fileExists(atPath: cluster.dataDirectory + "/postmaster.pid"))
    }
  }

  @Test("missing PostgreSQL binaries: one line naming the install command")
  func missingBinaries() async throws {
    try await Self.withTemporaryDirectory { temporary in
      var config = PGEmbeddedCluster.Config(directory: temporary + "/cluster")
      config.binarySearchPath = [temporary, temporary + "/*/bin"]
      let error = await #expect(throws: PGEmbeddedClusterError.self) {
        try await PGEmbeddedCluster(config: config, logger: TestDatabase.logger).start()
      }
      #expect(error?.kind == .binariesNotFound)
      #expect(error?.description.contains("apt-get install -y postgresql-15") == true)
      #expect(error?.description.contains("\n") == false)
      #expect(!FileManager.default.fileExists(atPath: temporary + "/cluster"))
    }
  }

  @Test(
    "as root, a directory the server account cannot reach is refused clearly",
    .enabled(if: geteuid() == 0))
  func unreachableDirectory() async throws {
    try await Self.withTemporaryDirectory { temporary in
      chmod(temporary, 0o700)  // root only: the postgres account cannot pass
      let error = await #expect(throws: PGEmbeddedClusterError.self) {
        try await PGEmbeddedCluster(
          config: Self.config(temporary + "/cluster"), logger: TestDatabase.logger
        ).start()
      }
      #expect(error?.kind == .directoryUnusable)
      #expect(error?.description.contains("cannot reach") == true)
    }
  }

  @Test("a relative directory resolves against the working directory")
  func relativeDirectory() {
    let cluster = PGEmbeddedCluster(config: .defaults, logger: TestDatabase.logger)
    #expect(
      cluster.directory == FileManager.default.currentDirectoryPath + "/.marketplace-data/postgres")
    #expect(cluster.connectionOptions.overrides["host"] == cluster.directory)
    #expect(cluster.connectionOptions.overrides["dbname"] == "marketplace")
  }
}
