/// An account. Guests book; hosts also list properties; admins moderate.
public struct User: Hashable, Sendable {
  public enum Role: String, Hashable, Sendable, CaseIterable {
    case guest, host, admin
  }

  public var id: UserID
  /// As registered (case kept); unique case-insensitively.
  public var email: String
  /// Argon2id PHC string; never leaves the server.
  public var passwordHash: String
  /// What hosts and guests see: 1 to 100 characters.
  public var displayName: String
  public var phone: String?
  public var role: Role
  public var createdAt: Timestamp
  public var updatedAt: Timestamp

  public init(
    id: UserID, email: String, passwordHash: String, displayName: String, phone: String?,
    role: Role, createdAt: Timestamp, updatedAt: Timestamp
  ) {
    self.id = id
    self.email = email
    self.passwordHash = passwordHash
    self.displayName = displayName
    self.phone = phone
    self.role = role
    self.createdAt = createdAt
    self.updatedAt = updatedAt
  }
}

/// A signed-in session: the bearer token's digest (never the token), its user and lifetime.
public struct AuthSession: Hashable, Sendable {
  public var id: AuthSessionID
  public var userID: UserID
  /// 32-byte digest of the bearer token.
  public var tokenHash: [UInt8]
  public var createdAt: Timestamp
  public var expiresAt: Timestamp
  public var revokedAt: Timestamp?

  public init(
    id: AuthSessionID, userID: UserID, tokenHash: [UInt8], createdAt: Timestamp,
    expiresAt: Timestamp, revokedAt: Timestamp?
  ) {
    self.id = id
    self.userID = userID
    self.tokenHash = tokenHash
    self.createdAt = createdAt
    self.expiresAt = expiresAt
    self.revokedAt = revokedAt
  }

  /// Whether the session authenticates requests at `now`.
  public func isActive(at now: Timestamp) -> Bool { revokedAt == nil && now < expiresAt }
}
