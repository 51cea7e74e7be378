internal import CLibPQ
import Glibc

/// libpq's cancel handle for one connection (`PGcancel`), freed with the last reference.
// @unchecked Sendable: libpq documents PQcancel as safe to call from any thread on a PGcancel
// made for that purpose; the pointer is immutable and only freed in deinit.
final class PGCancelHandle: @unchecked Sendable {
  private let pointer: OpaquePointer

  init?(connection: OpaquePointer) {
    guard let pointer = PQgetCancel(connection) else { return nil }
    self.pointer = pointer
  }

  deinit { PQfreeCancel(pointer) }

  /// Asks the server to cancel whatever the connection runs. Blocks (it opens a connection to
  /// the postmaster): never call it on an event loop or the cooperative pool.
  @discardableResult
  func send() -> Bool {
    var buffer = [CChar](repeating: 0, count: 256)
    return PQcancel(pointer, &buffer, Int32(buffer.count)) == 1
  }
}

/// Decides when a cancelled Swift task turns into `PQcancel` for its connection, and makes sure a
/// cancel request can never hit a later user of the same connection.
///
/// A *lease* is one job of one caller on the connection's thread; a *statement* is one round of
/// libpq calls inside it (a prepared execution, a pipeline, a script). When the awaiting task is
/// cancelled (`requestCancel`):
/// - before its lease starts, or between statements: the next statement of that lease throws
///   `PGError.cancelled` without reaching the server;
/// - during a statement: a short-lived thread sends `PQcancel`, again every 50 ms while that same
///   statement is still running (a request that arrives before the query does is ignored by the
///   server), up to 20 times; the statement then fails with SQLSTATE 57014.
/// A lease does not end (the connection does not go back to the pool) until every cancel sender
/// for it has finished, so a late request cannot cancel the next lease's query. (A request that
/// reaches the server after its statement ended is ignored: an idle backend drops it.)
final class PGCancelCoordinator: Sendable {
  private struct State: Sendable {
    var currentLease: UInt64 = 0
    /// Leases submitted and not finished yet.
    var pendingLeases: Set<UInt64> = []
    var cancelledLeases: Set<UInt64> = []
    var statement: UInt64 = 0
    var statementInFlight: UInt64?
    var senders = 0
  }

  /// Pause between two cancel requests for the same statement (50 ms).
  static let resendIntervalNanoseconds = 50_000_000
  static let maximumSends = 20

  private let state = PGConditionVariable(State())
  private let handle: PGCancelHandle?

  init(handle: PGCancelHandle?) {
    self.handle = handle
  }

  /// Before lease `id` is submitted to the connection's thread.
  func registerLease(_ id: UInt64) {
    state.withLock { _ = $0.pendingLeases.insert(id) }
  }

  /// When lease `id` will not run after all (the connection's thread is gone).
  func unregisterLease(_ id: UInt64) {
    state.withLock { state in
      state.pendingLeases.remove(id)
      state.cancelledLeases.remove(id)
    }
  }

  /// On the connection thread, when lease `id` starts.
  func beginLease(_ id: UInt64) {
    state.withLock { $0.currentLease = id }
  }

  /// On the connection thread, when lease `id` ends: waits for its cancel senders to finish,
  /// unless the connection is broken (it will be closed, so a late request cannot reach a later
  /// lease; and PQcancel to a vanished server may block for a long time).
  func endLease(_ id: UInt64, connectionBroken: Bool) {
    state.withLock(
      waitingUntil: { $0.senders == 0 || connectionBroken },
      body: { state in
        state.cancelledLeases.remove(id)
        state.pendingLeases.remove(id)
        state.currentLease = 0
      })
  }

  /// On the connection thread, before a statement. Throws if the lease was cancelled and the
  /// statement is one that cancellation stops (`checkCancel`; the clean-up ROLLBACK and the
  /// migrator's advisory unlock are not).
  func beginStatement(checkCancel: Bool) throws(PGError) {
    let cancelled = state.withLock { state -> Bool in
      if checkCancel && state.cancelledLeases.contains(state.currentLease) { return true }
      state.statement += 1
      state.statementInFlight = state.statement
      return false
    }
    if cancelled {
      throw PGError(.cancelled, "cancelled before the statement was sent", sqlState: .queryCanceled)
    }
  }

  /// On the connection thread, after a statement.
  func endStatement() {
    state.withLock { $0.statementInFlight = nil }
  }

  /// From any thread (the awaiting task's cancellation handler): cancels lease `id`.
  func requestCancel(lease id: UInt64) {
    let statement = state.withLock { state -> UInt64? in
      guard state.pendingLeases.contains(id) else { return nil }  // already over
      state.cancelledLeases.insert(id)
      guard state.currentLease == id, let statement = state.statementInFlight, handle != nil else {
        return nil
      }
      state.senders += 1
      return statement
    }
    guard let statement, let handle else { return }
    let coordinator = self
    do {
      try PGThread.detach {
        coordinator.sendCancels(handle: handle, statement: statement)
      }
    } catch {
      // No thread for the sender: the statement runs on, bounded by its statement timeout.
      state.withLock { $0.senders -= 1 }
    }
  }

  private func sendCancels(handle: PGCancelHandle, statement: UInt64) {
    defer { state.withLock { $0.senders -= 1 } }
    for attempt in 1...Self.maximumSends {
      handle.send()
      let stillRunning = state.withLock { $0.statementInFlight == statement }
      guard stillRunning, attempt < Self.maximumSends else { return }
      var pause = timespec(tv_sec: 0, tv_nsec: Self.resendIntervalNanoseconds)
      var remaining = timespec()
      while nanosleep(&pause, &remaining) != 0 && errno == EINTR { pause = remaining }
      let stillRunningAfterPause = state.withLock { $0.statementInFlight == statement }
      guard stillRunningAfterPause else { return }
    }
  }
}
