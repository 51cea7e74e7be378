public import RPCCore

/// The request headers of one stream, gathered header by header and validated per the gRPC over
/// HTTP/2 spec once complete. Known headers are matched on bytes; only custom metadata and the
/// values we keep become Strings.
struct GRPCRequestHead {
  var method: String?
  var path: String?
  var contentType: String?
  var timeout: String?
  var encoding: String?
  var acceptEncoding: String?
  var metadata = Metadata()
  var headerBytes = 0
  var invalidBinaryMetadata = false

  /// What to do with a stream whose headers are complete.
  enum Verdict {
    /// A valid gRPC request.
    case accept(path: String, timeout: Duration?, encoding: CompressionAlgorithm, accepted: [CompressionAlgorithm])
    /// Not gRPC at all: a plain HTTP error status, no grpc-status.
    case rejectHTTP(status: StaticString, message: String)
    /// A gRPC request we cannot serve: a trailers-only response.
    case rejectGRPC(Status)
  }

  mutating func add(name: UnsafeBufferPointer<UInt8>, value: UnsafeBufferPointer<UInt8>) {
    headerBytes += name.count + value.count + 32  // RFC 7541's accounting
    func string() -> String { String(decoding: value, as: UTF8.self) }
    if name.first == UInt8(ascii: ":") {
      if name.elementsEqual(":path".utf8) {
        path = string()
      } else if name.elementsEqual(":method".utf8) {
        method = string()
      }
      return  // :scheme and :authority are nghttp2's to check
    }
    if name.elementsEqual("content-type".utf8) {
      contentType = string()
    } else if name.starts(with: "grpc-".utf8) {
      if name.elementsEqual("grpc-timeout".utf8) {
        timeout = string()
      } else if name.elementsEqual("grpc-encoding".utf8) {
        encoding = string()
      } else if name.elementsEqual("grpc-accept-encoding".utf8) {
        acceptEncoding = string()
      }
      // other grpc- headers are reserved: not passed on as metadata
    } else if !(name.elementsEqual("te".utf8) || name.elementsEqual("user-agent".utf8)) {
      if !metadata.appendWireValue(String(decoding: name, as: UTF8.self), string()) {
        invalidBinaryMetadata = true
      }
    }
  }

  func verdict(maxTimeout: Duration) -> Verdict {
    guard method == "POST" else {
      return .rejectHTTP(status: "405", message: "gRPC requires the POST method")
    }
    guard let contentType, contentType.hasPrefix("application/grpc"),
      contentType.count == 16 || contentType.hasPrefix("application/grpc+")
        || contentType.hasPrefix("application/grpc;")
    else {
      return .rejectHTTP(status: "415", message: "content-type must be application/grpc")
    }
    if contentType.hasPrefix("application/grpc+"), !contentType.hasPrefix("application/grpc+proto") {
      return .rejectHTTP(status: "415", message: "only the protobuf codec is supported")
    }
    guard let path else { return .rejectGRPC(Status(code: .unimplemented, message: "missing :path")) }
    var duration: Duration?
    if let timeout {
      guard let parsed = Timeout(decoding: timeout) else {
        return .rejectGRPC(Status(code: .internal, message: "malformed grpc-timeout \"\(timeout)\""))
      }
      duration = min(parsed.duration, maxTimeout)
    }
    var algorithm = CompressionAlgorithm.identity
    if let encoding {
      guard let known = CompressionAlgorithm(rawValue: encoding) else {
        return .rejectGRPC(
          Status(code: .unimplemented, message: "message compression \"\(encoding)\" is not supported"))
      }
      algorithm = known
    }
    if invalidBinaryMetadata {
      return .rejectGRPC(Status(code: .internal, message: "a -bin metadata value is not valid base64"))
    }
    let accepted = acceptEncoding.map(CompressionAlgorithm.parseAcceptEncoding) ?? []
    return .accept(path: path, timeout: duration, encoding: algorithm, accepted: accepted)
  }
}
