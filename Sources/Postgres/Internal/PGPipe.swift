internal import CLibPQ
import Glibc

/// One libpq connection driven without blocking by the engine's thread: connected with
/// PQconnectStart/PQconnectPoll, then kept in pipeline mode (or, for the listener, plain mode),
/// with many requests in flight, each its own segment ending in a Sync.
///
/// Every method runs on the engine's thread, the only one that touches the `PGconn`.
final class PGPipe {
  enum Role { case statements, listener }
  enum Phase: Equatable { case connecting, ready, broken }

  /// What the next result of the connection answers.
  struct Expectation {
    enum Kind {
      case setting(StatementTimeout)
      case prepare(key: StatementKey, name: String)
      /// A statement whose rows the request gets (`collect`), or one it does not (BEGIN, COMMIT).
      case command(collect: Bool)
      /// The Sync ending a segment; `final` ends the head request.
      case sync(final: Bool)
    }
    var kind: Kind
    var gotResult = false
  }

  /// A request in flight, with what it gathered so far.
  struct InFlight {
    let request: PGRequest
    var results: [PGResult] = []
    var error: PGError?
  }

  struct StatementKey: Hashable {
    var text: String
    var types: [PGTypeOID]
  }

  let id: Int
  let role: Role
  private(set) var connection: OpaquePointer?
  private(set) var phase = Phase.connecting
  /// The socket registered with epoll and the events asked for there (-1 and 0: none).
  var registeredSocket: Int32 = -1
  var registeredEvents: UInt32 = 0
  /// Whether libpq has output left that waits for the socket to take it.
  var wantsWrite = false
  var connectDeadline: ContinuousClock.Instant
  private(set) var backendPID: Int32 = 0
  private(set) var cancelHandle: PGCancelHandle?

  private var inFlight: [InFlight] = []
  private var inFlightHead = 0
  private var expectations: [Expectation] = []
  private var expectationHead = 0
  private var prepared: [StatementKey: String] = [:]
  private var pendingPrepares: [StatementKey: String] = [:]
  private var statementCounter = 0
  /// The session's statement_timeout as the statements sent so far leave it; nil when unknown.
  private(set) var sessionTimeout: StatementTimeout? = .serverDefault
  /// The lease holding this connection, or the lease waiting for it to drain.
  var leasedTo: PGLease?
  var reservedFor: PGRequest?
  /// When the connection last answered a request, or was sent one while idle: a connection
  /// that has not answered for a while is busy with something slow, and nothing more is queued
  /// behind it in its pipeline (a request waiting there could no longer be withdrawn).
  private(set) var lastProgress = ContinuousClock.now

  /// Whether a request sent now would start soon: the connection is idle, or still answering.
  func isFlowing(now: ContinuousClock.Instant, window: Duration) -> Bool {
    isIdle || now - lastProgress < window
  }

  /// Starts connecting without blocking; throws when libpq cannot even start (the error says why).
  init(id: Int, role: Role, parameters: [(String, String)], connectTimeout: Duration) throws(PGError) {
    self.id = id
    self.role = role
    self.connectDeadline = .now + connectTimeout
    let connection = withKeywordValues(parameters) { PQconnectStartParams($0, $1, 1) }
    guard let connection else { throw PGError(.connectionLost, "libpq could not allocate a connection") }
    self.connection = connection
    guard PQstatus(connection) != CONNECTION_BAD else {
      let error = PGConnectionCore.connectError(connection, parameters: parameters)
      PQfinish(connection)
      self.connection = nil
      phase = .broken
      throw error
    }
    PQsetnonblocking(connection, 1)
    wantsWrite = true  // PQconnectStart leaves the first step at "writing"
  }

  deinit {
    if let connection { PQfinish(connection) }
  }

  var socket: Int32 { connection.map { PQsocket($0) } ?? -1 }
  var inFlightCount: Int { inFlight.count - inFlightHead }
  var isIdle: Bool { inFlightCount == 0 }
  var headRequest: PGRequest? { inFlightHead < inFlight.count ? inFlight[inFlightHead].request : nil }

  // MARK: Connecting

  /// Advances the connection attempt after its socket was ready. Returns the error if it failed.
  func continueConnecting(parameters: [(String, String)]) -> PGError? {
    guard let connection, phase == .connecting else { return nil }
    switch PQconnectPoll(connection) {
    case PGRES_POLLING_READING:
      wantsWrite = false
    case PGRES_POLLING_WRITING:
      wantsWrite = true
    case PGRES_POLLING_OK:
      wantsWrite = false
      if role == .statements, PQenterPipelineMode(connection) != 1 {
        return fail(PGError(.unexpected, "could not enter pipeline mode"))
      }
      backendPID = PQbackendPID(connection)
      cancelHandle = PGCancelHandle(connection: connection)
      installNoticeReceiver(connection)
      phase = .ready
    default:
      return fail(PGConnectionCore.connectError(connection, parameters: parameters))
    }
    return nil
  }

  /// Gives up the connection (closed; `takeInFlight` then hands over what it had in flight) and
  /// returns `error`, for the caller to report.
  @discardableResult
  func fail(_ error: PGError) -> PGError {
    phase = .broken
    if let connection { PQfinish(connection) }
    connection = nil
    return error
  }

  /// The requests still in flight (for failing them), leaving none.
  func takeInFlight() -> [PGRequest] {
    defer {
      inFlight.removeAll()
      inFlightHead = 0
      expectations.removeAll()
      expectationHead = 0
    }
    return inFlight[inFlightHead...].map(\.request)
  }

  // MARK: Sending

  /// Sends `request`'s statements as one segment (preceded, when its timeout is not the
  /// session's, by the setting in a segment of its own). False if the connection broke.
  func send(_ request: PGRequest, statements: [SQL], frame: PGRequest.Frame) -> Bool {
    guard let connection, phase == .ready else { return false }
    if sessionTimeout != request.timeout {
      let setting = request.timeout.statement
      guard sendUnprepared(setting, connection) else { return false }
      expect(.setting(request.timeout))
      guard PQpipelineSync(connection) == 1 else { return false }
      expect(.sync(final: false))
      sessionTimeout = request.timeout
    }
    switch frame {
    case .transaction(let isolation), .begin(let isolation):
      guard sendUnprepared(isolation.beginStatement, connection) else { return false }
      expect(.command(collect: false))
    case .none, .endsLease:
      break
    }
    for sql in statements {
      if sql.isPlannedPerExecution {
        guard sendUnprepared(sql, connection) else { return false }
        expect(.command(collect: true))
        continue
      }
      let key = StatementKey(text: sql.text, types: sql.bindings.types)
      var name = prepared[key] ?? pendingPrepares[key]
      if name == nil {
        statementCounter += 1
        let fresh = "pgs_\(statementCounter)"
        let types = key.types.map(\.rawValue)
        guard PQsendPrepare(connection, fresh, key.text, Int32(types.count), types) == 1 else { return false }
        expect(.prepare(key: key, name: fresh))
        pendingPrepares[key] = fresh
        name = fresh
      }
      let sent = PGConnectionCore.withParameters(sql.bindings) { count, values, lengths, formats in
        PQsendQueryPrepared(connection, name, count, values, lengths, formats, 0)
      }
      guard sent == 1 else { return false }
      expect(.command(collect: true))
    }
    if case .transaction = frame {
      guard sendUnprepared("COMMIT", connection) else { return false }
      expect(.command(collect: false))
    }
    guard PQpipelineSync(connection) == 1 else { return false }
    expect(.sync(final: true))
    if isIdle { lastProgress = .now }
    inFlight.append(InFlight(request: request))
    return flush()
  }

  /// Sends a statement without preparing it (BEGIN, COMMIT, settings, and statements planned per
  /// execution).
  private func sendUnprepared(_ sql: SQL, _ connection: OpaquePointer) -> Bool {
    let types = sql.bindings.types.map(\.rawValue)
    return PGConnectionCore.withParameters(sql.bindings) { count, values, lengths, formats in
      PQsendQueryParams(connection, sql.text, count, types, values, lengths, formats, 0)
    } == 1
  }

  /// Plain queries (the listener's LISTENs) sent and not fully answered yet.
  private(set) var simpleQueriesPending = 0

  /// Sends a plain query (the listener's LISTEN), outside pipeline mode.
  func sendSimple(_ text: String) -> Bool {
    guard let connection, phase == .ready, PQsendQuery(connection, text) == 1 else { return false }
    simpleQueriesPending += 1
    return flush()
  }

  private func expect(_ kind: Expectation.Kind) {
    expectations.append(Expectation(kind: kind))
  }

  /// Writes what libpq buffered; asks for write readiness when the socket is full. False if the
  /// connection broke.
  func flush() -> Bool {
    guard let connection else { return false }
    switch PQflush(connection) {
    case 0: wantsWrite = false
    case 1: wantsWrite = true
    default: return false
    }
    return true
  }

  // MARK: Receiving

  /// Reads what arrived and hands back each request it completes, with its outcome. Throws
  /// when the connection broke (the caller fails everything in flight).
  func receive() throws(PGError) -> [(PGRequest, Result<[PGResult], PGError>)] {
    guard let connection else { throw PGError(.connectionLost, "the connection is closed") }
    guard PQconsumeInput(connection) == 1 else { throw lostError() }
    var finished: [(PGRequest, Result<[PGResult], PGError>)] = []
    while PQisBusy(connection) == 0 {
      guard expectationHead < expectations.count else {
        // Nothing is expected (an idle connection): anything here other than the end is wrong.
        guard let result = PQgetResult(connection) else { break }
        let status = PQresultStatus(result)
        PQclear(result)
        if status == PGRES_FATAL_ERROR { throw lostError() }
        continue
      }
      let result = PQgetResult(connection)
      switch expectations[expectationHead].kind {
      case .sync(let final):
        guard let result else { throw lostError() }
        let status = PQresultStatus(result)
        PQclear(result)
        guard status == PGRES_PIPELINE_SYNC else { throw lostError() }
        advanceExpectation()
        if final, let done = finishHead() { finished.append(done) }
      case .setting(let timeout):
        if let result {
          expectations[expectationHead].gotResult = true
          if PQresultStatus(result) != PGRES_TUPLES_OK, sessionTimeout == timeout { sessionTimeout = nil }
          PQclear(result)
        } else {
          advanceExpectation()
        }
      case .prepare(let key, let name):
        if let result {
          expectations[expectationHead].gotResult = true
          pendingPrepares[key] = nil
          switch PQresultStatus(result) {
          case PGRES_COMMAND_OK: prepared[key] = name
          case PGRES_PIPELINE_ABORTED: break
          default: recordError(result, connection)
          }
          PQclear(result)
        } else {
          advanceExpectation()
        }
      case .command(let collect):
        if let result {
          expectations[expectationHead].gotResult = true
          switch PQresultStatus(result) {
          case PGRES_TUPLES_OK, PGRES_COMMAND_OK, PGRES_EMPTY_QUERY:
            if collect {
              inFlight[inFlightHead].results.append(PGResult(taking: result))
            } else {
              PQclear(result)
            }
          case PGRES_PIPELINE_ABORTED:
            PQclear(result)
          default:
            recordError(result, connection)
            PQclear(result)
          }
        } else {
          advanceExpectation()
        }
      }
      if PQstatus(connection) == CONNECTION_BAD { throw lostError() }
    }
    if PQstatus(connection) == CONNECTION_BAD { throw lostError() }
    return finished
  }

  /// Notifications that arrived (the listener's): channel and payload.
  func takeNotifications() -> [(channel: String, payload: String)] {
    guard let connection else { return [] }
    var received: [(String, String)] = []
    while let notify = PQnotifies(connection) {
      received.append((String(cString: notify.pointee.relname), String(cString: notify.pointee.extra)))
      PQfreemem(notify)
    }
    return received
  }

  /// Reads and drops the results of plain queries (the listener's LISTENs); throws when broken.
  /// Returns true when the last query sent was just answered in full.
  func drainSimpleResults() throws(PGError) -> Bool {
    guard let connection else { throw PGError(.connectionLost, "the connection is closed") }
    guard PQconsumeInput(connection) == 1 else { throw lostError() }
    var answered = false
    while simpleQueriesPending > 0, PQisBusy(connection) == 0 {
      guard let result = PQgetResult(connection) else {
        // The end of one query's results.
        simpleQueriesPending -= 1
        answered = simpleQueriesPending == 0
        continue
      }
      let status = PQresultStatus(result)
      PQclear(result)
      if status == PGRES_FATAL_ERROR { throw lostError() }
    }
    if PQstatus(connection) == CONNECTION_BAD { throw lostError() }
    return answered
  }

  private func advanceExpectation() {
    expectationHead += 1
    if expectationHead == expectations.count {
      expectations.removeAll(keepingCapacity: true)
      expectationHead = 0
    }
  }

  private func recordError(_ result: OpaquePointer, _ connection: OpaquePointer) {
    guard inFlightHead < inFlight.count, inFlight[inFlightHead].error == nil else { return }
    inFlight[inFlightHead].error = PGConnectionCore.error(
      from: result, connection, lost: PQstatus(connection) == CONNECTION_BAD)
  }

  private func finishHead() -> (PGRequest, Result<[PGResult], PGError>)? {
    guard inFlightHead < inFlight.count else { return nil }
    lastProgress = .now
    let done = inFlight[inFlightHead]
    inFlight[inFlightHead] = InFlight(request: done.request)  // drops the results' references
    inFlightHead += 1
    if inFlightHead == inFlight.count {
      inFlight.removeAll(keepingCapacity: true)
      inFlightHead = 0
    }
    if let error = done.error {
      if case .statements(let statements, _) = done.request.work, let first = statements.first {
        return (done.request, .failure(statements.count == 1 ? error.from(first) : error))
      }
      return (done.request, .failure(error))
    }
    return (done.request, .success(done.results))
  }

  private func lostError() -> PGError {
    let message = connection.map { String(cString: PQerrorMessage($0)).trimmingTrailingNewlines() } ?? ""
    return PGError(.connectionLost, message.isEmpty ? "the connection to the database was lost" : message)
  }
}
