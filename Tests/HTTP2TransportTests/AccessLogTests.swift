import Glibc
import InMemoryLogging
import Logging
import NIOEmbedded
import RPCCore
import Testing

@testable import HTTP2Transport

@Suite("access log")
struct AccessLogTests {
  /// A pipe whose read end collects what the log writes.
  final class Pipe {
    let read: Int32
    let write: Int32

    init() throws {
      var ends: [Int32] = [0, 0]
      try #require(pipe(&ends) == 0)
      (read, write) = (ends[0], ends[1])
      _ = fcntl(read, F_SETFL, O_NONBLOCK)
    }

    deinit {
      close(read)
      close(write)
    }

    func lines() -> [String] {
      var bytes: [UInt8] = []
      var chunk = [UInt8](repeating: 0, count: 65536)
      while true {
        let count = Glibc.read(read, &chunk, chunk.count)
        guard count > 0 else { break }
        bytes += chunk[0..<count]
      }
      return String(decoding: bytes, as: UTF8.self).split(separator: "\n").map(String.init)
    }
  }

  static func logger(_ level: Logger.Level) -> Logger {
    var logger = Logger(label: "marketplace") { _ in InMemoryLogHandler() }
    logger.logLevel = level
    return logger
  }

  static let methodText: StaticString = "/grpc.testing.TestService/EmptyCall"
  static let peerText: StaticString = "ipv4:127.0.0.1:50312"
  static var method: UnsafeRawBufferPointer {
    UnsafeRawBufferPointer(start: methodText.utf8Start, count: methodText.utf8CodeUnitCount)
  }
  static var peer: UnsafeRawBufferPointer {
    UnsafeRawBufferPointer(start: peerText.utf8Start, count: peerText.utf8CodeUnitCount)
  }

  @Test("each call's line has the time, level, label, peer, duration, method and status, as swift-log writes them")
  func lineFormat() throws {
    let pipe = try Pipe()
    let log = AccessLog(level: .info, logger: Self.logger(.info), output: pipe.write)
    let buffer = try #require(log.buffer(for: EmbeddedEventLoop()))
    buffer.append(method: Self.method, status: .ok, durationMicroseconds: 84, peer: Self.peer)
    buffer.append(method: Self.method, status: .deadlineExceeded, durationMicroseconds: 0, peer: Self.peer)
    buffer.append(method: Self.method, status: .unavailable, durationMicroseconds: 1_234_567, peer: Self.peer)
    log.close()
    let lines = pipe.lines()
    try #require(lines.count == 3)
    let rest =
      " info marketplace: peer.address=ipv4:127.0.0.1:50312 rpc.duration_us=84"
      + " rpc.method=/grpc.testing.TestService/EmptyCall rpc.status=OK [HTTP2Transport] rpc"
    #expect(lines[0].hasSuffix(rest))
    // 2026-12-02T08:12:00+0000: the timestamp swift-log's StreamLogHandler writes.
    let timestamp = lines[0].prefix { $0 != " " }
    #expect(timestamp.count == 24 && timestamp.dropFirst(10).first == "T")
    #expect(
      lines[1].contains(" rpc.duration_us=0 ")
        && lines[1].hasSuffix("rpc.status=DEADLINE_EXCEEDED [HTTP2Transport] rpc"))
    #expect(lines[2].contains(" rpc.duration_us=1234567 ") && lines[2].contains("rpc.status=UNAVAILABLE"))
    #expect(log.droppedLines == 0)
  }

  @Test("a full buffer drops lines and counts them instead of waiting; close() writes what was kept, at once")
  func drops() throws {
    let pipe = try Pipe()
    let log = AccessLog(
      level: .info, logger: Self.logger(.info), output: pipe.write, capacityPerLoop: 1024, flushInterval: .seconds(3600)
    )
    let buffer = try #require(log.buffer(for: EmbeddedEventLoop()))
    for _ in 0..<20 { buffer.append(method: Self.method, status: .ok, durationMicroseconds: 5, peer: Self.peer) }
    let kept = 20 - log.droppedLines
    #expect(kept > 0 && kept < 20)
    let started = ContinuousClock.now
    log.close()
    #expect(ContinuousClock.now - started < .seconds(60), "close() cuts the writer's sleep short")
    #expect(pipe.lines().count == kept)
  }

  @Test("a buffer a quarter full wakes the writer before its interval, and no line is dropped")
  func earlyWake() async throws {
    let pipe = try Pipe()
    let log = AccessLog(
      level: .info, logger: Self.logger(.info), output: pipe.write, capacityPerLoop: 8192, flushInterval: .seconds(3600)
    )
    defer { log.close() }
    let buffer = try #require(log.buffer(for: EmbeddedEventLoop()))
    #expect(buffer.wakeBytes == 2048)
    // About 150 bytes a line: 20 lines pass the quarter mark, well short of the capacity.
    for _ in 0..<20 { buffer.append(method: Self.method, status: .ok, durationMicroseconds: 5, peer: Self.peer) }
    var written: [String] = []
    let started = ContinuousClock.now
    while written.count < 20, ContinuousClock.now - started < .seconds(30) {
      try await Task.sleep(for: .milliseconds(10))
      written += pipe.lines()
    }
    #expect(written.count == 20, "written without close(), long before the hour's interval")
    #expect(log.droppedLines == 0)
  }

  @Test("the wake-up mark is a quarter of the capacity, at most 1 MiB")
  func wakeMark() {
    let log = AccessLog(level: .info, logger: Self.logger(.info))
    #expect(log.buffer(for: EmbeddedEventLoop())?.wakeBytes == 1024 * 1024)
    log.close()
  }

  @Test("no buffer, so no line, when the logger's level is above the lines' level")
  func disabled() {
    let log = AccessLog(level: .info, logger: Self.logger(.notice))
    #expect(!log.isEnabled)
    #expect(log.buffer(for: EmbeddedEventLoop()) == nil)
  }

  @Test("one buffer per event loop, shared by its connections")
  func perLoop() throws {
    let pipe = try Pipe()
    let log = AccessLog(level: .debug, logger: Self.logger(.debug), output: pipe.write)
    let first = EmbeddedEventLoop()
    let second = EmbeddedEventLoop()
    let a = try #require(log.buffer(for: first))
    #expect(log.buffer(for: first) === a)
    #expect(log.buffer(for: second) !== a)
    log.close()
  }

  @Test(
    "durations are written in decimal",
    arguments: [(0, "0"), (-3, "0"), (7, "7"), (10, "10"), (1_234_567, "1234567"), (Int64.max, "\(Int64.max)")])
  func decimal(_ value: Int64, _ text: String) {
    var bytes = [UInt8](repeating: 0, count: 32)
    let count = bytes.withUnsafeMutableBytes { AccessLogBuffer.writeDecimal(value, to: $0.baseAddress!) }
    #expect(String(decoding: bytes[0..<count], as: UTF8.self) == text)
  }
}
