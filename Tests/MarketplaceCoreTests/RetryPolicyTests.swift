import MarketplaceCore
import Testing

@Suite("retry policy")
struct RetryPolicyTests {
  let policy = RetryPolicy()

  @Test("defaults: 10 attempts, 1 s doubling, capped at 5 min")
  func defaults() {
    #expect(policy.maxAttempts == 10 && policy.baseDelay == .seconds(1) && policy.maxDelay == .seconds(300))
  }

  @Test("the backoff doubles from the base after each failed attempt")
  func schedule() {
    let expected: [Duration] = [1, 2, 4, 8, 16, 32, 64, 128, 256].map { .seconds($0) }
    for (index, backoff) in expected.enumerated() {
      #expect(policy.backoff(afterFailedAttempts: index + 1) == backoff, "after \(index + 1) failures")
    }
  }

  @Test("the backoff stops at the cap, however many attempts failed")
  func cap() {
    #expect(policy.backoff(afterFailedAttempts: 10) == .seconds(300))
    #expect(policy.backoff(afterFailedAttempts: 11) == .seconds(300))
    #expect(policy.backoff(afterFailedAttempts: 1_000_000) == .seconds(300))
    #expect(policy.backoff(afterFailedAttempts: .max) == .seconds(300))
    let odd = RetryPolicy(baseDelay: .milliseconds(300), maxDelay: .seconds(1))
    #expect(
      (1...5).map { odd.backoff(afterFailedAttempts: $0) } == [300, 600, 1000, 1000, 1000].map { .milliseconds($0) })
  }

  @Test("equal jitter: half the backoff fixed, the other half scaled by the random part")
  func jitterBounds() {
    for attempt in 1...12 {
      let backoff = policy.backoff(afterFailedAttempts: attempt)
      #expect(policy.delay(afterFailedAttempts: attempt, jitter: 0) == backoff / 2)
      #expect(policy.delay(afterFailedAttempts: attempt, jitter: 0.5) == backoff / 2 + backoff / 4)
      let highest = policy.delay(afterFailedAttempts: attempt, jitter: 0.999_999)
      #expect(highest < backoff && highest > backoff * 0.99)
      for jitter in stride(from: 0.0, to: 1.0, by: 0.05) {
        let delay = policy.delay(afterFailedAttempts: attempt, jitter: jitter)
        #expect(delay >= backoff / 2 && delay < backoff)
      }
    }
    // Out of range is clamped, never below half nor above the backoff.
    #expect(policy.delay(afterFailedAttempts: 3, jitter: -1) == .seconds(2))
    #expect(policy.delay(afterFailedAttempts: 3, jitter: 7) == .seconds(4))
    #expect(policy.delay(afterFailedAttempts: 20, jitter: 0.999) <= .seconds(300))
  }

  @Test("a job whose max-attempts-th attempt failed is dead; before that it is retried")
  func deadDecision() {
    for attempt in 1..<10 {
      #expect(!policy.isDead(afterFailedAttempt: attempt))
      #expect(
        policy.decision(afterFailedAttempt: attempt, jitter: 0)
          == .retry(after: policy.backoff(afterFailedAttempts: attempt) / 2))
    }
    #expect(policy.isDead(afterFailedAttempt: 10) && policy.isDead(afterFailedAttempt: 11))
    #expect(policy.decision(afterFailedAttempt: 10, jitter: 0.3) == .dead)
    let once = RetryPolicy(maxAttempts: 1)
    #expect(once.decision(afterFailedAttempt: 1, jitter: 0) == .dead)
  }
}

@Suite("job payload")
struct JobPayloadTests {
  @Test("encodes as a JSON object with sorted keys, escaping what JSON requires")
  func encoding() {
    #expect(JobPayload().json == "{}")
    let payload: JobPayload = ["b": "2", "a": "quote \" backslash \\ newline \n tab \t bell \u{07} é 🏠"]
    #expect(
      payload.json == #"{"a":"quote \" backslash \\ newline \n tab \t bell \u0007 é 🏠","b":"2"}"#)
  }

  @Test("what it encodes reads back, as do PostgreSQL's jsonb texts")
  func roundTrip() {
    let payloads: [JobPayload] = [
      [:], ["booking_id": "5f0c3d1e-0000-4000-8000-000000000001"],
      ["weird key \"\\": "value\r\n\u{01}\u{1F}", "emoji": "🏠🔑", "empty": ""],
    ]
    for payload in payloads { #expect(JobPayload(json: payload.json) == payload) }
    #expect(JobPayload(json: #"{"booking_id": "x", "n": "1"}"#) == ["booking_id": "x", "n": "1"])
    #expect(JobPayload(json: #" { "a" : "\u00e9\ud83c\udfe0\/" } "#) == ["a": "é🏠/"])
  }

  @Test("members that are not strings keep their JSON text; null ones are left out")
  func lenient() {
    #expect(
      JobPayload(json: #"{"n": 12.5e3, "t": true, "f": false, "z": null, "o": {"a": [1, "}"]}, "l": []}"#)
        == ["n": "12.5e3", "t": "true", "f": "false", "o": #"{"a": [1, "}"]}"#, "l": "[]"])
  }

  @Test("anything but one JSON object is refused")
  func refusals() {
    for bad in [
      "", "[]", #""a""#, "1", "{", #"{"a"}"#, #"{"a": }"#, #"{"a": "b",}"#, #"{"a": "b"} x"#, #"{"a": "\x"}"#,
      #"{"a": "\ud83c"}"#, "{\"a\": \"raw\nnewline\"}", #"{"a": bogus}"#, #"{a: "b"}"#,
    ] {
      #expect(JobPayload(json: bad) == nil, "\(bad)")
    }
  }

  @Test("its description names keys, never values")
  func description() {
    let payload: JobPayload = ["email": "ann@example.com"]
    #expect("\(payload)" == #"JobPayload(keys: ["email"])"#)
  }
}
