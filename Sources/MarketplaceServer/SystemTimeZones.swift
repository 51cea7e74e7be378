import Foundation
import MarketplaceCore

/// The IANA time zones Foundation knows (ICU's copy of the tz database).
struct SystemTimeZones: TimeZoneDirectory {
  /// Region names ("Europe/Paris") and UTC; not abbreviations such as "CET", which are ambiguous.
  func contains(_ identifier: String) -> Bool {
    guard identifier == "UTC" || identifier.contains("/") else { return false }
    return TimeZone(identifier: identifier) != nil
  }
}
