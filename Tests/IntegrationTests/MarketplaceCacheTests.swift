import Logging
import MarketplaceCore
import Postgres
import Synchronization
import Testing

@testable import MarketplaceStorage

@Suite("marketplace cache", .enabled(if: TestDatabase.shouldRun, TestDatabase.disabledReason))
struct MarketplaceCacheTests {
  static let listing = Property(
    id: .random(), hostID: .random(), name: "Loft", description: "",
    location: .init(address: "1 rue", city: "Paris", country: "FR", coordinates: nil),
    pricePerNight: Money(amountMinor: 100, currency: CurrencyCode("EUR")!), maxGuests: 2,
    rating: .init(sum: 0, count: 0), createdAt: Timestamp(microsecondsSinceEpoch: 0),
    updatedAt: Timestamp(microsecondsSinceEpoch: 0), deletedAt: nil)

  final class Loads: Sendable {
    let count = Atomic<Int>(0)
    func load() -> Property? {
      count.add(1, ordering: .relaxed)
      return MarketplaceCacheTests.listing
    }
    var value: Int { count.load(ordering: .relaxed) }
  }

  @Test("invalidations travel as NOTIFY payloads and back")
  func payloads() {
    let digest = (0..<32).map { UInt8($0 * 7 % 256) }
    for invalidation in [
      MarketplaceCache.Invalidation.property(.random()), .session(tokenDigest: digest), .user(.random()),
    ] {
      #expect(MarketplaceCache.Invalidation(payload: invalidation.payload) == invalidation)
    }
    for junk in ["", "p:", "p:not-a-uuid", "s:abc", "x:1", "s:" + String(repeating: "zz", count: 32)] {
      #expect(MarketplaceCache.Invalidation(payload: junk) == nil)
    }
  }

  @Test("with no room (--cache-bytes 0) every read loads, and nothing is encoded for keeping")
  func noCapacity() async throws {
    try await TestDatabase.withClient { client, _ in
      let cache = MarketplaceCache(config: .init(capacityBytes: 0))
      let loads = Loads()
      let encodings = Atomic<Int>(0)
      let listener = Task { await cache.listen(on: client, logger: TestDatabase.logger) }
      defer { listener.cancel() }
      #expect(await TestDatabase.eventually { cache.isListening })
      for _ in 0..<3 {
        let read = try await cache.property(
          Self.listing.id,
          encode: { _ in
            encodings.add(1, ordering: .relaxed)
            return []
          }
        ) { loads.load() }
        #expect(read == Self.listing)
      }
      #expect(loads.value == 3 && encodings.load(ordering: .relaxed) == 0 && !cache.isServingReads)
    }
  }

  @Test("serves from memory only while listening; a NOTIFY evicts; a lost listener empties it")
  func listening() async throws {
    try await TestDatabase.withClient { client, database in
      let cache = MarketplaceCache()
      let loads = Loads()
      let id = Self.listing.id
      func read() async throws -> Property? { try await cache.property(id, encode: { _ in [] }) { loads.load() } }

      // Not listening yet: every read loads, nothing is kept.
      _ = try await read()
      _ = try await read()
      #expect(loads.value == 2 && !cache.isServingReads)

      let listener = Task { await cache.listen(on: client, logger: TestDatabase.logger) }
      defer { listener.cancel() }
      #expect(await TestDatabase.eventually { cache.isServingReads })
      _ = try await read()
      _ = try await read()
      #expect(loads.value == 3, "the second read came from memory")

      // Another process's write: its NOTIFY evicts the listing here.
      _ = try await client.run(MarketplaceCache.notify(.property(id)))
      #expect(await TestDatabase.eventually { cache.cachedProperty(id) == nil })
      _ = try await read()
      #expect(loads.value == 4 && cache.cachedProperty(id) != nil)

      // The listener's connection is killed: it listens again, and starts empty (what it missed
      // meanwhile cannot be known). Not serving in between lasts too short to observe here; the
      // e2e suite checks its effect across two servers.
      let killed = try await TestDatabase.withAdmin { admin in
        try admin.query(
          """
          SELECT pg_terminate_backend(pid) FROM pg_stat_activity
          WHERE datname = \(database) AND query LIKE 'LISTEN %'
          """
        ).count
      }
      #expect(killed == 1)
      #expect(await TestDatabase.eventually { cache.isServingReads && cache.cachedProperty(id) == nil })
    }
  }

  @Test("a user's invalidation drops all their sessions and only theirs")
  func userSessions() async throws {
    try await TestDatabase.withClient { client, _ in
      let cache = MarketplaceCache()
      let listener = Task { await cache.listen(on: client, logger: TestDatabase.logger) }
      defer { listener.cancel() }
      #expect(await TestDatabase.eventually { cache.isServingReads })
      let ann = UserID.random()
      let bob = UserID.random()
      let now = Timestamp(microsecondsSinceEpoch: 1_000_000)
      let later = Timestamp(microsecondsSinceEpoch: 3_600_000_000)
      func session(_ user: UserID) -> MarketplaceCache.Session {
        .init(principal: Principal(userID: user, role: .guest, sessionID: .random()), expiresAt: later)
      }
      let digests = (0..<3).map { [UInt8](repeating: UInt8($0), count: 32) }
      for (digest, user) in zip(digests, [ann, ann, bob]) {
        _ = try await cache.session(tokenDigest: digest, now: now) { session(user) }
      }
      #expect(digests.allSatisfy { cache.cachedSession(tokenDigest: $0, now: now) != nil })
      #expect(cache.cachedSession(tokenDigest: digests[0], now: later) == nil, "never past the session's end")
      cache.apply(.user(ann))
      #expect(digests.map { cache.cachedSession(tokenDigest: $0, now: now) != nil } == [false, false, true])
    }
  }
}
