/// One schema migration: a numbered SQL script, applied once, in version order, by `Migrator`.
public struct Migration: Sendable, Hashable {
  /// The number that orders migrations (the `NNNN` of `NNNN_name.sql`).
  public let version: Int
  /// The snake_case name after the number.
  public let name: String
  /// The script (several statements; no BEGIN/COMMIT: the migrator wraps it in a transaction).
  public let sql: String
  /// SHA-256 of the script's UTF-8 bytes, in hex: what `schema_migrations` records, so that a
  /// migration edited after it was applied is detected.
  public let checksum: String

  public init(version: Int, name: String, sql: String) {
    self.version = version
    self.name = name
    self.sql = sql
    self.checksum = SHA256.hexDigest(sql.utf8)
  }

  /// A migration from its file: `fileName` is `NNNN_snake_name.sql` (digits, an underscore, a
  /// name of lower-case letters, digits and underscores).
  public init(fileName: String, contents: String) throws(MigrationError) {
    guard fileName.hasSuffix(".sql"),
      let underscore = fileName.firstIndex(of: "_"),
      case let digits = fileName[..<underscore],
      !digits.isEmpty, digits.allSatisfy(\.isASCIINumber), let version = Int(digits)
    else {
      throw .invalidFileName(fileName)
    }
    let name = fileName[fileName.index(after: underscore)...].dropLast(4)
    guard !name.isEmpty,
      name.allSatisfy({ $0 == "_" || ($0.isASCII && ($0.isLowercase || $0.isNumber)) })
    else {
      throw .invalidFileName(fileName)
    }
    self.init(version: version, name: String(name), sql: contents)
  }

  /// `NNNN_name`, as in the file name.
  public var id: String { Self.id(version: version, name: name) }

  static func id(version: Int, name: String) -> String {
    let digits = String(version)
    return String(repeating: "0", count: max(0, 4 - digits.count)) + digits + "_" + name
  }
}

extension Character {
  fileprivate var isASCIINumber: Bool { isASCII && isNumber }
}

/// Why migrating refused or failed. Each message names the migration concerned.
public enum MigrationError: Error, Sendable, Hashable, CustomStringConvertible {
  /// A migration file is not named `NNNN_snake_name.sql`.
  case invalidFileName(String)
  /// Two migrations share a version.
  case duplicateVersion(Int)
  /// The database has a migration this program does not know: it is newer than the program.
  case unknownMigration(version: Int, name: String)
  /// A migration was changed (or renamed) after it was applied.
  case checksumMismatch(version: Int, name: String, applied: String, current: String)
  /// A migration's script failed; it was rolled back. `error` is the PGError's debug description.
  case failed(version: Int, name: String, error: String)

  public var description: String {
    switch self {
    case .invalidFileName(let file):
      "migration file '\(file)' is not named NNNN_snake_name.sql"
    case .duplicateVersion(let version):
      "two migrations have version \(version)"
    case .unknownMigration(let version, let name):
      "the database has migration \(Migration.id(version: version, name: name)), which this program "
        + "does not know: it was migrated by a newer version; refusing to run against it"
    case .checksumMismatch(let version, let name, let applied, let current):
      "migration \(Migration.id(version: version, name: name)) changed after it was applied "
        + "(applied checksum \(applied.prefix(12))…, now \(current.prefix(12))…); applied migrations "
        + "must never be edited: add a new one"
    case .failed(let version, let name, _):
      "migration \(Migration.id(version: version, name: name)) failed and was rolled back"
    }
  }
}
