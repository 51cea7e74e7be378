/// The time zones the rules know (the IANA database, read by the adapter that implements this).
public protocol TimeZoneDirectory: Sendable {
  /// Whether `identifier` names a time zone ("Europe/Paris", "UTC").
  func contains(_ identifier: String) -> Bool

  /// The calendar day it is at `instant` in the time zone `identifier` ("today" at a listing);
  /// the UTC day for a zone it does not know.
  func localDate(at instant: Timestamp, in identifier: String) -> LocalDate

  /// The instant `date` begins (local midnight) in the time zone `identifier`, UTC's for a zone
  /// it does not know: when a stay ending that day is over.
  func startOfDay(_ date: LocalDate, in identifier: String) -> Timestamp
}
