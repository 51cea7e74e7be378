import Glibc

/// Runs a program with an argument vector (posix_spawn: no shell, so no quoting of input), waits
/// for it, and returns its exit status and combined stdout/stderr. Blocking: call it on a thread
/// of our own (`PGThread.runDetached`), never on an event loop or the cooperative pool.
enum PGChildProcess {
  struct Outcome: Sendable {
    /// The exit code, or 128 + the signal number if a signal ended it.
    var status: Int32
    /// stdout and stderr interleaved, at most the last 64 KiB.
    var output: String
  }

  struct SpawnError: Error, Sendable {
    var program: String
    var errno: Int32
  }

  private typealias AddChdir =
    @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>?, UnsafePointer<CChar>?) ->
    Int32
  private typealias AddClosefrom =
    @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>?, Int32) -> Int32

  /// glibc's `posix_spawn_file_actions_addchdir_np` (2.29+) and `..._addclosefrom_np` (2.34+),
  /// looked up at run time: Swift's Glibc module does not import GNU extensions.
  private static let addChdir: AddChdir? = symbol("posix_spawn_file_actions_addchdir_np")
  private static let addClosefrom: AddClosefrom? = symbol(
    "posix_spawn_file_actions_addclosefrom_np")

  private static func symbol<F>(_ name: String) -> F? {
    guard let handle = dlopen(nil, RTLD_NOW), let pointer = dlsym(handle, name) else { return nil }
    return unsafeBitCast(pointer, to: F.self)
  }

  /// Runs `arguments[0]` (an absolute path) with `arguments`, exactly `environment`, in
  /// `directory` (if given), stdin from /dev/null, no other inherited descriptors, and every
  /// signal at its default disposition and unblocked (whatever this process ignores or blocks).
  static func run(_ arguments: [String], environment: [String: String], directory: String?)
    throws(SpawnError)
    -> Outcome
  {
    precondition(arguments.first?.hasPrefix("/") == true, "PGChildProcess needs an absolute path")
    var pipeEnds: [Int32] = [-1, -1]
    guard pipe(&pipeEnds) == 0 else { throw SpawnError(program: arguments[0], errno: errno) }
    // Close-on-exec, so that a child spawned concurrently by another thread does not keep our
    // pipe open (the dup2 below clears the flag on the child's own copies).
    _ = fcntl(pipeEnds[0], F_SETFD, FD_CLOEXEC)
    _ = fcntl(pipeEnds[1], F_SETFD, FD_CLOEXEC)

    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
    posix_spawn_file_actions_adddup2(&actions, pipeEnds[1], 1)
    posix_spawn_file_actions_adddup2(&actions, pipeEnds[1], 2)
    if let directory, let addChdir { _ = addChdir(&actions, directory) }
    if let addClosefrom { _ = addClosefrom(&actions, 3) }

    var attributes = posix_spawnattr_t()
    posix_spawnattr_init(&attributes)
    defer { posix_spawnattr_destroy(&attributes) }
    var allSignals = sigset_t()
    sigfillset(&allSignals)
    var noSignals = sigset_t()
    sigemptyset(&noSignals)
    posix_spawnattr_setsigdefault(&attributes, &allSignals)
    posix_spawnattr_setsigmask(&attributes, &noSignals)
    posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))

    let argv = arguments.map { strdup($0) } + [nil]
    let envp =
      environment.sorted { $0.key < $1.key }.map { strdup("\($0.key)=\($0.value)") } + [nil]
    defer {
      for pointer in argv + envp { free(pointer) }
    }
    var pid: pid_t = 0
    let rc = posix_spawn(&pid, arguments[0], &actions, &attributes, argv, envp)
    close(pipeEnds[1])
    guard rc == 0 else {
      close(pipeEnds[0])
      throw SpawnError(program: arguments[0], errno: rc)
    }

    let limit = 64 * 1024
    var output: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 4096)
    while true {
      let count = buffer.withUnsafeMutableBytes { read(pipeEnds[0], $0.baseAddress, $0.count) }
      if count > 0 {
        output += buffer[0..<count]
        if output.count > 2 * limit { output.removeFirst(output.count - limit) }
      } else if count == 0 || errno != EINTR {
        break
      }
    }
    close(pipeEnds[0])
    if output.count > limit { output.removeFirst(output.count - limit) }

    var status: Int32 = 0
    while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    // WIFEXITED / WEXITSTATUS / WTERMSIG are macros Swift cannot import.
    let signal = status & 0x7f
    let code = signal == 0 ? (status >> 8) & 0xff : 128 + signal
    return Outcome(status: code, output: String(decoding: output, as: UTF8.self))
  }
}
