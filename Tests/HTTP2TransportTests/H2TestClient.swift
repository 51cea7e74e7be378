import CNGHTTP2
import NIOCore

/// A real nghttp2 client session driven in memory: it writes frames for the server under test
/// and decodes what the server writes back. No sockets, and no fake of HTTP/2.
final class H2TestClient {
  struct Response {
    var headers: [(String, String)] = []
    var trailers: [(String, String)] = []
    var data: [UInt8] = []
    var closed = false
    var resetCode: UInt32?

    func header(_ name: String) -> String? { headers.first { $0.0 == name }?.1 }
    func trailer(_ name: String) -> String? { trailers.first { $0.0 == name }?.1 }
    var isTrailersOnly: Bool { trailers.isEmpty && header("grpc-status") != nil }
    var grpcStatus: String? { trailer("grpc-status") ?? header("grpc-status") }

    /// The gRPC messages in the DATA bytes.
    var messages: [[UInt8]] {
      var result: [[UInt8]] = []
      var index = 0
      while index + 5 <= data.count {
        let length =
          Int(data[index + 1]) << 24 | Int(data[index + 2]) << 16 | Int(data[index + 3]) << 8 | Int(data[index + 4])
        result.append(Array(data[index + 5..<index + 5 + length]))
        index += 5 + length
      }
      return result
    }
  }

  private(set) var session: OpaquePointer!
  var responses: [Int32: Response] = [:]
  var goawayErrorCode: UInt32?
  private var bodies: [Int32: [UInt8]] = [:]
  /// The most request body bytes per DATA frame: small values split messages across frames.
  var maxDataFrameBytes = 16384

  init() {
    var callbacks: OpaquePointer?
    nghttp2_session_callbacks_new(&callbacks)
    defer { nghttp2_session_callbacks_del(callbacks) }
    nghttp2_session_callbacks_set_on_header_callback(callbacks) {
      _, frame, name, nameLength, value, valueLength, _, user in
      let client = Unmanaged<H2TestClient>.fromOpaque(user!).takeUnretainedValue()
      let pair = (
        String(decoding: UnsafeBufferPointer(start: name, count: nameLength), as: UTF8.self),
        String(decoding: UnsafeBufferPointer(start: value, count: valueLength), as: UTF8.self)
      )
      let id = frame!.pointee.hd.stream_id
      if frame!.pointee.headers.cat == NGHTTP2_HCAT_HEADERS {
        client.responses[id, default: Response()].trailers.append(pair)
      } else {
        client.responses[id, default: Response()].headers.append(pair)
      }
      return 0
    }
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(callbacks) { _, _, id, data, length, user in
      let client = Unmanaged<H2TestClient>.fromOpaque(user!).takeUnretainedValue()
      client.responses[id, default: Response()].data += UnsafeBufferPointer(start: data, count: length)
      return 0
    }
    nghttp2_session_callbacks_set_on_stream_close_callback(callbacks) { _, id, errorCode, user in
      let client = Unmanaged<H2TestClient>.fromOpaque(user!).takeUnretainedValue()
      client.responses[id, default: Response()].closed = true
      if errorCode != 0 { client.responses[id, default: Response()].resetCode = errorCode }
      return 0
    }
    nghttp2_session_callbacks_set_on_frame_recv_callback(callbacks) { _, frame, user in
      if frame!.pointee.hd.type == UInt8(NGHTTP2_GOAWAY.rawValue) {
        Unmanaged<H2TestClient>.fromOpaque(user!).takeUnretainedValue().goawayErrorCode =
          frame!.pointee.goaway.error_code
      }
      return 0
    }
    nghttp2_session_client_new(&session, callbacks, Unmanaged.passUnretained(self).toOpaque())
    nghttp2_submit_settings(session, UInt8(NGHTTP2_FLAG_NONE.rawValue), nil, 0)
  }

  deinit {
    nghttp2_session_del(session)
  }

  /// Starts a request; a body, when given, is sent with END_STREAM.
  @discardableResult
  func request(
    path: String, method: String = "POST", contentType: String? = "application/grpc",
    extraHeaders: [(String, String)] = [], body: [UInt8]? = nil
  ) -> Int32 {
    var pairs = [(":method", method), (":scheme", "http"), (":path", path), (":authority", "test")]
    if let contentType { pairs.append(("content-type", contentType)) }
    pairs.append(("te", "trailers"))
    pairs += extraHeaders
    let storage = pairs.map { (Array($0.0.utf8), Array($0.1.utf8)) }
    var nva: [nghttp2_nv] = []
    var id: Int32 = 0
    // The name/value arrays outlive the submit call, which copies them.
    withExtendedLifetime(storage) {
      for (name, value) in storage {
        nva.append(
          nghttp2_nv(
            name: UnsafeMutablePointer(mutating: name.withUnsafeBufferPointer { $0.baseAddress! }),
            value: UnsafeMutablePointer(mutating: value.withUnsafeBufferPointer { $0.baseAddress! }),
            namelen: name.count, valuelen: value.count, flags: 0))
      }
      if let body {
        bodies[0] = body
        var provider = nghttp2_data_provider()
        provider.source.ptr = Unmanaged.passUnretained(self).toOpaque()
        provider.read_callback = { _, id, buffer, length, flags, source, _ in
          let client = Unmanaged<H2TestClient>.fromOpaque(source!.pointee.ptr!).takeUnretainedValue()
          let key = client.bodies[id] != nil ? id : 0
          var body = client.bodies[key] ?? []
          let count = min(length, body.count, client.maxDataFrameBytes)
          buffer!.update(from: body, count: count)
          body.removeFirst(count)
          client.bodies[key] = body
          if body.isEmpty { flags!.pointee |= NGHTTP2_DATA_FLAG_EOF.rawValue }
          return count
        }
        id = nghttp2_submit_request(session, nil, nva, nva.count, &provider, nil)
        bodies[id] = bodies.removeValue(forKey: 0)
      } else {
        id = nghttp2_submit_request(session, nil, nva, nva.count, nil, nil)
      }
    }
    return id
  }

  /// What the client wants to send, as one buffer.
  func outbound(allocator: ByteBufferAllocator) -> ByteBuffer {
    var buffer = allocator.buffer(capacity: 1024)
    while true {
      var data: UnsafePointer<UInt8>?
      let count = nghttp2_session_mem_send(session, &data)
      precondition(count >= 0, "client mem_send failed: \(count)")
      if count == 0 { break }
      buffer.writeBytes(UnsafeRawBufferPointer(start: data, count: count))
    }
    return buffer
  }

  /// Feeds bytes the server wrote.
  func receive(_ buffer: ByteBuffer) {
    let rc = buffer.withUnsafeReadableBytes {
      nghttp2_session_mem_recv(session, $0.baseAddress?.assumingMemoryBound(to: UInt8.self), $0.count)
    }
    precondition(rc >= 0, "client mem_recv failed: \(rc)")
  }

  /// A gRPC length-prefixed message.
  static func frame(_ message: [UInt8], compressed: Bool = false) -> [UInt8] {
    let count = message.count
    return [
      compressed ? 1 : 0, UInt8(count >> 24 & 0xff), UInt8(count >> 16 & 0xff), UInt8(count >> 8 & 0xff),
      UInt8(count & 0xff),
    ]
      + message
  }
}
