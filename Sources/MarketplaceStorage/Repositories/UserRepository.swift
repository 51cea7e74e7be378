public import MarketplaceCore
public import Postgres

/// Accounts and their sessions. Every method is one prepared statement on the caller's
/// connection (inside `PGPool.withTransaction` / `withConnection`); the index each one uses is
/// named in 0002_users_sessions.sql.
public struct UserRepository {
  let session: PGSession

  public init(_ session: PGSession) { self.session = session }

  static let columns =
    "id, email, password_hash, first_name, last_name, phone, role, created_at, updated_at"
  static let select = SQL(unsafeRaw: "SELECT \(columns) FROM users")
  static let returning = SQL(unsafeRaw: " RETURNING \(columns)")

  static func decode(_ row: inout ColumnReader) throws(PGError) -> User {
    User(
      id: try row.next(), email: try row.next(), passwordHash: try row.next(),
      firstName: try row.next(), lastName: try row.next(), phone: try row.optional(),
      role: try row.value(), createdAt: try row.next(), updatedAt: try row.next())
  }

  /// Registers an account. An email taken case-insensitively fails with 23505 on
  /// `users_email_key`.
  public func insert(
    id: UserID, email: String, passwordHash: String, firstName: String, lastName: String,
    phone: String?, role: User.Role
  ) throws(PGError) -> User {
    try session.query(
      """
      INSERT INTO users (id, email, password_hash, first_name, last_name, phone, role)
      VALUES (\(id), \(email), \(passwordHash), \(firstName), \(lastName), \(phone), \(role.rawValue))
      """ + Self.returning
    ).decodeOne(Self.decode)
  }

  public func find(id: UserID) throws(PGError) -> User? {
    try session.query(Self.select + " WHERE id = \(id)")
      .decodeFirst(Self.decode)
  }

  /// Sign-in: the account whose email matches case-insensitively.
  public func find(email: String) throws(PGError) -> User? {
    try session.query(
      Self.select + " WHERE lower(email) = lower(\(email))"
    ).decodeFirst(Self.decode)
  }

  /// Replaces the profile's names and phone; nil if there is no such user.
  public func updateProfile(
    id: UserID, firstName: String, lastName: String, phone: String?
  ) throws(PGError) -> User? {
    try session.query(
      """
      UPDATE users SET first_name = \(firstName), last_name = \(lastName), phone = \(phone),
        updated_at = now()
      WHERE id = \(id)
      """ + Self.returning
    ).decodeFirst(Self.decode)
  }

  /// Changes the role (a guest becoming a host); nil if there is no such user.
  public func updateRole(id: UserID, role: User.Role) throws(PGError) -> User? {
    try session.query(
      "UPDATE users SET role = \(role.rawValue), updated_at = now() WHERE id = \(id)"
        + Self.returning
    ).decodeFirst(Self.decode)
  }

  // MARK: sessions

  static let sessionColumns = "id, user_id, token_hash, created_at, expires_at, revoked_at"
  static let sessionReturning = SQL(unsafeRaw: " RETURNING \(sessionColumns)")

  static func decodeSession(_ row: inout ColumnReader) throws(PGError) -> AuthSession {
    AuthSession(
      id: try row.next(), userID: try row.next(), tokenHash: try row.next(),
      createdAt: try row.next(), expiresAt: try row.next(), revokedAt: try row.optional())
  }

  public func insertSession(
    id: AuthSessionID, userID: UserID, tokenHash: [UInt8], expiresAt: Timestamp
  ) throws(PGError) -> AuthSession {
    try session.query(
      """
      INSERT INTO sessions (id, user_id, token_hash, expires_at)
      VALUES (\(id), \(userID), \(tokenHash), \(expiresAt))
      """ + Self.sessionReturning
    ).decodeOne(Self.decodeSession)
  }

  /// Authentication of a request: the session of this token digest with its user, if the
  /// session is neither expired nor revoked.
  public func activeSession(tokenHash: [UInt8]) throws(PGError) -> (AuthSession, User)? {
    try session.query(
      SQL(
        unsafeRaw: """
          SELECT s.id, s.user_id, s.token_hash, s.created_at, s.expires_at, s.revoked_at,
            u.id, u.email, u.password_hash, u.first_name, u.last_name, u.phone, u.role,
            u.created_at, u.updated_at
          FROM sessions s JOIN users u ON u.id = s.user_id
          """)
        + " WHERE s.token_hash = \(tokenHash) AND s.revoked_at IS NULL AND s.expires_at > now()"
    ).decodeFirst { row throws(PGError) in (try Self.decodeSession(&row), try Self.decode(&row)) }
  }

  /// Signs one session out; false if it was unknown or already revoked.
  public func revokeSession(tokenHash: [UInt8]) throws(PGError) -> Bool {
    try session.execute(
      "UPDATE sessions SET revoked_at = now() WHERE token_hash = \(tokenHash) AND revoked_at IS NULL"
    ) == 1
  }

  /// Signs a user out everywhere; returns how many sessions that ended.
  public func revokeSessions(userID: UserID) throws(PGError) -> Int {
    try session.execute(
      "UPDATE sessions SET revoked_at = now() WHERE user_id = \(userID) AND revoked_at IS NULL")
  }
}
