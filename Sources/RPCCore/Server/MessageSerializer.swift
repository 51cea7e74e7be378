/// A response message ready to be packed: generated builders conform. RPCCore knows nothing of
/// the C structs behind it; it asks for the size, then has it pack into the outbound frame.
///
/// - Important: the transport may pack a message after `send` returns (straight into the DATA
///   frame, when the peer's window opens), so what it points at must stay valid and unchanged:
///   builders keep their arena alive, and each streamed message gets an arena of its own.
public protocol MessageSerializer {
  /// The packed size in bytes.
  var serializedSize: Int { get }
  /// Packs exactly `serializedSize` bytes at `destination`.
  func serialize(into destination: UnsafeMutableRawPointer)
}

/// Decodes request bytes into a message in an arena; nil when the bytes are not a valid message.
public typealias MessageDecoder = @Sendable (UnsafeRawBufferPointer, Arena) -> UnsafeMutableRawPointer?

/// A decoded request message: an opaque pointer into `arena`, which keeps it alive.
public struct InboundMessage {
  public let pointer: UnsafeMutableRawPointer
  public let arena: Arena
  /// Whether the message arrived compressed (its compressed-flag byte was 1).
  public let compressed: Bool
  /// Its size on the wire (prefix included): what HTTP/2 flow control gives back once it is taken.
  public let wireSize: Int

  public init(pointer: UnsafeMutableRawPointer, arena: Arena, compressed: Bool = false, wireSize: Int = 0) {
    self.pointer = pointer
    self.arena = arena
    self.compressed = compressed
    self.wireSize = wireSize
  }
}
