import RPCCore

/// One compiled .proto file, as server reflection serves it.
public struct ProtoFile: Sendable {
  /// The import path ("grpc/testing/messages.proto").
  public let name: String
  /// Import paths of the files it imports.
  public let dependencies: [String]
  /// Fully qualified names of the messages, enums, services and methods it defines.
  public let symbols: [String]
  private let descriptorBase64: String

  init(name: String, dependencies: [String], symbols: [String], descriptorBase64: String) {
    self.name = name
    self.dependencies = dependencies
    self.symbols = symbols
    self.descriptorBase64 = descriptorBase64
  }

  /// The serialized `google.protobuf.FileDescriptorProto`.
  public var serializedDescriptor: [UInt8] {
    Base64.decode(descriptorBase64.filter { !$0.isWhitespace }) ?? []
  }
}
