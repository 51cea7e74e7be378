public import Credentials
public import MarketplaceCore
public import MarketplaceProtos
import MarketplaceStorage
public import RPCCore

/// `marketplace.v1.BookingService`: guests book stays, hosts answer requests and close dates.
///
/// Double bookings are the database's to refuse (the `bookings_no_overlap` exclusion constraint,
/// over bookings and blocks alike); every other rule is `MarketplaceCore`'s. A change of a
/// booking enqueues its consequences (a lapse, a refund, notifications) in the same transaction,
/// and announces itself to watchers when it commits.
public struct BookingService: Marketplace_V1_BookingService.ServiceProtocol {
  /// How long a booking waits for its payment and a paid request for its host.
  public struct Settings: Sendable {
    public var paymentWindow: Duration
    public var hostAnswerWindow: Duration

    public init(paymentWindow: Duration = .seconds(15 * 60), hostAnswerWindow: Duration = .seconds(24 * 3600)) {
      self.paymentWindow = paymentWindow
      self.hostAnswerWindow = hostAnswerWindow
    }
  }

  let database: DatabaseAccess
  let clock: any WallClock
  let timeZones: any TimeZoneDirectory
  let pageTokens: PageTokens
  let watchers: BookingWatchers
  let settings: Settings

  public init(
    database: DatabaseAccess, clock: any WallClock, timeZones: any TimeZoneDirectory, pageTokens: PageTokens,
    watchers: BookingWatchers, settings: Settings
  ) {
    self.database = database
    self.clock = clock
    self.timeZones = timeZones
    self.pageTokens = pageTokens
    self.watchers = watchers
    self.settings = settings
  }

  public func createBooking(
    _ request: Marketplace_V1_CreateBookingRequest.View, context: ServerContext,
    response: Marketplace_V1_CreateBookingResponse.Builder
  ) async throws {
    let guest = try context.caller.signedIn()
    let valid = try BookStay.validate(request.domainRequest)
    let now = clock.now
    let booking = try await database.withTransaction(context) { tx in
      // Locked to share: a deletion of the listing waits for this booking, or this for it.
      let listing = try await tx.run(PropertyRepository.findForShare(id: valid.propertyID))
      try AccessPolicy.check(.read, by: context.caller, on: listing, id: valid.propertyID)
      let decision = try BookStay.decide(
        valid, at: listing!, guestID: guest.userID, now: now, timeZones: timeZones,
        paymentWindow: settings.paymentWindow)
      let id = BookingID.random()
      let (booking, _) = try await tx.run(
        BookingRepository.insert(
          id: id, propertyID: valid.propertyID, guestID: guest.userID, stay: valid.stay, guests: valid.guests,
          totalPrice: decision.price.total, cleaningFee: decision.price.cleaningFee,
          expiresAt: decision.paymentDeadline),
        MarketplaceJobs.lapse(of: id, at: decision.paymentDeadline))
      return booking
    }
    response.booking.fill(from: booking)
  }

  public func getBooking(
    _ request: Marketplace_V1_GetBookingRequest.View, context: ServerContext,
    response: Marketplace_V1_GetBookingResponse.Builder
  ) async throws {
    let id = try BookingID(request.bookingId, field: "booking_id")
    response.booking.fill(from: try await visibleBooking(id, context: context))
  }

  /// The booking `id` if the caller may see it, else NOT_FOUND.
  func visibleBooking(_ id: BookingID, context: ServerContext) async throws -> Booking {
    _ = try context.caller.signedIn()
    let found = try await database.run(context, BookingRepository.findWithListing(id: id))
    try AccessPolicy.check(.read, by: context.caller, onBooking: found?.booking, hostID: found?.listing.hostID, id: id)
    return found!.booking
  }

  public func listBookings(
    _ request: Marketplace_V1_ListBookingsRequest.View, context: ServerContext,
    response: Marketplace_V1_ListBookingsResponse.Builder
  ) async throws {
    let caller = try context.caller.signedIn()
    let pageSize = try PageSize.validate(request.pageSize)
    let statuses = try request.statuses.map { try Booking.Status(requested: $0, field: "statuses") }
    let owner: BookingRepository.Owner
    switch request.role {
    case .unspecified, .guest:
      guard request.propertyId.isEmpty else {
        throw ValidationError(field: "property_id", rule: "is only for role BOOKING_ROLE_HOST")
      }
      owner = .guest(caller.userID)
    case .host where request.propertyId.isEmpty:
      owner = .host(caller.userID)
    case .host:
      let id = try PropertyID(request.propertyId, field: "property_id")
      let listing = try await database.run(context, PropertyRepository.find(id: id))
      try AccessPolicy.check(.update, by: context.caller, on: listing, id: id)
      owner = .property(id)
    default:
      throw ValidationError(field: "role", rule: "is not a value this server knows")
    }
    // A token pages only through the query it was issued for.
    let query = "ListBookings:\(caller.userID):\(owner):\(statuses.map(\.rawValue))"
    let after: BookingRepository.Cursor? =
      request.pageToken.isEmpty ? nil : try pageTokens.cursor(request.pageToken, query: query)
    let found = try await database.run(
      context, BookingRepository.page(of: owner, statuses: statuses, after: after, limit: pageSize + 1))
    let page = found.prefix(pageSize)
    for booking in page { response.addBookings().fill(from: booking) }
    if found.count > pageSize, let last = page.last {
      response.nextPageToken = pageTokens.token(
        for: BookingRepository.Cursor(checkIn: last.stay.checkIn, id: last.id), query: query)
    }
  }

  public func cancelBooking(
    _ request: Marketplace_V1_CancelBookingRequest.View, context: ServerContext,
    response: Marketplace_V1_CancelBookingResponse.Builder
  ) async throws {
    let id = try BookingID(request.bookingId, field: "booking_id")
    _ = try context.caller.signedIn()
    let now = clock.now
    let (booking, refund) = try await database.withTransaction(context) { tx in
      let found = try await tx.run(BookingRepository.findWithListing(id: id, locked: true))
      let party = try AccessPolicy.check(
        .cancel, by: context.caller, onBooking: found?.booking, hostID: found?.listing.hostID, id: id)
      let (current, listing) = found!
      let payment = try await tx.run(PaymentRepository.livePayment(bookingID: id))
      let paid = payment.flatMap { $0.status == .succeeded ? $0.amount : nil }
      let outcome = try ChangeBooking.cancel(
        current, by: party, policy: listing.terms.cancellationPolicy,
        today: timeZones.localDate(at: now, in: listing.terms.timeZone), paid: paid)
      let booking = try await moveBooking(
        current, to: outcome.status, deadline: nil, in: tx, now: now, event: .cancelled)
      if outcome.refund.amountMinor > 0, let payment {
        _ = try await tx.run(MarketplaceJobs.refund(outcome.refund, of: payment.id, now: now))
      }
      return (booking, outcome.refund)
    }
    response.booking.fill(from: booking)
    response.refund.fill(from: refund)
  }

  public func acceptBooking(
    _ request: Marketplace_V1_AcceptBookingRequest.View, context: ServerContext,
    response: Marketplace_V1_AcceptBookingResponse.Builder
  ) async throws {
    response.booking.fill(from: try await answer(request.bookingId, accept: true, context: context))
  }

  public func declineBooking(
    _ request: Marketplace_V1_DeclineBookingRequest.View, context: ServerContext,
    response: Marketplace_V1_DeclineBookingResponse.Builder
  ) async throws {
    response.booking.fill(from: try await answer(request.bookingId, accept: false, context: context))
  }

  /// The host accepts or declines a paid request; a declined one is refunded in full.
  func answer(_ bookingID: String, accept: Bool, context: ServerContext) async throws -> Booking {
    let id = try BookingID(bookingID, field: "booking_id")
    _ = try context.caller.signedIn()
    let now = clock.now
    return try await database.withTransaction(context) { tx in
      let found = try await tx.run(BookingRepository.findWithListing(id: id, locked: true))
      try AccessPolicy.check(
        .answer, by: context.caller, onBooking: found?.booking, hostID: found?.listing.hostID, id: id)
      let (current, listing) = found!
      let payment = try await tx.run(PaymentRepository.livePayment(bookingID: id))
      let outcome = try ChangeBooking.answer(
        current, accept: accept, paid: payment.flatMap { $0.status == .succeeded ? $0.amount : nil })
      // Confirmed until the stay ends: check-out day's midnight at the listing.
      let stayEnds = timeZones.startOfDay(current.stay.checkOut, in: listing.terms.timeZone)
      let booking = try await moveBooking(
        current, to: outcome.status, deadline: accept ? stayEnds : nil, in: tx, now: now,
        event: accept ? .confirmed : .declined)
      if outcome.refund.amountMinor > 0, let payment {
        _ = try await tx.run(MarketplaceJobs.refund(outcome.refund, of: payment.id, now: now))
      }
      return booking
    }
  }

  /// Moves `booking` (locked) from its status to `status` (whose deadline is `deadline`), tells
  /// its guest and host of `event` and its watchers of the change, all when the transaction
  /// commits.
  func moveBooking(
    _ booking: Booking, to status: Booking.Status, deadline: Timestamp?, in tx: DatabaseTransaction, now: Timestamp,
    event: MarketplaceJobs.Event
  ) async throws -> Booking {
    let (moved, _, _) = try await tx.run(
      BookingRepository.transition(id: booking.id, from: booking.status, to: status, deadline: deadline),
      MarketplaceJobs.notify(event, of: booking.id, now: now), BookingRepository.announceChange(of: booking.id))
    // Locked since it was read, so it is still in the status read.
    guard let moved else { throw RPCError(code: .aborted, message: "the booking changed meanwhile; retry") }
    return moved
  }

  public func blockDates(
    _ request: Marketplace_V1_BlockDatesRequest.View, context: ServerContext,
    response: Marketplace_V1_BlockDatesResponse.Builder
  ) async throws {
    _ = try context.caller.signedIn()
    let propertyID = try PropertyID(request.propertyId, field: "property_id")
    let dates = try BlockDates.validate(
      start: request.dates?.start?.dateInput, end: request.dates?.end?.dateInput, field: "dates")
    let listing = try await database.run(context, PropertyRepository.find(id: propertyID))
    try AccessPolicy.check(.update, by: context.caller, on: listing, id: propertyID)
    try BlockDates.check(dates, today: timeZones.localDate(at: clock.now, in: listing!.terms.timeZone))
    let block = try await database.run(
      context,
      BookingRepository.insertBlock(
        id: .random(), propertyID: propertyID, hostID: listing!.hostID, dates: dates,
        currency: listing!.pricePerNight.currency))
    response.block.fill(from: block)
  }

  public func unblockDates(
    _ request: Marketplace_V1_UnblockDatesRequest.View, context: ServerContext,
    response: Marketplace_V1_UnblockDatesResponse.Builder
  ) async throws {
    _ = try context.caller.signedIn()
    let id = try BookingID(request.blockId, field: "block_id")
    let notFound = AccessError.notFound(what: "block \(id)")
    guard let block = try await database.run(context, BookingRepository.findBlock(id: id)) else { throw notFound }
    let listing = try await database.run(context, PropertyRepository.find(id: block.propertyID))
    do {
      try AccessPolicy.check(.update, by: context.caller, on: listing, id: block.propertyID)
    } catch .notFound {
      throw notFound
    }
    guard try await database.run(context, BookingRepository.deleteBlock(id: id)) else { throw notFound }
  }

  public func getAvailability(
    _ request: Marketplace_V1_GetAvailabilityRequest.View, context: ServerContext,
    response: Marketplace_V1_GetAvailabilityResponse.Builder
  ) async throws {
    let propertyID = try PropertyID(request.propertyId, field: "property_id")
    let window = try BlockDates.validate(
      start: request.window?.start?.dateInput, end: request.window?.end?.dateInput, field: "window")
    let (listing, booked, blocks) = try await database.run(
      context, PropertyRepository.find(id: propertyID),
      BookingRepository.activeStays(propertyID: propertyID, within: window),
      BookingRepository.blocks(propertyID: propertyID, within: window))
    try AccessPolicy.check(.read, by: context.caller, on: listing, id: propertyID)
    for stay in booked { response.addBooked().fill(from: stay) }
    for block in blocks { response.addBlocked().fill(from: block) }
  }

  public func watchBooking(
    _ request: Marketplace_V1_WatchBookingRequest.View, context: ServerContext,
    responses: ResponseMessages<Marketplace_V1_WatchBookingResponse>
  ) async throws {
    let id = try BookingID(request.bookingId, field: "booking_id")
    // Subscribed before the first read, so no change between the read and the subscription is lost.
    let changes = watchers.subscribe(to: id)
    var booking = try await visibleBooking(id, context: context)
    try await responses.send { $0.booking.fill(from: booking) }
    while !booking.status.isFinal {
      guard let next = await changes.next(after: booking) else { return }  // the client left
      booking = next
      try await responses.send { $0.booking.fill(from: booking) }
    }
  }
}
