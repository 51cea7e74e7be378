public import Credentials
public import MarketplaceCore
public import MarketplaceProtos
public import MarketplaceStorage
public import RPCCore

/// `marketplace.v1.UserService`: registration, sign-in, the caller's own profile.
///
/// Each method is the same few steps: the request view becomes a domain request, a use case of
/// `MarketplaceCore` checks it (throwing the domain's errors), the repositories store or read,
/// and the builder answers. Statuses for those errors are set in one place
/// (`DomainErrors+RPC.swift`).
public struct UserService: Marketplace_V1_UserService.ServiceProtocol {
  /// How long a session lasts, how sign-in failures are throttled.
  public struct Settings: Sendable {
    public var sessionLifetime: Duration
    public var throttle: SignIn.ThrottlePolicy

    public init(sessionLifetime: Duration = .seconds(24 * 3600), throttle: SignIn.ThrottlePolicy = .init()) {
      self.sessionLifetime = sessionLifetime
      self.throttle = throttle
    }
  }

  let database: DatabaseAccess
  let passwords: PasswordHasher
  let cache: MarketplaceCache
  let clock: any WallClock
  let settings: Settings
  let signInGuard: SignInGuard

  public init(
    database: DatabaseAccess, passwords: PasswordHasher, cache: MarketplaceCache, clock: any WallClock,
    settings: Settings
  ) {
    self.database = database
    self.passwords = passwords
    self.cache = cache
    self.clock = clock
    self.settings = settings
    self.signInGuard = SignInGuard(policy: settings.throttle)
  }

  public func register(
    _ request: Marketplace_V1_RegisterRequest.View, context: ServerContext,
    response: Marketplace_V1_RegisterResponse.Builder
  ) async throws {
    let account = try Register.validate(request.domainRequest)
    let passwordHash = try await passwords.hash(account.password)
    let user = try await database.run(
      context,
      UserRepository.insert(
        id: .random(), email: account.email.value, passwordHash: passwordHash, displayName: account.displayName,
        phone: account.phone, role: account.role))
    response.user.fill(from: user)
  }

  public func login(
    _ request: Marketplace_V1_LoginRequest.View, context: ServerContext, response: Marketplace_V1_LoginResponse.Builder
  ) async throws {
    let attempt = try SignIn.validate(request.domainRequest)
    let user = try await verifiedUser(email: attempt.email, password: attempt.password, context: context)
    let token = BearerToken.generate()
    let session = try await database.run(
      context,
      UserRepository.insertSession(
        id: .random(), userID: user.id, tokenHash: token.digest,
        expiresAt: clock.now.adding(settings.sessionLifetime).truncatedToSeconds))
    response.accessToken = token.token
    response.expiresAt.fill(from: session.expiresAt)
    response.user.fill(from: user)
  }

  public func logout(
    _ request: Marketplace_V1_LogoutRequest.View, context: ServerContext,
    response: Marketplace_V1_LogoutResponse.Builder
  ) async throws {
    let caller = try context.caller.signedIn()
    let invalidation = MarketplaceCache.Invalidation.session(tokenDigest: context[TokenDigestKey.self] ?? [])
    _ = try await database.run(
      context, UserRepository.revokeSession(id: caller.sessionID), MarketplaceCache.notify(invalidation))
    cache.apply(invalidation)
  }

  public func getProfile(
    _ request: Marketplace_V1_GetProfileRequest.View, context: ServerContext,
    response: Marketplace_V1_GetProfileResponse.Builder
  ) async throws {
    response.user.fill(from: try await account(of: context))
  }

  public func updateProfile(
    _ request: Marketplace_V1_UpdateProfileRequest.View, context: ServerContext,
    response: Marketplace_V1_UpdateProfileResponse.Builder
  ) async throws {
    let caller = try context.caller.signedIn()
    let change = try UpdateProfile.validate(request.domainRequest)
    var user = try await account(of: context)
    if !change.isEmpty {
      let wanted = change.applied(to: user)
      guard
        let updated = try await database.run(
          context, UserRepository.updateProfile(id: caller.userID, displayName: wanted.displayName, phone: wanted.phone)
        )
      else { throw AccountError.accountNotFound }
      user = updated
    }
    response.user.fill(from: user)
    response.setUpdatedFields(change.fields.map(\.rawValue))
  }

  public func changePassword(
    _ request: Marketplace_V1_ChangePasswordRequest.View, context: ServerContext,
    response: Marketplace_V1_ChangePasswordResponse.Builder
  ) async throws {
    let caller = try context.caller.signedIn()
    let user = try await account(of: context)
    let newPassword = try ChangePassword.validate(request.domainRequest, for: user)
    do {
      _ = try await verifiedUser(email: user.email.lowercased(), password: request.currentPassword, context: context)
    } catch AccountError.invalidCredentials {
      throw AccountError.wrongCurrentPassword
    }
    let passwordHash = try await passwords.hash(newPassword)
    _ = try await database.transaction(
      context, UserRepository.updatePasswordHash(id: caller.userID, passwordHash: passwordHash),
      UserRepository.revokeSessions(userID: caller.userID, except: caller.sessionID),
      MarketplaceCache.notify(.user(caller.userID)))
    cache.apply(.user(caller.userID))
  }

  /// The signed-in caller's account.
  private func account(of context: ServerContext) async throws -> User {
    let caller = try context.caller.signedIn()
    guard let user = try await database.run(context, UserRepository.find(id: caller.userID)) else {
      throw AccountError.accountNotFound
    }
    return user
  }

  /// The account `email` names if `password` is its password, under the sign-in throttle; a
  /// stored hash weaker than today's settings is replaced. An unknown email costs the same time
  /// as a wrong password and gives the same error.
  private func verifiedUser(email: String, password: String, context: ServerContext) async throws -> User {
    try signInGuard.admit(email: email, address: context.peerAddress)
    let user = try await database.run(context, UserRepository.find(email: email))
    let verification =
      if let user {
        try await passwords.verify(password, against: user.passwordHash)
      } else {
        try await passwords.verifyDecoy(password)
      }
    guard let user, case .matches(let needsRehash) = verification else {
      signInGuard.recordFailure(email: email, address: context.peerAddress)
      throw AccountError.invalidCredentials
    }
    signInGuard.recordSuccess(email: email)
    if needsRehash {
      let stronger = try await passwords.hash(password)
      _ = try await database.run(context, UserRepository.updatePasswordHash(id: user.id, passwordHash: stronger))
    }
    return user
  }
}
