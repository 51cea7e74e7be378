extension PGClient {
  /// How many connections, how deep their pipelines, and the pacing of retries and reconnects.
  /// Every value has a documented default.
  public struct Config: Sendable {
    /// How each connection reaches the server. Default `PGConnection.Options.defaults` (libpq's
    /// own defaults); the composition root sets `connection.conninfo`.
    public var connection: PGConnection.Options
    /// Connections open at most (made on demand, kept while healthy). Default 10.
    public var maximumConnections: Int
    /// Requests in flight on one connection at most: more share a round trip, but each waits for
    /// those ahead of it. Default 8.
    public var pipelineDepth: Int
    /// A connection that has not answered for this long takes no more requests into its
    /// pipeline: they wait in the queue, where cancellation and deadlines can still withdraw them
    /// before they run. Default 2 ms.
    public var pipelineWindow: Duration
    /// How many times a transaction that failed with a serialization failure (40001) or a
    /// deadlock (40P01) runs again, after the first attempt. Default 5.
    public var transactionRetries: Int
    /// The pause before each such re-run. Default 5 ms doubling to at most 200 ms, half jittered.
    public var retryBackoff: PGBackoff
    /// The pause between connect attempts while the database is unreachable; calls fail fast
    /// with `.connectionLost` in between. Default 50 ms doubling to at most 1 s, so that service
    /// resumes within about a second of the database's return.
    public var reconnectBackoff: PGBackoff

    public init(connection: PGConnection.Options) {
      self.connection = connection
      self.maximumConnections = 10
      self.pipelineDepth = 8
      self.pipelineWindow = .milliseconds(2)
      self.transactionRetries = 5
      self.retryBackoff = PGBackoff(initial: .milliseconds(5), maximum: .milliseconds(200))
      self.reconnectBackoff = PGBackoff(initial: .milliseconds(50), maximum: .seconds(1))
    }

    public static var defaults: Self { Self(connection: .defaults) }
  }

  /// A snapshot of the client, for health checks and metrics.
  public struct Statistics: Sendable, Hashable {
    /// Connections open or being opened.
    public var open = 0
    /// Requests sent and not answered yet.
    public var inFlight = 0
    /// Requests waiting for a connection.
    public var waiting = 0
    /// False after a failed connect, until one succeeds.
    public var isReachable = true

    public init(open: Int = 0, inFlight: Int = 0, waiting: Int = 0, isReachable: Bool = true) {
      self.open = open
      self.inFlight = inFlight
      self.waiting = waiting
      self.isReachable = isReachable
    }
  }
}
