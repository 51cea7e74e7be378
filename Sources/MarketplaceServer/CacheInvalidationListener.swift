import Caching
import Logging
import MarketplaceStorage
import Postgres
import ServiceLifecycle

/// Runs the cache's invalidation listener for the server's lifetime, and logs what the cache did
/// when it stops.
struct CacheInvalidationListener: Service {
  let cache: MarketplaceCache
  let client: PGClient
  let logger: Logger

  func run() async throws {
    await cancelWhenGracefulShutdown {
      await cache.listen(on: client, logger: logger)
    }
    let (properties, sessions) = cache.counters
    logger.notice(
      "cache stopped",
      metadata: [
        "cache.properties.hits": "\(properties.hits)", "cache.properties.misses": "\(properties.misses)",
        "cache.properties.evictions": "\(properties.evictions)", "cache.sessions.hits": "\(sessions.hits)",
        "cache.sessions.misses": "\(sessions.misses)", "cache.sessions.evictions": "\(sessions.evictions)",
      ])
  }
}
