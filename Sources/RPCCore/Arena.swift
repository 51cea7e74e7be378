/// A bump allocator for the memory of one call: unpacked request messages and response builders.
///
/// Everything allocated lives until ``reset()`` or until the arena is released, so a message
/// graph costs no per-field frees. Views and builders hold the arena strongly, which keeps what
/// they point at alive. The first bytes are tail-allocated in the arena object itself, so the
/// messages of a small call cost one allocation in all. Not thread-safe: an arena belongs to one
/// call on one event loop.
public final class Arena: ManagedBuffer<Arena.State, UInt8> {
  /// Bytes stored in the arena object itself: enough for a typical call's messages, while the
  /// whole object stays under glibc's thread-cache limit (1032 bytes), where malloc is cheapest.
  public static let inlineCapacity = 768
  /// Size of each further chunk; allocations larger than half of it get a chunk of their own.
  public static let chunkSize = 8192
  static let alignment = 16

  public struct State {
    var cursor: UnsafeMutableRawPointer?
    var remaining = 0
    var extraChunks: [UnsafeMutableRawPointer] = []
    /// Bytes handed out since the last reset, and the most `allocateWithinBudget` may reach.
    var allocated = 0
    var budget = Int.max
    var budgetExceeded = false
  }

  /// A new, empty arena; `budget` bounds `allocateWithinBudget(byteCount:)`.
  public static func make(budget: Int = .max) -> Arena {
    let arena = unsafeDowncast(
      Arena.create(minimumCapacity: inlineCapacity + alignment) { _ in State(budget: budget) }, to: Arena.self)
    arena.reset()
    return arena
  }

  /// Whether an `allocateWithinBudget` was refused since the last reset.
  public var budgetExceeded: Bool { header.budgetExceeded }

  /// The most bytes `allocateWithinBudget` may hand out in all.
  public var budget: Int { header.budget }

  deinit {
    for chunk in header.extraChunks { chunk.deallocate() }
  }

  /// Returns `byteCount` bytes aligned to 16, valid until `reset()` or the arena's end.
  public func allocate(byteCount: Int) -> UnsafeMutableRawPointer {
    let size = max(Self.alignment, (byteCount + Self.alignment - 1) & ~(Self.alignment - 1))
    header.allocated &+= size
    if size <= header.remaining, let cursor = header.cursor {
      header.cursor = cursor + size
      header.remaining -= size
      return cursor
    }
    return allocateChunk(size)
  }

  /// `allocate(byteCount:)`, or nil (and `budgetExceeded` set) when it would take the arena past
  /// its budget: for decoding untrusted input.
  public func allocateWithinBudget(byteCount: Int) -> UnsafeMutableRawPointer? {
    guard byteCount <= header.budget &- header.allocated else {
      header.budgetExceeded = true
      return nil
    }
    return allocate(byteCount: byteCount)
  }

  private func allocateChunk(_ size: Int) -> UnsafeMutableRawPointer {
    if size > Self.chunkSize / 2 {
      let chunk = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: Self.alignment)
      header.extraChunks.append(chunk)
      return chunk
    }
    let chunk = UnsafeMutableRawPointer.allocate(byteCount: Self.chunkSize, alignment: Self.alignment)
    header.extraChunks.append(chunk)
    header.cursor = chunk + size
    header.remaining = Self.chunkSize - size
    return chunk
  }

  /// Copies `bytes` into the arena.
  public func copy(_ bytes: UnsafeRawBufferPointer) -> UnsafeMutableRawPointer {
    let destination = allocate(byteCount: max(1, bytes.count))
    if let base = bytes.baseAddress, bytes.count > 0 {
      destination.copyMemory(from: base, byteCount: bytes.count)
    }
    return destination
  }

  /// Copies `string` into the arena as a NUL-terminated C string.
  public func copyCString(_ string: String) -> UnsafeMutablePointer<CChar> {
    var string = string
    return string.withUTF8 { utf8 in
      let destination = allocate(byteCount: utf8.count + 1)
      if let base = utf8.baseAddress { destination.copyMemory(from: base, byteCount: utf8.count) }
      destination.storeBytes(of: 0, toByteOffset: utf8.count, as: UInt8.self)
      return destination.assumingMemoryBound(to: CChar.self)
    }
  }

  /// Frees the extra chunks and makes the inline bytes available again.
  public func reset() {
    for chunk in header.extraChunks { chunk.deallocate() }
    header.extraChunks.removeAll(keepingCapacity: true)
    // The tail storage lives as long as the object; align its start to 16.
    let base = withUnsafeMutablePointerToElements { UnsafeMutableRawPointer($0) }
    let aligned = base.alignedUp(toMultipleOf: Self.alignment)
    header.cursor = aligned
    header.remaining = Self.inlineCapacity
    header.allocated = 0
    header.budgetExceeded = false
  }
}
