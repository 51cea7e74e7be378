/// An ISO 4217 currency code: three upper-case ASCII letters.
public struct CurrencyCode: Hashable, Sendable, CustomStringConvertible {
  public let code: String

  /// Nil unless `code` is exactly three letters A-Z.
  public init?(_ code: some StringProtocol) {
    guard code.utf8.count == 3, code.utf8.allSatisfy({ (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains($0) })
    else { return nil }
    self.code = String(code)
  }

  public var description: String { code }
}

/// An amount of money: an integer count of the currency's minor units (cents), never a float.
public struct Money: Hashable, Sendable, CustomStringConvertible {
  public var amountMinor: Int64
  public var currency: CurrencyCode

  public init(amountMinor: Int64, currency: CurrencyCode) {
    self.amountMinor = amountMinor
    self.currency = currency
  }

  /// `amountMinor` times `factor`, or nil on overflow.
  public func multiplied(by factor: Int) -> Money? {
    let (product, overflow) = amountMinor.multipliedReportingOverflow(by: Int64(factor))
    return overflow ? nil : Money(amountMinor: product, currency: currency)
  }

  public var description: String { "\(amountMinor) \(currency) (minor units)" }
}
