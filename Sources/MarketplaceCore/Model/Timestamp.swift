/// An instant, as whole microseconds since 1970-01-01T00:00:00Z: PostgreSQL's `timestamptz`
/// resolution, so values read back compare equal to what was stored.
public struct Timestamp: Hashable, Comparable, Sendable, CustomStringConvertible {
  public var microsecondsSinceEpoch: Int64

  public init(microsecondsSinceEpoch: Int64) { self.microsecondsSinceEpoch = microsecondsSinceEpoch }

  public static func < (lhs: Timestamp, rhs: Timestamp) -> Bool {
    lhs.microsecondsSinceEpoch < rhs.microsecondsSinceEpoch
  }

  /// The UTC date this instant falls on.
  public var utcDate: LocalDate {
    let day: Int64 = 86_400_000_000
    let days =
      microsecondsSinceEpoch >= 0
      ? microsecondsSinceEpoch / day : (microsecondsSinceEpoch - day + 1) / day
    return LocalDate(daysSinceEpoch: Int(days))
  }

  /// ISO 8601 in UTC with microseconds, e.g. `2025-06-01T12:00:00.000000Z`.
  public var description: String {
    let day: Int64 = 86_400_000_000
    let date = utcDate
    let ofDay = microsecondsSinceEpoch - Int64(date.daysSinceEpoch) * day
    let seconds = Int(ofDay / 1_000_000)
    return "\(date)T\(zeroPadded(seconds / 3600, 2)):\(zeroPadded(seconds / 60 % 60, 2))"
      + ":\(zeroPadded(seconds % 60, 2)).\(zeroPadded(Int(ofDay % 1_000_000), 6))Z"
  }
}

extension Timestamp {
  /// This instant plus `duration` (whole microseconds).
  public func adding(_ duration: Duration) -> Timestamp {
    let (seconds, attoseconds) = duration.components
    return Timestamp(
      microsecondsSinceEpoch: microsecondsSinceEpoch + seconds * 1_000_000 + attoseconds / 1_000_000_000_000)
  }

  /// This instant without its fraction of a second (towards the past).
  public var truncatedToSeconds: Timestamp {
    let micros = microsecondsSinceEpoch
    let remainder = ((micros % 1_000_000) + 1_000_000) % 1_000_000
    return Timestamp(microsecondsSinceEpoch: micros - remainder)
  }
}
