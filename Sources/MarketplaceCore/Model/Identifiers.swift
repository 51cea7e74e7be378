public import FoundationEssentials

/// The id of one `Entity`: a UUID, typed so that a `PropertyID` cannot be passed where a
/// `UserID` is meant.
public struct Identifier<Entity>: Hashable, Sendable, CustomStringConvertible {
  public var uuid: UUID

  public init(_ uuid: UUID) { self.uuid = uuid }

  /// A new random (version 4) id.
  public static func random() -> Self { Self(UUID()) }

  /// Parses the canonical text form (`4b9e…-…`, either case); nil if it is not a UUID.
  public init?(_ text: some StringProtocol) {
    guard let uuid = UUID(uuidString: String(text)) else { return nil }
    self.uuid = uuid
  }

  /// Lower case, as PostgreSQL prints uuids and as the API returns them.
  public var description: String { uuid.uuidString.lowercased() }
}

public typealias UserID = Identifier<User>
public typealias PropertyID = Identifier<Property>
public typealias BookingID = Identifier<Booking>
public typealias PaymentID = Identifier<Payment>
public typealias ReviewID = Identifier<Review>
public typealias AuthSessionID = Identifier<AuthSession>
