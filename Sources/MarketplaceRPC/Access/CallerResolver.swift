import Credentials
public import MarketplaceCore
public import MarketplaceStorage
public import RPCCore

/// Resolves each call's caller from its `authorization: Bearer <token>` metadata, once, before
/// the handler runs; the handler reads it as `context.caller`. No metadata: anonymous. A token
/// that is malformed, unknown, expired or revoked ends the call with UNAUTHENTICATED, also on
/// methods that allow anonymous callers: a client with a dead token should learn it at once.
///
/// Sessions come from the cache when it has them (a revoked one leaves it at once, in every
/// process), else from the database.
public struct CallerResolver: ServerInterceptor {
  let database: DatabaseAccess
  let cache: MarketplaceCache
  let clock: any WallClock

  public init(database: DatabaseAccess, cache: MarketplaceCache, clock: any WallClock) {
    self.database = database
    self.cache = cache
    self.clock = clock
  }

  public func intercept(_ context: ServerContext) async throws {
    guard let digest = try resolveInline(context) else { return }
    let session = try await cache.session(tokenDigest: digest, now: clock.now) {
      try await database.run(context, UserRepository.activeSession(tokenHash: digest)).map { session, user in
        MarketplaceCache.Session(
          principal: Principal(userID: user.id, role: user.role, sessionID: session.id), expiresAt: session.expiresAt)
      }
    }
    guard let session else { throw AuthenticationError() }
    context[CallerKey.self] = .user(session.principal)
    context[TokenDigestKey.self] = digest
  }

  /// Resolves the caller without waiting when it can: no token (anonymous: nothing is stored,
  /// so a public read allocates nothing here), or a session in memory.
  public func interceptInline(_ context: ServerContext) throws -> Bool {
    try resolveInline(context) == nil
  }

  /// Resolves what needs no waiting; returns the token digest still to look up, if any.
  private func resolveInline(_ context: ServerContext) throws -> [UInt8]? {
    if context[CallerKey.self] != nil { return nil }  // resolved by an earlier attempt
    guard let digest = try Self.tokenDigest(in: context) else { return nil }
    guard let session = cache.cachedSession(tokenDigest: digest, now: clock.now) else { return digest }
    context[CallerKey.self] = .user(session.principal)
    context[TokenDigestKey.self] = digest
    return nil
  }

  /// The digest of the call's bearer token; nil without `authorization` metadata, and
  /// `AuthenticationError` when it is malformed or given twice.
  static func tokenDigest(in context: ServerContext) throws(AuthenticationError) -> [UInt8]? {
    let values = context.requestMetadataValues("authorization")
    guard !values.isEmpty else { return nil }
    guard values.count == 1, case .string(let header) = values[0], let digest = tokenDigest(header) else {
      throw AuthenticationError()
    }
    return digest
  }

  /// The digest of the token in `Bearer <token>` (the scheme is case-insensitive, RFC 7235).
  static func tokenDigest(_ header: String) -> [UInt8]? {
    let parts = header.split(separator: " ", omittingEmptySubsequences: true)
    guard parts.count == 2, parts[0].lowercased() == "bearer" else { return nil }
    return BearerToken.digest(of: parts[1])
  }
}

enum CallerKey: ServerContextKey {
  typealias Value = Caller
}

/// The digest of the call's bearer token, when it has one (what Logout invalidates).
enum TokenDigestKey: ServerContextKey {
  typealias Value = [UInt8]
}

extension ServerContext {
  /// Who makes this call (resolved by `CallerResolver` before the handler; a call without a
  /// token is anonymous).
  var caller: Caller { self[CallerKey.self] ?? .anonymous }

  /// The client's address without its port ("ipv4:127.0.0.1"): what sign-in throttling counts by.
  var peerAddress: Substring {
    guard let colon = peer.lastIndex(of: ":"), peer[..<colon].contains(":") else { return peer[...] }
    return peer[..<colon]
  }
}
