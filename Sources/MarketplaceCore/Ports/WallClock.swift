/// The time of day the rules read (session expiry, later check-in days and lapses): injected, so
/// tests can move it.
public protocol WallClock: Sendable {
  var now: Timestamp { get }
}

extension Timestamp {
  /// This instant plus `duration` (whole microseconds).
  public func adding(_ duration: Duration) -> Timestamp {
    let (seconds, attoseconds) = duration.components
    return Timestamp(
      microsecondsSinceEpoch: microsecondsSinceEpoch + seconds * 1_000_000 + attoseconds / 1_000_000_000_000)
  }
}
