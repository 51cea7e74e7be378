import Credentials
public import Logging
import MarketplaceCore
import MarketplaceStorage
public import RPCCore

/// Resolves each call's caller from its `authorization: Bearer <token>` metadata, once, before
/// the handler runs; the handler reads it as `context.caller`. No metadata: anonymous. A token
/// that is malformed, unknown, expired or revoked ends the call with UNAUTHENTICATED, also on
/// methods that allow anonymous callers: a client with a dead token should learn it at once.
public struct CallerResolver: ServerInterceptor {
  let database: DatabaseAccess

  public init(database: DatabaseAccess) {
    self.database = database
  }

  public func intercept(_ context: ServerContext) async throws {
    let values = context.requestMetadata["authorization"]
    guard !values.isEmpty else {
      context[CallerKey.self] = .anonymous
      return
    }
    guard values.count == 1, case .string(let header) = values[0], let digest = Self.tokenDigest(header) else {
      throw AuthenticationError()
    }
    guard let (session, user) = try await database.run(context, UserRepository.activeSession(tokenHash: digest)) else {
      throw AuthenticationError()
    }
    context[CallerKey.self] = .user(Principal(userID: user.id, role: user.role, sessionID: session.id))
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

extension ServerContext {
  /// Who makes this call (resolved by `CallerResolver` before the handler).
  var caller: Caller { self[CallerKey.self] ?? .anonymous }

  /// The client's address without its port ("ipv4:127.0.0.1"): what sign-in throttling counts by.
  var peerAddress: Substring {
    guard let colon = peer.lastIndex(of: ":"), peer[..<colon].contains(":") else { return peer[...] }
    return peer[..<colon]
  }
}
