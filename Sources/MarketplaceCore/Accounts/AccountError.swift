/// Why an account operation was refused, in the domain's words (the RPC edge maps each to a
/// status).
public enum AccountError: Error, Hashable, Sendable {
  /// Another account has this email (compared case-insensitively).
  case emailTaken
  /// Sign-in with an unknown email or a wrong password: one case, so the answer never tells
  /// which.
  case invalidCredentials
  /// ChangePassword with a current password that is not the account's.
  case wrongCurrentPassword
  /// Too many failed attempts for this email or from this address; try again after the delay.
  case throttled(retryAfter: Duration)
  /// The signed-in account no longer exists.
  case accountNotFound
}
