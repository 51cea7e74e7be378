/// The error a client sees: a status code, a message, and trailing metadata.
///
/// Handlers throw it (or an ``RPCErrorConvertible`` error) to end an RPC with a non-OK status.
/// Any other error ends the RPC with `INTERNAL` and the fixed message "internal error", so that
/// nothing internal (SQL, file paths, C error strings) ever reaches a client.
public struct RPCError: Error, Sendable, Hashable, CustomStringConvertible {
  public var code: Status.Code
  public var message: String
  public var trailers: Metadata

  public init(code: Status.Code, message: String, trailers: Metadata = [:]) {
    precondition(code != .ok, "an RPCError cannot carry OK")
    self.code = code
    self.message = message
    self.trailers = trailers
  }

  public var status: Status { Status(code: code, message: message) }

  public var description: String { "\(code.name): \(message)" }
}

/// An error that knows which gRPC status represents it. Domain errors conform in the adapter layer,
/// so the domain itself never mentions gRPC.
public protocol RPCErrorConvertible: Error {
  /// The status (and trailers) the client sees.
  var rpcError: RPCError { get }
}

extension RPCError {
  /// The status and trailers an error thrown by a handler becomes.
  ///
  /// `isInternal` is true when the error was not meant for the client (it is then logged in full).
  public static func from(_ error: any Error) -> (status: Status, trailers: Metadata, isInternal: Bool) {
    switch error {
    case let error as RPCError:
      return (error.status, error.trailers, false)
    case let error as any RPCErrorConvertible:
      let converted = error.rpcError
      return (converted.status, converted.trailers, false)
    case is CancellationError:
      return (Status(code: .cancelled, message: "cancelled"), [:], false)
    default:
      return (Status(code: .internal, message: "internal error"), [:], true)
    }
  }
}
