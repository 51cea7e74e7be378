import Foundation
public import Postgres

/// The marketplace's schema: the `NNNN_name.sql` migrations shipped in this target's
/// `Migrations` resource folder, for `Migrator`.
public enum MarketplaceSchema {
  /// Why the shipped migrations could not be read.
  public struct LoadError: Error, CustomStringConvertible {
    public var description: String
  }

  /// Every migration, in version order.
  public static func migrations() throws -> [Migration] {
    guard let folder = Bundle.module.url(forResource: "Migrations", withExtension: nil) else {
      throw LoadError(description: "the Migrations resource folder is missing from the bundle")
    }
    let files = try FileManager.default.contentsOfDirectory(atPath: folder.path)
      .filter { $0.hasSuffix(".sql") }
      .sorted()
    return try files.map { file in
      let contents = try String(contentsOf: folder.appendingPathComponent(file), encoding: .utf8)
      return try Migration(fileName: file, contents: contents)
    }
  }

  /// A migrator for `migrations()`.
  public static func migrator() throws -> Migrator {
    try Migrator(migrations: migrations())
  }
}
