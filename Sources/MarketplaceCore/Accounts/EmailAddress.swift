/// An email address as an account holds it: trimmed of surrounding spaces, its domain in lower
/// case (domains are case-insensitive; the local part is kept as typed). Accounts compare
/// emails case-insensitively as a whole, as the database's unique index does.
public struct EmailAddress: Hashable, Sendable, CustomStringConvertible {
  /// RFC 5321's limit on a forward path.
  public static let maximumBytes = 254

  public let value: String

  /// A syntactic check, not a deliverability one: one "@", a local part of at most 64 bytes
  /// with no spaces or control characters, and a dotted domain of letters, digits and hyphens.
  public init(validating text: String) throws(RuleViolation) {
    let trimmed = text.trimmingSpaces
    guard !trimmed.isEmpty else { throw RuleViolation("is required") }
    guard trimmed.utf8.count <= Self.maximumBytes else {
      throw RuleViolation("must be at most \(Self.maximumBytes) bytes")
    }
    let parts = trimmed.split(separator: "@", omittingEmptySubsequences: false)
    guard parts.count == 2, let local = parts.first, let domain = parts.last else {
      throw RuleViolation("must be an address like name@example.com")
    }
    guard !local.isEmpty, local.utf8.count <= 64,
      local.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value != 0x7f })
    else { throw RuleViolation("must be an address like name@example.com") }
    let labels = domain.split(separator: ".", omittingEmptySubsequences: false)
    guard labels.count >= 2,
      labels.allSatisfy({ label in
        !label.isEmpty && label.utf8.count <= 63 && label.first != "-" && label.last != "-"
          && label.utf8.allSatisfy { $0.isASCIILetterOrDigit || $0 == UInt8(ascii: "-") }
      })
    else { throw RuleViolation("must be an address like name@example.com") }
    value = "\(local)@\(domain.lowercased())"
  }

  /// The key two addresses are compared by.
  public var comparisonKey: String { value.lowercased() }

  public var description: String { value }
}

extension UInt8 {
  var isASCIILetterOrDigit: Bool {
    (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(self) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(self)
      || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(self)
  }
}

extension StringProtocol {
  /// Without leading and trailing white space (Unicode's, which includes new lines).
  public var trimmingSpaces: String {
    guard let first = firstIndex(where: { !$0.isWhitespace }), let last = lastIndex(where: { !$0.isWhitespace })
    else { return "" }
    return String(self[first...last])
  }
}
