import Caching
import Synchronization
import Testing

@Suite("LRU cache")
struct LRUCacheTests {
  static let start = ContinuousClock.now

  @Test("bounded by bytes: the least recently used go first, a read refreshes")
  func eviction() {
    var cache = LRUCache<String, Int>(capacityBytes: 100)
    cache.set("a", 1, cost: 40)
    cache.set("b", 2, cost: 40)
    #expect(cache.get("a", now: Self.start) == 1)  // a is now the most recent
    cache.set("c", 3, cost: 40)  // evicts b
    #expect(cache.keysByRecency == ["c", "a"] && cache.totalCost == 80)
    #expect(cache.get("b", now: Self.start) == nil)
    cache.set("d", 4, cost: 100)  // takes all the room
    #expect(cache.keysByRecency == ["d"] && cache.totalCost == 100)
    cache.set("e", 5, cost: 101)  // bigger than the cache: not stored
    #expect(cache.get("e", now: Self.start) == nil && cache.count == 1)
    #expect(cache.counters.evictions == 3 && cache.counters.hits == 1 && cache.counters.misses == 2)
  }

  @Test("replacing a key updates its cost; removal frees its bytes and slot")
  func replaceAndRemove() {
    var cache = LRUCache<Int, String>(capacityBytes: 10)
    cache.set(1, "x", cost: 6)
    cache.set(1, "y", cost: 3)
    #expect(cache.totalCost == 3 && cache.get(1, now: Self.start) == "y")
    #expect(cache.remove(1) && !cache.remove(1) && cache.totalCost == 0 && cache.count == 0)
    for key in 0..<100 { cache.set(key, "v", cost: 1) }
    #expect(cache.count == 10 && cache.keysByRecency == Array((90..<100).reversed()))
    cache.removeAll { $0 == "v" }
    #expect(cache.count == 0 && cache.totalCost == 0)
  }

  @Test("entries expire at their instant")
  func expiry() {
    var cache = LRUCache<String, Int>(capacityBytes: 10)
    cache.set("a", 1, cost: 1, expiresAt: Self.start + .seconds(5))
    #expect(cache.get("a", now: Self.start + .seconds(4)) == 1)
    #expect(cache.get("a", now: Self.start + .seconds(5)) == nil)
    #expect(cache.count == 0 && cache.counters.expirations == 1)
  }

  @Test("random operations agree with a simple model")
  func model() {
    var cache = LRUCache<Int, Int>(capacityBytes: 50)
    var model: [(key: Int, value: Int, cost: Int)] = []  // most recent first
    var generator = SystemRandomNumberGenerator()
    for step in 0..<5_000 {
      let key = Int.random(in: 0..<30, using: &generator)
      switch Int.random(in: 0..<3, using: &generator) {
      case 0:
        let cost = Int.random(in: 1...12, using: &generator)
        cache.set(key, step, cost: cost)
        model.removeAll { $0.key == key }
        model.insert((key, step, cost), at: 0)
        while model.reduce(0, { $0 + $1.cost }) > 50 { model.removeLast() }
      case 1:
        let expected = model.firstIndex { $0.key == key }.map { model.remove(at: $0) }
        if let expected { model.insert(expected, at: 0) }
        #expect(cache.get(key, now: Self.start) == expected?.value)
      default:
        cache.remove(key)
        model.removeAll { $0.key == key }
      }
      #expect(cache.keysByRecency == model.map(\.key))
    }
  }
}

@Suite("Sharded cache")
struct ShardedCacheTests {
  @Test("a fill that began before an invalidation is dropped")
  func conditionalFill() {
    let cache = ShardedCache<String, Int>(capacityBytes: 1_000)
    let early = cache.ticket(for: "k")
    cache.invalidate("k")  // a write committed while the read ran
    #expect(!cache.set("k", 1, cost: 1, ticket: early))
    #expect(cache.get("k") == nil)
    #expect(cache.set("k", 2, cost: 1, ticket: cache.ticket(for: "k")))
    #expect(cache.get("k") == 2)
    let beforeFlush = cache.ticket(for: "k")
    cache.invalidateAll()
    #expect(!cache.set("k", 3, cost: 1, ticket: beforeFlush) && cache.count == 0)
  }

  @Test("time to live, on the cache's clock")
  func timeToLive() {
    final class Clock: Sendable {
      let offset = Atomic<Int>(0)
      let start = ContinuousClock.now
      var now: ContinuousClock.Instant { start + .seconds(offset.load(ordering: .relaxed)) }
    }
    let clock = Clock()
    let cache = ShardedCache<String, Int>(capacityBytes: 1_000, clock: { clock.now })
    cache.set("k", 1, cost: 1, ticket: cache.ticket(for: "k"), timeToLive: .seconds(10))
    clock.offset.store(9, ordering: .relaxed)
    #expect(cache.get("k") == 1)
    clock.offset.store(10, ordering: .relaxed)
    #expect(cache.get("k") == nil && cache.counters.expirations == 1)
  }

  @Test("concurrent use from many tasks keeps the byte bound and the counts")
  func concurrency() async {
    let cache = ShardedCache<Int, [UInt8]>(capacityBytes: 64 * 1024, shardCount: 8)
    await withTaskGroup(of: Void.self) { group in
      for worker in 0..<8 {
        group.addTask {
          for step in 0..<5_000 {
            let key = (worker * 7_919 + step * 31) % 2_000
            if cache.get(key) == nil {
              cache.set(key, [UInt8](repeating: 1, count: 64), cost: 64, ticket: cache.ticket(for: key))
            }
            if step % 97 == 0 { cache.invalidate(key) }
          }
        }
      }
    }
    let counters = cache.counters
    #expect(counters.hits + counters.misses == 40_000)
    #expect(cache.totalCost <= 64 * 1024 && cache.totalCost == cache.count * 64)
    #expect(counters.evictions > 0)
  }
}
