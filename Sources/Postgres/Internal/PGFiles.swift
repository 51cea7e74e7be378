import Glibc

/// The few file-system calls the embedded cluster needs, on plain POSIX (no Foundation).
/// Blocking: call them from a thread of our own.
enum PGFiles {
  struct Failure: Error, Sendable {
    var operation: String
    var path: String
    var errno: Int32

    var message: String { "\(operation) \(path): \(String(cString: strerror(errno)))" }
  }

  static func exists(_ path: String) -> Bool {
    access(path, F_OK) == 0
  }

  static func isDirectory(_ path: String) -> Bool {
    var info = stat()
    return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
  }

  static func isExecutable(_ path: String) -> Bool {
    access(path, X_OK) == 0 && !isDirectory(path)
  }

  /// The owner's uid of `path`.
  static func owner(_ path: String) -> uid_t? {
    var info = stat()
    return stat(path, &info) == 0 ? info.st_uid : nil
  }

  static func currentDirectory() -> String? {
    guard let pointer = getcwd(nil, 0) else { return nil }
    defer { free(pointer) }
    return String(cString: pointer)
  }

  /// Creates `path` and any missing parents (parents with mode 0755, `path` itself with `mode`).
  static func makeDirectories(_ path: String, mode: mode_t) throws(Failure) {
    if isDirectory(path) { return }
    let parent = parentDirectory(path)
    if parent != path && !parent.isEmpty { try makeDirectories(parent, mode: 0o755) }
    if mkdir(path, mode) != 0 && errno != EEXIST {
      throw Failure(operation: "mkdir", path: path, errno: errno)
    }
  }

  static func parentDirectory(_ path: String) -> String {
    var components = path.split(separator: "/", omittingEmptySubsequences: true)
    guard !components.isEmpty else { return "/" }
    components.removeLast()
    return "/" + components.joined(separator: "/")
  }

  static func changeOwner(_ path: String, uid: uid_t, gid: gid_t) throws(Failure) {
    if chown(path, uid, gid) != 0 { throw Failure(operation: "chown", path: path, errno: errno) }
  }

  static func changeMode(_ path: String, _ mode: mode_t) throws(Failure) {
    if chmod(path, mode) != 0 { throw Failure(operation: "chmod", path: path, errno: errno) }
  }

  static func rename(_ from: String, to: String) throws(Failure) {
    if Glibc.rename(from, to) != 0 { throw Failure(operation: "rename", path: from, errno: errno) }
  }

  /// Writes `contents` to `path` (created or truncated, then given `mode` and, if given, `owner`).
  static func write(_ contents: String, to path: String, mode: mode_t, owner: (uid_t, gid_t)? = nil)
    throws(Failure)
  {
    try write(contents, to: path, flags: O_WRONLY | O_CREAT | O_TRUNC, mode: mode, owner: owner)
  }

  /// Appends `contents` to the existing file `path`.
  static func append(_ contents: String, to path: String) throws(Failure) {
    try write(contents, to: path, flags: O_WRONLY | O_APPEND, mode: 0, owner: nil)
  }

  private static func write(
    _ contents: String, to path: String, flags: Int32, mode: mode_t, owner: (uid_t, gid_t)?
  ) throws(Failure) {
    let descriptor = open(path, flags | O_CLOEXEC, mode)
    guard descriptor >= 0 else { throw Failure(operation: "open", path: path, errno: errno) }
    defer { close(descriptor) }
    if let (uid, gid) = owner, fchown(descriptor, uid, gid) != 0 {
      throw Failure(operation: "chown", path: path, errno: errno)
    }
    if flags & O_CREAT != 0, fchmod(descriptor, mode) != 0 {
      throw Failure(operation: "chmod", path: path, errno: errno)
    }
    var bytes = Array(contents.utf8)[...]
    while !bytes.isEmpty {
      let written = bytes.withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress, $0.count) }
      if written < 0 {
        if errno == EINTR { continue }
        throw Failure(operation: "write", path: path, errno: errno)
      }
      bytes = bytes.dropFirst(written)
    }
  }

  /// The last `maximumBytes` of the file at `path`, or nil if it cannot be read.
  static func tail(_ path: String, maximumBytes: Int = 4096) -> String? {
    let descriptor = open(path, O_RDONLY | O_CLOEXEC)
    guard descriptor >= 0 else { return nil }
    defer { close(descriptor) }
    let size = lseek(descriptor, 0, SEEK_END)
    guard size >= 0 else { return nil }
    let start = max(0, Int(size) - maximumBytes)
    guard lseek(descriptor, off_t(start), SEEK_SET) >= 0 else { return nil }
    var buffer = [UInt8](repeating: 0, count: Int(size) - start)
    let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
    guard count >= 0 else { return nil }
    return String(decoding: buffer[0..<count], as: UTF8.self)
  }

  /// The directories matching `pattern` (glob(3)), in descending natural order, so that
  /// `/usr/lib/postgresql/*/bin` lists the highest version first.
  static func glob(_ pattern: String) -> [String] {
    guard pattern.contains("*") else { return [pattern] }
    var result = glob_t()
    defer { globfree(&result) }
    guard Glibc.glob(pattern, 0, nil, &result) == 0 else { return [] }
    var paths: [String] = []
    for index in 0..<Int(result.gl_pathc) {
      if let path = result.gl_pathv[index] { paths.append(String(cString: path)) }
    }
    return paths.sorted { naturallyPrecedes($1, $0) }
  }

  /// Compares runs of digits numerically ("9" < "15"), everything else byte by byte.
  static func naturallyPrecedes(_ a: String, _ b: String) -> Bool {
    func runs(_ text: String) -> [(isNumber: Bool, text: Substring)] {
      var runs: [(Bool, Substring)] = []
      var start = text.startIndex
      while start < text.endIndex {
        let isDigit = text[start].isASCII && text[start].isNumber
        var end = start
        while end < text.endIndex, (text[end].isASCII && text[end].isNumber) == isDigit {
          end = text.index(after: end)
        }
        runs.append((isDigit, text[start..<end]))
        start = end
      }
      return runs
    }
    for (x, y) in zip(runs(a), runs(b)) where x.text != y.text {
      if x.isNumber && y.isNumber, let m = Int(x.text), let n = Int(y.text), m != n { return m < n }
      return x.text < y.text
    }
    return a.count < b.count
  }
}
