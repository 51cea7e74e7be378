/// Names as protobuf-c spells them in C (protoc-c's c_helpers.cc), and as we spell them in Swift
/// (swift-protobuf's conventions).
enum Names {
  // MARK: protobuf-c

  /// `ToCamel`: "bar_baz" -> "BarBaz".
  static func cCamel(_ name: String) -> String {
    var result = ""
    var upperNext = true
    for character in name {
      if character == "_" {
        upperNext = true
      } else if upperNext {
        result += character.uppercased()
        upperNext = false
      } else {
        result.append(character)
      }
    }
    return result
  }

  /// `CamelToLower`: "SimpleRequest" -> "simple_request".
  static func cCamelToLower(_ name: String) -> String {
    var result = ""
    var wasUpper = true
    for character in name {
      let isUpper = character.isASCII && character.isUppercase
      if isUpper {
        if !wasUpper { result += "_" }
        result += character.lowercased()
      } else {
        result.append(character)
      }
      wasUpper = isUpper
    }
    return result
  }

  /// `CamelToUpper`: "SimpleRequest" -> "SIMPLE_REQUEST".
  static func cCamelToUpper(_ name: String) -> String {
    cCamelToLower(name).uppercased()
  }

  /// The C struct name of a message or enum: "grpc.testing.SimpleRequest" -> "Grpc__Testing__SimpleRequest".
  static func cType(_ fullName: String) -> String {
    pieces(fullName).map(cCamel).joined(separator: "__")
  }

  /// The prefix of a message's C functions: "grpc__testing__simple_request".
  static func cFunctionPrefix(_ fullName: String) -> String {
    pieces(fullName).map(cCamelToLower).joined(separator: "__")
  }

  /// A field's member name in the C struct: lower-cased, with "_" after C/C++ keywords.
  static func cField(_ name: String) -> String {
    let lower = name.lowercased()
    return cKeywords.contains(lower) ? lower + "_" : lower
  }

  private static let cKeywords: Set<String> = [
    "and", "and_eq", "asm", "auto", "bitand", "bitor", "bool", "break", "case", "catch", "char", "class",
    "compl", "const", "const_cast", "continue", "default", "delete", "do", "double", "dynamic_cast",
    "else", "enum", "explicit", "extern", "false", "float", "for", "friend", "goto", "if", "inline",
    "int", "long", "mutable", "namespace", "new", "not", "not_eq", "operator", "or", "or_eq",
    "private", "protected", "public", "register", "reinterpret_cast", "return", "short", "signed",
    "sizeof", "static", "static_cast", "struct", "switch", "template", "this", "throw", "true", "try",
    "typedef", "typeid", "typename", "union", "unsigned", "using", "virtual", "void", "volatile",
    "wchar_t", "while", "xor", "xor_eq",
  ]

  // MARK: Swift

  /// The Swift type of a top-level message, enum or service: "grpc.testing" + "SimpleRequest" ->
  /// "Grpc_Testing_SimpleRequest".
  static func swiftTopLevel(package: String, name: String) -> String {
    let prefix = pieces(package).map { upperFirst(cCamel($0)) }.joined(separator: "_")
    return prefix.isEmpty ? name : prefix + "_" + name
  }

  /// lowerCamelCase from snake_case: "response_size" -> "responseSize".
  static func swiftProperty(_ name: String) -> String {
    let camel = cCamel(name)
    guard let first = camel.first else { return camel }
    return escape(first.lowercased() + camel.dropFirst())
  }

  /// UpperCamelCase from snake_case: "response_size" -> "ResponseSize".
  static func swiftUpper(_ name: String) -> String {
    upperFirst(cCamel(name))
  }

  /// A Swift enum constant from a proto value name, with the enum's own prefix removed:
  /// GrpclbRouteType.GRPCLB_ROUTE_TYPE_FALLBACK -> fallback.
  static func swiftEnumCase(_ valueName: String, enumName: String) -> String {
    let prefix = cCamelToUpper(enumName) + "_"
    var name = valueName
    if name.hasPrefix(prefix), name.count > prefix.count { name.removeFirst(prefix.count) }
    var result = swiftProperty(name.lowercased())
    if result.hasPrefix("`") { return result }
    if let first = result.first, first.isNumber { result = "_" + result }
    return result
  }

  /// A method's Swift name: "UnaryCall" -> "unaryCall".
  static func swiftMethod(_ name: String) -> String {
    guard let first = name.first else { return name }
    return escape(first.lowercased() + name.dropFirst())
  }

  static func upperFirst(_ name: String) -> String {
    guard let first = name.first else { return name }
    return first.uppercased() + name.dropFirst()
  }

  private static func escape(_ name: String) -> String {
    swiftKeywords.contains(name) ? "`\(name)`" : name
  }

  private static let swiftKeywords: Set<String> = [
    "associatedtype", "class", "deinit", "enum", "extension", "fileprivate", "func", "import", "init",
    "inout", "internal", "let", "open", "operator", "private", "protocol", "public", "rethrows",
    "static", "struct", "subscript", "typealias", "var", "break", "case", "continue", "default",
    "defer", "do", "else", "fallthrough", "for", "guard", "if", "in", "repeat", "return", "switch",
    "where", "while", "as", "catch", "false", "is", "nil", "super", "self", "Self", "throw",
    "throws", "true", "try", "Type", "Protocol", "any", "some", "await", "async",
  ]

  private static func pieces(_ fullName: String) -> [String] {
    fullName.split(separator: ".").map(String.init)
  }
}
