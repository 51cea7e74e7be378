public import ArgumentParser
import Credentials
import HTTP2Transport
public import Logging
import MarketplaceCore
import MarketplaceRPC
import MarketplaceStorage
import NIOCore
import Postgres
import RPCCore
import ServiceLifecycle
import StandardServices
import UnixSignals

/// `marketplace-server`: `serve` (the default subcommand, so `marketplace-server --port 6000`
/// serves), `seed`, `users`, `jobs` (operator tools) or the benchmark helpers.
@main
struct MarketplaceCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "marketplace-server",
    abstract: "The marketplace's gRPC server (h2c, prior knowledge), and its tools.",
    subcommands: [
      MarketplaceServer.self, SeedCommand.self, UsersCommand.self, JobsCommand.self, BenchSQLCommand.self,
    ],
    defaultSubcommand: MarketplaceServer.self)
}

/// `marketplace-server serve`: the composition root. Parses flags, bootstraps logging once, starts the
/// database (its own embedded cluster unless given a URL), applies migrations, builds the router
/// and the services, and runs them in one service group until SIGTERM/SIGINT.
struct MarketplaceServer: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "serve",
    abstract: "Runs the marketplace's gRPC server (h2c, prior knowledge); the default subcommand.")

  @OptionGroup var database: DatabaseOptions

  @Option(help: "Most connections to PostgreSQL.")
  var databaseConnections = PGClient.Config.defaults.maximumConnections

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

  @Option(help: "Largest response message in bytes; a larger one ends its call with RESOURCE_EXHAUSTED.")
  var maxSendMessageBytes = HTTP2Server.Config.defaults.maxSendMessageBytes

  @Option(
    help: ArgumentHelp(
      "Most memory decoding one request message may take, in bytes; more is RESOURCE_EXHAUSTED (default: 8 x --max-receive-message-bytes).",
      valueName: "bytes"))
  var maxRequestArenaBytes: Int?

  @Flag(
    help:
      "Also serve grpc.testing.TestService and BenchmarkService (interop checks, benchmarks); never in production.")
  var testServices = false

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

  @Option(help: "Threads that hash passwords (Argon2id), apart from the event loops (default: one per core).")
  var passwordHashThreads = System.coreCount

  @Option(help: "Sign-ins that may wait for a hashing thread; more fail at once with RESOURCE_EXHAUSTED.")
  var passwordHashQueue = 64

  @Option(help: "Argon2id cost: interactive (2 passes, 64 MiB) or moderate (3 passes, 256 MiB).")
  var passwordHashStrength = PasswordHasher.Strength.interactive

  @Option(help: "Hours an access token from Login stays valid.")
  var sessionLifetimeHours = 24

  @Option(help: "Bytes of memory for cached listings and sessions (0 turns the cache off).")
  var cacheBytes = MarketplaceCache.Config().capacityBytes

  @Option(help: "Seconds a listing is served from the cache at most (0: until a write changes it).")
  var cachePropertyTtlSeconds = 0

  @Option(help: "Failed sign-ins for one email, within the throttle window, before its next ones are refused.")
  var signInFailuresPerEmail = SignIn.ThrottlePolicy().failuresPerEmail

  @Option(
    help: "Failed sign-ins from one client address, within the throttle window, before its next ones are refused.")
  var signInFailuresPerAddress = SignIn.ThrottlePolicy().failuresPerAddress

  @Option(help: "Seconds a failed sign-in counts against its email and address.")
  var signInThrottleWindowSeconds = Int(SignIn.ThrottlePolicy().window.components.seconds)

  @Option(help: "Minutes a new booking holds its dates while it waits for its payment.")
  var paymentWindowMinutes = Int(BookingService.Settings().paymentWindow.components.seconds / 60)

  @Option(help: "Hours a paid request-to-book waits for the host before it is declined and refunded.")
  var hostAnswerWindowHours = Int(BookingService.Settings().hostAnswerWindow.components.seconds / 3600)

  @Option(help: "Days after check-out during which the guest may review a stay.")
  var reviewWindowDays = 14

  @Option(help: "Seconds between sweeps that complete stays after check-out (reads may show CONFIRMED that long).")
  var completionSweepSeconds = 60

  @Option(
    help: ArgumentHelp(
      "Tests only: the rules and jobs read the machine's time plus the seconds written in this file (re-read every 100 ms). Never in production.",
      valueName: "path"))
  var testClockFile: String?

  @Option(help: "Jobs this process runs at once from the job queue (0: none; other processes run them).")
  var jobWorkers = JobRunner.Config().workers

  @Option(help: "Seconds a worker holds a job before another process may take it over (its heartbeat renews it).")
  var jobLeaseSeconds = Int(JobRunner.Config().leaseDuration.components.seconds)

  @Option(help: "Hours a succeeded job is kept before it is deleted (failed and dead jobs are kept).")
  var jobRetentionHours = Int(JobRunner.Config().retention.components.seconds / 3600)

  func validate() throws {
    guard jobWorkers >= 0 else { throw ValidationError("--job-workers must not be negative") }
    guard jobLeaseSeconds > 0 else { throw ValidationError("--job-lease-seconds must be positive") }
    guard jobRetentionHours > 0 else { throw ValidationError("--job-retention-hours must be positive") }
    guard paymentWindowMinutes > 0, hostAnswerWindowHours > 0, reviewWindowDays > 0, completionSweepSeconds > 0 else {
      throw ValidationError(
        "--payment-window-minutes, --host-answer-window-hours, --review-window-days and --completion-sweep-seconds must be positive"
      )
    }
    guard passwordHashThreads > 0 else { throw ValidationError("--password-hash-threads must be positive") }
    guard passwordHashQueue >= 0 else { throw ValidationError("--password-hash-queue must not be negative") }
    guard cacheBytes >= 0, cachePropertyTtlSeconds >= 0 else {
      throw ValidationError("--cache-bytes and --cache-property-ttl-seconds must not be negative")
    }
    guard sessionLifetimeHours > 0 else { throw ValidationError("--session-lifetime-hours must be positive") }
    guard signInFailuresPerEmail > 0, signInFailuresPerAddress > 0, signInThrottleWindowSeconds > 0 else {
      throw ValidationError(
        "--sign-in-failures-per-email, --sign-in-failures-per-address and --sign-in-throttle-window-seconds must be positive"
      )
    }
    guard databaseConnections > 0 else { throw ValidationError("--database-connections must be positive") }
    guard (0...65535).contains(port) else { throw ValidationError("--port must be 0...65535") }
    guard maxConcurrentStreams > 0 else { throw ValidationError("--max-concurrent-streams must be positive") }
    guard maxReceiveMessageBytes > 0 else { throw ValidationError("--max-receive-message-bytes must be positive") }
    guard maxSendMessageBytes > 0 else { throw ValidationError("--max-send-message-bytes must be positive") }
    guard (maxRequestArenaBytes ?? 1) > 0 else { throw ValidationError("--max-request-arena-bytes must be positive") }
    guard eventLoopThreads > 0 else { throw ValidationError("--event-loop-threads must be positive") }
  }

  func run() async throws {
    bootstrapLogging(level: logLevel)
    let logger = Logger(label: "marketplace")
    logger.info("memory allocator", metadata: ["allocator": "\(MemoryAllocator.description)"])

    var config = HTTP2Server.Config.defaults
    config.host = host
    config.port = port
    config.eventLoopThreads = eventLoopThreads
    config.maxConcurrentStreams = UInt32(maxConcurrentStreams)
    config.maxReceiveMessageBytes = maxReceiveMessageBytes
    config.maxSendMessageBytes = maxSendMessageBytes
    config.maxRequestArenaBytes = maxRequestArenaBytes
    config.maxHeaderListBytes = maxHeaderListBytes
    config.idleTimeout = idleTimeoutSeconds > 0 ? .seconds(idleTimeoutSeconds) : nil
    config.keepaliveInterval = keepaliveIntervalSeconds > 0 ? .seconds(keepaliveIntervalSeconds) : nil
    config.keepaliveTimeout = .seconds(keepaliveTimeoutSeconds)
    config.minClientPingInterval = .seconds(minClientPingIntervalSeconds)
    config.shutdownGracePeriod = .seconds(shutdownGraceSeconds)
    config.rpcLogLevel = rpcLogLevel

    // The database first: the URL given, or a cluster of our own; migrations applied.
    let database = try await database.open(logger: logger)
    let client: PGClient
    do {
      client = try database.client(connections: databaseConnections, logger: logger)
    } catch {
      try? await database.close()
      throw error
    }
    var services: [any Service] = database.cluster.map { [$0] } ?? []

    let health = HealthService()
    let databaseServices = [""] + MarketplaceServices.databaseBackedServiceNames
    for service in databaseServices { health.setStatus(.serving, for: service) }
    let passwords = PasswordHasher(
      config: .init(threads: passwordHashThreads, queueLimit: passwordHashQueue, strength: passwordHashStrength))
    passwords.start()
    let pageTokenKey: [UInt8]
    do {
      pageTokenKey = try await MarketplaceServices.loadPageTokenKey(from: client)
    } catch {
      client.close()
      try? await passwords.shutdown()
      try? await database.close()
      throw error
    }
    let cache = MarketplaceCache(
      config: .init(
        capacityBytes: cacheBytes,
        propertyTimeToLive: cachePropertyTtlSeconds > 0 ? .seconds(cachePropertyTtlSeconds) : nil))
    // The clock the rules and jobs read: the machine's, or, for tests only, one a file moves.
    let testClock = testClockFile.map { FileOffsetClock(path: $0, logger: logger) }
    let clock: any WallClock = testClock ?? SystemWallClock()
    if testClock != nil {
      logger.warning("the clock is a test clock (--test-clock-file): never use this in production")
    }
    let watchers = BookingWatchers(database: client)
    let bookings = BookingService.Settings(
      paymentWindow: .seconds(paymentWindowMinutes * 60), hostAnswerWindow: .seconds(hostAnswerWindowHours * 3600))
    let workflows = BookingWorkflows(
      database: client, gateway: SandboxPaymentGateway(database: client), clock: clock, timeZones: SystemTimeZones(),
      hostAnswerWindow: bookings.hostAnswerWindow)
    let dependencies = MarketplaceServices.Dependencies(
      database: client, passwords: passwords, clock: clock, timeZones: SystemTimeZones(), cache: cache,
      pageTokenKey: pageTokenKey,
      users: .init(
        sessionLifetime: .seconds(sessionLifetimeHours * 3600),
        throttle: .init(
          failuresPerEmail: signInFailuresPerEmail, failuresPerAddress: signInFailuresPerAddress,
          window: .seconds(signInThrottleWindowSeconds))),
      bookings: bookings, reviewWindowDays: reviewWindowDays, watchers: watchers, logger: logger)
    let router = StandardServiceSet.router(health: health, testServices: testServices) { router in
      MarketplaceServices.register(with: &router, dependencies)
    }
    let jobs = JobRunner(
      client: client, handlers: MarketplaceJobs.handlers(workflows),
      config: .init(
        workers: jobWorkers, leaseDuration: .seconds(jobLeaseSeconds), retention: .seconds(jobRetentionHours * 3600)),
      clock: clock,
      logger: Logger(label: "marketplace.jobs"))
    // A moved test clock may have made jobs due and stays ended.
    let (clockMoves, clockMoved) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
    testClock?.whenMoved {
      jobs.wake()
      clockMoved.yield()
    }
    let server = HTTP2Server(config: config, router: router, logger: logger)
    // Started in this order, stopped in reverse: the RPC server first, the database last.
    services += [
      client,
      DatabaseHealthMonitor(
        connection: database.connection, health: health, services: databaseServices,
        interval: .milliseconds(500), logger: logger),
      CacheInvalidationListener(cache: cache, client: client, logger: logger),
      BookingWatchListener(watchers: watchers, logger: logger),
      CompletionSweep(
        workflows: workflows, interval: .seconds(completionSweepSeconds), wakeUps: clockMoves, logger: logger),
      JobWorkers(runner: jobs),
    ]
    if let testClock { services.append(testClock) }
    services.append(server)
    let group = ServiceGroup(
      configuration: .init(
        services: services.map { .init(service: $0) }, gracefulShutdownSignals: [.sigterm, .sigint],
        logger: logger))
    do {
      try await group.run()
    } catch {
      try? await passwords.shutdown()
      throw error
    }
    try await passwords.shutdown()
  }
}

extension Logger.Level: @retroactive ExpressibleByArgument {}
extension PasswordHasher.Strength: ExpressibleByArgument {}
extension JobState: ExpressibleByArgument {}
