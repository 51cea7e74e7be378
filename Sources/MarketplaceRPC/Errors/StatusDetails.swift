import MarketplaceCore
import MarketplaceProtos
import RPCCore

/// `grpc-status-details-bin`: a `google.rpc.Status` with the same code and message as the call's
/// status, and details a client library decodes (`grpc_status.rpc_status.from_call` in Python,
/// `status.FromError(err).Details()` in Go).
enum StatusDetails {
  /// INVALID_ARGUMENT with a `google.rpc.BadRequest` listing every field violation.
  static func badRequest(_ error: ValidationError) -> RPCError {
    let message = "invalid request: \(error)"
    return RPCError(
      code: .invalidArgument, message: message,
      trailers: trailers(code: .invalidArgument, message: message) { status in
        pack(status.addDetails(), type: Google_Rpc_BadRequest.self) { (request: Google_Rpc_BadRequest.Builder) in
          for violation in error.violations {
            let field = request.addFieldViolations()
            field.field = violation.field
            field.description = violation.rule
          }
        }
      })
  }

  /// RESOURCE_EXHAUSTED with a `google.rpc.RetryInfo`, and the delay in whole seconds (rounded up)
  /// as `retry-after-seconds` for clients that read no details.
  static func retryLater(_ message: String, after delay: Duration) -> RPCError {
    let seconds = max(1, Int((delay + .nanoseconds(999_999_999)).components.seconds))
    var trailers = trailers(code: .resourceExhausted, message: message) { status in
      pack(status.addDetails(), type: Google_Rpc_RetryInfo.self) { (info: Google_Rpc_RetryInfo.Builder) in
        info.retryDelay.seconds = Int64(seconds)
      }
    }
    trailers.append("retry-after-seconds", String(seconds))
    return RPCError(code: .resourceExhausted, message: message, trailers: trailers)
  }

  private static func trailers(
    code: Status.Code, message: String, details: (Google_Rpc_Status.Builder) -> Void
  ) -> Metadata {
    let status = Google_Rpc_Status.builder(in: Arena.make())
    status.code = Int32(code.rawValue)
    status.message = message
    details(status)
    var metadata = Metadata()
    metadata.append(Metadata.statusDetailsKey, bytes: status.serializedBytes())
    return metadata
  }

  /// Fills `any` with a message of type `Message` built by `fill`.
  private static func pack<Message: ProtoMessage>(
    _ any: Google_Protobuf_Any.Builder, type: Message.Type, _ fill: (Message.Builder) -> Void
  ) {
    let message = Message.builder(in: Arena.make())
    fill(message)
    any.typeUrl = "type.googleapis.com/\(Message.fullName)"
    any.setValue(message.serializedBytes())
  }
}
