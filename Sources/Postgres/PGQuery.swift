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
  public private(set) var sql: SQL
  private let reader: @Sendable (PGResult) throws -> Result
  /// The errors that stand for an integrity violation of a named constraint (see
  /// `onViolation(of:throw:)`).
  private var constraintErrors: [(constraint: String, error: any Error & Sendable)] = []

  /// Where the query was built: the file and function of the repository method that returns it
  /// ("MarketplaceStorage/UserRepository.swift", "find(id:)"). Lets a test check that every
  /// repository method's statement was exercised.
  public let origin: (file: StaticString, function: StaticString)

  /// `decode` reads the statement's result; what it throws other than a `PGError` becomes one of
  /// kind `.decoding`.
  public init(
    _ sql: SQL, file: StaticString = #fileID, function: StaticString = #function,
    decode: @escaping @Sendable (PGResult) throws -> Result
  ) {
    self.sql = sql
    self.reader = decode
    self.origin = (file, function)
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

extension PGQuery {
  /// This query, reporting a violation of `constraint` as `error` (a domain error such as "email
  /// taken") instead of a `PGError`. Only integrity violations (SQLSTATE class 23: unique,
  /// exclusion, foreign key, check) are mapped, so serialization failures and deadlocks still
  /// reach the retry logic as themselves.
  ///
  /// ```swift
  /// PGQuery(insert) { ... }.onViolation(of: "users_email_key", throw: AccountError.emailTaken)
  /// ```
  public func onViolation(of constraint: String, throw error: any Error & Sendable) -> PGQuery {
    var query = self
    query.constraintErrors.append((constraint, error))
    return query
  }

  /// This query, planned for its values at every execution (`SQL.isPlannedPerExecution`).
  public func plannedPerExecution() -> PGQuery {
    var query = self
    query.sql.isPlannedPerExecution = true
    return query
  }

  /// The error `error` stands for, if it is a violation of a constraint this query maps.
  public func mappedError(for error: PGError) -> (any Error & Sendable)? {
    guard error.kind == .server, error.sqlState?.errorClass == "23", let name = error.constraint else { return nil }
    return constraintErrors.first { $0.constraint == name }?.error
  }
}

extension PGQuery where Result == Int {
  /// A statement run for its effect: the rows it inserted, updated or deleted.
  public static func execute(_ sql: SQL, file: StaticString = #fileID, function: StaticString = #function)
    -> PGQuery<Int>
  {
    PGQuery(sql, file: file, function: function) { $0.rowsAffected }
  }
}

extension PGQuery where Result == PGResult {
  /// A statement whose raw rows the caller reads itself.
  public static func rows(_ sql: SQL, file: StaticString = #fileID, function: StaticString = #function)
    -> PGQuery<PGResult>
  {
    PGQuery(sql, file: file, function: function) { $0 }
  }
}

extension PGSession {
  /// Runs `query` on this (tool's) session and decodes its result.
  public func run<T>(_ query: PGQuery<T>) throws(PGError) -> T {
    try query.decode(try self.query(query.sql))
  }
}
