// A libFuzzer target for the server's request path: HTTP/2 frames in (nghttp2), gRPC request
// heads, deadlines, metadata, message framing, decompression and protobuf-c decoding, on an
// embedded channel with the standard services' router. Built and run by Scripts/fuzz; a normal
// build gets a replay tool instead (`swift run TransportFuzzer FILE...` runs saved inputs once each).

import CNGHTTP2
import HTTP2Transport
import Logging
import NIOCore
import NIOEmbedded
import RPCCore
import StandardServices

/// Built once: the standard services (stateless apart from health statuses).
let router = StandardServiceSet.router(health: HealthService(), testServices: true)
let logger = {
  var logger = Logger(label: "fuzz")
  logger.logLevel = .critical
  return logger
}()
let config = {
  var config = HTTP2Server.Config.defaults
  config.maxReceiveMessageBytes = 64 * 1024
  return config
}()

/// Runs one input: the first byte picks raw frames or a generated request.
func runOne(_ input: UnsafeRawBufferPointer) {
  guard let mode = input.first else { return }
  let rest = UnsafeRawBufferPointer(rebasing: input.dropFirst())
  let bytes: [UInt8] = mode & 1 == 0 ? Frames.raw(rest) : Frames.request(rest)
  let channel = EmbeddedChannel()
  do {
    try channel.pipeline.syncOperations.addHandler(
      HTTP2Server.connectionHandler(channel: channel, config: config, router: router, logger: logger))
    try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
    var buffer = channel.allocator.buffer(capacity: bytes.count)
    buffer.writeBytes(bytes)
    try channel.writeInbound(buffer)
    for _ in 0..<8 {
      channel.embeddedEventLoop.run()
      while try channel.readOutbound(as: ByteBuffer.self) != nil {}
    }
  } catch {
    // A connection the server closed, or a write after close: both are answers, not failures.
  }
  _ = try? channel.close().wait()
  channel.embeddedEventLoop.run()
}

/// HTTP/2 bytes for the server, from the fuzzer's input.
enum Frames {
  static let preface = Array("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".utf8)

  static func frame(type: UInt8, flags: UInt8, stream: UInt32, _ payload: [UInt8]) -> [UInt8] {
    let length = payload.count
    return [
      UInt8(length >> 16 & 0xff), UInt8(length >> 8 & 0xff), UInt8(length & 0xff), type, flags,
      UInt8(stream >> 24 & 0x7f), UInt8(stream >> 16 & 0xff), UInt8(stream >> 8 & 0xff), UInt8(stream & 0xff),
    ] + payload
  }

  /// The client preface and SETTINGS, then the input as frames.
  static func raw(_ input: UnsafeRawBufferPointer) -> [UInt8] {
    preface + frame(type: 4, flags: 0, stream: 0, []) + Array(input)
  }

  /// HPACK: a literal header field without indexing, new name, no Huffman coding.
  static func literal(_ name: [UInt8], _ value: [UInt8]) -> [UInt8] {
    [0] + integer(name.count) + name + integer(value.count) + value
  }

  /// An HPACK integer with a 7-bit prefix (the H bit clear).
  static func integer(_ value: Int) -> [UInt8] {
    guard value >= 127 else { return [UInt8(value)] }
    var bytes: [UInt8] = [127]
    var rest = value - 127
    while rest >= 128 {
      bytes.append(UInt8(rest & 0x7f) | 0x80)
      rest >>= 7
    }
    return bytes + [UInt8(rest)]
  }

  static let paths = [
    "/grpc.testing.BenchmarkService/UnaryCall", "/grpc.testing.TestService/UnaryCall",
    "/grpc.testing.TestService/EmptyCall", "/grpc.health.v1.Health/Check",
    "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo", "/grpc.testing.TestService/StreamingInputCall",
    "/nope/Nope", "/grpc.testing.BenchmarkService/UnaryCall?x",
  ]
  static let contentTypes = ["application/grpc", "application/grpc+proto", "application/grpc+json", "text/plain", ""]
  static let encodings = ["identity", "gzip", "deflate", "br", ""]

  /// A request: one HEADERS frame built from the input's first bytes (path, content type,
  /// encodings, a `grpc-timeout` and a `-bin` metadata value cut from the input), then the rest
  /// of the input as DATA frames of an input-chosen size, the last with END_STREAM.
  static func request(_ input: UnsafeRawBufferPointer) -> [UInt8] {
    var reader = input.makeIterator()
    func next() -> UInt8 { reader.next() ?? 0 }
    func take(_ count: Int) -> [UInt8] { (0..<count).compactMap { _ in reader.next() } }
    let choice = next()
    let timeout = take(Int(next() % 12))
    let binary = take(Int(next() % 40))
    let frameSize = max(1, Int(next()) * 64)
    var headers = literal(Array(":method".utf8), Array((choice & 0x80 == 0 ? "POST" : "GET").utf8))
    headers += literal(Array(":scheme".utf8), Array("http".utf8))
    headers += literal(Array(":path".utf8), Array(paths[Int(choice) % paths.count].utf8))
    headers += literal(Array(":authority".utf8), Array("fuzz".utf8))
    headers += literal(Array("content-type".utf8), Array(contentTypes[Int(choice >> 3) % contentTypes.count].utf8))
    headers += literal(Array("te".utf8), Array("trailers".utf8))
    headers += literal(Array("grpc-encoding".utf8), Array(encodings[Int(choice >> 5) % encodings.count].utf8))
    headers += literal(Array("grpc-accept-encoding".utf8), Array("gzip,deflate".utf8))
    if !timeout.isEmpty { headers += literal(Array("grpc-timeout".utf8), timeout) }
    if !binary.isEmpty { headers += literal(Array("x-fuzz-bin".utf8), binary) }
    var bytes = preface + frame(type: 4, flags: 0, stream: 0, [])
    bytes += frame(type: 1, flags: 0x4, stream: 1, headers)
    var body: [UInt8] = []
    while let byte = reader.next() { body.append(byte) }
    var offset = 0
    repeat {
      let end = min(body.count, offset + frameSize)
      bytes += frame(type: 0, flags: end == body.count ? 0x1 : 0, stream: 1, Array(body[offset..<end]))
      offset = end
    } while offset < body.count
    return bytes
  }
}

#if FUZZING
  @_cdecl("LLVMFuzzerTestOneInput")
  public func fuzzerTestOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    runOne(UnsafeRawBufferPointer(start: data, count: size))
    return 0
  }
#else
  import Foundation

  @main
  enum TransportFuzzerReplay {
    static func main() throws {
      for path in CommandLine.arguments.dropFirst() {
        let input = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        input.withUnsafeBytes { runOne($0) }
        print("ran \(path) (\(input.count) bytes)")
      }
    }
  }
#endif
