import InMemoryLogging
import Logging
import MarketplaceProtos
import NIOCore
import NIOEmbedded
import RPCCore
import StandardServices
import Testing

@testable import HTTP2Transport

/// The transport on an embedded channel: a real nghttp2 client on one side, our H2Connection on
/// the other, bytes passed in memory. Inline (no-task) handlers answer within the exchange.
final class EmbeddedServer {
  let channel = EmbeddedChannel()
  let client = H2TestClient()

  init(
    config: HTTP2Server.Config = .defaults,
    router: RPCRouter = StandardServiceSet.router(health: HealthService(), testServices: true),
    logger: Logger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }
  ) throws {
    try channel.pipeline.syncOperations.addHandler(
      H2Connection(
        channel: channel, config: config, router: router, logger: logger, registry: ConnectionRegistry(),
        accessLog: nil))
    try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
    try exchange()
  }

  /// Sends what the client has queued, runs the loop, and hands the server's bytes to the client,
  /// until neither side has more to say.
  func exchange() throws {
    for _ in 0..<20 {
      let toServer = client.outbound(allocator: channel.allocator)
      if toServer.readableBytes > 0 { try channel.writeInbound(toServer) }
      channel.embeddedEventLoop.run()
      var fromServer = false
      while let buffer = try channel.readOutbound(as: ByteBuffer.self) {
        client.receive(buffer)
        fromServer = true
      }
      if toServer.readableBytes == 0 && !fromServer { return }
    }
  }

  func call(
    path: String, body: [UInt8]?, headers: [(String, String)] = [], method: String = "POST",
    contentType: String? = "application/grpc"
  ) throws -> H2TestClient.Response {
    let id = client.request(path: path, method: method, contentType: contentType, extraHeaders: headers, body: body)
    try exchange()
    return client.responses[id] ?? H2TestClient.Response()
  }
}

@Suite("HTTP/2 transport on an embedded channel")
struct H2ConnectionTests {
  static let unaryPath = "/grpc.testing.BenchmarkService/UnaryCall"

  static func simpleRequest(size: Int32) -> [UInt8] {
    let request = Grpc_Testing_SimpleRequest.builder(in: Arena.make())
    request.responseSize = size
    request.payload.setBody(Array(repeating: 1, count: 100))
    return request.serializedBytes()
  }

  @Test("a unary call: headers, one message, then trailers with grpc-status 0")
  func unary() throws {
    let server = try EmbeddedServer()
    let response = try server.call(path: Self.unaryPath, body: H2TestClient.frame(Self.simpleRequest(size: 10)))
    #expect(response.header(":status") == "200")
    #expect(response.header("content-type") == "application/grpc")
    #expect(response.header("grpc-status") == nil, "a success is not trailers-only")
    #expect(response.trailer("grpc-status") == "0")
    #expect(response.closed && response.resetCode == nil)
    let message = try #require(response.messages.first)
    let view = try Grpc_Testing_SimpleResponse.parse(message)
    #expect(view.payload?.body.count == 10)
  }

  @Test("a message split into 3-byte DATA frames arrives whole", arguments: [1, 3, 7])
  func splitFrames(bytes: Int) throws {
    let server = try EmbeddedServer()
    server.client.maxDataFrameBytes = bytes
    let response = try server.call(path: Self.unaryPath, body: H2TestClient.frame(Self.simpleRequest(size: 33)))
    #expect(response.trailer("grpc-status") == "0")
    #expect(try Grpc_Testing_SimpleResponse.parse(#require(response.messages.first)).payload?.body.count == 33)
  }

  @Test("many calls on one connection")
  func manyCalls() throws {
    let server = try EmbeddedServer()
    let ids = (0..<50).map { size in
      server.client.request(path: Self.unaryPath, body: H2TestClient.frame(Self.simpleRequest(size: Int32(size))))
    }
    try server.exchange()
    for (size, id) in ids.enumerated() {
      let response = try #require(server.client.responses[id])
      #expect(response.trailer("grpc-status") == "0")
      #expect(try Grpc_Testing_SimpleResponse.parse(#require(response.messages.first)).payload?.body.count == size)
    }
  }

  @Test(
    "unknown services and methods: trailers-only UNIMPLEMENTED",
    arguments: [
      ("/grpc.testing.BenchmarkService/Nope", "unknown method Nope for service grpc.testing.BenchmarkService"),
      ("/no.Such/Method", "unknown service no.Such"),
    ])
  func unimplemented(path: String, message: String) throws {
    let server = try EmbeddedServer()
    let response = try server.call(path: path, body: H2TestClient.frame([]))
    #expect(response.isTrailersOnly)
    #expect(response.header(":status") == "200")
    #expect(response.header("grpc-status") == "12")
    #expect(response.header("grpc-message") == message)
    #expect(response.data.isEmpty)
  }

  @Test("a request that is not gRPC gets an HTTP error and no grpc-status")
  func notGRPC() throws {
    let server = try EmbeddedServer()
    let get = try server.call(path: Self.unaryPath, body: nil, method: "GET")
    #expect(get.header(":status") == "405")
    let text = try server.call(path: Self.unaryPath, body: Array("hi".utf8), contentType: "text/plain")
    #expect(text.header(":status") == "415")
    #expect(text.grpcStatus == nil)
    let json = try server.call(path: Self.unaryPath, body: [], contentType: "application/grpc+json")
    #expect(json.header(":status") == "415")
  }

  @Test("application/grpc+proto is gRPC")
  func protoSuffix() throws {
    let server = try EmbeddedServer()
    let response = try server.call(
      path: Self.unaryPath, body: H2TestClient.frame(Self.simpleRequest(size: 1)), contentType: "application/grpc+proto"
    )
    #expect(response.trailer("grpc-status") == "0")
  }

  @Test("an unknown grpc-encoding is UNIMPLEMENTED, naming what is accepted")
  func unknownEncoding() throws {
    let server = try EmbeddedServer()
    let response = try server.call(
      path: Self.unaryPath, body: H2TestClient.frame([1, 2, 3], compressed: true),
      headers: [("grpc-encoding", "snappy")])
    #expect(response.grpcStatus == "12")
    #expect(response.header("grpc-accept-encoding") == "identity,gzip,deflate")
  }

  @Test("a message over the limit is RESOURCE_EXHAUSTED; the connection serves the next call")
  func tooLarge() throws {
    var config = HTTP2Server.Config.defaults
    config.maxReceiveMessageBytes = 64
    let server = try EmbeddedServer(config: config)
    let large = try server.call(path: Self.unaryPath, body: H2TestClient.frame(Self.simpleRequest(size: 1)))
    #expect(large.grpcStatus == "8")
    let small = try server.call(path: "/grpc.testing.TestService/EmptyCall", body: H2TestClient.frame([]))
    #expect(small.trailer("grpc-status") == "0", "an async (task) handler answered too")
  }

  @Test("bytes that do not decode are INTERNAL, and the stream ends cleanly")
  func garbage() throws {
    let server = try EmbeddedServer()
    let response = try server.call(path: Self.unaryPath, body: H2TestClient.frame([0xff, 0xff, 0xff, 0xff]))
    #expect(response.grpcStatus == "13")
    #expect(response.header("grpc-message")?.contains("could not decode") == true)
    let next = try server.call(path: Self.unaryPath, body: H2TestClient.frame(Self.simpleRequest(size: 2)))
    #expect(next.trailer("grpc-status") == "0")
  }

  @Test("a malformed grpc-timeout is rejected")
  func badTimeout() throws {
    let server = try EmbeddedServer()
    let response = try server.call(
      path: Self.unaryPath, body: H2TestClient.frame(Self.simpleRequest(size: 2)), headers: [("grpc-timeout", "soon")])
    #expect(response.grpcStatus == "13")
  }

  @Test("graceful shutdown sends GOAWAY with no error")
  func goAway() throws {
    let server = try EmbeddedServer()
    _ = try server.call(path: Self.unaryPath, body: H2TestClient.frame(Self.simpleRequest(size: 1)))
    let connection = try server.channel.pipeline.syncOperations.handler(type: H2Connection.self)
    connection.goAway()
    try server.exchange()
    #expect(server.client.goawayErrorCode == 0)
  }

  static let unsized = MethodDescriptor(service: "test.Limits", method: "Unsized")

  /// A router whose one method answers with a payload of the requested size, unchecked.
  static func unsizedRouter() -> RPCRouter {
    var router = RPCRouter()
    router.registerInlineUnary(Self.unsized, Grpc_Testing_SimpleRequest.self, Grpc_Testing_SimpleResponse.self) {
      request, _, response in
      response.payload.setBody(count: Int(request.responseSize)) { $0.initializeMemory(as: UInt8.self, repeating: 7) }
    }
    return router
  }

  @Test("a response over the max send size ends its call with RESOURCE_EXHAUSTED, whoever built it")
  func sendLimit() throws {
    var config = HTTP2Server.Config.defaults
    config.maxSendMessageBytes = 1000
    let server = try EmbeddedServer(config: config, router: Self.unsizedRouter())
    let fits = try server.call(path: Self.unsized.path, body: H2TestClient.frame(Self.simpleRequest(size: 900)))
    #expect(fits.grpcStatus == "0")
    #expect(try Grpc_Testing_SimpleResponse.parse(#require(fits.messages.first)).payload?.body.count == 900)
    let tooBig = try server.call(path: Self.unsized.path, body: H2TestClient.frame(Self.simpleRequest(size: 2000)))
    #expect(tooBig.grpcStatus == "8")
    #expect(tooBig.messages.isEmpty)
    // The connection goes on.
    let again = try server.call(path: Self.unsized.path, body: H2TestClient.frame(Self.simpleRequest(size: 10)))
    #expect(again.grpcStatus == "0")
  }

  /// An error whose debug text quotes data, as a database error's DETAIL line does.
  struct DataQuotingError: Error, CustomStringConvertible, CustomDebugStringConvertible {
    var description: String { "DataQuotingError" }
    var debugDescription: String { "DataQuotingError(detail: Key (email)=(alice@example.com) already exists.)" }
  }

  @Test("a handler's unexpected error is logged by type and description, never its debug text")
  func errorLogsQuoteNoData() throws {
    let logs = InMemoryLogHandler()
    var router = RPCRouter()
    router.registerInlineUnary(Self.unsized, Grpc_Testing_SimpleRequest.self, Grpc_Testing_SimpleResponse.self) {
      _, _, _ in throw DataQuotingError()
    }
    let server = try EmbeddedServer(router: router, logger: Logger(label: "test") { _ in logs })
    let response = try server.call(path: Self.unsized.path, body: H2TestClient.frame(Self.simpleRequest(size: 1)))
    #expect(response.grpcStatus == "13")
    let failure = try #require(logs.entries.first { $0.message == "handler failed" })
    #expect(failure.metadata["error"] == "DataQuotingError")
    let everything = logs.entries.map { "\($0.message) \($0.metadata)" }.joined(separator: "\n")
    #expect(!everything.contains("alice@example.com"))
  }
}
