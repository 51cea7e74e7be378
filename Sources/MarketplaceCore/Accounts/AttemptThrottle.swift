/// Counts failures per key (an email, a client address) in a sliding window and says when a key
/// has had too many: the rule behind sign-in throttling. A value with no clock of its own:
/// callers pass `now`, tests pass any instant.
///
/// Memory is bounded: past `maximumKeys` keys, keys whose failures all left the window are
/// dropped, then the keys seen least recently.
public struct AttemptThrottle<Key: Hashable & Sendable>: Sendable {
  public let limit: Int
  public let window: Duration
  public let maximumKeys: Int
  /// Per key, the instants of its failures still in the window, oldest first (at most `limit`).
  private var failures: [Key: [ContinuousClock.Instant]] = [:]

  public init(limit: Int, window: Duration, maximumKeys: Int = 100_000) {
    precondition(limit > 0 && window > .zero && maximumKeys > 0)
    self.limit = limit
    self.window = window
    self.maximumKeys = maximumKeys
  }

  /// How long `key` must wait before its next attempt, or nil when it may try now.
  public func retryAfter(_ key: Key, now: ContinuousClock.Instant) -> Duration? {
    guard let times = failures[key], times.count >= limit else { return nil }
    let recent = times.filter { now - $0 < window }
    guard recent.count >= limit, let oldest = recent.first else { return nil }
    return window - (now - oldest)
  }

  public mutating func recordFailure(_ key: Key, now: ContinuousClock.Instant) {
    var times = (failures[key] ?? []).filter { now - $0 < window }
    times.append(now)
    if times.count > limit { times.removeFirst(times.count - limit) }
    failures[key] = times
    if failures.count > maximumKeys { evict(now: now) }
  }

  /// Forgets `key`'s failures (after a successful sign-in for an email).
  public mutating func reset(_ key: Key) {
    failures[key] = nil
  }

  /// The number of keys held (for tests of the bound).
  public var keyCount: Int { failures.count }

  private mutating func evict(now: ContinuousClock.Instant) {
    failures = failures.filter { _, times in times.last.map { now - $0 < window } ?? false }
    guard failures.count > maximumKeys else { return }
    let excess = failures.count - maximumKeys
    let stalest = failures.sorted { $0.value.last! < $1.value.last! }.prefix(excess).map(\.key)
    for key in stalest { failures[key] = nil }
  }
}
