public import Logging
import Synchronization

/// One PostgreSQL connection: one libpq `PGconn` and one dedicated thread that makes every libpq
/// call on it.
///
/// libpq blocks, so its calls never run on an event loop or Swift's cooperative pool. A caller
/// submits a synchronous closure (`withSession`), which runs on the connection's thread; the
/// caller awaits one continuation and resumes on its own executor. If the awaiting task is
/// cancelled mid-statement, the statement is cancelled on the server (`PQcancel`, from a
/// short-lived thread of its own since it blocks too) and fails with SQLSTATE 57014.
///
/// Most code uses `PGPool` instead, which leases these out.
///
/// - Important: call `close()` when done. (Dropping the last reference closes it too, later.)
public final class PGConnection: Sendable {
  /// The process id of the server backend (`pg_backend_pid()`).
  public let backendPID: Int32
  let core: PGConnectionCore
  private let thread: PGThread
  private let cancel: PGCancelCoordinator
  private let leaseCounter = Mutex<UInt64>(0)
  private let broken = Atomic<Bool>(false)

  private init(core: PGConnectionCore) {
    self.core = core
    self.thread = core.thread
    self.cancel = core.cancel
    self.backendPID = core.backendPID
  }

  deinit {
    let core = core
    thread.submit { core.finish() }
    thread.stop()
  }

  /// Connects. Throws `PGError` of kind `.connectionLost` when the server cannot be reached or
  /// refuses (the message says why).
  public static func connect(options: Options, logger: Logger) async throws -> PGConnection {
    try await connect(options: options, connectTimeout: nil, logger: logger)
  }

  static func connect(options: Options, connectTimeout: Duration?, logger: Logger) async throws
    -> PGConnection
  {
    let thread = try PGThread()
    let parameters = options.libpqParameters(connectTimeout: connectTimeout)
    let capacity = options.statementCacheCapacity
    do {
      let core = try await thread.run { () throws -> PGConnectionCore in
        let connection = try PGConnectionCore.open(parameters)
        let cancel = PGCancelCoordinator(handle: PGCancelHandle(connection: connection))
        return PGConnectionCore(
          connection: connection, thread: thread, cancel: cancel, statementCapacity: capacity,
          logger: logger)
      }
      return PGConnection(core: core)
    } catch {
      thread.stop()
      throw error
    }
  }

  /// Runs `body` on the connection's thread with the connection's session, and returns its
  /// result. Statements in `body` throw `PGError`; cancelling the awaiting task cancels them.
  @discardableResult
  public func withSession<T: Sendable>(_ body: @escaping @Sendable (PGSession) throws -> T)
    async throws -> T
  {
    try await lease { core in try body(PGSession(core)) }
  }

  /// Whether the connection is known to be unusable (lost, or abandoned mid-protocol).
  public var isBroken: Bool { broken.load(ordering: .acquiring) }

  /// Closes the connection once the work already submitted has run, and ends its thread.
  public func close() async {
    let core = core
    _ = try? await thread.run { core.finish() }
    broken.store(true, ordering: .releasing)
    thread.stop()
  }

  /// Runs `job` on the connection's thread as one lease (see `PGCancelCoordinator`).
  func lease<T: Sendable>(_ job: @escaping @Sendable (PGConnectionCore) throws -> T) async throws
    -> T
  {
    let core = core
    let cancel = cancel
    let thread = thread
    let id = leaseCounter.withLock { counter in
      counter += 1
      return counter
    }
    cancel.registerLease(id)
    return try await withTaskCancellationHandler {
      do {
        return try await thread.run {
          cancel.beginLease(id)
          defer {
            cancel.endLease(id, connectionBroken: core.isBroken)
            self.broken.store(core.isBroken, ordering: .releasing)
          }
          return try job(core)
        }
      } catch {
        cancel.unregisterLease(id)  // the thread refused the job (closed); a no-op after endLease
        throw error
      }
    } onCancel: {
      cancel.requestCancel(lease: id)
    }
  }
}
