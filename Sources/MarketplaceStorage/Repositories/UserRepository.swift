public import MarketplaceCore
public import Postgres

/// Accounts and their sessions. Each method builds one statement (a `PGQuery`), which a
/// `PGClient` (the request path), a `PGTransaction` or a tool's `PGSession` runs as a prepared
/// statement; the index each one uses is named in 0002_users_sessions.sql.
public enum UserRepository {
  static let columns =
    "id, email, password_hash, display_name, phone, role, created_at, updated_at"
  static let select = SQL(unsafeRaw: "SELECT \(columns) FROM users")
  static let returning = SQL(unsafeRaw: " RETURNING \(columns)")

  static func decode(_ row: inout ColumnReader) throws(PGError) -> User {
    User(
      id: try row.next(), email: try row.next(), passwordHash: try row.next(),
      displayName: try row.next(), phone: try row.optional(), role: try row.value(),
      createdAt: try row.next(), updatedAt: try row.next())
  }

  /// Registers an account. An email taken case-insensitively (23505 on `users_email_key`) is
  /// `AccountError.emailTaken`.
  public static func insert(
    id: UserID, email: String, passwordHash: String, displayName: String, phone: String?,
    role: User.Role
  ) -> PGQuery<User> {
    PGQuery(
      """
      INSERT INTO users (id, email, password_hash, display_name, phone, role)
      VALUES (\(id), \(email), \(passwordHash), \(displayName), \(phone), \(role.rawValue))
      """ + Self.returning
    ) { try $0.decodeOne(Self.decode) }
    .onViolation(of: "users_email_key", throw: AccountError.emailTaken)
  }

  /// Replaces the password hash (a new password, or a rehash at stronger settings); nil if there
  /// is no such user.
  public static func updatePasswordHash(id: UserID, passwordHash: String) -> PGQuery<User?> {
    PGQuery(
      "UPDATE users SET password_hash = \(passwordHash), updated_at = now() WHERE id = \(id)" + Self.returning
    ) { try $0.decodeFirst(Self.decode) }
  }

  public static func find(id: UserID) -> PGQuery<User?> {
    PGQuery(Self.select + " WHERE id = \(id)") { try $0.decodeFirst(Self.decode) }
  }

  /// Sign-in: the account whose email matches case-insensitively.
  public static func find(email: String) -> PGQuery<User?> {
    PGQuery(
      Self.select + " WHERE lower(email) = lower(\(email))"
    ) { try $0.decodeFirst(Self.decode) }
  }

  /// Replaces the profile's display name and phone; nil if there is no such user.
  public static func updateProfile(id: UserID, displayName: String, phone: String?) -> PGQuery<User?> {
    PGQuery(
      """
      UPDATE users SET display_name = \(displayName), phone = \(phone), updated_at = now()
      WHERE id = \(id)
      """ + Self.returning
    ) { try $0.decodeFirst(Self.decode) }
  }

  /// Changes the role (a guest becoming a host); nil if there is no such user.
  public static func updateRole(id: UserID, role: User.Role) -> PGQuery<User?> {
    PGQuery(
      "UPDATE users SET role = \(role.rawValue), updated_at = now() WHERE id = \(id)"
        + Self.returning
    ) { try $0.decodeFirst(Self.decode) }
  }

  // MARK: sessions

  static let sessionColumns = "id, user_id, token_hash, created_at, expires_at, revoked_at"
  static let sessionReturning = SQL(unsafeRaw: " RETURNING \(sessionColumns)")

  static func decodeSession(_ row: inout ColumnReader) throws(PGError) -> AuthSession {
    AuthSession(
      id: try row.next(), userID: try row.next(), tokenHash: try row.next(),
      createdAt: try row.next(), expiresAt: try row.next(), revokedAt: try row.optional())
  }

  public static func insertSession(
    id: AuthSessionID, userID: UserID, tokenHash: [UInt8], expiresAt: Timestamp
  ) -> PGQuery<AuthSession> {
    PGQuery(
      """
      INSERT INTO sessions (id, user_id, token_hash, expires_at)
      VALUES (\(id), \(userID), \(tokenHash), \(expiresAt))
      """ + Self.sessionReturning
    ) { try $0.decodeOne(Self.decodeSession) }
  }

  /// Authentication of a request: the session of this token digest with its user, if the
  /// session is neither expired nor revoked.
  public static func activeSession(tokenHash: [UInt8]) -> PGQuery<(AuthSession, User)?> {
    PGQuery(
      SQL(
        unsafeRaw: """
          SELECT s.id, s.user_id, s.token_hash, s.created_at, s.expires_at, s.revoked_at,
            u.id, u.email, u.password_hash, u.display_name, u.phone, u.role,
            u.created_at, u.updated_at
          FROM sessions s JOIN users u ON u.id = s.user_id
          """)
        + " WHERE s.token_hash = \(tokenHash) AND s.revoked_at IS NULL AND s.expires_at > now()"
    ) { try $0.decodeFirst { row throws(PGError) in (try Self.decodeSession(&row), try Self.decode(&row)) } }
  }

  /// Signs one session out by id (Logout); false if it was already revoked.
  public static func revokeSession(id: AuthSessionID) -> PGQuery<Bool> {
    PGQuery("UPDATE sessions SET revoked_at = now() WHERE id = \(id) AND revoked_at IS NULL") { $0.rowsAffected == 1 }
  }

  /// Signs a user out of every session but `kept` (ChangePassword); returns how many ended.
  public static func revokeSessions(userID: UserID, except kept: AuthSessionID) -> PGQuery<Int> {
    PGQuery.execute(
      "UPDATE sessions SET revoked_at = now() WHERE user_id = \(userID) AND id <> \(kept) AND revoked_at IS NULL")
  }

  /// Signs a user out everywhere; returns how many sessions that ended.
  public static func revokeSessions(userID: UserID) -> PGQuery<Int> {
    PGQuery.execute(
      "UPDATE sessions SET revoked_at = now() WHERE user_id = \(userID) AND revoked_at IS NULL")
  }
}
