/// A request field that breaks a rule: the field's path in the request, as the client wrote it
/// (`user.display_name`), and the rule, in words a client developer can show beside the input.
public struct FieldViolation: Hashable, Sendable, CustomStringConvertible {
  public var field: String
  public var rule: String

  public init(field: String, rule: String) {
    self.field = field
    self.rule = rule
  }

  public var description: String { "\(field): \(rule)" }
}

/// A request that breaks one or more rules. Every violation is reported, not only the first, so
/// a client can mark each wrong field at once.
public struct ValidationError: Error, Hashable, Sendable, CustomStringConvertible {
  public var violations: [FieldViolation]

  public init(_ violations: [FieldViolation]) {
    precondition(!violations.isEmpty, "a validation error names at least one field")
    self.violations = violations
  }

  public init(field: String, rule: String) {
    self.init([FieldViolation(field: field, rule: rule)])
  }

  public var description: String { violations.map(\.description).joined(separator: "; ") }
}

/// A rule a single value breaks, before it is known which field held the value.
public struct RuleViolation: Error, Hashable, Sendable {
  public var rule: String

  public init(_ rule: String) { self.rule = rule }
}

/// Collects the violations of a request while its fields are checked one by one.
///
/// ```swift
/// var violations = Violations()
/// let email = violations.check("email") { () throws(RuleViolation) in try EmailAddress(validating: request.email) }
/// try violations.throwIfAny()   // ValidationError naming every field that failed
/// ```
public struct Violations: Sendable {
  public private(set) var list: [FieldViolation] = []

  public init() {}

  public mutating func add(_ field: String, _ rule: String) {
    list.append(FieldViolation(field: field, rule: rule))
  }

  /// The value `body` makes, or nil after recording its violation against `field`.
  public mutating func check<T>(_ field: String, _ body: () throws(RuleViolation) -> T) -> T? {
    do {
      return try body()
    } catch {
      add(field, error.rule)
      return nil
    }
  }

  public func throwIfAny() throws(ValidationError) {
    if !list.isEmpty { throw ValidationError(list) }
  }
}

extension ValidationError {
  /// The value `body` makes from one field, or a `ValidationError` naming that field.
  public static func checking<T>(_ field: String, _ body: () throws(RuleViolation) -> T) throws(ValidationError) -> T {
    do {
      return try body()
    } catch {
      throw ValidationError(field: field, rule: error.rule)
    }
  }
}

extension Identifier {
  /// Parses an id a request sent (its canonical UUID text).
  public init(validating text: String) throws(RuleViolation) {
    guard !text.isEmpty else { throw RuleViolation("is required") }
    guard let id = Self(text) else { throw RuleViolation("must be a UUID") }
    self = id
  }

  /// Parses the id in the request field `field`, or names the field.
  public init(_ text: String, field: String) throws(ValidationError) {
    self = try ValidationError.checking(field) { () throws(RuleViolation) in try Self(validating: text) }
  }
}
