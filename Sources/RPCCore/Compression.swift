/// Message compression algorithms of `grpc-encoding` / `grpc-accept-encoding`.
public enum CompressionAlgorithm: String, Sendable, CaseIterable {
  case identity
  case gzip
  case deflate

  /// The algorithms a peer listed in `grpc-accept-encoding`, in its order, unknown ones dropped.
  public static func parseAcceptEncoding(_ value: some StringProtocol) -> [CompressionAlgorithm] {
    value.split(separator: ",").compactMap {
      CompressionAlgorithm(rawValue: $0.trimmingWhitespace().lowercased())
    }
  }
}

extension StringProtocol {
  func trimmingWhitespace() -> String {
    let scalars = unicodeScalars.drop { $0 == " " || $0 == "\t" }
    var trimmed = String(String.UnicodeScalarView(scalars))
    while trimmed.last == " " || trimmed.last == "\t" { trimmed.removeLast() }
    return trimmed
  }
}

/// Compresses and decompresses whole messages; implemented by the transport over zlib.
public protocol MessageCompressor {
  /// Appends the compressed form of `input` to `output`.
  mutating func compress(_ input: UnsafeRawBufferPointer, into output: inout [UInt8]) throws
  /// Decompresses `input`, failing with `RESOURCE_EXHAUSTED` past `limit` bytes of output.
  mutating func decompress(_ input: UnsafeRawBufferPointer, limit: Int) throws -> [UInt8]
}
