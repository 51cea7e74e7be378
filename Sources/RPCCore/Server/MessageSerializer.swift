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

/// A message already serialized (a response kept in memory, say): its bytes go out as they are.
public struct EncodedMessage: MessageSerializer, Sendable {
  public let bytes: [UInt8]

  public init(_ bytes: [UInt8]) { self.bytes = bytes }

  public var serializedSize: Int { bytes.count }

  public func serialize(into destination: UnsafeMutableRawPointer) {
    bytes.withUnsafeBytes { if let base = $0.baseAddress { destination.copyMemory(from: base, byteCount: $0.count) } }
  }
}

/// Decodes request bytes into a message in an arena, or says why it cannot.
public typealias MessageDecoder =
  @Sendable (UnsafeRawBufferPointer, Arena) throws(MessageDecodingError) -> UnsafeMutableRawPointer

/// Why request bytes did not become a message, and what the client is told.
public enum MessageDecodingError: Error, Sendable, Hashable {
  /// Not an encoding of the method's input message: INTERNAL, as gRPC C++ and grpc-go answer.
  case malformed
  /// A `string` field (at this dotted path, from the request message) that is not valid UTF-8,
  /// which proto3 forbids: INVALID_ARGUMENT.
  case invalidUTF8(field: String)
  /// A `string` field holding a NUL character: valid UTF-8, but the C structs hold strings
  /// NUL-terminated, so it would be cut there; refused rather than read short. INVALID_ARGUMENT.
  case nulCharacter(field: String)
  /// Decoding needs more memory than the call's arena budget: RESOURCE_EXHAUSTED.
  case overBudget(limit: Int)

  public var status: Status {
    switch self {
    case .malformed:
      Status(code: .internal, message: "could not decode the request message")
    case .invalidUTF8(let field):
      Status(code: .invalidArgument, message: "request field `\(field)` is not valid UTF-8")
    case .nulCharacter(let field):
      Status(code: .invalidArgument, message: "request field `\(field)` contains a NUL character")
    case .overBudget(let limit):
      Status(
        code: .resourceExhausted,
        message: "the request message would need more than \(limit) bytes of memory once decoded")
    }
  }
}

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
