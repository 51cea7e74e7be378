/// One statement and how to read what it returns: what repositories build and clients run.
///
/// A query is a value: it runs only when handed to a `PGClient` (`run`, `transaction`), a
/// `PGTransaction` inside `PGClient.withTransaction`, or a tool's `PGSession`; nothing can send
/// a statement outside one of those. Its `decode` runs once, where the result arrives (the
/// client's I/O thread), and the caller gets the typed value.
///
/// ```swift
/// static func find(id: PropertyID) -> PGQuery<Property?> {
///   PGQuery(select + " WHERE p.id = \(id)") { try $0.decodeFirst(decode) }
/// }
/// let property = try await client.run(PropertyQueries.find(id: id), deadline: deadline)
/// ```
public struct PGQuery<Result: Sendable>: Sendable {
  /// The statement, its values bound.
  public let sql: SQL
  private let reader: @Sendable (PGResult) throws -> Result

  /// `decode` reads the statement's result; what it throws other than a `PGError` becomes one of
  /// kind `.decoding`.
  public init(_ sql: SQL, decode: @escaping @Sendable (PGResult) throws -> Result) {
    self.sql = sql
    self.reader = decode
  }

  /// Reads the statement's result.
  public func decode(_ result: PGResult) throws(PGError) -> Result {
    do {
      return try reader(result)
    } catch let error as PGError {
      throw error
    } catch {
      throw PGError(.decoding, "could not read the result of \(sql.logSummary): \(type(of: error))")
    }
  }
}

extension PGQuery where Result == Int {
  /// A statement run for its effect: the rows it inserted, updated or deleted.
  public static func execute(_ sql: SQL) -> PGQuery<Int> {
    PGQuery(sql) { $0.rowsAffected }
  }
}

extension PGQuery where Result == PGResult {
  /// A statement whose raw rows the caller reads itself.
  public static func rows(_ sql: SQL) -> PGQuery<PGResult> {
    PGQuery(sql) { $0 }
  }
}

extension PGSession {
  /// Runs `query` on this (tool's) session and decodes its result.
  public func run<T>(_ query: PGQuery<T>) throws(PGError) -> T {
    try query.decode(try self.query(query.sql))
  }
}
