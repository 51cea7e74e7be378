import Dispatch
import Postgres
import Synchronization
import Testing

/// The pipelined client the request path uses: statements of many callers share connections,
/// each caller gets its own result (or error), waits are fair and bounded, and cancellation and
/// deadlines act at once.
@Suite("pipelined client", .enabled(if: TestDatabase.shouldRun, TestDatabase.disabledReason))
struct PGClientTests {
  static func number(_ value: Int) -> PGQuery<Int> {
    PGQuery("SELECT \(value)::int8") { result throws(PGError) in try result[0].int(0)! }
  }

  @Test("many concurrent callers on one connection each get their own answer")
  func pipelining() async throws {
    try await TestDatabase.withClient(maximumConnections: 1) { client, _ in
      try await withThrowingTaskGroup(of: (Int, Int).self) { group in
        for value in 0..<500 { group.addTask { (value, try await client.run(Self.number(value))) } }
        for try await (asked, answer) in group { #expect(asked == answer) }
      }
      #expect(client.statistics.open == 1)
    }
  }

  @Test(
    "callers on a serial task executor (as an RPC's event loop) are answered, failures apart, their results decoded there",
    .timeLimit(.minutes(1)))
  func callersOnAnExecutor() async throws {
    // The engine wakes for such callers once their executor has run what it queued, and hands
    // their results over in one job on it per turn, where they are decoded: a lost wake-up would
    // hang the calls here, and results completed on the engine's thread would be decoded there.
    let executor = SerialQueueExecutor()
    try await TestDatabase.withClient(maximumConnections: 2) { client, _ in
      try await withThrowingTaskGroup(of: (Int, Result<Decoded, PGError>, Bool).self) { group in
        for value in 0..<300 {
          group.addTask(executorPreference: executor) {
            // Every 10th divides by zero (22012).
            let query = PGQuery<Decoded>("SELECT 10 / \(value % 10 == 5 ? 0 : 1) + \(value)::int8") {
              result throws(PGError) in Decoded(value: try result[0].int(0)!, onExecutor: executor.isCurrent)
            }
            do {
              let answer = try await client.run(query)
              return (value, .success(answer), executor.isCurrent)
            } catch let error as PGError {
              return (value, .failure(error), executor.isCurrent)
            }
          }
        }
        var answered = 0
        for try await (value, outcome, resumedOnExecutor) in group {
          answered += 1
          #expect(resumedOnExecutor)
          switch outcome {
          case .success(let answer):
            #expect(value % 10 != 5 && answer.value == value + 10)
            #expect(answer.onExecutor, "the result of \(value) was decoded off its caller's executor")
          case .failure(let error): #expect(value % 10 == 5 && error.sqlState == .divisionByZero)
          }
        }
        #expect(answered == 300)
      }
    }
  }

  @Test("callers with and without deadlines keep to sessions already at their statement_timeout")
  func timeoutAffinity() async throws {
    try await TestDatabase.withClient(maximumConnections: 2, pipelineDepth: 1) { client, name in
      // A second connection opens while the first is busy (one request deep: nothing joins it).
      try await Self.whileConnectionIsHeld(client, database: name) { _ = try await client.run(Self.number(1)) }
      #expect(client.statistics.open == 2)

      let probe = PGQuery<ProbedSession>("SELECT pg_backend_pid()::int8, current_setting('statement_timeout')") {
        result throws(PGError) in ProbedSession(pid: try result[0].int(0)!, timeout: try result[0].string(1)!)
      }
      var withDeadline: Set<Int> = []
      var without: Set<Int> = []
      for round in 0..<10 {
        let bounded = try await client.run(probe, deadline: .now + .seconds(30))
        let unbounded = try await client.run(probe)
        #expect(bounded.timeout != "0" && unbounded.timeout == "0")
        if round > 0 {  // the first round sets one session's timeout
          withDeadline.insert(bounded.pid)
          without.insert(unbounded.pid)
        }
      }
      #expect(withDeadline.count == 1 && without.count == 1 && withDeadline != without)
    }
  }

  @Test("a failing statement in a shared pipeline fails only its own call")
  func failureIsolation() async throws {
    try await TestDatabase.withClient(maximumConnections: 1) { client, _ in
      let outcomes = try await withThrowingTaskGroup(of: (Int, Result<Int, PGError>).self) { group in
        for value in 0..<40 {
          group.addTask {
            // Every 10th divides by zero (22012).
            let query = PGQuery<Int>("SELECT 10 / \(value % 10 == 5 ? 0 : 1) + \(value)::int8") {
              result throws(PGError) in try result[0].int(0)!
            }
            do { return (value, .success(try await client.run(query))) } catch let error as PGError {
              return (value, .failure(error))
            }
          }
        }
        return try await group.reduce(into: [Int: Result<Int, PGError>]()) { $0[$1.0] = $1.1 }
      }
      for (value, outcome) in outcomes {
        switch outcome {
        case .success(let answer): #expect(value % 10 != 5 && answer == value + 10)
        case .failure(let error): #expect(value % 10 == 5 && error.sqlState == .divisionByZero)
        }
      }
    }
  }

  @Test("statements in one run share a round trip and an implicit transaction")
  func batches() async throws {
    try await TestDatabase.withClient { client, _ in
      _ = try await client.run(.execute("CREATE TABLE t (v int PRIMARY KEY)"))
      let (a, b) = try await client.run(Self.number(1), Self.number(2))
      #expect(a == 1 && b == 2)
      // The second insert fails: the first is rolled back with it.
      await #expect(throws: PGError.self) {
        try await client.run(PGQuery.execute("INSERT INTO t VALUES (1)"), PGQuery.execute("INSERT INTO t VALUES (1)"))
      }
      #expect(try await client.run(PGQuery("SELECT count(*) FROM t") { try $0[0].int(0)! }) == 0)
      // BEGIN ... COMMIT at an isolation level, in one round trip.
      let (inserted, level) = try await client.transaction(
        isolation: .repeatableRead, PGQuery.execute("INSERT INTO t VALUES (2)"),
        PGQuery("SHOW transaction_isolation") { try $0[0].string(0)! })
      #expect(inserted == 1 && level == "repeatable read")
    }
  }

  /// Runs `body` while a connection of the client runs a statement that waits for an advisory
  /// lock this test holds on a connection of its own: the connection stays busy until `body`
  /// ends, however slow the machine (a `pg_sleep` could end first on a loaded one).
  static func whileConnectionIsHeld(
    _ client: PGClient, database: String, _ body: () async throws -> Void
  ) async throws {
    let holder = try await PGConnection.connect(
      options: TestDatabase.options(database: database), logger: TestDatabase.logger)
    let lock = "SELECT pg_advisory_lock(7)"
    _ = try await holder.withSession { try $0.query(SQL(unsafeRaw: lock)) }
    let busy = Task { try await client.run(.rows(SQL(unsafeRaw: lock))) }
    do {
      try #require(
        await TestDatabase.eventually(timeout: .seconds(5)) {
          (try? await !TestDatabase.backends(in: database, runningQueryPrefix: lock).isEmpty) ?? false
        })
      try await body()
    } catch {
      busy.cancel()
      await holder.close()
      throw error
    }
    _ = try await holder.withSession { try $0.query("SELECT pg_advisory_unlock(7)") }
    await holder.close()
    _ = try await busy.value
  }

  /// Whether a `pg_sleep` statement runs on the server (not merely sent: the connection is busy).
  static func sleepIsRunning(in database: String) async -> Bool {
    await TestDatabase.eventually(timeout: .seconds(5)) {
      (try? await !TestDatabase.backends(in: database, runningQueryPrefix: "SELECT pg_sleep").isEmpty) ?? false
    }
  }

  @Test("a call whose deadline passes while it waits leaves at once, and its statement never runs")
  func deadlineWhileQueued() async throws {
    // One connection, one request deep: what comes while the sleep runs waits in the queue.
    try await TestDatabase.withClient(maximumConnections: 1, pipelineDepth: 1) { client, name in
      _ = try await client.run(.execute("CREATE TABLE ran (v int)"))
      try await Self.whileConnectionIsHeld(client, database: name) {
        let error = await #expect(throws: PGError.self) {
          _ = try await client.run(.execute("INSERT INTO ran VALUES (1)"), deadline: .now + .milliseconds(200))
        }
        #expect(error?.kind == .deadlineExceeded)
        #expect(client.statistics.inFlight == 1, "it left while the connection was still held")
      }
      #expect(try await client.run(PGQuery("SELECT count(*) FROM ran") { try $0[0].int(0)! }) == 0)
    }
  }

  @Test("a call cancelled while it waits leaves at once with .cancelled, and its statement never runs")
  func cancelWhileQueued() async throws {
    try await TestDatabase.withClient(maximumConnections: 1, pipelineDepth: 1) { client, name in
      _ = try await client.run(.execute("CREATE TABLE ran (v int)"))
      try await Self.whileConnectionIsHeld(client, database: name) {
        let waiting = Task { try await client.run(.execute("INSERT INTO ran VALUES (1)")) }
        try #require(await TestDatabase.eventually(timeout: .seconds(5)) { client.statistics.waiting == 1 })
        let start = ContinuousClock.now
        waiting.cancel()
        let error = await #expect(throws: PGError.self) { _ = try await waiting.value }
        #expect(error?.kind == .cancelled)
        #expect(ContinuousClock.now - start < .seconds(1))
      }
      #expect(try await client.run(PGQuery("SELECT count(*) FROM ran") { try $0[0].int(0)! }) == 0)
    }
  }

  @Test("cancelling a running statement stops it on the server; the connection goes on")
  func cancelRunning() async throws {
    try await TestDatabase.withClient(maximumConnections: 1) { client, name in
      let call = Task { try await client.run(.rows("SELECT pg_sleep(60)")) }
      try #require(
        await TestDatabase.eventually {
          try await !TestDatabase.backends(in: name, runningQueryPrefix: "SELECT pg_sleep").isEmpty
        })
      let start = ContinuousClock.now
      call.cancel()
      let error = await #expect(throws: PGError.self) { _ = try await call.value }
      #expect(error?.kind == .cancelled)
      #expect(ContinuousClock.now - start < .seconds(5))
      #expect(
        try await TestDatabase.eventually {
          try await TestDatabase.backends(in: name, runningQueryPrefix: "SELECT pg_sleep").isEmpty
        })
      #expect(try await client.run(Self.number(7)) == 7)
    }
  }

  @Test("a deadline ends a running statement at that instant, and becomes statement_timeout")
  func deadlineWhileRunning() async throws {
    try await TestDatabase.withClient(maximumConnections: 1) { client, _ in
      _ = try await client.run(Self.number(1))  // connected before the clock starts
      let start = ContinuousClock.now
      let error = await #expect(throws: PGError.self) {
        _ = try await client.run(.rows("SELECT pg_sleep(60)"), deadline: start + .seconds(1))
      }
      #expect(error?.kind == .deadlineExceeded)
      let elapsed = ContinuousClock.now - start
      #expect(elapsed >= .seconds(1) && elapsed < .seconds(30))
      // A PQcancel that lands late hits whatever runs next; that call is retried on its own.
      #expect(try await client.run(Self.number(2)) == 2)
      let setting = try await client.run(
        PGQuery("SHOW statement_timeout") { try $0[0].string(0)! }, deadline: .now + .seconds(3))
      #expect(setting == "5s", "3 s left rounds up to the 5 s step")
      let none = try await client.run(PGQuery("SHOW statement_timeout") { try $0[0].string(0)! })
      #expect(none == "0")
    }
  }

  @Test("callers waiting for the database are served in arrival order")
  func fairness() async throws {
    try await TestDatabase.withClient(maximumConnections: 1, pipelineDepth: 1) { client, database in
      _ = try await client.run(.execute("CREATE TABLE arrivals (position serial, v int)"))
      // The one connection stays busy until every caller is queued, however slowly they arrive.
      let busy = Task { try await client.run(.rows("SELECT pg_sleep(60)")) }
      try #require(await Self.sleepIsRunning(in: database))
      try await withThrowingTaskGroup(of: Void.self) { group in
        for value in 0..<20 {
          group.addTask { _ = try await client.run(.execute("INSERT INTO arrivals (v) VALUES (\(value))")) }
          // The next one arrives once this one waits in the queue (tasks may start in any order).
          try #require(await TestDatabase.eventually(timeout: .seconds(5)) { client.statistics.waiting == value + 1 })
        }
        try await TestDatabase.withAdmin { admin in
          _ = try admin.query(
            """
            SELECT pg_terminate_backend(pid) FROM pg_stat_activity
            WHERE datname = \(database) AND query = 'SELECT pg_sleep(60)'
            """)
        }
        try await group.waitForAll()
      }
      #expect((try? await busy.value) == nil, "the busy statement's connection was terminated")
      let order = try await client.run(
        PGQuery("SELECT v FROM arrivals ORDER BY position") { result throws(PGError) in
          try result.map { row throws(PGError) in try row.int(0)! }
        })
      #expect(order == Array(0..<20))
    }
  }

  @Test("an interactive transaction branches on results, commits, and rolls back when its body throws")
  func interactiveTransaction() async throws {
    struct Abandon: Error {}
    try await TestDatabase.withClient(maximumConnections: 2) { client, _ in
      _ = try await client.run(.execute("CREATE TABLE accounts (id int PRIMARY KEY, balance int)"))
      _ = try await client.run(.execute("INSERT INTO accounts VALUES (1, 100), (2, 0)"))
      let moved = try await client.withTransaction { tx in
        let balance = try await tx.run(
          PGQuery("SELECT balance FROM accounts WHERE id = 1 FOR UPDATE") {
            try $0[0].int(0)!
          })
        guard balance >= 30 else { return false }
        _ = try await tx.run(
          PGQuery.execute("UPDATE accounts SET balance = balance - 30 WHERE id = 1"),
          PGQuery.execute("UPDATE accounts SET balance = balance + 30 WHERE id = 2"))
        return true
      }
      #expect(moved)
      await #expect(throws: Abandon.self) {
        try await client.withTransaction { tx in
          _ = try await tx.run(.execute("UPDATE accounts SET balance = 0"))
          throw Abandon()
        }
      }
      let balances = try await client.run(
        PGQuery("SELECT balance FROM accounts ORDER BY id") { result throws(PGError) in
          try result.map { row throws(PGError) in try row.int(0)! }
        })
      #expect(balances == [70, 30])
      // The connections went back: both serve plain calls again.
      try await withThrowingTaskGroup(of: Void.self) { group in
        for value in 0..<20 {
          group.addTask {
            let answer = try await client.run(Self.number(value))
            #expect(answer == value)
          }
        }
        try await group.waitForAll()
      }
    }
  }

  @Test("two conflicting SERIALIZABLE transactions: the loser (40001) runs again and both count")
  func serializationRetry() async throws {
    try await TestDatabase.withClient(maximumConnections: 2) { client, _ in
      _ = try await client.run(.execute("CREATE TABLE counter (n int)"))
      _ = try await client.run(.execute("INSERT INTO counter VALUES (0)"))
      final class Attempts: Sendable {
        let count = Atomic<Int>(0)
        let reads = Atomic<Int>(0)
      }
      let attempts = Attempts()
      try await withThrowingTaskGroup(of: Void.self) { group in
        for _ in 0..<2 {
          group.addTask {
            try await client.withTransaction(isolation: .serializable) { tx in
              attempts.count.add(1, ordering: .relaxed)
              let n = try await tx.run(PGQuery("SELECT n FROM counter") { try $0[0].int(0)! })
              // Both read before either writes, however the two are scheduled.
              attempts.reads.add(1, ordering: .relaxed)
              #expect(
                await TestDatabase.eventually(timeout: .seconds(10)) { attempts.reads.load(ordering: .relaxed) >= 2 })
              _ = try await tx.run(.execute("UPDATE counter SET n = \(n + 1)"))
            }
          }
        }
        try await group.waitForAll()
      }
      #expect(try await client.run(PGQuery("SELECT n FROM counter") { try $0[0].int(0)! }) == 2)
      #expect(attempts.count.load(ordering: .relaxed) >= 3)
    }
  }

  @Test("an unreachable database fails calls fast with .connectionLost")
  func unreachable() async throws {
    var options = PGConnection.Options(conninfo: "postgresql:///none?host=/nonexistent-socket-directory")
    options.connectTimeout = .seconds(2)
    let client = try PGClient(config: PGClient.Config(connection: options), logger: TestDatabase.logger)
    defer { client.close() }
    for _ in 0..<3 {
      let start = ContinuousClock.now
      let error = await #expect(throws: PGError.self) { _ = try await client.run(Self.number(1)) }
      #expect(error?.kind == .connectionLost)
      // It fails rather than waits: without a deadline a wait would not end. The bound is loose, as
      // the full suite's load alone has delayed such a call by 6 s; the next check is exact.
      #expect(ContinuousClock.now - start < .seconds(60))
    }
    // A call with a deadline ends with .connectionLost, not .deadlineExceeded: it did not wait.
    let withDeadline = await #expect(throws: PGError.self) {
      _ = try await client.run(Self.number(1), deadline: .now + .seconds(120))
    }
    #expect(withDeadline?.kind == .connectionLost)
    #expect(!client.statistics.isReachable)
  }

  @Test("a connection the server kills fails what it had in flight; the next calls get a new one")
  func connectionLoss() async throws {
    try await TestDatabase.withClient(maximumConnections: 1) { client, name in
      let pid = try await client.run(PGQuery("SELECT pg_backend_pid()") { try $0[0].int32(0)! })
      let sleeper = Task { try await client.run(.rows("SELECT pg_sleep(30)")) }
      try #require(
        await TestDatabase.eventually {
          try await !TestDatabase.backends(in: name, runningQueryPrefix: "SELECT pg_sleep").isEmpty
        })
      try await TestDatabase.withAdmin { _ = try $0.query("SELECT pg_terminate_backend(\(pid))") }
      let error = await #expect(throws: PGError.self) { _ = try await sleeper.value }
      #expect(error?.kind == .connectionLost)
      let newPID = try await client.run(PGQuery("SELECT pg_backend_pid()") { try $0[0].int32(0)! })
      #expect(newPID != pid)
    }
  }

  @Test("notifications arrive; after the listener's backend is killed, listeners hear of the gap and deliveries resume")
  func notifications() async throws {
    try await TestDatabase.withClient { client, name in
      let events = Events(client.notifications(on: "bookings"))
      #expect(await events.next() == .listening)
      _ = try await client.run(.rows("SELECT pg_notify('bookings', 'first')"))
      #expect(await events.next() == .notification(channel: "bookings", payload: "first"))
      // Kill the listener's backend: the one waiting in LISTEN, not the statements' connection.
      try await TestDatabase.withAdmin { session in
        _ = try session.query(
          """
          SELECT pg_terminate_backend(pid) FROM pg_stat_activity
          WHERE datname = \(name) AND query LIKE 'LISTEN%'
          """)
      }
      #expect(await events.next() == .connectionLost)
      #expect(await events.next() == .resumedAfterGap)
      _ = try await client.run(.rows("SELECT pg_notify('bookings', 'second')"))
      #expect(await events.next() == .notification(channel: "bookings", payload: "second"))
    }
  }

  /// A notification stream read with a time limit: a missing event fails the test, not hangs it.
  final class Events: Sendable {
    private let stream: AsyncStream<PGNotification>
    init(_ stream: AsyncStream<PGNotification>) { self.stream = stream }

    func next(within limit: Duration = .seconds(10)) async -> PGNotification? {
      let stream = stream
      return await withTaskGroup(of: PGNotification?.self) { group in
        group.addTask {
          var iterator = stream.makeAsyncIterator()
          return await iterator.next()
        }
        group.addTask {
          try? await Task.sleep(for: limit)
          return nil
        }
        defer { group.cancelAll() }
        return await group.next() ?? nil
      }
    }
  }
}

/// Which backend ran a statement, under which `statement_timeout`.
struct ProbedSession: Sendable {
  let pid: Int
  let timeout: String
}

/// A decoded number, and whether the decoding ran on the caller's executor.
struct Decoded: Sendable {
  let value: Int
  let onExecutor: Bool
}

/// Runs its jobs one at a time on a queue of its own, as an event loop runs a call's task.
final class SerialQueueExecutor: TaskExecutor, @unchecked Sendable {  // queue and key are immutable
  private let queue = DispatchQueue(label: "serial-queue-executor")
  private let key = DispatchSpecificKey<Bool>()

  init() { queue.setSpecific(key: key, value: true) }

  /// Whether the caller runs on this executor's queue.
  var isCurrent: Bool { DispatchQueue.getSpecific(key: key) == true }

  func enqueue(_ job: consuming ExecutorJob) {
    let job = UnownedJob(job)
    queue.async { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
  }
}
