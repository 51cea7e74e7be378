import CNGHTTP2
import NIOCore
import RPCCore

/// The only file that talks to nghttp2 through C callbacks. Each callback moves into Swift on its
/// first line and never throws or awaits.
///
/// Ownership: the session's user_data is the connection, unretained: the connection owns the
/// session and deletes it before it goes away, so C never calls back into a freed object. Each
/// stream's user data is its `H2Stream`, retained from the first HEADERS frame until
/// on_stream_close (or the connection's end) releases it.
extension H2Connection {
  static func makeSession(for connection: H2Connection) -> OpaquePointer {
    var option: OpaquePointer?
    nghttp2_option_new(&option)
    defer { nghttp2_option_del(option) }
    // Flood protections carried by Debian's nghttp2 (CONTINUATION flood, rapid reset).
    nghttp2_option_set_max_continuations(option, 16)
    nghttp2_option_set_stream_reset_rate_limit(option, 1000, 33)
    nghttp2_option_set_max_outbound_ack(option, 1000)
    nghttp2_option_set_max_settings(option, 32)
    // Window updates follow what handlers consume, not what arrives (H2Stream.consumed).
    nghttp2_option_set_no_auto_window_update(option, 1)
    // HTTP's message rules are checked by H2RequestRules, in the pass over each field we make anyway.
    nghttp2_option_set_no_http_messaging(option, 1)
    var session: OpaquePointer?
    let rc = nghttp2_session_server_new2(
      &session, callbacks.pointer, Unmanaged.passUnretained(connection).toOpaque(), option)
    precondition(rc == 0 && session != nil, "nghttp2_session_server_new2 failed: \(rc)")
    return session!
  }

  /// Runs `body` with the connection behind user_data, with no retain/release: the connection
  /// is alive for as long as its session can call back.
  private static func withConnection<Result>(
    _ userData: UnsafeMutableRawPointer?, _ body: (H2Connection) -> Result
  ) -> Result {
    Unmanaged<H2Connection>.fromOpaque(userData!)._withUnsafeGuaranteedRef(body)
  }

  /// Runs `body` with the connection and its open stream `streamID`, if there is one and it is
  /// not being reset as malformed (DATA and HEADERS callbacks may come after the stream closed, or
  /// before its RST_STREAM left). The connection is passed in: reading it from the stream
  /// (unowned) would cost a retain per callback.
  private static func withStream(
    _ userData: UnsafeMutableRawPointer?, _ streamID: Int32, _ body: (H2Connection, H2Stream) -> Void
  ) {
    withConnection(userData) { connection in
      guard let stream = connection.openStream(streamID) else { return }
      stream._withUnsafeGuaranteedRef { stream in
        if !stream.isMalformed { body(connection, stream) }
      }
    }
  }

  /// The callbacks table, built once and shared by every session (nghttp2 copies it).
  private static let callbacks: CallbacksPointer = {
    var callbacks: OpaquePointer?
    nghttp2_session_callbacks_new(&callbacks)

    nghttp2_session_callbacks_set_send_callback(callbacks) { _, data, length, _, userData in
      H2Connection.withConnection(userData) { connection in
        // Stop producing once a good batch is gathered; flush() writes it and calls send again.
        if connection.outbound.readableBytes >= 256 * 1024 { return Int(NGHTTP2_ERR_WOULDBLOCK.rawValue) }
        connection.outbound.writeBytes(UnsafeRawBufferPointer(start: data, count: length))
        return length
      }
    }

    nghttp2_session_callbacks_set_on_begin_headers_callback(callbacks) { session, frame, userData in
      let frame = frame!.pointee
      guard frame.hd.type == UInt8(NGHTTP2_HEADERS.rawValue), frame.headers.cat == NGHTTP2_HCAT_REQUEST else {
        return 0
      }
      H2Connection.withConnection(userData) { connection in
        let stream = H2Stream(id: frame.hd.stream_id, connection: connection)
        nghttp2_session_set_stream_user_data(session, frame.hd.stream_id, Unmanaged.passRetained(stream).toOpaque())
        connection.streamOpened(stream)
      }
      return 0
    }

    nghttp2_session_callbacks_set_on_header_callback(callbacks) {
      _, frame, name, nameLength, value, valueLength, _, userData in
      let frame = frame!.pointee
      let isTrailer = frame.headers.cat != NGHTTP2_HCAT_REQUEST
      H2Connection.withStream(userData, frame.hd.stream_id) { connection, stream in
        let name = UnsafeBufferPointer(start: name, count: nameLength)
        let value = UnsafeBufferPointer(start: value, count: valueLength)
        let field = RequestFieldName(name)
        guard stream.rules.field(field, name: name, value: value, isTrailer: isTrailer) else {
          return connection.resetMalformed(stream)
        }
        // Trailers from the client carry nothing we use.
        if !isTrailer, stream.head.add(field, name: name, value: value) {
          stream.head.route = connection.router.lookup(path: value)
        }
      }
      return 0
    }

    nghttp2_session_callbacks_set_on_frame_recv_callback(callbacks) { _, frame, userData in
      let frame = frame!.pointee
      let type = frame.hd.type
      if type == UInt8(NGHTTP2_PING.rawValue) {
        let isAck = frame.hd.flags & UInt8(NGHTTP2_FLAG_ACK.rawValue) != 0
        H2Connection.withConnection(userData) { $0.receivedPing(isAck: isAck) }
        return 0
      }
      guard type == UInt8(NGHTTP2_HEADERS.rawValue) || type == UInt8(NGHTTP2_DATA.rawValue) else { return 0 }
      H2Connection.withStream(userData, frame.hd.stream_id) { connection, stream in
        let isRequestHead = type == UInt8(NGHTTP2_HEADERS.rawValue) && frame.headers.cat == NGHTTP2_HCAT_REQUEST
        let endsStream = frame.hd.flags & UInt8(NGHTTP2_FLAG_END_STREAM.rawValue) != 0
        let valid =
          if isRequestHead {
            stream.rules.headersComplete()
          } else {
            // Trailers must end the stream (RFC 9113 §8.1).
            type == UInt8(NGHTTP2_DATA.rawValue) || endsStream
          }
        guard valid, !endsStream || stream.rules.ended() else { return connection.resetMalformed(stream) }
        if isRequestHead { stream.headersComplete() }
        if endsStream { stream.receiveEnd() }
      }
      return 0
    }

    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(callbacks) {
      session, _, streamID, data, length, userData in
      var delivered = false
      H2Connection.withStream(userData, streamID) { connection, stream in
        guard stream.rules.received(length) else { return connection.resetMalformed(stream) }
        stream.receiveData(UnsafeRawBufferPointer(start: data, count: length))
        delivered = true
      }
      // DATA for a stream we no longer track (or reset) still counts against the connection's window.
      if !delivered { nghttp2_session_consume_connection(session, length) }
      return 0
    }

    nghttp2_session_callbacks_set_on_stream_close_callback(callbacks) { session, streamID, errorCode, userData in
      guard let data = nghttp2_session_get_stream_user_data(session, streamID) else { return 0 }
      nghttp2_session_set_stream_user_data(session, streamID, nil)
      let stream = Unmanaged<H2Stream>.fromOpaque(data).takeUnretainedValue()
      H2Connection.withConnection(userData) { $0.streamClosed(stream, errorCode: errorCode) }
      return 0
    }

    return CallbacksPointer(pointer: callbacks!)
  }()

  /// The data provider's read callback; `source.ptr` is the stream, unretained (nghttp2 holds the
  /// stream's retained reference as user data while the provider is live).
  static let readResponseData: nghttp2_data_source_read_callback = { _, _, buffer, length, flags, source, _ in
    Unmanaged<H2Stream>.fromOpaque(source!.pointee.ptr!)._withUnsafeGuaranteedRef {
      $0.readData(into: buffer!, length: length, flags: flags!)
    }
  }
}

/// The shared, immutable callbacks table.
struct CallbacksPointer: @unchecked Sendable {  // written once at creation, then only read by nghttp2
  let pointer: OpaquePointer
}
