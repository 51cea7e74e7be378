/// Registration: who may open an account, with what.
///
/// The pattern every use case follows: a `Request` (the client's input as domain values, taken
/// from the proto view by the RPC layer, unchecked), a pure function that checks it against the
/// rules and returns what to do (here, the `Account` to create) or throws the domain's error,
/// and no I/O: the handler hashes, stores and answers.
public enum Register {
  public struct Request: Sendable {
    public var email: String
    public var password: String
    public var displayName: String
    public var phone: String
    public var role: Requested<User.Role>

    public init(
      email: String, password: String, displayName: String, phone: String, role: Requested<User.Role>
    ) {
      self.email = email
      self.password = password
      self.displayName = displayName
      self.phone = phone
      self.role = role
    }
  }

  /// The account to create: every field checked.
  public struct Account: Sendable {
    public var email: EmailAddress
    public var password: String
    public var displayName: String
    public var phone: String?
    public var role: User.Role
  }

  /// Every rule of registration; the `ValidationError` names each field that breaks one.
  public static func validate(_ request: Request) throws(ValidationError) -> Account {
    var violations = Violations()
    let email = violations.check("email") { () throws(RuleViolation) in try EmailAddress(validating: request.email) }
    let password = violations.check("password") { () throws(RuleViolation) in
      try AccountRules.password(request.password, email: email)
    }
    let displayName = violations.check("display_name") { () throws(RuleViolation) in
      try AccountRules.displayName(request.displayName)
    }
    let phone = violations.check("phone") { () throws(RuleViolation) in try AccountRules.phone(request.phone) }
    let role: User.Role?
    switch request.role {
    case .unspecified, .value(.guest): role = .guest
    case .value(.host): role = .host
    case .value(.admin):
      role = nil
      violations.add("role", "administrators are made by an operator, not through the API")
    case .unrecognized:
      role = nil
      violations.add("role", "must be ROLE_GUEST or ROLE_HOST")
    }
    try violations.throwIfAny()
    return Account(email: email!, password: password!, displayName: displayName!, phone: phone!, role: role!)
  }
}
