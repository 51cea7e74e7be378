import Foundation
import Logging
import MarketplaceCore
import ServiceLifecycle
import Synchronization

/// The machine's clock, as the rules read it.
struct SystemWallClock: WallClock {
  var now: Timestamp {
    Timestamp(microsecondsSinceEpoch: Int64((Date().timeIntervalSince1970 * 1_000_000).rounded()))
  }
}

/// For tests only (`--test-clock-file`): the machine's clock moved ahead by a number of seconds
/// read from a file, so that a test can pass a payment deadline or a check-out without waiting.
/// The file is read again every 100 ms; a change calls what `whenMoved` registered (to wake the
/// job workers and the completion sweep).
final class FileOffsetClock: WallClock, Service {
  private let offsetSeconds = Atomic<Int64>(0)
  private let path: String
  private let listeners = Mutex<[@Sendable () -> Void]>([])
  private let logger: Logger

  init(path: String, logger: Logger) {
    self.path = path
    self.logger = logger
    readOffset()
  }

  /// Calls `body` each time the clock moves.
  func whenMoved(_ body: @escaping @Sendable () -> Void) {
    listeners.withLock { $0.append(body) }
  }

  var now: Timestamp {
    SystemWallClock().now.adding(.seconds(offsetSeconds.load(ordering: .relaxed)))
  }

  func run() async throws {
    while !Task.isCancelled && !Task.isShuttingDownGracefully {
      try? await Task.sleep(for: .milliseconds(100))
      if readOffset() { for listener in listeners.withLock({ $0 }) { listener() } }
    }
  }

  /// Reads the file (a missing or malformed one means 0); whether the offset changed.
  @discardableResult
  private func readOffset() -> Bool {
    let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
    let offset = Int64(text.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
    let previous = offsetSeconds.exchange(offset, ordering: .relaxed)
    if previous != offset { logger.notice("test clock moved", metadata: ["clock.offset_seconds": "\(offset)"]) }
    return previous != offset
  }
}
