import Testing

@testable import ProtoGenerator

/// Writes protobuf wire format, to build descriptor sets for the generator to read.
struct WireWriter {
  var bytes: [UInt8] = []

  mutating func varint(_ field: Int, _ value: UInt64) {
    key(field, 0)
    raw(value)
  }

  mutating func string(_ field: Int, _ value: String) {
    message(field, Array(value.utf8))
  }

  mutating func message(_ field: Int, _ value: [UInt8]) {
    key(field, 2)
    raw(UInt64(value.count))
    bytes += value
  }

  private mutating func key(_ field: Int, _ wireType: UInt64) {
    raw(UInt64(field) << 3 | wireType)
  }

  private mutating func raw(_ value: UInt64) {
    var value = value
    while value >= 0x80 {
      bytes.append(UInt8(value & 0x7f) | 0x80)
      value >>= 7
    }
    bytes.append(UInt8(value))
  }

  static func build(_ body: (inout WireWriter) -> Void) -> [UInt8] {
    var writer = WireWriter()
    body(&writer)
    return writer.bytes
  }
}

/// `package foo.bar_baz; message T { int32 count = 1; string name = 2; repeated T children = 3;
/// oneof pick { int32 x = 4; string y = 5; } E kind = 6; enum E { E_UNSPECIFIED = 0; E_ONE = 1; } }
/// service S { rpc Get(T) returns (T); rpc Watch(T) returns (stream T); }`
func fixtureSet(syntax: String = "proto3", proto3Optional: Bool = false) -> [UInt8] {
  func field(
    _ name: String, _ number: UInt64, _ type: UInt64, label: UInt64 = 1, typeName: String? = nil, oneof: UInt64? = nil
  ) -> [UInt8] {
    WireWriter.build { w in
      w.string(1, name)
      w.varint(3, number)
      w.varint(4, label)
      w.varint(5, type)
      if let typeName { w.string(6, typeName) }
      if let oneof { w.varint(9, oneof) }
      if proto3Optional, name == "count" { w.varint(17, 1) }
    }
  }
  let enumE = WireWriter.build { w in
    w.string(1, "E")
    w.message(
      2,
      WireWriter.build {
        $0.string(1, "E_UNSPECIFIED")
        $0.varint(2, 0)
      })
    w.message(
      2,
      WireWriter.build {
        $0.string(1, "E_ONE")
        $0.varint(2, 1)
      })
  }
  let message = WireWriter.build { w in
    w.string(1, "T")
    w.message(2, field("count", 1, 5))
    w.message(2, field("name", 2, 9))
    w.message(2, field("children", 3, 11, label: 3, typeName: ".foo.bar_baz.T"))
    w.message(2, field("x", 4, 5, oneof: 0))
    w.message(2, field("y", 5, 9, oneof: 0))
    w.message(2, field("kind", 6, 14, typeName: ".foo.bar_baz.T.E"))
    w.message(4, enumE)
    w.message(8, WireWriter.build { $0.string(1, "pick") })
  }
  let service = WireWriter.build { w in
    w.string(1, "S")
    w.message(
      2,
      WireWriter.build {
        $0.string(1, "Get")
        $0.string(2, ".foo.bar_baz.T")
        $0.string(3, ".foo.bar_baz.T")
      })
    w.message(
      2,
      WireWriter.build {
        $0.string(1, "Watch")
        $0.string(2, ".foo.bar_baz.T")
        $0.string(3, ".foo.bar_baz.T")
        $0.varint(6, 1)
      })
  }
  let file = WireWriter.build { w in
    w.string(1, "foo/t.proto")
    w.string(2, "foo.bar_baz")
    w.string(3, "foo/dep.proto")
    w.message(4, message)
    w.message(6, service)
    w.string(12, syntax)
  }
  return WireWriter.build { $0.message(1, file) }
}

@Suite("names")
struct NamesTests {
  @Test(
    "protobuf-c's C names",
    arguments: [
      ("grpc.testing.SimpleRequest", "Grpc__Testing__SimpleRequest", "grpc__testing__simple_request"),
      ("foo.bar_baz.T", "Foo__BarBaz__T", "foo__bar_baz__t"),
      (
        "grpc.reflection.v1alpha.ServerReflectionRequest", "Grpc__Reflection__V1alpha__ServerReflectionRequest",
        "grpc__reflection__v1alpha__server_reflection_request"
      ),
      ("a.Outer.HTTPInner", "A__Outer__HTTPInner", "a__outer__httpinner"),
    ])
  func cNames(_ fullName: String, _ type: String, _ prefix: String) {
    #expect(Names.cType(fullName) == type)
    #expect(Names.cFunctionPrefix(fullName) == prefix)
  }

  @Test("C field names are lower-cased, keywords get an underscore")
  func cFields() {
    #expect(Names.cField("response_size") == "response_size")
    #expect(Names.cField("Default") == "default_")
    #expect(Names.cField("class") == "class_")
  }

  @Test("Swift names")
  func swiftNames() {
    #expect(Names.swiftTopLevel(package: "grpc.testing", name: "SimpleRequest") == "Grpc_Testing_SimpleRequest")
    #expect(Names.swiftTopLevel(package: "foo.bar_baz", name: "T") == "Foo_BarBaz_T")
    #expect(Names.swiftProperty("response_size") == "responseSize")
    #expect(Names.swiftProperty("default") == "`default`")
    #expect(Names.swiftEnumCase("GRPCLB_ROUTE_TYPE_FALLBACK", enumName: "GrpclbRouteType") == "fallback")
    #expect(Names.swiftEnumCase("SERVING", enumName: "ServingStatus") == "serving")
    #expect(Names.swiftEnumCase("E_ONE", enumName: "E") == "one")
    #expect(Names.swiftMethod("UnaryCall") == "unaryCall")
  }
}

@Suite("descriptor set reader")
struct ReaderTests {
  @Test("a file, its message, fields, oneof, enum and service are decoded")
  func decode() throws {
    let files = try FileDescriptor.decodeSet(fixtureSet())
    let file = try #require(files.first)
    #expect(files.count == 1)
    #expect(file.name == "foo/t.proto" && file.package == "foo.bar_baz" && file.dependencies == ["foo/dep.proto"])
    let message = try #require(file.messages.first)
    #expect(message.fields.map(\.name) == ["count", "name", "children", "x", "y", "kind"])
    #expect(message.fields[2].label == .repeated && message.fields[2].typeName == ".foo.bar_baz.T")
    #expect(message.fields[3].oneofIndex == 0 && message.oneofs == ["pick"])
    #expect(message.enums.first?.values.map(\.name) == ["E_UNSPECIFIED", "E_ONE"])
    #expect(file.services.first?.methods.map(\.serverStreaming) == [false, true])
    #expect(file.serialized.count > 0)
  }

  @Test("truncated input is an error, not a crash")
  func truncated() {
    let bytes = fixtureSet()
    #expect(throws: DescriptorError.self) { _ = try FileDescriptor.decodeSet(Array(bytes.dropLast(3))) }
  }
}

@Suite("Swift renderer")
struct RendererTests {
  static func render(_ set: [UInt8] = fixtureSet()) throws -> String {
    let files = try FileDescriptor.decodeSet(set)
    return try SwiftRenderer(file: files[0], types: TypeTable(files: files)).render()
  }

  @Test("messages get a view and a builder over the C struct")
  func message() throws {
    let source = try Self.render()
    #expect(source.contains("public enum Foo_BarBaz_T: ProtoMessage"))
    #expect(source.contains("let cPointer: UnsafePointer<Foo__BarBaz__T>"))
    #expect(source.contains("public var count: Int32 { cPointer.pointee.count }"))
    #expect(source.contains("public var name: String { ProtoRuntime.string(cPointer.pointee.name) }"))
    #expect(source.contains("public func addChildren() -> Foo_BarBaz_T.Builder"))
    #expect(source.contains("foo__bar_baz__t__init"))
  }

  @Test("oneofs become an enum with a case per member")
  func oneof() throws {
    let source = try Self.render()
    #expect(source.contains("public enum Pick"))
    #expect(source.contains("case x(Int32)"))
    #expect(source.contains("cPointer.pointee.pick_case"))
  }

  @Test("enums are open structs with prefix-free constants")
  func enumeration() throws {
    let source = try Self.render()
    #expect(source.contains("public struct E: RawRepresentable, Hashable, Sendable"))
    #expect(source.contains("public static let one = Self(rawValue: 1)"))
  }

  @Test("services get a protocol and a registration per method kind")
  func service() throws {
    let source = try Self.render()
    #expect(source.contains("public protocol ServiceProtocol: Sendable"))
    #expect(
      source.contains(
        "func get(_ request: Foo_BarBaz_T.View, context: ServerContext, response: Foo_BarBaz_T.Builder) async throws"))
    #expect(source.contains("responses: ResponseMessages<Foo_BarBaz_T>"))
    #expect(source.contains("router.registerUnary(Foo_BarBaz_S.Method.get"))
    #expect(source.contains("router.registerServerStreaming(Foo_BarBaz_S.Method.watch"))
  }

  @Test("proto3 optional, which protoc-c 1.4 cannot compile, is refused with a clear error")
  func proto3Optional() {
    #expect(throws: DescriptorError.self) { _ = try Self.render(fixtureSet(proto3Optional: true)) }
  }

  @Test("proto2 optional scalars have presence flags")
  func proto2Presence() throws {
    let source = try Self.render(fixtureSet(syntax: "proto2"))
    #expect(source.contains("public var hasCount: Bool { cPointer.pointee.has_count != 0 }"))
  }

  @Test("the registry lists each file's symbols")
  func registry() throws {
    let files = try FileDescriptor.decodeSet(fixtureSet())
    #expect(
      RegistryRenderer.symbols(of: files[0]) == [
        "foo.bar_baz.T", "foo.bar_baz.T.E", "foo.bar_baz.S", "foo.bar_baz.S.Get", "foo.bar_baz.S.Watch",
      ])
    #expect(RegistryRenderer.base64([0, 1, 2, 3]) == "AAECAw==")
  }
}
