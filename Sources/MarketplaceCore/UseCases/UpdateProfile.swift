/// Changing one's own profile through an update mask (Google AIP-134).
public enum UpdateProfile {
  /// The fields the mask may name.
  public enum Field: String, CaseIterable, Sendable {
    case displayName = "display_name"
    case phone
  }

  /// Fields of a user that exist but cannot change here.
  static let immutableFields: Set<String> = ["id", "email", "role", "created_at", "updated_at"]

  public struct Request: Sendable {
    public var mask: [String]
    public var displayName: String
    public var phone: String

    public init(mask: [String], displayName: String, phone: String) {
      self.mask = mask
      self.displayName = displayName
      self.phone = phone
    }
  }

  /// What to change: nil leaves a field as it is. `fields` lists the applied paths in mask
  /// order (empty: nothing to change).
  public struct Change: Sendable, Equatable {
    public var displayName: String?
    /// `.some(nil)` removes the phone.
    public var phone: String??
    public var fields: [Field]

    public var isEmpty: Bool { fields.isEmpty }

    /// `user` with the change applied.
    public func applied(to user: User) -> User {
      var user = user
      if let displayName { user.displayName = displayName }
      if let phone { user.phone = phone }
      return user
    }
  }

  public static func validate(_ request: Request) throws(ValidationError) -> Change {
    var violations = Violations()
    var change = Change(displayName: nil, phone: nil, fields: [])
    for path in request.mask {
      guard let field = Field(rawValue: path) else {
        violations.add(
          "update_mask",
          immutableFields.contains(path)
            ? "\"\(path)\" cannot be changed here"
            : "unknown field \"\(path)\"; allowed: \(Field.allCases.map(\.rawValue).joined(separator: ", "))")
        continue
      }
      guard !change.fields.contains(field) else { continue }
      change.fields.append(field)
      switch field {
      case .displayName:
        change.displayName = violations.check("user.display_name") { () throws(RuleViolation) in
          try AccountRules.displayName(request.displayName)
        }
      case .phone:
        if let phone = violations.check(
          "user.phone", { () throws(RuleViolation) in try AccountRules.phone(request.phone) })
        {
          change.phone = .some(phone)
        }
      }
    }
    try violations.throwIfAny()
    return change
  }
}
