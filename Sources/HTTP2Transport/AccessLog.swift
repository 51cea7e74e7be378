@preconcurrency import Glibc  // stderr/stdout: set by glibc before main, never changed
public import Logging
import NIOCore
import RPCCore
import Synchronization

/// The one log line per RPC (method, status, duration, peer), cheap enough to keep on by default.
///
/// A call appends its line, formatted by hand into bytes (no Foundation, no String building), to
/// the buffer of its event loop: one uncontended lock, no system call. A writer thread of its own
/// takes the buffers every `flushInterval`, or as soon as one is a quarter full (at most 1 MiB:
/// under load, waking it more often costs the loop's core context switches), and writes them out
/// in whole lines. A buffer that is full when a line comes drops the line and counts it, rather
/// than make a loop wait for the disk; the writer reports drops as a warning. `close()` writes
/// what is left.
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
  ///   - flushInterval: how often the writer thread writes when no buffer fills to its wake-up
  ///     mark first (`AccessLogBuffer.wakeBytes`).
  public init(
    level: Logger.Level, logger: Logger, output: Int32 = 2, capacityPerLoop: Int = 4 * 1024 * 1024,
    flushInterval: Duration = .milliseconds(50)
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
      let created = AccessLogBuffer(prefix: prefix, capacity: capacity, writer: writer)
      buffers[ObjectIdentifier(loop)] = created
      return (created, buffers.count == 1)
    }
    if isFirst { startWriter() }
    return buffer
  }

  /// The monotonic clock in microseconds: the lines' stopwatch. Subtracting two
  /// `ContinuousClock` instants takes 128-bit arithmetic, a cost paid on every call.
  static func monotonicMicroseconds() -> Int64 {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return Int64(now.tv_sec) * 1_000_000 + Int64(now.tv_nsec) / 1000
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

  /// Takes each buffer's bytes (swapping in its spare), writes them, and gives the memory back.
  private func drain() {
    for buffer in buffers.withLock({ Array($0.values) }) {
      guard let bytes = buffer.take() else { continue }
      write(bytes)
      buffer.giveBack(bytes)
    }
  }

  /// The stdio stream writing to `descriptor` (standard error or out), whose lock swift-log holds
  /// while it writes a line; nil for any other descriptor.
  private static func stdioStream(_ descriptor: Int32) -> UnsafeMutablePointer<FILE>? {
    switch descriptor {
    case STDERR_FILENO: Glibc.stderr
    case STDOUT_FILENO: Glibc.stdout
    default: nil
    }
  }

  /// Writes `bytes` in one call when it can. On standard error (or out) it holds the stdio lock
  /// swift-log's StreamLogHandler takes for each line, so the two never interleave mid-line.
  private func write(_ bytes: UnsafeRawBufferPointer) {
    let stdioFile = Self.stdioStream(output)
    if let stdioFile { flockfile(stdioFile) }
    defer { if let stdioFile { funlockfile(stdioFile) } }
    var offset = 0
    while offset < bytes.count {
      let written = Glibc.write(output, bytes.baseAddress! + offset, bytes.count - offset)
      if written < 0 {
        if errno == EINTR { continue }
        return  // nowhere to write: the lines are lost, as anything else written there
      }
      offset += written
    }
  }
}

/// The writer thread's sleep, which a full buffer (`wake`) or `stopAndWait` cuts short.
final class WriterSignal: @unchecked Sendable {  // every field is guarded by `mutex`
  private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
  private let condition = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
  private var running = false
  private var stopping = false
  private var woken = false

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

  /// Ends the writer's current sleep.
  func wake() {
    locked {
      woken = true
      pthread_cond_signal(condition)
    }
  }

  /// Sleeps `interval`, or until woken or stopped; false once stopped.
  func sleep(for interval: Duration) -> Bool {
    var deadline = timespec()
    clock_gettime(CLOCK_MONOTONIC, &deadline)
    let nanoseconds =
      Int(interval.components.seconds) * 1_000_000_000
      + Int(interval.components.attoseconds / 1_000_000_000) + deadline.tv_nsec
    deadline.tv_sec += nanoseconds / 1_000_000_000
    deadline.tv_nsec = nanoseconds % 1_000_000_000
    return locked {
      while !stopping, !woken {
        if pthread_cond_timedwait(condition, mutex, &deadline) == ETIMEDOUT { break }
      }
      woken = false
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
/// lock is contended only for the moment the writer swaps the bytes out. Lines are copied into
/// raw memory from raw memory: no array is retained, grown or checked for uniqueness per call.
final class AccessLogBuffer: Sendable {
  struct State {
    /// The bytes lines are appended to, `count` of them used, and the other buffer, which the
    /// writer holds while it writes (nil meanwhile).
    var current: UnsafeMutableRawPointer
    var count = 0
    var spare: UnsafeMutableRawPointer?
    var dropped = 0
    /// The formatted timestamp of `second`, reused within it.
    var second = -1
    var timestamp: UnsafeMutableRawPointer
    var timestampCount = 0
    /// Whether the writer was woken for these bytes already.
    var wokeWriter = false
  }

  /// Bytes after which the writer is woken rather than left to its interval: a quarter of the
  /// capacity, so that the rest absorbs what comes while it writes, and at most 1 MiB.
  let wakeBytes: Int

  private let state: Mutex<State>
  /// Written once, in init, then only read: safe to share.
  nonisolated(unsafe) private let prefix: UnsafeMutableRawBufferPointer
  let capacity: Int
  private let writer: WriterSignal

  init(prefix: [UInt8], capacity: Int, writer: WriterSignal) {
    self.writer = writer
    self.prefix = .allocate(byteCount: prefix.count, alignment: 1)
    self.prefix.copyBytes(from: prefix)
    self.capacity = capacity
    self.wakeBytes = min(capacity / 4, 1024 * 1024)
    self.state = Mutex(
      State(
        current: .allocate(byteCount: capacity, alignment: 8), spare: .allocate(byteCount: capacity, alignment: 8),
        timestamp: .allocate(byteCount: 64, alignment: 8)))
  }

  deinit {
    prefix.deallocate()
    state.withLock { state in
      state.current.deallocate()
      state.spare?.deallocate()
      state.timestamp.deallocate()
    }
  }

  var dropped: Int { state.withLock { $0.dropped } }

  /// Appends one line; drops it if the buffer is full. `method` and `peer` are UTF-8 bytes.
  func append(
    method: UnsafeRawBufferPointer, status: Status.Code, durationMicroseconds: Int64, peer: UnsafeRawBufferPointer
  ) {
    let now = time(nil)
    // Read only, and only during this call, which the caller's buffers outlive.
    let (prefix, method, peer) = (
      UncheckedBytes(UnsafeRawBufferPointer(self.prefix)), UncheckedBytes(method), UncheckedBytes(peer)
    )
    let (capacity, wakeBytes) = (capacity, wakeBytes)
    let wake = state.withLock { state -> Bool in
      guard state.count + prefix.bytes.count + peer.bytes.count + method.bytes.count + 160 <= capacity else {
        state.dropped += 1
        return false
      }
      if now != state.second {
        state.second = now
        state.timestampCount = Self.format(now, into: state.timestamp)
      }
      var cursor = state.current + state.count
      func put(_ bytes: UnsafeRawBufferPointer) {
        cursor.copyMemory(from: bytes.baseAddress!, byteCount: bytes.count)
        cursor += bytes.count
      }
      func put(_ text: StaticString) {
        cursor.copyMemory(from: text.utf8Start, byteCount: text.utf8CodeUnitCount)
        cursor += text.utf8CodeUnitCount
      }
      put(UnsafeRawBufferPointer(start: state.timestamp, count: state.timestampCount))
      put(prefix.bytes)
      put(" peer.address=")
      put(peer.bytes)
      put(" rpc.duration_us=")
      cursor += Self.writeDecimal(durationMicroseconds, to: cursor)
      put(" rpc.method=")
      put(method.bytes)
      put(" rpc.status=")
      put(status.staticName)
      put(" [HTTP2Transport] rpc\n")
      state.count = cursor - state.current
      guard state.count >= wakeBytes, !state.wokeWriter else { return false }
      state.wokeWriter = true
      return true
    }
    if wake { writer.wake() }
  }

  /// The bytes so far, leaving the spare buffer in their place; nil when there are none (or the
  /// spare is out). Give the memory back with `giveBack` once written.
  func take() -> UnsafeRawBufferPointer? {
    state.withLock { state in
      guard state.count > 0, let spare = state.spare else { return nil }
      let taken = UnsafeRawBufferPointer(start: state.current, count: state.count)
      state.current = spare
      state.count = 0
      state.spare = nil
      state.wokeWriter = false
      return taken
    }
  }

  /// Returns written bytes' memory to be the next spare.
  func giveBack(_ bytes: UnsafeRawBufferPointer) {
    let memory = UncheckedBytes(bytes)  // the writer's, handed back whole
    state.withLock { $0.spare = UnsafeMutableRawPointer(mutating: memory.bytes.baseAddress!) }
  }

  /// Writes `2026-12-02T08:12:00+0000` (local time, as swift-log's StreamLogHandler does) to
  /// `destination` (64 bytes); returns its length.
  static func format(_ seconds: time_t, into destination: UnsafeMutableRawPointer) -> Int {
    var seconds = seconds
    var parts = tm()
    localtime_r(&seconds, &parts)
    return strftime(destination.assumingMemoryBound(to: CChar.self), 64, "%Y-%m-%dT%H:%M:%S%z", &parts)
  }

  /// Writes `value` (0 for negatives) in decimal at `destination`; returns how many bytes.
  static func writeDecimal(_ value: Int64, to destination: UnsafeMutableRawPointer) -> Int {
    var rest = max(0, value)
    var divisor: Int64 = 1
    while divisor <= rest / 10 { divisor *= 10 }
    var count = 0
    repeat {
      destination.storeBytes(of: UInt8(ascii: "0") + UInt8(rest / divisor), toByteOffset: count, as: UInt8.self)
      count += 1
      rest %= divisor
      divisor /= 10
    } while divisor > 0
    return count
  }
}

/// Raw bytes passed into a lock's closure: read there only, while their owner keeps them alive.
struct UncheckedBytes: @unchecked Sendable {
  let bytes: UnsafeRawBufferPointer
  init(_ bytes: UnsafeRawBufferPointer) { self.bytes = bytes }
}
