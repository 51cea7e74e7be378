/// A calendar date as a request gives it: numbers, unchecked.
public struct DateInput: Hashable, Sendable {
  public var year: Int
  public var month: Int
  public var day: Int

  public init(year: Int, month: Int, day: Int) {
    self.year = year
    self.month = month
    self.day = day
  }
}

extension DateRange {
  /// The range a request's `<field>.start` and `<field>.end` give (either may be missing), at
  /// most `maximumNights` long; nil after recording what is wrong in `violations`.
  public static func validate(
    start: DateInput?, end: DateInput?, field: String, maximumNights: Int, _ violations: inout Violations
  ) -> DateRange? {
    func date(_ input: DateInput?, _ path: String) -> LocalDate? {
      guard let input else {
        violations.add(path, "is required")
        return nil
      }
      guard let date = LocalDate(year: input.year, month: input.month, day: input.day) else {
        violations.add(path, "is not a date (\(input.year)-\(input.month)-\(input.day))")
        return nil
      }
      return date
    }
    let startDate = date(start, "\(field).start")
    let endDate = date(end, "\(field).end")
    guard let startDate, let endDate else { return nil }
    guard let range = DateRange(checkIn: startDate, checkOut: endDate) else {
      violations.add("\(field).end", "must be after \(field).start")
      return nil
    }
    guard range.nights <= maximumNights else {
      violations.add("\(field).end", "must be at most \(maximumNights) days after \(field).start")
      return nil
    }
    return range
  }
}
