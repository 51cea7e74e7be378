/// A least-recently-used cache bounded by the bytes its entries report: a dictionary from key to
/// slot, and the slots in arrays linked into a recency list by index. `get`, `set` and `remove`
/// are O(1) (amortised); `set` evicts least recently used entries until the new one fits.
///
/// Entries may expire: `set(_:_:cost:expiresAt:now:)` takes an instant after which `get` treats
/// the entry as absent (and removes it). Instants come from the caller, so tests move time.
///
/// Not thread-safe: `ShardedCache` puts each one behind a lock.
public struct LRUCache<Key: Hashable, Value> {
  private struct Slot {
    var key: Key
    var value: Value
    var cost: Int
    var expiresAt: ContinuousClock.Instant?
    /// Towards the most recently used end; `none` at the head.
    var newer: Int
    /// Towards the least recently used end; `none` at the tail.
    var older: Int
  }

  private static var none: Int { -1 }

  public let capacityBytes: Int
  public private(set) var totalCost = 0
  public private(set) var counters = CacheCounters()
  private var index: [Key: Int] = [:]
  private var slots: [Slot?] = []
  private var free: [Int] = []
  /// Most recently used.
  private var head = LRUCache.none
  /// Least recently used: evicted first.
  private var tail = LRUCache.none

  public init(capacityBytes: Int) {
    precondition(capacityBytes >= 0)
    self.capacityBytes = capacityBytes
  }

  public var count: Int { index.count }

  /// The value for `key` (now the most recently used), or nil if absent or expired at `now`
  /// (read only for an entry that expires: clocks cost a system call).
  public mutating func get(_ key: Key, now: @autoclosure () -> ContinuousClock.Instant) -> Value? {
    guard let position = index[key], let slot = slots[position] else {
      counters.misses += 1
      return nil
    }
    if let expiresAt = slot.expiresAt, now() >= expiresAt {
      counters.expirations += 1
      counters.misses += 1
      remove(at: position)
      return nil
    }
    counters.hits += 1
    moveToHead(position)
    return slot.value
  }

  /// Stores `value` under `key`, evicting least recently used entries until it fits. A value
  /// costing more than the whole capacity is not stored (and any older value for the key goes).
  public mutating func set(
    _ key: Key, _ value: Value, cost: Int, expiresAt: ContinuousClock.Instant? = nil
  ) {
    precondition(cost >= 0)
    if let position = index[key] { remove(at: position) }
    guard cost <= capacityBytes else { return }
    while totalCost + cost > capacityBytes, tail != Self.none {
      counters.evictions += 1
      remove(at: tail)
    }
    let slot = Slot(key: key, value: value, cost: cost, expiresAt: expiresAt, newer: Self.none, older: head)
    let position: Int
    if let reused = free.popLast() {
      position = reused
      slots[position] = slot
    } else {
      position = slots.count
      slots.append(slot)
    }
    if head != Self.none { slots[head]!.newer = position }
    head = position
    if tail == Self.none { tail = position }
    index[key] = position
    totalCost += cost
    checkInvariants()
  }

  /// Removes `key`'s entry; true if there was one.
  @discardableResult
  public mutating func remove(_ key: Key) -> Bool {
    guard let position = index[key] else { return false }
    remove(at: position)
    return true
  }

  /// Removes every entry whose value matches (an O(n) scan).
  public mutating func removeAll(where shouldRemove: (Value) -> Bool) {
    for position in slots.indices {
      if let slot = slots[position], shouldRemove(slot.value) { remove(at: position) }
    }
  }

  /// Removes every entry; counters stay.
  public mutating func removeAll() {
    index.removeAll(keepingCapacity: true)
    slots.removeAll(keepingCapacity: true)
    free.removeAll(keepingCapacity: true)
    head = Self.none
    tail = Self.none
    totalCost = 0
  }

  /// Keys from most to least recently used (tests).
  public var keysByRecency: [Key] {
    var keys: [Key] = []
    var position = head
    while position != Self.none {
      keys.append(slots[position]!.key)
      position = slots[position]!.older
    }
    return keys
  }

  private mutating func remove(at position: Int) {
    let slot = slots[position]!
    unlink(position)
    slots[position] = nil
    free.append(position)
    index[slot.key] = nil
    totalCost -= slot.cost
    checkInvariants()
  }

  private mutating func unlink(_ position: Int) {
    let slot = slots[position]!
    if slot.newer != Self.none { slots[slot.newer]!.older = slot.older } else { head = slot.older }
    if slot.older != Self.none { slots[slot.older]!.newer = slot.newer } else { tail = slot.newer }
  }

  private mutating func moveToHead(_ position: Int) {
    guard position != head else { return }
    unlink(position)
    slots[position]!.newer = Self.none
    slots[position]!.older = head
    if head != Self.none { slots[head]!.newer = position }
    head = position
    if tail == Self.none { tail = position }
  }

  /// Debug builds check, after every change, that the list, the index and the cost agree
  /// (swift-collections' habit); past a thousand entries the O(n) walk is skipped, so that a
  /// debug server stays usable.
  private func checkInvariants() {
    #if DEBUG
      guard index.count <= 1_000 else { return }
      var seen = 0
      var cost = 0
      var position = head
      var newer = Self.none
      while position != Self.none {
        let slot = slots[position]!
        precondition(slot.newer == newer, "broken recency links")
        precondition(index[slot.key] == position, "index and list disagree")
        seen += 1
        cost += slot.cost
        newer = position
        position = slot.older
      }
      precondition(newer == tail, "tail is not the list's end")
      precondition(seen == index.count && cost == totalCost && totalCost <= capacityBytes, "counts disagree")
    #endif
  }
}

/// What a cache did since it was created.
public struct CacheCounters: Equatable, Sendable {
  public var hits = 0
  public var misses = 0
  /// Entries removed to make room.
  public var evictions = 0
  /// Entries found past their expiry.
  public var expirations = 0

  public init() {}

  static func + (lhs: CacheCounters, rhs: CacheCounters) -> CacheCounters {
    var sum = lhs
    sum.hits += rhs.hits
    sum.misses += rhs.misses
    sum.evictions += rhs.evictions
    sum.expirations += rhs.expirations
    return sum
  }
}
