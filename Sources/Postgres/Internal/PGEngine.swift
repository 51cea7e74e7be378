internal import CLinuxEvents
import Glibc
import Logging
import Synchronization

/// The thread behind `PGClient`: one epoll loop over every connection's socket, which sends the
/// requests callers queue, reads the results as they come, and completes each request there
/// (its caller's task resumes on its own executor: an RPC's event loop).
///
/// - Requests from all callers wait in one queue, in arrival order; each goes to the connection
///   with the fewest requests in flight, up to `pipelineDepth`. Requests that arrive while the
///   thread works leave in the same write as those before them.
/// - A request's deadline is kept here: past it the request is failed at once, waiting or not
///   (and if the server is running it, PQcancel stops it). A caller's cancellation completes the
///   request at once too; a waiting request is then never sent.
/// - Connections are made on demand without blocking (PQconnectStart/PQconnectPoll). While none
///   can be made, requests fail fast with `.connectionLost`, and a new attempt is made after
///   the reconnect backoff when the next request comes.
/// - The listener's connection (LISTEN/NOTIFY) lives here too.
final class PGEngine: Sendable {
  private let epoll: Int32
  private let wake: Int32
  private let inbox = Mutex(Inbox())
  /// The engine thread's own state: touched by that thread only.
  private let loop: PGEngineLoop

  struct Inbox {
    var requests: [PGRequest] = []
    var cancelled: [PGRequest] = []
    var channelsChanged = false
    var stopping = false
    var sleeping = false
    /// Executors that will wake the engine once they have run what they have queued.
    var wakesAfter: [ObjectIdentifier] = []
  }

  init(config: PGClient.Config, logger: Logger) throws(PGError) {
    epoll = epoll_create1(Int32(EPOLL_CLOEXEC))
    wake = eventfd(0, Int32(EFD_NONBLOCK | EFD_CLOEXEC))
    guard epoll >= 0, wake >= 0 else {
      throw PGError(.unexpected, "could not create the engine's epoll and eventfd (errno \(errno))")
    }
    loop = PGEngineLoop(config: config, logger: logger, epoll: epoll)
    var event = epoll_event(events: EPOLLIN.rawValue, data: epoll_data_t(u64: UInt64.max))
    epoll_ctl(epoll, EPOLL_CTL_ADD, wake, &event)
    let engine = self
    try PGThread.detach { engine.run() }
  }

  deinit {
    close(epoll)
    close(wake)
  }

  // MARK: Callers' side

  /// Queues `request`; the engine thread sends it. Once stopped, fails it at once.
  ///
  /// A request from a task with an executor (an RPC's event loop) wakes the sleeping engine only
  /// once that executor has run the jobs queued before: the statements of the calls that arrive
  /// together leave together, and the engine does not preempt the loop once per call.
  func submit(_ request: PGRequest) {
    enum Outcome {
      case closed, queued, wakeNow
      case wakeAfter(any TaskExecutor)
    }
    let outcome = inbox.withLock { inbox -> Outcome in
      guard !inbox.stopping else { return .closed }
      inbox.requests.append(request)
      guard inbox.sleeping else { return .queued }
      guard let executor = request.executor else {
        inbox.sleeping = false
        return .wakeNow
      }
      let id = ObjectIdentifier(executor)
      guard !inbox.wakesAfter.contains(id) else { return .queued }
      inbox.wakesAfter.append(id)
      return .wakeAfter(executor)
    }
    switch outcome {
    case .closed: request.complete(.failure(PGError(.closed, "the database client is closed")))
    case .queued: break
    case .wakeNow: _ = eventfd_write(wake, 1)
    case .wakeAfter(let executor):
      // A job behind those already queued on the executor: it runs once they have submitted.
      Task(executorPreference: executor) { [self] in
        post { inbox in inbox.wakesAfter.removeAll { $0 == ObjectIdentifier(executor) } }
      }
    }
  }

  /// The caller gave up `request` (already completed by the caller): a waiting request is
  /// dropped, a running one cancelled on the server.
  func cancel(_ request: PGRequest) {
    post { $0.cancelled.append(request) }
  }

  /// The set of channels listened to changed.
  func channelsChanged() {
    post { $0.channelsChanged = true }
  }

  /// Fails what waits and what runs, closes every connection, and ends the thread.
  func stop() {
    post { $0.stopping = true }
  }

  var statistics: PGClient.Statistics { loop.statistics.withLock { $0 } }

  let subscribers = Mutex<[String: [Int: AsyncStream<PGNotification>.Continuation]]>([:])

  @discardableResult
  private func post<T>(_ change: (inout Inbox) -> T) -> T {
    let (result, wakeUp) = inbox.withLock { inbox in
      let result = change(&inbox)
      defer { inbox.sleeping = false }
      return (result, inbox.sleeping)
    }
    if wakeUp { _ = eventfd_write(wake, 1) }
    return result
  }

  // MARK: The engine thread

  private func run() {
    _ = clinux_set_thread_name("pg-engine")  // the thread's name in top, perf and gdb
    var events = [epoll_event](repeating: epoll_event(), count: 64)
    while true {
      let work = inbox.withLock { inbox -> Inbox in
        let taken = inbox
        inbox.requests.removeAll(keepingCapacity: true)
        inbox.cancelled.removeAll(keepingCapacity: true)
        inbox.channelsChanged = false
        return taken
      }
      if work.stopping {
        loop.shutDown(failing: work.requests)
        return
      }
      let channels = work.channelsChanged ? Set(subscribers.withLock { $0.keys }) : nil
      loop.step(new: work.requests, cancelled: work.cancelled, channels: channels, deliver: deliver)
      let timeout = loop.timeoutMilliseconds()
      let idle = inbox.withLock { inbox -> Bool in
        guard inbox.requests.isEmpty, inbox.cancelled.isEmpty, !inbox.channelsChanged, !inbox.stopping else {
          return false
        }
        inbox.sleeping = true
        return true
      }
      let count = epoll_wait(epoll, &events, Int32(events.count), idle ? timeout : 0)
      inbox.withLock { $0.sleeping = false }
      guard count > 0 else { continue }
      for event in events[0..<Int(count)] {
        if event.data.u64 == UInt64.max {
          var value: eventfd_t = 0
          _ = eventfd_read(wake, &value)
        } else {
          loop.handle(event: event.events, connection: Int(event.data.u64), deliver: deliver)
        }
      }
      loop.handOverResults()
    }
  }

  /// Hands a notification (or a gap) to the channel's subscribers.
  private func deliver(_ channel: String?, _ notification: PGNotification) {
    let continuations = subscribers.withLock { subscribers in
      channel.map { subscribers[$0].map { Array($0.values) } ?? [] } ?? subscribers.values.flatMap(\.values)
    }
    for continuation in continuations { continuation.yield(notification) }
  }
}

/// The engine thread's state and logic; only that thread calls it (`statistics` aside).
final class PGEngineLoop: @unchecked Sendable {  // confined to the engine's thread
  private let config: PGClient.Config
  private let logger: Logger
  private let epoll: Int32
  private let parameters: [(String, String)]
  private var connections: [Int: PGPipe] = [:]
  private var nextID = 0
  /// Requests waiting for a connection, in arrival order (completed ones are skipped).
  private var waiting: [PGRequest] = []
  private var waitingHead = 0
  /// Requests with a deadline, waiting or in flight, soonest first.
  private var deadlines = DeadlineHeap()
  private var consecutiveConnectFailures = 0
  private var nextConnectAttempt: ContinuousClock.Instant?
  /// The listener's connection and what it listens to.
  private var listener: PGPipe?
  private var listenedChannels: Set<String> = []
  private var wantedChannels: Set<String> = []
  private var listenerEverReady = false
  /// Whether this listener connection's first LISTEN was announced to the subscribers.
  private var announcedListening = false
  private var nextListenerAttempt: ContinuousClock.Instant?
  private var listenerFailures = 0
  /// Requests answered in this turn, completed together by `handOverResults`.
  typealias Answer = (request: PGRequest, outcome: Result<[PGResult], PGError>)
  private var answered: [Answer] = []
  let statistics = Mutex(PGClient.Statistics())

  init(config: PGClient.Config, logger: Logger, epoll: Int32) {
    self.config = config
    self.logger = logger
    self.epoll = epoll
    self.parameters = config.connection.libpqParameters()
  }

  typealias Deliver = (String?, PGNotification) -> Void

  // MARK: Each turn

  func step(new: [PGRequest], cancelled: [PGRequest], channels: Set<String>?, deliver: Deliver) {
    for request in new { accept(request) }
    for request in cancelled { cancelOnServer(request) }
    expireDeadlines()
    expireConnects()
    dispatch()
    if let channels {
      wantedChannels = channels
      updateListener(deliver: deliver)
    } else if listener == nil, !wantedChannels.isEmpty {
      updateListener(deliver: deliver)
    }
    publishStatistics()
  }

  private func accept(_ request: PGRequest) {
    guard !request.isCompleted else { return }
    if let deadline = request.deadline {
      guard deadline > .now else {
        request.complete(.failure(PGError(.deadlineExceeded, "the deadline passed before the statement started")))
        return
      }
      deadlines.insert(deadline, request)
    }
    if let lease = request.lease {
      // A statement of an interactive transaction: on its connection, behind nothing else.
      guard let id = lease.connectionID, let pipe = connections[id], pipe.leasedTo === lease else {
        request.complete(.failure(PGError(.connectionLost, "the transaction's connection was lost")))
        return
      }
      send(request, on: pipe)
      return
    }
    // Unreachable and not yet time to try again: fail fast.
    if readyCount == 0, consecutiveConnectFailures > 0, let next = nextConnectAttempt, ContinuousClock.now < next {
      request.complete(.failure(PGError(.connectionLost, "the database is unreachable; reconnecting")))
      return
    }
    waiting.append(request)
  }

  /// Gives waiting requests to connections, oldest first; makes a connection when none can take
  /// the oldest.
  private func dispatch() {
    while waitingHead < waiting.count {
      let request = waiting[waitingHead]
      if request.isCompleted {
        // A lease given up while it waited frees the connection it had reserved.
        for pipe in connections.values where pipe.reservedFor === request { pipe.reservedFor = nil }
        waitingHead += 1
        continue
      }
      if case .lease(let lease) = request.work {
        if grant(lease, to: request) {
          waitingHead += 1
          continue
        }
      } else if let pipe = leastLoaded(preferring: request.timeout) {
        waitingHead += 1
        send(request, on: pipe)
        continue
      }
      connectIfUseful()
      break
    }
    if waitingHead > 64, waitingHead * 2 > waiting.count {
      waiting.removeFirst(waitingHead)
      waitingHead = 0
    } else if waitingHead == waiting.count {
      waiting.removeAll(keepingCapacity: true)
      waitingHead = 0
    }
  }

  private var readyCount: Int { connections.values.count { $0.phase == .ready } }

  /// The ready connection with the fewest requests in flight that may take one more: below the
  /// pipeline depth, and still answering (not stuck on a slow statement). Of those equally loaded,
  /// one whose session already has `timeout`: callers with and without deadlines (RPCs,
  /// job workers) would otherwise flip a shared session's `statement_timeout` back and forth, two
  /// statements more per request.
  private func leastLoaded(preferring timeout: StatementTimeout) -> PGPipe? {
    var best: PGPipe?
    let now = ContinuousClock.now
    for pipe in connections.values
    where pipe.phase == .ready && pipe.leasedTo == nil && pipe.reservedFor == nil
      && pipe.inFlightCount < config.pipelineDepth && pipe.isFlowing(now: now, window: config.pipelineWindow)
    {
      guard let current = best else {
        best = pipe
        continue
      }
      if pipe.inFlightCount < current.inFlightCount
        || (pipe.inFlightCount == current.inFlightCount && pipe.sessionTimeout == timeout
          && current.sessionTimeout != timeout)
      {
        best = pipe
      }
    }
    return best
  }

  /// Grants `lease` an idle connection, or reserves the least loaded one for it (no new work goes
  /// there; the grant comes when it drains). True once granted.
  private func grant(_ lease: PGLease, to request: PGRequest) -> Bool {
    if let reserved = connections.values.first(where: { $0.reservedFor === request }) {
      guard reserved.phase == .ready else {
        reserved.reservedFor = nil
        return false
      }
      guard reserved.isIdle else { return false }
      reserved.reservedFor = nil
      return hand(reserved, to: lease, request)
    }
    func isFree(_ pipe: PGPipe) -> Bool {
      pipe.phase == .ready && pipe.isIdle && pipe.leasedTo == nil && pipe.reservedFor == nil
    }
    // An idle session already at the lease's statement_timeout first (see leastLoaded).
    if let idle = connections.values.first(where: { isFree($0) && $0.sessionTimeout == request.timeout })
      ?? connections.values.first(where: isFree)
    {
      return hand(idle, to: lease, request)
    }
    if let busy = leastLoaded(preferring: request.timeout) {
      busy.reservedFor = request
      return false
    }
    return false
  }

  private func hand(_ pipe: PGPipe, to lease: PGLease, _ request: PGRequest) -> Bool {
    pipe.leasedTo = lease
    lease.connectionID = pipe.id
    if !request.complete(.success([])) {
      // The caller left before the grant: the connection goes back at once.
      pipe.leasedTo = nil
      lease.connectionID = nil
    }
    return true
  }

  /// Ends a lease (its COMMIT or ROLLBACK answered): the connection takes other work again.
  private func release(_ lease: PGLease) {
    guard let id = lease.connectionID, let pipe = connections[id], pipe.leasedTo === lease else { return }
    pipe.leasedTo = nil
    lease.connectionID = nil
  }

  private func send(_ request: PGRequest, on pipe: PGPipe) {
    guard case .statements(let statements, let frame) = request.work else { return }
    if !pipe.send(request, statements: statements, frame: frame) {
      broke(pipe, PGError(.connectionLost, "the connection to the database was lost"))
    } else {
      updateInterest(pipe)
    }
  }

  // MARK: Deadlines and cancellation

  private func expireDeadlines() {
    let now = ContinuousClock.now
    while let (deadline, request) = deadlines.peek(), deadline <= now {
      deadlines.removeFirst()
      guard !request.isCompleted else { continue }
      request.complete(.failure(PGError(.deadlineExceeded, "the deadline passed")))
      cancelOnServer(request)
    }
  }

  /// A request given up while the server may be running it: PQcancel, if it is the one running
  /// (a later one in the pipeline has not started; its result is dropped when it comes).
  private func cancelOnServer(_ request: PGRequest) {
    for pipe in connections.values where pipe.headRequest === request {
      guard let handle = pipe.cancelHandle else { return }
      try? PGThread.detach { handle.send() }  // blocks on a connection of its own
      return
    }
  }

  // MARK: Connections

  private func connectIfUseful() {
    let connecting = connections.values.count { $0.phase == .connecting }
    guard connecting == 0, connections.count < config.maximumConnections else { return }
    if let next = nextConnectAttempt, ContinuousClock.now < next { return }
    nextID += 1
    do {
      let pipe = try PGPipe(
        id: nextID, role: .statements, parameters: parameters, connectTimeout: config.connection.connectTimeout)
      connections[pipe.id] = pipe
      updateInterest(pipe)
    } catch {
      connectFailed(error)
    }
  }

  private func connectFailed(_ error: PGError) {
    consecutiveConnectFailures += 1
    nextConnectAttempt = .now + config.reconnectBackoff.delay(attempt: consecutiveConnectFailures)
    logger.log(
      level: consecutiveConnectFailures == 1 ? .warning : .debug, "cannot connect to the database",
      metadata: ["db.error": "\(error.message)", "db.failures": "\(consecutiveConnectFailures)"])
    guard readyCount == 0 else { return }
    // Nothing to serve the waiting requests with: they fail fast (UNAVAILABLE) rather than wait.
    for request in waiting[waitingHead...] where !request.isCompleted {
      request.complete(.failure(PGError(.connectionLost, "the database is unreachable; reconnecting")))
    }
    waiting.removeAll(keepingCapacity: true)
    waitingHead = 0
  }

  func handle(event: UInt32, connection id: Int, deliver: Deliver) {
    if let listener, listener.id == id {
      return handleListener(event: event, deliver: deliver)
    }
    guard let pipe = connections[id] else { return }
    switch pipe.phase {
    case .connecting:
      if let error = pipe.continueConnecting(parameters: parameters) {
        connections[id] = nil
        unregister(pipe)
        return connectFailed(error)
      }
      if pipe.phase == .ready {
        if consecutiveConnectFailures > 0 { logger.notice("database reachable again") }
        consecutiveConnectFailures = 0
        nextConnectAttempt = nil
      }
      updateInterest(pipe)
      dispatch()
    case .ready:
      if event & EPOLLOUT.rawValue != 0, !pipe.flush() {
        return broke(pipe, PGError(.connectionLost, "the connection to the database was lost"))
      }
      if event & (EPOLLIN.rawValue | EPOLLHUP.rawValue | EPOLLERR.rawValue) != 0 {
        do {
          for (request, outcome) in try pipe.receive() {
            answered.append((request, Self.deadlineAware(outcome, request)))
            if let lease = request.lease, case .statements(_, .endsLease) = request.work { release(lease) }
          }
        } catch {
          return broke(pipe, error)
        }
      }
      updateInterest(pipe)
      dispatch()
    case .broken:
      break
    }
  }

  /// Completes the requests answered in this turn: those of one executor in one job on it (a
  /// single wake-up of an event loop, however many calls it resumes), the others here.
  func handOverResults() {
    guard !answered.isEmpty else { return }
    var batches: [(executor: any TaskExecutor, answers: [Answer])] = []
    for answer in answered {
      guard let executor = answer.request.executor else {
        answer.request.complete(answer.outcome)
        continue
      }
      if let index = batches.firstIndex(where: { $0.executor === executor }) {
        batches[index].answers.append(answer)
      } else {
        batches.append((executor, [answer]))
      }
    }
    answered.removeAll(keepingCapacity: true)
    for (executor, answers) in batches {
      Task(executorPreference: executor) {
        for answer in answers { answer.request.complete(answer.outcome) }
      }
    }
  }

  /// A statement the server cancelled after its request's deadline was cancelled by the deadline
  /// (its `statement_timeout`, or our PQcancel): `.deadlineExceeded`, whoever got there first.
  private static func deadlineAware(
    _ outcome: Result<[PGResult], PGError>, _ request: PGRequest
  ) -> Result<[PGResult], PGError> {
    guard case .failure(let error) = outcome, error.sqlState == .queryCanceled, let deadline = request.deadline,
      ContinuousClock.now >= deadline
    else { return outcome }
    return .failure(PGError(.deadlineExceeded, "the deadline passed"))
  }

  /// A connection failed: what it had in flight fails with `error`, its lease ends.
  private func broke(_ pipe: PGPipe, _ error: PGError) {
    logger.debug("database connection lost", metadata: ["db.backend_pid": "\(pipe.backendPID)"])
    unregister(pipe)
    pipe.fail(error)
    connections[pipe.id] = nil
    for request in pipe.takeInFlight() { request.complete(.failure(error)) }
    if let lease = pipe.leasedTo { lease.connectionID = nil }
    dispatch()
  }

  private func updateInterest(_ pipe: PGPipe) {
    let socket = pipe.socket
    if socket != pipe.registeredSocket, pipe.registeredSocket >= 0 {
      epoll_ctl(epoll, EPOLL_CTL_DEL, pipe.registeredSocket, nil)
      pipe.registeredSocket = -1
    }
    guard socket >= 0 else { return }
    var wanted = EPOLLIN.rawValue | EPOLLRDHUP.rawValue
    if pipe.wantsWrite { wanted |= EPOLLOUT.rawValue }
    // Unchanged (the usual case: a request sent and flushed whole): no system call.
    if pipe.registeredSocket == socket, pipe.registeredEvents == wanted { return }
    var event = epoll_event(events: wanted, data: epoll_data_t(u64: UInt64(pipe.id)))
    if pipe.registeredSocket == socket {
      epoll_ctl(epoll, EPOLL_CTL_MOD, socket, &event)
    } else {
      epoll_ctl(epoll, EPOLL_CTL_ADD, socket, &event)
      pipe.registeredSocket = socket
    }
    pipe.registeredEvents = wanted
  }

  private func unregister(_ pipe: PGPipe) {
    if pipe.registeredSocket >= 0 { epoll_ctl(epoll, EPOLL_CTL_DEL, pipe.registeredSocket, nil) }
    pipe.registeredSocket = -1
  }

  /// How long epoll may sleep: until the next deadline or connect timeout (or the listener's
  /// next attempt), at most 1 s; -1 for as long as it likes.
  func timeoutMilliseconds() -> Int32 {
    var soonest = deadlines.peek()?.0
    for pipe in connections.values where pipe.phase == .connecting {
      soonest = min(soonest ?? pipe.connectDeadline, pipe.connectDeadline)
    }
    if let listener, listener.phase == .connecting {
      soonest = min(soonest ?? listener.connectDeadline, listener.connectDeadline)
    }
    if listener == nil, !wantedChannels.isEmpty, let next = nextListenerAttempt {
      soonest = min(soonest ?? next, next)
    }
    guard let soonest else { return -1 }
    let left = soonest - .now
    return Int32(max(0, min(1000, (left.seconds * 1000).rounded(.up))))
  }

  /// Connections whose connect took too long fail (PQconnectPoll has no timeout of its own).
  private func expireConnects() {
    let now = ContinuousClock.now
    for pipe in connections.values where pipe.phase == .connecting && pipe.connectDeadline <= now {
      unregister(pipe)
      pipe.fail(PGError(.connectionLost, "could not connect: timed out"))
      connections[pipe.id] = nil
      connectFailed(PGError(.connectionLost, "could not connect: timed out"))
    }
  }

  private func publishStatistics() {
    let open = connections.count
    let inFlight = connections.values.reduce(0) { $0 + $1.inFlightCount }
    let waitingCount = waiting.count - waitingHead
    let reachable = consecutiveConnectFailures == 0
    statistics.withLock {
      $0 = PGClient.Statistics(open: open, inFlight: inFlight, waiting: waitingCount, isReachable: reachable)
    }
  }

  /// Fails everything and closes every connection (the engine stops).
  func shutDown(failing new: [PGRequest]) {
    let closed = PGError(.closed, "the database client is closed")
    for request in new { request.complete(.failure(closed)) }
    for request in waiting[waitingHead...] { request.complete(.failure(closed)) }
    waiting.removeAll()
    for pipe in Array(connections.values) + (listener.map { [$0] } ?? []) {
      unregister(pipe)
      pipe.fail(closed)
      for request in pipe.takeInFlight() { request.complete(.failure(closed)) }
    }
    connections.removeAll()
    listener = nil
  }

  // MARK: Listener

  private func updateListener(deliver: Deliver) {
    if listener == nil {
      guard !wantedChannels.isEmpty else { return }
      if let next = nextListenerAttempt, ContinuousClock.now < next { return }
      nextID += 1
      do {
        listener = try PGPipe(
          id: nextID, role: .listener, parameters: parameters, connectTimeout: config.connection.connectTimeout)
        listenedChannels = []
        announcedListening = false
        updateInterest(listener!)
      } catch {
        listenerFailed(error, deliver: deliver)
      }
      return
    }
    guard let listener, listener.phase == .ready else { return }
    let missing = wantedChannels.subtracting(listenedChannels)
    guard !missing.isEmpty else { return }
    let statement = missing.sorted().map { "LISTEN " + SQL.quoteIdentifier($0) }.joined(separator: "; ")
    if listener.sendSimple(statement) {
      listenedChannels.formUnion(missing)
      updateInterest(listener)
    } else {
      listenerFailed(PGError(.connectionLost, "the listener's connection was lost"), deliver: deliver)
    }
  }

  private func handleListener(event: UInt32, deliver: Deliver) {
    guard let listener else { return }
    switch listener.phase {
    case .connecting:
      if let error = listener.continueConnecting(parameters: parameters) {
        return listenerFailed(error, deliver: deliver)
      }
      if listener.phase == .ready {
        listenerFailures = 0
        updateListener(deliver: deliver)  // LISTEN; the subscribers hear once it is answered
      }
      updateInterest(listener)
    case .ready:
      do throws(PGError) {
        if event & EPOLLOUT.rawValue != 0, !listener.flush() {
          throw PGError(.connectionLost, "the listener's connection was lost")
        }
        if try listener.drainSimpleResults(), !announcedListening {
          // Listening from here on; after a loss, what was sent meanwhile may be gone.
          announcedListening = true
          deliver(nil, listenerEverReady ? .resumedAfterGap : .listening)
          listenerEverReady = true
        }
        for (channel, payload) in listener.takeNotifications() {
          deliver(channel, .notification(channel: channel, payload: payload))
        }
        updateInterest(listener)
      } catch {
        listenerFailed(error, deliver: deliver)
      }
    case .broken:
      break
    }
  }

  private func listenerFailed(_ error: PGError, deliver: Deliver) {
    if let listener {
      unregister(listener)
      listener.fail(error)
      if listenerEverReady, listener.backendPID != 0 { deliver(nil, .connectionLost) }
    }
    listener = nil
    listenedChannels = []
    listenerFailures += 1
    nextListenerAttempt = .now + config.reconnectBackoff.delay(attempt: listenerFailures)
    logger.debug("listener connection lost; reconnecting", metadata: ["db.error": "\(error.message)"])
  }
}

/// Requests by deadline, soonest first (a binary min-heap).
///
/// A request answered before its deadline stays in the heap until then (removal from the middle
/// would need an index per request). So that long deadlines do not pile answered requests up, the
/// heap drops them whenever it has doubled since it last did: amortized O(1) per insert, and
/// never more than twice the requests still pending (or 256) in memory.
struct DeadlineHeap {
  private var entries: [(ContinuousClock.Instant, PGRequest)] = []
  private var compactAt = 256

  var count: Int { entries.count }

  func peek() -> (ContinuousClock.Instant, PGRequest)? { entries.first }

  mutating func insert(_ deadline: ContinuousClock.Instant, _ request: PGRequest) {
    if entries.count >= compactAt { dropCompleted() }
    entries.append((deadline, request))
    siftUp(entries.count - 1)
  }

  mutating func removeFirst() {
    guard !entries.isEmpty else { return }
    entries.swapAt(0, entries.count - 1)
    entries.removeLast()
    siftDown(0)
  }

  private mutating func dropCompleted() {
    entries.removeAll { $0.1.isCompleted }
    for index in stride(from: entries.count / 2 - 1, through: 0, by: -1) { siftDown(index) }
    compactAt = max(256, 2 * entries.count)
  }

  private mutating func siftUp(_ index: Int) {
    var child = index
    while child > 0 {
      let parent = (child - 1) / 2
      guard entries[child].0 < entries[parent].0 else { break }
      entries.swapAt(child, parent)
      child = parent
    }
  }

  private mutating func siftDown(_ index: Int) {
    var parent = index
    while true {
      let left = 2 * parent + 1
      let right = left + 1
      var smallest = parent
      if left < entries.count, entries[left].0 < entries[smallest].0 { smallest = left }
      if right < entries.count, entries[right].0 < entries[smallest].0 { smallest = right }
      guard smallest != parent else { return }
      entries.swapAt(parent, smallest)
      parent = smallest
    }
  }
}
