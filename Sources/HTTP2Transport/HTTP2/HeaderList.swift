import CNGHTTP2
import RPCCore

/// Builds an `nghttp2_nv` array. Constant names and values (`StaticString`) go to nghttp2 without
/// a copy; dynamic ones are gathered in one byte buffer that lives until `withHeaders` returns,
/// and nghttp2 copies them while submitting.
struct HeaderList {
  private enum Part {
    case constant(StaticString)
    case dynamic(offset: Int, count: Int)
  }

  private var entries: [(name: Part, value: Part)] = []
  private var bytes: [UInt8] = []

  init() {
    entries.reserveCapacity(8)
  }

  mutating func add(_ name: StaticString, _ value: StaticString) {
    entries.append((.constant(name), .constant(value)))
  }

  mutating func add(_ name: StaticString, _ value: String) {
    entries.append((.constant(name), store(value)))
  }

  mutating func add(_ name: String, _ value: String) {
    entries.append((store(name), store(value)))
  }

  /// The response's own headers: status 200, content type, its `grpc-encoding` unless identity,
  /// and what this server accepts.
  mutating func addResponseHead(encoding: CompressionAlgorithm) {
    add(":status", "200")
    add("content-type", "application/grpc")
    if encoding != .identity { add("grpc-encoding", encoding.rawValue) }
    add("grpc-accept-encoding", ConstantHeaders.acceptedEncodings)
  }

  private mutating func store(_ string: String) -> Part {
    let offset = bytes.count
    bytes.append(contentsOf: string.utf8)
    return .dynamic(offset: offset, count: bytes.count - offset)
  }

  /// Calls `body` with the array; the pointers are valid only during the call.
  func withHeaders<Result>(_ body: (UnsafePointer<nghttp2_nv>, Int) -> Result) -> Result {
    bytes.withUnsafeBufferPointer { storage in
      // nghttp2 never writes through these pointers; its API is merely not const-correct.
      let base = UnsafeMutablePointer(mutating: storage.baseAddress)
      func resolve(_ part: Part) -> (UnsafeMutablePointer<UInt8>, Int, UInt8) {
        switch part {
        case .constant(let string):
          (UnsafeMutablePointer(mutating: string.utf8Start), string.utf8CodeUnitCount, 1)
        case .dynamic(let offset, let count):
          (base.map { $0 + offset } ?? UnsafeMutablePointer(mutating: ("" as StaticString).utf8Start), count, 0)
        }
      }
      var nva: [nghttp2_nv] = []
      nva.reserveCapacity(entries.count)
      for (name, value) in entries {
        let n = resolve(name)
        let v = resolve(value)
        let noCopy =
          (n.2 == 1 ? UInt8(NGHTTP2_NV_FLAG_NO_COPY_NAME.rawValue) : 0)
          | (v.2 == 1 ? UInt8(NGHTTP2_NV_FLAG_NO_COPY_VALUE.rawValue) : 0)
        nva.append(nghttp2_nv(name: n.0, value: v.0, namelen: n.1, valuelen: v.1, flags: noCopy))
      }
      return nva.withUnsafeBufferPointer { body($0.baseAddress!, $0.count) }
    }
  }
}

/// A header list made only of constants, built once: the common responses submit it with no
/// allocation at all.
struct ConstantHeaders: @unchecked Sendable {  // immutable; the pointers are to StaticString bytes
  private let nva: [nghttp2_nv]

  init(_ pairs: [(StaticString, StaticString)]) {
    let noCopy = UInt8(NGHTTP2_NV_FLAG_NO_COPY_NAME.rawValue | NGHTTP2_NV_FLAG_NO_COPY_VALUE.rawValue)
    nva = pairs.map { name, value in
      nghttp2_nv(
        name: UnsafeMutablePointer(mutating: name.utf8Start), value: UnsafeMutablePointer(mutating: value.utf8Start),
        namelen: name.utf8CodeUnitCount, valuelen: value.utf8CodeUnitCount, flags: noCopy)
    }
  }

  func withHeaders<Result>(_ body: (UnsafePointer<nghttp2_nv>, Int) -> Result) -> Result {
    nva.withUnsafeBufferPointer { body($0.baseAddress!, $0.count) }
  }

  /// The value of `grpc-accept-encoding` this server sends.
  static let acceptedEncodings: StaticString = "identity,gzip,deflate"

  /// The response headers of a call with no initial metadata and uncompressed responses.
  static let plainResponse = ConstantHeaders([
    (":status", "200"), ("content-type", "application/grpc"), ("grpc-accept-encoding", acceptedEncodings),
  ])

  /// The trailers of a call that ended OK with no trailing metadata.
  static let okTrailers = ConstantHeaders([("grpc-status", "0")])
}
