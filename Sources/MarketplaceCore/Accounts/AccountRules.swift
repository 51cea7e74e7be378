/// The rules for what a person types into an account: password, display name, phone.
public enum AccountRules {
  public static let minimumPasswordScalars = 10
  /// Bounds the hashing work one request can ask for.
  public static let maximumPasswordBytes = 1024
  public static let maximumDisplayNameCharacters = 100
  public static let maximumPhoneCharacters = 32

  /// A password: at least 10 Unicode scalars, at most 1,024 bytes of UTF-8, not the email.
  public static func password(_ password: String, email: EmailAddress?) throws(RuleViolation) -> String {
    guard password.unicodeScalars.count >= minimumPasswordScalars else {
      throw RuleViolation("must be at least \(minimumPasswordScalars) characters")
    }
    guard password.utf8.count <= maximumPasswordBytes else {
      throw RuleViolation("must be at most \(maximumPasswordBytes) bytes")
    }
    if let email, password.lowercased() == email.comparisonKey {
      throw RuleViolation("must not be the email address")
    }
    return password
  }

  /// A display name: 1 to 100 characters once surrounding spaces are removed, no control
  /// characters.
  public static func displayName(_ text: String) throws(RuleViolation) -> String {
    let name = text.trimmingSpaces
    guard !name.isEmpty else { throw RuleViolation("is required") }
    guard name.count <= maximumDisplayNameCharacters else {
      throw RuleViolation("must be at most \(maximumDisplayNameCharacters) characters")
    }
    guard !name.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
      throw RuleViolation("must not contain control characters")
    }
    return name
  }

  /// An optional phone number: empty for none, else up to 32 characters of digits, spaces and
  /// "+-()" with at least one digit.
  public static func phone(_ text: String) throws(RuleViolation) -> String? {
    let phone = text.trimmingSpaces
    guard !phone.isEmpty else { return nil }
    guard phone.count <= maximumPhoneCharacters,
      phone.utf8.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) || " +-()".utf8.contains($0) }),
      phone.utf8.contains(where: { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) })
    else { throw RuleViolation("must be up to \(maximumPhoneCharacters) digits, spaces and \"+-()\"") }
    return phone
  }
}
