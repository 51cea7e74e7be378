import MarketplaceStorage
import Postgres
import Testing

@Suite("migration files and checksums (no server)")
struct MigrationFileTests {
  @Test(
    "file names parse to version and name",
    arguments: [
      ("0001_extensions.sql", 1, "extensions", "0001_extensions"),
      ("0042_users_sessions.sql", 42, "users_sessions", "0042_users_sessions"),
      ("12345_big.sql", 12345, "big", "12345_big"),
    ])
  func names(file: String, version: Int, name: String, id: String) throws {
    let migration = try Migration(fileName: file, contents: "SELECT 1;")
    #expect(migration.version == version)
    #expect(migration.name == name)
    #expect(migration.id == id)
  }

  @Test(
    "badly named files are refused",
    arguments: [
      "extensions.sql", "0001-extensions.sql", "0001_.sql", "0001_Extensions.sql", "0001_x.txt",
      "_x.sql", "x1_y.sql",
    ])
  func badNames(file: String) {
    #expect(throws: MigrationError.invalidFileName(file)) {
      try Migration(fileName: file, contents: "")
    }
  }

  @Test(
    "checksums are SHA-256 of the contents",
    arguments: [
      ("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
      ("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
      (
        "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
        "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"
      ),
      (
        String(repeating: "a", count: 1000),
        "41edece42d63e8d9bf515a9ba6932e1c20cbc9f5a5d134645adb5db1b9737ea3"
      ),
    ])
  func checksums(contents: String, sha256: String) {
    #expect(Migration(version: 1, name: "x", sql: contents).checksum == sha256)
  }

  @Test("two migrations with one version are refused")
  func duplicates() {
    let a = Migration(version: 3, name: "a", sql: "")
    let b = Migration(version: 3, name: "b", sql: "")
    #expect(throws: MigrationError.duplicateVersion(3)) { try Migrator(migrations: [a, b]) }
  }

  @Test("the shipped schema loads from the bundle, in order")
  func shippedSchema() throws {
    let migrations = try MarketplaceSchema.migrations()
    #expect(migrations.map(\.version) == Array(1...migrations.count))
    #expect(migrations.first?.id == "0001_extensions")
    #expect(migrations.contains { $0.name == "bookings" && $0.sql.contains("bookings_no_overlap") })
  }

  @Test("refusals name the migration")
  func messages() {
    let unknown = MigrationError.unknownMigration(version: 8, name: "future_table")
    #expect(unknown.description.contains("0008_future_table"))
    let edited = MigrationError.checksumMismatch(
      version: 3, name: "properties", applied: "aa", current: "bb")
    #expect(edited.description.contains("0003_properties"))
  }
}

@Suite(
  "migrations against PostgreSQL", .enabled(if: TestDatabase.shouldRun, TestDatabase.disabledReason)
)
struct MigrationTests {
  @Test("from empty every migration applies and is recorded; a re-run applies nothing")
  func fromEmptyAndRerun() async throws {
    try await TestDatabase.withPool { pool, _ in
      let migrator = try MarketplaceSchema.migrator()
      let applied = try await migrator.migrate(pool, logger: TestDatabase.logger)
      #expect(applied.map(\.version) == migrator.migrations.map(\.version))
      #expect(applied.count == migrator.migrations.count && applied.count >= 8)

      let recorded = try await pool.withConnection { session in
        try session.query(
          "SELECT version, name, checksum, applied_at IS NOT NULL FROM schema_migrations ORDER BY version"
        )
        .map { row in
          (try row.int(0)!, try row.string(1)!, try row.string(2)!, try row.bool(3)!)
        }
      }
      #expect(recorded.map(\.0) == migrator.migrations.map(\.version))
      #expect(recorded.map(\.1) == migrator.migrations.map(\.name))
      #expect(recorded.map(\.2) == migrator.migrations.map(\.checksum))
      #expect(recorded.allSatisfy { $0.3 })

      let tables = try await pool.withConnection { session in
        try session.query(
          "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename"
        ).map { try $0.string(0)! }
      }
      #expect(
        tables == [
          "bookings", "jobs", "outbox", "payments", "properties", "reviews", "sandbox_gateway_failures",
          "sandbox_gateway_operations", "schema_migrations", "server_keys", "sessions", "users",
        ])

      let again = try await migrator.migrate(pool, logger: TestDatabase.logger)
      #expect(again.isEmpty)
    }
  }

  @Test("a database with a migration this program does not know is refused, naming it")
  func unknownNewerMigration() async throws {
    try await TestDatabase.withPool { pool, _ in
      let migrator = try MarketplaceSchema.migrator()
      try await migrator.migrate(pool, logger: TestDatabase.logger)
      try await pool.withConnection { session in
        try session.execute(
          "INSERT INTO schema_migrations (version, name, checksum) VALUES (\(999), \("future_table"), \("0000"))"
        )
      }
      let error = await #expect(throws: MigrationError.self) {
        try await migrator.migrate(pool, logger: TestDatabase.logger)
      }
      #expect(error == .unknownMigration(version: 999, name: "future_table"))
      #expect(error?.description.contains("0999_future_table") == true)
    }
  }

  @Test("an applied migration that was edited is refused")
  func editedMigration() async throws {
    try await TestDatabase.withPool { pool, _ in
      let original = [
        Migration(version: 1, name: "notes", sql: "CREATE TABLE notes (body text);"),
        Migration(version: 2, name: "tags", sql: "CREATE TABLE tags (name text);"),
      ]
      try await Migrator(migrations: original).migrate(pool, logger: TestDatabase.logger)
      let edited = [
        original[0],
        Migration(version: 2, name: "tags", sql: "CREATE TABLE tags (name text, x int);"),
      ]
      let error = await #expect(throws: MigrationError.self) {
        try await Migrator(migrations: edited).migrate(pool, logger: TestDatabase.logger)
      }
      guard case .checksumMismatch(2, "tags", let applied, let current)? = error else {
        Issue.record("expected checksumMismatch, got \(String(describing: error))")
        return
      }
      #expect(applied == original[1].checksum)
      #expect(current == edited[1].checksum)
    }
  }

  @Test("a failing migration is rolled back alone; earlier ones stay")
  func failingMigration() async throws {
    try await TestDatabase.withPool { pool, _ in
      let migrations = [
        Migration(version: 1, name: "notes", sql: "CREATE TABLE notes (body text);"),
        Migration(version: 2, name: "broken", sql: "CREATE TABLE half (x int); SELECT 1/0;"),
      ]
      let error = await #expect(throws: MigrationError.self) {
        try await Migrator(migrations: migrations).migrate(pool, logger: TestDatabase.logger)
      }
      guard case .failed(2, "broken", let detail)? = error else {
        Issue.record("expected failed, got \(String(describing: error))")
        return
      }
      #expect(detail.contains("22012"))
      let state = try await pool.withConnection { session in
        (
          try session.query("SELECT version FROM schema_migrations").map { try $0.int(0)! },
          try session.query("SELECT to_regclass('half') IS NULL, to_regclass('notes') IS NOT NULL")
            .first!
        )
      }
      #expect(state.0 == [1])
      #expect(try state.1.bool(0) == true)
      #expect(try state.1.bool(1) == true)
    }
  }

  @Test("concurrent migrators apply each migration once (advisory lock)")
  func concurrentMigrators() async throws {
    try await TestDatabase.withPool(maximumConnections: 4) { pool, _ in
      let migrator = try MarketplaceSchema.migrator()
      let logger = TestDatabase.logger
      let counts = try await withThrowingTaskGroup(of: Int.self) { group in
        for _ in 0..<3 { group.addTask { try await migrator.migrate(pool, logger: logger).count } }
        return try await group.reduce(into: []) { $0.append($1) }
      }
      #expect(counts.sorted() == [0, 0, migrator.migrations.count])
    }
  }
}
