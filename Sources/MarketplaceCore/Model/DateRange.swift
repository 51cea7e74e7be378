/// A stay: the half-open range of dates [checkIn, checkOut). The guest leaves on `checkOut`, so
/// a stay ending on a day and another starting that day do not overlap.
public struct DateRange: Hashable, Sendable, CustomStringConvertible {
  public let checkIn: LocalDate
  public let checkOut: LocalDate

  /// Nil unless `checkOut` is after `checkIn` (at least one night).
  public init?(checkIn: LocalDate, checkOut: LocalDate) {
    guard checkOut > checkIn else { return nil }
    self.checkIn = checkIn
    self.checkOut = checkOut
  }

  public var nights: Int { checkOut.daysSinceEpoch - checkIn.daysSinceEpoch }

  public func overlaps(_ other: DateRange) -> Bool {
    checkIn < other.checkOut && other.checkIn < checkOut
  }

  /// `[checkIn,checkOut)`, PostgreSQL's text form of a `daterange`.
  public var description: String { "[\(checkIn),\(checkOut))" }
}
