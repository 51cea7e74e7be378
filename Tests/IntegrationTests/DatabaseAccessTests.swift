import InMemoryLogging
import Logging
import MarketplaceRPC
import Postgres
import RPCCore
import Testing

/// How an RPC handler's database work follows the call: its deadline bounds the statement, its
/// cancellation cancels the statement, and database failures become statuses a client can act
/// on without ever seeing the server's messages.
@Suite("database access from RPC handlers", .enabled(if: TestDatabase.shouldRun, TestDatabase.disabledReason))
struct DatabaseAccessTests {
  static func context(deadline: ContinuousClock.Instant? = nil) -> ServerContext {
    ServerContext(
      method: MethodDescriptor(service: "marketplace.v1.Test", method: "Call"), requestMetadata: WireMetadata(),
      peer: "test", deadline: deadline, requestEncoding: .identity, acceptEncodingHeader: nil)
  }

  static func rpcError(_ body: () async throws -> Void) async -> RPCError? {
    await #expect(throws: RPCError.self) { try await body() }
  }

  @Test("the call's deadline bounds the statement: DEADLINE_EXCEEDED, long before the statement would end")
  func deadline() async throws {
    try await TestDatabase.withClient(maximumConnections: 1) { client, _ in
      let database = DatabaseAccess(client: client, logger: TestDatabase.logger)
      _ = try await client.run(.rows("SELECT 1"))  // connected before the clock starts
      let start = ContinuousClock.now
      let error = await Self.rpcError {
        _ = try await database.run(Self.context(deadline: start + .seconds(1)), .rows("SELECT pg_sleep(60)"))
      }
      #expect(error?.code == .deadlineExceeded)
      #expect(ContinuousClock.now - start < .seconds(30))
      let late = await Self.rpcError {
        _ = try await database.transaction(Self.context(deadline: .now - .seconds(1)), PGQuery.rows("SELECT 1"))
      }
      #expect(late?.code == .deadlineExceeded)
    }
  }

  @Test("a cancelled call cancels its running statement: CANCELLED, and the backend stops")
  func cancellation() async throws {
    try await TestDatabase.withClient(maximumConnections: 1) { client, name in
      let database = DatabaseAccess(client: client, logger: TestDatabase.logger)
      let call = Task { try await database.run(Self.context(), .rows("SELECT pg_sleep(60)")) }
      try #require(
        await TestDatabase.eventually {
          try await !TestDatabase.backends(in: name, runningQueryPrefix: "SELECT pg_sleep").isEmpty
        })
      call.cancel()
      let error = await Self.rpcError { _ = try await call.value }
      #expect(error?.code == .cancelled)
      #expect(
        try await TestDatabase.eventually {
          try await TestDatabase.backends(in: name, runningQueryPrefix: "SELECT pg_sleep").isEmpty
        })
    }
  }

  @Test("an unreachable database is UNAVAILABLE (retryable)")
  func unavailable() async throws {
    var options = PGConnection.Options(conninfo: "postgresql:///none?host=/nonexistent-socket-directory")
    options.connectTimeout = .seconds(2)
    let client = try PGClient(config: PGClient.Config(connection: options), logger: TestDatabase.logger)
    let database = DatabaseAccess(client: client, logger: TestDatabase.logger)
    let error = await Self.rpcError {
      _ = try await database.run(Self.context(deadline: .now + .seconds(10)), .rows("SELECT 1"))
    }
    #expect(error?.code == .unavailable)
    client.close()
    let closed = await Self.rpcError { _ = try await database.run(Self.context(), .rows("SELECT 1")) }
    #expect(closed?.code == .unavailable)
  }

  @Test("other database errors are INTERNAL with a fixed message: no SQL, no data")
  func internalErrors() async throws {
    try await TestDatabase.withClient { client, _ in
      let database = DatabaseAccess(client: client, logger: TestDatabase.logger)
      _ = try await client.run(.execute("CREATE TABLE secret (v text UNIQUE)"))
      let error = await Self.rpcError {
        _ = try await database.transaction(
          Self.context(), PGQuery.execute("INSERT INTO secret VALUES ('hunter2'), ('hunter2')"))
      }
      #expect(error?.code == .internal)
      #expect(error?.message == "internal error")
    }
  }

  @Test("a failing statement is logged by SQLSTATE, constraint and statement; never the values it quotes")
  func errorLogsQuoteNoData() async throws {
    let logs = InMemoryLogHandler()
    try await TestDatabase.withClient { client, _ in
      let database = DatabaseAccess(client: client, logger: Logger(label: "test") { _ in logs })
      let secret = "hunter2-\(UInt32.random(in: 0...UInt32.max))"
      _ = try await client.run(.execute("CREATE TABLE accounts (email text CONSTRAINT accounts_email_key UNIQUE)"))
      _ = try await client.run(.execute("INSERT INTO accounts VALUES (\(secret))"))
      let error = await Self.rpcError {
        _ = try await database.run(Self.context(), PGQuery.execute("INSERT INTO accounts VALUES (\(secret))"))
      }
      #expect(error?.code == .internal)
      let entry = try #require(logs.entries.first { $0.message == "database error" })
      #expect(entry.metadata["db.sqlstate"] == "23505")
      #expect(entry.metadata["db.constraint"] == "accounts_email_key")
      #expect(entry.metadata["db.statement"] == "INSERT INTO accounts VALUES ($1)")
      let everything = logs.entries.map { "\($0.message) \($0.metadata)" }.joined(separator: "\n")
      #expect(!everything.contains(secret))
    }
  }

  @Test("a domain error thrown inside a transaction passes through unchanged, and the transaction rolls back")
  func domainErrorsPassThrough() async throws {
    struct DatesTaken: Error, Equatable {}
    try await TestDatabase.withClient { client, _ in
      let database = DatabaseAccess(client: client, logger: TestDatabase.logger)
      _ = try await client.run(.execute("CREATE TABLE holds (v int)"))
      await #expect(throws: DatesTaken()) {
        try await database.withTransaction(Self.context()) { tx in
          _ = try await tx.run(PGQuery.execute("INSERT INTO holds VALUES (1)"))
          throw DatesTaken()
        }
      }
      #expect(try await client.run(PGQuery("SELECT count(*) FROM holds") { try $0[0].int(0)! }) == 0)
    }
  }
}
