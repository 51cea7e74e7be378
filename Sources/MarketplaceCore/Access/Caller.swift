/// Who makes a call: resolved once per call from its bearer token, before the handler runs.
public enum Caller: Hashable, Sendable {
  /// No `authorization` metadata: public reads, registration and sign-in only.
  case anonymous
  case user(Principal)

  /// The signed-in user, or `AuthenticationError` for an anonymous call.
  public func signedIn() throws(AuthenticationError) -> Principal {
    guard case .user(let principal) = self else { throw AuthenticationError() }
    return principal
  }
}

/// A signed-in user as the rules see them: who, in which role, through which session.
public struct Principal: Hashable, Sendable {
  public var userID: UserID
  public var role: User.Role
  /// The session the call's token belongs to (Logout ends this one).
  public var sessionID: AuthSessionID

  public init(userID: UserID, role: User.Role, sessionID: AuthSessionID) {
    self.userID = userID
    self.role = role
    self.sessionID = sessionID
  }
}

/// The call needs a signed-in user and has none: no token, or one that is malformed, unknown,
/// expired or revoked. Deliberately one case: the answer never says which.
public struct AuthenticationError: Error, Hashable, Sendable {
  public init() {}
}
