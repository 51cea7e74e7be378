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
    guard text.count == 36 else { return nil }
    var bytes:
      (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
        (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
    let parsed = withUnsafeMutableBytes(of: &bytes) { out in
      var count = 0
      for (position, character) in text.enumerated() {
        if position == 8 || position == 13 || position == 18 || position == 23 {
          guard character == UInt8(ascii: "-") else { return false }
          continue
        }
        guard let nibble = Self.hexValue(character) else { return false }
        out[count / 2] = count % 2 == 0 ? nibble << 4 : out[count / 2] | nibble
        count += 1
      }
      return true
    }
    guard parsed else { return nil }
    uuid = UUID(uuid: bytes)
  }

  /// Lower case, as PostgreSQL prints uuids and as the API returns them.
  public var description: String {
    withUnsafeBytes(of: uuid.uuid) { bytes in
      String(unsafeUninitializedCapacity: 36) { out in
        var index = 0
        for (offset, byte) in bytes.enumerated() {
          if offset == 4 || offset == 6 || offset == 8 || offset == 10 {
            out[index] = UInt8(ascii: "-")
            index += 1
          }
          out[index] = Self.hexDigit(byte >> 4)
          out[index + 1] = Self.hexDigit(byte & 0x0f)
          index += 2
        }
        return index
      }
    }
  }

  private static func hexDigit(_ nibble: UInt8) -> UInt8 {
    nibble < 10 ? UInt8(ascii: "0") + nibble : UInt8(ascii: "a") + nibble - 10
  }

  private static func hexValue(_ character: UInt8) -> UInt8? {
    switch character {
    case UInt8(ascii: "0")...UInt8(ascii: "9"): character - UInt8(ascii: "0")
    case UInt8(ascii: "a")...UInt8(ascii: "f"): character - UInt8(ascii: "a") + 10
    case UInt8(ascii: "A")...UInt8(ascii: "F"): character - UInt8(ascii: "A") + 10
    default: nil
    }
  }
}

public typealias UserID = Identifier<User>
public typealias PropertyID = Identifier<Property>
public typealias BookingID = Identifier<Booking>
public typealias PaymentID = Identifier<Payment>
public typealias ReviewID = Identifier<Review>
public typealias AuthSessionID = Identifier<AuthSession>
