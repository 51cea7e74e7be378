import CMarketplaceProtos
import CProtobufC
public import RPCCore

/// A protobuf message type with a generated ``View`` (reads an unpacked C struct in place) and
/// ``Builder`` (fills a C struct that packs straight into the outbound frame).
///
/// Views and builders point into an ``Arena`` that they keep alive; they are meant for the call
/// that made them. Copy out (to domain values) what must outlive it.
public protocol ProtoMessage: SendableMetatype {
  associatedtype View: SendableMetatype
  associatedtype Builder: MessageSerializer, SendableMetatype

  /// The fully qualified protobuf name ("grpc.testing.SimpleRequest").
  static var fullName: String { get }
  /// Unpacks `bytes` into `arena`, after checking every string field (UTF-8, no NUL), within the
  /// arena's budget.
  static func decode(_ bytes: UnsafeRawBufferPointer, arena: Arena) throws(MessageDecodingError)
    -> UnsafeMutableRawPointer
  /// A view of a message that `decode` produced.
  static func view(of message: InboundMessage) -> View
  /// A new, empty message in `arena`.
  static func builder(in arena: Arena) -> Builder
}

extension ProtoMessage {
  /// Unpacks `bytes` into a new arena and returns a view.
  public static func parse(_ bytes: UnsafeRawBufferPointer) throws(MessageDecodingError) -> View {
    let arena = Arena.make()
    return view(of: InboundMessage(pointer: try decode(bytes, arena: arena), arena: arena))
  }

  /// Unpacks `bytes` into a new arena and returns a view.
  public static func parse(_ bytes: [UInt8]) throws(MessageDecodingError) -> View {
    try bytes.withUnsafeBytes { bytes in Result { () throws(MessageDecodingError) in try parse(bytes) } }.get()
  }
}

extension MessageSerializer {
  /// The packed message as an array (tests, reflection, anything off the hot path).
  public func serializedBytes() -> [UInt8] {
    let size = serializedSize
    return [UInt8](unsafeUninitializedCapacity: max(size, 1)) { buffer, count in
      if size > 0 { serialize(into: buffer.baseAddress!) }
      count = size
    }
  }
}

/// Glue between generated code and protobuf-c.
enum ProtoRuntime {
  private static let arenaAllocate: @convention(c) (UnsafeMutableRawPointer?, Int) -> UnsafeMutableRawPointer? = {
    data, size in
    // allocator_data is the arena, kept alive by the caller of unpack for the whole call. Past
    // the budget, NULL: protobuf-c then abandons the unpack and returns NULL.
    Unmanaged<Arena>.fromOpaque(data!)._withUnsafeGuaranteedRef { $0.allocateWithinBudget(byteCount: size) }
  }
  private static let arenaFree: @convention(c) (UnsafeMutableRawPointer?, UnsafeMutableRawPointer?) -> Void = {
    _, _ in  // the arena frees everything at once
  }

  /// Unpacks a message of `descriptor`'s type, placing it and everything it points to in `arena`,
  /// after `checkStrings` (the type's generated check; nil when it holds no string) passed.
  static func unpack(
    _ bytes: UnsafeRawBufferPointer, arena: Arena, descriptor: DescriptorPointer,
    checkStrings: WireScanner.Check?
  ) throws(MessageDecodingError) -> UnsafeMutableRawPointer {
    if let checkStrings { try WireScanner.check(bytes, with: checkStrings) }
    guard let message = unpack(bytes, arena: arena, descriptor: descriptor) else {
      throw arena.budgetExceeded ? .overBudget(limit: arena.budget) : .malformed
    }
    return message
  }

  private static func unpack(
    _ bytes: UnsafeRawBufferPointer, arena: Arena, descriptor: DescriptorPointer
  ) -> UnsafeMutableRawPointer? {
    var allocator = ProtobufCAllocator(
      alloc: arenaAllocate, free: arenaFree,
      allocator_data: Unmanaged.passUnretained(arena).toOpaque())
    // protobuf-c reads nothing from an empty buffer, but wants a non-null pointer.
    var empty: UInt8 = 0
    return withUnsafeMutablePointer(to: &empty) { emptyPointer in
      let data = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self) ?? UnsafePointer(emptyPointer)
      return protobuf_c_message_unpack(descriptor.pointer, &allocator, bytes.count, data).map(
        UnsafeMutableRawPointer.init)
    }
  }

  /// The address of a message type's descriptor, which `…__init` stores in the message's base.
  static func descriptor<Message>(
    of _: Message.Type, _ initialize: (UnsafeMutablePointer<Message>) -> Void
  ) -> DescriptorPointer {
    let message = UnsafeMutablePointer<Message>.allocate(capacity: 1)
    defer { message.deallocate() }
    initialize(message)
    return DescriptorPointer(
      pointer: UnsafeRawPointer(message).assumingMemoryBound(to: ProtobufCMessage.self).pointee.descriptor)
  }

  static func packedSize<Message>(_ message: UnsafeMutablePointer<Message>) -> Int {
    protobuf_c_message_get_packed_size(UnsafeRawPointer(message).assumingMemoryBound(to: ProtobufCMessage.self))
  }

  static func pack<Message>(_ message: UnsafeMutablePointer<Message>, into destination: UnsafeMutableRawPointer) {
    _ = protobuf_c_message_pack(
      UnsafeRawPointer(message).assumingMemoryBound(to: ProtobufCMessage.self),
      destination.assumingMemoryBound(to: UInt8.self))
  }

  /// A new C struct in `arena`, initialized by the generated `…__init`.
  static func allocate<Message>(
    _ type: Message.Type, in arena: Arena, _ initialize: (UnsafeMutablePointer<Message>) -> Void
  ) -> UnsafeMutablePointer<Message> {
    let pointer = arena.allocate(byteCount: MemoryLayout<Message>.stride)
      .bindMemory(to: Message.self, capacity: 1)
    initialize(pointer)
    return pointer
  }

  /// Converts between a proto enum's Int32 and the C enum type protobuf-c declares.
  static func cEnum<E: RawRepresentable>(_ value: Int32) -> E where E.RawValue: FixedWidthInteger {
    E(rawValue: E.RawValue(truncatingIfNeeded: value))!
  }

  static func int32<E: RawRepresentable>(_ value: E) -> Int32 where E.RawValue: FixedWidthInteger {
    Int32(truncatingIfNeeded: value.rawValue)
  }

  /// A string field's value. Decoded messages passed the string check, so this is UTF-8 with no
  /// NUL inside; builders' strings come from Swift strings.
  static func string(_ pointer: UnsafePointer<CChar>?) -> String {
    guard let pointer else { return "" }
    return String(cString: pointer)
  }

  /// Appends to a repeated field whose C storage is `count` + a pointer to elements in the arena.
  /// Capacity is implicit: storage is reallocated (doubled) when `count` reaches a power of two.
  static func append<Element>(
    _ element: Element, to elements: inout UnsafeMutablePointer<Element>?, count: inout Int, arena: Arena
  ) {
    if count == 0 || (count >= 4 && count & (count - 1) == 0) {
      let capacity = max(4, count * 2)
      let grown = arena.allocate(byteCount: capacity * MemoryLayout<Element>.stride)
        .bindMemory(to: Element.self, capacity: capacity)
      if let elements, count > 0 { grown.update(from: elements, count: count) }
      elements = grown
    }
    (elements! + count).initialize(to: element)
    count += 1
  }

  /// Replaces a repeated field's storage with `values`.
  static func set<Element>(
    _ values: some Collection<Element>, to elements: inout UnsafeMutablePointer<Element>?, count: inout Int,
    arena: Arena
  ) {
    count = 0
    elements = nil
    guard !values.isEmpty else { return }
    let storage = arena.allocate(byteCount: values.count * MemoryLayout<Element>.stride)
      .bindMemory(to: Element.self, capacity: values.count)
    for (index, value) in values.enumerated() { (storage + index).initialize(to: value) }
    elements = storage
    count = values.count
  }

  static func binaryData(_ bytes: some Collection<UInt8>, arena: Arena) -> ProtobufCBinaryData {
    guard !bytes.isEmpty else { return ProtobufCBinaryData(len: 0, data: nil) }
    let storage = arena.allocate(byteCount: bytes.count).bindMemory(to: UInt8.self, capacity: bytes.count)
    _ = UnsafeMutableBufferPointer(start: storage, count: bytes.count).initialize(from: bytes)
    return ProtobufCBinaryData(len: bytes.count, data: storage)
  }

  static func binaryData(count: Int, arena: Arena, fill: (UnsafeMutableRawBufferPointer) -> Void) -> ProtobufCBinaryData
  {
    guard count > 0 else { return ProtobufCBinaryData(len: 0, data: nil) }
    let storage = arena.allocate(byteCount: count)
    fill(UnsafeMutableRawBufferPointer(start: storage, count: count))
    return ProtobufCBinaryData(len: count, data: storage.assumingMemoryBound(to: UInt8.self))
  }
}

/// A protobuf-c message descriptor: a constant C global, never written, so it may be shared.
struct DescriptorPointer: @unchecked Sendable {
  let pointer: UnsafePointer<ProtobufCMessageDescriptor>
}
