/// Changing one's password: the new one follows registration's rules and differs from the
/// current one. (Verifying the current one is the handler's: it needs the stored hash.)
public enum ChangePassword {
  public struct Request: Sendable {
    public var currentPassword: String
    public var newPassword: String

    public init(currentPassword: String, newPassword: String) {
      self.currentPassword = currentPassword
      self.newPassword = newPassword
    }
  }

  /// The new password to hash, once `user` (the caller's account) is known.
  public static func validate(_ request: Request, for user: User) throws(ValidationError) -> String {
    var violations = Violations()
    if request.currentPassword.isEmpty { violations.add("current_password", "is required") }
    if request.currentPassword.utf8.count > AccountRules.maximumPasswordBytes {
      violations.add("current_password", "must be at most \(AccountRules.maximumPasswordBytes) bytes")
    }
    let email = try? EmailAddress(validating: user.email)
    let newPassword = violations.check("new_password") { () throws(RuleViolation) in
      try AccountRules.password(request.newPassword, email: email)
    }
    if newPassword != nil, request.newPassword == request.currentPassword {
      violations.add("new_password", "must differ from the current password")
    }
    try violations.throwIfAny()
    return newPassword!
  }
}
