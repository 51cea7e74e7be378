public import ArgumentParser
import HTTP2Transport
public import Logging
import MarketplaceStorage
import Postgres
import RPCCore
import ServiceLifecycle
import UnixSignals

#if canImport(Glibc)
  import Glibc
#endif
import StandardServices

/// `marketplace-server`: `serve` (the default subcommand, so `marketplace-server --port 6000`
/// serves) or `seed`.
@main
struct MarketplaceCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "marketplace-server",
    abstract: "The marketplace's gRPC server (h2c, prior knowledge), and its tools.",
    subcommands: [MarketplaceServer.self, SeedCommand.self],
    defaultSubcommand: MarketplaceServer.self)
}

/// `marketplace-server serve`: the composition root. Parses flags, bootstraps logging once, starts the
/// database (its own embedded cluster unless given a URL), applies migrations, builds the router
/// and the services, and runs them in one service group until SIGTERM/SIGINT.
struct MarketplaceServer: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "serve",
    abstract: "Runs the marketplace's gRPC server (h2c, prior knowledge); the default subcommand.")

  @Option(
    help: ArgumentHelp(
      "PostgreSQL to use (libpq URI or key=value string); default: MARKETPLACE_DATABASE_URL, else an embedded cluster of our own.",
      valueName: "url"))
  var databaseURL: String?

  @Option(help: "Directory of the embedded cluster (used without a database URL); default: MARKETPLACE_DATA_DIR, else .marketplace-data.")
  var dataDir: String?

  @Option(help: "Most connections to PostgreSQL.")
  var databaseConnections = PGPool.Config.defaults.maximumConnections

  @Option(help: "Address to listen on.")
  var host = HTTP2Server.Config.defaults.host

  @Option(help: "Port to listen on (0 picks a free port, printed at start).")
  var port = HTTP2Server.Config.defaults.port

  @Option(help: "Least severe log level written: trace, debug, info, notice, warning, error, critical.")
  var logLevel: Logger.Level = .info

  @Option(help: "Level of the one log line per RPC (method, status, duration, peer).")
  var rpcLogLevel: Logger.Level = HTTP2Server.Config.defaults.rpcLogLevel

  @Option(help: "Event loop threads (default: one per usable CPU).")
  var eventLoopThreads = HTTP2Server.Config.defaults.eventLoopThreads

  @Option(help: "Concurrent calls per connection (SETTINGS_MAX_CONCURRENT_STREAMS).")
  var maxConcurrentStreams = Int(HTTP2Server.Config.defaults.maxConcurrentStreams)

  @Option(help: "Largest request message in bytes; larger is RESOURCE_EXHAUSTED.")
  var maxReceiveMessageBytes = HTTP2Server.Config.defaults.maxReceiveMessageBytes

  @Option(help: "Largest request header list in bytes (SETTINGS_MAX_HEADER_LIST_SIZE).")
  var maxHeaderListBytes = HTTP2Server.Config.defaults.maxHeaderListBytes

  @Option(help: "Seconds a connection may stay without calls before it is closed (0: never).")
  var idleTimeoutSeconds = 300

  @Option(help: "Seconds a connection may be quiet before the server pings it (0: never).")
  var keepaliveIntervalSeconds = 7200

  @Option(help: "Seconds a keepalive ping may wait for its ACK before the connection is closed.")
  var keepaliveTimeoutSeconds = 20

  @Option(help: "Least seconds between client pings without traffic; more than 2 such pings get GOAWAY.")
  var minClientPingIntervalSeconds = 300

  @Option(help: "Seconds in-flight calls may run after SIGTERM before connections are closed.")
  var shutdownGraceSeconds = 10

  func validate() throws {
    guard databaseConnections > 0 else { throw ValidationError("--database-connections must be positive") }
    guard (0...65535).contains(port) else { throw ValidationError("--port must be 0...65535") }
    guard maxConcurrentStreams > 0 else { throw ValidationError("--max-concurrent-streams must be positive") }
    guard maxReceiveMessageBytes > 0 else { throw ValidationError("--max-receive-message-bytes must be positive") }
    guard eventLoopThreads > 0 else { throw ValidationError("--event-loop-threads must be positive") }
  }

  func run() async throws {
    let level = logLevel
    LoggingSystem.bootstrap { label in
      var handler = StreamLogHandler.standardError(label: label)
      handler.logLevel = level
      return handler
    }
    let logger = Logger(label: "marketplace")

    var config = HTTP2Server.Config.defaults
    config.host = host
    config.port = port
    config.eventLoopThreads = eventLoopThreads
    config.maxConcurrentStreams = UInt32(maxConcurrentStreams)
    config.maxReceiveMessageBytes = maxReceiveMessageBytes
    config.maxHeaderListBytes = maxHeaderListBytes
    config.idleTimeout = idleTimeoutSeconds > 0 ? .seconds(idleTimeoutSeconds) : nil
    config.keepaliveInterval = keepaliveIntervalSeconds > 0 ? .seconds(keepaliveIntervalSeconds) : nil
    config.keepaliveTimeout = .seconds(keepaliveTimeoutSeconds)
    config.minClientPingInterval = .seconds(minClientPingIntervalSeconds)
    config.shutdownGracePeriod = .seconds(shutdownGraceSeconds)
    config.rpcLogLevel = rpcLogLevel

    // The database: the URL given, or a cluster of our own, started before anything else.
    var services: [any Service] = []
    let connection: PGConnection.Options
    var cluster: PGEmbeddedCluster?
    if let url = databaseURL ?? Self.environment("MARKETPLACE_DATABASE_URL") {
      connection = PGConnection.Options(conninfo: url)
    } else {
      var clusterConfig = PGEmbeddedCluster.Config(
        directory: (dataDir ?? Self.environment("MARKETPLACE_DATA_DIR") ?? ".marketplace-data") + "/postgres")
      clusterConfig.binarySearchPath = Self.searchPath() + clusterConfig.binarySearchPath
      let embedded = PGEmbeddedCluster(config: clusterConfig, logger: logger)
      try await embedded.start()
      cluster = embedded
      services.append(embedded)
      connection = embedded.connectionOptions
    }
    var poolConfig = PGPool.Config(connection: connection)
    poolConfig.maximumConnections = databaseConnections
    let pool = PGPool(config: poolConfig, logger: logger)
    do {
      let applied = try await MarketplaceSchema.migrator().migrate(pool, logger: logger)
      logger.notice("schema up to date", metadata: ["db.migrations_applied": "\(applied.count)"])
    } catch {
      await pool.close()
      try? await cluster?.stop()
      throw error
    }

    let health = HealthService()
    let router = StandardServiceSet.router(health: health)
    let server = HTTP2Server(config: config, router: router, logger: logger)
    // Started in this order, stopped in reverse: the RPC server first, the database last.
    services += [
      pool, DatabaseHealthMonitor(pool: pool, health: health, interval: .milliseconds(500), logger: logger),
      server,
    ]
    let group = ServiceGroup(
      configuration: .init(
        services: services.map { .init(service: $0) }, gracefulShutdownSignals: [.sigterm, .sigint],
        logger: logger))
    try await group.run()
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

extension Logger.Level: @retroactive ExpressibleByArgument {}
