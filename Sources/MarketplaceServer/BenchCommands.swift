import ArgumentParser
import Foundation
import MarketplaceCore
import MarketplaceRPC
import MarketplaceStorage
import Postgres

/// The statements `Scripts/bench --database` loads, shared by our side and pgbench's, so that
/// the two run the very same SQL: taken from the repositories, never written twice.
enum BenchWorkload: String, CaseIterable, ExpressibleByArgument {
  case getProperty = "get-property"
  case search
  case booking

  /// The search the benchmark's SearchProperties request asks (Paris, 2 guests, a free stay,
  /// page size 20 plus the one that tells whether another page follows).
  static let parisSearch = PropertySearch(
    city: "Paris", guests: 2,
    stay: DateRange(
      checkIn: LocalDate(year: 2025, month: 7, day: 1)!, checkOut: LocalDate(year: 2025, month: 7, day: 5)!),
    limit: 21)

  /// The booking transaction: what `CreateBooking` runs for a stay, then what `CancelBooking`
  /// runs for that booking while it is pending and unpaid (`BookingService`), statement for
  /// statement, in their order. The values a handler computes between them (the price, the
  /// deadlines) are fixed here.
  static func booking(id: BookingID, propertyID: PropertyID, guestID: UserID, stay: DateRange)
    -> (create: [SQL], cancel: [SQL])
  {
    let deadline = Timestamp(microsecondsSinceEpoch: 4_102_444_800_000_000)  // 2100-01-01
    let now = Timestamp(microsecondsSinceEpoch: 1_767_225_600_000_000)  // 2026-01-01
    return (
      [
        PropertyRepository.findForShare(id: propertyID).sql,
        BookingRepository.insert(
          id: id, propertyID: propertyID, guestID: guestID, stay: stay, guests: 2,
          totalPrice: Money(amountMinor: 40_000, currency: CurrencyCode("EUR")!), expiresAt: deadline
        ).sql,
        MarketplaceJobs.lapse(of: id, at: deadline).sql,
      ],
      [
        BookingRepository.findWithListing(id: id, locked: true).sql,
        PaymentRepository.livePayment(bookingID: id).sql,
        BookingRepository.transition(id: id, from: .pending, to: .cancelled).sql,
        MarketplaceJobs.notify(.cancelled, of: id, now: now).sql,
        BookingRepository.announceChange(of: id).sql,
      ]
    )
  }
}

/// `marketplace-server bench-sql WORKLOAD`: prints the workload's statements as a pgbench script
/// (`-M prepared`), values as pgbench variables, each defined on a `-- define NAME=VALUE` line.
struct BenchSQLCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "bench-sql", abstract: "Prints a benchmark workload's SQL as a pgbench script (Scripts/bench).")

  @Argument var workload: BenchWorkload
  @Option(help: "The listing GetProperty reads, or the booking transaction books.") var propertyID: String?
  @Option(help: "The guest of the booking transaction.") var guestID: String?

  func run() throws {
    switch workload {
    case .getProperty:
      guard let id = propertyID.flatMap(PropertyID.init) else { throw ValidationError("--property-id is needed") }
      print(Self.script([PropertyRepository.find(id: id).sql]))
    case .search:
      print(Self.script([PropertyRepository.search(BenchWorkload.parisSearch).sql]))
    case .booking:
      guard let property = propertyID.flatMap(PropertyID.init), let guest = guestID.flatMap(UserID.init) else {
        throw ValidationError("--property-id and --guest-id are needed")
      }
      // Each pgbench client books a week of one of 300 years of its own, at random (no two
      // clients ever overlap), as the RPC clients of `Scripts/bench` do; the booking's id, dates
      // and job payloads come from one SELECT per transaction (the server makes them in Swift).
      let stay = DateRange(
        checkIn: LocalDate(year: 3000, month: 7, day: 1)!, checkOut: LocalDate(year: 3000, month: 7, day: 5)!)!
      let placeholder = BookingID.random()
      let (create, cancel) = BenchWorkload.booking(
        id: placeholder, propertyID: property, guestID: guest, stay: stay)
      let fromSelect = [
        "\(placeholder)": ":bid", "\(stay.checkIn)": ":ci", "\(stay.checkOut)": ":co",
        JobPayload(["booking_id": "\(placeholder)"]).json: ":lapse",
        JobPayload(["booking_id": "\(placeholder)", "event": "cancelled"]).json: ":notice",
      ]
      let prelude = """
        \\set slot random(0, 15599)
        \\set year 3000 + :client_id * 300 + :slot / 52
        SELECT b AS bid, make_date(:year, 1, 1) + 7 * (:slot % 52) AS ci, \
        make_date(:year, 1, 1) + 7 * (:slot % 52) + 4 AS co, \
        json_build_object('booking_id', b)::text AS lapse, \
        json_build_object('booking_id', b, 'event', 'cancelled')::text AS notice FROM gen_random_uuid() b \\gset
        """
      var defines: [String] = []
      var lines: [String] = []
      for (name, statements) in [("b", create), ("c", cancel)] {
        lines.append("BEGIN;")
        for (index, sql) in statements.enumerated() {
          lines.append(Self.line(sql, prefix: "\(name)\(index)_", fromSelect: fromSelect, defines: &defines))
        }
        lines.append("COMMIT;")
      }
      print((defines + [prelude] + lines).joined(separator: "\n"))
    }
  }

  /// One statement per line, `$n` become `:pn`, values defined in comments.
  static func script(_ statements: [SQL]) -> String {
    var defines: [String] = []
    let lines = statements.enumerated().map { index, sql in
      line(sql, prefix: "s\(index)", fromSelect: [:], defines: &defines)
    }
    return (defines + lines).joined(separator: "\n")
  }

  /// The statement on one line with `$n` as pgbench variables: those of `fromSelect` (values the
  /// script's SELECT makes per transaction), else `:<prefix><n>`, defined in `defines`.
  static func line(_ sql: SQL, prefix: String, fromSelect: [String: String], defines: inout [String]) -> String {
    var text = sql.text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
      .joined(separator: " ")
    for index in stride(from: sql.bindings.count, through: 1, by: -1) {
      let value = sql.bindings.literal(at: index - 1) ?? ""
      let variable: String
      if let selected = fromSelect[value] {
        variable = selected
      } else {
        variable = ":\(prefix)\(index)"
        defines.append("-- define \(prefix)\(index)=\(value)")
      }
      text = text.replacingOccurrences(of: "$\(index)", with: variable)
    }
    return text + ";"
  }
}
