import Foundation
import Postgres
import Testing

@Suite(
  "pool: deadlines, cancellation, retries, loss",
  .enabled(if: TestDatabase.shouldRun, TestDatabase.disabledReason))
struct PGPoolTests {
  @Test("a transaction's deadline becomes statement_timeout: the statement fails with 57014")
  func statementTimeout() async throws {
    try await TestDatabase.withPool(maximumConnections: 1) { pool, _ in
      // Connect first: on a busy machine, connecting could use up the deadline before the
      // statement starts, which is `.deadlineExceeded`, another test's subject.
      try await pool.withConnection { try $0.execute("SELECT 1") }
      let start = ContinuousClock.now
      let error = await #expect(throws: PGError.self) {
        try await pool.withTransaction(deadline: start + .seconds(1)) { session in
          try session.query("SELECT pg_sleep(60)")
        }
      }
      let elapsed = ContinuousClock.now - start
      #expect(error?.kind == .server)
      #expect(error?.sqlState == .queryCanceled)
      #expect(error?.message.contains("statement timeout") == true)
      // Cut short: not before the deadline, and long before the 60 s sleep would end.
      #expect(elapsed >= .seconds(1) && elapsed < .seconds(30))

      // The next lease, without a deadline, runs under the server's default again.
      let after = try await pool.withConnection {
        try $0.query("SHOW statement_timeout").first!.string(0)
      }
      #expect(after == "0")
    }
  }

  @Test("withConnection's deadline also bounds statements, and is reset afterwards")
  func connectionDeadline() async throws {
    try await TestDatabase.withPool(maximumConnections: 1) { pool, _ in
      try await pool.withConnection { try $0.execute("SELECT 1") }  // connected: see above
      let error = await #expect(throws: PGError.self) {
        try await pool.withConnection(deadline: .now + .seconds(1)) { session in
          try session.query("SELECT pg_sleep(60)")
        }
      }
      #expect(error?.sqlState == .queryCanceled)
      let setting = try await pool.withConnection(deadline: .now + .seconds(30)) { session in
        try session.query("SHOW statement_timeout").first!.string(0)!
      }
      #expect(setting.hasSuffix("s"))  // e.g. "30s", set from the deadline
      let after = try await pool.withConnection {
        try $0.query("SHOW statement_timeout").first!.string(0)
      }
      #expect(after == "0")
      // Even when `body` leaves a transaction open (rolled back for it).
      try await pool.withConnection(deadline: .now + .seconds(30)) { try $0.execute("BEGIN") }
      let afterOpenTransaction = try await pool.withConnection {
        try $0.query("SHOW statement_timeout").first!.string(0)
      }
      #expect(afterOpenTransaction == "0")
      let late = await #expect(throws: PGError.self) {
        try await pool.withTransaction(deadline: .now - .seconds(1)) { _ in }
      }
      #expect(late?.kind == .deadlineExceeded)
    }
  }

  @Test(
    "the deadline's statement_timeout follows each lease, whatever the previous one did; without a deadline, the server's default"
  )
  func statementTimeoutAcrossLeases() async throws {
    try await TestDatabase.withPool(maximumConnections: 1) { pool, database in
      // A default of the database's own, which leases without a deadline must get back.
      try await TestDatabase.withAdmin {
        try $0.execute("ALTER DATABASE \(identifier: database) SET statement_timeout = '40s'")
      }
      @Sendable func show(_ session: PGSession) throws -> String {
        try session.query("SHOW statement_timeout").first!.string(0)!
      }
      #expect(try await pool.withConnection { try show($0) } == "40s")
      // The first statement of a deadline lease runs under the deadline already.
      let first = try await pool.withConnection(deadline: .now + .seconds(30)) { try show($0) }
      #expect(first.hasSuffix("s") && first != "40s")
      // A lease that opens a transaction and rolls it back does not take the setting with it.
      try await pool.withConnection(deadline: .now + .seconds(20)) { session in
        try session.execute("BEGIN")
        try session.execute("SELECT 1")
        try session.execute("ROLLBACK")
      }
      let afterRollback = try await pool.withConnection(deadline: .now + .seconds(20)) { try show($0) }
      #expect(afterRollback != "40s" && afterRollback.hasSuffix("s"))
      #expect(try await pool.withConnection { try show($0) } == "40s")
      // Pipelines and transactions start under the lease's setting too.
      let piped = try await pool.withConnection(deadline: .now + .seconds(10)) { session in
        try session.pipeline(["SHOW statement_timeout", "SELECT 1"])[0].first!.string(0)!
      }
      #expect(piped != "40s" && piped.hasSuffix("s"))
      let inTransaction = try await pool.withTransaction(deadline: .now + .seconds(10)) { try show($0) }
      #expect(inTransaction != "40s" && inTransaction.hasSuffix("s"))
      #expect(try await pool.withTransaction { try show($0) } == "40s")
    }
  }

  @Test("cancelling the awaiting task cancels the running query promptly (PQcancel)")
  func cancel() async throws {
    try await TestDatabase.withPool(maximumConnections: 2) { pool, database in
      let task = Task {
        try await pool.withConnection { session in try session.query("SELECT pg_sleep(30)") }
      }
      let running = try await TestDatabase.eventually {
        try await !TestDatabase.backends(in: database, runningQueryPrefix: "SELECT pg_sleep")
          .isEmpty
      }
      try #require(running)
      let cancelledAt = ContinuousClock.now
      task.cancel()
      let error = await #expect(throws: PGError.self) { try await task.value }
      #expect(ContinuousClock.now - cancelledAt < .seconds(15))  // long before the 30 s sleep ends
      #expect(error?.kind == .server)
      #expect(error?.sqlState == .queryCanceled)
      #expect(error?.message.contains("user request") == true)
      // The same connection serves the next call.
      let one = try await pool.withConnection { try $0.query("SELECT 1").first!.int(0) }
      #expect(one == 1)
      #expect(pool.statistics.open == 1)
    }
  }

  @Test("a task cancelled before its statement runs gets .cancelled without reaching the server")
  func cancelledBeforeStart() async throws {
    try await TestDatabase.withPool(maximumConnections: 1) { pool, _ in
      let task = Task {
        withUnsafeCurrentTask { $0?.cancel() }
        return try await pool.withTransaction { session in try session.query("SELECT 1") }
      }
      let error = await #expect(throws: PGError.self) { try await task.value }
      #expect(error?.kind == .cancelled)
      #expect(error?.sqlState == .queryCanceled)
    }
  }

  @Test("a full pool waits no longer than the deadline, then hands over when a connection frees")
  func fullPoolTimesOut() async throws {
    try await TestDatabase.withPool(maximumConnections: 1) { pool, _ in
      let gate = ThreadGate()
      let holder = Task { try await pool.withConnection { _ in gate.wait() } }
      try #require(await TestDatabase.eventually { gate.waiters == 1 })

      let start = ContinuousClock.now
      let error = await #expect(throws: PGError.self) {
        try await pool.withConnection(deadline: start + .milliseconds(250)) { _ in }
      }
      let waited = ContinuousClock.now - start
      #expect(error?.kind == .poolTimeout)
      // The holder never lets go on its own: only the deadline ended this wait.
      #expect(waited >= .milliseconds(250) && waited < .seconds(10))
      #expect(pool.statistics.waiting == 0)

      // A waiter with time to spare gets the connection once the holder lets go.
      let waiter = Task { try await pool.withConnection(deadline: .now + .seconds(10)) { _ in 7 } }
      try #require(await TestDatabase.eventually { pool.statistics.waiting == 1 })
      gate.open()
      try await holder.value
      #expect(try await waiter.value == 7)
      #expect(
        pool.statistics
          == PGPool.Statistics(open: 1, idle: 1, leased: 0, waiting: 0, isReachable: true))
    }
  }

  @Test("two concurrent SERIALIZABLE transactions: the loser (40001) is retried and both count")
  func serializationRetry() async throws {
    try await TestDatabase.withPool(maximumConnections: 2) { pool, _ in
      try await pool.withConnection { session in
        try session.execute("CREATE TABLE counter (id int PRIMARY KEY, value int NOT NULL)")
        try session.execute("INSERT INTO counter VALUES (1, 0)")
      }
      let barrier = ThreadBarrier(parties: 2)
      let attempts = Counter()
      let increment: @Sendable (PGSession) throws -> Int = { session in
        let attempt = attempts.increment()
        let value = try session.query("SELECT value FROM counter WHERE id = 1").first!.int(0)!
        // Both first attempts read before either writes: one of them must fail to serialize.
        if attempt <= 2 { barrier.arriveAndWait() }
        try session.execute("UPDATE counter SET value = \(value + 1) WHERE id = 1")
        return value
      }
      async let first = pool.withTransaction(isolation: .serializable, increment)
      async let second = pool.withTransaction(isolation: .serializable, increment)
      let seen = try await [first, second].sorted()
      #expect(seen == [0, 1])
      #expect(attempts.value == 3)
      let value = try await pool.withConnection {
        try $0.query("SELECT value FROM counter").first!.int(0)
      }
      #expect(value == 2)
    }
  }

  @Test("a deadlock (40P01) is retried too")
  func deadlockRetry() async throws {
    try await TestDatabase.withPool(maximumConnections: 2) { pool, _ in
      try await pool.withConnection { session in
        try session.execute("CREATE TABLE pair (id int PRIMARY KEY, value int NOT NULL)")
        try session.execute("INSERT INTO pair VALUES (1, 0), (2, 0)")
      }
      let barrier = ThreadBarrier(parties: 2)
      let attempts = Counter()
      let lockBoth: @Sendable (Int, Int, PGSession) throws -> Void = { first, second, session in
        let attempt = attempts.increment()
        try session.query("SELECT set_config('deadlock_timeout', '100ms', true)")
        try session.execute("UPDATE pair SET value = value + 1 WHERE id = \(first)")
        if attempt <= 2 { barrier.arriveAndWait() }
        try session.execute("UPDATE pair SET value = value + 1 WHERE id = \(second)")
      }
      async let one: Void = pool.withTransaction { try lockBoth(1, 2, $0) }
      async let two: Void = pool.withTransaction { try lockBoth(2, 1, $0) }
      _ = try await (one, two)
      #expect(attempts.value == 3)
      let values = try await pool.withConnection {
        try $0.query("SELECT value FROM pair ORDER BY id").map { try $0.int(0)! }
      }
      #expect(values == [2, 2])
    }
  }

  @Test("a transaction whose body swallowed an error does not pretend to commit")
  func swallowedError() async throws {
    try await TestDatabase.withPool(maximumConnections: 1) { pool, _ in
      let error = await #expect(throws: PGError.self) {
        try await pool.withTransaction { session in
          _ = try? session.query("SELECT 1 / \(0)")
        }
      }
      #expect(error?.sqlState == .inFailedSQLTransaction)
      let inTransaction = try await pool.withConnection { $0.isInTransaction }
      #expect(inTransaction == false)
    }
  }

  @Test(
    "a lost connection fails its call with connectionLost; the pool replaces it and leaks nothing")
  func lostConnection() async throws {
    try await TestDatabase.withPool(maximumConnections: 2) { pool, database in
      // 1. Killed mid-query.
      let task = Task { try await pool.withConnection { try $0.query("SELECT pg_sleep(30)") } }
      var victims: [Int32] = []
      try #require(
        try await TestDatabase.eventually {
          victims = try await TestDatabase.backends(
            in: database, runningQueryPrefix: "SELECT pg_sleep")
          return !victims.isEmpty
        })
      let victim = victims[0]
      try await TestDatabase.withAdmin { try $0.query("SELECT pg_terminate_backend(\(victim))") }
      let error = await #expect(throws: PGError.self) { try await task.value }
      #expect(error?.kind == .connectionLost)
      #expect(error?.isUnavailable == true)

      // 2. The next call gets a new connection.
      let pid = try await pool.withConnection { $0.backendPID }
      #expect(pid != victim)

      // 3. Idle connections killed behind the pool's back are replaced before use, unnoticed.
      let barrier = ThreadBarrier(parties: 2)
      async let a = pool.withConnection { session in
        barrier.arriveAndWait()
        return session.backendPID
      }
      async let b = pool.withConnection { session in
        barrier.arriveAndWait()
        return session.backendPID
      }
      let before = try await Set([a, b])
      #expect(before.count == 2)
      try await TestDatabase.withAdmin { session in
        try session.query(
          "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = \(database)")
      }
      try #require(
        try await TestDatabase.eventually { try await TestDatabase.backends(in: database).isEmpty })
      let after = try await pool.withConnection { $0.backendPID }
      #expect(!before.contains(after))

      // 4. No leaks: the server sees exactly the connections the pool has open.
      let open = pool.statistics.open
      #expect(open >= 1 && open <= 2)
      #expect(try await TestDatabase.backends(in: database).count == open)
      await pool.close()
      #expect(
        try await TestDatabase.eventually { try await TestDatabase.backends(in: database).isEmpty })
      #expect(pool.statistics.open == 0)
    }
  }

  @Test("a closed pool refuses calls")
  func closed() async throws {
    try await TestDatabase.withPool(maximumConnections: 1) { pool, _ in
      try await pool.withConnection { _ in }
      await pool.close()
      let error = await #expect(throws: PGError.self) { try await pool.withConnection { _ in } }
      #expect(error?.kind == .closed)
    }
  }
}
