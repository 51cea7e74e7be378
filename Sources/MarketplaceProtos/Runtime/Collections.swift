import CMarketplaceProtos
import CProtobufC
import RPCCore

/// The bytes of a `bytes` field, read in place. Holds the arena, so it stays valid while held.
public struct BytesView: RandomAccessCollection {
  let arena: Arena?
  let base: UnsafeRawBufferPointer

  init(_ data: ProtobufCBinaryData, arena: Arena) {
    self.arena = arena
    self.base = UnsafeRawBufferPointer(start: data.data, count: data.len)
  }

  public var startIndex: Int { 0 }
  public var endIndex: Int { base.count }
  public subscript(position: Int) -> UInt8 { base[position] }

  /// Calls `body` with the bytes, without copying them.
  public func withUnsafeBytes<Result>(_ body: (UnsafeRawBufferPointer) throws -> Result) rethrows -> Result {
    try withExtendedLifetime(arena) { try body(base) }
  }
}

/// The elements of a repeated field, read in place and converted on access.
public struct RepeatedView<Element>: RandomAccessCollection {
  let arena: Arena
  let base: UnsafeRawPointer?
  public let count: Int
  let element: (Arena, UnsafeRawPointer, Int) -> Element

  init<CElement>(
    _ base: UnsafePointer<CElement>?, count: Int, arena: Arena,
    _ convert: @escaping (Arena, UnsafePointer<CElement>) -> Element
  ) {
    self.arena = arena
    self.base = base.map(UnsafeRawPointer.init)
    self.count = base == nil ? 0 : count
    self.element = { arena, base, index in
      convert(arena, base.assumingMemoryBound(to: CElement.self) + index)
    }
  }

  public var startIndex: Int { 0 }
  public var endIndex: Int { count }

  public subscript(position: Int) -> Element {
    precondition(position >= 0 && position < count, "index out of range")
    return element(arena, base!, position)
  }
}
