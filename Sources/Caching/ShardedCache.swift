import Synchronization

/// An `LRUCache` split into shards by key hash, each behind its own lock, so that event loops on
/// different cores rarely wait for each other. Safe to share.
///
/// Reads that fill the cache from the database race with writes that invalidate it: a value read
/// before a write commits could be stored after the write's invalidation, and then served stale.
/// So a fill is conditional: `ticket(for:)` before the read, `set(_:_:cost:ticket:)` after it, and
/// the value is stored only if no invalidation reached the key's shard in between.
public final class ShardedCache<Key: Hashable & Sendable, Value: Sendable>: Sendable {
  /// Proof of when a read began, for a conditional fill.
  public struct Ticket: Sendable {
    fileprivate let shard: Int
    fileprivate let generation: UInt64
  }

  private struct Shard {
    var cache: LRUCache<Key, Value>
    /// Incremented by every invalidation of the shard's keys (and by flushes).
    var generation: UInt64 = 0
  }

  /// A shard's lock on the heap (a `Mutex` cannot be an array element).
  private final class Locked: Sendable {
    let mutex: Mutex<Shard>
    init(_ shard: sending Shard) { mutex = Mutex(shard) }
  }

  private let shards: [Locked]
  private let clock: @Sendable () -> ContinuousClock.Instant

  /// `capacityBytes` is split evenly across `shardCount` shards (rounded up to a power of two).
  public init(
    capacityBytes: Int, shardCount: Int = 16,
    clock: @escaping @Sendable () -> ContinuousClock.Instant = { ContinuousClock.now }
  ) {
    var count = 1
    while count < max(1, shardCount) { count *= 2 }
    let perShard = capacityBytes / count
    shards = (0..<count).map { _ in Locked(Shard(cache: LRUCache(capacityBytes: perShard))) }
    self.clock = clock
  }

  public func get(_ key: Key) -> Value? {
    shards[shard(of: key)].mutex.withLock { $0.cache.get(key, now: clock()) }
  }

  /// Taken before reading what may fill `key`.
  public func ticket(for key: Key) -> Ticket {
    let index = shard(of: key)
    return Ticket(shard: index, generation: shards[index].mutex.withLock { $0.generation })
  }

  /// Stores `value` unless an invalidation reached `key`'s shard since `ticket` was taken; true
  /// if stored. `timeToLive` bounds how long it is served.
  @discardableResult
  public func set(_ key: Key, _ value: Value, cost: Int, ticket: Ticket, timeToLive: Duration? = nil) -> Bool {
    let expiresAt = timeToLive.map { clock() + $0 }
    return shards[ticket.shard].mutex.withLock { shard in
      guard shard.generation == ticket.generation else { return false }
      shard.cache.set(key, value, cost: cost, expiresAt: expiresAt)
      return true
    }
  }

  /// Removes `key`, and fails every fill of its shard that began before.
  public func invalidate(_ key: Key) {
    shards[shard(of: key)].mutex.withLock { shard in
      shard.generation &+= 1
      shard.cache.remove(key)
    }
  }

  /// Removes every entry whose value matches (an O(n) scan of every shard).
  public func invalidateAll(where shouldRemove: @Sendable (Value) -> Bool) {
    for shard in shards {
      shard.mutex.withLock { shard in
        shard.generation &+= 1
        shard.cache.removeAll(where: shouldRemove)
      }
    }
  }

  /// Removes everything.
  public func invalidateAll() {
    for shard in shards {
      shard.mutex.withLock { shard in
        shard.generation &+= 1
        shard.cache.removeAll()
      }
    }
  }

  /// Hits, misses, evictions and expirations so far, over all shards.
  public var counters: CacheCounters {
    shards.reduce(into: CacheCounters()) { sum, shard in
      sum = sum + shard.mutex.withLock { $0.cache.counters }
    }
  }

  public var count: Int { shards.reduce(0) { $0 + $1.mutex.withLock { $0.cache.count } } }

  public var totalCost: Int { shards.reduce(0) { $0 + $1.mutex.withLock { $0.cache.totalCost } } }

  private func shard(of key: Key) -> Int {
    key.hashValue & (shards.count - 1)
  }
}
