/// The time of day the rules read (session expiry, later check-in days and lapses): injected, so
/// tests can move it.
public protocol WallClock: Sendable {
  var now: Timestamp { get }
}
