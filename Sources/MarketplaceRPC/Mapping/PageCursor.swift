import Credentials
import FoundationEssentials
import MarketplaceCore
import MarketplaceStorage

/// A keyset cursor that travels inside a page token (`PageTokens`): its fields as bytes.
protocol PageCursor {
  var bytes: [UInt8] { get }
  init?(bytes: [UInt8])
}

extension PageTokens {
  /// `next_page_token` for a page that ended at `cursor`, on the query `query`.
  func token(for cursor: some PageCursor, query: String) -> String {
    seal(cursor.bytes, query: query)
  }

  /// The cursor of a `page_token`, or INVALID_ARGUMENT when it is not one this server issued for
  /// `query` (forged, edited, or from another query).
  func cursor<Cursor: PageCursor>(_ token: String, query: String, as: Cursor.Type = Cursor.self)
    throws(ValidationError) -> Cursor
  {
    guard let bytes = open(token, query: query), let cursor = Cursor(bytes: bytes) else {
      throw ValidationError(field: "page_token", rule: "is not a token this server issued for this query")
    }
    return cursor
  }
}

/// A cursor of a sort key that fits 64 bits and an id: 24 bytes.
protocol KeyAndIDCursor: PageCursor {
  var sortKey: Int64 { get }
  var uuid: UUID { get }
  init(sortKey: Int64, uuid: UUID)
}

extension KeyAndIDCursor {
  var bytes: [UInt8] { CursorBytes.int64(sortKey) + CursorBytes.uuid(uuid) }

  init?(bytes: [UInt8]) {
    guard bytes.count == 24 else { return nil }
    self.init(sortKey: CursorBytes.int64(bytes[0..<8]), uuid: CursorBytes.uuid(bytes[8..<24]))
  }
}

extension PropertyRepository.HostCursor: KeyAndIDCursor {
  var sortKey: Int64 { createdAt.microsecondsSinceEpoch }
  var uuid: UUID { id.uuid }
  init(sortKey: Int64, uuid: UUID) { self.init(createdAt: Timestamp(microsecondsSinceEpoch: sortKey), id: .init(uuid)) }
}

extension PaymentRepository.Cursor: KeyAndIDCursor {
  var sortKey: Int64 { createdAt.microsecondsSinceEpoch }
  var uuid: UUID { id.uuid }
  init(sortKey: Int64, uuid: UUID) { self.init(createdAt: Timestamp(microsecondsSinceEpoch: sortKey), id: .init(uuid)) }
}

extension Review.Cursor: KeyAndIDCursor {
  var sortKey: Int64 { createdAt.microsecondsSinceEpoch }
  var uuid: UUID { id.uuid }
  init(sortKey: Int64, uuid: UUID) { self.init(createdAt: Timestamp(microsecondsSinceEpoch: sortKey), id: .init(uuid)) }
}

extension BookingRepository.Cursor: KeyAndIDCursor {
  var sortKey: Int64 { Int64(checkIn.daysSinceEpoch) }
  var uuid: UUID { id.uuid }
  init(sortKey: Int64, uuid: UUID) { self.init(checkIn: LocalDate(daysSinceEpoch: Int(sortKey)), id: .init(uuid)) }
}

/// Fixed-width fields of cursors, big-endian.
enum CursorBytes {
  static func int64(_ value: Int64) -> [UInt8] { withUnsafeBytes(of: value.bigEndian, Array.init) }

  static func int64(_ bytes: ArraySlice<UInt8>) -> Int64 {
    bytes.reduce(0) { $0 << 8 | Int64($1) }
  }

  static func uuid(_ uuid: UUID) -> [UInt8] { withUnsafeBytes(of: uuid.uuid, Array.init) }

  static func uuid(_ bytes: ArraySlice<UInt8>) -> UUID {
    let b = Array(bytes)
    return UUID(
      uuid: (b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]))
  }
}
