public import Credentials
public import Logging
public import MarketplaceCore
import MarketplaceProtos
public import MarketplaceStorage
public import Postgres
public import RPCCore

/// The marketplace's own services, registered on a router behind the caller resolution.
public enum MarketplaceServices {
  /// The full names of the services that need the database (for their health status).
  public static let databaseBackedServiceNames = [
    "marketplace.v1.PropertyService", "marketplace.v1.UserService", "marketplace.v1.BookingService",
    "marketplace.v1.PaymentService", "marketplace.v1.ReviewService",
  ]

  /// What the services are built from (the composition root makes each once).
  public struct Dependencies: Sendable {
    public var database: PGClient
    public var passwords: PasswordHasher
    public var clock: any WallClock
    public var timeZones: any TimeZoneDirectory
    public var cache: MarketplaceCache
    /// The key page tokens are sealed with (`loadPageTokenKey`), the same in every process.
    public var pageTokenKey: [UInt8]
    public var users: UserService.Settings
    public var bookings: BookingService.Settings
    /// Days after check-out during which a stay may be reviewed.
    public var reviewWindowDays: Int
    /// `WatchBooking`'s fan-out (the composition root runs its listener).
    public var watchers: BookingWatchers
    public var logger: Logger

    public init(
      database: PGClient, passwords: PasswordHasher, clock: any WallClock, timeZones: any TimeZoneDirectory,
      cache: MarketplaceCache, pageTokenKey: [UInt8], users: UserService.Settings, bookings: BookingService.Settings,
      reviewWindowDays: Int, watchers: BookingWatchers, logger: Logger
    ) {
      self.database = database
      self.passwords = passwords
      self.clock = clock
      self.timeZones = timeZones
      self.cache = cache
      self.pageTokenKey = pageTokenKey
      self.users = users
      self.bookings = bookings
      self.reviewWindowDays = reviewWindowDays
      self.watchers = watchers
      self.logger = logger
    }
  }

  public static func register(with router: inout RPCRouter, _ dependencies: Dependencies) {
    let database = DatabaseAccess(client: dependencies.database, logger: dependencies.logger)
    var services = RPCRouter()
    let cache = dependencies.cache
    UserService(
      database: database, passwords: dependencies.passwords, cache: cache, clock: dependencies.clock,
      settings: dependencies.users
    ).registerMethods(with: &services)
    let pageTokens = PageTokens(key: dependencies.pageTokenKey)
    let properties = PropertyService(
      database: database, cache: cache, timeZones: dependencies.timeZones, pageTokens: pageTokens)
    properties.registerMethods(with: &services)
    BookingService(
      database: database, clock: dependencies.clock, timeZones: dependencies.timeZones, pageTokens: pageTokens,
      watchers: dependencies.watchers, settings: dependencies.bookings
    ).registerMethods(with: &services)
    PaymentService(database: database, clock: dependencies.clock, pageTokens: pageTokens)
      .registerMethods(with: &services)
    ReviewService(
      database: database, cache: cache, clock: dependencies.clock, timeZones: dependencies.timeZones,
      pageTokens: pageTokens, reviewWindowDays: dependencies.reviewWindowDays
    ).registerMethods(with: &services)
    // A cached listing is answered on the event loop, with no task.
    services.registerUnary(
      Marketplace_V1_PropertyService.Method.getProperty, Marketplace_V1_GetPropertyRequest.self,
      Marketplace_V1_GetPropertyResponse.self, replacing: true, inlineFirst: properties.getPropertyFromMemory
    ) { request, context, response in
      try await properties.getProperty(request, context: context, response: response)
    }
    router.register(
      contentsOf: services, interceptor: CallerResolver(database: database, cache: cache, clock: dependencies.clock))
  }
}

extension MarketplaceServices {
  /// The page token key every server process on `database` shares: created by the first one.
  public static func loadPageTokenKey(from database: PGClient) async throws -> [UInt8] {
    let name = "page_tokens"
    let (_, key) = try await database.run(
      ServerKeyRepository.insertIfAbsent(name: name, candidate: PageTokens.generateKey()),
      ServerKeyRepository.key(named: name))
    return key
  }
}
