import Glibc
public import Logging
import NIOCore
import RPCCore
import Synchronization

/// The one log line per RPC (method, status, duration, peer), cheap enough to keep on by default.
///
/// A call appends its line, formatted by hand into bytes (no Foundation, no String building), to
/// the buffer of its event loop: one uncontended lock, no system call. A writer thread of its own
/// takes the full buffers every `flushInterval` and writes them out in whole lines. A buffer that
/// is full when a line comes drops the line and counts it, rather than make a loop wait for the
/// disk; the writer reports drops as a warning. `close()` writes what is left.
///
/// Lines look like swift-log's `StreamLogHandler` output, so the server's log reads as one:
/// `2026-12-02T08:12:00+0000 info marketplace: peer.address=ipv4:127.0.0.1:50312
/// rpc.duration_us=84 rpc.method=/grpc.testing.TestService/EmptyCall rpc.status=OK [HTTP2Transport] rpc`
public final class AccessLog: Sendable {
  /// The level the lines are written at.
  let level: Logger.Level
  /// Whether lines are written at all (the logger's level admits `level`).
  public let isEnabled: Bool
  private let prefix: [UInt8]
  private let output: Int32
  private let capacity: Int
  private let flushInterval: Duration
  private let reporter: Logger
  private let buffers = Mutex<[ObjectIdentifier: AccessLogBuffer]>([:])
  private let writer = WriterSignal()

  /// - Parameters:
  ///   - level: the lines' level; they are written only if `logger` logs at it.
  ///   - logger: its label goes in each line; drops are reported through it.
  ///   - output: the file descriptor written to (2, standard error, by default).
  ///   - capacityPerLoop: bytes each event loop may hold between two writes.
  ///   - flushInterval: how often the writer thread writes.
  public init(
    level: Logger.Level, logger: Logger, output: Int32 = 2, capacityPerLoop: Int = 4 * 1024 * 1024,
    flushInterval: Duration = .milliseconds(20)
  ) {
    self.level = level
    self.isEnabled = logger.logLevel <= level
    self.prefix = Array(" \(level) \(logger.label):".utf8)
    self.output = output
    self.capacity = capacityPerLoop
    self.flushInterval = flushInterval
    self.reporter = logger
  }

  /// Lines dropped so far because a loop's buffer was full.
  public var droppedLines: Int {
    buffers.withLock { $0.values.reduce(0) { $0 + $1.dropped } }
  }

  /// The buffer of `loop`'s connections (nil when the lines are not written); the writer thread
  /// starts with the first.
  func buffer(for loop: any EventLoop) -> AccessLogBuffer? {
    guard isEnabled else { return nil }
    let (buffer, isFirst) = buffers.withLock { buffers in
      if let existing = buffers[ObjectIdentifier(loop)] { return (existing, false) }
      let created = AccessLogBuffer(prefix: prefix, capacity: capacity)
      buffers[ObjectIdentifier(loop)] = created
      return (created, buffers.count == 1)
    }
    if isFirst { startWriter() }
    return buffer
  }

  /// Writes what the buffers hold and stops the writer thread. Lines appended later stay unwritten.
  public func close() {
    writer.stopAndWait()
    drain()
  }

  // MARK: Writer

  private func startWriter() {
    let box = Unmanaged.passRetained(self).toOpaque()  // released by the thread when it ends
    var thread = pthread_t()
    let rc = pthread_create(
      &thread, nil,
      { argument in
        Unmanaged<AccessLog>.fromOpaque(argument!).takeRetainedValue().writerLoop()
        return nil
      }, box)
    guard rc == 0 else {
      Unmanaged<AccessLog>.fromOpaque(box).release()
      return reporter.error("access log: no writer thread; lines are written at shutdown", metadata: ["rc": "\(rc)"])
    }
    pthread_detach(thread)
    writer.started()
  }

  private func writerLoop() {
    var reportedDrops = 0
    while writer.sleep(for: flushInterval) {
      drain()
      let dropped = droppedLines
      if dropped > reportedDrops {
        reporter.warning(
          "access log buffer full: lines dropped",
          metadata: ["log.dropped": "\(dropped - reportedDrops)", "log.dropped_total": "\(dropped)"])
        reportedDrops = dropped
      }
    }
    writer.finished()
  }

  /// Takes each buffer's bytes (swapping in an empty one) and writes them.
  private func drain() {
    for buffer in buffers.withLock({ Array($0.values) }) {
      var bytes = buffer.take()
      guard !bytes.isEmpty else { continue }
      write(bytes)
      bytes.removeAll(keepingCapacity: true)
      buffer.giveBack(bytes)
    }
  }

  /// Writes whole lines in pieces of at most PIPE_BUF, so that each piece reaches a pipe
  /// atomically, never interleaved with another writer's line (the main logger's).
  private func write(_ bytes: [UInt8]) {
    bytes.withUnsafeBytes { all in
      var start = 0
      while start < all.count {
        var end = min(all.count, start + Int(PIPE_BUF))
        if end < all.count, let newline = all[start..<end].lastIndex(of: UInt8(ascii: "\n")) { end = newline + 1 }
        var offset = start
        while offset < end {
          let written = Glibc.write(output, all.baseAddress! + offset, end - offset)
          if written < 0 {
            if errno == EINTR { continue }
            return  // nowhere to write: the lines are lost, as anything else written there
          }
          offset += written
        }
        start = end
      }
    }
  }
}

/// The writer thread's sleep, which `stopAndWait` cuts short.
private final class WriterSignal: @unchecked Sendable {  // every field is guarded by `mutex`
  private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
  private let condition = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
  private var running = false
  private var stopping = false

  init() {
    pthread_mutex_init(mutex, nil)
    var attributes = pthread_condattr_t()
    pthread_condattr_init(&attributes)
    pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC)
    pthread_cond_init(condition, &attributes)
    pthread_condattr_destroy(&attributes)
  }

  deinit {
    pthread_cond_destroy(condition)
    pthread_mutex_destroy(mutex)
    mutex.deallocate()
    condition.deallocate()
  }

  private func locked<T>(_ body: () -> T) -> T {
    pthread_mutex_lock(mutex)
    defer { pthread_mutex_unlock(mutex) }
    return body()
  }

  func started() { locked { running = true } }

  /// Sleeps `interval` or until stopped; false once stopped.
  func sleep(for interval: Duration) -> Bool {
    var deadline = timespec()
    clock_gettime(CLOCK_MONOTONIC, &deadline)
    let nanoseconds =
      Int(interval.components.seconds) * 1_000_000_000
      + Int(interval.components.attoseconds / 1_000_000_000) + deadline.tv_nsec
    deadline.tv_sec += nanoseconds / 1_000_000_000
    deadline.tv_nsec = nanoseconds % 1_000_000_000
    return locked {
      while !stopping {
        if pthread_cond_timedwait(condition, mutex, &deadline) == ETIMEDOUT { break }
      }
      return !stopping
    }
  }

  func finished() {
    locked {
      running = false
      pthread_cond_broadcast(condition)
    }
  }

  /// Stops the writer and waits until its loop has ended.
  func stopAndWait() {
    locked {
      stopping = true
      pthread_cond_broadcast(condition)
      while running { pthread_cond_wait(condition, mutex) }
    }
  }
}

/// One event loop's access log lines, between two writes. Appends come from that loop only; the
/// lock is contended only for the moment the writer swaps the bytes out.
final class AccessLogBuffer: Sendable {
  struct State {
    var bytes: [UInt8] = []
    var spare: [UInt8] = []
    var dropped = 0
    /// The formatted timestamp of `second`, reused within it.
    var second = 0
    var timestamp: [UInt8] = []
  }

  private let state: Mutex<State>
  private let prefix: [UInt8]
  private let capacity: Int

  init(prefix: [UInt8], capacity: Int) {
    self.prefix = prefix
    self.capacity = capacity
    var state = State()
    state.bytes.reserveCapacity(min(capacity, 64 * 1024))
    self.state = Mutex(state)
  }

  var dropped: Int { state.withLock { $0.dropped } }

  /// Appends one line (`method` is the path's bytes); drops it if the buffer is full.
  func append(method: [UInt8], status: Status.Code, durationMicroseconds: Int64, peer: [UInt8]) {
    let now = time(nil)
    state.withLock { state in
      let room = prefix.count + peer.count + method.count + 128
      guard state.bytes.count + room <= capacity else {
        state.dropped += 1
        return
      }
      if now != state.second || state.timestamp.isEmpty {
        state.second = now
        state.timestamp = Self.format(now)
      }
      state.bytes.append(contentsOf: state.timestamp)
      state.bytes.append(contentsOf: prefix)
      state.bytes.append(contentsOf: Self.peerKey)
      state.bytes.append(contentsOf: peer)
      state.bytes.append(contentsOf: Self.durationKey)
      Self.appendDecimal(durationMicroseconds, to: &state.bytes)
      state.bytes.append(contentsOf: Self.methodKey)
      state.bytes.append(contentsOf: method)
      state.bytes.append(contentsOf: Self.statusKey)
      state.bytes.append(contentsOf: status.nameUTF8)
      state.bytes.append(contentsOf: Self.suffix)
    }
  }

  private static let peerKey = Array(" peer.address=".utf8)
  private static let durationKey = Array(" rpc.duration_us=".utf8)
  private static let methodKey = Array(" rpc.method=".utf8)
  private static let statusKey = Array(" rpc.status=".utf8)
  private static let suffix = Array(" [HTTP2Transport] rpc\n".utf8)

  /// The bytes so far, leaving an empty buffer (the spare) in their place.
  func take() -> [UInt8] {
    state.withLock { state in
      guard !state.bytes.isEmpty else { return [] }
      var taken = state.spare
      swap(&taken, &state.bytes)
      state.spare = []
      return taken
    }
  }

  /// Returns emptied storage to be the next spare.
  func giveBack(_ storage: [UInt8]) {
    state.withLock { $0.spare = storage }
  }

  /// `2026-12-02T08:12:00+0000`, local time, as swift-log's StreamLogHandler writes it.
  static func format(_ seconds: time_t) -> [UInt8] {
    var seconds = seconds
    var parts = tm()
    localtime_r(&seconds, &parts)
    var text = [CChar](repeating: 0, count: 32)
    let count = strftime(&text, text.count, "%Y-%m-%dT%H:%M:%S%z", &parts)
    return text[0..<count].map { UInt8(bitPattern: $0) }
  }

  static func appendDecimal(_ value: Int64, to bytes: inout [UInt8]) {
    var rest = max(0, value)
    var divisor: Int64 = 1
    while divisor <= rest / 10 { divisor *= 10 }
    repeat {
      bytes.append(UInt8(ascii: "0") + UInt8(rest / divisor))
      rest %= divisor
      divisor /= 10
    } while divisor > 0
  }
}
