import RPCCore
import Testing

@Suite("grpc-timeout")
struct TimeoutTests {
  @Test(
    "valid values",
    arguments: [
      ("1H", Duration.seconds(3600)), ("2M", .seconds(120)), ("3S", .seconds(3)),
      ("100m", .milliseconds(100)), ("5u", .microseconds(5)), ("7n", .nanoseconds(7)),
      ("99999999S", .seconds(99_999_999)), ("0m", .zero),
    ])
  func valid(_ value: String, _ expected: Duration) {
    #expect(Timeout(decoding: value)?.duration == expected)
  }

  @Test("invalid values", arguments: ["", "H", "1", "123456789S", "12j", "-1S", "1.5S", "S1", " 1S"])
  func invalid(_ value: String) {
    #expect(Timeout(decoding: value) == nil)
  }

  @Test("encoding keeps at most 8 digits and rounds up")
  func encoding() {
    #expect(Timeout(.seconds(1)).headerValue == "1000000u")
    #expect(Timeout(.nanoseconds(1500)).headerValue == "1500n")
    #expect(Timeout(.seconds(100_000_000)).headerValue == "1666667M")
    for value in ["1H", "30S", "250m", "12u"] {
      let parsed = Timeout(decoding: value)!
      #expect(Timeout(decoding: parsed.headerValue)?.duration == parsed.duration)
    }
  }
}
