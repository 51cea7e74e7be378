public import Logging
import NIOCore

extension HTTP2Server {
  /// Listening address, limits and timeouts. Every value has a documented default.
  public struct Config: Sendable {
    /// Address to bind; loopback by default.
    public var host: String
    /// Port to bind; 0 picks a free one (see `HTTP2Server.boundPort`).
    public var port: Int
    /// Event loop threads; defaults to the CPUs this process may use.
    public var eventLoopThreads: Int
    /// SETTINGS_MAX_CONCURRENT_STREAMS: calls in flight per connection.
    public var maxConcurrentStreams: UInt32
    /// SETTINGS_MAX_HEADER_LIST_SIZE, and the limit enforced on request headers.
    public var maxHeaderListBytes: Int
    /// Largest request message accepted, compressed or not; larger is RESOURCE_EXHAUSTED.
    public var maxReceiveMessageBytes: Int
    /// Largest response message sent (before compression); a handler's larger message ends its
    /// call with RESOURCE_EXHAUSTED, as gRPC's max send message size does.
    public var maxSendMessageBytes: Int
    /// Most memory decoding one request message may take. protobuf-c sizes its allocations from
    /// a message's shape, so a small message of many tiny repeated elements can ask for far more
    /// than its size; past this it is RESOURCE_EXHAUSTED. nil: 8 x `maxReceiveMessageBytes`.
    public var maxRequestArenaBytes: Int?
    /// SETTINGS_INITIAL_WINDOW_SIZE: per-stream receive window.
    public var initialWindowSize: UInt32
    /// The connection-level receive window.
    public var connectionWindowSize: Int
    /// Response bytes a stream may queue before a streaming handler's `send` waits.
    public var streamHighWaterMark: Int
    /// Longest deadline honoured; a larger `grpc-timeout` is clamped to it.
    public var maxTimeout: Duration
    /// A connection with no open stream for this long is closed (GOAWAY); nil keeps it open.
    public var idleTimeout: Duration?
    /// A connection quiet this long gets a PING, to find peers that vanished; nil never pings.
    public var keepaliveInterval: Duration?
    /// How long a keepalive PING may wait for its ACK before the connection is closed.
    public var keepaliveTimeout: Duration
    /// Clients may ping at most this often without traffic in between (gRPC's enforcement
    /// policy); past `maxPingStrikes` such pings the connection gets GOAWAY ENHANCE_YOUR_CALM.
    public var minClientPingInterval: Duration
    public var maxPingStrikes: Int
    /// How long in-flight calls may run after SIGTERM before connections are closed under them.
    public var shutdownGracePeriod: Duration
    /// The level of the one log line per RPC (method, status, duration, peer).
    public var rpcLogLevel: Logger.Level

    /// Computed once: the event-loop count reads /proc and the cgroup files.
    public static let defaults: Self = {
      Self(
        host: "127.0.0.1", port: 50051, eventLoopThreads: UsableCPUs.count,
        maxConcurrentStreams: 100, maxHeaderListBytes: 16 * 1024,
        maxReceiveMessageBytes: 4 * 1024 * 1024, maxSendMessageBytes: 4 * 1024 * 1024, maxRequestArenaBytes: nil,
        initialWindowSize: 1024 * 1024,
        connectionWindowSize: 8 * 1024 * 1024, streamHighWaterMark: 64 * 1024,
        maxTimeout: .seconds(3600), idleTimeout: .seconds(300), keepaliveInterval: .seconds(7200),
        keepaliveTimeout: .seconds(20), minClientPingInterval: .seconds(300), maxPingStrikes: 2,
        shutdownGracePeriod: .seconds(10),
        rpcLogLevel: .info)
    }()

    /// The arena budget each request message is decoded within.
    public var requestArenaBudget: Int {
      maxRequestArenaBytes ?? maxReceiveMessageBytes.multipliedReportingOverflow(by: 8).partialValue
    }
  }
}
