/// Why a listing operation was refused, beyond validation and access.
public enum ListingError: Error, Hashable, Sendable {
  /// Deleting a listing that still has pending or confirmed bookings whose stay has not ended.
  case hasUpcomingBookings(count: Int)
}
