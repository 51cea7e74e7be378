extension PGPool {
  /// The pool's size, waits, retries and reconnect pacing. Every value has a documented default.
  public struct Config: Sendable {
    /// How each connection reaches the server. Default `PGConnection.Options.defaults` (libpq's
    /// own defaults); the composition root sets `connection.conninfo`.
    public var connection: PGConnection.Options
    /// Connections open at most (made on demand, kept while healthy). Default 10.
    public var maximumConnections: Int
    /// How long a call with no deadline waits for a free connection before `.poolTimeout`.
    /// Default 5 s.
    public var acquireTimeout: Duration
    /// How many times `withTransaction` re-runs a transaction that failed with a serialization
    /// failure (40001) or a deadlock (40P01), after the first attempt. Default 5.
    public var transactionRetries: Int
    /// The pause before each such re-run. Default 5 ms doubling to at most 200 ms, half jittered.
    public var retryBackoff: PGBackoff
    /// The pause between reconnect attempts while the database is unreachable; callers fail
    /// fast with `.connectionLost` in between. Default 50 ms doubling to at most 1 s, so that
    /// service resumes within about a second of the database's return.
    public var reconnectBackoff: PGBackoff

    public init(connection: PGConnection.Options) {
      self = .defaults
      self.connection = connection
    }

    public static var defaults: Self {
      Self(
        connection: .defaults, maximumConnections: 10, acquireTimeout: .seconds(5),
        transactionRetries: 5,
        retryBackoff: PGBackoff(initial: .milliseconds(5), maximum: .milliseconds(200)),
        reconnectBackoff: PGBackoff(initial: .milliseconds(50), maximum: .seconds(1)))
    }

    private init(
      connection: PGConnection.Options, maximumConnections: Int, acquireTimeout: Duration,
      transactionRetries: Int, retryBackoff: PGBackoff, reconnectBackoff: PGBackoff
    ) {
      self.connection = connection
      self.maximumConnections = maximumConnections
      self.acquireTimeout = acquireTimeout
      self.transactionRetries = transactionRetries
      self.retryBackoff = retryBackoff
      self.reconnectBackoff = reconnectBackoff
    }
  }

  /// A snapshot of the pool, for health checks and metrics.
  public struct Statistics: Sendable, Hashable {
    /// Connections open or being opened.
    public var open: Int
    /// Open connections waiting in the pool.
    public var idle: Int
    /// Open connections held by callers.
    public var leased: Int
    /// Callers waiting for a connection.
    public var waiting: Int
    /// False after a failed connect, until one succeeds (report NOT_SERVING meanwhile).
    public var isReachable: Bool

    public init(open: Int, idle: Int, leased: Int, waiting: Int, isReachable: Bool) {
      self.open = open
      self.idle = idle
      self.leased = leased
      self.waiting = waiting
      self.isReachable = isReachable
    }
  }
}

/// The isolation level of a transaction.
public enum PGIsolation: Sendable, Hashable {
  case readCommitted
  case repeatableRead
  /// Truly serializable: conflicting transactions fail with 40001, which `withTransaction`
  /// retries.
  case serializable

  var beginStatement: SQL {
    switch self {
    case .readCommitted: "BEGIN ISOLATION LEVEL READ COMMITTED"
    case .repeatableRead: "BEGIN ISOLATION LEVEL REPEATABLE READ"
    case .serializable: "BEGIN ISOLATION LEVEL SERIALIZABLE"
    }
  }
}
