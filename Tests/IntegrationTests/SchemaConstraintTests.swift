import Postgres
import Testing

/// The rules the schema enforces by itself, checked through the libpq layer.
@Suite("schema constraints", .enabled(if: TestDatabase.shouldRun, TestDatabase.disabledReason))
struct SchemaConstraintTests {
  /// Inserts a host, a guest and a property; returns (propertyID, guestID).
  static func fixture(_ session: PGSession) throws -> (property: String, guest: String) {
    let hash = "$argon2id$v=19$m=65536,t=2,p=1$c2FsdA$aGFzaA"
    let host = try session.query(
      """
      INSERT INTO users (email, password_hash, display_name, role)
      VALUES (\("host@example.com"), \(hash), \("Hana Host"), 'host') RETURNING id
      """
    ).first!.uuid(0)!
    let guest = try session.query(
      """
      INSERT INTO users (email, password_hash, display_name)
      VALUES (\("guest@example.com"), \(hash), \("Gus Guest")) RETURNING id
      """
    ).first!.uuid(0)!
    let property = try session.query(
      """
      INSERT INTO properties (host_id, name, address, city, country, price_per_night_minor, currency, max_guests)
      VALUES (\(host), \("Loft"), \("1 rue de Rivoli"), \("Paris"), \("FR"), \(Int64(12_000)), \("EUR"), \(Int32(2)))
      RETURNING id
      """
    ).first!.uuid(0)!
    return (property, guest)
  }

  /// Books [checkIn, checkOut) and returns the booking id.
  @discardableResult
  static func book(
    _ session: PGSession, property: String, guest: String, _ checkIn: String, _ checkOut: String,
    status: String = "confirmed"
  ) throws(PGError) -> String {
    try session.query(
      """
      INSERT INTO bookings (property_id, host_id, guest_id, check_in, check_out, guests, total_price_minor,
                            currency, status, expires_at)
      VALUES (\(property), (SELECT host_id FROM properties WHERE id = \(property)::uuid), \(guest), \(checkIn),
              \(checkOut), \(Int32(2)), (\(checkOut)::date - \(checkIn)::date) * 12000, \("EUR"),
              \(status), CASE WHEN \(status) IN ('pending', 'confirmed') THEN now() + interval '15 minutes' END)
      RETURNING id
      """
    ).first!.uuid(0)!
  }

  @Test(
    "overlapping active stays are rejected by the database (23P01 on bookings_no_overlap); back-to-back stays are fine"
  )
  func overlap() async throws {
    try await TestDatabase.withPool(migrated: true) { pool, _ in
      let (property, guest) = try await pool.withTransaction { try Self.fixture($0) }
      try await pool.withTransaction { session in
        try Self.book(session, property: property, guest: guest, "2025-07-01", "2025-07-04")
        // Back to back on both sides: half-open ranges do not overlap.
        try Self.book(
          session, property: property, guest: guest, "2025-07-04", "2025-07-06", status: "pending")
        try Self.book(session, property: property, guest: guest, "2025-06-28", "2025-07-01")
      }
      for (checkIn, checkOut) in [
        ("2025-07-03", "2025-07-05"), ("2025-06-30", "2025-07-02"), ("2025-07-01", "2025-07-04"),
        ("2025-06-01", "2025-08-01"), ("2025-07-05", "2025-07-06"),
      ] {
        let error = await #expect(throws: PGError.self) {
          try await pool.withTransaction { session in
            try Self.book(session, property: property, guest: guest, checkIn, checkOut)
          }
        }
        #expect(error?.kind == .server)
        #expect(error?.sqlState == .exclusionViolation)
        #expect(error?.constraint == "bookings_no_overlap")
        #expect(error?.description.contains("bookings_no_overlap") == false)
      }
      let count = try await pool.withConnection {
        try $0.query("SELECT count(*) FROM bookings").first!.int(0)
      }
      #expect(count == 3)
    }
  }

  @Test("cancelled (and completed) bookings free their dates")
  func cancellationFreesDates() async throws {
    try await TestDatabase.withPool(migrated: true) { pool, _ in
      let (property, guest) = try await pool.withTransaction { try Self.fixture($0) }
      let first = try await pool.withTransaction { session in
        try Self.book(
          session, property: property, guest: guest, "2025-08-10", "2025-08-15", status: "pending")
      }
      await #expect(throws: PGError.self) {
        try await pool.withTransaction { session in
          try Self.book(session, property: property, guest: guest, "2025-08-12", "2025-08-14")
        }
      }
      let updated = try await pool.withTransaction { session in
        try session.execute(
          "UPDATE bookings SET status = 'cancelled', updated_at = now() WHERE id = \(first)")
      }
      #expect(updated == 1)
      let second = try await pool.withTransaction { session in
        try Self.book(session, property: property, guest: guest, "2025-08-12", "2025-08-14")
      }
      // Completing frees nothing new (it is in the past), but it is outside the constraint too.
      try await pool.withTransaction { session in
        try session.execute("UPDATE bookings SET status = 'completed' WHERE id = \(second)")
        try Self.book(session, property: property, guest: guest, "2025-08-11", "2025-08-13")
      }
    }
  }

  @Test("other named constraints surface with their SQLSTATE and name")
  func otherConstraints() async throws {
    try await TestDatabase.withPool(migrated: true) { pool, _ in
      _ = try await pool.withTransaction { try Self.fixture($0) }
      let hash = "$argon2id$v=19$m=65536,t=2,p=1$c2FsdA$aGFzaA"
      let duplicate = await #expect(throws: PGError.self) {
        try await pool.withTransaction { session in
          try session.execute(
            """
            INSERT INTO users (email, password_hash, display_name)
            VALUES (\("GUEST@example.com"), \(hash), \("G"))
            """)
        }
      }
      #expect(duplicate?.sqlState == .uniqueViolation)
      #expect(duplicate?.constraint == "users_email_key")

      let badRole = await #expect(throws: PGError.self) {
        try await pool.withTransaction { session in
          try session.execute(
            """
            INSERT INTO users (email, password_hash, display_name, role)
            VALUES (\("x@example.com"), \(hash), \("X"), \("superhost"))
            """)
        }
      }
      #expect(badRole?.sqlState == .checkViolation)
      #expect(badRole?.constraint == "users_role_check")

      let orphan = await #expect(throws: PGError.self) {
        try await pool.withTransaction { session in
          try session.execute(
            """
            INSERT INTO sessions (user_id, token_hash, expires_at)
            VALUES (gen_random_uuid(), \([UInt8](repeating: 7, count: 32)), now() + interval '1 day')
            """)
        }
      }
      #expect(orphan?.sqlState == .foreignKeyViolation)
      #expect(orphan?.constraint == "sessions_user_id_fkey")
    }
  }
}
