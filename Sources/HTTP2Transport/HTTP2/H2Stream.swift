import CNGHTTP2
import Logging
import NIOCore
import RPCCore

/// One HTTP/2 stream carrying one RPC: gathers the request head, deframes request messages into
/// the call, and queues the call's response for nghttp2's data provider.
///
/// Loop-confined, like its connection. nghttp2 holds it as stream user data (retained) from the
/// first HEADERS frame until the stream closes.
final class H2Stream: ServerStreamSink {
  let id: Int32
  /// Unowned without checks: a connection closes all its streams before it goes away, and a
  /// closed stream's call no longer reaches it (its sink is released at finish or cancel).
  unowned(unsafe) let connection: H2Connection
  var head = GRPCRequestHead()
  /// HTTP/2's message rules, checked as the request's fields and DATA arrive.
  var rules = H2RequestRules()
  /// The request broke them: RST_STREAM is on its way, and the stream's frames are ignored.
  var isMalformed = false
  private(set) var call: ServerCall?
  private var deframer: MessageDeframer
  private var requestEncoding = CompressionAlgorithm.identity
  /// When the stream opened (`AccessLog.monotonicMicroseconds`); nil when no line is written.
  private let startMicroseconds: Int64?
  private var deadlineTimer: Scheduled<Void>?

  // Inbound flow control (nghttp2's automatic WINDOW_UPDATE is off): received bytes are given
  // back at once, except those of messages waiting for a streaming handler, given back when it
  // takes them. `credit` may go negative when a waiting message's first bytes went back early.
  private var credit = 0
  private var owned = 0
  /// Bytes of a request message received in part, as last told to the connection's ledger.
  var partialBytes = 0
  /// Stream-level credit kept back while the connection holds more partial messages than its
  /// budget and this stream's is not the oldest (`H2Connection.partialMessageChanged`).
  private var withheldStreamCredit = 0

  // Response side.
  private var headersSent = false
  private var pending: ByteBuffer?
  /// A response message not yet packed: packed by the data source straight into the DATA frame
  /// when it fits there, which saves a buffer and a copy (the common, one-small-message case).
  private var unpackedMessage: (any MessageSerializer)?
  /// Its size; nil when there is none. Tested instead of the existential, whose nil check is a
  /// runtime call, made on every pass of the data source.
  private var unpackedSize: Int?
  private enum Trailers {
    case ok
    case custom(HeaderList)
  }
  private var trailers: Trailers?
  private var dataDeferred = false
  private var writabilityWaiters: [(Bool) -> Void] = []
  private(set) var finished = false

  // The connection's list of open streams.
  var isOpen = true
  var next: H2Stream?
  /// Unowned without checks: the previous stream is in the list, which holds it.
  unowned(unsafe) var previous: H2Stream?

  init(id: Int32, connection: H2Connection) {
    self.id = id
    self.connection = connection
    self.deframer = MessageDeframer(maxMessageBytes: connection.config.maxReceiveMessageBytes)
    self.startMicroseconds = connection.accessLog == nil ? nil : AccessLog.monotonicMicroseconds()
  }

  // MARK: Request

  /// The request headers are complete: validate, route, and start the call.
  func headersComplete() {
    // Fields read one by one: a copy of the whole config would retain its strings per call.
    let maxHeaderListBytes = connection.config.maxHeaderListBytes
    // Moved out, not copied (a copy retains each of its strings and arrays); not needed after.
    var head = GRPCRequestHead()
    swap(&head, &self.head)
    guard head.headerBytes <= maxHeaderListBytes else {
      return reject(
        Status(code: .resourceExhausted, message: "request headers larger than \(maxHeaderListBytes) bytes"))
    }
    switch head.verdict(maxTimeout: connection.config.maxTimeout) {
    case .rejectHTTP(let status, let message):
      connection.logger.debug(
        "rejected a non-gRPC request", metadata: ["http.status": "\(status)", "reason": "\(message)"])
      finished = true
      var headers = HeaderList()
      headers.add(":status", status)
      headers.add("content-type", "text/plain")
      submitResponse(headers, body: Array(message.utf8))
    case .rejectGRPC(let status):
      reject(status)
    case .accept(let handler, let timeout, let encoding, let acceptEncoding):
      requestEncoding = encoding
      let deadline = timeout.map { ContinuousClock.now + $0 }
      let context = ServerContext(
        method: handler.method, requestMetadata: head.metadata, peer: connection.peer,
        deadline: deadline, requestEncoding: encoding, acceptEncodingHeader: acceptEncoding,
        maxSendMessageBytes: connection.config.maxSendMessageBytes)
      let call = ServerCall(
        handler: handler, context: context, sink: self, executor: connection.executor,
        decodeBudget: connection.config.requestArenaBudget)
      self.call = call
      if let timeout {
        // The timer holds the stream until it fires or the stream closes and cancels it.
        let stream = NIOLoopBound(self, eventLoop: connection.eventLoop)
        deadlineTimer = connection.eventLoop.scheduleTask(in: TimeAmount(timeout)) {
          stream.value.call?.cancel(status: Status(code: .deadlineExceeded, message: "deadline exceeded"))
        }
      }
      call.start()
    }
  }

  func receiveData(_ bytes: UnsafeRawBufferPointer) {
    credit += bytes.count
    defer {
      if deframer.bufferedBytes != partialBytes { connection.partialMessageChanged(self, to: deframer.bufferedBytes) }
      giveBackCredit()
    }
    guard let call, !call.isFinished else { return }
    let encoding = requestEncoding
    let limit = deframer.maxMessageBytes
    do {
      try deframer.process(bytes) { compressed, message in
        guard !call.isFinished else { return }
        let wireSize = MessageFramer.prefixLength + message.count
        var held = false
        if !compressed {
          held = call.receive(message, compressed: false, wireSize: wireSize)
        } else if let format = Zlib.Format(encoding) {
          do {
            let inflated = try Zlib.decompress(message, format: format, limit: limit)
            held = inflated.withUnsafeBytes { call.receive($0, compressed: true, wireSize: wireSize) }
          } catch let error as RPCError {
            call.cancel(status: error.status)
          } catch {
            call.cancel(status: Status(code: .internal, message: "decompression failed"))
          }
        } else {
          call.cancel(status: Status(code: .internal, message: "compressed message without a grpc-encoding"))
        }
        if held {
          owned += wireSize
          credit -= wireSize
        }
      }
    } catch {
      call.cancel(status: error.status)
    }
  }

  /// The handler took messages: the client may send that much more.
  func consumed(bytes: Int) {
    let taken = min(bytes, owned)
    owned -= taken
    credit += taken
    giveBackCredit()
  }

  /// Tells nghttp2 the positive credit is consumed, which lets it send WINDOW_UPDATE. The
  /// connection's share always goes back (other streams must not starve); the stream's own is
  /// kept back while its partial message has to wait for older ones.
  private func giveBackCredit() {
    guard credit > 0, let session = connection.session else { return }
    if connection.partialMessageMustWait(self) {
      _ = nghttp2_session_consume_connection(session, credit)
      withheldStreamCredit += credit
    } else {
      // Counts for the connection and, while the stream exists, for the stream too.
      _ = nghttp2_session_consume(session, id, credit)
    }
    credit = 0
    connection.needsFlush()
  }

  /// Gives back the stream credit kept back, once its partial message may go on.
  func releaseWithheldCredit() {
    guard withheldStreamCredit > 0, !connection.partialMessageMustWait(self), let session = connection.session else {
      return
    }
    _ = nghttp2_session_consume_stream(session, id, withheldStreamCredit)
    withheldStreamCredit = 0
    connection.needsFlush()
  }

  /// No handler will take what still waits: all of it goes back.
  private func releaseOwnedCredit() {
    credit += owned
    owned = 0
    giveBackCredit()
  }

  func receiveEnd() {
    guard let call, !call.isFinished else { return }
    if deframer.hasPartialMessage {
      return call.cancel(status: Status(code: .internal, message: "stream ended inside a message"))
    }
    call.receiveEnd()
  }

  /// nghttp2 closed the stream (done, reset by the peer, or the connection is going away).
  func closed(errorCode: UInt32) {
    deadlineTimer?.cancel()
    if partialBytes > 0 { connection.partialMessageChanged(self, to: 0) }
    releaseOwnedCredit()
    if let call, !call.isFinished {
      call.cancel(status: nil)
      log(Status(code: .cancelled, message: "stream closed by the client (HTTP/2 error \(errorCode))"), byClient: true)
    }
    finished = true
    resumeWriters(false)
  }

  // MARK: Response (ServerStreamSink)

  func sendMessage(_ message: some MessageSerializer, compress: Bool) {
    guard !finished, let call else { return }
    let size = message.serializedSize
    let limit = connection.config.maxSendMessageBytes
    guard size <= limit else {
      return call.cancel(
        status: Status(
          code: .resourceExhausted, message: "response message of \(size) bytes exceeds the limit of \(limit)"))
    }
    let context = call.context
    let format = compress ? Zlib.Format(context.responseEncoding) : nil
    if !headersSent {
      headersSent = true
      if context.responseEncoding == .identity, context.initialMetadata.isEmpty {
        submitResponse(ConstantHeaders.plainResponse)
      } else {
        var headers = HeaderList()
        headers.addResponseHead(encoding: context.responseEncoding)
        add(context.initialMetadata, to: &headers)
        submitResponse(headers)
      }
    }
    if let format {
      var packed = [UInt8](repeating: 0, count: size)
      packed.withUnsafeMutableBytes { if size > 0 { message.serialize(into: $0.baseAddress!) } }
      var compressed: [UInt8] = []
      do {
        try packed.withUnsafeBytes { try Zlib.compress($0, format: format, into: &compressed) }
      } catch let error as RPCError {
        return call.cancel(status: error.status)
      } catch {
        return call.cancel(status: Status(code: .internal, message: "compression failed"))
      }
      spillUnpacked()  // messages go out in order
      appendFrame(compressed: true, count: compressed.count) { destination in
        compressed.withUnsafeBytes { destination.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
      }
    } else if pendingBytes == 0, unpackedSize == nil {
      unpackedMessage = message
      unpackedSize = size
    } else {
      spillUnpacked()
      appendFrame(compressed: false, count: size) { destination in
        if size > 0 { message.serialize(into: destination) }
      }
    }
    resumeData()
  }

  /// Packs the waiting message into the pending buffer (it did not fit a frame, or more follow).
  private func spillUnpacked() {
    guard let size = unpackedSize, let message = unpackedMessage.take() else { return }
    unpackedSize = nil
    appendFrame(compressed: false, count: size) { destination in
      if size > 0 { message.serialize(into: destination) }
    }
  }

  private func appendFrame(compressed: Bool, count: Int, _ write: (UnsafeMutableRawPointer) -> Void) {
    let total = MessageFramer.prefixLength + count
    if pending == nil { pending = connection.allocator.buffer(capacity: total) }
    pending!.reserveCapacity(minimumWritableBytes: total)
    pending!.withUnsafeMutableWritableBytes { buffer in
      MessageFramer.writePrefix(compressed: compressed, length: count, to: buffer.baseAddress!)
      write(buffer.baseAddress! + MessageFramer.prefixLength)
    }
    pending!.moveWriterIndex(forwardBy: total)
  }

  private var pendingBytes: Int {
    (pending?.readableBytes ?? 0) + (unpackedSize.map { MessageFramer.prefixLength + $0 } ?? 0)
  }

  func finish(status: Status, trailers metadata: Metadata, error: (any Error)?) {
    guard !finished else { return }
    finished = true
    deadlineTimer?.cancel()
    releaseOwnedCredit()
    if let error {
      // The error's description, never its reflection: errors carry data in their debug text
      // (a database error's DETAIL quotes row values), and descriptions are kept free of it.
      connection.logger.error(
        "handler failed",
        metadata: [
          "rpc.method": "\(call?.context.method.path ?? "")", "error.type": "\(type(of: error))", "error": "\(error)",
        ])
    }
    log(status)
    if !headersSent {
      headersSent = true
      submitTrailersOnly(status, initialMetadata: call?.context.initialMetadata ?? [:], trailers: metadata)
    } else {
      if status.code == .ok, status.message.isEmpty, metadata.isEmpty {
        trailers = .ok
      } else {
        var headers = HeaderList()
        addStatus(status, metadata, to: &headers)
        trailers = .custom(headers)
      }
      resumeData()
    }
  }

  var isWritable: Bool { pendingBytes < connection.config.streamHighWaterMark }

  func whenWritable(_ resume: @escaping (Bool) -> Void) {
    if finished { return resume(false) }
    writabilityWaiters.append(resume)
  }

  private func resumeWriters(_ writable: Bool) {
    guard !writabilityWaiters.isEmpty else { return }
    let waiters = writabilityWaiters
    writabilityWaiters.removeAll()
    for waiter in waiters { waiter(writable) }
  }

  // MARK: nghttp2 glue

  /// A trailers-only error response before a call exists (bad headers, unknown method).
  private func reject(_ status: Status) {
    finished = true
    log(status)
    submitTrailersOnly(status, initialMetadata: [:], trailers: [:])
  }

  /// Trailers-only: one HEADERS frame with the status and all metadata, ending the stream.
  private func submitTrailersOnly(_ status: Status, initialMetadata: Metadata, trailers: Metadata) {
    var headers = HeaderList()
    headers.addResponseHead(encoding: .identity)
    add(initialMetadata, to: &headers)
    addStatus(status, trailers, to: &headers)
    submitResponse(headers, endStream: true)
  }

  private func submitResponse(_ headers: HeaderList, endStream: Bool = false, body: [UInt8]? = nil) {
    if let body {
      pending = connection.allocator.buffer(bytes: body)
    }
    submit(endStream: endStream) { headers.withHeaders($0) }
  }

  private func submitResponse(_ headers: ConstantHeaders) {
    submit(endStream: false) { headers.withHeaders($0) }
  }

  private func submit(endStream: Bool, _ withHeaders: ((UnsafePointer<nghttp2_nv>, Int) -> Int32) -> Int32) {
    connection.noteResponseFrames()
    let rc = withHeaders { nva, count in
      if endStream {
        return nghttp2_submit_response(connection.session, id, nva, count, nil)
      }
      var provider = nghttp2_data_provider()
      provider.source.ptr = Unmanaged.passUnretained(self).toOpaque()
      provider.read_callback = H2Connection.readResponseData
      return nghttp2_submit_response(connection.session, id, nva, count, &provider)
    }
    if rc != 0 { connection.logger.debug("nghttp2_submit_response failed", metadata: ["rc": "\(rc)"]) }
    connection.needsFlush()
  }

  private func resumeData() {
    if dataDeferred {
      dataDeferred = false
      nghttp2_session_resume_data(connection.session, id)
    }
    connection.needsFlush()
  }

  /// nghttp2's data source: copies queued response bytes into a DATA frame.
  func readData(into buffer: UnsafeMutablePointer<UInt8>, length: Int, flags: UnsafeMutablePointer<UInt32>) -> Int {
    var count = 0
    if let size = unpackedSize {
      if MessageFramer.prefixLength + size <= length {
        let message = unpackedMessage.take()!  // moved out, not copied
        unpackedSize = nil
        MessageFramer.writePrefix(compressed: false, length: size, to: buffer)
        if size > 0 { message.serialize(into: buffer + MessageFramer.prefixLength) }
        count = MessageFramer.prefixLength + size
      } else {
        spillUnpacked()
      }
    }
    if count == 0, pendingBytes > 0 {
      count = min(length, pendingBytes)
      pending!.readWithUnsafeReadableBytes { source in
        buffer.update(from: source.baseAddress!.assumingMemoryBound(to: UInt8.self), count: count)
        return count
      }
      if pending!.readableBytes == 0 { pending!.clear() }
    }
    if pendingBytes == 0 {
      if finished {
        if let trailers {
          flags.pointee |= NGHTTP2_DATA_FLAG_EOF.rawValue | NGHTTP2_DATA_FLAG_NO_END_STREAM.rawValue
          self.trailers = nil
          let session = connection.session
          switch trailers {
          case .ok: _ = ConstantHeaders.okTrailers.withHeaders { nghttp2_submit_trailer(session, id, $0, $1) }
          case .custom(let list): _ = list.withHeaders { nghttp2_submit_trailer(session, id, $0, $1) }
          }
        } else {
          flags.pointee |= NGHTTP2_DATA_FLAG_EOF.rawValue  // a plain HTTP error body
        }
      } else if count == 0 {
        dataDeferred = true
        return Int(NGHTTP2_ERR_DEFERRED.rawValue)
      }
    }
    connection.noteResponseFrames()  // a DATA frame goes out
    if pendingBytes < connection.config.streamHighWaterMark / 2 { resumeWriters(true) }
    return count
  }

  private func add(_ metadata: Metadata, to headers: inout HeaderList, isTrailers: Bool = false) {
    guard !metadata.isEmpty else { return }
    for (key, value) in metadata
    where Metadata.isValidCustomKey(key) || (isTrailers && key == Metadata.statusDetailsKey) {
      headers.add(key, Metadata.wireValue(value))
    }
  }

  private func addStatus(_ status: Status, _ metadata: Metadata, to headers: inout HeaderList) {
    headers.add("grpc-status", status.code.headerValue)
    if !status.message.isEmpty {
      headers.add("grpc-message", StatusMessageEncoding.encode(status.message))
    }
    add(metadata, to: &headers, isTrailers: true)
  }

  private func log(_ status: Status, byClient: Bool = false) {
    connection.recordFinished(status: status, cancelledByClient: byClient)
    guard let startMicroseconds, let accessLog = connection.accessLog else { return }
    let unknown: StaticString = "-"
    accessLog.append(
      method: call?.context.method.pathUTF8 ?? UnsafeRawBufferPointer(start: unknown.utf8Start, count: 1),
      status: status.code, durationMicroseconds: AccessLog.monotonicMicroseconds() - startMicroseconds,
      peer: UnsafeRawBufferPointer(connection.peerUTF8))
  }
}
