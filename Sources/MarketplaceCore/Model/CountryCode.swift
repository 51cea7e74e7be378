/// An ISO 3166-1 alpha-2 country code: two letters, upper-cased.
public struct CountryCode: Hashable, Sendable {
  public let code: String

  public init(validating text: String) throws(RuleViolation) {
    let upper = text.trimmingSpaces.uppercased()
    guard upper.utf8.count == 2, upper.utf8.allSatisfy({ (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains($0) }) else {
      throw RuleViolation("must be an ISO 3166-1 alpha-2 code such as \"FR\"")
    }
    code = upper
  }
}
