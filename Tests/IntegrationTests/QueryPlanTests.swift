import Foundation
import MarketplaceCore
import MarketplaceStorage
import Postgres
import Testing

/// Every statement the repositories issue has an index path: on a seeded, analyzed data set the
/// whole repository workload runs with `auto_explain` sending each executed statement's plan back
/// as a notice, and no plan may scan users, properties, bookings, payments, reviews, jobs or the
/// outbox sequentially, nor read and discard more than `maximumRowsFiltered` of their rows (an index
/// walked in the wrong order, filtering on what should have been its condition), nor fully sort
/// their rows below a LIMIT (a page must be read in index order, so that it stops after the page
/// however many rows match; an incremental sort of ties is fine). It runs twice:
/// with the custom plans PostgreSQL makes for a prepared statement's first executions, and with
/// the generic plan it may switch to afterwards.
@Suite("query plans", .enabled(if: TestDatabase.shouldRun, TestDatabase.disabledReason))
struct QueryPlanTests {
  static let guarded: Set<String> = ["users", "properties", "bookings", "payments", "reviews", "jobs", "outbox"]
  /// Rows of a guarded table a plan node may read and then drop by a filter (a page is 20 to 100
  /// rows; a city has up to ~50 listings at this size).
  static let maximumRowsFiltered = 200

  /// A tenth of the default data set: big enough that the planner's choices are the real ones.
  static var seedConfig: Seeder.Config {
    var config = Seeder.Config()
    config.users = 1_000
    config.properties = 5_000
    config.bookings = 50_000
    config.reviews = 20_000
    config.seed = 7
    return config
  }

  @Test("no repository statement scans a guarded table sequentially, in custom or generic plans")
  func indexPaths() async throws {
    try await TestDatabase.withPool(maximumConnections: 1, migrated: true) { pool, _ in
      _ = try await Seeder.seed(pool, config: Self.seedConfig, logger: TestDatabase.logger)
      try await pool.withConnection { try $0.executeScript(Self.queueBacklog) }
      let samples = try await pool.withConnection { try Samples(loadingFrom: $0) }
      for planCacheMode in ["force_custom_plan", "force_generic_plan"] {
        let (plans, statements, plannedPerExecution, methods) = try await pool.withConnection { session in
          try Self.explainWorkload(session, samples, planCacheMode: planCacheMode)
        }
        // The workload calls every repository method that returns a statement: none is added
        // without a plan check.
        let missing = try RepositoryCatalog.methods().subtracting(methods)
        #expect(missing.isEmpty, "repository methods the workload does not run: \(missing.sorted())")
        // Every statement the workload ran was explained (96 search shapes included).
        #expect(Set(plans.map(\.queryText)) == statements, "\(planCacheMode)")
        // Statements planned per execution never run with a generic plan.
        for plan in plans where planCacheMode == "force_custom_plan" || !plannedPerExecution.contains(plan.queryText) {
          let scans = plan.sequentialScans.intersection(Self.guarded)
          #expect(
            scans.isEmpty, "\(planCacheMode): sequential scan of \(scans.sorted()) in:\n\(plan.queryText)\n\(plan.json)"
          )
          let filtered = plan.rowsFiltered.filter {
            Self.guarded.contains($0.key) && $0.value > Self.maximumRowsFiltered
          }
          #expect(
            filtered.isEmpty,
            "\(planCacheMode): rows read and filtered out \(filtered) in:\n\(plan.queryText)\n\(plan.json)")
          // A custom plan sees the values, and rightly sorts a handful of rows; a generic plan
          // does not, so sorting there means sorting every match, however many the data grow to.
          if planCacheMode == "force_generic_plan" {
            let sorted = plan.sortedBelowLimit.intersection(Self.guarded)
            #expect(
              sorted.isEmpty, "all rows of \(sorted.sorted()) sorted for a LIMIT in:\n\(plan.queryText)\n\(plan.json)")
          }
        }
      }
    }
  }

  /// The queues as they look in production: jobs that mostly ran (a few of them failed or dead),
  /// a due backlog, jobs scheduled for later, and one running job per worker; and a recipient with
  /// thousands of messages in the outbox.
  static let queueBacklog: SQL = """
    INSERT INTO jobs (kind, state, attempts, run_after, lease_owner, created_at)
      SELECT 'booking.expire', 'succeeded', 1, now() - g * interval '30 seconds', 'w', now() - g * interval '30 seconds'
      FROM generate_series(1, 50000) g;
    INSERT INTO jobs (kind, state, attempts, run_after, last_error)
      SELECT 'payment.process', CASE WHEN g % 2 = 0 THEN 'dead' ELSE 'failed' END, 10,
        now() - g * interval '1 hour', 'gateway timeout'
      FROM generate_series(1, 200) g;
    INSERT INTO jobs (kind, payload, run_after)
      SELECT 'booking.expire', jsonb_build_object('booking_id', gen_random_uuid()::text), now() - g * interval '1 second'
      FROM generate_series(1, 1000) g;
    INSERT INTO jobs (kind, run_after) SELECT 'booking.expire', now() + g * interval '1 minute' FROM generate_series(1, 5000) g;
    INSERT INTO jobs (kind, state, attempts, run_after, lease_owner, lease_expires_at)
      SELECT 'payment.process', 'running', 1, now() - interval '1 hour', 'w' || g, now() + interval '1 minute'
      FROM generate_series(1, 4) g;
    ANALYZE jobs;
    -- Thousands of messages for the guest the workload notifies (a frequent guest, a busy host).
    INSERT INTO outbox (recipient_id, kind, payload)
      SELECT (SELECT guest_id FROM bookings ORDER BY id LIMIT 1), 'booking.confirmed',
        jsonb_build_object('booking_id', gen_random_uuid()::text)
      FROM generate_series(1, 20000) g;
    ANALYZE outbox;
    """

  /// Runs the workload in a transaction (rolled back: the seeded data stay as they are) with
  /// `auto_explain` sending every plan back as a notice.
  static func explainWorkload(_ session: PGSession, _ samples: Samples, planCacheMode: String) throws -> (
    plans: [Plan], statements: Set<String>, plannedPerExecution: Set<String>, methods: Set<String>
  ) {
    try session.execute("BEGIN")
    try session.executeScript(
      SQL(
        unsafeRaw: """
          LOAD 'auto_explain';
          SET LOCAL auto_explain.log_min_duration = 0;
          SET LOCAL auto_explain.log_format = json;
          SET LOCAL auto_explain.log_analyze = on;
          SET LOCAL auto_explain.log_timing = off;
          SET LOCAL auto_explain.log_level = notice;
          SET LOCAL client_min_messages = notice;
          SET LOCAL plan_cache_mode = \(planCacheMode);
          """))
    // A prepared statement's plan arrives when its portal is dropped, during the next
    // statement: so the ROLLBACK is captured too.
    let workload = RecordingSession(session)
    let (_, notices) = try session.capturingNotices { () throws(PGError) in
      try Workload.run(workload, samples)
      try session.execute("ROLLBACK")
    }
    return (notices.compactMap(Plan.init(notice:)), workload.statements, workload.plannedPerExecution, workload.methods)
  }
}

/// Values from the seeded data, so that every statement runs with realistic parameters.
struct Samples {
  var userEmail: String
  var userID: UserID
  var hostID: UserID
  var propertyID: PropertyID
  var city: String
  var country: String
  var bookingID: BookingID
  var guestID: UserID
  var paymentID: PaymentID
  var payerID: UserID
  var idempotencyKey: String
  var reviewedPropertyID: PropertyID
  var today: LocalDate
  /// The database's time: the domain time the job queue's statements are given.
  var now: Timestamp

  init(loadingFrom session: PGSession) throws {
    func one(_ sql: SQL) throws -> PGRow { try #require(try session.query(sql).first) }
    var row = try one("SELECT id, email FROM users WHERE role = 'guest' ORDER BY id LIMIT 1")
    userID = try #require(UserID(try row.string(0)!))
    userEmail = try row.string(1)!.uppercased()
    row = try one(
      "SELECT id, host_id FROM properties WHERE deleted_at IS NULL ORDER BY id LIMIT 1")
    propertyID = try #require(PropertyID(try row.string(0)!))
    hostID = try #require(UserID(try row.string(1)!))
    row = try one("SELECT city, country FROM properties GROUP BY city, country ORDER BY count(*) DESC LIMIT 1")
    city = try row.string(0)!.uppercased()
    country = try row.string(1)!
    row = try one("SELECT id, guest_id FROM bookings ORDER BY id LIMIT 1")
    bookingID = try #require(BookingID(try row.string(0)!))
    guestID = try #require(UserID(try row.string(1)!))
    row = try one("SELECT id, payer_id, idempotency_key FROM payments ORDER BY id LIMIT 1")
    paymentID = try #require(PaymentID(try row.string(0)!))
    payerID = try #require(UserID(try row.string(1)!))
    idempotencyKey = try row.string(2)!
    row = try one("SELECT property_id FROM reviews GROUP BY property_id ORDER BY count(*) DESC LIMIT 1")
    reviewedPropertyID = try #require(PropertyID(try row.string(0)!))
    today = Seeder.Config().today
    now = try #require(try one("SELECT now()").decode(0, as: Timestamp.self))
  }
}

/// Runs queries on a session and remembers which statements ran and which repository methods
/// built them.
final class RecordingSession {
  let session: PGSession
  /// Statement texts.
  private(set) var statements: Set<String> = []
  /// Those of them planned for their values at every execution.
  private(set) var plannedPerExecution: Set<String> = []
  /// "File.swift method(labels:)", as `RepositoryCatalog` names them.
  private(set) var methods: Set<String> = []

  init(_ session: PGSession) { self.session = session }

  func run<T>(_ query: PGQuery<T>) throws(PGError) -> T {
    statements.insert(query.sql.text)
    if query.sql.isPlannedPerExecution { plannedPerExecution.insert(query.sql.text) }
    methods.insert("\(query.origin.file.description.split(separator: "/").last!) \(query.origin.function)")
    return try session.run(query)
  }
}

/// Every method of the repositories that returns a statement (`-> PGQuery`), read from their
/// source: the list nobody keeps by hand.
enum RepositoryCatalog {
  static let farFuture = Timestamp(microsecondsSinceEpoch: 4_102_444_800_000_000)  // 2100-01-01

  static func methods() throws -> Set<String> {
    let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
      .deletingLastPathComponent().appendingPathComponent("Sources/MarketplaceStorage/Repositories")
    let declaration = try NSRegularExpression(
      pattern: #"public static func (\w+)\(([^)]*)\)\s*->\s*PGQuery"#, options: [.dotMatchesLineSeparators])
    var methods: Set<String> = []
    for file in try FileManager.default.contentsOfDirectory(atPath: directory.path) where file.hasSuffix(".swift") {
      let source = try String(contentsOf: directory.appendingPathComponent(file), encoding: .utf8)
      for match in declaration.matches(in: source, range: NSRange(source.startIndex..., in: source)) {
        let name = source[Range(match.range(at: 1), in: source)!]
        let labels = source[Range(match.range(at: 2), in: source)!].split(separator: ",").map { parameter in
          parameter.split(separator: ":")[0].split(whereSeparator: \.isWhitespace)[0] + ":"
        }
        methods.insert("\(file) \(name)(\(labels.joined()))")
      }
    }
    precondition(methods.count > 40, "the repository sources were not found under \(directory.path)")
    return methods
  }
}

/// One call of every repository method (each search shape included): the statements the API
/// issues.
enum Workload {
  static func run(_ session: RecordingSession, _ s: Samples) throws(PGError) {
    let eur = CurrencyCode("EUR")!
    let stay = DateRange(checkIn: s.today.adding(days: 30), checkOut: s.today.adding(days: 34))!

    // Users, sessions and server keys.
    let user = try session.run(
      UserRepository.insert(
        id: .random(), email: "plan.test@example.com", passwordHash: "$argon2id$v=19$m=1,t=1,p=1$c2FsdA$aGFzaA",
        displayName: "Plan Test", phone: nil, role: .guest))
    _ = try session.run(UserRepository.find(id: s.userID))
    _ = try session.run(UserRepository.find(email: s.userEmail))
    _ = try session.run(
      UserRepository.updateProfile(id: user.id, displayName: "Plan Tested", phone: "+33 1 23"))
    _ = try session.run(UserRepository.updateRole(id: user.id, role: .host))
    let token = [UInt8](repeating: 7, count: 32)
    _ = try session.run(
      UserRepository.insertSession(
        id: .random(), userID: user.id, tokenHash: token,
        expiresAt: Timestamp(microsecondsSinceEpoch: 4_102_444_800_000_000)))
    _ = try session.run(UserRepository.activeSession(tokenHash: token))
    _ = try session.run(UserRepository.revokeSession(id: .random()))
    _ = try session.run(UserRepository.revokeSessions(userID: s.userID))
    _ = try session.run(UserRepository.revokeSessions(userID: s.userID, except: .random()))
    _ = try session.run(
      UserRepository.updatePasswordHash(id: user.id, passwordHash: "$argon2id$v=19$m=1,t=1,p=1$c2FsdA$aGFzaB"))
    _ = try session.run(ServerKeyRepository.insertIfAbsent(name: "plan", candidate: [UInt8](repeating: 1, count: 32)))
    _ = try session.run(ServerKeyRepository.key(named: "plan"))

    // Properties, and the search shapes.
    let listing = Listing(
      name: "Plan flat", description: "",
      location: .init(address: "1 rue", city: "Paris", country: "FR", coordinates: nil),
      pricePerNight: Money(amountMinor: 9_000, currency: eur), maxGuests: 2)
    let property = try session.run(PropertyRepository.insert(id: .random(), hostID: user.id, listing: listing))
    _ = try session.run(PropertyRepository.find(id: s.propertyID))
    _ = try session.run(PropertyRepository.update(id: property.id, listing: listing))
    _ = try session.run(PropertyRepository.findForUpdate(id: s.propertyID))
    _ = try session.run(PropertyRepository.findForShare(id: s.propertyID))
    _ = try session.run(PropertyRepository.list(hostID: s.hostID, includingDeleted: false, limit: 20))
    _ = try session.run(
      PropertyRepository.list(
        hostID: s.hostID, includingDeleted: true,
        after: .init(createdAt: Timestamp(microsecondsSinceEpoch: 4_102_444_800_000_000), id: s.propertyID), limit: 20))
    _ = try session.run(PropertyRepository.delete(id: property.id))
    // A big city, and one with no listing (which must not walk every listing by price); each
    // order, with and without a currency, a stay and a cursor.
    let eurCode = CurrencyCode("EUR")!
    for (city, country) in [
      (s.city, s.country), (s.city, nil), ("Nowhere", s.country), ("Nowhere", nil), (nil, s.country), (nil, nil),
    ] {
      for order in PropertySearch.Order.allCases {
        let cursor: PropertySearch.Cursor =
          switch order {
          case .price: .price(10_000, s.propertyID)
          case .rating: .rating(4.2, s.propertyID)
          case .newest: .newest(Timestamp(microsecondsSinceEpoch: 1_700_000_000_000_000), s.propertyID)
          }
        for currency in [eurCode, nil] {
          for stay in [stay, nil] {
            for after in [cursor, nil] {
              _ = try session.run(
                PropertyRepository.search(
                  PropertySearch(
                    city: city, country: country, currency: currency, minPricePerNightMinor: 5_000,
                    maxPricePerNightMinor: 30_000, guests: 2, stay: stay, minRating: 3.5, order: order, limit: 20,
                    after: after)))
            }
          }
        }
      }
    }

    // Bookings and jobs.
    let booking = try session.run(
      BookingRepository.insert(
        id: .random(), propertyID: s.propertyID, guestID: user.id,
        stay: DateRange(
          checkIn: LocalDate(year: 2031, month: 1, day: 1)!, checkOut: LocalDate(year: 2031, month: 1, day: 3)!)!,
        guests: 1, totalPrice: Money(amountMinor: 20_000, currency: eur),
        expiresAt: Timestamp(microsecondsSinceEpoch: 4_102_444_800_000_000)))
    _ = try session.run(BookingRepository.find(id: s.bookingID))
    _ = try session.run(BookingRepository.activeStays(propertyID: s.propertyID, within: stay))
    _ = try session.run(BookingRepository.countUpcoming(propertyID: s.propertyID, timeZone: "Europe/Paris"))
    _ = try session.run(
      JobRepository.enqueue(
        kind: "booking.expire", payload: ["booking_id": "\(booking.id)"], runAfter: booking.expiresAt!, maxAttempts: 5))
    _ = try session.run(
      BookingRepository.transition(
        id: booking.id, from: .pending, to: .confirmed, deadline: RepositoryCatalog.farFuture))
    _ = try session.run(BookingRepository.completeEnded(at: RepositoryTests.noon(s.today), limit: 100))
    _ = try session.run(BookingRepository.findWithListing(id: s.bookingID))
    _ = try session.run(BookingRepository.findWithListing(id: s.bookingID, locked: true))
    let cursor = BookingRepository.Cursor(checkIn: s.today, id: s.bookingID)
    for owner: BookingRepository.Owner in [.guest(s.guestID), .host(s.hostID), .property(s.propertyID)] {
      for after in [cursor, nil] {
        _ = try session.run(BookingRepository.page(of: owner, statuses: [], after: after, limit: 21))
        _ = try session.run(BookingRepository.page(of: owner, statuses: [.confirmed], after: after, limit: 21))
      }
    }
    _ = try session.run(
      BookingRepository.transitionIfDue(
        id: s.bookingID, from: .pending, to: .cancelled, now: RepositoryCatalog.farFuture))
    _ = try session.run(BookingRepository.announceChange(of: s.bookingID))
    let blocked = DateRange(
      checkIn: LocalDate(year: 2032, month: 1, day: 1)!, checkOut: LocalDate(year: 2032, month: 1, day: 5)!)!
    let block = try session.run(
      BookingRepository.insertBlock(
        id: .random(), propertyID: s.propertyID, hostID: s.hostID, dates: blocked, currency: eurCode))
    _ = try session.run(BookingRepository.findBlock(id: block.id))
    _ = try session.run(BookingRepository.blocks(propertyID: s.propertyID, within: stay))
    _ = try session.run(BookingRepository.deleteBlock(id: block.id))
    _ = try session.run(
      OutboxRepository.insertOnce(recipientID: s.guestID, kind: "booking.confirmed", payload: #"{"booking_id":"x"}"#))

    // Payments.
    let payment = try session.run(
      PaymentRepository.insert(
        id: .random(), bookingID: booking.id, payerID: user.id, propertyID: s.propertyID,
        amount: booking.totalPrice, method: .card, idempotencyKey: "plan-test",
        requestFingerprint: [UInt8](repeating: 1, count: 32)))
    _ = try session.run(PaymentRepository.find(id: s.paymentID))
    _ = try session.run(PaymentRepository.find(payerID: s.payerID, idempotencyKey: s.idempotencyKey))
    _ = try session.run(PaymentRepository.livePayment(bookingID: s.bookingID))
    let paymentCursor = PaymentRepository.Cursor(createdAt: RepositoryCatalog.farFuture, id: s.paymentID)
    for owner: PaymentRepository.Owner in [.payer(s.payerID), .booking(s.bookingID)] {
      for after in [paymentCursor, nil] {
        _ = try session.run(PaymentRepository.page(of: owner, after: after, limit: 21))
      }
    }
    _ = try session.run(PaymentRepository.fail(id: s.paymentID, reason: "declined"))
    _ = try session.run(PaymentRepository.recordRefund(id: s.paymentID, amount: Money(amountMinor: 1, currency: eur)))
    _ = try session.run(
      SandboxGatewayRepository.record(
        key: "charge-plan", kind: "charge", amount: Money(amountMinor: 1, currency: eur), methodToken: "pm_sandbox_ok",
        reference: "sandbox_1"))
    _ = try session.run(SandboxGatewayRepository.countFailure(key: "charge-plan"))
    _ = try session.run(
      PaymentRepository.transition(id: payment.id, from: .pending, to: .succeeded, gatewayReference: "gw_1"))

    // The job queue: a worker's claims (the due backlog first) and outcomes, and the operator's
    // listings and requeueing.
    let worker = "plan-host:1:token:worker-1"
    func claim() throws(PGError) -> Int64 {
      guard let job = try session.run(JobRepository.claim(owner: worker, leaseSeconds: 60, now: s.now)) else {
        throw PGError(.unexpected, "the backlog had no due job")
      }
      return job.id
    }
    var job = try claim()
    _ = try session.run(JobRepository.extendLease(id: job, owner: worker, leaseSeconds: 60))
    _ = try session.run(JobRepository.retry(id: job, owner: worker, runAfter: s.now, error: "gateway timeout"))
    job = try claim()
    _ = try session.run(JobRepository.succeed(id: job, owner: worker))
    job = try claim()
    _ = try session.run(JobRepository.fail(id: job, owner: worker, error: "no handler for this kind"))
    job = try claim()
    _ = try session.run(JobRepository.bury(id: job, owner: worker, error: "gateway timeout"))
    _ = try session.run(JobRepository.find(id: job))
    _ = try session.run(JobRepository.retryDead(id: job, now: s.now))
    for states: [JobState] in [[.dead], [.failed, .dead], [.queued, .running], [.running], []] {
      let page = try session.run(JobRepository.list(states: states, limit: 50))
      #expect(page.map(\.id) == page.map(\.id).sorted(by: >), "newest first: \(states)")
      #expect(page.allSatisfy { states.isEmpty || states.contains($0.state) }, "\(states)")
      if states == [.failed, .dead] { #expect(page.count == 50, "a full page merged from both states") }
    }
    _ = try session.run(JobRepository.purgeSucceeded(retentionSeconds: 7 * 86_400, limit: 1_000))

    // Reviews (with and without a cursor).
    _ = try session.run(BookingRepository.transition(id: booking.id, from: .confirmed, to: .completed))
    let review = try session.run(
      ReviewRepository.insert(
        id: .random(), bookingID: booking.id, propertyID: s.propertyID, authorID: user.id, rating: 5,
        comment: "Great"))
    _ = try session.run(ReviewRepository.list(propertyID: s.reviewedPropertyID, after: nil, limit: 20))
    _ = try session.run(
      ReviewRepository.list(
        propertyID: s.reviewedPropertyID, after: Review.Cursor(createdAt: review.createdAt, id: review.id),
        limit: 20))
  }
}

/// One statement's plan, from an `auto_explain` notice (JSON format).
struct Plan {
  var queryText: String
  var json: String
  var sequentialScans: Set<String>
  /// Per relation, the most rows one node read and dropped by a filter (ANALYZE figures).
  var rowsFiltered: [String: Int]
  /// Relations whose rows a full Sort below a Limit orders (so every matching row is read).
  var sortedBelowLimit: Set<String>

  init?(notice: PGNotice) {
    guard let start = notice.message.firstIndex(of: "{") else { return nil }
    json = String(notice.message[start...])
    guard let object = try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any],
      let text = object["Query Text"] as? String, let root = object["Plan"] as? [String: Any]
    else { return nil }
    queryText = text
    var scans: Set<String> = []
    var filtered: [String: Int] = [:]
    var sorted: Set<String> = []
    /// Returns the relations scanned in `node`'s subtree.
    @discardableResult
    func walk(_ node: [String: Any], belowLimit: Bool) -> Set<String> {
      let type = node["Node Type"] as? String
      var relations: Set<String> = []
      if let relation = node["Relation Name"] as? String {
        relations.insert(relation)
        if type == "Seq Scan" { scans.insert(relation) }
        // Per loop, as EXPLAIN reports it: times the loops.
        let removed = (node["Rows Removed by Filter"] as? Int ?? 0) * max(1, node["Actual Loops"] as? Int ?? 1)
        filtered[relation] = max(filtered[relation] ?? 0, removed)
      }
      for child in node["Plans"] as? [[String: Any]] ?? [] {
        relations.formUnion(walk(child, belowLimit: belowLimit || type == "Limit"))
      }
      if type == "Sort" && belowLimit { sorted.formUnion(relations) }
      return relations
    }
    walk(root, belowLimit: false)
    sequentialScans = scans
    rowsFiltered = filtered
    sortedBelowLimit = sorted
  }
}
