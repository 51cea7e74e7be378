extension PGEmbeddedCluster {
  /// Where the private cluster lives and how it runs. Every value has a documented default.
  public struct Config: Sendable {
    /// The cluster's directory: `data/` (PGDATA), the unix socket, `postgres.log`, `initdb.log`.
    /// A relative path is resolved against the working directory when the cluster value is made.
    /// Default `.marketplace-data/postgres` (git-ignored).
    public var directory: String
    /// The database created on first start, which `connectionOptions` names. Default `marketplace`.
    public var database: String
    /// The superuser role initdb creates, which the server connects as. Default `postgres`.
    public var superuser: String
    /// Names the socket file (`.s.PGSQL.<port>`); no TCP port is ever opened. Default 5432.
    public var port: Int
    /// The unprivileged OS account that runs initdb and postgres when this process runs as root
    /// (both refuse root). Default `postgres`, the account Debian's postgresql packages create.
    public var serverAccount: String
    /// Directories searched in order for `initdb`, `pg_ctl` and `postgres`. An entry may contain a
    /// `*` (glob), tried highest version first. The composition root puts the PATH entries in
    /// front (a library does not read the environment). Default `["/usr/lib/postgresql/*/bin"]`.
    public var binarySearchPath: [String]
    /// fsync, synchronous commit and full-page writes on. Turn off only for clusters a test
    /// throws away: faster, but a machine crash can corrupt the data. Default true.
    public var durable: Bool
    /// How long `pg_ctl` may take to start the server. Default 60 s.
    public var startTimeout: Duration
    /// How long a fast shutdown may take before an immediate one. Default 30 s.
    public var stopTimeout: Duration

    public init(directory: String) {
      self = .defaults
      self.directory = directory
    }

    public static var defaults: Self {
      Self(
        directory: ".marketplace-data/postgres", database: "marketplace", superuser: "postgres",
        port: 5432, serverAccount: "postgres", binarySearchPath: ["/usr/lib/postgresql/*/bin"],
        durable: true, startTimeout: .seconds(60), stopTimeout: .seconds(30))
    }

    private init(
      directory: String, database: String, superuser: String, port: Int, serverAccount: String,
      binarySearchPath: [String], durable: Bool, startTimeout: Duration, stopTimeout: Duration
    ) {
      self.directory = directory
      self.database = database
      self.superuser = superuser
      self.port = port
      self.serverAccount = serverAccount
      self.binarySearchPath = binarySearchPath
      self.durable = durable
      self.startTimeout = startTimeout
      self.stopTimeout = stopTimeout
    }
  }

  /// What `start()` did.
  public enum StartOutcome: Sendable, Hashable {
    /// Created the cluster (initdb) and the database, then started the server.
    case initialized
    /// Started the server on the existing cluster.
    case started
    /// Found the server already running on the cluster (an earlier process died without
    /// stopping it) and adopted it. A server that a live process runs is never adopted: that
    /// start fails with `.inUse`, or, when sharing, uses it as `.shared`.
    case adopted
    /// Another live process runs the server; this one uses it and leaves it running at stop.
    case shared
  }
}

/// Why the embedded cluster could not start or stop. `description` is one line that says what to
/// do; `debugDescription` adds the tool's output or the server log's tail.
public struct PGEmbeddedClusterError: Error, Sendable, CustomStringConvertible,
  CustomDebugStringConvertible
{
  public enum Kind: Sendable, Hashable {
    /// No PostgreSQL server binaries were found.
    case binariesNotFound
    /// Running as root, and the unprivileged account to run PostgreSQL as does not exist.
    case noServerAccount
    /// The directory cannot be created, used or reached by the server's account.
    case directoryUnusable
    /// initdb failed.
    case initdbFailed
    /// Another live process uses the cluster's directory.
    case inUse
    /// The server did not start, or does not answer on its socket.
    case startFailed
    /// The server did not stop.
    case stopFailed
  }

  public var kind: Kind
  public var message: String
  /// Output of the failing tool, or the tail of the server log.
  public var details: String?

  public init(_ kind: Kind, _ message: String, details: String? = nil) {
    self.kind = kind
    self.message = message
    self.details = details
  }

  public var description: String { message }

  public var debugDescription: String {
    guard let details, !details.isEmpty else { return message }
    return message + "\n" + details
  }
}
