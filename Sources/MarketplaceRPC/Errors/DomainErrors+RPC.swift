public import Credentials
public import MarketplaceCore
public import RPCCore

// The one place where the domain's errors become gRPC statuses. Messages are written for the
// client developer and never quote stored data.

extension ValidationError: RPCErrorConvertible {
  public var rpcError: RPCError { StatusDetails.badRequest(self) }
}

extension AuthenticationError: RPCErrorConvertible {
  public var rpcError: RPCError {
    RPCError(
      code: .unauthenticated, message: "sign in first: send a valid access token as \"authorization: Bearer <token>\"")
  }
}

extension AccountError: RPCErrorConvertible {
  public var rpcError: RPCError {
    switch self {
    case .emailTaken: RPCError(code: .alreadyExists, message: "an account with this email already exists")
    case .invalidCredentials: RPCError(code: .unauthenticated, message: "wrong email or password")
    case .wrongCurrentPassword: RPCError(code: .permissionDenied, message: "current_password is wrong")
    case .throttled(let delay):
      StatusDetails.retryLater("too many failed sign-in attempts; retry later", after: delay)
    case .accountNotFound: RPCError(code: .notFound, message: "the account no longer exists")
    }
  }
}

extension PasswordHasher.Failure: RPCErrorConvertible {
  public var rpcError: RPCError {
    switch self {
    case .saturated:
      StatusDetails.retryLater("the server is busy verifying passwords; retry shortly", after: .seconds(1))
    case .unavailable: RPCError(code: .unavailable, message: "the server is shutting down; retry elsewhere")
    }
  }
}

extension AccessError: RPCErrorConvertible {
  public var rpcError: RPCError {
    switch self {
    case .signInRequired: AuthenticationError().rpcError
    case .notFound(let what): RPCError(code: .notFound, message: "\(what) was not found")
    case .forbidden(let reason): RPCError(code: .permissionDenied, message: reason)
    }
  }
}

extension ListingError: RPCErrorConvertible {
  public var rpcError: RPCError {
    switch self {
    case .hasUpcomingBookings(let count):
      RPCError(
        code: .failedPrecondition,
        message: "the listing has \(count) pending or confirmed booking(s) still to come; cancel them first")
    }
  }
}
