import Foundation
import Postgres
import Testing

@Suite(
  "connections, values and pipelines",
  .enabled(if: TestDatabase.shouldRun, TestDatabase.disabledReason))
struct PGConnectionTests {
  @Test("values round-trip through bound parameters and text results")
  func roundTrips() async throws {
    try await TestDatabase.withPool { pool, _ in
      let bytes = (0...255).map(UInt8.init)
      let row = try await pool.withConnection { session in
        try session.query(
          """
          SELECT \(Int64.max), \(Int64.min), \(Int32.min), \(Int16(-7)), \(true), \(false), \(1.5),
                 \(-Double.infinity), \(Double.nan), \(bytes), \([UInt8]()), \(String?.none)::text,
                 \("héllo 🏠 中文"), \("2025-07-01")::date, gen_random_uuid(), \(42)::numeric / 8,
                 '1 day'::interval, \(Int?.none)
          """
        ).first!
      }
      #expect(try row.int64(0) == .max)
      #expect(try row.int64(1) == .min)
      #expect(try row.int32(2) == .min)
      #expect(try row.int32(3) == -7)
      #expect(try row.bool(4) == true)
      #expect(try row.bool(5) == false)
      #expect(try row.double(6) == 1.5)
      #expect(try row.double(7) == -.infinity)
      #expect(try row.double(8)?.isNaN == true)
      #expect(try row.bytes(9) == bytes)
      #expect(try row.bytes(10) == [])
      #expect(try row.string(11) == nil)
      #expect(row.isNull(11))
      #expect(try row.string(12) == "héllo 🏠 中文")
      #expect(try row.string(13) == "2025-07-01")
      let uuid = try #require(try row.uuid(14))
      #expect(uuid.count == 36 && uuid == uuid.lowercased())
      #expect(try row.double(15) == 5.25)
      #expect(try row.string(16) == "1 day")
      #expect(try row.int64(17) == nil)
      // Asking for the wrong type is an error, not a guess.
      #expect(throws: PGError.self) { try row.bool(0) }
      #expect(throws: PGError.self) { try row.int64(12) }
      #expect(throws: PGError.self) { try row.uuid(12) }
      #expect(throws: PGError.self) { try row.int32(0) }  // Int64.max does not fit
    }
  }

  static let hostileStrings = [
    "Robert'); DROP TABLE users;--", "O'Brien", "''", "'", "\"double\" quotes", "back\\slash",
    "\\x00 \\' \\\\",
    "$1 $2 ?", "%s %d %n", "--", "/* comment */", "; SELECT pg_sleep(10); --", "\n\t\r", "", "   ",
    "😀 ünïcödé 中文 עברית العربية", "e\u{301} combining", "\u{202E}reversed", "\u{FEFF}bom",
    String(repeating: "x", count: 100_000),
  ]

  @Test("hostile strings are stored and read back verbatim")
  func injection() async throws {
    try await TestDatabase.withPool(maximumConnections: 1, migrated: true) { pool, _ in
      try await pool.withConnection {
        try $0.execute("CREATE TABLE notes (id int PRIMARY KEY, body text NOT NULL)")
      }
      for (index, text) in Self.hostileStrings.enumerated() {
        let stored = try await pool.withTransaction { session in
          try session.execute("INSERT INTO notes (id, body) VALUES (\(index), \(text))")
          return try session.query("SELECT body, length(body) FROM notes WHERE body = \(text)")
            .first
        }
        #expect(try stored?.string(0) == text)
        #expect(try stored?.int(1) == text.unicodeScalars.count)
        // Through the real schema too, where a display name allows it (not blank, 100 characters).
        guard !text.trimmingCharacters(in: .whitespaces).isEmpty, text.count <= 100 else { continue }
        let name = try await pool.withTransaction { session in
          try session.execute(
            """
            INSERT INTO users (email, password_hash, display_name)
            VALUES (\("user\(index)@example.com"), \("$argon2id$x"), \(text))
            """)
          return try session.query("SELECT display_name FROM users WHERE display_name = \(text)").first?
            .string(0)
        }
        #expect(name == text)
      }
      let state = try await pool.withConnection { session in
        (
          try session.query("SELECT to_regclass('users') IS NOT NULL").first!.bool(0),
          try session.query("SELECT count(*) FROM notes").first!.int(0)
        )
      }
      #expect(state.0 == true)
      #expect(state.1 == Self.hostileStrings.count)
    }
  }

  @Test("notices are captured while asked for, in order, and logged otherwise")
  func notices() async throws {
    try await TestDatabase.withPool(maximumConnections: 1) { pool, _ in
      let (captured, later) = try await pool.withConnection { session in
        let (value, notices) = try session.capturingNotices { () throws(PGError) in
          try session.executeScript(
            "DO $$ BEGIN RAISE NOTICE 'first'; RAISE WARNING 'second'; END $$")
          return 7
        }
        #expect(value == 7)
        let (_, after) = try session.capturingNotices { () throws(PGError) in
          try session.execute("SELECT 1")
        }
        try session.executeScript("DO $$ BEGIN RAISE NOTICE 'not captured'; END $$")
        // Nested: the inner capture's notices reach the outer one too.
        let (inner, outer) = try session.capturingNotices { () throws(PGError) in
          try session.executeScript("DO $$ BEGIN RAISE NOTICE 'outer'; END $$")
          return try session.capturingNotices { () throws(PGError) in
            try session.executeScript("DO $$ BEGIN RAISE NOTICE 'inner'; END $$")
          }.1
        }
        #expect(inner.map(\.message) == ["inner"])
        #expect(outer.map(\.message) == ["outer", "inner"])
        return (notices, after)
      }
      #expect(captured.map(\.message) == ["first", "second"])
      #expect(captured.map(\.severity) == ["NOTICE", "WARNING"])
      #expect(captured.first?.sqlState == "00000")
      #expect(later.isEmpty)
    }
  }

  @Test("a NUL character cannot be bound")
  func nul() async throws {
    try await TestDatabase.withPool(maximumConnections: 1) { pool, _ in
      let error = await #expect(throws: PGError.self) {
        try await pool.withConnection { try $0.query("SELECT \("a\u{0}b")") }
      }
      #expect(error?.kind == .invalidParameter)
    }
  }

  @Test("statements are prepared once per connection and reused")
  func preparedOnce() async throws {
    try await TestDatabase.withPool(maximumConnections: 1) { pool, _ in
      let counts = try await pool.withConnection { session in
        for value in 0..<5 { try session.query("SELECT \(value) + 1") }
        try session.query("SELECT \("text") || 'x'")
        return try session.query(
          "SELECT count(*) FILTER (WHERE statement LIKE 'SELECT $1 + 1%'), count(*) FROM pg_prepared_statements"
        ).first.map { (try $0.int(0)!, try $0.int(1)!) }
      }
      #expect(counts?.0 == 1)
      #expect(counts?.1 == 3)  // the two above and this one
    }
  }

  @Test("the statement cache deallocates the least recently used beyond its capacity")
  func statementCacheBound() async throws {
    let count = try await TestDatabase.withPool(
      maximumConnections: 1,
      configure: { $0.connection.statementCacheCapacity = 4 },
      { pool, _ in
        try await pool.withConnection { session in
          for value in 0..<10 { try session.query(SQL(unsafeRaw: "SELECT \(value)")) }
          return try session.query("SELECT count(*) FROM pg_prepared_statements").first!.int(0)
        }
      })
    #expect(count == 4)
  }

  @Test("a pipeline returns every result in order, in one round trip")
  func pipeline() async throws {
    try await TestDatabase.withPool(maximumConnections: 1) { pool, _ in
      let results = try await pool.withConnection { session in
        try session.execute("CREATE TABLE items (id int PRIMARY KEY, name text NOT NULL)")
        return try session.pipeline([
          "INSERT INTO items VALUES (\(1), \("one"))",
          "INSERT INTO items VALUES (\(2), \("two")), (\(3), \("three"))",
          "SELECT name FROM items ORDER BY id",
          "SELECT \(7) * \(6)",
          "SELECT \(7) * \(6)",  // the same statement twice: prepared once
        ])
      }
      #expect(results.count == 5)
      #expect(results[0].rowsAffected == 1)
      #expect(results[1].rowsAffected == 2)
      #expect(try results[2].map { try $0.string(0)! } == ["one", "two", "three"])
      #expect(try results[3].first?.int(0) == 42)
      #expect(try results[4].first?.int(0) == 42)
    }
  }

  @Test("a failing statement fails the pipeline; outside a transaction the earlier ones roll back")
  func pipelineFailure() async throws {
    try await TestDatabase.withPool(maximumConnections: 1) { pool, _ in
      try await pool.withConnection { try $0.execute("CREATE TABLE items (id int PRIMARY KEY)") }
      let error = await #expect(throws: PGError.self) {
        try await pool.withConnection { session in
          try session.pipeline([
            "INSERT INTO items VALUES (\(1))", "SELECT 1 / \(0)", "INSERT INTO items VALUES (\(2))",
          ])
        }
      }
      #expect(error?.sqlState == .divisionByZero)
      let count = try await pool.withConnection { session in
        try session.query("SELECT count(*) FROM items").first!.int(0)
      }
      #expect(count == 0)
      // The connection is healthy afterwards, and a prepare that fails inside a pipeline is
      // not cached.
      await #expect(throws: PGError.self) {
        try await pool.withConnection { try $0.pipeline(["SELECT no_such_column FROM items"]) }
      }
      let again = try await pool.withConnection {
        try $0.pipeline(["SELECT \(1)", "SELECT 2"]).map { try $0.first!.int(0)! }
      }
      #expect(again == [1, 2])
      #expect(pool.statistics.open == 1)
    }
  }

  /// Not a benchmark gate: prints pipeline-mode figures against one-at-a-time execution (same
  /// connection, same prepared statements, unix socket), best of 5 runs each since the machine is
  /// shared, and asserts only that the results agree.
  @Test("pipeline mode versus sequential execution (prints figures)")
  func pipelineFigures() async throws {
    try await TestDatabase.withPool(maximumConnections: 1) { pool, _ in
      let figures = try await pool.withConnection { session -> [String] in
        try session.execute("CREATE TABLE items (id int PRIMARY KEY, name text NOT NULL)")
        let count = 2000
        let selects: [SQL] = (0..<count).map { "SELECT \($0) * 2" }
        let inserts: [SQL] = (0..<count).map { "INSERT INTO items VALUES (\($0), \("n"))" }
        let clock = ContinuousClock()
        func best(_ body: () throws -> Int) throws -> (Duration, Int) {
          var fastest = Duration.seconds(1000)
          var checksum = 0
          for _ in 0..<5 {
            var value = 0
            let elapsed = try clock.measure { value = try body() }
            fastest = min(fastest, elapsed)
            checksum = value
          }
          return (fastest, checksum)
        }
        // Warm up: prepare both statement shapes.
        _ = try session.pipeline([selects[0], inserts[0]])
        try session.execute("TRUNCATE items")

        let sequential = try best {
          try selects.reduce(0) { $0 + (try session.query($1).first!.int(0)!) }
        }
        let pipelined = try best {
          try session.pipeline(selects).reduce(0) { $0 + (try $1.first!.int(0)!) }
        }
        let batched = try best {
          try stride(from: 0, to: count, by: 10).reduce(0) { sum, start in
            try session.pipeline(Array(selects[start..<start + 10])).reduce(sum) {
              $0 + (try $1.first!.int(0)!)
            }
          }
        }
        try #require(sequential.1 == pipelined.1 && pipelined.1 == batched.1)
        let sequentialInserts = try best {
          try session.execute("BEGIN")
          defer { _ = try? session.execute("ROLLBACK") }
          return try inserts.reduce(0) { $0 + (try session.execute($1)) }
        }
        let pipelinedInserts = try best {
          try session.execute("BEGIN")
          defer { _ = try? session.execute("ROLLBACK") }
          return try session.pipeline(inserts).reduce(0) { $0 + $1.rowsAffected }
        }
        try #require(sequentialInserts.1 == count && pipelinedInserts.1 == count)

        func line(_ label: String, _ figure: (Duration, Int)) -> String {
          let microseconds =
            Double(figure.0.components.seconds) * 1e6 + Double(figure.0.components.attoseconds)
            / 1e12
          let each = (microseconds / Double(count) * 10).rounded() / 10
          return "\(label): \(Int(microseconds / 1000)) ms for \(count), \(each) µs each"
        }
        return [
          line("sequential SELECT         ", sequential),
          line("pipelined SELECT, 1 × 2000", pipelined),
          line("pipelined SELECT, 200 × 10", batched),
          line("sequential INSERT (in tx) ", sequentialInserts),
          line("pipelined INSERT, 1 × 2000", pipelinedInserts),
        ]
      }
      print(
        "pipeline-mode figures (unix socket, one connection, best of 5):\n  "
          + figures.joined(separator: "\n  "))
    }
  }

  @Test("a connection used directly: withSession, backend pid, close")
  func directConnection() async throws {
    let connection = try await PGConnection.connect(
      options: TestDatabase.options(), logger: TestDatabase.logger)
    let pid = try await connection.withSession {
      try $0.query("SELECT pg_backend_pid()").first!.int32(0)
    }
    #expect(pid == connection.backendPID)
    await connection.close()
    await #expect(throws: PGError.self) { try await connection.withSession { _ in } }
  }

  @Test("connecting to nothing fails with connectionLost")
  func unreachable() async throws {
    var options = try TestDatabase.options()
    options.overrides["host"] = "/nonexistent-socket-dir"
    let error = await #expect(throws: PGError.self) {
      try await PGConnection.connect(options: options, logger: TestDatabase.logger)
    }
    #expect(error?.kind == .connectionLost)
    #expect(error?.isUnavailable == true)
  }

  @Test(
    "a connection error never quotes the password, however the URL is spelled",
    arguments: [
      "postgresql://app:S3cr3t-pw@/app?host=/nonexistent-socket-dir",
      "postgresql://app:S3cr3t%2Dpw@/app?host=/nonexistent-socket-dir",
      "postgresql://app:S3cr3t-pw%zz@/app?host=/nonexistent-socket-dir",
      "postgresql://app:S3cr3t-pw@/app?host=/nonexistent-socket-dir&bogus=1",
      "host=/nonexistent-socket-dir dbname=app user=app password=S3cr3t-pw",
      "host=/nonexistent-socket-dir dbname=app password='S3cr3t-pw' nonsense",
    ])
  func connectErrorsHideThePassword(_ url: String) async throws {
    let error = await #expect(throws: PGError.self) {
      try await PGConnection.connect(options: PGConnection.Options(conninfo: url), logger: TestDatabase.logger)
    }
    let everything = "\(error.map { String(reflecting: $0) } ?? "")"
    #expect(everything.contains("could not connect"))
    #expect(!everything.contains("S3cr3t"))
  }
}
