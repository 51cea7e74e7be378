/// Who may do what: one decision per act, over the caller, their role and the resource's owner.
///
/// The rule for what a refusal says: a caller who may not *see* a resource gets `.notFound`,
/// exactly as for one that does not exist, so ids cannot be probed; `.forbidden` is for a
/// resource the caller can see and an act they may not do.
public enum AccessPolicy {
  /// What is done to a listing.
  public enum ListingAct: Hashable, Sendable, CaseIterable {
    case read, create, update, delete, listOwn
  }

  /// Throws unless `caller` may do `act` to `listing`, the listing with id `id` as loaded (nil:
  /// there is none; create and listOwn name no listing).
  public static func check(_ act: ListingAct, by caller: Caller, on listing: Property?, id: PropertyID? = nil)
    throws(AccessError)
  {
    // Built only when thrown: reads of a listing are the hot path.
    var notFound: AccessError { .notFound(what: "listing \(id.map(\.description) ?? "")") }
    if act == .read {
      guard let listing, !listing.isDeleted else { throw notFound }
      return
    }
    guard case .user(let principal) = caller else { throw .signInRequired }
    switch act {
    case .read, .listOwn:
      return
    case .create:
      guard principal.role == .host || principal.role == .admin else {
        throw .forbidden("only hosts list places: register a host account")
      }
    case .update, .delete:
      guard let listing, !listing.isDeleted else { throw notFound }
      guard listing.hostID == principal.userID || principal.role == .admin else {
        throw .forbidden("only the listing's host changes it")
      }
    }
  }
}

/// A refusal by `AccessPolicy`.
public enum AccessError: Error, Hashable, Sendable {
  /// The act needs a signed-in caller.
  case signInRequired
  /// Not there, or not the caller's to see: the same answer. `what` names what was asked for
  /// ("listing <id>"), in the caller's own terms.
  case notFound(what: String)
  /// Visible, but not the caller's to do; the reason is safe to show.
  case forbidden(String)
}

extension AccessPolicy {
  /// What is done to a booking (or its payment).
  public enum BookingAct: Hashable, Sendable, CaseIterable {
    /// See it, its payments, or watch it.
    case read
    /// Pay for it: its guest only.
    case pay
    /// Cancel it: its guest or the listing's host.
    case cancel
    /// Accept or decline a request: the listing's host.
    case answer
    /// Review the stay: its guest only.
    case review
  }

  /// Throws unless `caller` may do `act` to `booking` (nil: there is none), a booking of a
  /// listing hosted by `hostID`. Returns whose side the caller acts on: `.guest` or `.host` (an
  /// administrator acts as the host).
  @discardableResult
  public static func check(
    _ act: BookingAct, by caller: Caller, onBooking booking: Booking?, hostID: UserID?, id: BookingID
  ) throws(AccessError) -> CancellationRefund.Party {
    guard case .user(let principal) = caller else { throw .signInRequired }
    let isGuest = booking?.guestID == principal.userID
    let isHost = hostID == principal.userID || principal.role == .admin
    guard booking != nil, isGuest || isHost else { throw .notFound(what: "booking \(id)") }
    switch act {
    case .read, .cancel: return isGuest ? .guest : .host
    case .pay, .review:
      guard isGuest else { throw .forbidden("only the booking's guest does this") }
      return .guest
    case .answer:
      guard isHost else { throw .forbidden("only the listing's host answers a booking request") }
      return .host
    }
  }
}
