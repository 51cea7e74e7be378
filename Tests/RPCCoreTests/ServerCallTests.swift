import Dispatch
import RPCCore
import Synchronization
import Testing

/// Runs jobs on one serial queue, standing in for an event loop.
final class QueueExecutor: TaskExecutor, @unchecked Sendable {  // the queue serialises all access
  let queue = DispatchQueue(label: "test-loop")

  func enqueue(_ job: consuming ExecutorJob) {
    let job = UnownedJob(job)
    queue.async { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
  }
}

/// A sink that records the response parts, in order.
final class RecordingSink: ServerStreamSink, @unchecked Sendable {  // only touched on the executor's queue
  enum Part: Equatable {
    case message([UInt8], compressed: Bool)
    case status(Status, Metadata)
  }

  var parts: [Part] = []
  var writable = true
  var finished: CheckedContinuation<Void, Never>?

  func sendMessage(_ message: some MessageSerializer, compress: Bool) {
    var bytes = [UInt8](repeating: 0, count: message.serializedSize)
    bytes.withUnsafeMutableBytes { if !$0.isEmpty { message.serialize(into: $0.baseAddress!) } }
    parts.append(.message(bytes, compressed: compress))
  }

  func finish(status: Status, trailers: Metadata, error: (any Error)?) {
    parts.append(.status(status, trailers))
    finished?.resume()
    finished = nil
  }

  var isWritable: Bool { writable }
  func whenWritable(_ resume: @escaping (Bool) -> Void) { resume(true) }
  var consumedBytes = 0
  func consumed(bytes: Int) { consumedBytes += bytes }
}

/// Bytes in, the same bytes out: a message "codec" with no protobuf behind it.
struct EchoBytes: MessageSerializer {
  let bytes: [UInt8]
  var serializedSize: Int { bytes.count }
  func serialize(into destination: UnsafeMutableRawPointer) {
    bytes.withUnsafeBytes { destination.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
  }
}

@Suite("server call")
struct ServerCallTests {
  static let method = MethodDescriptor(service: "test.Echo", method: "Echo")

  /// Decodes by copying the bytes into the arena, prefixed with their count.
  static let decode: MessageDecoder = { bytes, arena in
    let pointer = arena.allocate(byteCount: 8 + bytes.count)
    pointer.storeBytes(of: bytes.count, as: Int.self)
    if let base = bytes.baseAddress { (pointer + 8).copyMemory(from: base, byteCount: bytes.count) }
    return pointer
  }

  static func bytes(of message: InboundMessage) -> [UInt8] {
    let count = message.pointer.load(as: Int.self)
    return Array(UnsafeRawBufferPointer(start: message.pointer + 8, count: count))
  }

  static func send(_ bytes: [UInt8], to call: ServerCall) {
    _ = bytes.withUnsafeBytes { call.receive($0) }
  }

  /// Runs a call on the test executor: `drive` feeds it, and the recorded parts come back once it finished.
  /// `later`, when given, runs on the executor after the jobs `drive` queued (a handler's first
  /// steps, say).
  static func run(
    _ body: RPCHandler.Body, _ drive: @escaping @Sendable (ServerCall) -> Void,
    later: (@Sendable (ServerCall) -> Void)? = nil
  ) async -> [RecordingSink.Part] {
    let executor = QueueExecutor()
    let sink = RecordingSink()
    await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
      executor.queue.async {
        sink.finished = done
        let context = ServerContext(
          method: method, requestMetadata: WireMetadata(), peer: "test", deadline: nil, requestEncoding: .identity,
          acceptEncodingHeader: nil)
        let call = ServerCall(
          handler: RPCHandler(method: method, decode: decode, body: body), context: context, sink: sink,
          executor: executor)
        call.start()
        drive(call)
        if let later {
          nonisolated(unsafe) let call = call  // stays on the executor's queue
          executor.queue.async { later(call) }
        }
      }
    }
    return executor.queue.sync { sink.parts }
  }

  @Test("an inline unary call answers within the transport's callback")
  func inlineUnary() async {
    let parts = await Self.run(
      .inlineUnary { message, _ in EchoBytes(bytes: Array(Self.bytes(of: message).reversed())) }
    ) { call in
      Self.send([1, 2, 3], to: call)
      call.receiveEnd()
    }
    #expect(parts == [.message([3, 2, 1], compressed: true), .status(.ok, [:])])
  }

  @Test("an inline-first unary call answers inline when it can, else from its task")
  func inlineFirst() async {
    // Answered inline (the body would answer [0]).
    let inline = await Self.run(
      .unaryInlineFirst(
        inline: { message, _ in EchoBytes(bytes: Self.bytes(of: message)) },
        body: { _, _ in EchoBytes(bytes: [0]) })
    ) { call in
      Self.send([4, 2], to: call)
      call.receiveEnd()
    }
    #expect(inline == [.message([4, 2], compressed: true), .status(.ok, [:])])
    // Declined inline: the async body answers.
    let fallback = await Self.run(
      .unaryInlineFirst(
        inline: { _, _ in nil },
        body: { message, _ in
          await Task.yield()
          return EchoBytes(bytes: Self.bytes(of: message).reversed())
        })
    ) { call in
      Self.send([4, 2], to: call)
      call.receiveEnd()
    }
    #expect(fallback == [.message([2, 4], compressed: true), .status(.ok, [:])])
    // An inline error ends the call; the body never runs.
    let failed = await Self.run(
      .unaryInlineFirst(
        inline: { _, _ in throw RPCError(code: .invalidArgument, message: "bad") },
        body: { _, _ in EchoBytes(bytes: [0]) })
    ) { call in
      Self.send([1], to: call)
      call.receiveEnd()
    }
    #expect(failed == [.status(Status(code: .invalidArgument, message: "bad"), [:])])
  }

  @Test("an async unary call answers, with trailing metadata")
  func asyncUnary() async {
    let parts = await Self.run(
      .unary { message, context in
        await Task.yield()
        context.trailingMetadata.append("x-count", "\(Self.bytes(of: message).count)")
        return EchoBytes(bytes: Self.bytes(of: message))
      }
    ) { call in
      Self.send([7, 7], to: call)
      call.receiveEnd()
    }
    #expect(parts == [.message([7, 7], compressed: true), .status(.ok, ["x-count": "2"])])
  }

  @Test("a bidirectional call streams one answer per request, then OK")
  func bidirectional() async {
    let parts = await Self.run(
      .bidirectionalStreaming { requests, _, writer in
        for try await message in requests {
          try await writer.send(EchoBytes(bytes: Self.bytes(of: message) + [0]))
        }
      }
    ) { call in
      Self.send([1], to: call)
      Self.send([2], to: call)
      call.receiveEnd()
    }
    #expect(parts == [.message([1, 0], compressed: true), .message([2, 0], compressed: true), .status(.ok, [:])])
  }

  @Test("a unary call without a request, or with two, is rejected")
  func wrongRequestCount() async {
    let none = await Self.run(.unary { _, _ in EchoBytes(bytes: []) }) { $0.receiveEnd() }
    #expect(none == [.status(Status(code: .unimplemented, message: "no request message for a unary request"), [:])])
    let two = await Self.run(.unary { _, _ in EchoBytes(bytes: []) }) { call in
      Self.send([1], to: call)
      Self.send([2], to: call)
    }
    #expect(
      two == [.status(Status(code: .unimplemented, message: "more than one request message for a unary request"), [:])])
  }

  @Test("a handler error becomes its status; an unknown error becomes a generic INTERNAL")
  func errors() async {
    struct Secret: Error {}
    let declared = await Self.run(.unary { _, _ in throw RPCError(code: .notFound, message: "no such listing") }) {
      call in
      Self.send([], to: call)
      call.receiveEnd()
    }
    #expect(declared == [.status(Status(code: .notFound, message: "no such listing"), [:])])
    let hidden = await Self.run(.unary { _, _ in throw Secret() }) { call in
      Self.send([], to: call)
      call.receiveEnd()
    }
    #expect(hidden == [.status(Status(code: .internal, message: "internal error"), [:])])
  }

  @Test("cancelling with a status answers at once and stops the handler")
  func deadline() async {
    // What the handler saw: started, then how its 30 s sleep ended.
    let seen = Mutex<[String]>([])
    let parts = await Self.run(
      .unary { _, _ in
        seen.withLock { $0.append("started") }
        do {
          try await Task.sleep(for: .seconds(30))
          seen.withLock { $0.append("slept") }
        } catch {
          seen.withLock { $0.append(error is CancellationError ? "cancelled" : "\(error)") }
          throw error
        }
        return EchoBytes(bytes: [1])
      },
      { call in
        Self.send([], to: call)
        call.receiveEnd()
      },
      later: { call in call.cancel(status: Status(code: .deadlineExceeded, message: "deadline exceeded")) })
    #expect(parts == [.status(Status(code: .deadlineExceeded, message: "deadline exceeded"), [:])])
    // The handler was running when cancelled, and its sleep ended in CancellationError (long
    // before its 30 s were up).
    let clock = ContinuousClock()
    let waitEnd = clock.now + .seconds(10)
    while seen.withLock({ $0.count < 2 }) && clock.now < waitEnd { try? await Task.sleep(for: .milliseconds(10)) }
    #expect(seen.withLock { $0 } == ["started", "cancelled"])
  }
}
