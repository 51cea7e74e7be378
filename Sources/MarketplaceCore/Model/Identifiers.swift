public import FoundationEssentials

/// The id of one `Entity`: a UUID, typed so that a `PropertyID` cannot be passed where a
/// `UserID` is meant.
public struct Identifier<Entity>: Hashable, Sendable, CustomStringConvertible {
  public var uuid: UUID

  public init(_ uuid: UUID) { self.uuid = uuid }

  /// A new random (version 4) id.
  public static func random() -> Self { Self(UUID()) }

  /// Parses the canonical text form (`4b9e…-…`, 8-4-4-4-12 hex digits, either case); nil
  /// otherwise. Hand-written: Foundation's parser goes through sscanf, several times slower, and
  /// every request and row carries ids.
  public init?(_ text: String) {
    var text = text
    guard let id = text.withUTF8({ Self(utf8: UnsafeRawBufferPointer($0)) }) else { return nil }
    self = id
  }

  public init?(_ text: Substring) { self.init(String(text)) }

  /// Parses the canonical text form from UTF-8 bytes (a database column, say).
  public init?(utf8 text: UnsafeRawBufferPointer) {
    guard let bytes = UUIDText.parse(text) else { return nil }
    uuid = UUID(uuid: bytes)
  }

  /// Lower case, as PostgreSQL prints uuids and as the API returns them.
  public var description: String { UUIDText.format(uuid.uuid) }
}

/// A UUID's canonical text, parsed and printed by hand, outside `Identifier`'s generic context:
/// called from other modules, generic code runs unspecialized, and every row carries ids.
enum UUIDText {
  /// Where the dashes stand in `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx`.
  private static func isDash(_ position: Int) -> Bool {
    position == 8 || position == 13 || position == 18 || position == 23
  }

  static func parse(_ text: UnsafeRawBufferPointer) -> uuid_t? {
    let dash = UInt8(ascii: "-")
    guard text.count == 36, text[8] == dash, text[13] == dash, text[18] == dash, text[23] == dash else {
      return nil
    }
    var bytes: uuid_t = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
    var invalid: UInt8 = 0
    withUnsafeMutableBytes(of: &bytes) { out in
      var position = 0
      for index in 0..<16 {
        if isDash(position) { position += 1 }
        out[index] = nibble(text[position], &invalid) << 4 | nibble(text[position + 1], &invalid)
        position += 2
      }
    }
    return invalid == 0 ? bytes : nil
  }

  /// One hex digit's value, either case; sets `invalid` to 1 for anything else. Without
  /// branches: the digits of a random id mix numbers and letters unpredictably, so a branch per
  /// digit is often mispredicted (the parse was 1.6% of a cached GetProperty's CPU).
  @inline(__always)
  private static func nibble(_ character: UInt8, _ invalid: inout UInt8) -> UInt8 {
    let digit = character &- UInt8(ascii: "0")
    let letter = (character | 0x20) &- UInt8(ascii: "a") &+ 10  // 'A'...'F' folded to lower case
    let isDigit: UInt8 = digit < 10 ? 1 : 0
    let isLetter: UInt8 = letter &- 10 < 6 ? 1 : 0
    invalid |= 1 &- (isDigit | isLetter)
    return isDigit == 1 ? digit : letter
  }

  static func format(_ uuid: uuid_t) -> String {
    withUnsafeBytes(of: uuid) { bytes in
      String(unsafeUninitializedCapacity: 36) { out in
        var position = 0
        for byte in bytes {
          if isDash(position) {
            out[position] = UInt8(ascii: "-")
            position += 1
          }
          out[position] = hexDigit(byte >> 4)
          out[position + 1] = hexDigit(byte & 0x0f)
          position += 2
        }
        return position
      }
    }
  }

  private static func hexDigit(_ nibble: UInt8) -> UInt8 {
    nibble < 10 ? UInt8(ascii: "0") + nibble : UInt8(ascii: "a") + nibble - 10
  }
}

public typealias UserID = Identifier<User>
public typealias PropertyID = Identifier<Property>
public typealias BookingID = Identifier<Booking>
public typealias PaymentID = Identifier<Payment>
public typealias ReviewID = Identifier<Review>
public typealias AuthSessionID = Identifier<AuthSession>
