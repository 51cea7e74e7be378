/// Sign-in and sign-out: what a valid attempt is, when attempts are throttled, how long a
/// session lasts.
public enum SignIn {
  public struct Request: Sendable {
    public var email: String
    public var password: String

    public init(email: String, password: String) {
      self.email = email
      self.password = password
    }
  }

  /// A well-formed attempt: the email's comparison key (what throttling and lookup use) and the
  /// password to verify.
  public struct Attempt: Sendable {
    public var email: String
    public var password: String
  }

  /// Shape checks only: a wrong email or password is `AccountError.invalidCredentials` after
  /// verification, never a validation error that would tell which.
  public static func validate(_ request: Request) throws(ValidationError) -> Attempt {
    var violations = Violations()
    let email = request.email.trimmingSpaces
    if email.isEmpty { violations.add("email", "is required") }
    if email.utf8.count > EmailAddress.maximumBytes {
      violations.add("email", "must be at most \(EmailAddress.maximumBytes) bytes")
    }
    if request.password.isEmpty { violations.add("password", "is required") }
    if request.password.utf8.count > AccountRules.maximumPasswordBytes {
      violations.add("password", "must be at most \(AccountRules.maximumPasswordBytes) bytes")
    }
    try violations.throwIfAny()
    return Attempt(email: email.lowercased(), password: request.password)
  }

  /// How failed attempts are limited: per email (guessing one account's password) and per
  /// client address (trying many accounts).
  public struct ThrottlePolicy: Sendable {
    public var failuresPerEmail: Int
    public var failuresPerAddress: Int
    public var window: Duration

    public init(failuresPerEmail: Int = 5, failuresPerAddress: Int = 20, window: Duration = .seconds(15 * 60)) {
      self.failuresPerEmail = failuresPerEmail
      self.failuresPerAddress = failuresPerAddress
      self.window = window
    }
  }

  /// The failure counts behind throttling, for both keys at once.
  public struct Throttle: Sendable {
    private var byEmail: AttemptThrottle<String>
    private var byAddress: AttemptThrottle<String>

    public init(_ policy: ThrottlePolicy) {
      byEmail = AttemptThrottle(limit: policy.failuresPerEmail, window: policy.window)
      byAddress = AttemptThrottle(limit: policy.failuresPerAddress, window: policy.window)
    }

    /// Throws `.throttled` when either the email or the address has failed too often. The
    /// same answer whether or not the email has an account.
    public func admit(email: String, address: String, now: ContinuousClock.Instant) throws(AccountError) {
      let waits = [byEmail.retryAfter(email, now: now), byAddress.retryAfter(address, now: now)].compactMap { $0 }
      if let wait = waits.max() { throw .throttled(retryAfter: wait) }
    }

    public mutating func recordFailure(email: String, address: String, now: ContinuousClock.Instant) {
      byEmail.recordFailure(email, now: now)
      byAddress.recordFailure(address, now: now)
    }

    /// A correct password clears the email's count (not the address's: one good account must
    /// not reset the count of an address trying many).
    public mutating func recordSuccess(email: String) {
      byEmail.reset(email)
    }
  }
}
