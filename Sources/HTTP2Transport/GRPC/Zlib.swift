import CZlib
import RPCCore

/// gzip and deflate (zlib format) for whole messages.
enum Zlib {
  enum Format {
    case gzip, deflate

    init?(_ algorithm: CompressionAlgorithm) {
      switch algorithm {
      case .gzip: self = .gzip
      case .deflate: self = .deflate
      case .identity: return nil
      }
    }

    /// zlib's windowBits: 15 for the zlib wrapper, +16 for the gzip wrapper.
    var windowBits: Int32 { self == .gzip ? 31 : 15 }
  }

  /// Compresses `input` into `output`.
  static func compress(_ input: UnsafeRawBufferPointer, format: Format, into output: inout [UInt8]) throws(RPCError) {
    var stream = z_stream()
    var rc = CZlib_deflateInit2(&stream, Z_DEFAULT_COMPRESSION, Z_DEFLATED, format.windowBits, 8, Z_DEFAULT_STRATEGY)
    guard rc == Z_OK else { throw RPCError(code: .internal, message: "compression failed") }
    defer { deflateEnd(&stream) }
    let bound = Int(deflateBound(&stream, uLong(input.count)))
    let start = output.count
    output.append(contentsOf: repeatElement(0, count: bound))
    rc = output.withUnsafeMutableBytes { out in
      stream.next_in = UnsafeMutablePointer(mutating: input.baseAddress?.assumingMemoryBound(to: Bytef.self))
      stream.avail_in = uInt(input.count)
      stream.next_out = out.baseAddress!.assumingMemoryBound(to: Bytef.self) + start
      stream.avail_out = uInt(bound)
      return deflate(&stream, Z_FINISH)
    }
    switch rc {
    case Z_STREAM_END:
      output.removeLast(Int(stream.avail_out))
    default:
      // deflateBound guarantees room for Z_FINISH in one call.
      preconditionFailure("deflate returned unexpected code \(rc)")
    }
  }

  /// Decompresses `input`; more than `limit` bytes of output is RESOURCE_EXHAUSTED, and input that
  /// is not valid compressed data is INTERNAL (the spec's code for a message that cannot be read).
  static func decompress(_ input: UnsafeRawBufferPointer, format: Format, limit: Int) throws(RPCError) -> [UInt8] {
    var stream = z_stream()
    guard CZlib_inflateInit2(&stream, format.windowBits) == Z_OK else {
      throw RPCError(code: .internal, message: "decompression failed")
    }
    defer { inflateEnd(&stream) }
    stream.next_in = UnsafeMutablePointer(mutating: input.baseAddress?.assumingMemoryBound(to: Bytef.self))
    stream.avail_in = uInt(input.count)
    var output: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: min(max(input.count * 4, 4096), 256 * 1024))
    while true {
      let (rc, produced) = chunk.withUnsafeMutableBytes { buffer in
        stream.next_out = buffer.baseAddress!.assumingMemoryBound(to: Bytef.self)
        stream.avail_out = uInt(buffer.count)
        let rc = inflate(&stream, Z_NO_FLUSH)
        return (rc, buffer.count - Int(stream.avail_out))
      }
      guard output.count + produced <= limit else {
        throw RPCError(code: .resourceExhausted, message: "decompressed message larger than max (\(limit) bytes)")
      }
      output.append(contentsOf: chunk[0..<produced])
      switch rc {
      case Z_STREAM_END:
        return output
      case Z_OK:
        continue
      case Z_BUF_ERROR where stream.avail_in == 0:
        throw RPCError(code: .internal, message: "compressed message is truncated")
      case Z_DATA_ERROR, Z_NEED_DICT, Z_BUF_ERROR:
        throw RPCError(code: .internal, message: "compressed message is not valid \(format) data")
      case Z_MEM_ERROR:
        throw RPCError(code: .resourceExhausted, message: "out of memory while decompressing")
      default:
        preconditionFailure("inflate returned unexpected code \(rc)")
      }
    }
  }
}
