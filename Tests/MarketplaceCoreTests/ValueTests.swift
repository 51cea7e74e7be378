import FoundationEssentials
import MarketplaceCore
import Testing

@Suite("dates and stays")
struct DateTests {
  @Test("days since the epoch round-trip through year, month, day, across eras and leap days")
  func civilRoundTrip() throws {
    #expect(LocalDate(year: 1970, month: 1, day: 1)?.daysSinceEpoch == 0)
    #expect(LocalDate(year: 2000, month: 3, day: 1)?.daysSinceEpoch == 11_017)
    #expect(LocalDate(year: 1, month: 1, day: 1)?.daysSinceEpoch == -719_162)
    for days in stride(from: -719_162, through: 2_932_896, by: 997) {
      let date = LocalDate(daysSinceEpoch: days)
      let (year, month, day) = date.components
      #expect(LocalDate(year: year, month: month, day: day) == date)
    }
  }

  @Test("only real dates exist: month lengths, leap years (÷4, not ÷100, but ÷400), 1...9999")
  func validation() {
    #expect(LocalDate(year: 2024, month: 2, day: 29) != nil)
    #expect(LocalDate(year: 2025, month: 2, day: 29) == nil)
    #expect(LocalDate(year: 1900, month: 2, day: 29) == nil)
    #expect(LocalDate(year: 2000, month: 2, day: 29) != nil)
    #expect(LocalDate(year: 2025, month: 4, day: 31) == nil)
    #expect(LocalDate(year: 2025, month: 13, day: 1) == nil)
    #expect(LocalDate(year: 2025, month: 1, day: 0) == nil)
    #expect(LocalDate(year: 0, month: 1, day: 1) == nil)
    #expect(LocalDate(year: 10_000, month: 1, day: 1) == nil)
  }

  @Test("ISO text: exactly YYYY-MM-DD both ways")
  func isoText() {
    #expect(LocalDate(iso: "2025-07-04")?.description == "2025-07-04")
    #expect(LocalDate(iso: "0001-01-01")?.description == "0001-01-01")
    for bad in ["2025-7-04", "2025-07-4", "2025/07/04", "20250704", "2025-02-30", "2025-07-04 ", "+025-07-04", ""] {
      #expect(LocalDate(iso: bad) == nil, "\(bad)")
    }
  }

  @Test("a stay is half-open: back-to-back stays do not overlap; nights are the difference")
  func stays() throws {
    let day = { (d: Int) in LocalDate(year: 2025, month: 7, day: d)! }
    let first = try #require(DateRange(checkIn: day(1), checkOut: day(4)))
    let next = try #require(DateRange(checkIn: day(4), checkOut: day(6)))
    let inside = try #require(DateRange(checkIn: day(2), checkOut: day(3)))
    #expect(first.nights == 3)
    #expect(!first.overlaps(next) && !next.overlaps(first))
    #expect(first.overlaps(inside) && inside.overlaps(first))
    #expect(DateRange(checkIn: day(4), checkOut: day(4)) == nil)
    #expect(DateRange(checkIn: day(5), checkOut: day(4)) == nil)
    #expect(first.description == "[2025-07-01,2025-07-04)")
  }

  @Test("timestamps print as UTC ISO 8601 with microseconds, before and after the epoch")
  func timestamps() {
    #expect(Timestamp(microsecondsSinceEpoch: 0).description == "1970-01-01T00:00:00.000000Z")
    #expect(
      Timestamp(microsecondsSinceEpoch: 1_748_779_200_000_001).description
        == "2025-06-01T12:00:00.000001Z")
    #expect(Timestamp(microsecondsSinceEpoch: -1).description == "1969-12-31T23:59:59.999999Z")
    #expect(Timestamp(microsecondsSinceEpoch: -1).utcDate == LocalDate(year: 1969, month: 12, day: 31))
  }
}

@Suite("money and identifiers")
struct MoneyTests {
  @Test("currency codes are exactly three upper-case letters")
  func currencyCodes() {
    #expect(CurrencyCode("EUR")?.code == "EUR")
    for bad in ["eur", "EURO", "EU", "E1R", "", "ÉUR"] { #expect(CurrencyCode(bad) == nil, "\(bad)") }
  }

  @Test("multiplying money reports overflow instead of trapping")
  func multiplication() throws {
    let eur = try #require(CurrencyCode("EUR"))
    #expect(Money(amountMinor: 12_500, currency: eur).multiplied(by: 3)?.amountMinor == 37_500)
    #expect(Money(amountMinor: .max / 2, currency: eur).multiplied(by: 3) == nil)
  }

  @Test("ids parse either case and print lower case; kinds of id do not mix")
  func identifiers() throws {
    let id = try #require(UserID("4B9E6C2A-0D1F-4E5B-9A7C-1234567890AB"))
    #expect(id.description == "4b9e6c2a-0d1f-4e5b-9a7c-1234567890ab")
    #expect(UserID(id.description) == id)
    #expect(UserID("not-a-uuid") == nil)
    for bad in [
      "4b9e6c2a-0d1f-4e5b-9a7c-1234567890a", "4b9e6c2a-0d1f-4e5b-9a7c-1234567890abc",
      "4b9e6c2a0d1f-4e5b-9a7c-1234567890abc",
      "4b9e6c2a-0d1f-4e5b-9a7c-1234567890ag", "4b9e6c2a_0d1f-4e5b-9a7c-1234567890ab", "",
      "{4b9e6c2a-0d1f-4e5b-9a7c-1234567890ab}",
    ] {
      #expect(UserID(bad) == nil, "\(bad)")
    }
    // Any byte but a hex digit is refused, wherever it stands, and every hex digit is read.
    let valid = Array("4b9e6c2a-0d1f-4e5b-9a7c-1234567890ab".utf8)
    let hexDigits = Array("0123456789abcdefABCDEF".utf8)
    for position in [0, 9, 17, 35] {
      for byte in UInt8.min...UInt8.max {
        var text = valid
        text[position] = byte
        let parsed = text.withUnsafeBytes { UserID(utf8: $0) }
        if hexDigits.contains(byte) {
          let lowerCase = byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "F") ? byte + 32 : byte
          #expect(parsed.map { Array($0.description.utf8)[position] } == lowerCase, "byte \(byte) at \(position)")
        } else {
          #expect(parsed == nil, "byte \(byte) at \(position)")
        }
      }
    }
    // Agrees with Foundation both ways.
    for _ in 0..<100 {
      let uuid = UUID()
      #expect(UserID(uuid.uuidString)?.uuid == uuid)
      #expect(UserID(uuid).description == uuid.uuidString.lowercased())
    }
    #expect(UserID.random() != UserID.random())
  }

  @Test("a rating's average is nil with no reviews")
  func ratingAverage() {
    #expect(Property.Rating(sum: 0, count: 0).average == nil)
    #expect(Property.Rating(sum: 9, count: 2).average == 4.5)
  }
}
