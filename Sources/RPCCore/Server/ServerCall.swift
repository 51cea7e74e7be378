/// One RPC on the server: receives request messages from the transport, runs the handler, and
/// sends its responses and status through the stream sink.
///
/// Created and driven by the transport on the connection's event loop. Handlers that need a task
/// get one whose executor preference is that same loop (`executor`); handler code, being
/// nonisolated, runs on that preferred executor, so no state here is shared across threads.
public final class ServerCall {
  public let context: ServerContext
  private let handler: RPCHandler
  /// Released when the call finishes, which breaks the stream -> call -> stream cycle.
  private var sink: (any ServerStreamSink)?
  private let executor: any TaskExecutor
  /// Most bytes the decoding of one request message may allocate (`Arena.budget`).
  private let decodeBudget: Int

  private enum State {
    /// Waiting for the request (single-request kinds) or running with a request stream.
    case receiving
    /// The handler runs; requests, if any, arrive through `requests`.
    case running
    case finished
  }

  private var state = State.receiving
  private var request: InboundMessage?
  private var requests: RequestStream?
  private var task: Task<Void, Never>?

  public init(
    handler: RPCHandler, context: ServerContext, sink: any ServerStreamSink, executor: any TaskExecutor,
    decodeBudget: Int = .max
  ) {
    self.handler = handler
    self.context = context
    self.sink = sink
    self.executor = executor
    self.decodeBudget = decodeBudget
  }

  public var isFinished: Bool {
    if case .finished = state { return true }
    return false
  }

  /// Starts handlers that stream requests at once; single-request handlers wait for the request.
  public func start() {
    switch handler.body {
    case .clientStreaming(let body):
      let requests = RequestStream(context: context) { [unowned self] in sink?.consumed(bytes: $0) }
      self.requests = requests
      state = .running
      runTask { call, context in
        let response = try await body(requests, context)
        call.complete(with: response)
      }
    case .bidirectionalStreaming(let body):
      let requests = RequestStream(context: context) { [unowned self] in sink?.consumed(bytes: $0) }
      self.requests = requests
      state = .running
      let writer = ResponseWriter(call: self)
      runTask { call, context in
        try await body(requests, context, writer)
        call.finish(Status.ok)
      }
    case .inlineUnary, .unary, .unaryInlineFirst, .serverStreaming:
      break
    }
  }

  /// One request message, already deframed and decompressed; `wireSize` is what it took on the
  /// wire. Returns true when the message waits in the request stream for the handler, which
  /// reports it through the sink's `consumed(bytes:)` once taken; false when it needs no more
  /// flow-control credit (decoded as the single request, or dropped).
  @discardableResult
  public func receive(_ bytes: UnsafeRawBufferPointer, compressed: Bool = false, wireSize: Int = 0) -> Bool {
    switch state {
    case .finished:
      return false
    case .running where requests == nil:
      return false  // a single-request call already running: the client broke the protocol; ignore
    case .receiving, .running:
      break
    }
    let arena = Arena.make(budget: decodeBudget)
    let pointer: UnsafeMutableRawPointer
    do {
      pointer = try handler.decode(bytes, arena)
    } catch {
      finish(error.status)
      return false
    }
    let message = InboundMessage(pointer: pointer, arena: arena, compressed: compressed, wireSize: wireSize)
    if let requests {
      return requests.deliver(message)
    } else if request == nil {
      request = message
    } else {
      finish(Status(code: .unimplemented, message: "more than one request message for a unary request"))
    }
    return false
  }

  /// The client half-closed its side: no more request messages.
  public func receiveEnd() {
    guard case .receiving = state else {
      requests?.finish()
      return
    }
    guard let request else {
      finish(Status(code: .unimplemented, message: "no request message for a unary request"))
      return
    }
    state = .running
    context.isRequestMessageCompressed = request.compressed
    switch handler.body {
    case .inlineUnary(let body):
      do {
        complete(with: try body(request, context))
      } catch {
        fail(error)
      }
    case .unary(let body):
      runTask { call, context in
        call.complete(with: try await body(request, context))
      }
    case .unaryInlineFirst(let inline, let body):
      do {
        if let response = try inline(request, context) {
          complete(with: response)
        } else {
          runTask { call, context in
            call.complete(with: try await body(request, context))
          }
        }
      } catch {
        fail(error)
      }
    case .serverStreaming(let body):
      let writer = ResponseWriter(call: self)
      runTask { call, context in
        try await body(request, context, writer)
        call.finish(Status.ok)
      }
    case .clientStreaming, .bidirectionalStreaming:
      preconditionFailure("streaming-request handlers start in start()")
    }
    self.request = nil
  }

  /// Ends the call early. With a status (deadline, shutdown, a bad request) the client is told;
  /// without one (the client reset the stream, the connection is gone) nothing more is sent.
  public func cancel(status: Status?) {
    context.isCancelled = true
    if let status, !isFinished {
      finish(status)
    }
    state = .finished
    sink = nil
    requests?.fail(CancellationError())
    task?.cancel()
    task = nil
  }

  // MARK: Responses

  func sendMessage(_ message: some MessageSerializer, compress: Bool) throws {
    guard !isFinished, let sink else { throw CancellationError() }
    sink.sendMessage(message, compress: compress)
  }

  /// True once finished too, so a waiting writer goes on to find the call ended.
  var isWritable: Bool { sink?.isWritable ?? true }

  func whenWritable(_ resume: @escaping (Bool) -> Void) {
    guard !isFinished, let sink else { return resume(false) }
    sink.whenWritable(resume)
  }

  private func complete(with response: any MessageSerializer) {
    guard !isFinished, let sink else { return }
    sink.sendMessage(response, compress: true)
    finish(Status.ok)
  }

  private func fail(_ error: any Error) {
    guard !isFinished else { return }
    let (status, trailers, isInternal) = RPCError.from(error)
    finish(status, errorTrailers: trailers, error: isInternal ? error : nil)
  }

  /// Ends the call with `status`; the trailers are the handler's `trailingMetadata`, then the
  /// error's own (`errorTrailers`), each sent once.
  private func finish(_ status: Status, errorTrailers: Metadata = Metadata(), error: (any Error)? = nil) {
    guard !isFinished else { return }
    state = .finished
    requests?.fail(CancellationError())
    var trailers = context.trailingMetadata
    trailers.append(contentsOf: errorTrailers)
    sink?.finish(status: status, trailers: trailers, error: error)
    sink = nil
  }

  /// Runs `operation` in a task on the connection's loop; a thrown error ends the call.
  private func runTask(_ operation: @escaping (ServerCall, ServerContext) async throws -> Void) {
    // Three transfers, not one of a tuple: a closure inside a tuple inside a generic struct,
    // captured by a `sending` closure, was released twice by the Swift 6.3 compiler.
    let call = LoopTransfer(value: self)
    let context = LoopTransfer(value: context)
    let operation = LoopTransfer(value: operation)
    task = Task(executorPreference: executor) {
      let call = call.value
      let context = context.value
      let operation = operation.value
      do {
        try await operation(call, context)
      } catch {
        call.fail(error)
      }
      call.task = nil
    }
  }
}
