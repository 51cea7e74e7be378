import ArgumentParser
import Logging
import MarketplaceStorage
import Postgres

#if canImport(Glibc)
  import Glibc
#endif

/// Which PostgreSQL the commands use: `--database-url` (or MARKETPLACE_DATABASE_URL), else a
/// cluster of our own under `--data-dir`. Shared by `serve` and `seed`.
struct DatabaseOptions: ParsableArguments {
  @Option(
    help: ArgumentHelp(
      "PostgreSQL to use (libpq URI or key=value string); default: MARKETPLACE_DATABASE_URL, else an embedded cluster of our own. A URL with a password belongs in MARKETPLACE_DATABASE_URL: arguments show in ps.",
      valueName: "url"))
  var databaseURL: String?

  @Option(
    help:
      "Directory of the embedded cluster (used without a database URL); default: MARKETPLACE_DATA_DIR, else .marketplace-data."
  )
  var dataDir: String?

  /// The open database: the pool, and the embedded cluster when there is one.
  struct Database {
    let pool: PGPool
    let cluster: PGEmbeddedCluster?

    /// Closes the pool, then stops the cluster.
    func close() async throws {
      await pool.close()
      try await cluster?.stop()
    }
  }

  /// Starts the embedded cluster if needed, opens a pool of `connections`, and applies the
  /// migrations. On failure, what was started is stopped again.
  func open(connections: Int, logger: Logger) async throws -> Database {
    let connection: PGConnection.Options
    var cluster: PGEmbeddedCluster?
    if let url = databaseURL ?? Self.environment("MARKETPLACE_DATABASE_URL") {
      connection = PGConnection.Options(conninfo: url)
    } else {
      var config = PGEmbeddedCluster.Config(
        directory: (dataDir ?? Self.environment("MARKETPLACE_DATA_DIR") ?? ".marketplace-data") + "/postgres")
      config.binarySearchPath = Self.searchPath() + config.binarySearchPath
      let embedded = PGEmbeddedCluster(config: config, logger: logger)
      try await embedded.start()
      cluster = embedded
      connection = embedded.connectionOptions
    }
    var poolConfig = PGPool.Config(connection: connection)
    poolConfig.maximumConnections = connections
    let database = Database(pool: PGPool(config: poolConfig, logger: logger), cluster: cluster)
    do {
      let applied = try await MarketplaceSchema.migrator().migrate(database.pool, logger: logger)
      logger.notice("schema up to date", metadata: ["db.migrations_applied": "\(applied.count)"])
    } catch {
      try? await database.close()
      throw error
    }
    return database
  }

  /// The only place that reads the environment.
  static func environment(_ name: String) -> String? {
    guard let value = getenv(name) else { return nil }
    let string = String(cString: value)
    return string.isEmpty ? nil : string
  }

  /// PATH's directories, searched first for PostgreSQL's tools.
  static func searchPath() -> [String] {
    (environment("PATH") ?? "").split(separator: ":").map(String.init)
  }
}

/// Logging to standard error at `level`; called once, by the command that runs.
func bootstrapLogging(level: Logger.Level) {
  LoggingSystem.bootstrap { label in
    var handler = StreamLogHandler.standardError(label: label)
    handler.logLevel = level
    return handler
  }
}
