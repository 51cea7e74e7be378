/// Deleting a listing: allowed (to its host or an administrator, see `AccessPolicy`) only when
/// no guest holds dates that are still to come.
public enum DeleteListing {
  /// `upcomingBookings`: pending or confirmed bookings whose stay has not ended.
  public static func check(upcomingBookings: Int) throws(ListingError) {
    guard upcomingBookings == 0 else { throw .hasUpcomingBookings(count: upcomingBookings) }
  }
}
