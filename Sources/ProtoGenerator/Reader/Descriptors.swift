/// The parts of `google.protobuf.FileDescriptorSet` the generator needs, decoded from protoc's
/// `--descriptor_set_out` (field numbers from descriptor.proto).
struct FileDescriptor {
  var name = ""
  var package = ""
  var dependencies: [String] = []
  var messages: [MessageDescriptor] = []
  var enums: [EnumDescriptor] = []
  var services: [ServiceDescriptor] = []
  var syntax = "proto2"
  /// The serialized FileDescriptorProto, as server reflection returns it.
  var serialized: [UInt8] = []
}

struct MessageDescriptor {
  var name = ""
  var fields: [FieldDescriptor] = []
  var nested: [MessageDescriptor] = []
  var enums: [EnumDescriptor] = []
  var oneofs: [String] = []
  var isMapEntry = false
}

struct FieldDescriptor {
  enum Label: Int32 {
    case optional = 1
    case required = 2
    case repeated = 3
  }
  enum Kind: Int32 {
    case double = 1
    case float, int64, uint64, int32, fixed64, fixed32, bool, string, group, message,
      bytes, uint32, `enum`, sfixed32, sfixed64, sint32, sint64
  }

  var name = ""
  var number: Int32 = 0
  var label = Label.optional
  var kind = Kind.int32
  /// Fully qualified with a leading dot for messages and enums (".grpc.testing.Payload").
  var typeName = ""
  var oneofIndex: Int?
  var isProto3Optional = false
  var isDeprecated = false
}

struct EnumDescriptor {
  var name = ""
  var values: [(name: String, number: Int32)] = []
}

struct ServiceDescriptor {
  var name = ""
  var methods: [MethodDescriptor] = []
}

struct MethodDescriptor {
  var name = ""
  var inputType = ""
  var outputType = ""
  var clientStreaming = false
  var serverStreaming = false
}

extension FileDescriptor {
  /// Decodes every file of a serialized `FileDescriptorSet`, in the set's order (dependencies first).
  static func decodeSet(_ bytes: [UInt8]) throws(DescriptorError) -> [FileDescriptor] {
    var reader = WireReader(bytes[...])
    var files: [FileDescriptor] = []
    while let field = try reader.next() {
      if field.number == 1 { files.append(try FileDescriptor(decoding: field.bytes)) }
    }
    return files
  }

  init(decoding bytes: ArraySlice<UInt8>) throws(DescriptorError) {
    serialized = Array(bytes)
    var reader = WireReader(bytes)
    while let field = try reader.next() {
      switch field.number {
      case 1: name = field.string
      case 2: package = field.string
      case 3: dependencies.append(field.string)
      case 4: messages.append(try MessageDescriptor(decoding: field.bytes))
      case 5: enums.append(try EnumDescriptor(decoding: field.bytes))
      case 6: services.append(try ServiceDescriptor(decoding: field.bytes))
      case 7: throw .unsupported("extensions in \(name)")
      case 12: syntax = field.string
      default: break
      }
    }
  }
}

extension MessageDescriptor {
  init(decoding bytes: ArraySlice<UInt8>) throws(DescriptorError) {
    var reader = WireReader(bytes)
    while let field = try reader.next() {
      switch field.number {
      case 1: name = field.string
      case 2: fields.append(try FieldDescriptor(decoding: field.bytes))
      case 3: nested.append(try MessageDescriptor(decoding: field.bytes))
      case 4: enums.append(try EnumDescriptor(decoding: field.bytes))
      case 7:
        var options = WireReader(field.bytes)
        while let option = try options.next() {
          if option.number == 7 { isMapEntry = option.bool }
        }
      case 8:
        var oneof = WireReader(field.bytes)
        while let part = try oneof.next() {
          if part.number == 1 { oneofs.append(part.string) }
        }
      default: break
      }
    }
  }
}

extension FieldDescriptor {
  init(decoding bytes: ArraySlice<UInt8>) throws(DescriptorError) {
    var reader = WireReader(bytes)
    while let field = try reader.next() {
      switch field.number {
      case 1: name = field.string
      case 3: number = field.int32
      case 4:
        guard let value = Label(rawValue: field.int32) else { throw .malformed("label \(field.int32)") }
        label = value
      case 5:
        guard let value = Kind(rawValue: field.int32) else { throw .malformed("type \(field.int32)") }
        kind = value
      case 6: typeName = field.string
      case 8:
        var options = WireReader(field.bytes)
        while let option = try options.next() {
          if option.number == 3 { isDeprecated = option.bool }
        }
      case 9: oneofIndex = Int(field.int32)
      case 17: isProto3Optional = field.bool
      default: break
      }
    }
    if kind == .group { throw .unsupported("group field \(name)") }
  }
}

extension EnumDescriptor {
  init(decoding bytes: ArraySlice<UInt8>) throws(DescriptorError) {
    var reader = WireReader(bytes)
    while let field = try reader.next() {
      switch field.number {
      case 1: name = field.string
      case 2:
        var value = WireReader(field.bytes)
        var entry = (name: "", number: Int32(0))
        while let part = try value.next() {
          if part.number == 1 { entry.name = part.string }
          if part.number == 2 { entry.number = part.int32 }
        }
        values.append(entry)
      default: break
      }
    }
  }
}

extension ServiceDescriptor {
  init(decoding bytes: ArraySlice<UInt8>) throws(DescriptorError) {
    var reader = WireReader(bytes)
    while let field = try reader.next() {
      switch field.number {
      case 1: name = field.string
      case 2:
        var method = MethodDescriptor()
        var parts = WireReader(field.bytes)
        while let part = try parts.next() {
          switch part.number {
          case 1: method.name = part.string
          case 2: method.inputType = part.string
          case 3: method.outputType = part.string
          case 5: method.clientStreaming = part.bool
          case 6: method.serverStreaming = part.bool
          default: break
          }
        }
        methods.append(method)
      default: break
      }
    }
  }
}
