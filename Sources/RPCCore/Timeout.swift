/// The `grpc-timeout` header: a positive integer of at most 8 digits and a unit
/// (`H` hours, `M` minutes, `S` seconds, `m` milliseconds, `u` microseconds, `n` nanoseconds).
public struct Timeout: Sendable, Hashable {
  public var duration: Duration

  public init(_ duration: Duration) {
    self.duration = duration
  }

  /// Parses a header value; nil if it is not valid per the spec.
  public init?(decoding value: some StringProtocol) {
    let utf8 = Array(value.utf8)
    guard (2...9).contains(utf8.count), let unit = utf8.last else { return nil }
    var amount: Int64 = 0
    for byte in utf8.dropLast() {
      guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
      amount = amount * 10 + Int64(byte - UInt8(ascii: "0"))
    }
    switch unit {
    case UInt8(ascii: "H"): duration = .seconds(amount * 3600)
    case UInt8(ascii: "M"): duration = .seconds(amount * 60)
    case UInt8(ascii: "S"): duration = .seconds(amount)
    case UInt8(ascii: "m"): duration = .milliseconds(amount)
    case UInt8(ascii: "u"): duration = .microseconds(amount)
    case UInt8(ascii: "n"): duration = .nanoseconds(amount)
    default: return nil
    }
  }

  /// The shortest exact-or-rounded-up header value with at most 8 digits.
  public var headerValue: String {
    let nanoseconds =
      max(0, duration.components.seconds) * 1_000_000_000
      + max(0, duration.components.attoseconds / 1_000_000_000)
    let units: [(Int64, Character)] = [
      (1, "n"), (1_000, "u"), (1_000_000, "m"), (1_000_000_000, "S"), (60_000_000_000, "M"),
      (3_600_000_000_000, "H"),
    ]
    for (scale, unit) in units {
      let amount = (nanoseconds + scale - 1) / scale
      if amount < 100_000_000 { return "\(amount)\(unit)" }
    }
    return "99999999H"
  }
}
