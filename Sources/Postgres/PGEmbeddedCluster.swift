internal import CLibPQ
import Glibc
public import Logging
public import ServiceLifecycle
import Synchronization

/// A private PostgreSQL cluster for a server started without a database URL.
///
/// On first start it runs `initdb` into `<directory>/data`, then starts `postgres` listening only
/// on a unix socket inside `<directory>` (`listen_addresses = ''`: no TCP port), and creates the
/// database. Later starts reuse the cluster. Stopping is a fast shutdown (`pg_ctl stop -m fast`,
/// SIGINT: sessions are rolled back and closed, the data is checkpointed).
///
/// As root it runs initdb, pg_ctl and postgres as the unprivileged `serverAccount` (through
/// `runuser`) and gives that account the directory; as an ordinary user it runs them as itself.
/// Authentication is `trust`, which is safe only because the directory (and so the socket) is
/// mode 0700: reachable by the server's account and root alone.
///
/// A `Service`: `run()` starts the cluster (unless `start()` already did), waits for graceful
/// shutdown, then stops it. Put it first in the service group, so it stops last.
public final class PGEmbeddedCluster: Service, Sendable {
  public let config: Config
  /// The absolute cluster directory.
  public let directory: String
  private let logger: Logger
  private let started = Mutex(false)
  /// This process's claim on the directory: an exclusive `flock` on `<directory>/owner.lock`, held
  /// from start to stop (-1 when not held). The kernel drops it when the process dies, so a
  /// server left running by a process that crashed is adopted by the next one, and one that a
  /// live process runs is never adopted (and then stopped under it) by a second.
  private let ownership = Mutex<Int32>(-1)

  private static let tools = ["initdb", "pg_ctl", "postgres"]
  /// The install command named when the binaries are missing.
  public static let installCommand = "apt-get install -y postgresql-15"

  public init(config: Config, logger: Logger) {
    self.config = config
    self.logger = logger
    if config.directory.hasPrefix("/") {
      directory = config.directory
    } else {
      let base = PGFiles.currentDirectory() ?? "."
      directory = (base == "/" ? "" : base) + "/" + config.directory
    }
  }

  deinit { abandon() }

  /// The server's data directory (PGDATA).
  public var dataDirectory: String { directory + "/data" }
  /// The server's log file.
  public var logFile: String { directory + "/postgres.log" }

  /// How to connect to the cluster's database (over its socket, as the superuser).
  public var connectionOptions: PGConnection.Options {
    connectionOptions(database: config.database)
  }

  /// How to connect to `database` in the cluster.
  public func connectionOptions(database: String) -> PGConnection.Options {
    PGConnection.Options(
      conninfo: "",
      overrides: [
        "host": directory, "port": "\(config.port)", "user": config.superuser, "dbname": database,
      ])
  }

  // MARK: service

  /// Starts the cluster if `start()` has not, waits for graceful shutdown (or cancellation),
  /// then stops the cluster.
  public func run() async throws {
    if !started.withLock({ $0 }) { try await start() }
    try? await gracefulShutdown()
    try await stop()
  }

  /// Creates the cluster if needed, starts the server if it is not running, and creates the
  /// database if it is missing. Safe to call again once it returned.
  ///
  /// While another live process runs the cluster (a server on the same directory), this fails
  /// with `.inUse`, unless `sharing`: a short-lived tool (listing jobs, say) then uses the running
  /// cluster (`.shared`) and leaves it running when it stops.
  @discardableResult
  public func start(sharing: Bool = false) async throws -> StartOutcome {
    let outcome = try await PGThread.runDetached { [self] in try startServer(sharing: sharing) }
    try await ensureDatabase()
    started.withLock { $0 = true }
    logger.notice(
      "embedded PostgreSQL ready",
      metadata: [
        "db.directory": "\(directory)", "db.outcome": "\(outcome)",
        "db.database": "\(config.database)",
      ])
    return outcome
  }

  /// Stops the server (fast shutdown; immediate if that does not finish in `stopTimeout`), unless
  /// another process runs it (`.shared`).
  public func stop() async throws {
    let owned = ownership.withLock { $0 >= 0 }
    if owned { try await PGThread.runDetached { [self] in try stopServer() } }
    abandon()
    started.withLock { $0 = false }
    logger.notice(
      owned ? "embedded PostgreSQL stopped" : "embedded PostgreSQL left running for the process that runs it",
      metadata: ["db.directory": "\(directory)"])
  }

  // MARK: start, blocking (on a thread of our own)

  /// Who runs the PostgreSQL tools: ourselves, or (as root) the server account via runuser.
  private struct Runner {
    var runuser: String?
    var account: String
    var uid: uid_t
    var gid: gid_t
    var binaries: String

    /// The argument vector that runs `tool` (a PostgreSQL binary, or an absolute path) as the runner.
    func command(_ tool: String, _ arguments: [String]) -> [String] {
      let path = tool.hasPrefix("/") ? tool : binaries + "/" + tool
      guard let runuser else { return [path] + arguments }
      return [runuser, "-u", account, "--", path] + arguments
    }
  }

  private func startServer(sharing: Bool) throws -> StartOutcome {
    let runner = try makeRunner()
    try prepareDirectory(runner)
    guard try claimDirectory() else {
      // Another live process runs the cluster (or is starting or stopping it).
      guard sharing, PGFiles.exists(dataDirectory + "/postmaster.pid"), waitUntilAccepting(timeout: .seconds(5)) else {
        throw PGEmbeddedClusterError(
          .inUse,
          "another running process uses the PostgreSQL directory \(directory); stop it, or use another directory")
      }
      return .shared
    }
    var outcome = StartOutcome.started
    if !PGFiles.exists(dataDirectory + "/PG_VERSION") {
      try initialize(runner)
      outcome = .initialized
    }
    try writeSettings(runner)
    if PGFiles.exists(dataDirectory + "/postmaster.pid"),
      try run(runner.command("pg_ctl", ["status", "--pgdata=\(dataDirectory)"])).status == 0
    {
      // Left running by an earlier process that did not stop it: adopt it if it answers.
      guard waitUntilAccepting(timeout: .seconds(5)) else {
        throw PGEmbeddedClusterError(
          .startFailed,
          "a PostgreSQL server runs on \(dataDirectory) but does not answer on its socket in \(directory)",
          details: PGFiles.tail(logFile))
      }
      return .adopted
    }
    let seconds = max(1, config.startTimeout.components.seconds)
    let start = try run(
      runner.command(
        "pg_ctl",
        [
          "start", "--pgdata=\(dataDirectory)", "--log=\(logFile)", "--wait",
          "--timeout=\(seconds)", "--silent",
        ]))
    guard start.status == 0, waitUntilAccepting(timeout: .seconds(10)) else {
      throw PGEmbeddedClusterError(
        .startFailed, "PostgreSQL did not start in \(directory); see \(logFile)",
        details: start.output + (PGFiles.tail(logFile) ?? ""))
    }
    return outcome
  }

  private func makeRunner() throws -> Runner {
    guard let binaries = Self.findBinaries(config.binarySearchPath) else {
      throw PGEmbeddedClusterError(
        .binariesNotFound,
        "PostgreSQL server binaries (initdb, pg_ctl, postgres) not found in "
          + "\(config.binarySearchPath.joined(separator: ":")); install them with: \(Self.installCommand)"
      )
    }
    guard geteuid() == 0 else {
      return Runner(runuser: nil, account: "", uid: geteuid(), gid: getegid(), binaries: binaries)
    }
    guard let (uid, gid) = Self.lookUpAccount(config.serverAccount) else {
      throw PGEmbeddedClusterError(
        .noServerAccount,
        "running as root, but there is no '\(config.serverAccount)' account to run PostgreSQL as "
          + "(initdb and postgres refuse root); install postgresql-15 (it creates one) or run as an ordinary user"
      )
    }
    let candidates = ["/usr/sbin/runuser", "/sbin/runuser", "/usr/bin/runuser", "/bin/runuser"]
    guard let runuser = candidates.first(where: PGFiles.isExecutable) else {
      throw PGEmbeddedClusterError(
        .noServerAccount,
        "running as root needs runuser (util-linux) to start PostgreSQL as '\(config.serverAccount)'"
      )
    }
    return Runner(
      runuser: runuser, account: config.serverAccount, uid: uid, gid: gid, binaries: binaries)
  }

  private func prepareDirectory(_ runner: Runner) throws {
    func unusable(_ message: String) -> PGEmbeddedClusterError {
      PGEmbeddedClusterError(.directoryUnusable, message)
    }
    // postgresql.conf quotes the socket directory: keep to characters that need no escaping.
    if directory.contains(where: { $0 == "'" || $0 == "\\" || $0.isNewline }) {
      throw unusable(
        "the PostgreSQL directory \(directory) contains a quote, backslash or newline; choose another"
      )
    }
    // A unix socket path ("<directory>/.s.PGSQL.<port>") holds at most 107 bytes.
    let socket = directory + "/.s.PGSQL.\(config.port)"
    if socket.utf8.count > 107 {
      throw unusable(
        "the PostgreSQL socket path \(socket) is longer than 107 bytes; choose a shorter directory")
    }
    do {
      try PGFiles.makeDirectories(directory, mode: 0o700)
      if runner.runuser != nil {
        try PGFiles.changeOwner(directory, uid: runner.uid, gid: runner.gid)
      }
      try PGFiles.changeMode(directory, 0o700)
    } catch {
      throw unusable("cannot prepare the PostgreSQL directory: \(error.message)")
    }
    if runner.runuser == nil {
      guard PGFiles.owner(directory) == geteuid() else {
        throw unusable("the PostgreSQL directory \(directory) belongs to another user")
      }
    } else {
      // Every parent must let the server account through (e.g. /root is 0700).
      let test =
        ["/usr/bin/test", "/bin/test"].first(where: PGFiles.isExecutable) ?? "/usr/bin/test"
      guard try run(runner.command(test, ["-w", directory, "-a", "-x", directory])).status == 0
      else {
        throw unusable(
          "the '\(runner.account)' account cannot reach \(directory) (a parent directory is closed to it); "
            + "choose a directory it can reach, e.g. under /var/lib or /tmp")
      }
    }
  }

  private func initialize(_ runner: Runner) throws {
    if PGFiles.exists(dataDirectory) {
      throw PGEmbeddedClusterError(
        .directoryUnusable,
        "\(dataDirectory) exists but is not a PostgreSQL data directory; move it away")
    }
    // initdb into a staging directory renamed into place at the end, so that an interrupted
    // first start leaves nothing that looks like a cluster.
    let staging = directory + "/data.initdb"
    if PGFiles.exists(staging) {
      _ = try run(["/bin/rm", "-rf", "--", staging])
    }
    var arguments = [
      "--pgdata=\(staging)", "--username=\(config.superuser)", "--auth=trust", "--encoding=UTF8",
      "--locale=\(Self.preferredLocale)", "--no-instructions",
    ]
    if !config.durable { arguments.append("--no-sync") }
    logger.notice(
      "creating the embedded PostgreSQL cluster (initdb)",
      metadata: ["db.directory": "\(directory)"])
    let initdb = try run(runner.command("initdb", arguments))
    try? PGFiles.write(
      initdb.output, to: directory + "/initdb.log", mode: 0o600,
      owner: runner.runuser == nil ? nil : (runner.uid, runner.gid))
    guard initdb.status == 0 else {
      throw PGEmbeddedClusterError(
        .initdbFailed, "initdb failed (exit \(initdb.status)); see \(directory)/initdb.log",
        details: initdb.output)
    }
    do {
      try PGFiles.append(
        "\n# The marketplace server rewrites this file at every start.\ninclude = 'marketplace.conf'\n",
        to: staging + "/postgresql.conf")
      try PGFiles.rename(staging, to: dataDirectory)
    } catch {
      throw PGEmbeddedClusterError(.initdbFailed, "cannot finish the new cluster: \(error.message)")
    }
  }

  /// Writes `data/marketplace.conf`, which `postgresql.conf` includes: the socket-only listening
  /// and, for throwaway clusters, durability off.
  private func writeSettings(_ runner: Runner) throws {
    var settings = """
      # Written by the marketplace server (PGEmbeddedCluster) at every start; edits are overwritten.
      # A unix socket in the cluster directory, mode 0700, and no TCP port at all.
      listen_addresses = ''
      unix_socket_directories = '\(directory)'
      unix_socket_permissions = 0700
      port = \(config.port)
      timezone = 'UTC'
      log_timezone = 'UTC'
      lc_messages = 'C'

      """
    if !config.durable {
      settings += """
        # Throwaway cluster: speed over durability.
        fsync = off
        synchronous_commit = off
        full_page_writes = off

        """
    }
    do {
      try PGFiles.write(
        settings, to: dataDirectory + "/marketplace.conf", mode: 0o600,
        owner: runner.runuser == nil ? nil : (runner.uid, runner.gid))
    } catch {
      throw PGEmbeddedClusterError(
        .directoryUnusable, "cannot write the server settings: \(error.message)")
    }
  }

  /// Takes the directory's lock (kept until `stop`); false when another live process holds it.
  private func claimDirectory() throws(PGEmbeddedClusterError) -> Bool {
    try ownership.withLock { descriptor throws(PGEmbeddedClusterError) -> Bool in
      guard descriptor < 0 else { return true }
      let path = directory + "/owner.lock"
      let opened = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
      guard opened >= 0 else {
        throw PGEmbeddedClusterError(.directoryUnusable, "cannot open \(path) (errno \(errno))")
      }
      guard flock(opened, LOCK_EX | LOCK_NB) == 0 else {
        close(opened)
        return false
      }
      descriptor = opened
      return true
    }
  }

  /// Gives up the directory's lock without stopping the server, as a process that dies does.
  func abandon() {
    ownership.withLock { descriptor in
      if descriptor >= 0 { close(descriptor) }
      descriptor = -1
    }
  }

  // MARK: stop, blocking

  private func stopServer() throws {
    guard PGFiles.exists(dataDirectory + "/postmaster.pid") else { return }
    let runner = try makeRunner()
    // A stale postmaster.pid (the server died): nothing to stop; the next start clears it.
    let status = try run(runner.command("pg_ctl", ["status", "--pgdata=\(dataDirectory)"]))
    guard status.status == 0 else { return }
    let seconds = max(1, config.stopTimeout.components.seconds)
    let fast = try run(
      runner.command(
        "pg_ctl",
        [
          "stop", "--pgdata=\(dataDirectory)", "--mode=fast", "--wait", "--timeout=\(seconds)",
          "--silent",
        ]))
    if fast.status == 0 { return }
    logger.warning("fast shutdown of the embedded PostgreSQL failed; trying immediate")
    let immediate = try run(
      runner.command(
        "pg_ctl",
        [
          "stop", "--pgdata=\(dataDirectory)", "--mode=immediate", "--wait", "--timeout=10",
          "--silent",
        ]))
    guard immediate.status == 0 else {
      throw PGEmbeddedClusterError(
        .stopFailed, "PostgreSQL in \(directory) did not stop",
        details: fast.output + immediate.output)
    }
  }

  // MARK: helpers

  private func run(_ arguments: [String]) throws -> PGChildProcess.Outcome {
    // A fixed environment: nothing of ours (PGDATA, PGPORT, ...) reaches the tools.
    let environment = ["PATH": "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin", "LC_ALL": "C"]
    do {
      return try PGChildProcess.run(arguments, environment: environment, directory: directory)
    } catch {
      throw PGEmbeddedClusterError(
        .startFailed, "cannot run \(error.program): \(String(cString: strerror(error.errno)))")
    }
  }

  /// Polls the socket until the server accepts connections (PQping), up to `timeout`.
  private func waitUntilAccepting(timeout: Duration) -> Bool {
    let deadline = ContinuousClock.now + timeout
    let parameters = [
      ("host", directory), ("port", "\(config.port)"), ("user", config.superuser),
      ("dbname", "postgres"),
      ("connect_timeout", "2"),
    ]
    while true {
      if Self.ping(parameters) { return true }
      if ContinuousClock.now >= deadline { return false }
      var pause = timespec(tv_sec: 0, tv_nsec: 50_000_000)
      var remaining = timespec()
      while nanosleep(&pause, &remaining) != 0 && errno == EINTR { pause = remaining }
    }
  }

  private static func ping(_ parameters: [(String, String)]) -> Bool {
    withKeywordValues(parameters) { PQpingParams($0, $1, 0) } == PQPING_OK
  }

  /// Creates the configured database if it does not exist yet.
  private func ensureDatabase() async throws {
    let connection = try await PGConnection.connect(
      options: connectionOptions(database: "postgres"), logger: logger)
    let database = config.database
    do {
      try await connection.withSession { session in
        guard try session.query("SELECT 1 FROM pg_database WHERE datname = \(database)").isEmpty
        else { return }
        do {
          try session.execute("CREATE DATABASE \(identifier: database)")
        } catch let error as PGError where error.sqlState == .duplicateDatabase {
          // Created concurrently: fine.
        }
      }
    } catch {
      await connection.close()
      throw error
    }
    await connection.close()
  }

  /// The first directory on `searchPath` holding initdb, pg_ctl and postgres.
  static func findBinaries(_ searchPath: [String]) -> String? {
    for entry in searchPath {
      for directory in PGFiles.glob(entry)
      where tools.allSatisfy({ PGFiles.isExecutable(directory + "/" + $0) }) {
        return directory
      }
    }
    return nil
  }

  private static func lookUpAccount(_ name: String) -> (uid_t, gid_t)? {
    var entry = passwd()
    var found: UnsafeMutablePointer<passwd>?
    var buffer = [CChar](repeating: 0, count: 16 * 1024)
    let rc = getpwnam_r(name, &entry, &buffer, buffer.count, &found)
    guard rc == 0, found != nil else { return nil }
    return (entry.pw_uid, entry.pw_gid)
  }

  /// C.UTF-8 when the C library has it (so lower() and upper() know Unicode, which the
  /// case-insensitive email and city indexes rely on), else C.
  private static var preferredLocale: String {
    guard let locale = newlocale(Int32(1) << LC_CTYPE, "C.UTF-8", nil) else { return "C" }
    freelocale(locale)
    return "C.UTF-8"
  }
}
