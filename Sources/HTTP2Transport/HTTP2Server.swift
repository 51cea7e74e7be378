public import Logging
package import NIOCore
import NIOPosix
public import RPCCore
public import ServiceLifecycle
import Synchronization

/// The gRPC server: h2c (HTTP/2 with prior knowledge) on SwiftNIO, one event loop per core,
/// nghttp2 per connection. A `Service`: it runs until graceful shutdown, then sends GOAWAY, lets
/// in-flight calls finish within the grace period, and returns.
public final class HTTP2Server: Service {
  public let config: Config
  private let router: RPCRouter
  private let logger: Logger
  private let group: MultiThreadedEventLoopGroup
  private let registry = ConnectionRegistry()
  private let accessLog: AccessLog
  private let bound = Mutex<(port: Int?, waiters: [CheckedContinuation<Int, any Error>])>((nil, []))

  public init(config: Config, router: RPCRouter, logger: Logger) {
    self.config = config
    self.router = router
    self.logger = logger
    self.group = MultiThreadedEventLoopGroup(numberOfThreads: max(1, config.eventLoopThreads))
    self.accessLog = AccessLog(level: config.rpcLogLevel, logger: logger)
  }

  /// The port the server listens on, once it does.
  public var boundPort: Int {
    get async throws {
      try await withCheckedThrowingContinuation { continuation in
        let port = bound.withLock { state -> Int? in
          if let port = state.port { return port }
          state.waiters.append(continuation)
          return nil
        }
        if let port { continuation.resume(returning: port) }
      }
    }
  }

  public func run() async throws {
    let config = config
    let router = router
    let logger = logger
    let registry = registry
    let accessLog = accessLog
    let channel: any Channel
    do {
      channel = try await ServerBootstrap(group: group)
        .serverChannelOption(.backlog, value: 256)
        .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
        .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
        .childChannelOption(.maxMessagesPerRead, value: 16)
        .childChannelInitializer { channel in
          channel.eventLoop.makeCompletedFuture {
            try channel.pipeline.syncOperations.addHandler(
              H2Connection(
                channel: channel, config: config, router: router, logger: logger, registry: registry,
                accessLog: accessLog.buffer(for: channel.eventLoop)))
          }
        }
        .bind(host: config.host, port: config.port).get()
    } catch {
      bound.withLock { state in
        for waiter in state.waiters { waiter.resume(throwing: error) }
        state.waiters.removeAll()
      }
      try? await group.shutdownGracefully()
      throw error
    }
    let port = channel.localAddress?.port ?? config.port
    let waiters = bound.withLock { state in
      state.port = port
      defer { state.waiters.removeAll() }
      return state.waiters
    }
    for waiter in waiters { waiter.resume(returning: port) }
    logger.notice(
      "listening", metadata: ["address": "\(config.host):\(port)", "event_loops": "\(config.eventLoopThreads)"])

    // Wait for graceful shutdown (SIGTERM/SIGINT via the service group).
    await withGracefulShutdownHandler {
      try? await channel.closeFuture.get()
    } onGracefulShutdown: {
      channel.close(promise: nil)
    }
    logger.notice(
      "shutting down: no new connections; draining calls in flight",
      metadata: ["grace_seconds": "\(config.shutdownGracePeriod.components.seconds)"])
    registry.onEachConnectionLoop { $0.goAway() }
    let drained = await registry.waitUntilDrained(timeout: config.shutdownGracePeriod, timer: group.next())
    if !drained {
      logger.warning("grace period over: closing connections with calls still running")
      registry.onEachConnectionLoop { $0.forceClose() }
      _ = await registry.waitUntilDrained(timeout: nil, timer: group.next())
    }
    accessLog.close()
    let totals = registry.totals
    logger.notice(
      "stopped",
      metadata: [
        "rpcs_ok": "\(totals.ok)", "rpcs_failed": "\(totals.failed)", "rpcs_cancelled_by_client": "\(totals.cancelled)",
        "access_log_lines_dropped": "\(accessLog.droppedLines)",
      ])
    try await group.shutdownGracefully()
  }
}

extension HTTP2Server {
  /// The handler every accepted connection gets, on a connection of its own: for drivers that
  /// have no socket, such as the fuzzer on an embedded channel.
  package static func connectionHandler(
    channel: any Channel, config: Config, router: RPCRouter, logger: Logger
  ) -> any ChannelHandler {
    H2Connection(
      channel: channel, config: config, router: router, logger: logger, registry: ConnectionRegistry(), accessLog: nil)
  }
}
