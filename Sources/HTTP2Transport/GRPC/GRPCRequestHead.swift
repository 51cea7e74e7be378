import RPCCore

#if canImport(Glibc)
  import Glibc
#endif

/// The request headers of one stream, gathered header by header and validated per the gRPC over
/// HTTP/2 spec once complete. Known headers are matched on bytes; custom metadata stays bytes
/// (decoded if a handler reads it), and only the values we keep become Strings.
struct GRPCRequestHead {
  var isPost = false
  /// The route of `:path`, looked up from its bytes as the header arrives.
  var route: RPCRouter.Lookup?
  /// The content-type, kept only when it is not the plain "application/grpc".
  var contentType: String?
  var isPlainGRPCContentType = false
  var timeout: String?
  var encoding: String?
  var acceptEncoding: String?
  var metadata = WireMetadata()
  var headerBytes = 0
  var invalidBinaryMetadata = false

  /// What to do with a stream whose headers are complete.
  enum Verdict {
    /// A valid gRPC request.
    case accept(RPCHandler, timeout: Duration?, encoding: CompressionAlgorithm, acceptEncoding: String?)
    /// Not gRPC at all: a plain HTTP error status, no grpc-status.
    case rejectHTTP(status: StaticString, message: String)
    /// A gRPC request we cannot serve: a trailers-only response.
    case rejectGRPC(Status)
  }

  /// Adds one header field. Returns true for `:path`, whose `route` the caller looks up: the
  /// router is not passed in, as that would cost the caller a copy or a retain per field.
  mutating func add(
    _ field: RequestFieldName, name: UnsafeBufferPointer<UInt8>, value: UnsafeBufferPointer<UInt8>
  ) -> Bool {
    headerBytes += name.count + value.count + 32  // RFC 7541's accounting
    func string() -> String { String(decoding: value, as: UTF8.self) }
    switch field {
    case .path:
      return true
    case .method:
      isPost = value.equals("POST")
    case .contentType:
      isPlainGRPCContentType = value.equals("application/grpc")
      if !isPlainGRPCContentType { contentType = string() }
    case .grpcTimeout:
      timeout = string()
    case .grpcEncoding:
      encoding = string()
    case .grpcAcceptEncoding:
      acceptEncoding = string()
    case .scheme, .authority, .otherPseudoHeader, .te, .userAgent, .connectionSpecific:
      break  // the HTTP/2 rules' to check
    case .grpcReserved:
      break  // other grpc- headers are reserved: not passed on as metadata
    case .contentLength, .host, .other:
      // Kept as bytes; only -bin values are checked now, so a bad one fails the call up front.
      if name.hasSuffix("-bin"), !Base64.isValid(value) {
        invalidBinaryMetadata = true
      }
      metadata.append(name: name, value: value)
    }
    return false
  }

  func verdict(maxTimeout: Duration) -> Verdict {
    guard isPost else {
      return .rejectHTTP(status: "405", message: "gRPC requires the POST method")
    }
    if !isPlainGRPCContentType {
      guard let contentType,
        contentType.hasPrefix("application/grpc+") || contentType.hasPrefix("application/grpc;")
      else {
        return .rejectHTTP(status: "415", message: "content-type must be application/grpc")
      }
      if contentType.hasPrefix("application/grpc+"), !contentType.hasPrefix("application/grpc+proto") {
        return .rejectHTTP(status: "415", message: "only the protobuf codec is supported")
      }
    }
    let handler: RPCHandler
    switch route {
    case .found(let found): handler = found
    case let lookup?: return .rejectGRPC(lookup.status!)
    case nil: return .rejectGRPC(Status(code: .unimplemented, message: "missing :path"))
    }
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
    return .accept(handler, timeout: duration, encoding: algorithm, acceptEncoding: acceptEncoding)
  }
}

extension UnsafeBufferPointer<UInt8> {
  /// Byte equality with a constant, by memcmp: header names are matched on every request.
  func equals(_ literal: StaticString) -> Bool {
    count == literal.utf8CodeUnitCount && (count == 0 || memcmp(baseAddress!, literal.utf8Start, count) == 0)
  }

  func hasSuffix(_ literal: StaticString) -> Bool {
    count >= literal.utf8CodeUnitCount
      && memcmp(baseAddress! + count - literal.utf8CodeUnitCount, literal.utf8Start, literal.utf8CodeUnitCount) == 0
  }

  func hasPrefix(_ literal: StaticString) -> Bool {
    count >= literal.utf8CodeUnitCount && memcmp(baseAddress!, literal.utf8Start, literal.utf8CodeUnitCount) == 0
  }
}
