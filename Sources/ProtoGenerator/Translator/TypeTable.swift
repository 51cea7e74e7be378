/// Every message and enum of the descriptor set, by fully qualified name (".grpc.testing.Payload").
struct TypeTable {
  enum Kind { case message, enumeration }

  struct Entry {
    var kind: Kind
    /// "grpc.testing.LoadBalancerStatsResponse.RpcsByPeer"
    var fullName: String
    /// "Grpc_Testing_LoadBalancerStatsResponse.RpcsByPeer"
    var swiftName: String
    /// "Grpc__Testing__LoadBalancerStatsResponse__RpcsByPeer"
    var cName: String { Names.cType(fullName) }
    /// "grpc__testing__load_balancer_stats_response__rpcs_by_peer"
    var cFunctionPrefix: String { Names.cFunctionPrefix(fullName) }
  }

  private(set) var entries: [String: Entry] = [:]
  /// Messages holding a `string` field, directly or through message fields, by fully qualified
  /// name with a leading dot: the ones whose wire bytes are checked at decode time.
  private(set) var messagesWithStrings: Set<String> = []

  init(files: [FileDescriptor]) {
    var messages: [String: MessageDescriptor] = [:]
    for file in files {
      let prefix = file.package.isEmpty ? "" : file.package + "."
      for message in file.messages {
        add(
          message, fullName: prefix + message.name,
          swiftName: Names.swiftTopLevel(package: file.package, name: message.name), into: &messages)
      }
      for enumeration in file.enums {
        let fullName = prefix + enumeration.name
        entries["." + fullName] = Entry(
          kind: .enumeration, fullName: fullName,
          swiftName: Names.swiftTopLevel(package: file.package, name: enumeration.name))
      }
    }
    messagesWithStrings = Self.messagesWithStrings(messages)
  }

  /// Grows the set from the messages with a string field of their own until no message field
  /// adds one (recursive types included).
  private static func messagesWithStrings(_ messages: [String: MessageDescriptor]) -> Set<String> {
    var found = Set(messages.filter { $0.value.fields.contains { $0.kind == .string } }.keys)
    var grew = true
    while grew {
      grew = false
      for (name, message) in messages where !found.contains(name) {
        if message.fields.contains(where: { $0.kind == .message && found.contains($0.typeName) }) {
          found.insert(name)
          grew = true
        }
      }
    }
    return found
  }

  private mutating func add(
    _ message: MessageDescriptor, fullName: String, swiftName: String, into messages: inout [String: MessageDescriptor]
  ) {
    entries["." + fullName] = Entry(kind: .message, fullName: fullName, swiftName: swiftName)
    messages["." + fullName] = message
    for nested in message.nested {
      add(
        nested, fullName: fullName + "." + nested.name, swiftName: swiftName + "." + nested.name, into: &messages)
    }
    for enumeration in message.enums {
      entries["." + fullName + "." + enumeration.name] = Entry(
        kind: .enumeration, fullName: fullName + "." + enumeration.name,
        swiftName: swiftName + "." + enumeration.name)
    }
  }

  func lookup(_ typeName: String) throws(DescriptorError) -> Entry {
    guard let entry = entries[typeName] else { throw .malformed("unknown type \(typeName)") }
    return entry
  }
}
