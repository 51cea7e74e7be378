/// When a job that failed runs again, and when it stops trying: exponential backoff with "equal
/// jitter", so that jobs failing together (a gateway outage) do not retry together.
///
/// After `n` failed attempts the next one waits `min(baseDelay * 2^(n-1), maxDelay)`, half of it
/// fixed and half of it random: the fixed half keeps a retry from coming back at once, the random
/// half spreads a herd. A job whose `maxAttempts`-th attempt failed is dead.
public struct RetryPolicy: Sendable, Hashable {
  /// Attempts a job gets, the first one included, unless it was enqueued with its own number.
  public var maxAttempts: Int
  /// The backoff after the first failure, before jitter.
  public var baseDelay: Duration
  /// The longest backoff, before jitter.
  public var maxDelay: Duration

  public init(maxAttempts: Int = 10, baseDelay: Duration = .seconds(1), maxDelay: Duration = .seconds(300)) {
    precondition(maxAttempts > 0, "a job gets at least one attempt")
    precondition(baseDelay >= .zero && maxDelay >= baseDelay, "delays must satisfy 0 <= base <= max")
    self.maxAttempts = maxAttempts
    self.baseDelay = baseDelay
    self.maxDelay = maxDelay
  }

  /// What follows a failed attempt.
  public enum Decision: Sendable, Hashable {
    /// Run again after this delay.
    case retry(after: Duration)
    /// Attempts are used up: the job is dead.
    case dead
  }

  /// The backoff after `failedAttempts` failed attempts (at least 1), before jitter:
  /// `baseDelay * 2^(failedAttempts-1)`, at most `maxDelay`.
  public func backoff(afterFailedAttempts failedAttempts: Int) -> Duration {
    var delay = baseDelay
    var doublings = max(failedAttempts, 1) - 1
    // Doubling stops at the cap, so a large attempt count cannot overflow.
    while doublings > 0 && delay < maxDelay && delay > .zero {
      delay = delay * 2
      doublings -= 1
    }
    return min(delay, maxDelay)
  }

  /// The delay before the next attempt after `failedAttempts` failed ones: half the backoff, plus
  /// `jitter` (in 0..<1; out-of-range values are clamped) times the other half.
  public func delay(afterFailedAttempts failedAttempts: Int, jitter: Double) -> Duration {
    let half = backoff(afterFailedAttempts: failedAttempts) / 2
    return half + half * min(max(jitter, 0), 1)
  }

  /// Whether a job whose `attempt`-th attempt failed is dead (no attempt is left).
  public func isDead(afterFailedAttempt attempt: Int) -> Bool {
    attempt >= maxAttempts
  }

  /// What follows the failure of a job's `attempt`-th attempt, with `jitter` in 0..<1.
  public func decision(afterFailedAttempt attempt: Int, jitter: Double) -> Decision {
    isDead(afterFailedAttempt: attempt) ? .dead : .retry(after: delay(afterFailedAttempts: attempt, jitter: jitter))
  }
}
