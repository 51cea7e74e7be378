import Postgres
import Testing

/// COPY ... FROM STDIN through PGSession.copyIn (text format, escaping, errors).
@Suite("COPY FROM STDIN", .enabled(if: TestDatabase.shouldRun, TestDatabase.disabledReason))
struct CopyTests {
  static let tricky: [String?] = [
    "plain", "tab\there", "new\nline", "carriage\rreturn", "crlf\r\n", "back\\slash", "\\N", "\\.",
    "\\", "ends with backslash\\", "", " ", "unicode: é 漢字 😊 \u{200B}", "quote ' and \" and ;",
    "'); DROP TABLE t; --", nil, "\t\n\r\\", String(repeating: "x\t", count: 5000),
  ]

  @Test("tricky strings, NULLs, numbers, booleans and bytea round-trip verbatim")
  func roundTrip() async throws {
    try await TestDatabase.withPool { pool, _ in
      let copied = try await pool.withConnection { session in
        try session.execute(
          "CREATE TABLE t (n int PRIMARY KEY, s text, i bigint, d float8, b bool, bytes bytea)")
        return try session.copyIn("COPY t (n, s, i, d, b, bytes) FROM STDIN") { writer in
          for (index, value) in Self.tricky.enumerated() {
            writer.append(index)
            writer.append(value)
            writer.append(index % 2 == 0 ? Int64.min + Int64(index) : Int64.max - Int64(index))
            writer.append(index == 3 ? nil : Double(index) / 3)
            writer.append(index % 3 == 0 ? nil : index % 2 == 0)
            writer.append(bytes: index == 5 ? nil : [0, 0x5C, 0x09, 0x0A, UInt8(index), 0xFF])
            writer.endRow()
          }
        }
      }
      #expect(copied == Self.tricky.count)
      let rows = try await pool.withConnection { session in
        try session.query(
          "SELECT n, s, i, d, b, bytes = decode('005c090a' || lpad(to_hex(n), 2, '0') || 'ff', 'hex') FROM t ORDER BY n"
        )
        .map { row in
          (try row.int(0)!, try row.string(1), try row.int64(2)!, try row.double(3), try row.bool(4), try row.bool(5))
        }
      }
      #expect(rows.count == Self.tricky.count)
      for (index, row) in rows.enumerated() {
        #expect(row.0 == index)
        #expect(row.1 == Self.tricky[index], "row \(index)")
        #expect(row.2 == (index % 2 == 0 ? Int64.min + Int64(index) : Int64.max - Int64(index)))
        #expect(row.3 == (index == 3 ? nil : Double(index) / 3))
        #expect(row.4 == (index % 3 == 0 ? nil : index % 2 == 0))
        #expect(row.5 == (index == 5 ? nil : true))
      }
    }
  }

  @Test("the [String?] rows convenience")
  func rowsConvenience() async throws {
    try await TestDatabase.withPool { pool, _ in
      let count = try await pool.withConnection { session in
        try session.execute("CREATE TABLE t (a text, b text)")
        try session.copyIn("COPY t (a, b) FROM STDIN", rows: [["x\ty", nil], ["\\", "z"]])
        return try session.query("SELECT count(*) FROM t WHERE a IN ('x\ty', '\\')").first!.int(0)
      }
      #expect(count == 2)
    }
  }

  @Test("100k rows in one COPY")
  func largeBatch() async throws {
    try await TestDatabase.withPool { pool, _ in
      let (copied, count, sum) = try await pool.withConnection { session in
        try session.execute("CREATE TABLE t (n bigint PRIMARY KEY, s text NOT NULL)")
        let copied = try session.copyIn("COPY t (n, s) FROM STDIN") { writer in
          for n in 0..<100_000 {
            writer.append(n)
            writer.append("row \(n)\twith a tab")
            writer.endRow()
          }
        }
        let row = try session.query("SELECT count(*) FILTER (WHERE s LIKE E'%\\t%'), sum(n)::bigint FROM t").first!
        return (copied, try row.int(0)!, try row.int64(1)!)
      }
      #expect(copied == 100_000)
      #expect(count == 100_000)
      #expect(sum == Int64(99_999 * 100_000 / 2))
    }
  }

  @Test("a CHECK violation mid-copy is a PGError with its SQLSTATE; nothing is stored; the connection stays usable")
  func errorMidCopy() async throws {
    try await TestDatabase.withPool(maximumConnections: 1) { pool, _ in
      let pid = try await pool.withConnection { session in
        try session.execute("CREATE TABLE t (n int PRIMARY KEY CONSTRAINT t_n_check CHECK (n <> 50000))")
        return session.backendPID
      }
      let error = await #expect(throws: PGError.self) {
        try await pool.withConnection { session in
          try session.copyIn("COPY t (n) FROM STDIN") { writer in
            for n in 0..<100_000 {
              writer.append(n)
              writer.endRow()
            }
          }
        }
      }
      #expect(error?.kind == .server)
      #expect(error?.sqlState == .checkViolation)
      #expect(error?.constraint == "t_n_check")
      // Same connection (pool of one), still usable, and nothing was copied.
      let (samePID, count) = try await pool.withConnection { session in
        (session.backendPID, try session.query("SELECT count(*) FROM t").first!.int(0)!)
      }
      #expect(samePID == pid)
      #expect(count == 0)

      // Malformed data and a unique violation, inside a transaction: rolled back, then usable.
      let malformed = await #expect(throws: PGError.self) {
        try await pool.withTransaction { session in
          try session.copyIn("COPY t (n) FROM STDIN", rows: [["1"], ["not a number"]])
        }
      }
      #expect(malformed?.sqlState == .invalidTextRepresentation)
      let duplicate = await #expect(throws: PGError.self) {
        try await pool.withConnection { session in
          try session.copyIn("COPY t (n) FROM STDIN", rows: [["1"], ["1"]])
        }
      }
      #expect(duplicate?.sqlState == .uniqueViolation)
      let remaining = try await pool.withConnection { try $0.query("SELECT count(*) FROM t").first!.int(0) }
      #expect(remaining == 0)
    }
  }

  struct Stop: Error {}

  @Test("an error thrown by the writing closure aborts the copy and is rethrown")
  func clientAbort() async throws {
    try await TestDatabase.withPool(maximumConnections: 1) { pool, _ in
      try await pool.withConnection { try $0.execute("CREATE TABLE t (n int)") }
      await #expect(throws: Stop.self) {
        try await pool.withConnection { session in
          try session.copyIn("COPY t (n) FROM STDIN") { writer in
            writer.append(1)
            writer.endRow()
            throw Stop()
          }
        }
      }
      let remaining = try await pool.withConnection { try $0.query("SELECT count(*) FROM t").first!.int(0) }
      #expect(remaining == 0)
    }
  }

  @Test("a statement that is not COPY FROM STDIN is refused, and a bad COPY reports the server's error")
  func notCopyIn() async throws {
    try await TestDatabase.withPool(maximumConnections: 1) { pool, _ in
      let notCopy = await #expect(throws: PGError.self) {
        try await pool.withConnection { session in try session.copyIn("SELECT 1") { _ in } }
      }
      #expect(notCopy?.kind == .invalidParameter)
      let missing = await #expect(throws: PGError.self) {
        try await pool.withConnection { session in try session.copyIn("COPY nope (n) FROM STDIN") { _ in } }
      }
      #expect(missing?.sqlState == .undefinedTable)
      let one = try await pool.withConnection { try $0.query("SELECT 1").first!.int(0) }
      #expect(one == 1)
    }
  }
}
