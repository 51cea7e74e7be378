/// Exponential backoff with jitter: attempt n waits `initial * multiplier^(n-1)`, capped at
/// `maximum`, then scaled down by a random factor in `[1 - jitter, 1]` so that callers that failed
/// together do not all come back at the same instant.
public struct PGBackoff: Sendable, Hashable {
  /// The delay before the first retry (before jitter).
  public var initial: Duration
  /// The longest delay (before jitter).
  public var maximum: Duration
  /// Growth per attempt; 2 doubles.
  public var multiplier: Double
  /// The fraction of the delay that is randomized, 0...1; 0.5 waits between half and all of it.
  public var jitter: Double

  public init(initial: Duration, maximum: Duration, multiplier: Double = 2, jitter: Double = 0.5) {
    self.initial = initial
    self.maximum = maximum
    self.multiplier = multiplier
    self.jitter = jitter
  }

  /// The delay before retry number `attempt` (1 for the first retry), without jitter.
  public func ceiling(attempt: Int) -> Duration {
    let exponent = Double(max(0, attempt - 1))
    let scaled = initial.seconds * power(multiplier, exponent)
    let capped = min(scaled, maximum.seconds)
    return .nanoseconds(Int64((capped * 1e9).rounded()))
  }

  /// The delay before retry number `attempt` (1 for the first retry), jittered.
  public func delay(attempt: Int, using generator: inout some RandomNumberGenerator) -> Duration {
    let ceiling = ceiling(attempt: attempt).seconds
    let jitter = min(max(self.jitter, 0), 1)
    let factor = jitter == 0 ? 1 : Double.random(in: (1 - jitter)...1, using: &generator)
    return .nanoseconds(Int64((ceiling * factor * 1e9).rounded()))
  }

  /// `delay(attempt:using:)` with the system's random number generator.
  public func delay(attempt: Int) -> Duration {
    var generator = SystemRandomNumberGenerator()
    return delay(attempt: attempt, using: &generator)
  }

  /// `base` raised to a whole `exponent`, without Foundation's pow; saturates at infinity.
  private func power(_ base: Double, _ exponent: Double) -> Double {
    var result = 1.0
    var remaining = Int(exponent)
    while remaining > 0 && result.isFinite && result < 1e12 {
      result *= base
      remaining -= 1
    }
    return result
  }
}

extension Duration {
  /// The duration in seconds, as a Double.
  var seconds: Double {
    Double(components.seconds) + Double(components.attoseconds) / 1e18
  }
}
