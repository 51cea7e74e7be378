/// Accumulates indented source lines.
struct CodeWriter {
  private(set) var text = ""
  private var indentation = ""

  /// An attribute written before every public declaration while set (e.g. deprecation).
  var declarationAttribute: String?

  mutating func line(_ line: String = "") {
    if let declarationAttribute, line.hasPrefix("public ") {
      text += indentation + declarationAttribute + "\n"
    }
    text += line.isEmpty ? "\n" : indentation + line + "\n"
  }

  mutating func block<Failure: Error>(
    _ opening: String, _ body: (inout CodeWriter) throws(Failure) -> Void
  ) throws(Failure) {
    line(opening + " {")
    indentation += "  "
    try body(&self)
    indentation.removeLast(2)
    line("}")
  }
}
