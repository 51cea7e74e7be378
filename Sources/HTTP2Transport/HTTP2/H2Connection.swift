import CNGHTTP2
import Logging
import NIOCore
import RPCCore
import Synchronization

/// One HTTP/2 connection: a NIO channel handler that owns an nghttp2 server session.
///
/// Bytes read go to `nghttp2_session_mem_recv`; what nghttp2 wants to send is gathered into one
/// buffer and written with one flush per read burst (or per loop tick for output produced later
/// by handlers). Everything here runs on the channel's event loop.
final class H2Connection: ChannelInboundHandler, RemovableChannelHandler {
  typealias InboundIn = ByteBuffer
  typealias OutboundOut = ByteBuffer

  let config: HTTP2Server.Config
  let router: RPCRouter
  let logger: Logger
  private let registry: ConnectionRegistry
  private(set) var session: OpaquePointer!
  private var context: ChannelHandlerContext?
  let executor: EventLoopTaskExecutor
  private(set) var peer = "unknown"
  let allocator: ByteBufferAllocator
  let eventLoop: any EventLoop

  /// Bytes nghttp2 produced that are not yet written to the channel.
  var outbound: ByteBuffer
  private var inReadBurst = false
  private var isFlushing = false
  private var closeScheduled = false
  private var flushScheduled = false
  private var goingAway = false
  private var closing = false
  private var idleTimer: Scheduled<Void>?
  /// When the last stream closed; nil while streams are open. The idle timer reads it, so opening
  /// and closing streams touches no timer.
  private var idleSince: NIODeadline? = .now()
  private var keepalive = KeepaliveState()
  private var keepaliveTimer: RepeatedTask?
  private(set) var openStreams = 0
  /// Open streams as an intrusive list, so they can be closed if the connection dies under them
  /// (deleting an nghttp2 session does not call on_stream_close).
  private var firstStream: H2Stream?

  /// Where this connection's calls write their log line; nil when the line is not written.
  let accessLog: AccessLogBuffer?
  /// `peer`'s UTF-8 bytes, for the access log; freed with the connection.
  private(set) var peerUTF8 = UnsafeMutableRawBufferPointer(start: nil, count: 0)

  init(
    channel: any Channel, config: HTTP2Server.Config, router: RPCRouter, logger: Logger, registry: ConnectionRegistry,
    accessLog: AccessLogBuffer?
  ) {
    self.accessLog = accessLog
    self.eventLoop = channel.eventLoop
    self.allocator = channel.allocator
    self.config = config
    self.router = router
    self.logger = logger
    self.registry = registry
    self.outbound = channel.allocator.buffer(capacity: 16 * 1024)
    self.executor = EventLoopTaskExecutor(channel.eventLoop)
  }

  deinit {
    if let session { nghttp2_session_del(session) }
    peerUTF8.deallocate()
  }

  // MARK: Channel events

  func handlerAdded(context: ChannelHandlerContext) {
    self.context = context
    if let address = context.channel.remoteAddress {
      switch address {
      case .v4: peer = "ipv4:\(address.ipAddress ?? ""):\(address.port ?? 0)"
      case .v6: peer = "ipv6:[\(address.ipAddress ?? "")]:\(address.port ?? 0)"
      case .unixDomainSocket: peer = "unix:\(address.pathname ?? "")"
      }
      peerUTF8 = .allocate(byteCount: peer.utf8.count, alignment: 1)
      peerUTF8.copyBytes(from: peer.utf8)
    }
    session = H2Connection.makeSession(for: self)
    var settings = [
      nghttp2_settings_entry(
        settings_id: Int32(NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS.rawValue), value: config.maxConcurrentStreams),
      nghttp2_settings_entry(
        settings_id: Int32(NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE.rawValue), value: UInt32(config.maxHeaderListBytes)),
      nghttp2_settings_entry(
        settings_id: Int32(NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE.rawValue), value: config.initialWindowSize),
      // gRPC has no use for RFC 7540's stream priorities (RFC 9218 deprecates them): without
      // them nghttp2 keeps no dependency tree and no closed streams for it, which was several
      // percent of a small call's CPU.
      nghttp2_settings_entry(settings_id: Int32(NGHTTP2_SETTINGS_NO_RFC7540_PRIORITIES.rawValue), value: 1),
    ]
    let rc = nghttp2_submit_settings(session, UInt8(NGHTTP2_FLAG_NONE.rawValue), &settings, settings.count)
    precondition(rc == 0, "nghttp2_submit_settings failed: \(rc)")
    // The connection window starts at 64 KiB whatever the settings say; widen it once.
    nghttp2_session_set_local_window_size(
      session, UInt8(NGHTTP2_FLAG_NONE.rawValue), 0, Int32(config.connectionWindowSize))
    registry.add(self)
    armIdleTimer(in: config.idleTimeout)
    startKeepalive()
    if context.channel.isActive { flush() }
  }

  func handlerRemoved(context: ChannelHandlerContext) {
    self.context = nil  // breaks the handler <-> context cycle
  }

  func channelActive(context: ChannelHandlerContext) {
    flush()
    context.fireChannelActive()
  }

  func channelRead(context: ChannelHandlerContext, data: NIOAny) {
    let buffer = unwrapInboundIn(data)
    inReadBurst = true
    keepalive.readSinceLastTick = true
    let rc = buffer.withUnsafeReadableBytes { bytes in
      nghttp2_session_mem_recv(session, bytes.baseAddress?.assumingMemoryBound(to: UInt8.self), bytes.count)
    }
    if rc < 0 {
      logger.debug(
        "HTTP/2 protocol error",
        metadata: ["peer.address": "\(peer)", "nghttp2.error": "\(String(cString: nghttp2_strerror(Int32(rc))))"])
      // nghttp2 queued a GOAWAY for protocol errors; it goes out before the close.
      close("HTTP/2 protocol error")
    }
  }

  func channelReadComplete(context: ChannelHandlerContext) {
    inReadBurst = false
    flush()
    context.fireChannelReadComplete()
  }

  func channelWritabilityChanged(context: ChannelHandlerContext) {
    if context.channel.isWritable { flush() }
    context.fireChannelWritabilityChanged()
  }

  func channelInactive(context: ChannelHandlerContext) {
    idleTimer?.cancel()
    idleTimer = nil
    keepaliveTimer?.cancel()
    keepaliveTimer = nil
    keepalive.timeout?.cancel()
    closing = true
    while let stream = firstStream {
      streamClosed(stream, errorCode: NGHTTP2_CANCEL.rawValue)
    }
    if let session {
      nghttp2_session_del(session)
      self.session = nil
    }
    registry.remove(self, counts: counts)
    context.fireChannelInactive()
  }

  func errorCaught(context: ChannelHandlerContext, error: any Error) {
    close("channel error: \(error)")
  }

  // MARK: Output

  /// Asks for a flush: at the end of the current read burst, or on the next loop tick.
  func needsFlush() {
    guard !inReadBurst, !flushScheduled else { return }
    flushScheduled = true
    let connection = NIOLoopBound(self, eventLoop: eventLoop)
    eventLoop.execute {
      connection.value.flushScheduled = false
      connection.value.flush()
    }
  }

  /// Runs nghttp2's send loop and writes what it produced, while the channel accepts more.
  func flush() {
    // writeAndFlush can call back into us (writability changes); the running loop goes on.
    guard !isFlushing, let session, let context, !closing else { return }
    isFlushing = true
    defer { isFlushing = false }
    while context.channel.isWritable {
      let rc = nghttp2_session_send(session)
      if rc != 0 {
        close("nghttp2_session_send failed: \(String(cString: nghttp2_strerror(rc)))")
        return
      }
      guard outbound.readableBytes > 0 else { break }
      context.writeAndFlush(wrapOutboundOut(outbound), promise: nil)
      // The socket write usually completes within writeAndFlush, leaving our buffer the only
      // reference to its storage: clear() then reuses it instead of allocating anew.
      outbound.clear()
    }
    if nghttp2_session_want_read(session) == 0, nghttp2_session_want_write(session) == 0 {
      close("the HTTP/2 session is done")
    }
  }

  /// Closes the connection on the next loop tick, after writing what nghttp2 has queued (the
  /// last frames, a GOAWAY). Never closes synchronously: it may be called from inside nghttp2,
  /// and the close deletes the session.
  func close(_ reason: @autoclosure () -> String) {
    guard !closeScheduled, !closing else { return }
    closeScheduled = true
    logger.debug("closing connection", metadata: ["peer.address": "\(peer)", "reason": "\(reason())"])
    let bound = NIOLoopBound(self, eventLoop: eventLoop)
    eventLoop.execute {
      let connection = bound.value
      connection.flush()
      connection.closing = true
      connection.context?.close(promise: nil)
    }
  }

  // MARK: Partial request messages

  /// Bytes of request messages received in part, across streams, and the streams holding them,
  /// oldest first. A message's bytes are kept until it is complete, so without a bound 100
  /// streams could each hold most of a max-size message at once. Over `partialMessageBudget`,
  /// only the oldest partial message gets stream credit back: it can always complete, so the
  /// connection never deadlocks, and each other stream can add at most its window meanwhile.
  private var partialMessageBytes = 0
  private var partialMessageStreams: [H2Stream] = []
  private var partialMessageBudget: Int { config.connectionWindowSize }

  func partialMessageMustWait(_ stream: H2Stream) -> Bool {
    partialMessageBytes > partialMessageBudget && stream.partialBytes > 0
      && partialMessageStreams.first !== stream
  }

  func partialMessageChanged(_ stream: H2Stream, to bytes: Int) {
    partialMessageBytes += bytes - stream.partialBytes
    let wasHolding = stream.partialBytes > 0
    stream.partialBytes = bytes
    if bytes > 0, !wasHolding {
      partialMessageStreams.append(stream)
    } else if bytes == 0, wasHolding {
      partialMessageStreams.removeAll { $0 === stream }
      // Its message is whole: what it was kept from goes back too (more may follow on it).
      stream.releaseWithheldCredit()
      for waiting in partialMessageStreams { waiting.releaseWithheldCredit() }
    }
  }

  // MARK: Streams

  /// The stream the latest callbacks were about. A request's HEADERS, its header fields and its
  /// DATA arrive one after another, so most callbacks find their stream here rather than in
  /// nghttp2's stream map (a hash lookup each). Unretained: cleared when the stream closes.
  private var recentStream: (id: Int32, stream: Unmanaged<H2Stream>)?

  /// The open stream `id`, if there is one.
  func openStream(_ id: Int32) -> Unmanaged<H2Stream>? {
    if let recent = recentStream, recent.id == id { return recent.stream }
    guard let data = nghttp2_session_get_stream_user_data(session, id) else { return nil }
    let stream = Unmanaged<H2Stream>.fromOpaque(data)
    recentStream = (id, stream)
    return stream
  }

  /// Resets a stream whose request broke HTTP/2's message rules (malformed, RFC 9113 §8.1.1)
  /// with PROTOCOL_ERROR. The stream closes when nghttp2 has sent the RST_STREAM, and its frames
  /// are ignored until then.
  func resetMalformed(_ stream: H2Stream) {
    stream.isMalformed = true
    nghttp2_submit_rst_stream(session, UInt8(NGHTTP2_FLAG_NONE.rawValue), stream.id, NGHTTP2_PROTOCOL_ERROR.rawValue)
  }

  func streamOpened(_ stream: H2Stream) {
    recentStream = (stream.id, Unmanaged.passUnretained(stream))
    openStreams += 1
    stream.next = firstStream
    firstStream?.previous = stream
    firstStream = stream
    idleSince = nil
  }

  /// Ends a stream's life: its call is cancelled if still running, and nghttp2's reference dropped.
  func streamClosed(_ stream: H2Stream, errorCode: UInt32) {
    guard stream.isOpen else { return }
    stream.isOpen = false
    if recentStream?.id == stream.id { recentStream = nil }
    if let previous = stream.previous { previous.next = stream.next } else { firstStream = stream.next }
    stream.next?.previous = stream.previous
    stream.next = nil
    stream.previous = nil
    stream.closed(errorCode: errorCode)
    Unmanaged.passUnretained(stream).release()  // the reference nghttp2 held as stream user data
    openStreams -= 1
    if openStreams == 0, !closing {
      if goingAway {
        close("GOAWAY sent and the last stream is done")
      } else {
        idleSince = .now()
      }
    }
  }

  /// Calls finished on this connection, added to the server's totals when it closes (no shared
  /// counter is touched per call).
  private var counts = RPCCounts()

  func recordFinished(status: Status, cancelledByClient: Bool) {
    if cancelledByClient {
      counts.cancelled += 1
    } else if status.code == .ok {
      counts.ok += 1
    } else {
      counts.failed += 1
    }
  }

  /// One timer for the connection's life: when it fires it checks how long the connection has
  /// been without streams, and either sends GOAWAY or waits for the rest of the idle time.
  private func armIdleTimer(in delay: Duration?) {
    guard let delay, let idle = config.idleTimeout else { return }
    let bound = NIOLoopBound(self, eventLoop: eventLoop)  // the timer is cancelled when the channel closes
    idleTimer = eventLoop.scheduleTask(in: TimeAmount(delay)) {
      let connection = bound.value
      guard !connection.goingAway, !connection.closing else { return }
      guard let since = connection.idleSince else { return connection.armIdleTimer(in: idle) }
      let left = TimeAmount(idle) - (.now() - since)
      if left > .zero { return connection.armIdleTimer(in: .nanoseconds(left.nanoseconds)) }
      connection.logger.debug("closing idle connection", metadata: ["peer.address": "\(connection.peer)"])
      connection.goAway()
    }
  }

  // MARK: Keepalive

  struct KeepaliveState {
    /// Any bytes read since the last keepalive tick: a talking peer is alive.
    var readSinceLastTick = false
    /// Our PING awaiting its ACK, and the timer that closes the connection if none comes.
    var timeout: Scheduled<Void>?
    /// The client's pings since we last sent HEADERS or DATA: when the last came, and how many
    /// came too soon ("strikes").
    var lastClientPing: NIODeadline?
    var strikes = 0
  }

  /// Called for every HEADERS or DATA frame the response side produces. As in gRPC C-core's ping
  /// abuse policy (gRFC A8), sending them forgives the client's pings: clients ping while data
  /// flows (BDP probes), and only pings with nothing flowing count as abuse.
  func noteResponseFrames() {
    keepalive.strikes = 0
    keepalive.lastClientPing = nil
  }

  private func startKeepalive() {
    guard let interval = config.keepaliveInterval else { return }
    let bound = NIOLoopBound(self, eventLoop: eventLoop)  // the task is cancelled when the channel closes
    keepaliveTimer = eventLoop.scheduleRepeatedTask(
      initialDelay: TimeAmount(interval), delay: TimeAmount(interval)
    ) { _ in
      bound.value.keepaliveTick()
    }
  }

  /// A quiet connection gets a PING; no ACK within the timeout means the peer is gone.
  private func keepaliveTick() {
    defer { keepalive.readSinceLastTick = false }
    guard !keepalive.readSinceLastTick, keepalive.timeout == nil, let session, !closing else { return }
    nghttp2_submit_ping(session, UInt8(NGHTTP2_FLAG_NONE.rawValue), nil)
    flush()
    let bound = NIOLoopBound(self, eventLoop: eventLoop)
    keepalive.timeout = eventLoop.scheduleTask(in: TimeAmount(config.keepaliveTimeout)) {
      let connection = bound.value
      connection.close("keepalive: no PING ACK in time")
    }
  }

  func receivedPing(isAck: Bool) {
    if isAck {
      keepalive.timeout?.cancel()
      keepalive.timeout = nil
      return
    }
    // Enforcement, as gRPC servers do: a client pinging more often than allowed, with no
    // response traffic in between, gets strikes; too many and it is told to calm down.
    let now = NIODeadline.now()
    defer { keepalive.lastClientPing = now }
    guard let last = keepalive.lastClientPing, now - last < TimeAmount(config.minClientPingInterval) else { return }
    keepalive.strikes += 1
    if keepalive.strikes > config.maxPingStrikes, let session {
      logger.info("too many pings: GOAWAY ENHANCE_YOUR_CALM", metadata: ["peer.address": "\(peer)"])
      let reason = Array("too_many_pings".utf8)
      nghttp2_submit_goaway(
        session, UInt8(NGHTTP2_FLAG_NONE.rawValue), nghttp2_session_get_last_proc_stream_id(session),
        NGHTTP2_ENHANCE_YOUR_CALM.rawValue, reason, reason.count)
      goingAway = true
      close("too many pings")
    }
  }

  // MARK: Shutdown

  /// Graceful shutdown: GOAWAY with the last stream we will process; in-flight calls finish, then
  /// the connection closes.
  func goAway() {
    guard let session, !goingAway, !closing else { return }
    goingAway = true
    nghttp2_submit_goaway(
      session, UInt8(NGHTTP2_FLAG_NONE.rawValue), nghttp2_session_get_last_proc_stream_id(session),
      NGHTTP2_NO_ERROR.rawValue, nil, 0)
    flush()
    if openStreams == 0 { close("GOAWAY sent with no stream open") }
  }

  /// After the grace period: close now, cancelling what is still running.
  func forceClose() {
    close("shutdown grace period over")
  }
}

/// The server's live connections, for graceful shutdown, and its RPC counters.
final class ConnectionRegistry: Sendable {
  private struct State {
    var connections: [ObjectIdentifier: (loop: any EventLoop, connection: H2ConnectionBox)] = [:]
    var counts = RPCCounts()
    var drainedWaiters: [DrainWaiter] = []
  }

  private let state = Mutex(State())

  func add(_ connection: H2Connection) {
    let box = H2ConnectionBox(connection)
    state.withLock { $0.connections[ObjectIdentifier(connection)] = (connection.eventLoop, box) }
  }

  func remove(_ connection: H2Connection, counts: RPCCounts) {
    let waiters = state.withLock { state -> [DrainWaiter] in
      state.connections[ObjectIdentifier(connection)] = nil
      state.counts += counts
      guard state.connections.isEmpty else { return [] }
      defer { state.drainedWaiters.removeAll() }
      return state.drainedWaiters
    }
    for waiter in waiters { waiter.resume(true) }
  }

  var totals: RPCCounts { state.withLock { $0.counts } }

  /// Runs `body` on each connection's own loop.
  func onEachConnectionLoop(_ body: @escaping @Sendable (H2Connection) -> Void) {
    let connections = state.withLock { Array($0.connections.values) }
    for (loop, box) in connections {
      loop.execute { body(box.connection) }
    }
  }

  /// Returns true once no connection is open, or false when `timeout` passes first.
  func waitUntilDrained(timeout: Duration?, timer: any EventLoop) async -> Bool {
    await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
      let waiter = DrainWaiter(continuation)
      let drained = state.withLock { state -> Bool in
        if state.connections.isEmpty { return true }
        state.drainedWaiters.append(waiter)
        return false
      }
      if drained { return waiter.resume(true) }
      if let timeout {
        timer.scheduleTask(in: TimeAmount(timeout)) { waiter.resume(false) }
      }
    }
  }

}

/// Calls by outcome: answered OK, answered with another status, or ended by the client first.
public struct RPCCounts: Sendable, Hashable {
  public var ok = 0
  public var failed = 0
  public var cancelled = 0

  static func += (total: inout RPCCounts, more: RPCCounts) {
    total.ok += more.ok
    total.failed += more.failed
    total.cancelled += more.cancelled
  }
}

/// One wait for the server to drain, resumed once: by the last connection closing or by its timer.
final class DrainWaiter: Sendable {
  private let continuation: Mutex<CheckedContinuation<Bool, Never>?>

  init(_ continuation: CheckedContinuation<Bool, Never>) {
    self.continuation = Mutex(continuation)
  }

  func resume(_ drained: Bool) {
    continuation.withLock { $0.take() }?.resume(returning: drained)
  }
}

/// Carries a connection reference to its own event loop. Strong: the registry drops it when the
/// channel closes (a weak reference would put every retain of the connection on a slow path).
final class H2ConnectionBox: @unchecked Sendable {  // the connection is only touched on its loop
  let connection: H2Connection
  init(_ connection: H2Connection) { self.connection = connection }
}

/// Runs handler tasks on a connection's event loop: the executor preference of every call's task.
final class EventLoopTaskExecutor: TaskExecutor {
  private let loop: any EventLoop

  init(_ loop: any EventLoop) {
    self.loop = loop
  }

  func enqueue(_ job: consuming ExecutorJob) {
    let job = UnownedJob(job)
    loop.execute { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
  }
}
