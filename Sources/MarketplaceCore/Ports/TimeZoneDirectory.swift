/// The time zones the rules know (the IANA database, read by the adapter that implements this).
public protocol TimeZoneDirectory: Sendable {
  /// Whether `identifier` names a time zone ("Europe/Paris", "UTC").
  func contains(_ identifier: String) -> Bool
}
