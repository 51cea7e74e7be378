// proto-generator: reads a descriptor set written by `protoc-c --descriptor_set_out
// --include_imports` and writes the Swift views, builders and services over protobuf-c's structs.
//
//   proto-generator list-files SET            print the .proto files of the set, one a line
//   proto-generator swift SET OUTPUT_DIR      write one .swift per proto file + ProtoRegistry.swift

#if canImport(Glibc)
  import Glibc
#endif

func readFile(_ path: String) throws(GeneratorError) -> [UInt8] {
  guard let handle = fopen(path, "rb") else { throw .io("cannot open \(path)") }
  defer { fclose(handle) }
  var bytes: [UInt8] = []
  var buffer = [UInt8](repeating: 0, count: 65536)
  while true {
    let count = fread(&buffer, 1, buffer.count, handle)
    if count <= 0 { break }
    bytes += buffer[0..<count]
  }
  return bytes
}

func writeFile(_ path: String, _ text: String) throws(GeneratorError) {
  guard let handle = fopen(path, "wb") else { throw .io("cannot write \(path)") }
  defer { fclose(handle) }
  let utf8 = Array(text.utf8)
  guard fwrite(utf8, 1, utf8.count, handle) == utf8.count else { throw .io("short write to \(path)") }
}

enum GeneratorError: Error {
  case io(String)
  case usage
}

/// "grpc/testing/messages.proto" -> "grpc_testing_messages.pb.swift"
func swiftFileName(_ protoName: String) -> String {
  var base = protoName
  if base.hasSuffix(".proto") { base.removeLast(6) }
  return base.split(separator: "/").joined(separator: "_") + ".pb.swift"
}

func run(_ arguments: [String]) throws -> Int32 {
  switch arguments.dropFirst().first {
  case "list-files" where arguments.count == 3:
    for file in try FileDescriptor.decodeSet(try readFile(arguments[2])) { print(file.name) }
  case "swift" where arguments.count == 4:
    let files = try FileDescriptor.decodeSet(try readFile(arguments[2]))
    let types = TypeTable(files: files)
    for file in files {
      let source = try SwiftRenderer(file: file, types: types).render()
      try writeFile(arguments[3] + "/" + swiftFileName(file.name), source)
    }
    try writeFile(arguments[3] + "/ProtoRegistry.swift", RegistryRenderer(files: files).render())
  default:
    throw GeneratorError.usage
  }
  return 0
}

func printError(_ message: String) {
  let bytes = Array((message + "\n").utf8)
  _ = bytes.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
}

do {
  exit(try run(CommandLine.arguments))
} catch GeneratorError.usage {
  printError("usage: proto-generator list-files SET | swift SET OUTPUT_DIR")
  exit(2)
} catch {
  printError("proto-generator: \(error)")
  exit(1)
}
