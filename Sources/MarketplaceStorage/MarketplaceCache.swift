public import Caching
public import Logging
public import MarketplaceCore
public import Postgres
import Synchronization

/// What the marketplace keeps in memory (in place of Redis): listings by id, for `GetProperty`, and
/// signed-in sessions by token digest, for resolving every call's caller.
///
/// No read serves a value older than an acknowledged write, in any process on the database: a
/// write invalidates in its own process before it answers, and its `NOTIFY` (sent in the write's
/// transaction, so delivered at commit) invalidates every other process, whose `listen(on:)` loop
/// applies it. While that loop is not listening (before start, or after its connection was lost)
/// the cache serves nothing; when it listens again it first forgets everything, since
/// notifications may have been missed. A fill races an invalidation safely (`ShardedCache`'s
/// tickets).
public final class MarketplaceCache: Sendable {
  /// A signed-in session as the caller resolution needs it.
  public struct Session: Sendable, Equatable {
    public var principal: Principal
    public var expiresAt: Timestamp

    public init(principal: Principal, expiresAt: Timestamp) {
      self.principal = principal
      self.expiresAt = expiresAt
    }
  }

  /// What a write makes stale.
  public enum Invalidation: Sendable, Equatable {
    case property(PropertyID)
    /// One session, by its token's digest (Logout).
    case session(tokenDigest: [UInt8])
    /// Every session of a user (ChangePassword, a role change).
    case user(UserID)
  }

  public struct Config: Sendable {
    /// Bytes for listings and sessions together (split evenly).
    public var capacityBytes: Int
    /// How long a listing is served from memory at most; nil: until a write invalidates it.
    public var propertyTimeToLive: Duration?

    public init(capacityBytes: Int = 64 << 20, propertyTimeToLive: Duration? = nil) {
      self.capacityBytes = capacityBytes
      self.propertyTimeToLive = propertyTimeToLive
    }
  }

  /// The NOTIFY channel invalidations travel on.
  public static let channel = "marketplace_cache"

  /// A cached listing, and its encoding for the wire when the reader supplied one (so that a
  /// hit costs no re-encoding). A class: a hit hands out one reference, not a copy of a dozen
  /// strings.
  public final class Listing: Sendable {
    public let property: Property
    public let encoded: [UInt8]

    init(property: Property, encoded: [UInt8]) {
      self.property = property
      self.encoded = encoded
    }
  }

  public let config: Config
  let properties: ShardedCache<PropertyID, Listing>
  let sessions: ShardedCache<[UInt8], Session>
  private let listening = Atomic<Bool>(false)

  public init(config: Config = Config(), shardCount: Int = 16) {
    self.config = config
    properties = ShardedCache(capacityBytes: config.capacityBytes / 2, shardCount: shardCount)
    sessions = ShardedCache(capacityBytes: config.capacityBytes / 2, shardCount: shardCount)
  }

  /// Whether reads may be served from memory: it has room (with none, a read would encode what
  /// it cannot keep), and the invalidation listener is in place.
  public var isServingReads: Bool { config.capacityBytes > 0 && isListening }

  /// Whether the invalidation listener is in place.
  var isListening: Bool { listening.load(ordering: .acquiring) }

  // MARK: Reads

  /// The listing `id` from memory, else from `load`, storing what it finds with its encoding
  /// (`encode`, the reader's wire form).
  public func property(
    _ id: PropertyID, encode: (Property) -> [UInt8], load: () async throws -> Property?
  ) async throws -> Property? {
    guard isServingReads else { return try await load() }
    if let cached = properties.get(id) { return cached.property }
    let ticket = properties.ticket(for: id)
    guard let property = try await load() else { return nil }
    if isServingReads {
      let listing = Listing(property: property, encoded: encode(property))
      properties.set(
        id, listing, cost: Self.cost(of: property) + listing.encoded.count, ticket: ticket,
        timeToLive: config.propertyTimeToLive)
    }
    return property
  }

  /// The listing `id` if memory has it (and may serve it).
  public func cachedProperty(_ id: PropertyID) -> Listing? {
    isServingReads ? properties.get(id) : nil
  }

  /// The session of a token digest from memory, else from `load`; kept no longer than it lasts.
  public func session(
    tokenDigest: [UInt8], now: Timestamp, load: () async throws -> Session?
  ) async throws -> Session? {
    if let cached = cachedSession(tokenDigest: tokenDigest, now: now) { return cached }
    guard isServingReads else { return try await load() }
    let ticket = sessions.ticket(for: tokenDigest)
    guard let session = try await load() else { return nil }
    let remaining = session.expiresAt.microsecondsSinceEpoch - now.microsecondsSinceEpoch
    if isServingReads && remaining > 0 {
      sessions.set(tokenDigest, session, cost: 160, ticket: ticket, timeToLive: .microseconds(remaining))
    }
    return session
  }

  /// The session of a token digest if memory has it, it may serve it, and it has not expired.
  public func cachedSession(tokenDigest: [UInt8], now: Timestamp) -> Session? {
    guard isServingReads, let session = sessions.get(tokenDigest), now < session.expiresAt else { return nil }
    return session
  }

  // MARK: Invalidation

  /// Forgets what `invalidation` makes stale, in this process.
  public func apply(_ invalidation: Invalidation) {
    switch invalidation {
    case .property(let id): properties.invalidate(id)
    case .session(let digest): sessions.invalidate(digest)
    case .user(let id): sessions.invalidateAll { $0.principal.userID == id }
    }
  }

  /// The statement that tells every process of `invalidation`: run it in the write's transaction
  /// (it is delivered when that commits), then `apply` it here before answering.
  public static func notify(_ invalidation: Invalidation) -> PGQuery<Int> {
    PGQuery("SELECT pg_notify(\(channel), \(invalidation.payload))") { $0.count }
  }

  /// Applies the invalidations other processes send, until the client closes or the task is
  /// cancelled. Serves reads only while listening.
  public func listen(on client: PGClient, logger: Logger) async {
    for await event in client.notifications(on: Self.channel) {
      switch event {
      case .listening, .resumedAfterGap:
        // Nothing missed before the first LISTEN; after a gap, anything may have been.
        flush()
        listening.store(true, ordering: .releasing)
        if event == .resumedAfterGap { logger.notice("cache invalidations resumed; the cache was emptied") }
      case .connectionLost:
        listening.store(false, ordering: .releasing)
        flush()
        logger.warning("cache invalidations interrupted; reads go to the database until they resume")
      case .notification(_, let payload):
        if let invalidation = Invalidation(payload: payload) {
          apply(invalidation)
        } else {
          logger.warning("unknown cache invalidation", metadata: ["cache.payload": "\(payload.prefix(80))"])
        }
      }
    }
    listening.store(false, ordering: .releasing)
  }

  /// Hits, misses, evictions and expirations, for listings and for sessions.
  public var counters: (properties: CacheCounters, sessions: CacheCounters) {
    (properties.counters, sessions.counters)
  }

  private func flush() {
    properties.invalidateAll()
    sessions.invalidateAll()
  }

  /// An estimate of a listing's memory: its strings and a fixed part for the rest.
  static func cost(of property: Property) -> Int {
    256 + property.name.utf8.count + property.description.utf8.count + property.location.address.utf8.count
      + property.location.city.utf8.count + property.terms.timeZone.utf8.count
  }
}

extension MarketplaceCache.Invalidation {
  /// "p:<uuid>", "s:<hex digest>", "u:<uuid>".
  var payload: String {
    switch self {
    case .property(let id): "p:\(id)"
    case .session(let digest): "s:" + digest.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
    case .user(let id): "u:\(id)"
    }
  }

  init?(payload: String) {
    let body = payload.dropFirst(2)
    switch payload.prefix(2) {
    case "p:":
      guard let id = PropertyID(body) else { return nil }
      self = .property(id)
    case "u:":
      guard let id = UserID(body) else { return nil }
      self = .user(id)
    case "s:":
      guard body.utf8.count == 64 else { return nil }
      var digest: [UInt8] = []
      var index = body.startIndex
      while index < body.endIndex {
        let next = body.index(index, offsetBy: 2)
        guard let byte = UInt8(body[index..<next], radix: 16) else { return nil }
        digest.append(byte)
        index = next
      }
      self = .session(tokenDigest: digest)
    default: return nil
    }
  }
}
