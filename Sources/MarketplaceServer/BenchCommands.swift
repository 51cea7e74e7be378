import ArgumentParser
import Foundation
import Logging
import MarketplaceCore
import MarketplaceRPC
import MarketplaceStorage
import Postgres
import RPCCore

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

  /// The expiry job's payload for booking `id`.
  static func jobPayload(_ id: BookingID) -> JobPayload { ["booking_id": "\(id)"] }

  /// The booking transaction's statements for one stay: insert the booking and its expiry job
  /// (one transaction), then cancel it again so the data set stays the same.
  static func booking(id: BookingID, propertyID: PropertyID, guestID: UserID, stay: DateRange)
    -> (insert: PGQuery<Booking>, job: PGQuery<Int64>, cancel: PGQuery<Booking?>)
  {
    let expiresAt = Timestamp(microsecondsSinceEpoch: 4_102_444_800_000_000)  // 2100-01-01
    return (
      BookingRepository.insert(
        id: id, propertyID: propertyID, guestID: guestID, stay: stay, guests: 2,
        totalPrice: Money(amountMinor: 40_000, currency: CurrencyCode("EUR")!), expiresAt: expiresAt),
      JobRepository.enqueue(kind: "booking.expire", payload: jobPayload(id), runAfter: expiresAt),
      BookingRepository.transition(id: id, from: .pending, to: .cancelled)
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
      // Each pgbench client books its own year (no two clients ever overlap); the booking's id,
      // dates and job payload come from one SELECT per transaction (our side makes them in Swift).
      let stay = DateRange(
        checkIn: LocalDate(year: 3000, month: 7, day: 1)!, checkOut: LocalDate(year: 3000, month: 7, day: 5)!)!
      let placeholder = BookingID.random()
      let (insert, job, cancel) = BenchWorkload.booking(
        id: placeholder, propertyID: property, guestID: guest, stay: stay)
      let fromSelect = [
        "\(placeholder)": ":bid", "\(stay.checkIn)": ":ci", "\(stay.checkOut)": ":co",
        BenchWorkload.jobPayload(placeholder).json: ":payload",
      ]
      let prelude = """
        \\set year 3000 + :client_id
        SELECT b AS bid, (:year || '-07-01') AS ci, (:year || '-07-05') AS co, \
        json_build_object('booking_id', b)::text AS payload FROM gen_random_uuid() b \\gset
        BEGIN;
        """
      var defines: [String] = []
      var lines: [String] = []
      for (name, query) in [("b", insert.sql), ("j", job.sql)] {
        lines.append(Self.line(query, prefix: name, fromSelect: fromSelect, defines: &defines))
      }
      lines.append("COMMIT;")
      lines.append(Self.line(cancel.sql, prefix: "c", fromSelect: fromSelect, defines: &defines))
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

/// `marketplace-server bench-booking`: the booking transaction of `Scripts/bench --database`
/// through `DatabaseAccess`, as a handler would run it, with `--concurrency` callers for
/// `--seconds`; prints the count, req/s, mean, p99 and max latency.
struct BenchBookingCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "bench-booking", abstract: "Loads the database with the booking transaction (Scripts/bench).")

  @OptionGroup var database: DatabaseOptions
  @Option var propertyID: String
  @Option var guestID: String
  @Option var concurrency = 16
  @Option var seconds = 10.0
  @Option var databaseConnections = PGClient.Config.defaults.maximumConnections

  func run() async throws {
    bootstrapLogging(level: .warning)
    let logger = Logger(label: "marketplace.bench")
    guard let property = PropertyID(propertyID), let guest = UserID(guestID) else {
      throw ValidationError("--property-id and --guest-id must be ids")
    }
    let opened = try await database.open(logger: logger)
    let client = try opened.client(connections: databaseConnections, logger: logger)
    let access = DatabaseAccess(client: client, logger: logger)
    let end = ContinuousClock.now + .seconds(seconds)
    let concurrency = concurrency
    let latencies = try await withThrowingTaskGroup(of: [Int64].self) { group in
      for worker in 0..<concurrency {
        group.addTask {
          let stay = DateRange(
            checkIn: LocalDate(year: 3000 + worker, month: 7, day: 1)!,
            checkOut: LocalDate(year: 3000 + worker, month: 7, day: 5)!)!
          let context = ServerContext(
            method: MethodDescriptor(service: "bench", method: "Booking"), requestMetadata: WireMetadata(),
            peer: "bench", deadline: nil, requestEncoding: .identity, acceptEncodingHeader: nil)
          var samples: [Int64] = []
          while ContinuousClock.now < end {
            let start = ContinuousClock.now
            let (insert, job, cancel) = BenchWorkload.booking(
              id: .random(), propertyID: property, guestID: guest, stay: stay)
            _ = try await access.transaction(context, insert, job)
            _ = try await access.run(context, cancel)
            let elapsed = ContinuousClock.now - start
            samples.append(elapsed.components.seconds * 1_000_000 + elapsed.components.attoseconds / 1_000_000_000_000)
          }
          return samples
        }
      }
      return try await group.reduce(into: []) { $0 += $1 }.sorted()
    }
    client.close()
    try await opened.close()
    guard !latencies.isEmpty else { throw ValidationError("no transaction completed") }
    let mean = Double(latencies.reduce(0, +)) / Double(latencies.count)
    let p99 = latencies[min(latencies.count - 1, Int(Double(latencies.count) * 0.99))]
    print(
      "transactions=\(latencies.count) tps=\(String(format: "%.1f", Double(latencies.count) / seconds))"
        + " mean_us=\(String(format: "%.1f", mean)) p99_us=\(p99) max_us=\(latencies.last!)")
  }
}
