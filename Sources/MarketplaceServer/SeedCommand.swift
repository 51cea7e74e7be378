import ArgumentParser
import FoundationEssentials
import Logging
import MarketplaceCore
import MarketplaceStorage
import Postgres

/// `marketplace-server seed`: loads the deterministic demo/benchmark data set (Seeder) into the
/// same database the server would use (the URL, else the embedded cluster under the data
/// directory), after applying the migrations. The tables must be empty.
struct SeedCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "seed",
    abstract: "Loads a realistic, deterministic data set (COPY) into an empty marketplace database.")

  @OptionGroup var database: DatabaseOptions

  @Option(help: "Users (a fifth of them hosts, one admin).")
  var users = Seeder.Config.defaults.users

  @Option(help: "Properties.")
  var properties = Seeder.Config.defaults.properties

  @Option(help: "Bookings (never overlapping per property, except cancelled ones).")
  var bookings = Seeder.Config.defaults.bookings

  @Option(help: "Reviews (of completed bookings; capped at their number).")
  var reviews = Seeder.Config.defaults.reviews

  @Option(help: "Seed of the random generator: the same seed and sizes give the same data.")
  var seed: UInt64 = Seeder.Config.defaults.seed

  @Option(
    help: """
      The data set's "now", as YYYY-MM-DD (noon UTC that day) or 'current' (this moment): stays \
      before it are past, some just-created bookings are pending. Default 2025-06-01, so that the \
      same seed gives the same data.
      """)
  var now = "2025-06-01"

  @Flag(help: "Delete the marketplace's data first (in the same transaction) instead of refusing a non-empty database.")
  var replace = false

  @Option(help: "Least severe log level written: trace, debug, info, notice, warning, error, critical.")
  var logLevel: Logger.Level = .notice

  func validate() throws {
    for (name, value) in [("users", users), ("properties", properties), ("bookings", bookings), ("reviews", reviews)]
    where value < 0 {
      throw ValidationError("--\(name) must not be negative")
    }
    if properties > 0 && users < 2 { throw ValidationError("properties need --users 2 or more") }
    if bookings > 0 && properties == 0 { throw ValidationError("bookings need --properties 1 or more") }
    _ = try nowTimestamp()
  }

  /// `--now` as an instant.
  func nowTimestamp() throws -> Timestamp {
    if now == "current" {
      return Timestamp(microsecondsSinceEpoch: Int64(Date().timeIntervalSince1970 * 1_000_000))
    }
    guard let day = LocalDate(iso: now) else {
      throw ValidationError("--now must be a date (YYYY-MM-DD) or 'current'")
    }
    return Timestamp(microsecondsSinceEpoch: (Int64(day.daysSinceEpoch) * 86_400 + 12 * 3600) * 1_000_000)
  }

  func run() async throws {
    bootstrapLogging(level: logLevel)
    let logger = Logger(label: "marketplace.seed")
    // Beside a running server, into its empty embedded cluster; never replacing the data under
    // it (its cache would go on serving the old rows).
    let database = try await database.open(logger: logger, sharingEmbedded: !replace)
    let pool = database.toolPool(connections: 1, logger: logger)
    var config = Seeder.Config()
    config.users = users
    config.properties = properties
    config.bookings = bookings
    config.reviews = reviews
    config.seed = seed
    config.now = try nowTimestamp()
    config.replaceExisting = replace
    do {
      let report = try await Seeder.seed(pool, config: config, logger: logger)
      print(report)
    } catch {
      await pool.close()
      try? await database.close()
      if let error = error as? PGError { throw SeedFailure(description: String(reflecting: error)) }
      throw error
    }
    await pool.close()
    try await database.close()
  }

  struct SeedFailure: Error, CustomStringConvertible {
    var description: String
  }
}
