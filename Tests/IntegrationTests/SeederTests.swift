import Logging
import MarketplaceCore
import MarketplaceStorage
import Postgres
import Testing

/// The seed data set: deterministic, and within every constraint of the schema.
@Suite("seeder", .enabled(if: TestDatabase.shouldRun, TestDatabase.disabledReason))
struct SeederTests {
  static var config: Seeder.Config {
    var config = Seeder.Config()
    config.users = 200
    config.properties = 500
    config.bookings = 3_000
    config.reviews = 1_000
    config.seed = 42
    return config
  }

  /// Row counts and a digest of the rows' columns, per table.
  static func fingerprint(_ pool: PGPool) async throws -> [String] {
    try await pool.withConnection { session in
      try [
        "SELECT count(*) || ':' || md5(string_agg(concat_ws('|', id, email, display_name, phone, role, created_at), ',' ORDER BY id)) FROM users",
        "SELECT count(*) || ':' || md5(string_agg(concat_ws('|', id, host_id, name, city, country, latitude, longitude, price_per_night_minor, currency, max_guests, rating_sum, rating_count), ',' ORDER BY id)) FROM properties",
        "SELECT count(*) || ':' || md5(string_agg(concat_ws('|', id, property_id, guest_id, stay, guests, total_price_minor, status, expires_at, created_at), ',' ORDER BY id)) FROM bookings",
        "SELECT count(*) || ':' || md5(string_agg(concat_ws('|', id, booking_id, author_id, rating, comment), ',' ORDER BY id)) FROM reviews",
        "SELECT count(*) || ':' || md5(string_agg(concat_ws('|', id, booking_id, amount_minor, method, status, gateway_reference, idempotency_key, request_fingerprint), ',' ORDER BY id)) FROM payments",
      ].map { (sql: SQL) in try session.query(sql).first!.string(0)! }
    }
  }

  @Test("the same seed gives the same data in two databases, and every constraint holds")
  func deterministic() async throws {
    var fingerprints: [[String]] = []
    for _ in 0..<2 {
      let fingerprint = try await TestDatabase.withPool(migrated: true) { pool, _ in
        let report = try await Seeder.seed(pool, config: Self.config, logger: TestDatabase.logger)
        #expect(report.rows("users") == 200)
        #expect(report.rows("properties") == 500)
        #expect(report.rows("bookings") == 3_000)
        #expect(report.rows("reviews") == 1_000)
        #expect(report.rows("payments") > 2_000)

        let checks = try await pool.withConnection { session in
          try [
            // Reviews only of completed stays, by their guests, at most one each.
            "SELECT count(*) FROM reviews r JOIN bookings b ON b.id = r.booking_id WHERE b.status <> 'completed'",
            // Ratings aggregated on properties equal the reviews'.
            """
            SELECT count(*) FROM properties p
            LEFT JOIN (SELECT property_id, sum(rating) s, count(*) c FROM reviews GROUP BY property_id) r
              ON r.property_id = p.id
            WHERE p.rating_sum <> coalesce(r.s, 0) OR p.rating_count <> coalesce(r.c, 0)
            """,
            // Payments only for bookings that were paid.
            "SELECT count(*) FROM payments pm JOIN bookings b ON b.id = pm.booking_id WHERE b.status = 'pending'",
            // No overlapping active stays (the EXCLUDE constraint, checked again by hand).
            """
            SELECT count(*) FROM bookings a JOIN bookings b
              ON a.property_id = b.property_id AND a.id < b.id AND a.stay && b.stay
            WHERE a.status IN ('pending', 'confirmed') AND b.status IN ('pending', 'confirmed')
            """,
            // Nothing happens after the data set's "now" (2025-06-01 12:00 UTC).
            """
            SELECT (SELECT count(*) FROM users WHERE created_at > '2025-06-01 12:00Z')
                 + (SELECT count(*) FROM properties WHERE created_at > '2025-06-01 12:00Z')
                 + (SELECT count(*) FROM bookings WHERE created_at > '2025-06-01 12:00Z')
                 + (SELECT count(*) FROM reviews WHERE created_at > '2025-06-01 12:00Z')
                 + (SELECT count(*) FROM payments WHERE created_at > '2025-06-01 12:00Z')
            """,
            // Pending bookings were made in the last minutes and still hold their dates then.
            "SELECT count(*) FROM bookings WHERE status = 'pending' AND NOT (expires_at > '2025-06-01 12:00Z' AND created_at > '2025-06-01 11:49Z')",
            // Reviews come after the stay.
            "SELECT count(*) FROM reviews r JOIN bookings b ON b.id = r.booking_id WHERE r.created_at::date < b.check_out",
          ].map { (sql: SQL) in try session.query(sql).first!.int(0)! }
        }
        #expect(checks == [0, 0, 0, 0, 0, 0, 0])
        let statuses = try await pool.withConnection { session in
          try session.query("SELECT count(DISTINCT status) FROM bookings").first!.int(0)!
        }
        #expect(statuses == 4)
        return try await Self.fingerprint(pool)
      }
      fingerprints.append(fingerprint)
    }
    #expect(fingerprints[0] == fingerprints[1])
  }

  @Test("a non-empty database is refused unless asked to replace its data, which then is another seed's alone")
  func replace() async throws {
    try await TestDatabase.withPool(migrated: true) { pool, _ in
      var config = Self.config
      config.users = 20
      config.properties = 30
      config.bookings = 200
      config.reviews = 50
      try await Seeder.seed(pool, config: config, logger: TestDatabase.logger)
      let first = try await Self.fingerprint(pool)
      await #expect(throws: Seeder.SeedError.self) {
        try await Seeder.seed(pool, config: config, logger: TestDatabase.logger)
      }
      #expect(try await Self.fingerprint(pool) == first)

      config.seed += 1
      config.replaceExisting = true
      config.now = Timestamp(microsecondsSinceEpoch: 1_900_000_000_000_000)  // 2030-03-17
      let report = try await Seeder.seed(pool, config: config, logger: TestDatabase.logger)
      let second = try await Self.fingerprint(pool)
      #expect(second != first)
      #expect(second[0].hasPrefix("20:") && second[2].hasPrefix("200:"))
      #expect(report.rows("users") == 20)
      let latest = try await pool.withConnection { session in
        try session.query("SELECT max(check_in) > '2030-03-17' FROM bookings").first!.bool(0)
      }
      #expect(latest == true)
    }
  }
}
