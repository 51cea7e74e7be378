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

  /// The open database: where it is (`connection`), and the embedded cluster when there is one.
  struct Database {
    let connection: PGConnection.Options
    let cluster: PGEmbeddedCluster?

    /// A pool of blocking connections, for tools (COPY, migrations): not for the request path.
    func toolPool(connections: Int, logger: Logger) -> PGPool {
      var config = PGPool.Config(connection: connection)
      config.maximumConnections = connections
      return PGPool(config: config, logger: logger)
    }

    /// The pipelined client the request path uses.
    func client(connections: Int, logger: Logger) throws -> PGClient {
      var config = PGClient.Config(connection: connection)
      config.maximumConnections = connections
      return try PGClient(config: config, logger: logger)
    }

    /// Stops the embedded cluster, if there is one.
    func close() async throws {
      try await cluster?.stop()
    }
  }

  /// Starts the embedded cluster if needed and applies the migrations (on a connection of
  /// their own, closed after). On failure, what was started is stopped again. A tool beside a
  /// running server (`sharingEmbedded`) uses that server's embedded cluster and leaves it running;
  /// without it, an embedded cluster that a live process runs is refused.
  func open(logger: Logger, sharingEmbedded: Bool = false) async throws -> Database {
    let connection: PGConnection.Options
    var cluster: PGEmbeddedCluster?
    if let url = databaseURL ?? Self.environment("MARKETPLACE_DATABASE_URL") {
      connection = PGConnection.Options(conninfo: url)
    } else {
      var config = PGEmbeddedCluster.Config(
        directory: (dataDir ?? Self.environment("MARKETPLACE_DATA_DIR") ?? ".marketplace-data") + "/postgres")
      config.binarySearchPath = Self.searchPath() + config.binarySearchPath
      let embedded = PGEmbeddedCluster(config: config, logger: logger)
      try await embedded.start(sharing: sharingEmbedded)
      cluster = embedded
      connection = embedded.connectionOptions
    }
    let database = Database(connection: connection, cluster: cluster)
    let pool = database.toolPool(connections: 1, logger: logger)
    do {
      let applied = try await MarketplaceSchema.migrator().migrate(pool, logger: logger)
      await pool.close()
      logger.notice("schema up to date", metadata: ["db.migrations_applied": "\(applied.count)"])
    } catch {
      await pool.close()
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
