import RPCCore
import Testing

@Suite("router")
struct RouterTests {
  static func handler(_ service: String, _ method: String) -> RPCHandler {
    RPCHandler(
      method: MethodDescriptor(service: service, method: method),
      decode: { _, _ throws(MessageDecodingError) in throw .malformed },
      body: .unary { _, _ in throw RPCError(code: .internal, message: "unused") })
  }

  static let router: RPCRouter = {
    var router = RPCRouter()
    router.register(handler("pkg.Greeter", "Hello"))
    router.register(handler("pkg.Greeter", "Bye"))
    router.register(handler("other.Echo", "Echo"))
    return router
  }()

  @Test("a registered path is found")
  func found() {
    guard case .found(let handler) = Self.router.lookup(path: "/pkg.Greeter/Bye") else {
      Issue.record("not found")
      return
    }
    #expect(handler.method.path == "/pkg.Greeter/Bye")
  }

  @Test(
    "unknown paths are UNIMPLEMENTED with a message naming what is missing",
    arguments: [
      ("/pkg.Greeter/Nope", "unknown method Nope for service pkg.Greeter"),
      ("/pkg.Nope/Hello", "unknown service pkg.Nope"),
      ("/pkg.Greeter", "malformed method path"),
      ("pkg.Greeter/Hello", "malformed method path"),
      ("//Hello", "malformed method path"),
    ])
  func unknown(_ path: String, _ message: String) {
    #expect(Self.router.lookup(path: path).status == Status(code: .unimplemented, message: message))
  }

  @Test("services and methods are listed sorted")
  func listing() {
    #expect(Self.router.serviceNames == ["other.Echo", "pkg.Greeter"])
    #expect(Self.router.methods.map(\.path) == ["/other.Echo/Echo", "/pkg.Greeter/Bye", "/pkg.Greeter/Hello"])
  }
}
