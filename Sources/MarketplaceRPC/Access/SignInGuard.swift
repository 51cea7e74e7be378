import MarketplaceCore
import Synchronization

/// The process's sign-in failure counts (`SignIn.Throttle`) behind a lock: what `Login` and
/// `ChangePassword` consult before verifying a password. Per process: with several server
/// processes, each counts the attempts it sees.
final class SignInGuard: Sendable {
  private let throttle: Mutex<SignIn.Throttle>

  init(policy: SignIn.ThrottlePolicy) {
    throttle = Mutex(SignIn.Throttle(policy))
  }

  func admit(email: String, address: Substring) throws(AccountError) {
    let now = ContinuousClock.now
    try throttle.withLock { throttle throws(AccountError) in
      try throttle.admit(email: email, address: String(address), now: now)
    }
  }

  func recordFailure(email: String, address: Substring) {
    let now = ContinuousClock.now
    throttle.withLock { $0.recordFailure(email: email, address: String(address), now: now) }
  }

  func recordSuccess(email: String) {
    throttle.withLock { $0.recordSuccess(email: email) }
  }
}
