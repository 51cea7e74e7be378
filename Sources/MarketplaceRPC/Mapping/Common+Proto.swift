import MarketplaceCore
import MarketplaceProtos
import RPCCore

extension RPCError {
  static func invalidArgument(_ message: String) -> RPCError {
    RPCError(code: .invalidArgument, message: message)
  }
}

/// Checks on request fields shared by every service; each error names the field.
enum Validate {
  /// A UUID, as ids are.
  static func id<Entity>(_ text: String, field: String, as: Identifier<Entity>.Type = Identifier<Entity>.self)
    throws(RPCError) -> Identifier<Entity>
  {
    guard !text.isEmpty else { throw .invalidArgument("\(field) is required") }
    guard let id = Identifier<Entity>(text) else { throw .invalidArgument("\(field) is not a UUID") }
    return id
  }

  /// Non-blank text of at most `maxBytes` UTF-8 bytes, trimmed of surrounding spaces.
  static func text(_ text: String, field: String, maxBytes: Int) throws(RPCError) -> String {
    let trimmed = text.trimmingASCIISpaces
    guard !trimmed.isEmpty else { throw .invalidArgument("\(field) is blank") }
    guard trimmed.utf8.count <= maxBytes else { throw .invalidArgument("\(field) is longer than \(maxBytes) bytes") }
    return trimmed
  }

  /// ISO 3166-1 alpha-2: two letters, upper-cased.
  static func countryCode(_ text: String, field: String) throws(RPCError) -> String {
    let upper = text.uppercased()
    guard upper.utf8.count == 2, upper.utf8.allSatisfy({ (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains($0) }) else {
      throw .invalidArgument("\(field) must be an ISO 3166-1 alpha-2 code such as \"FR\"")
    }
    return upper
  }
}

extension String {
  var trimmingASCIISpaces: String {
    let isSpace = { (c: Character) in c == " " || c == "\t" || c == "\n" || c == "\r" }
    guard let first = firstIndex(where: { !isSpace($0) }), let last = lastIndex(where: { !isSpace($0) }) else {
      return ""
    }
    return String(self[first...last])
  }
}

extension Marketplace_V1_LocalDate.View {
  func localDate(field: String) throws(RPCError) -> LocalDate {
    guard let date = LocalDate(year: Int(year), month: Int(month), day: Int(day)) else {
      throw .invalidArgument("\(field) is not a valid date (\(year)-\(month)-\(day))")
    }
    return date
  }
}

extension Marketplace_V1_DateRange.View {
  func dateRange(field: String) throws(RPCError) -> DateRange {
    guard let start, let end else { throw .invalidArgument("\(field) needs a start and an end") }
    let checkIn = try start.localDate(field: "\(field).start")
    let checkOut = try end.localDate(field: "\(field).end")
    guard let range = DateRange(checkIn: checkIn, checkOut: checkOut) else {
      throw .invalidArgument("\(field).end must be after \(field).start")
    }
    return range
  }
}

extension Marketplace_V1_Money.Builder {
  func fill(from money: Money) {
    amountMinor = money.amountMinor
    currency = money.currency.code
  }
}

extension Google_Protobuf_Timestamp.Builder {
  func fill(from timestamp: Timestamp) {
    let micros = timestamp.microsecondsSinceEpoch
    let (seconds, remainder) = micros.quotientAndRemainder(dividingBy: 1_000_000)
    // Timestamp's nanos are never negative: borrow a second before the epoch.
    self.seconds = remainder < 0 ? seconds - 1 : seconds
    nanos = Int32((remainder < 0 ? remainder + 1_000_000 : remainder) * 1_000)
  }
}
