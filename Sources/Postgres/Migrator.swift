public import Logging

/// Applies schema migrations in version order, each in its own transaction, recording them in
/// `schema_migrations(version, name, checksum, applied_at)`.
///
/// Runs under a session-level `pg_advisory_lock`, so that servers starting together migrate one
/// after another (the later ones find nothing to do). Before applying anything it checks the
/// record against the migrations it was given, and refuses (`MigrationError`) when the database
/// has a migration it does not know (it belongs to a newer program) or when an applied migration
/// has changed since (its SHA-256 differs).
public struct Migrator: Sendable {
  /// The advisory lock key used unless another is given ("mktplace" in ASCII).
  public static let defaultLockKey: Int64 = 0x6d6b_7470_6c61_6365

  /// The migrations, in version order.
  public let migrations: [Migration]
  public let lockKey: Int64

  /// Throws `.duplicateVersion` if two migrations share a version.
  public init(migrations: [Migration], lockKey: Int64 = Migrator.defaultLockKey)
    throws(MigrationError)
  {
    let sorted = migrations.sorted { $0.version < $1.version }
    for (previous, next) in zip(sorted, sorted.dropFirst()) where previous.version == next.version {
      throw .duplicateVersion(next.version)
    }
    self.migrations = sorted
    self.lockKey = lockKey
  }

  /// Applies the migrations the database lacks and returns them (none when it is up to date).
  ///
  /// Throws `MigrationError` when the database is newer than these migrations, when an applied
  /// migration changed, or when a script fails (that migration is rolled back; earlier ones
  /// stay applied). Throws `PGError` when the database cannot be reached.
  @discardableResult
  public func migrate(_ pool: PGPool, logger: Logger) async throws -> [Migration] {
    let migrations = migrations
    let lockKey = lockKey
    return try await pool.withConnection { session in
      try Self.migrate(migrations, lockKey: lockKey, session: session, logger: logger)
    }
  }

  private static func migrate(
    _ migrations: [Migration], lockKey: Int64, session: PGSession, logger: Logger
  ) throws -> [Migration] {
    try session.query("SELECT pg_advisory_lock(\(lockKey))")
    defer {
      // Not stopped by cancellation; if even this fails, the connection is dropped, which
      // releases the lock with the session.
      if (try? session.core.execute("SELECT pg_advisory_unlock(\(lockKey))", checkCancel: false))
        == nil
      {
        session.core.markBroken()
      }
    }
    try session.executeScript(
      """
      CREATE TABLE IF NOT EXISTS schema_migrations (
        version    bigint      NOT NULL PRIMARY KEY,
        name       text        NOT NULL,
        checksum   text        NOT NULL,
        applied_at timestamptz NOT NULL DEFAULT now()
      )
      """)

    let byVersion = Dictionary(uniqueKeysWithValues: migrations.map { ($0.version, $0) })
    var applied: Set<Int> = []
    for row in try session.query(
      "SELECT version, name, checksum FROM schema_migrations ORDER BY version")
    {
      let version = try row.int(0) ?? 0
      let name = try row.string(1) ?? ""
      let checksum = try row.string(2) ?? ""
      guard let known = byVersion[version] else {
        throw MigrationError.unknownMigration(version: version, name: name)
      }
      guard known.checksum == checksum, known.name == name else {
        throw MigrationError.checksumMismatch(
          version: version, name: known.name, applied: checksum, current: known.checksum)
      }
      applied.insert(version)
    }

    let pending = migrations.filter { !applied.contains($0.version) }
    for migration in pending {
      do {
        try session.query("BEGIN")
        try session.executeScript(SQL(unsafeRaw: migration.sql))
        try session.query(
          """
          INSERT INTO schema_migrations (version, name, checksum)
          VALUES (\(migration.version), \(migration.name), \(migration.checksum))
          """)
        try session.query("COMMIT")
      } catch {
        if session.isInTransaction { session.core.rollbackOrMarkBroken() }
        if error.kind == .server {
          throw MigrationError.failed(
            version: migration.version, name: migration.name, error: String(reflecting: error))
        }
        throw error  // lost connection, cancellation: not the script's fault
      }
      logger.info("applied migration", metadata: ["db.migration": "\(migration.id)"])
    }
    if pending.isEmpty {
      logger.debug("schema up to date", metadata: ["db.migrations": "\(migrations.count)"])
    }
    return pending
  }
}
