/// A SQL statement whose values are bound, never spliced.
///
/// Each interpolated value becomes the next placeholder (`$1`, `$2`, ...) and a bound parameter,
/// so input can never change the statement's text:
///
/// ```swift
/// let insert: SQL = "INSERT INTO users (email, display_name) VALUES (\(email), \(displayName))"
/// // insert.text == "INSERT INTO users (email, display_name) VALUES ($1, $2)"
/// ```
///
/// Identifiers (which cannot be parameters) go through `\(identifier: name)`, which quotes them.
/// The only way to put arbitrary text into a statement is `SQL(unsafeRaw:)`: reviewers should stop
/// there and check the text comes from the program, never from input.
public struct SQL: Sendable, ExpressibleByStringInterpolation, CustomStringConvertible {
  /// The statement text with `$n` placeholders; no values, so it is safe to log.
  public private(set) var text: String
  /// The values for the placeholders, in order.
  public private(set) var bindings: PGBindings
  /// Planned anew for its values at every execution (sent unprepared), instead of prepared once
  /// per connection: for statements whose best plan depends on how selective their values are,
  /// which a generic plan cannot know. Costs a planning per execution.
  public var isPlannedPerExecution = false

  /// A statement from text the program wrote (e.g. a migration file shipped with it).
  /// - Important: never pass anything derived from input; interpolate values instead.
  public init(unsafeRaw text: String, bindings: PGBindings = PGBindings()) {
    self.text = text
    self.bindings = bindings
  }

  public init(stringLiteral value: String) {
    self.init(unsafeRaw: value)
  }

  public init(stringInterpolation: StringInterpolation) {
    self.init(unsafeRaw: stringInterpolation.text, bindings: stringInterpolation.bindings)
  }

  public var description: String { text }

  /// The text's first 120 characters, whitespace runs collapsed: enough to name the statement in
  /// a log line.
  var logSummary: String {
    var summary = ""
    var lastWasSpace = false
    for character in text {
      if summary.count >= 120 { return summary + "…" }
      if character.isWhitespace {
        if !lastWasSpace, !summary.isEmpty { summary.append(" ") }
        lastWasSpace = true
      } else {
        summary.append(character)
        lastWasSpace = false
      }
    }
    return summary
  }

  public struct StringInterpolation: StringInterpolationProtocol {
    var text: String
    var bindings = PGBindings()

    public init(literalCapacity: Int, interpolationCount: Int) {
      text = ""
      text.reserveCapacity(literalCapacity + 3 * interpolationCount)
    }

    public mutating func appendLiteral(_ literal: String) {
      text += literal
    }

    /// Binds `value` as the next parameter (a nil optional binds NULL).
    public mutating func appendInterpolation(_ value: some PGEncodable) {
      value.encode(into: &bindings)
      text += "$\(bindings.count)"
    }

    /// Appends `fragment`, its placeholders renumbered (see `SQL.append(_:)`): for a piece of SQL
    /// text several statements share, such as a predicate an index is built on.
    public mutating func appendInterpolation(_ fragment: SQL) {
      var sql = SQL(unsafeRaw: text, bindings: bindings)
      sql.append(fragment)
      text = sql.text
      bindings = sql.bindings
    }

    /// Appends `name` as a quoted identifier (`"name"`, inner quotes doubled), for the places
    /// SQL does not take parameters: table, schema or database names.
    public mutating func appendInterpolation(identifier name: String) {
      if name.utf8.contains(0) {
        // A NUL cannot be quoted; bind it instead so that the statement fails when run.
        bindings.appendText(name)
        text += "$\(bindings.count)"
        return
      }
      text += SQL.quoteIdentifier(name)
    }
  }

  /// Appends `other`, renumbering its placeholders to follow this statement's: for statements
  /// whose shape depends on which optional filters a caller gave, each one a fragment with its
  /// own values (`sql.append(" AND city = \(city)")`).
  ///
  /// Every `$` in `other.text` must be one of its placeholders (fragments are program text; no
  /// dollar quoting).
  public mutating func append(_ other: SQL) {
    let offset = bindings.count
    bindings.append(contentsOf: other.bindings)
    guard offset > 0, other.bindings.count > 0 else {
      text += other.text
      return
    }
    var utf8 = other.text.utf8[...]
    while let dollar = utf8.firstIndex(of: UInt8(ascii: "$")) {
      text += String(Substring(utf8[..<dollar]))
      let digits = utf8[utf8.index(after: dollar)...].prefix { $0 >= 0x30 && $0 <= 0x39 }
      guard let number = Int(Substring(digits)), (1...other.bindings.count).contains(number) else {
        preconditionFailure("SQL.append: a '$' in \(other.text) is not one of its placeholders")
      }
      text += "$\(number + offset)"
      utf8 = utf8[digits.endIndex...]
    }
    text += String(Substring(utf8))
  }

  /// This statement followed by `other` (see `append(_:)`).
  public static func + (lhs: SQL, rhs: SQL) -> SQL {
    var result = lhs
    result.append(rhs)
    return result
  }

  /// `name` as a quoted identifier: wrapped in double quotes, inner double quotes doubled.
  public static func quoteIdentifier(_ name: String) -> String {
    "\"" + name.replacingAll("\"", with: "\"\"") + "\""
  }
}

extension String {
  /// Replaces every `target` (a single character) with `replacement`, without Foundation.
  fileprivate func replacingAll(_ target: Character, with replacement: String) -> String {
    var result = ""
    result.reserveCapacity(utf8.count)
    for character in self {
      if character == target { result += replacement } else { result.append(character) }
    }
    return result
  }
}
