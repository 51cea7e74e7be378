import RPCCore
import Testing

@Suite("status codes and error mapping")
struct StatusTests {
  @Test("wire values and names", arguments: Status.Code.allCases)
  func wireValue(_ code: Status.Code) {
    #expect("\(code.headerValue)" == String(code.rawValue))
    #expect(!code.name.isEmpty && code.name == code.name.uppercased())
  }

  @Test("there are 17 codes")
  func count() {
    #expect(Status.Code.allCases.count == 17)
    #expect(Status.Code.unauthenticated.rawValue == 16)
  }

  @Test(
    "HTTP status without grpc-status",
    arguments: [
      (400, Status.Code.internal), (401, .unauthenticated), (403, .permissionDenied), (404, .unimplemented),
      (429, .unavailable), (502, .unavailable), (503, .unavailable), (504, .unavailable), (500, .unknown),
    ])
  func http(_ status: Int, _ code: Status.Code) {
    #expect(Status.Code(httpStatus: status) == code)
  }

  struct BookingTaken: RPCErrorConvertible {
    var rpcError: RPCError { RPCError(code: .failedPrecondition, message: "dates unavailable") }
  }

  struct DatabaseExploded: Error {}

  @Test("handler errors become statuses; unknown errors never leak")
  func mapping() {
    let explicit = RPCError.from(RPCError(code: .notFound, message: "no such booking"))
    #expect(explicit.status == Status(code: .notFound, message: "no such booking") && !explicit.isInternal)
    let domain = RPCError.from(BookingTaken())
    #expect(domain.status == Status(code: .failedPrecondition, message: "dates unavailable"))
    let cancelled = RPCError.from(CancellationError())
    #expect(cancelled.status.code == .cancelled)
    let unknown = RPCError.from(DatabaseExploded())
    #expect(unknown.status == Status(code: .internal, message: "internal error") && unknown.isInternal)
  }
}
