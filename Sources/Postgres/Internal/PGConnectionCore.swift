internal import CLibPQ
import Glibc
import Logging

/// Where a connection's session stands (PQtransactionStatus).
enum PGTransactionStatus: Sendable {
  case idle, active, inTransaction, inFailedTransaction, unknown
}

/// The libpq side of one connection: the `PGconn`, its prepared-statement cache, and every libpq
/// call made on it. Lives on, and is only touched from, its connection's thread.
// @unchecked Sendable: handed to the connection's thread, which is the only one that ever calls
// into it (asserted in debug builds); the cancel coordinator it shares is Sendable on its own.
final class PGConnectionCore: @unchecked Sendable {
  private struct StatementKey: Hashable {
    var text: String
    var types: [PGTypeOID]
  }

  private struct PreparedStatement {
    var name: String
    var lastUse: Int
  }

  private var connection: OpaquePointer?
  let cancel: PGCancelCoordinator
  let thread: PGThread
  let logger: Logger
  private let statementCapacity: Int
  private var statements: [StatementKey: PreparedStatement] = [:]
  private var statementCounter = 0
  private var useClock = 0
  /// Set once the connection is unusable (lost, or left in a state we cannot trust).
  private(set) var isBroken = false
  /// The server announced (in an unsolicited FATAL) that it is closing this connection.
  private var fatalNoticeReceived = false
  /// Where notices go while `PGSession.capturingNotices` runs; nil otherwise (they are logged).
  var capturedNotices: [PGNotice]?
  /// The `statement_timeout` the current lease's statements must run under (the pool sets it at
  /// the start of each lease, from the caller's deadline).
  var wantedStatementTimeout = StatementTimeout.serverDefault
  /// The session's `statement_timeout`, as last set; nil when unknown. A fresh session has the
  /// server's default.
  private var sessionStatementTimeout: StatementTimeout? = .serverDefault
  /// The server process serving this connection.
  let backendPID: Int32

  /// Takes ownership of `connection`, an open PGconn.
  init(
    connection: OpaquePointer, thread: PGThread, cancel: PGCancelCoordinator,
    statementCapacity: Int,
    logger: Logger
  ) {
    self.connection = connection
    self.thread = thread
    self.cancel = cancel
    self.statementCapacity = max(1, statementCapacity)
    self.logger = logger
    backendPID = PQbackendPID(connection)
    installNoticeReceiver(connection)
  }

  deinit {
    if let connection { PQfinish(connection) }
  }

  private func assertOnThread() {
    assert(thread.isCurrent, "libpq called off its connection's thread")
  }

  // MARK: connecting

  /// Connects (blocking) with libpq keyword/value pairs, applied in order (later ones win).
  static func open(_ parameters: [(String, String)]) throws(PGError) -> OpaquePointer {
    // expand_dbname = 1: the first dbname may be a whole connection string or URI.
    let connection = withKeywordValues(parameters) { PQconnectdbParams($0, $1, 1) }
    guard let connection else {
      throw PGError(.connectionLost, "libpq could not allocate a connection")
    }
    guard PQstatus(connection) == CONNECTION_OK else {
      let error = connectError(connection, parameters: parameters)
      PQfinish(connection)
      throw error
    }
    return connection
  }

  /// Why connecting with `parameters` failed, as libpq says, scrubbed of the password: libpq
  /// quotes parts of a connection string it cannot parse, which may be the password.
  static func connectError(_ connection: OpaquePointer, parameters: [(String, String)]) -> PGError {
    var message = String(cString: PQerrorMessage(connection)).trimmingTrailingNewlines()
    let secrets = passwords(in: parameters) + [PQpass(connection).map { String(cString: $0) } ?? ""]
    for secret in secrets where !secret.isEmpty {
      message = message.replacing(secret, with: "***")
    }
    return PGError(.connectionLost, "could not connect: " + message)
  }

  /// `text` with its valid %XX escapes decoded (invalid ones kept as they are).
  static func percentDecoded(_ text: String) -> String {
    var bytes: [UInt8] = []
    let utf8 = Array(text.utf8)
    var index = 0
    while index < utf8.count {
      if utf8[index] == UInt8(ascii: "%"), index + 2 < utf8.count,
        let value = UInt8(String(decoding: utf8[index + 1...index + 2], as: UTF8.self), radix: 16)
      {
        bytes.append(value)
        index += 3
      } else {
        bytes.append(utf8[index])
        index += 1
      }
    }
    return String(decoding: bytes, as: UTF8.self)
  }

  /// Every form the password takes in `parameters`: a `password` keyword, one inside a
  /// `key=value` string or a URI (as written, percent-encoded, and decoded), so that an error
  /// message can be scrubbed of it.
  static func passwords(in parameters: [(String, String)]) -> [String] {
    var found: [String] = []
    for (keyword, value) in parameters {
      if keyword == "password" { found.append(value) }
      guard keyword == "dbname" else { continue }
      var error: UnsafeMutablePointer<CChar>?
      if let options = PQconninfoParse(value, &error) {
        var option = options
        while let name = option.pointee.keyword {
          if String(cString: name) == "password", let password = option.pointee.val {
            found.append(String(cString: password))
          }
          option += 1
        }
        PQconninfoFree(options)
      }
      if let error { PQfreemem(error) }
      // A URI's user info, even when the URI does not parse: scheme://user:password@host...
      if let scheme = value.firstRange(of: "://") {
        let rest = value[scheme.upperBound...]
        let authority = rest.prefix { $0 != "/" && $0 != "?" }
        if let at = authority.lastIndex(of: "@"), let colon = authority[..<at].firstIndex(of: ":") {
          let raw = String(authority[authority.index(after: colon)..<at])
          found.append(raw)
          found.append(percentDecoded(raw))
        }
      }
    }
    return found
  }

  /// Closes the connection (PQfinish: tells the server, then frees).
  func finish() {
    assertOnThread()
    if let connection { PQfinish(connection) }
    connection = nil
    isBroken = true
  }

  // MARK: notices (callback lives in PGConnectionCore+Callbacks.swift)

  func didReceiveNotice(_ notice: PGNotice) {
    if notice.severity == "FATAL" || notice.severity == "PANIC" { fatalNoticeReceived = true }
    if capturedNotices != nil {
      capturedNotices!.append(notice)
      return
    }
    logger.debug(
      "notice from server",
      metadata: [
        "db.severity": "\(notice.severity)", "db.sqlstate": "\(notice.sqlState ?? "?")",
        "db.backend_pid": "\(backendPID)",
      ])
  }

  // MARK: state

  var transactionStatus: PGTransactionStatus {
    guard let connection else { return .unknown }
    switch PQtransactionStatus(connection) {
    case PQTRANS_IDLE: return .idle
    case PQTRANS_ACTIVE: return .active
    case PQTRANS_INTRANS: return .inTransaction
    case PQTRANS_INERROR: return .inFailedTransaction
    default: return .unknown
    }
  }

  /// Checks, without a round trip, whether an idle connection is already dead: the server closed
  /// it (a restart, `pg_terminate_backend`, an idle timeout), which shows as a readable socket
  /// carrying a FATAL error and/or end of file. Marks it broken if so.
  func isStale() -> Bool {
    assertOnThread()
    guard let connection, !isBroken, PQstatus(connection) == CONNECTION_OK else {
      isBroken = true
      return true
    }
    var descriptor = pollfd(fd: PQsocket(connection), events: Int16(POLLIN), revents: 0)
    guard poll(&descriptor, 1, 0) > 0 else { return false }  // nothing to read: alive
    if PQconsumeInput(connection) == 0 {
      isBroken = true
      return true
    }
    _ = PQisBusy(connection)  // parses what arrived (notices, NOTIFY)
    while let notify = PQnotifies(connection) { PQfreemem(notify) }
    if fatalNoticeReceived || PQstatus(connection) != CONNECTION_OK {
      isBroken = true
      return true
    }
    return false
  }

  /// Gives up on the connection (e.g. it was left in a state we cannot clean up).
  func markBroken() { isBroken = true }

  /// Ends an open transaction (even a cancelled lease's); a connection where that fails is
  /// given up, since its state is unknown.
  func rollbackOrMarkBroken() {
    if (try? executePrepared("ROLLBACK", checkCancel: false)) == nil { markBroken() }
  }

  // MARK: statements

  private func usableConnection() throws(PGError) -> OpaquePointer {
    guard let connection, !isBroken else {
      throw PGError(.connectionLost, "the connection is no longer usable")
    }
    return connection
  }

  /// Runs `sql` as a prepared statement (prepared on first use, then reused). When the session's
  /// `statement_timeout` is not the one wanted, the change goes in the same round trip, ahead.
  func execute(_ sql: SQL, checkCancel: Bool = true) throws(PGError) -> PGResult {
    assertOnThread()
    guard sessionStatementTimeout != wantedStatementTimeout else {
      return try executePrepared(sql, checkCancel: checkCancel)
    }
    guard let result = try pipelineUnderWantedTimeout([sql], checkCancel: checkCancel)[0] else {
      throw PGError(.unexpected, "the statement was skipped")
    }
    return try result.get()
  }

  /// Sets the session's `statement_timeout` on its own (one round trip) if it is not the one
  /// wanted: for the simple-protocol calls (scripts, COPY), which cannot join a pipeline.
  func applyStatementTimeout() throws(PGError) {
    guard sessionStatementTimeout != wantedStatementTimeout else { return }
    let wanted = wantedStatementTimeout
    let wasIdle = transactionStatus == .idle
    sessionStatementTimeout = nil
    _ = try executePrepared(wanted.statement, checkCancel: true)
    recordStatementTimeout(wanted, applied: true, wasIdle: wasIdle)
  }

  /// `pipelineResults(statements)`, preceded, when the session's `statement_timeout` is not the
  /// one wanted, by the setting in a segment of its own (a Sync after it): outside a transaction
  /// block it commits on its own, whatever the statements do (even a BEGIN whose transaction later
  /// rolls back).
  private func pipelineUnderWantedTimeout(
    _ statements: [SQL], checkCancel: Bool
  ) throws(PGError) -> [Result<PGResult, PGError>?] {
    guard sessionStatementTimeout != wantedStatementTimeout else {
      return try pipelineResults(statements, settingFirst: false, checkCancel: checkCancel)
    }
    let wanted = wantedStatementTimeout
    let wasIdle = transactionStatus == .idle
    var results = try pipelineResults([wanted.statement] + statements, settingFirst: true, checkCancel: checkCancel)
    let setting = results.removeFirst()
    recordStatementTimeout(wanted, applied: (try? setting?.get()) != nil, wasIdle: wasIdle)
    return results
  }

  /// What the session's `statement_timeout` is after an attempt to set `wanted`: known only when it
  /// took effect outside a transaction block (a rollback could undo it otherwise).
  private func recordStatementTimeout(_ wanted: StatementTimeout, applied: Bool, wasIdle: Bool) {
    sessionStatementTimeout = applied && wasIdle ? wanted : nil
    if !applied {
      logger.warning(
        "could not set statement_timeout; the statement ran under the session's earlier setting",
        metadata: ["db.backend_pid": "\(backendPID)"])
    }
  }

  private func executePrepared(_ sql: SQL, checkCancel: Bool) throws(PGError) -> PGResult {
    let connection = try usableConnection()
    if let reason = sql.bindings.invalidReason { throw PGError(.invalidParameter, reason) }
    try cancel.beginStatement(checkCancel: checkCancel)
    defer { cancel.endStatement() }
    do {
      if sql.isPlannedPerExecution {
        let types = sql.bindings.types.map(\.rawValue)
        return try check(
          Self.withParameters(sql.bindings) { count, values, lengths, formats in
            PQexecParams(connection, sql.text, count, types, values, lengths, formats, 0)
          })
      }
      let name = try preparedStatementName(for: sql, connection)
      let result = Self.withParameters(sql.bindings) { count, values, lengths, formats in
        PQexecPrepared(connection, name, count, values, lengths, formats, 0)
      }
      return try check(result)
    } catch {
      throw error.from(sql)
    }
  }

  /// Runs `script` with the simple query protocol: several statements, no parameters, not
  /// prepared. For trusted text only (migrations).
  func executeScript(_ script: String) throws(PGError) {
    assertOnThread()
    try applyStatementTimeout()
    let connection = try usableConnection()
    try cancel.beginStatement(checkCancel: true)
    defer { cancel.endStatement() }
    _ = try check(PQexec(connection, script))
  }

  /// Sends every statement (and the PREPAREs of those not prepared yet) in one pipeline, one
  /// round trip, then reads every result. Outside a transaction the pipeline is one implicit
  /// transaction: if a statement fails, the ones before it are rolled back and the rest are
  /// skipped. Throws the first statement's error.
  func pipeline(_ statements: [SQL]) throws(PGError) -> [PGResult] {
    assertOnThread()
    var results: [PGResult] = []
    for result in try pipelineUnderWantedTimeout(statements, checkCancel: true) {
      // The first failure comes before any skipped (nil) statement.
      guard let result else { break }
      results.append(try result.get())
    }
    return results
  }

  /// One pipeline: `statements` (and the PREPAREs of those not prepared yet) in one round trip.
  /// Each statement's result, or its error, or nil when it was skipped after an earlier failure
  /// in its segment. One segment (one implicit transaction outside a transaction block), or with
  /// `settingFirst` two: the first statement alone, then the rest.
  /// Throws only when the connection itself failed.
  private func pipelineResults(
    _ statements: [SQL], settingFirst: Bool, checkCancel: Bool
  ) throws(PGError) -> [Result<PGResult, PGError>?] {
    guard !statements.isEmpty else { return [] }
    let connection = try usableConnection()
    for statement in statements {
      if let reason = statement.bindings.invalidReason { throw PGError(.invalidParameter, reason) }
    }
    try cancel.beginStatement(checkCancel: checkCancel)
    defer { cancel.endStatement() }

    // Name every statement; the ones not prepared yet are prepared inside the pipeline.
    enum Command {
      case prepare(StatementKey, String, Int)
      case execute(Int)
    }
    var names: [String] = []
    var commands: [Command] = []
    var pendingNames: [StatementKey: String] = [:]
    let keys = statements.map { StatementKey(text: $0.text, types: $0.bindings.types) }
    // The batch's prepared statements are the most recently used before room is made, so the
    // eviction never takes one of them.
    useClock += 1
    for key in keys where self.statements[key] != nil { self.statements[key]?.lastUse = useClock }
    makeRoom(for: Set(keys).filter { self.statements[$0] == nil }.count, connection)
    for (index, key) in keys.enumerated() {
      if let prepared = self.statements[key] {
        names.append(prepared.name)
      } else if let name = pendingNames[key] {
        names.append(name)
      } else {
        let name = nextStatementName()
        pendingNames[key] = name
        commands.append(.prepare(key, name, index))
        names.append(name)
      }
      commands.append(.execute(index))
    }

    guard PQenterPipelineMode(connection) == 1 else { throw abandon(connection) }
    // Non-blocking while sending: the flush loop below reads whenever the server's replies
    // would otherwise fill the socket buffers and deadlock both sides.
    PQsetnonblocking(connection, 1)
    for command in commands {
      let sent: Int32
      switch command {
      case .prepare(let key, let name, _):
        let types = key.types.map(\.rawValue)
        sent = PQsendPrepare(connection, name, key.text, Int32(types.count), types)
      case .execute(let index):
        sent = Self.withParameters(statements[index].bindings) { count, values, lengths, formats in
          PQsendQueryPrepared(connection, names[index], count, values, lengths, formats, 0)
        }
      }
      guard sent == 1 else { throw abandon(connection) }
      if settingFirst, case .execute(0) = command {
        guard PQpipelineSync(connection) == 1 else { throw abandon(connection) }
      }
    }
    guard PQpipelineSync(connection) == 1 else { throw abandon(connection) }
    do { try flush(connection) } catch { throw abandon(connection, error) }
    PQsetnonblocking(connection, 0)

    func readSync() throws(PGError) {
      guard let sync = PQgetResult(connection) else { throw abandon(connection) }
      let synced = PQresultStatus(sync) == PGRES_PIPELINE_SYNC
      PQclear(sync)
      guard synced else { throw abandon(connection) }
    }
    var results = [Result<PGResult, PGError>?](repeating: nil, count: statements.count)
    var firstError: PGError?
    for command in commands {
      guard let result = PQgetResult(connection) else { throw abandon(connection) }
      switch (PQresultStatus(result), command) {
      case (PGRES_COMMAND_OK, .prepare(let key, let name, _)):
        self.statements[key] = PreparedStatement(name: name, lastUse: useClock)
        PQclear(result)
      case (PGRES_COMMAND_OK, .execute(let index)), (PGRES_TUPLES_OK, .execute(let index)):
        results[index] = .success(PGResult(taking: result))
      case (PGRES_PIPELINE_ABORTED, _):
        PQclear(result)
      case (_, .prepare(_, _, let index)), (_, .execute(let index)):
        let error = error(from: result, connection).from(statements[index])
        if results[index] == nil { results[index] = .failure(error) }
        if firstError == nil { firstError = error }
        PQclear(result)
      }
      // Each command's results end with a NULL.
      while let extra = PQgetResult(connection) { PQclear(extra) }
      if isBroken { throw firstError ?? abandon(connection) }
      if settingFirst, case .execute(0) = command { try readSync() }
    }
    try readSync()
    guard PQexitPipelineMode(connection) == 1 else { throw abandon(connection) }
    return results
  }

  private func flush(_ connection: OpaquePointer) throws(PGError) {
    while true {
      let rc = PQflush(connection)
      if rc == 0 { return }
      guard rc > 0 else { throw error(from: nil, connection) }
      var descriptor = pollfd(fd: PQsocket(connection), events: Int16(POLLIN | POLLOUT), revents: 0)
      if poll(&descriptor, 1, -1) < 0 && errno != EINTR {
        isBroken = true
        throw PGError(.unexpected, "poll failed (errno \(errno))")
      }
      if descriptor.revents & Int16(POLLIN) != 0 && PQconsumeInput(connection) == 0 {
        throw error(from: nil, connection)
      }
    }
  }

  // MARK: prepared statements

  private func nextStatementName() -> String {
    statementCounter += 1
    return "pgs_\(statementCounter)"
  }

  private func preparedStatementName(for sql: SQL, _ connection: OpaquePointer) throws(PGError)
    -> String
  {
    let key = StatementKey(text: sql.text, types: sql.bindings.types)
    useClock += 1
    if let prepared = statements[key] {
      statements[key]?.lastUse = useClock
      return prepared.name
    }
    makeRoom(for: 1, connection)
    let name = nextStatementName()
    let types = key.types.map(\.rawValue)
    _ = try check(PQprepare(connection, name, sql.text, Int32(types.count), types))
    statements[key] = PreparedStatement(name: name, lastUse: useClock)
    return name
  }

  /// Deallocates least recently used statements until `count` more fit. Skipped inside a failed
  /// transaction (nothing runs there; the PREPARE that follows fails anyway).
  private func makeRoom(for count: Int, _ connection: OpaquePointer) {
    guard statements.count + count > statementCapacity, transactionStatus != .inFailedTransaction
    else {
      return
    }
    let excess = statements.count + count - statementCapacity
    let victims = statements.sorted { $0.value.lastUse < $1.value.lastUse }.prefix(excess)
    for (key, statement) in victims {
      statements[key] = nil
      // The name is ours ("pgs_<n>"), never input.
      if let result = PQexec(connection, "DEALLOCATE " + statement.name) { PQclear(result) }
    }
  }

  // MARK: results and errors

  private static let emptyValue: StaticString = ""

  /// Calls `body` with libpq's parallel parameter arrays, valid only inside it.
  static func withParameters<R>(
    _ bindings: PGBindings,
    _ body: (Int32, [UnsafePointer<CChar>?], [Int32], [Int32]) -> R
  ) -> R {
    bindings.storage.withUnsafeBufferPointer { storage in
      // A zero-length binary value still needs a non-NULL pointer (NULL means SQL NULL).
      let base =
        storage.baseAddress.map(UnsafeRawPointer.init) ?? UnsafeRawPointer(emptyValue.utf8Start)
      var values: [UnsafePointer<CChar>?] = []
      var lengths: [Int32] = []
      var formats: [Int32] = []
      values.reserveCapacity(bindings.count)
      lengths.reserveCapacity(bindings.count)
      formats.reserveCapacity(bindings.count)
      for slot in bindings.slots {
        values.append(
          slot.length < 0 ? nil : (base + slot.offset).assumingMemoryBound(to: CChar.self))
        lengths.append(max(slot.length, 0))
        formats.append(slot.format)
      }
      return body(Int32(bindings.count), values, lengths, formats)
    }
  }

  /// A successful result, or the error it carries (freeing it).
  private func check(_ result: OpaquePointer?) throws(PGError) -> PGResult {
    guard let result else { throw error(from: nil, connection) }
    switch PQresultStatus(result) {
    case PGRES_COMMAND_OK, PGRES_TUPLES_OK, PGRES_EMPTY_QUERY:
      return PGResult(taking: result)
    case PGRES_COPY_IN, PGRES_COPY_OUT, PGRES_COPY_BOTH:
      PQclear(result)
      isBroken = true  // the connection now waits for COPY data we will not send
      throw PGError(.unexpected, "COPY is not supported by this call")
    default:
      let error = error(from: result, connection)
      PQclear(result)
      throw error
    }
  }

  /// Gives up on a connection left mid-pipeline (its protocol state is unknown) and returns the
  /// error to throw: `error` if given, else libpq's.
  private func abandon(_ connection: OpaquePointer, _ error: PGError? = nil) -> PGError {
    let error = error ?? self.error(from: nil, connection)
    isBroken = true
    return error
  }

  /// A field of an error or notice result (PQresultErrorField), e.g. "C" for the SQLSTATE.
  static func errorField(_ result: OpaquePointer?, _ code: Character) -> String? {
    guard let result, let value = PQresultErrorField(result, Int32(code.asciiValue!)) else { return nil }
    return String(cString: value)
  }

  private func error(from result: OpaquePointer?, _ connection: OpaquePointer?) -> PGError {
    if connection.map({ PQstatus($0) == CONNECTION_BAD }) ?? true { isBroken = true }
    return Self.error(from: result, connection, lost: isBroken)
  }

  /// The error a failed result (or, without one, the connection) reports; of kind
  /// `.connectionLost` when `lost`.
  static func error(from result: OpaquePointer?, _ connection: OpaquePointer?, lost: Bool) -> PGError {
    func field(_ code: Character) -> String? { Self.errorField(result, code) }
    if let code = field("C") {
      var error = PGError(lost ? .connectionLost : .server, field("M") ?? "", sqlState: SQLState(code))
      error.severity = field("V") ?? field("S")
      error.detail = field("D")
      error.hint = field("H")
      error.constraint = field("n")
      error.schema = field("s")
      error.table = field("t")
      error.column = field("c")
      return error
    }
    let message =
      result.map { String(cString: PQresultErrorMessage($0)) }
      ?? connection.map { String(cString: PQerrorMessage($0)) } ?? "no connection"
    return PGError(lost ? .connectionLost : .unexpected, message.trimmingTrailingNewlines())
  }
}

extension String {
  func trimmingTrailingNewlines() -> String {
    var text = Substring(self)
    while let last = text.last, last.isNewline || last == " " { text.removeLast() }
    return String(text)
  }
}

// MARK: COPY FROM STDIN

extension PGConnectionCore {
  /// Runs `sql` (a `COPY ... FROM STDIN`), lets `body` write the data through a `PGCopyWriter`
  /// (sent in chunks as it fills), ends the copy and returns the rows copied. If `body` throws,
  /// the copy is aborted on the server (nothing is copied) and `body`'s error is rethrown.
  func copyIn(_ sql: SQL, _ body: (inout PGCopyWriter) throws -> Void) throws -> Int {
    assertOnThread()
    try applyStatementTimeout()
    let connection = try usableConnection()
    guard sql.bindings.count == 0 else {
      throw PGError(.invalidParameter, "COPY takes no bound parameters")
    }
    try cancel.beginStatement(checkCancel: true)
    defer { cancel.endStatement() }

    // COPY cannot be prepared with parameters; the simple protocol runs it (text from the program).
    guard let start = PQexec(connection, sql.text) else { throw error(from: nil, connection) }
    switch PQresultStatus(start) {
    case PGRES_COPY_IN:
      PQclear(start)
    case PGRES_COPY_OUT, PGRES_COPY_BOTH:
      PQclear(start)
      isBroken = true  // the server now streams data we will not read
      throw PGError(.unexpected, "copyIn needs COPY ... FROM STDIN")
    case PGRES_COMMAND_OK, PGRES_TUPLES_OK, PGRES_EMPTY_QUERY:
      PQclear(start)
      throw PGError(.invalidParameter, "copyIn needs COPY ... FROM STDIN")
    default:
      let error = error(from: start, connection)
      PQclear(start)
      throw error
    }

    var writer = PGCopyWriter(core: self)
    var bodyError: (any Error)?
    do {
      try body(&writer)
      try writer.flush()
    } catch {
      bodyError = error
    }
    if let sendError = writer.sendError, bodyError == nil { bodyError = sendError }
    let ended =
      bodyError == nil ? PQputCopyEnd(connection, nil) : PQputCopyEnd(connection, "aborted by the client")
    guard ended == 1 else { throw abandon(connection, writer.sendError) }

    var rows = 0
    var serverError: PGError?
    while let result = PQgetResult(connection) {
      switch PQresultStatus(result) {
      case PGRES_COMMAND_OK:
        rows = PGResult(taking: result).rowsAffected
        continue  // PGResult frees it
      case PGRES_COPY_IN:
        // Cannot happen after PQputCopyEnd; do not loop forever on it.
        PQclear(result)
        throw abandon(connection)
      default:
        if serverError == nil { serverError = error(from: result, connection) }
      }
      PQclear(result)
    }
    if let bodyError { throw bodyError }
    if let serverError { throw serverError }
    return rows
  }

  /// Sends one chunk of COPY data (blocking). Throws when the connection failed.
  func putCopyData(_ bytes: UnsafeRawBufferPointer) throws(PGError) {
    guard let connection, let base = bytes.baseAddress, bytes.count > 0 else { return }
    let rc = PQputCopyData(
      connection, base.assumingMemoryBound(to: CChar.self), Int32(bytes.count))
    guard rc == 1 else { throw error(from: nil, connection) }
  }
}

/// A session's `statement_timeout`: the server's default, or a number of milliseconds.
enum StatementTimeout: Equatable, Sendable {
  case serverDefault
  case milliseconds(Int64)

  /// The statement that gives a session this setting.
  var statement: SQL {
    switch self {
    case .serverDefault: "RESET statement_timeout"
    case .milliseconds(let value): "SELECT set_config('statement_timeout', \(String(value)), false)"
    }
  }
}
