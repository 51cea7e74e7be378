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

  init(files: [FileDescriptor]) {
    for file in files {
      let prefix = file.package.isEmpty ? "" : file.package + "."
      for message in file.messages {
        add(
          message, fullName: prefix + message.name,
          swiftName: Names.swiftTopLevel(package: file.package, name: message.name))
      }
      for enumeration in file.enums {
        let fullName = prefix + enumeration.name
        entries["." + fullName] = Entry(
          kind: .enumeration, fullName: fullName,
          swiftName: Names.swiftTopLevel(package: file.package, name: enumeration.name))
      }
    }
  }

  private mutating func add(_ message: MessageDescriptor, fullName: String, swiftName: String) {
    entries["." + fullName] = Entry(kind: .message, fullName: fullName, swiftName: swiftName)
    for nested in message.nested {
      add(nested, fullName: fullName + "." + nested.name, swiftName: swiftName + "." + nested.name)
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
