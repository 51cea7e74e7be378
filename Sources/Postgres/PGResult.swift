internal import CLibPQ
import Glibc

/// The rows a statement returned (text format), plus its command tag.
///
/// Owns the libpq `PGresult` and frees it when the last reference goes. A collection of `PGRow`.
// @unchecked Sendable: a PGresult is read-only once created, and libpq documents that results
// may be passed between threads freely; `pointer` is only freed in deinit.
public final class PGResult: @unchecked Sendable, RandomAccessCollection {
  let pointer: OpaquePointer
  /// Rows returned (0 for commands without rows).
  public let count: Int
  /// Columns per row.
  public let columnCount: Int

  /// Takes ownership of `pointer`, a successful PGresult.
  init(taking pointer: OpaquePointer) {
    self.pointer = pointer
    count = Int(PQntuples(pointer))
    columnCount = Int(PQnfields(pointer))
  }

  deinit { PQclear(pointer) }

  public var startIndex: Int { 0 }
  public var endIndex: Int { count }

  public subscript(position: Int) -> PGRow {
    precondition(position >= 0 && position < count, "row \(position) out of range 0..<\(count)")
    return PGRow(result: self, index: position)
  }

  /// Rows inserted, updated, deleted, selected, ... (PQcmdTuples), or 0 when the command has no count.
  public var rowsAffected: Int {
    let digits = PQcmdTuples(pointer)!
    return Int(Int64.parseDecimal(UnsafeRawBufferPointer(start: digits, count: strlen(digits))) ?? 0)
  }

  /// The command tag, e.g. `INSERT 0 1` or `UPDATE 3`.
  public var commandTag: String { String(cString: PQcmdStatus(pointer)) }

  /// The name of column `column`.
  public func columnName(_ column: Int) -> String {
    checkColumn(column)
    return String(cString: PQfname(pointer, Int32(column)))
  }

  /// The type of column `column`.
  public func columnType(_ column: Int) -> PGTypeOID {
    checkColumn(column)
    return PGTypeOID(PQftype(pointer, Int32(column)))
  }

  /// The index of the column named `name`, if there is one.
  public func columnIndex(named name: String) -> Int? {
    (0..<columnCount).first { columnName($0) == name }
  }

  func checkColumn(_ column: Int) {
    precondition(
      column >= 0 && column < columnCount, "column \(column) out of range 0..<\(columnCount)")
  }
}
