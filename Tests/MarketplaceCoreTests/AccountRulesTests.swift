import MarketplaceCore
import Testing

@Suite("Account rules")
struct AccountRulesTests {
  static func request(
    email: String = "Ann@Example.COM", password: String = "correct horse", displayName: String = "Ann",
    phone: String = "", role: Requested<User.Role> = .unspecified
  ) -> Register.Request {
    Register.Request(email: email, password: password, displayName: displayName, phone: phone, role: role)
  }

  static func fields(_ body: () throws(ValidationError) -> some Any) -> [String] {
    do {
      _ = try body()
      return []
    } catch {
      return error.violations.map(\.field)
    }
  }

  @Test("a valid registration: email trimmed with its domain lower-cased, guest by default")
  func valid() throws {
    let account = try Register.validate(Self.request(email: "  Ann.Lee@Example.COM "))
    #expect(account.email.value == "Ann.Lee@example.com")
    #expect(account.email.comparisonKey == "ann.lee@example.com")
    #expect(account.role == .guest && account.phone == nil && account.displayName == "Ann")
    #expect(try Register.validate(Self.request(role: .value(.host))).role == .host)
    #expect(try Register.validate(Self.request(phone: " +33 (1) 23-45 ")).phone == "+33 (1) 23-45")
  }

  @Test(
    "emails that are refused",
    arguments: [
      "", "   ", "ann", "ann@", "@example.com", "ann@example", "ann@@example.com", "a n@example.com",
      "ann@exa mple.com", "ann@-example.com", "ann@example..com", "ann@exam_ple.com",
      String(repeating: "a", count: 65) + "@example.com", "a@" + String(repeating: "b", count: 250) + ".com",
    ])
  func badEmails(_ email: String) {
    #expect(
      Self.fields { () throws(ValidationError) in try Register.validate(Self.request(email: email)) } == ["email"])
  }

  @Test("passwords: at least 10 scalars, at most 1,024 bytes, not the email")
  func passwords() {
    func violations(_ password: String, email: String = "ann@example.com") -> [String] {
      Self.fields { () throws(ValidationError) in try Register.validate(Self.request(email: email, password: password))
      }
    }
    #expect(violations("123456789") == ["password"])
    #expect(violations("1234567890") == [])
    // Ten scalars of four bytes each: long enough, though one grapheme cluster fewer would not be.
    #expect(violations(String(repeating: "😀", count: 10)) == [])
    #expect(violations(String(repeating: "é", count: 9)) == ["password"])
    #expect(violations(String(repeating: "a", count: 1024)) == [])
    #expect(violations(String(repeating: "a", count: 1025)) == ["password"])
    #expect(violations("Ann@Example.com", email: "ann@example.com") == ["password"])
  }

  @Test("display name and phone bounds")
  func profileFields() {
    func violations(_ name: String, _ phone: String = "") -> [String] {
      Self.fields { () throws(ValidationError) in try Register.validate(Self.request(displayName: name, phone: phone)) }
    }
    #expect(violations("  ") == ["display_name"])
    #expect(violations(String(repeating: "x", count: 100)) == [])
    #expect(violations(String(repeating: "x", count: 101)) == ["display_name"])
    #expect(violations("Ann\u{7}") == ["display_name"])
    #expect(violations("Ann", "call me") == ["phone"])
    #expect(violations("Ann", "+-()") == ["phone"])
    #expect(violations("Ann", String(repeating: "1", count: 33)) == ["phone"])
  }

  @Test("roles: guest or host only; every broken field is named at once")
  func rolesAndAllViolations() {
    #expect(
      Self.fields { () throws(ValidationError) in try Register.validate(Self.request(role: .value(.admin))) } == [
        "role"
      ])
    #expect(
      Self.fields { () throws(ValidationError) in try Register.validate(Self.request(role: .unrecognized)) } == ["role"]
    )
    let all = Self.fields { () throws(ValidationError) in
      try Register.validate(
        Self.request(email: "x", password: "short", displayName: "", phone: "?", role: .value(.admin)))
    }
    #expect(all == ["email", "password", "display_name", "phone", "role"])
  }
}

@Suite("Sign-in")
struct SignInTests {
  @Test("an attempt's email is its comparison key; shape errors only")
  func validation() throws {
    let attempt = try SignIn.validate(SignIn.Request(email: " Ann@Example.com ", password: "x"))
    #expect(attempt.email == "ann@example.com")
    #expect(throws: ValidationError.self) { try SignIn.validate(SignIn.Request(email: "", password: "x")) }
    #expect(throws: ValidationError.self) {
      try SignIn.validate(SignIn.Request(email: "a@b.c", password: String(repeating: "a", count: 1025)))
    }
  }

  @Test("throttling by email and by address; a success clears the email only")
  func throttle() {
    let start = ContinuousClock.now
    var throttle = SignIn.Throttle(.init(failuresPerEmail: 3, failuresPerAddress: 5, window: .seconds(60)))
    for second in 0..<3 {
      #expect(throws: Never.self) { try throttle.admit(email: "a", address: "p", now: start + .seconds(second)) }
      throttle.recordFailure(email: "a", address: "p", now: start + .seconds(second))
    }
    #expect(throws: AccountError.throttled(retryAfter: .seconds(50))) {
      try throttle.admit(email: "a", address: "q", now: start + .seconds(10))
    }
    // Another email from the same address still may try, until the address's limit.
    #expect(throws: Never.self) { try throttle.admit(email: "b", address: "p", now: start + .seconds(10)) }
    throttle.recordFailure(email: "b", address: "p", now: start + .seconds(10))
    throttle.recordFailure(email: "c", address: "p", now: start + .seconds(11))
    #expect(throws: AccountError.throttled(retryAfter: .seconds(48))) {
      try throttle.admit(email: "d", address: "p", now: start + .seconds(12))
    }
    // The window slides: a minute after the first failure, "a" may try again.
    #expect(throws: Never.self) { try throttle.admit(email: "a", address: "q", now: start + .seconds(60)) }
    throttle.recordSuccess(email: "a")
    #expect(throws: Never.self) { try throttle.admit(email: "a", address: "q", now: start + .seconds(13)) }
  }

  @Test("the failure table stays within its bound, dropping the stalest keys")
  func boundedKeys() {
    let start = ContinuousClock.now
    var throttle = AttemptThrottle<Int>(limit: 1, window: .seconds(60), maximumKeys: 100)
    for key in 0..<250 { throttle.recordFailure(key, now: start + .milliseconds(key)) }
    #expect(throttle.keyCount == 100)
    #expect(throttle.retryAfter(249, now: start + .seconds(1)) != nil)
    #expect(throttle.retryAfter(0, now: start + .seconds(1)) == nil)
  }
}

@Suite("Profile updates")
struct UpdateProfileTests {
  static func validate(_ mask: [String], name: String = "New Name", phone: String = "") throws(ValidationError)
    -> UpdateProfile.Change
  {
    try UpdateProfile.validate(UpdateProfile.Request(mask: mask, displayName: name, phone: phone))
  }

  @Test("the mask picks the fields; duplicates count once; an empty mask changes nothing")
  func masks() throws {
    let user = User(
      id: .random(), email: "a@b.co", passwordHash: "$argon2id$", displayName: "Old", phone: "+1 2",
      role: .guest, createdAt: Timestamp(microsecondsSinceEpoch: 0), updatedAt: Timestamp(microsecondsSinceEpoch: 0))
    let nameOnly = try Self.validate(["display_name", "display_name"])
    #expect(nameOnly.fields == [.displayName])
    #expect(nameOnly.applied(to: user).displayName == "New Name" && nameOnly.applied(to: user).phone == "+1 2")
    let phoneRemoved = try Self.validate(["phone"])
    #expect(phoneRemoved.applied(to: user).phone == nil && phoneRemoved.applied(to: user).displayName == "Old")
    let nothing = try Self.validate([])
    #expect(nothing.isEmpty && nothing.applied(to: user) == user)
  }

  @Test("unknown and immutable paths, and bad values, are named")
  func refusals() {
    for (mask, field) in [(["email"], "update_mask"), (["nickname"], "update_mask"), (["role"], "update_mask")] {
      do {
        _ = try Self.validate(mask)
        Issue.record("expected a validation error for \(mask)")
      } catch {
        #expect(error.violations.map(\.field) == [field])
        #expect(error.violations[0].rule.contains("\"\(mask[0])\""))
      }
    }
    do {
      _ = try Self.validate(["display_name", "phone"], name: " ", phone: "abc")
      Issue.record("expected a validation error")
    } catch {
      #expect(error.violations.map(\.field) == ["user.display_name", "user.phone"])
    }
  }
}

@Suite("Password changes")
struct ChangePasswordTests {
  @Test("the new password follows the rules and differs from the current one")
  func rules() throws {
    let user = User(
      id: .random(), email: "ann@example.com", passwordHash: "$argon2id$", displayName: "Ann", phone: nil,
      role: .guest, createdAt: Timestamp(microsecondsSinceEpoch: 0), updatedAt: Timestamp(microsecondsSinceEpoch: 0))
    func fields(_ current: String, _ new: String) -> [String] {
      do {
        _ = try ChangePassword.validate(.init(currentPassword: current, newPassword: new), for: user)
        return []
      } catch {
        return error.violations.map(\.field)
      }
    }
    #expect(fields("old password", "new password") == [])
    #expect(fields("old password", "old password") == ["new_password"])
    #expect(fields("old password", "short") == ["new_password"])
    #expect(fields("old password", "ANN@example.com") == ["new_password"])
    #expect(fields("", "new password") == ["current_password"])
  }
}
