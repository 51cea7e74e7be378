public import Logging
public import MarketplaceCore
public import Postgres

/// Loads a realistic, deterministic marketplace data set with COPY: users (hosts, guests, one
/// admin), properties over a few hundred cities, bookings that never overlap per property (the
/// cancelled ones may), reviews of completed stays by their guests, and payments of the paid
/// bookings. The same `Config` (sizes and seed) always yields the same rows, ids included.
///
/// Every row satisfies the schema's constraints by construction (the COPY would fail otherwise):
/// Argon2id-shaped password hashes, pending bookings with an expiry, gateway references on money
/// that moved, property rating sums and counts equal to their reviews'.
public enum Seeder {
  public struct Config: Sendable {
    public var users = 10_000
    public var properties = 50_000
    public var bookings = 500_000
    /// Reviews wanted; capped at the number of completed bookings.
    public var reviews = 200_000
    public var seed: UInt64 = 1
    /// "Now" of the data set: stays that ended before its day are completed (or cancelled),
    /// later ones confirmed, some pending (unpaid, created in the last minutes before it, so
    /// still holding their dates for a few more minutes); nothing is created after it. Fixed by
    /// default (2025-06-01 12:00 UTC), so the data are deterministic.
    public var now = Timestamp(microsecondsSinceEpoch: 1_748_779_200_000_000)
    /// Empty the marketplace's tables first (in the same transaction), instead of refusing a
    /// database that has data.
    public var replaceExisting = false

    /// The UTC day of `now`.
    public var today: LocalDate { now.utcDate }

    public init() {}

    public static var defaults: Config { Config() }
  }

  public struct TableReport: Sendable, CustomStringConvertible {
    public var table: String
    public var rows: Int
    public var seconds: Double
    public var rowsPerSecond: Double { seconds > 0 ? Double(rows) / seconds : 0 }
    public var description: String {
      "\(table): \(rows) rows in \(formatted(seconds)) s (\(Int(rowsPerSecond)) rows/s)"
    }
  }

  public struct Report: Sendable, CustomStringConvertible {
    /// Generating the rows in memory.
    public var generationSeconds: Double
    /// Per table, in COPY order.
    public var tables: [TableReport]
    /// COPY of every table, then ANALYZE, and COMMIT.
    public var loadSeconds: Double
    public var totalRows: Int { tables.reduce(0) { $0 + $1.rows } }
    public var rowsPerSecond: Double { loadSeconds > 0 ? Double(totalRows) / loadSeconds : 0 }
    public func rows(_ table: String) -> Int { tables.first { $0.table == table }?.rows ?? 0 }
    public var description: String {
      (tables.map(\.description) + [
        "generated in \(formatted(generationSeconds)) s; loaded \(totalRows) rows in \(formatted(loadSeconds)) s (\(Int(rowsPerSecond)) rows/s, commit and ANALYZE included)"
      ]).joined(separator: "\n")
    }
  }

  public struct SeedError: Error, CustomStringConvertible {
    public var description: String
  }

  /// Generates the data set and loads it in one transaction (all or nothing). The schema must be
  /// migrated and the tables empty.
  public static func seed(_ pool: PGPool, config: Config, logger: Logger) async throws -> Report {
    if config.users < 0 || config.properties < 0 || config.bookings < 0 || config.reviews < 0 {
      throw SeedError(description: "sizes must not be negative")
    }
    if config.properties > 0 && config.users < 2 {
      throw SeedError(description: "properties need at least 2 users (a host and a guest)")
    }
    if config.bookings > 0 && config.properties == 0 {
      throw SeedError(description: "bookings need at least 1 property")
    }
    let clock = ContinuousClock()
    let generationStart = clock.now
    let data = DataSet(config)
    let generation = seconds(clock.now - generationStart)
    logger.info(
      "seed data generated",
      metadata: [
        "seed.users": "\(data.users.count)", "seed.properties": "\(data.properties.count)",
        "seed.bookings": "\(data.bookings.count)", "seed.reviews": "\(data.reviews.count)",
        "seed.payments": "\(data.payments.count)", "seed.seconds": "\(formatted(generation))",
      ])

    let loadStart = clock.now
    let tables = try await pool.withTransaction { session in
      if config.replaceExisting {
        try session.execute("TRUNCATE users, sessions, properties, bookings, payments, reviews, jobs, outbox")
      } else if try session.query("SELECT EXISTS (SELECT 1 FROM users)").first!.bool(0) ?? false {
        throw SeedError(description: "the database already has users: seed an empty one, or replace its data")
      }
      _ = try session.execute("SET LOCAL synchronous_commit = off")
      var reports: [TableReport] = []
      func copy(_ table: String, _ sql: SQL, _ body: (inout PGCopyWriter) -> Void) throws {
        let start = clock.now
        let rows = try session.copyIn(sql) { writer in body(&writer) }
        reports.append(TableReport(table: table, rows: rows, seconds: seconds(clock.now - start)))
      }
      try copy(
        "users",
        "COPY users (id, email, password_hash, display_name, phone, role, created_at, updated_at) FROM STDIN",
        data.writeUsers)
      try copy(
        "properties",
        """
        COPY properties (id, host_id, name, description, address, city, country, latitude, longitude,
          price_per_night_minor, currency, max_guests, rating_sum, rating_count, created_at, updated_at) FROM STDIN
        """, data.writeProperties)
      try copy(
        "bookings",
        """
        COPY bookings (id, property_id, host_id, guest_id, check_in, check_out, guests, total_price_minor,
          currency, status, expires_at, created_at, updated_at) FROM STDIN
        """, data.writeBookings)
      try copy(
        "reviews",
        "COPY reviews (id, booking_id, property_id, author_id, rating, comment, created_at, updated_at) FROM STDIN",
        data.writeReviews)
      try copy(
        "payments",
        """
        COPY payments (id, booking_id, payer_id, property_id, amount_minor, currency, method, status,
          gateway_reference, idempotency_key, request_fingerprint, created_at, updated_at) FROM STDIN
        """, data.writePayments)
      let start = clock.now
      try session.executeScript("ANALYZE users, properties, bookings, reviews, payments")
      reports.append(TableReport(table: "analyze", rows: 0, seconds: seconds(clock.now - start)))
      return reports
    }
    let report = Report(
      generationSeconds: generation, tables: tables, loadSeconds: seconds(clock.now - loadStart))
    logger.info(
      "seed data loaded",
      metadata: [
        "seed.rows": "\(report.totalRows)", "seed.seconds": "\(formatted(report.loadSeconds))",
        "seed.rows_per_second": "\(Int(report.rowsPerSecond))",
      ])
    return report
  }

  /// `seconds` since the epoch as COPY text.
  static func timestampText(_ seconds: Int) -> String {
    Timestamp(microsecondsSinceEpoch: Int64(seconds) * 1_000_000).description
  }

  /// `days` since the epoch as COPY text.
  static func dateText(_ days: Int) -> String { LocalDate(daysSinceEpoch: days).description }

  static func seconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
  }

  static func formatted(_ seconds: Double) -> String {
    let hundredths = Int((seconds * 100).rounded())
    return "\(hundredths / 100).\(hundredths % 100 < 10 ? "0" : "")\(hundredths % 100)"
  }
}

/// SplitMix64: small, fast, and the same sequence on every platform for a seed.
struct SplitMix64: RandomNumberGenerator {
  private var state: UInt64
  init(seed: UInt64) { state = seed }
  mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }
  /// Uniform in `0..<bound` (bound > 0); Lemire's multiply-shift, deterministic and unbiased
  /// enough for seed data.
  mutating func below(_ bound: Int) -> Int {
    Int((UInt128(next()) * UInt128(UInt64(bound))) >> 64)
  }
  mutating func within(_ range: ClosedRange<Int>) -> Int {
    range.lowerBound + below(range.upperBound - range.lowerBound + 1)
  }
  /// True with probability `percent` / 100.
  mutating func chance(_ percent: Int) -> Bool { below(100) < percent }
  mutating func pick<T>(_ values: [T]) -> T { values[below(values.count)] }
  /// A version-4 uuid's bits.
  mutating func uuid() -> SeedUUID {
    SeedUUID(
      high: (next() & ~0xF000) | 0x4000,
      low: (next() & 0x3FFF_FFFF_FFFF_FFFF) | 0x8000_0000_0000_0000)
  }
}

struct SeedUUID: Sendable {
  var high: UInt64
  var low: UInt64
}

extension PGCopyWriter {
  mutating func append(_ id: SeedUUID) { appendUUID(high: id.high, low: id.low) }
}

/// The whole data set, generated in memory (compact rows) before any COPY.
struct DataSet: Sendable {
  struct User: Sendable {
    var id: SeedUUID
    var first: Int
    var last: Int
    var phone: Int?  // digits
    var role: UInt8  // 0 guest, 1 host, 2 admin
    var created: Int  // seconds since epoch
  }

  struct Property: Sendable {
    var id: SeedUUID
    var host: Int32
    var city: Int32
    var kind: UInt8
    var adjective: UInt8
    var street: UInt16
    var number: UInt16
    var latitude: Double?
    var longitude: Double?
    var price: Int64
    var maxGuests: Int32
    var ratingSum: Int64 = 0
    var ratingCount: Int64 = 0
    var created: Int
  }

  struct Booking: Sendable {
    var id: SeedUUID
    var property: Int32
    var guest: Int32
    var checkIn: Int32  // days
    var nights: Int32
    var guests: Int32
    var status: UInt8  // 0 pending, 1 confirmed, 2 cancelled, 3 completed
    var created: Int
  }

  struct Review: Sendable {
    var id: SeedUUID
    var booking: Int32
    var rating: UInt8
    var comment: UInt8
    var created: Int
  }

  struct Payment: Sendable {
    var id: SeedUUID
    var booking: Int32
    var method: UInt8
    var status: UInt8  // 0 succeeded, 1 refunded
    var reference: UInt64
    var fingerprint: (UInt64, UInt64, UInt64, UInt64)
  }

  let config: Seeder.Config
  var users: [User] = []
  var properties: [Property] = []
  var bookings: [Booking] = []
  var reviews: [Review] = []
  var payments: [Payment] = []
  let cities: [SeedCity]

  static let statuses = ["pending", "confirmed", "cancelled", "completed"]
  static let roles = ["guest", "host", "admin"]
  static let methods = ["card", "wallet", "bank_transfer"]
  /// The shape libsodium's crypto_pwhash_str produces (Argon2id, PHC string); no password
  /// verifies against it, which is what seed accounts want.
  static let passwordHash =
    "$argon2id$v=19$m=65536,t=2,p=1$c2VlZGVkc2VlZGVkc2VlZA$0d3nZp4bZ1kUu0mHhZKQ3lC1pQbXy9m0mV1mFh0m6kI"

  init(_ config: Seeder.Config) {
    self.config = config
    var rng = SplitMix64(seed: config.seed)
    cities = SeedCity.all(count: 300, rng: &rng)
    let today = config.today.daysSinceEpoch
    let now = Int(config.now.microsecondsSinceEpoch / 1_000_000)
    let epochStart = (today - 3 * 365) * 86_400

    // Users: user 0 is an admin, then a fifth are hosts, the rest guests.
    let hostCount = config.users < 2 ? 0 : max(1, config.users / 5)
    users.reserveCapacity(config.users)
    for index in 0..<config.users {
      users.append(
        User(
          id: rng.uuid(), first: rng.below(SeedNames.first.count), last: rng.below(SeedNames.last.count),
          phone: rng.chance(70) ? rng.within(100_000_000...999_999_999) : nil,
          role: index == 0 ? 2 : index <= hostCount ? 1 : 0,
          created: epochStart + rng.below(365 * 86_400)))
    }
    let guestRange = hostCount + 1 < config.users ? (hostCount + 1)..<config.users : 0..<config.users

    // Properties, each hosted by a host; cities skewed towards the first (big) ones.
    properties.reserveCapacity(config.properties)
    for _ in 0..<config.properties {
      let cityIndex = min(rng.below(cities.count), rng.below(cities.count), rng.below(cities.count))
      let city = cities[cityIndex]
      let located = rng.chance(90)
      let host = 1 + rng.below(max(hostCount, 1))
      properties.append(
        Property(
          id: rng.uuid(), host: Int32(min(host, config.users - 1)), city: Int32(cityIndex),
          kind: UInt8(rng.below(SeedNames.kinds.count)),
          adjective: UInt8(rng.below(SeedNames.adjectives.count)),
          street: UInt16(rng.below(SeedNames.streets.count)), number: UInt16(rng.within(1...250)),
          latitude: located
            ? Self.round6(min(90, max(-90, city.latitude + Double(rng.within(-50_000...50_000)) / 1e6))) : nil,
          longitude: located
            ? Self.round6(min(180, max(-180, city.longitude + Double(rng.within(-50_000...50_000)) / 1e6))) : nil,
          price: Int64(rng.within(25...400)) * 100 * city.priceFactor,
          maxGuests: Int32(rng.pick([1, 2, 2, 2, 3, 4, 4, 4, 5, 6, 6, 8, 10])),
          created: users[min(host, config.users - 1)].created + rng.below(180 * 86_400)))
    }

    // Bookings: each to a random property; per property a chain of stays that advance a cursor.
    var perProperty = [Int32](repeating: 0, count: config.properties)
    for _ in 0..<config.bookings { perProperty[rng.below(config.properties)] += 1 }
    bookings.reserveCapacity(config.bookings)
    for (propertyIndex, count) in perProperty.enumerated() where count > 0 {
      let property = properties[propertyIndex]
      // Start far enough back that most stays are past, some ongoing or to come.
      var cursor = today - Int(Double(count) * 11 * (0.25 + Double(rng.below(1000)) / 1000))
      for _ in 0..<count {
        let checkIn = cursor + rng.pick([0, 0, 1, 2, 3, 5, 7, 10, 14, 21])
        let nights = rng.pick([1, 2, 2, 3, 3, 4, 5, 6, 7, 7, 10, 14])
        let status: UInt8
        if checkIn + nights <= today {
          status = rng.chance(12) ? 2 : 3
        } else if checkIn <= today {
          status = 1
        } else {
          status = rng.chance(10) ? 2 : rng.chance(8) ? 0 : 1
        }
        // Booked 1 to 90 days ahead, but never after `now`; pending ones in its last 10 minutes.
        let created =
          status == 0
          ? now - 1 - rng.below(600)
          : min((checkIn - rng.within(1...90)) * 86_400 + rng.below(86_400), now - 601 - rng.below(86_400))
        bookings.append(
          Booking(
            id: rng.uuid(), property: Int32(propertyIndex),
            guest: Int32(guestRange.lowerBound + rng.below(guestRange.count)), checkIn: Int32(checkIn),
            nights: Int32(nights), guests: Int32(1 + rng.below(Int(property.maxGuests))), status: status,
            created: created))
        // A cancelled stay frees its dates: the next one may take them.
        if status != 2 { cursor = checkIn + nights }
      }
    }

    // Reviews: exactly min(wanted, completed) completed stays, picked by selection sampling.
    let completed = bookings.reduce(0) { $0 + ($1.status == 3 ? 1 : 0) }
    var needed = min(config.reviews, completed)
    var remaining = completed
    reviews.reserveCapacity(needed)
    for (index, booking) in bookings.enumerated() where booking.status == 3 {
      if needed > 0 && rng.below(remaining) < needed {
        let rating = UInt8(rng.pick([1, 2, 2, 3, 3, 3, 4, 4, 4, 4, 4, 4, 5, 5, 5, 5, 5, 5, 5, 5]))
        let checkOut = Int(booking.checkIn + booking.nights)
        reviews.append(
          Review(
            id: rng.uuid(), booking: Int32(index), rating: rating,
            comment: UInt8(rng.below(SeedNames.comments[Int(rating) - 1].count + 1)),
            created: min((checkOut + rng.below(20)) * 86_400 + rng.below(86_400), now - 1)))
        properties[Int(booking.property)].ratingSum += Int64(rating)
        properties[Int(booking.property)].ratingCount += 1
        needed -= 1
      }
      remaining -= 1
    }

    // Payments: one succeeded per paid (confirmed or completed) booking; a refunded one for half
    // of the cancelled (the others were never paid).
    payments.reserveCapacity(bookings.count)
    for (index, booking) in bookings.enumerated() {
      let status: UInt8
      switch booking.status {
      case 1, 3: status = 0
      case 2 where rng.chance(50): status = 1
      default: continue
      }
      payments.append(
        Payment(
          id: rng.uuid(), booking: Int32(index), method: UInt8(rng.pick([0, 0, 0, 0, 0, 0, 0, 1, 1, 2])),
          status: status, reference: rng.next(),
          fingerprint: (rng.next(), rng.next(), rng.next(), rng.next())))
    }
  }

  static func round6(_ value: Double) -> Double { (value * 1e6).rounded() / 1e6 }

  func email(_ index: Int) -> String {
    let user = users[index]
    return
      "\(SeedNames.first[user.first].lowercased()).\(SeedNames.last[user.last].lowercased()).\(index)@example.com"
  }

  func writeUsers(_ writer: inout PGCopyWriter) {
    for (index, user) in users.enumerated() {
      writer.append(user.id)
      writer.append(email(index))
      writer.append(Self.passwordHash)
      writer.append("\(SeedNames.first[user.first]) \(SeedNames.last[user.last])")
      writer.append(user.phone.map { "+1 \($0 / 10_000_000 + 200) \($0 % 10_000_000)" })
      writer.append(Self.roles[Int(user.role)])
      writer.endRow(createdAt: user.created)
    }
  }

  func writeProperties(_ writer: inout PGCopyWriter) {
    for property in properties {
      let city = cities[Int(property.city)]
      let kind = SeedNames.kinds[Int(property.kind)]
      writer.append(property.id)
      writer.append(users[Int(property.host)].id)
      writer.append("\(SeedNames.adjectives[Int(property.adjective)]) \(kind) in \(city.name)")
      writer.append(
        "A \(SeedNames.adjectives[Int(property.adjective)].lowercased()) \(kind.lowercased()) for up to \(property.maxGuests) guests."
      )
      writer.append("\(property.number) \(SeedNames.streets[Int(property.street)])")
      writer.append(city.name)
      writer.append(city.country)
      writer.append(property.latitude)
      writer.append(property.longitude)
      writer.append(property.price)
      writer.append(city.currency)
      writer.append(property.maxGuests)
      writer.append(property.ratingSum)
      writer.append(property.ratingCount)
      writer.endRow(createdAt: property.created)
    }
  }

  func writeBookings(_ writer: inout PGCopyWriter) {
    for booking in bookings {
      let property = properties[Int(booking.property)]
      writer.append(booking.id)
      writer.append(property.id)
      writer.append(users[Int(property.host)].id)
      writer.append(users[Int(booking.guest)].id)
      writer.append(Seeder.dateText(Int(booking.checkIn)))
      writer.append(Seeder.dateText(Int(booking.checkIn + booking.nights)))
      writer.append(booking.guests)
      writer.append(Int64(booking.nights) * property.price)
      writer.append(cities[Int(property.city)].currency)
      writer.append(Self.statuses[Int(booking.status)])
      // The deadline of the state: the payment's while pending; the stay's end (listings are in
      // UTC) while confirmed.
      writer.append(
        booking.status == 0
          ? Seeder.timestampText(booking.created + 15 * 60)
          : booking.status == 1 ? Seeder.timestampText(Int(booking.checkIn + booking.nights) * 86_400) : nil)
      writer.endRow(createdAt: booking.created)
    }
  }

  func writeReviews(_ writer: inout PGCopyWriter) {
    for review in reviews {
      let booking = bookings[Int(review.booking)]
      writer.append(review.id)
      writer.append(booking.id)
      writer.append(properties[Int(booking.property)].id)
      writer.append(users[Int(booking.guest)].id)
      writer.append(review.rating)
      let comments = SeedNames.comments[Int(review.rating) - 1]
      writer.append(Int(review.comment) < comments.count ? comments[Int(review.comment)] : "")
      writer.endRow(createdAt: review.created)
    }
  }

  func writePayments(_ writer: inout PGCopyWriter) {
    for payment in payments {
      let booking = bookings[Int(payment.booking)]
      let property = properties[Int(booking.property)]
      writer.append(payment.id)
      writer.append(booking.id)
      writer.append(users[Int(booking.guest)].id)
      writer.append(property.id)
      writer.append(Int64(booking.nights) * property.price)
      writer.append(cities[Int(property.city)].currency)
      writer.append(Self.methods[Int(payment.method)])
      writer.append(payment.status == 0 ? "succeeded" : "refunded")
      writer.append("ch_" + String(payment.reference, radix: 36))
      writer.append("seed-" + String(payment.booking))
      var bytes: [UInt8] = []
      bytes.reserveCapacity(32)
      for word in [payment.fingerprint.0, payment.fingerprint.1, payment.fingerprint.2, payment.fingerprint.3] {
        for shift in stride(from: 56, through: 0, by: -8) {
          bytes.append(UInt8(truncatingIfNeeded: word >> UInt64(shift)))
        }
      }
      writer.append(bytes: bytes)
      writer.endRow(createdAt: booking.created + 120)
    }
  }
}

extension PGCopyWriter {
  /// Ends a row whose last two columns are created_at and updated_at, both `seconds` since the
  /// epoch (a seeded row was never updated).
  fileprivate mutating func endRow(createdAt seconds: Int) {
    let created = Seeder.timestampText(seconds)
    append(created)
    append(created)
    endRow()
  }
}

struct SeedCity: Sendable {
  var name: String
  var country: String
  var currency: String
  var latitude: Double
  var longitude: Double
  /// Minor units per major unit relative to EUR-like currencies (JPY has none: prices in yen
  /// are about 100 times the number).
  var priceFactor: Int64

  static let real: [SeedCity] = [
    ("Paris", "FR", "EUR", 48.8566, 2.3522), ("London", "GB", "GBP", 51.5074, -0.1278),
    ("New York", "US", "USD", 40.7128, -74.0060), ("Tokyo", "JP", "JPY", 35.6762, 139.6503),
    ("Barcelona", "ES", "EUR", 41.3874, 2.1686), ("Rome", "IT", "EUR", 41.9028, 12.4964),
    ("Berlin", "DE", "EUR", 52.5200, 13.4050), ("Amsterdam", "NL", "EUR", 52.3676, 4.9041),
    ("Lisbon", "PT", "EUR", 38.7223, -9.1393), ("Los Angeles", "US", "USD", 34.0522, -118.2437),
    ("San Francisco", "US", "USD", 37.7749, -122.4194), ("Sydney", "AU", "AUD", -33.8688, 151.2093),
    ("Toronto", "CA", "CAD", 43.6532, -79.3832), ("Montréal", "CA", "CAD", 45.5019, -73.5674),
    ("Mexico City", "MX", "MXN", 19.4326, -99.1332), ("Buenos Aires", "AR", "ARS", -34.6037, -58.3816),
    ("Rio de Janeiro", "BR", "BRL", -22.9068, -43.1729), ("Cape Town", "ZA", "ZAR", -33.9249, 18.4241),
    ("Marrakesh", "MA", "MAD", 31.6295, -7.9811), ("Istanbul", "TR", "TRY", 41.0082, 28.9784),
    ("Athens", "GR", "EUR", 37.9838, 23.7275), ("Prague", "CZ", "CZK", 50.0755, 14.4378),
    ("Vienna", "AT", "EUR", 48.2082, 16.3738), ("Budapest", "HU", "HUF", 47.4979, 19.0402),
    ("Kraków", "PL", "PLN", 50.0647, 19.9450), ("Copenhagen", "DK", "DKK", 55.6761, 12.5683),
    ("Stockholm", "SE", "SEK", 59.3293, 18.0686), ("Oslo", "NO", "NOK", 59.9139, 10.7522),
    ("Reykjavík", "IS", "ISK", 64.1466, -21.9426), ("Dublin", "IE", "EUR", 53.3498, -6.2603),
    ("Edinburgh", "GB", "GBP", 55.9533, -3.1883), ("Zürich", "CH", "CHF", 47.3769, 8.5417),
    ("Munich", "DE", "EUR", 48.1351, 11.5820), ("Nice", "FR", "EUR", 43.7102, 7.2620),
    ("Lyon", "FR", "EUR", 45.7640, 4.8357), ("Seville", "ES", "EUR", 37.3891, -5.9845),
    ("Porto", "PT", "EUR", 41.1579, -8.6291), ("Florence", "IT", "EUR", 43.7696, 11.2558),
    ("Venice", "IT", "EUR", 45.4408, 12.3155), ("Dubrovnik", "HR", "EUR", 42.6507, 18.0944),
    ("Kyoto", "JP", "JPY", 35.0116, 135.7681), ("Seoul", "KR", "KRW", 37.5665, 126.9780),
    ("Bangkok", "TH", "THB", 13.7563, 100.5018), ("Singapore", "SG", "SGD", 1.3521, 103.8198),
    ("Bali", "ID", "IDR", -8.3405, 115.0920), ("Hanoi", "VN", "VND", 21.0278, 105.8342),
    ("Dubai", "AE", "AED", 25.2048, 55.2708), ("Melbourne", "AU", "AUD", -37.8136, 144.9631),
    ("Auckland", "NZ", "NZD", -36.8485, 174.7633), ("Vancouver", "CA", "CAD", 49.2827, -123.1207),
    ("Chicago", "US", "USD", 41.8781, -87.6298), ("Miami", "US", "USD", 25.7617, -80.1918),
    ("Austin", "US", "USD", 30.2672, -97.7431), ("Seattle", "US", "USD", 47.6062, -122.3321),
    ("Boston", "US", "USD", 42.3601, -71.0589), ("New Orleans", "US", "USD", 29.9511, -90.0715),
    ("Havana", "CU", "CUP", 23.1136, -82.3666), ("Lima", "PE", "PEN", -12.0464, -77.0428),
    ("Cusco", "PE", "PEN", -13.5320, -71.9675), ("Santiago", "CL", "CLP", -33.4489, -70.6693),
  ].map { SeedCity(name: $0.0, country: $0.1, currency: $0.2, latitude: $0.3, longitude: $0.4, priceFactor: 1) }

  /// The real cities, then generated ones ("Town 61, FR") placed near a real city's country.
  static func all(count: Int, rng: inout SplitMix64) -> [SeedCity] {
    var cities = real
    while cities.count < count {
      let base = rng.pick(real)
      cities.append(
        SeedCity(
          name: "\(rng.pick(SeedNames.townPrefixes)) \(cities.count)", country: base.country,
          currency: base.currency,
          latitude: DataSet.round6(min(89, max(-89, base.latitude + Double(rng.within(-3_000_000...3_000_000)) / 1e6))),
          longitude: DataSet.round6(
            min(179, max(-179, base.longitude + Double(rng.within(-3_000_000...3_000_000)) / 1e6))),
          priceFactor: 1))
    }
    return cities
  }
}

enum SeedNames {
  static let first = [
    "Alice", "Bruno", "Chloé", "David", "Emma", "Farid", "Giulia", "Hugo", "Inès", "Jonas", "Kenji", "Léa",
    "Mateo", "Nora", "Olivia", "Pablo", "Quentin", "Rosa", "Sofia", "Tomás", "Uma", "Victor", "Wei", "Xavier",
    "Yasmin", "Zoe", "Amara", "Björn", "Carmen", "Dmitri", "Elif", "Finn", "Grace", "Hiro", "Isabel", "Jamal",
    "Katarzyna", "Liam", "Maya", "Noah", "Priya", "Sven", "Aiko", "Omar", "Chiara", "Lucas",
  ]
  static let last = [
    "Martin", "Smith", "García", "Müller", "Rossi", "Dubois", "Silva", "Kowalski", "Nakamura", "Kim", "Nguyen",
    "Johansson", "O'Brien", "Jensen", "Novák", "Papadopoulos", "Yılmaz", "Hernández", "Cohen", "Moreau",
    "Bianchi", "Schmidt", "Lopez", "Tanaka", "Wang", "Singh", "Costa", "Van der Berg", "Horvath", "Andersen",
    "Fischer", "Ferreira", "Dupont", "Okafor", "Haddad", "Larsen",
  ]
  static let kinds = [
    "Loft", "Studio", "Apartment", "House", "Villa", "Cabin", "Cottage", "Room", "Townhouse", "Bungalow",
  ]
  static let adjectives = [
    "Cozy", "Sunny", "Bright", "Quiet", "Charming", "Modern", "Rustic", "Spacious", "Elegant", "Central",
    "Peaceful", "Stylish", "Historic", "Airy", "Minimalist",
  ]
  static let streets = [
    "Main Street", "rue de la Paix", "Calle Mayor", "Via Roma", "Hauptstraße", "Ocean Drive", "High Street",
    "Rua Augusta", "Market Street", "Park Avenue", "Elm Street", "Station Road", "Church Lane", "Harbour Road",
    "Avenue des Fleurs", "Kings Road", "Mill Lane", "Sunset Boulevard", "Lake Road", "Hill Street",
  ]
  static let townPrefixes = ["Town", "Port", "Saint", "Villa", "Bay", "Mount", "Lake", "Old", "New", "Fort"]
  /// Per rating 1...5.
  static let comments: [[String]] = [
    ["Not as described.", "Dirty and noisy; would not stay again."],
    ["Disappointing.", "The place needs repairs.\nHost was slow to answer."],
    ["OK for the price.", "Fine, nothing special."],
    ["Nice stay, good location.", "Comfortable and clean — recommended."],
    ["Perfect!", "Wonderful host, spotless place. 10/10", "We loved it\tand will come back 😊"],
  ]
}
