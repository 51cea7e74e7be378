#if canImport(Glibc)
  import Glibc
#endif

/// Maps `:path` to handlers. Built once at start-up, then read concurrently by every connection.
///
/// Lookups take the path's bytes as nghttp2 hands them over, so a routed call makes no String:
/// an open-addressing table indexed by an FNV-1a hash, confirmed by comparing the bytes.
public struct RPCRouter: Sendable {
  private var handlers: [RPCHandler] = []
  private var paths: [[UInt8]] = []
  private var hashes: [Int] = []
  /// Index into `handlers` + 1 (0 is empty); the count is a power of two at most half full.
  private var slots: [Int32] = []
  private var services: Set<String> = []

  public init() {}

  /// Registers a handler; registering a method twice is a programming error.
  public mutating func register(_ handler: RPCHandler) {
    let path = Array(handler.method.path.utf8)
    precondition(index(of: path) == nil, "\(handler.method) registered twice")
    handlers.append(handler)
    paths.append(path)
    hashes.append(paths[paths.count - 1].withUnsafeBufferPointer { Self.hash($0) })
    services.insert(handler.method.service)
    rebuildSlots()
  }

  /// Replaces the handler of an already registered method (for a faster variant of one method).
  public mutating func replace(_ handler: RPCHandler) {
    guard let index = index(of: Array(handler.method.path.utf8)) else {
      preconditionFailure("\(handler.method) is not registered")
    }
    handlers[index] = handler
  }

  public enum Lookup {
    case found(RPCHandler)
    case unknownService(String)
    case unknownMethod(service: String, method: String)
    case malformedPath
  }

  public func lookup(path: String) -> Lookup {
    var path = path
    return path.withUTF8 { lookup(path: $0) }
  }

  public func lookup(path: UnsafeBufferPointer<UInt8>) -> Lookup {
    if let index = index(of: path) { return .found(handlers[index]) }
    let parts = path.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false)
    guard parts.count == 3, parts[0].isEmpty, !parts[1].isEmpty, !parts[2].isEmpty else {
      return .malformedPath
    }
    let service = String(decoding: parts[1], as: UTF8.self)
    guard services.contains(service) else { return .unknownService(service) }
    return .unknownMethod(service: service, method: String(decoding: parts[2], as: UTF8.self))
  }

  /// Fully qualified names of the registered services, sorted.
  public var serviceNames: [String] { services.sorted() }

  /// Every registered handler, in the order of registration.
  public var handlersInRegistrationOrder: [RPCHandler] { handlers }

  /// Every registered method, sorted by path.
  public var methods: [MethodDescriptor] { handlers.map(\.method).sorted { $0.path < $1.path } }

  // MARK: The table

  private func index(of path: [UInt8]) -> Int? {
    path.withUnsafeBufferPointer { index(of: $0) }
  }

  private func index(of path: UnsafeBufferPointer<UInt8>) -> Int? {
    guard !slots.isEmpty else { return nil }
    let mask = slots.count - 1
    let hash = Self.hash(path)
    var slot = hash & mask
    while true {
      let entry = Int(slots[slot])
      if entry == 0 { return nil }
      if hashes[entry - 1] == hash,
        paths[entry - 1].withUnsafeBufferPointer({
          $0.count == path.count && memcmp($0.baseAddress!, path.baseAddress!, path.count) == 0
        })
      {
        return entry - 1
      }
      slot = (slot + 1) & mask
    }
  }

  private mutating func rebuildSlots() {
    var capacity = 16
    while capacity < handlers.count * 2 { capacity *= 2 }
    slots = Array(repeating: 0, count: capacity)
    for (index, hash) in hashes.enumerated() {
      var slot = hash & (capacity - 1)
      while slots[slot] != 0 { slot = (slot + 1) & (capacity - 1) }
      slots[slot] = Int32(index + 1)
    }
  }

  /// FNV-1a over 8-byte words (then the tail bytes): paths are short, and this runs per call.
  private static func hash(_ bytes: UnsafeBufferPointer<UInt8>) -> Int {
    var hash: UInt64 = 0xcbf2_9ce4_8422_2325
    let raw = UnsafeRawBufferPointer(bytes)
    var index = 0
    while index + 8 <= raw.count {
      hash = (hash ^ raw.loadUnaligned(fromByteOffset: index, as: UInt64.self)) &* 0x0000_0100_0000_01b3
      index += 8
    }
    while index < raw.count {
      hash = (hash ^ UInt64(raw[index])) &* 0x0000_0100_0000_01b3
      index += 1
    }
    return Int(truncatingIfNeeded: hash >> 1)
  }
}

extension RPCRouter.Lookup {
  /// The status for a path that has no handler.
  public var status: Status? {
    switch self {
    case .found: nil
    case .unknownService(let service):
      Status(code: .unimplemented, message: "unknown service \(service)")
    case .unknownMethod(let service, let method):
      Status(code: .unimplemented, message: "unknown method \(method) for service \(service)")
    case .malformedPath:
      Status(code: .unimplemented, message: "malformed method path")
    }
  }
}
