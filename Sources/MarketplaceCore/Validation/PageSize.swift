/// The size of a page a list or search asks for (Google AIP-158): 1 to 100, 0 for the default.
public enum PageSize {
  public static let maximum = 100
  public static let `default` = 20

  public static func validate(_ requested: Int32) throws(ValidationError) -> Int {
    guard (0...Int32(maximum)).contains(requested) else {
      throw ValidationError(field: "page_size", rule: "must be between 1 and \(maximum) (0 means \(Self.default))")
    }
    return requested == 0 ? Self.default : Int(requested)
  }
}
