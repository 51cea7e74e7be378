import Foundation
import MarketplaceCore

/// The IANA time zones Foundation knows (ICU's copy of the tz database).
struct SystemTimeZones: TimeZoneDirectory {
  /// Region names ("Europe/Paris") and UTC; not abbreviations such as "CET", which are ambiguous.
  func contains(_ identifier: String) -> Bool {
    guard identifier == "UTC" || identifier.contains("/") else { return false }
    return TimeZone(identifier: identifier) != nil
  }

  func localDate(at instant: Timestamp, in identifier: String) -> LocalDate {
    let seconds = instant.microsecondsSinceEpoch / 1_000_000
    let offset =
      TimeZone(identifier: identifier)?.secondsFromGMT(for: Date(timeIntervalSince1970: Double(seconds))) ?? 0
    return Timestamp(microsecondsSinceEpoch: instant.microsecondsSinceEpoch + Int64(offset) * 1_000_000).utcDate
  }

  func startOfDay(_ date: LocalDate, in identifier: String) -> Timestamp {
    var calendar = Calendar(identifier: .gregorian)
    calendar.timeZone = TimeZone(identifier: identifier) ?? TimeZone(identifier: "UTC")!
    let (year, month, day) = date.components
    let start = calendar.startOfDay(
      for: calendar.date(from: DateComponents(year: year, month: month, day: day, hour: 12))!)
    return Timestamp(microsecondsSinceEpoch: Int64(start.timeIntervalSince1970) * 1_000_000)
  }
}
