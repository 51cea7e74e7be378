import MarketplaceCore
import MarketplaceStorage
import Postgres
import Testing

/// The repositories against the real schema: what each statement returns, and the rules the
/// database enforces for them (SQLSTATE and constraint names callers map to domain errors).
@Suite("repositories", .enabled(if: TestDatabase.shouldRun, TestDatabase.disabledReason))
struct RepositoryTests {
  static let hash = "$argon2id$v=19$m=65536,t=2,p=1$c2FsdA$aGFzaA"
  static let eur = CurrencyCode("EUR")!
  static func day(_ day: Int, month: Int = 7) -> LocalDate { LocalDate(year: 2031, month: month, day: day)! }
  static func stay(_ from: Int, _ to: Int) -> DateRange { DateRange(checkIn: day(from), checkOut: day(to))! }
  static let later = Timestamp(microsecondsSinceEpoch: 4_102_444_800_000_000)  // 2100-01-01
  /// Noon (UTC) of `date`: the same calendar day in every European time zone.
  static func noon(_ date: LocalDate) -> Timestamp {
    Timestamp(microsecondsSinceEpoch: (Int64(date.daysSinceEpoch) * 86_400 + 43_200) * 1_000_000)
  }

  static func user(_ session: PGSession, _ email: String, role: User.Role = .guest) throws -> User {
    try session.run(
      UserRepository.insert(
        id: .random(), email: email, passwordHash: hash, displayName: "Ann Lee", phone: nil,
        role: role))
  }

  static func listing(
    city: String = "Paris", country: String = "FR", price: Int64 = 10_000, guests: Int = 2
  ) -> Listing {
    Listing(
      name: "Flat in \(city)", description: "Bright",
      location: .init(
        address: "1 Main St", city: city, country: country, coordinates: .init(latitude: 48.85, longitude: 2.35)),
      pricePerNight: Money(amountMinor: price, currency: eur), maxGuests: guests)
  }

  static func expectConstraint(
    _ sqlState: SQLState, _ constraint: String, _ body: () throws -> Void,
    sourceLocation: SourceLocation = #_sourceLocation
  ) {
    let error = #expect(throws: PGError.self, sourceLocation: sourceLocation) { try body() }
    #expect(error?.sqlState == sqlState, sourceLocation: sourceLocation)
    #expect(error?.constraint == constraint, sourceLocation: sourceLocation)
  }

  @Test(
    "users: found by id and by email in any case; one account per email, case-insensitively; profile and role updates")
  func users() async throws {
    try await TestDatabase.withPool(migrated: true) { pool, _ in
      try await pool.withConnection { session in
        let ann = try Self.user(session, "Ann.Lee@Example.com")
        #expect(ann.email == "Ann.Lee@Example.com" && ann.role == .guest && ann.phone == nil)
        #expect(ann.createdAt == ann.updatedAt)
        #expect(try session.run(UserRepository.find(id: ann.id)) == ann)
        #expect(try session.run(UserRepository.find(email: "ann.lee@EXAMPLE.com")) == ann)
        #expect(try session.run(UserRepository.find(email: "nobody@example.com")) == nil)
        Self.expectConstraint(.uniqueViolation, "users_email_key") {
          _ = try Self.user(session, "ANN.LEE@example.com")
        }
        let updated = try #require(
          try session.run(
            UserRepository.updateProfile(
              id: ann.id, displayName: "Anne O'Lee; DROP TABLE users", phone: "+33 1")))
        #expect(updated.displayName == "Anne O'Lee; DROP TABLE users" && updated.phone == "+33 1")
        #expect(try session.run(UserRepository.updateRole(id: ann.id, role: .host))?.role == .host)
        #expect(
          try session.run(UserRepository.updateProfile(id: .random(), displayName: "X", phone: nil)) == nil
        )
      }
    }
  }

  @Test("sessions: an active session authenticates with its user; revoked or expired ones do not")
  func sessions() async throws {
    try await TestDatabase.withPool(migrated: true) { pool, _ in
      try await pool.withConnection { session in
        let ann = try Self.user(session, "ann@example.com")
        let tokens = (1...3).map { [UInt8](repeating: $0, count: 32) }
        let sessionIDs = tokens.map { _ in AuthSessionID.random() }
        for (token, id) in zip(tokens, sessionIDs) {
          _ = try session.run(
            UserRepository.insertSession(id: id, userID: ann.id, tokenHash: token, expiresAt: Self.later))
        }
        let (active, user) = try #require(try session.run(UserRepository.activeSession(tokenHash: tokens[0])))
        #expect(active.userID == ann.id && active.tokenHash == tokens[0] && active.expiresAt == Self.later)
        #expect(user == ann)

        #expect(try session.run(UserRepository.revokeSession(id: sessionIDs[0])))
        #expect(try session.run(UserRepository.revokeSession(id: sessionIDs[0])) == false)
        #expect(try session.run(UserRepository.activeSession(tokenHash: tokens[0])) == nil)

        try session.execute(
          "UPDATE sessions SET created_at = now() - interval '2 days', expires_at = now() - interval '1 day' WHERE token_hash = \(tokens[1])"
        )
        #expect(try session.run(UserRepository.activeSession(tokenHash: tokens[1])) == nil)

        #expect(try session.run(UserRepository.revokeSessions(userID: ann.id)) == 2)  // the expired one and the third
        #expect(try session.run(UserRepository.activeSession(tokenHash: tokens[2])) == nil)
        #expect(try session.run(UserRepository.activeSession(tokenHash: [UInt8](repeating: 9, count: 32))) == nil)
      }
    }
  }

  @Test("properties: only their host updates or deletes them; deleted ones disappear from reads")
  func propertiesWrites() async throws {
    try await TestDatabase.withPool(migrated: true) { pool, _ in
      try await pool.withConnection { session in
        let host = try Self.user(session, "host@example.com", role: .host)
        let other = try Self.user(session, "other@example.com", role: .host)
        let flat = try session.run(PropertyRepository.insert(id: .random(), hostID: host.id, listing: Self.listing()))
        #expect(flat.location.coordinates == Property.Coordinates(latitude: 48.85, longitude: 2.35))
        #expect(flat.rating == Property.Rating(sum: 0, count: 0) && flat.deletedAt == nil)
        #expect(try session.run(PropertyRepository.find(id: flat.id)) == flat)

        var terms = Listing.Terms(
          timeZone: "Europe/Paris", minNights: 2, maxNights: 30, cleaningFeeMinor: 2_500, bookingMode: .request,
          cancellationPolicy: .strict)
        var changed = Self.listing(price: 8_000)
        changed.terms = terms
        let cheaper = try #require(try session.run(PropertyRepository.update(id: flat.id, listing: changed)))
        #expect(cheaper.pricePerNight.amountMinor == 8_000 && cheaper.updatedAt >= flat.updatedAt)
        #expect(cheaper.terms == terms && cheaper.listing == changed && cheaper.hostID == host.id)
        terms.cleaningFeeMinor = nil
        changed.terms = terms
        #expect(
          try session.run(PropertyRepository.update(id: flat.id, listing: changed))?.terms.cleaningFeeMinor == nil)
        #expect(try session.run(PropertyRepository.findForUpdate(id: flat.id))?.id == flat.id)
        #expect(try session.run(BookingRepository.countUpcoming(propertyID: flat.id, timeZone: "Europe/Paris")) == 0)

        #expect(try session.run(PropertyRepository.delete(id: flat.id)))
        #expect(try session.run(PropertyRepository.delete(id: flat.id)) == false)
        #expect(try session.run(PropertyRepository.update(id: flat.id, listing: changed)) == nil)
        #expect(try session.run(PropertyRepository.list(hostID: other.id, includingDeleted: true, limit: 10)).isEmpty)
        #expect(try session.run(PropertyRepository.find(id: flat.id)) == nil)
        #expect(try session.run(PropertyRepository.list(hostID: host.id, includingDeleted: false, limit: 10)).isEmpty)
        #expect(
          try session.run(PropertyRepository.list(hostID: host.id, includingDeleted: true, limit: 10)).map(\.id) == [
            flat.id
          ])
        #expect(try session.run(PropertyRepository.search(PropertySearch(city: "Paris"))).isEmpty)
      }
    }
  }

  @Test("search: place (any case), price bounds, party size, free dates, and keyset pages in price order")
  func search() async throws {
    try await TestDatabase.withPool(migrated: true) { pool, _ in
      try await pool.withConnection { session in
        let host = try Self.user(session, "host@example.com", role: .host)
        let guest = try Self.user(session, "guest@example.com")
        var paris: [Property] = []
        for price in [12_000, 9_000, 15_000, 9_000, 30_000] as [Int64] {
          paris.append(
            try session.run(
              PropertyRepository.insert(
                id: .random(), hostID: host.id, listing: Self.listing(price: price, guests: price == 15_000 ? 6 : 2))))
        }
        let lyon = try session.run(
          PropertyRepository.insert(
            id: .random(), hostID: host.id, listing: Self.listing(city: "Lyon", price: 7_000)))
        _ = try session.run(
          PropertyRepository.insert(
            id: .random(), hostID: host.id, listing: Self.listing(city: "Paris", country: "US", price: 5_000)))

        func ids(_ search: PropertySearch) throws -> [PropertyID] {
          try session.run(PropertyRepository.search(search)).map(\.id)
        }
        let byPrice = paris.sorted {
          ($0.pricePerNight.amountMinor, $0.id.description) < ($1.pricePerNight.amountMinor, $1.id.description)
        }
        #expect(try ids(PropertySearch(city: "pARIS", country: "FR")) == byPrice.map(\.id))
        #expect(try ids(PropertySearch(city: "paris")).count == 6)  // the US one too
        #expect(try ids(PropertySearch(country: "FR", maxPricePerNightMinor: 7_000)) == [lyon.id])
        #expect(
          try ids(
            PropertySearch(city: "Paris", country: "FR", minPricePerNightMinor: 10_000, maxPricePerNightMinor: 15_000))
            == byPrice.filter { (10_000...15_000).contains($0.pricePerNight.amountMinor) }.map(\.id))
        #expect(try ids(PropertySearch(guests: 5)) == [paris[2].id])
        #expect(try ids(PropertySearch(limit: 2)).count == 2)

        // Free dates: a pending or confirmed stay blocks overlapping searches only.
        let booked = byPrice[0]
        _ = try session.run(
          BookingRepository.insert(
            id: .random(), propertyID: booked.id, guestID: guest.id, stay: Self.stay(10, 14), guests: 2,
            totalPrice: Money(amountMinor: 36_000, currency: Self.eur), expiresAt: Self.later))
        let parisFR = PropertySearch(city: "Paris", country: "FR")
        func freeIn(_ stay: DateRange) throws -> [PropertyID] {
          var search = parisFR
          search.stay = stay
          return try ids(search)
        }
        #expect(try freeIn(Self.stay(12, 16)) == byPrice.dropFirst().map(\.id))
        #expect(try freeIn(Self.stay(14, 16)) == byPrice.map(\.id))  // check-in on its check-out day
        #expect(try freeIn(Self.stay(8, 10)) == byPrice.map(\.id))

        // Pages of 2 cover everything once, in each order.
        func pages(_ order: PropertySearch.Order) throws -> [PropertyID] {
          var pages: [PropertyID] = []
          var search = PropertySearch(city: "Paris", country: "FR", order: order, limit: 2)
          while true {
            let page = try session.run(PropertyRepository.search(search))
            pages += page.map(\.id)
            guard page.count == 2, let last = page.last else { return pages }
            search.after = PropertySearch.Cursor(after: last, in: order)
          }
        }
        #expect(try pages(.price) == byPrice.map(\.id))
        #expect(
          try pages(.newest)
            == byPrice.sorted { ($0.createdAt, $0.id.description) > ($1.createdAt, $1.id.description) }.map(\.id))
        #expect(try Set(pages(.rating)) == Set(byPrice.map(\.id)))
      }
    }
  }

  @Test("bookings: overlaps refused (23P01), calendar and availability, transitions, expiry and completion sweeps")
  func bookings() async throws {
    try await TestDatabase.withPool(migrated: true) { pool, _ in
      try await pool.withConnection { session in
        let host = try Self.user(session, "host@example.com", role: .host)
        let guest = try Self.user(session, "guest@example.com")
        let flat = try session.run(PropertyRepository.insert(id: .random(), hostID: host.id, listing: Self.listing()))
        func book(_ stay: DateRange, expiresAt: Timestamp = Self.later) throws -> Booking {
          try session.run(
            BookingRepository.insert(
              id: .random(), propertyID: flat.id, guestID: guest.id, stay: stay, guests: 2,
              totalPrice: Money(amountMinor: Int64(stay.nights) * 10_000, currency: Self.eur), expiresAt: expiresAt))
        }
        let first = try book(Self.stay(1, 4))
        #expect(first.status == .pending && first.expiresAt == Self.later && first.totalPrice.amountMinor == 30_000)
        #expect(try session.run(BookingRepository.find(id: first.id)) == first)
        Self.expectConstraint(.exclusionViolation, "bookings_no_overlap") { _ = try book(Self.stay(3, 5)) }
        let second = try book(Self.stay(4, 6))

        #expect(
          try session.run(BookingRepository.activeStays(propertyID: flat.id, within: Self.stay(1, 31))) == [
            Self.stay(1, 4), Self.stay(4, 6),
          ])
        #expect(
          try session.run(BookingRepository.activeStays(propertyID: flat.id, within: Self.stay(5, 7))) == [
            Self.stay(4, 6)
          ])
        #expect(try session.run(BookingRepository.activeStays(propertyID: flat.id, within: Self.stay(6, 9))).isEmpty)

        // Confirmed until the stay ends: check-out day's midnight (here, the UTC one).
        let stayEnds = Timestamp(microsecondsSinceEpoch: Int64(Self.day(4).daysSinceEpoch) * 86_400_000_000)
        let confirmed = try #require(
          try session.run(
            BookingRepository.transition(id: first.id, from: .pending, to: .confirmed, deadline: stayEnds)))
        #expect(confirmed.status == .confirmed && confirmed.expiresAt == stayEnds)
        #expect(try session.run(BookingRepository.transition(id: first.id, from: .pending, to: .cancelled)) == nil)
        #expect(try session.run(BookingRepository.find(id: first.id))?.status == .confirmed)

        // A lapse: only a booking still pending whose time ran out; its dates become free.
        let lapse = { (id: BookingID, now: Timestamp) in
          try session.run(BookingRepository.transitionIfDue(id: id, from: .pending, to: .cancelled, now: now))
        }
        #expect(try lapse(second.id, Self.noon(Self.day(1))) == nil)  // not due yet
        #expect(try lapse(first.id, Self.later) == nil)  // confirmed
        #expect(try lapse(second.id, Self.later)?.status == .cancelled)
        #expect(try lapse(second.id, Self.later) == nil)
        #expect(try session.run(BookingRepository.activeStays(propertyID: flat.id, within: Self.stay(4, 6))).isEmpty)

        // Completion: confirmed stays that checked out by `today`.
        #expect(try session.run(BookingRepository.completeEnded(at: Self.noon(Self.day(3)), limit: 10)).isEmpty)
        #expect(
          try session.run(BookingRepository.completeEnded(at: Self.noon(Self.day(4)), limit: 10)).map(\.id) == [
            first.id
          ])

        let third = try book(Self.stay(4, 6))
        // Latest check-in first; the two on the 4th by id, descending.
        let onThe4th = [third.id, second.id].sorted { $0.description > $1.description }
        for owner: BookingRepository.Owner in [.guest(guest.id), .host(host.id), .property(flat.id)] {
          #expect(
            try session.run(BookingRepository.page(of: owner, statuses: [], after: nil, limit: 10)).map(\.id)
              == onThe4th + [first.id])
        }
      }
    }
  }

  @Test("payments: one key per payer, one live payment per booking, transitions record the gateway's reference")
  func payments() async throws {
    try await TestDatabase.withPool(migrated: true) { pool, _ in
      try await pool.withConnection { session in
        let host = try Self.user(session, "host@example.com", role: .host)
        let guest = try Self.user(session, "guest@example.com")
        let flat = try session.run(PropertyRepository.insert(id: .random(), hostID: host.id, listing: Self.listing()))
        let booking = try session.run(
          BookingRepository.insert(
            id: .random(), propertyID: flat.id, guestID: guest.id, stay: Self.stay(1, 3), guests: 1,
            totalPrice: Money(amountMinor: 20_000, currency: Self.eur), expiresAt: Self.later))
        let fingerprint = [UInt8](repeating: 3, count: 32)
        func pay(key: String, payer: UserID = guest.id) throws -> Payment {
          try session.run(
            PaymentRepository.insert(
              id: .random(), bookingID: booking.id, payerID: payer, propertyID: flat.id, amount: booking.totalPrice,
              method: .bankTransfer, idempotencyKey: key, requestFingerprint: fingerprint))
        }
        // Foreign keys are checked after the unique indexes: so first, with no other payment.
        Self.expectConstraint(.foreignKeyViolation, "payments_booking_fkey") {
          _ = try pay(key: "key-3", payer: host.id)
        }
        let payment = try pay(key: "key-1")
        #expect(payment.status == .pending && payment.method == .bankTransfer && payment.gatewayReference == nil)
        #expect(try session.run(PaymentRepository.find(id: payment.id)) == payment)
        #expect(try session.run(PaymentRepository.find(payerID: guest.id, idempotencyKey: "key-1")) == payment)
        Self.expectConstraint(.uniqueViolation, "payments_payer_idempotency_key") { _ = try pay(key: "key-1") }
        Self.expectConstraint(.uniqueViolation, "payments_booking_live_key") { _ = try pay(key: "key-2") }
        #expect(try session.run(PaymentRepository.livePayment(bookingID: booking.id)) == payment)

        let failed = try #require(
          try session.run(
            PaymentRepository.transition(id: payment.id, from: .pending, to: .failed, gatewayReference: nil)))
        #expect(failed.status == .failed && failed.gatewayReference == nil)
        #expect(try session.run(PaymentRepository.livePayment(bookingID: booking.id)) == nil)
        let retry = try pay(key: "key-2")  // after a failure, a new payment may be made
        let paid = try #require(
          try session.run(
            PaymentRepository.transition(id: retry.id, from: .pending, to: .succeeded, gatewayReference: "gw_42")))
        #expect(paid.gatewayReference == "gw_42")
        #expect(
          try session.run(
            PaymentRepository.transition(id: retry.id, from: .pending, to: .failed, gatewayReference: nil)) == nil)
        for owner: PaymentRepository.Owner in [.booking(booking.id), .payer(guest.id)] {
          #expect(
            Set(try session.run(PaymentRepository.page(of: owner, after: nil, limit: 10)).map(\.id)) == [
              payment.id, retry.id,
            ])
        }
      }
    }
  }

  @Test("reviews: one per booking, by its guest; the property's rating follows; pages newest first")
  func reviews() async throws {
    try await TestDatabase.withPool(migrated: true) { pool, _ in
      try await pool.withConnection { session in
        let host = try Self.user(session, "host@example.com", role: .host)
        let guest = try Self.user(session, "guest@example.com")
        let flat = try session.run(PropertyRepository.insert(id: .random(), hostID: host.id, listing: Self.listing()))
        var written: [Review] = []
        for (index, rating) in [5, 4, 2].enumerated() {
          let booking = try session.run(
            BookingRepository.insert(
              id: .random(), propertyID: flat.id, guestID: guest.id, stay: Self.stay(1 + 3 * index, 3 + 3 * index),
              guests: 1, totalPrice: Money(amountMinor: 20_000, currency: Self.eur), expiresAt: Self.later))
          if index == 0 {  // before the review exists (foreign keys are checked after unique indexes)
            Self.expectConstraint(.foreignKeyViolation, "reviews_booking_fkey") {
              _ = try session.run(
                ReviewRepository.insert(
                  id: .random(), bookingID: booking.id, propertyID: flat.id, authorID: host.id, rating: 1, comment: ""))
            }
          }
          written.append(
            try session.run(
              ReviewRepository.insert(
                id: .random(), bookingID: booking.id, propertyID: flat.id, authorID: guest.id, rating: rating,
                comment: "Stay \(index) — «très bien»")))
          if index == 0 {
            Self.expectConstraint(.uniqueViolation, "reviews_booking_id_key") {
              _ = try session.run(
                ReviewRepository.insert(
                  id: .random(), bookingID: booking.id, propertyID: flat.id, authorID: guest.id, rating: 1, comment: "")
              )
            }
            Self.expectConstraint(.checkViolation, "reviews_rating_check") {
              _ = try session.run(
                ReviewRepository.insert(
                  id: .random(), bookingID: booking.id, propertyID: flat.id, authorID: guest.id, rating: 6, comment: "")
              )
            }
          }
        }
        #expect(try session.run(PropertyRepository.find(id: flat.id))?.rating == Property.Rating(sum: 11, count: 3))

        let newestFirst = written.sorted { ($0.createdAt, $0.id.description) > ($1.createdAt, $1.id.description) }
        let firstPage = try session.run(ReviewRepository.list(propertyID: flat.id, after: nil, limit: 2))
        #expect(firstPage == Array(newestFirst.prefix(2)))
        let last = try #require(firstPage.last)
        #expect(
          try session.run(
            ReviewRepository.list(propertyID: flat.id, after: .init(createdAt: last.createdAt, id: last.id), limit: 2))
            == [
              newestFirst[2]
            ])
      }
    }
  }

  @Test("outbox: a message is queued once per recipient, kind and payload")
  func outboxOnce() async throws {
    try await TestDatabase.withPool(migrated: true) { pool, _ in
      try await pool.withConnection { session in
        let ann = try Self.user(session, "outbox-ann@example.com")
        let bob = try Self.user(session, "outbox-bob@example.com")
        func queue(_ recipient: User, _ kind: String, _ payload: String) throws -> Bool {
          try session.run(OutboxRepository.insertOnce(recipientID: recipient.id, kind: kind, payload: payload))
        }
        #expect(try queue(ann, "booking.confirmed", #"{"booking_id": "1"}"#))
        #expect(try !queue(ann, "booking.confirmed", #"{"booking_id":"1"}"#), "the same JSON, spaced otherwise")
        #expect(try queue(ann, "booking.confirmed", #"{"booking_id": "2"}"#))
        #expect(try queue(ann, "booking.cancelled", #"{"booking_id": "1"}"#))
        #expect(try queue(bob, "booking.confirmed", #"{"booking_id": "1"}"#))
        // Larger than a btree entry may be (2,704 bytes): the key holds a digest of the payload.
        // Pseudo-random text, so that PostgreSQL cannot compress it below that either.
        var seed: UInt64 = 11
        let text = (0..<6_000).map { _ in
          seed = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
          return String(seed >> 59, radix: 32)
        }.joined()
        let large = #"{"note": ""# + text + #""}"#
        #expect(try queue(bob, "booking.confirmed", large))
        #expect(try !queue(bob, "booking.confirmed", large))
        let count = try session.query("SELECT count(*) FROM outbox WHERE recipient_id IN (\(ann.id), \(bob.id))")
        #expect(try count.first?.int(0) == 5)
      }
    }
  }

  @Test("timestamps read back equal in any session time zone, including half-hour offsets")
  func timeZones() async throws {
    try await TestDatabase.withPool(maximumConnections: 1, migrated: true) { pool, _ in
      try await pool.withConnection { session in
        let stored = Timestamp(microsecondsSinceEpoch: 1_748_779_200_123_456)
        for zone in ["UTC", "Asia/Kolkata", "America/St_Johns", "Pacific/Chatham", "America/Los_Angeles"] {
          try session.execute("SELECT set_config('TimeZone', \(zone), false)")
          let read = try session.query("SELECT \(stored)::timestamptz").first!.decode(0, as: Timestamp.self)
          #expect(read == stored, "\(zone)")
        }
        try session.execute("RESET TimeZone")
      }
    }
  }

  @Test("timestamp text: every offset form PostgreSQL prints is read, anything else refused")
  func timestampText() throws {
    func read(_ text: String) -> Int64? {
      Array(text.utf8).withUnsafeBytes { try? Timestamp(pgText: $0, type: .unspecified).microsecondsSinceEpoch }
    }
    let noon: Int64 = 1_748_779_200_000_000  // 2025-06-01 12:00:00 UTC
    #expect(read("2025-06-01 12:00:00+00") == noon)
    #expect(read("2025-06-01 12:00:00.5+00") == noon + 500_000)
    #expect(read("2025-06-01 12:00:00.123456+00") == noon + 123_456)
    #expect(read("2025-06-01 17:30:00+05:30") == noon)
    #expect(read("2025-06-01 06:59:45-05:00:15") == noon)
    #expect(read("2025-06-02 00:45:00+12:45") == noon)
    for bad in [
      "2025-06-01 12:00:00", "2025-06-01T12:00:00+00", "2025-06-01 12:00:0x+00", "2025-06-01 12-00:00+00",
      "2025-06-31 12:00:00+00", "2025-06-01 12:00:00+0", "2025-06-01 12:00:00+00:", "2025-06-01 12:00:00.+00x",
      "2025-06-01 12:00:00 +00", "",
    ] {
      #expect(read(bad) == nil, "\(bad)")
    }
  }
}
