import NIOCore

#if canImport(Glibc)
  import Glibc
#endif

/// The CPUs this process may run on: the scheduler's affinity list (`taskset`, cpusets), capped by
/// NIO's count (which reads cgroup limits). One event loop per usable CPU: a loop more would only
/// take turns with another on the same core.
enum UsableCPUs {
  static var count: Int {
    guard let allowed = affinityCount(), allowed > 0 else { return System.coreCount }
    return min(allowed, System.coreCount)
  }

  /// Counts `Cpus_allowed_list` of /proc/self/status ("0-1,4"); nil where there is none.
  static func affinityCount() -> Int? {
    #if os(Linux)
      guard let file = fopen("/proc/self/status", "r") else { return nil }
      defer { fclose(file) }
      var line: UnsafeMutablePointer<CChar>?
      var capacity = 0
      defer { free(line) }
      while getline(&line, &capacity, file) > 0, let line {
        let text = String(cString: line)
        guard text.hasPrefix("Cpus_allowed_list:") else { continue }
        return parseList(text.dropFirst("Cpus_allowed_list:".count))
      }
    #endif
    return nil
  }

  /// "0-3,6" -> 5
  static func parseList(_ list: Substring) -> Int? {
    var total = 0
    for part in list.split(separator: ",") {
      let bounds = part.split(separator: "-").map { Int($0.filter(\.isNumber)) }
      switch bounds.count {
      case 1:
        guard bounds[0] != nil else { return nil }
        total += 1
      case 2:
        guard let low = bounds[0], let high = bounds[1], high >= low else { return nil }
        total += high - low + 1
      default: return nil
      }
    }
    return total
  }
}
