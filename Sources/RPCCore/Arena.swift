/// A bump allocator for the memory of one call: unpacked request messages and response builders.
///
/// Everything allocated lives until ``reset()`` or until the arena is released, so a message
/// graph costs no per-field frees. Views and builders hold the arena strongly, which keeps what
/// they point at alive. Not thread-safe: an arena belongs to one call on one event loop.
public final class Arena {
  /// Size of an ordinary chunk; allocations larger than half of it get a chunk of their own.
  public static let chunkSize = 4096
  private static let alignment = 16

  private var chunks: [UnsafeMutableRawPointer] = []
  private var cursor: UnsafeMutableRawPointer?
  private var remaining = 0

  public init() {}

  deinit {
    for chunk in chunks { chunk.deallocate() }
  }

  /// Returns `byteCount` bytes aligned to 16, valid until `reset()` or the arena's end.
  public func allocate(byteCount: Int) -> UnsafeMutableRawPointer {
    let size = max(Self.alignment, (byteCount + Self.alignment - 1) & ~(Self.alignment - 1))
    if size <= remaining, let cursor {
      self.cursor = cursor + size
      remaining -= size
      return cursor
    }
    if size > Self.chunkSize / 2 {
      let chunk = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: Self.alignment)
      chunks.append(chunk)
      return chunk
    }
    let chunk = UnsafeMutableRawPointer.allocate(byteCount: Self.chunkSize, alignment: Self.alignment)
    chunks.append(chunk)
    cursor = chunk + size
    remaining = Self.chunkSize - size
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

  /// Frees every chunk but the first, which is kept for reuse.
  public func reset() {
    guard let first = chunks.first else { return }
    if chunks.count > 1 {
      for chunk in chunks.dropFirst() { chunk.deallocate() }
      chunks.removeSubrange(1...)
    }
    cursor = first
    remaining = Self.chunkSize
  }
}
