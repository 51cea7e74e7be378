internal import CLibPQ

/// One row of a `PGResult`. Columns are read by index; NULL reads as nil.
public struct PGRow: Sendable {
  public let result: PGResult
  public let index: Int

  /// Whether column `column` is NULL.
  public func isNull(_ column: Int) -> Bool {
    result.checkColumn(column)
    return PQgetisnull(result.pointer, Int32(index), Int32(column)) != 0
  }

  /// Column `column` as a `T`, or nil when it is NULL.
  public func decode<T: PGDecodable>(_ column: Int, as type: T.Type = T.self) throws(PGError) -> T? {
    guard !isNull(column) else { return nil }
    let row = Int32(index)
    let field = Int32(column)
    let length = Int(PQgetlength(result.pointer, row, field))
    let bytes = UnsafeRawBufferPointer(start: PQgetvalue(result.pointer, row, field), count: length)
    do {
      return try T(pgText: bytes, type: result.columnType(column))
    } catch {
      var error = error
      error.message = "column \(column) (\(result.columnName(column))): " + error.message
      throw error
    }
  }

  /// Any column in its text form: dates ("2025-07-01"), timestamps, numerics, uuids, ...
  public func string(_ column: Int) throws(PGError) -> String? { try decode(column) }
  /// An int2, int4 or int8 column.
  public func int64(_ column: Int) throws(PGError) -> Int64? { try decode(column) }
  /// An int2 or int4 column (or an int8 whose value fits).
  public func int32(_ column: Int) throws(PGError) -> Int32? { try decode(column) }
  /// An integer column as `Int`.
  public func int(_ column: Int) throws(PGError) -> Int? { try decode(column) }
  /// A bool column.
  public func bool(_ column: Int) throws(PGError) -> Bool? { try decode(column) }
  /// A float4, float8, numeric or integer column.
  public func double(_ column: Int) throws(PGError) -> Double? { try decode(column) }
  /// A bytea column.
  public func bytes(_ column: Int) throws(PGError) -> [UInt8]? { try decode(column) }

  /// A uuid column, in PostgreSQL's text form (lower case, with hyphens).
  public func uuid(_ column: Int) throws(PGError) -> String? {
    guard result.columnType(column) == .uuid else {
      throw PGError(.decoding, "column \(column) (\(result.columnName(column))) is not a uuid")
    }
    return try decode(column)
  }
}
