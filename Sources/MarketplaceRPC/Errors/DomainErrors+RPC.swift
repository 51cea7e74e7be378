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

extension BookingError: RPCErrorConvertible {
  public var rpcError: RPCError {
    let message =
      switch self {
      case .checkInInThePast: "the dates start before today at the listing (its time zone)"
      case .stayTooShort(let minimum): "the listing takes stays of at least \(minimum) night(s)"
      case .stayTooLong(let maximum): "the listing takes stays of at most \(maximum) night(s)"
      case .tooManyGuests(let maximum): "the listing takes at most \(maximum) guest(s)"
      case .ownListing: "a host cannot book their own listing"
      case .datesUnavailable: "the dates are not available: another booking or the host holds some of them"
      case .invalidTransition(let from, _): "not possible while the booking is \(from.rawValue.uppercased())"
      case .stayAlreadyStarted: "the stay has started: it can no longer be cancelled"
      case .priceOverflow: "the stay's price is too large"
      }
    return RPCError(code: .failedPrecondition, message: message)
  }
}

extension PaymentError: RPCErrorConvertible {
  public var rpcError: RPCError {
    let message =
      switch self {
      case .bookingNotPayable(let status):
        "the booking is \(status.rawValue.uppercased()): only a PENDING booking is paid"
      case .amountMismatch(let expected):
        "amount must be the booking's total, \(expected.amountMinor) \(expected.currency) in minor units"
      case .idempotencyKeyReused: "idempotency_key was used before with other parameters"
      case .alreadyPaid: "the booking already has a payment that is pending or went through"
      }
    return RPCError(code: .failedPrecondition, message: message)
  }
}

extension ReviewError: RPCErrorConvertible {
  public var rpcError: RPCError {
    switch self {
    case .stayNotCompleted:
      RPCError(code: .failedPrecondition, message: "only a COMPLETED stay is reviewed (after check-out)")
    case .windowClosed(let days):
      RPCError(code: .failedPrecondition, message: "reviews are written within \(days) days of check-out")
    case .alreadyReviewed: RPCError(code: .alreadyExists, message: "the booking has its review already")
    }
  }
}
