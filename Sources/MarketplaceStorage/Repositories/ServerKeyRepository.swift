public import Postgres

/// Secrets every server process on the database shares (0010_listing_terms.sql): read by primary key.
public enum ServerKeyRepository {
  /// Stores `candidate` as the key `name` unless one exists. Run with `key(named:)` in the same
  /// call: whichever process inserted first, every process then reads the same key.
  public static func insertIfAbsent(name: String, candidate: [UInt8]) -> PGQuery<Int> {
    PGQuery.execute("INSERT INTO server_keys (name, key) VALUES (\(name), \(candidate)) ON CONFLICT (name) DO NOTHING")
  }

  public static func key(named name: String) -> PGQuery<[UInt8]> {
    PGQuery("SELECT key FROM server_keys WHERE name = \(name)") {
      try $0.decodeOne { row throws(PGError) in try row.next([UInt8].self) }
    }
  }
}
