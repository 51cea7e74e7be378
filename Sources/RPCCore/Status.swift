/// A gRPC status: a code and a human-readable message, as sent in `grpc-status`/`grpc-message`.
public struct Status: Sendable, Hashable, CustomStringConvertible {
  /// The 17 status codes of the gRPC spec (doc/statuscodes.md), with their wire values.
  public enum Code: Int, Sendable, Hashable, CaseIterable {
    case ok = 0
    case cancelled = 1
    case unknown = 2
    case invalidArgument = 3
    case deadlineExceeded = 4
    case notFound = 5
    case alreadyExists = 6
    case permissionDenied = 7
    case resourceExhausted = 8
    case failedPrecondition = 9
    case aborted = 10
    case outOfRange = 11
    case unimplemented = 12
    case `internal` = 13
    case unavailable = 14
    case dataLoss = 15
    case unauthenticated = 16

    /// The upper-snake name used in logs and documentation ("DEADLINE_EXCEEDED").
    public var name: String { staticName.description }

    /// `name` with no allocation, for log lines formatted as bytes.
    public var staticName: StaticString {
      switch self {
      case .ok: "OK"
      case .cancelled: "CANCELLED"
      case .unknown: "UNKNOWN"
      case .invalidArgument: "INVALID_ARGUMENT"
      case .deadlineExceeded: "DEADLINE_EXCEEDED"
      case .notFound: "NOT_FOUND"
      case .alreadyExists: "ALREADY_EXISTS"
      case .permissionDenied: "PERMISSION_DENIED"
      case .resourceExhausted: "RESOURCE_EXHAUSTED"
      case .failedPrecondition: "FAILED_PRECONDITION"
      case .aborted: "ABORTED"
      case .outOfRange: "OUT_OF_RANGE"
      case .unimplemented: "UNIMPLEMENTED"
      case .internal: "INTERNAL"
      case .unavailable: "UNAVAILABLE"
      case .dataLoss: "DATA_LOSS"
      case .unauthenticated: "UNAUTHENTICATED"
      }
    }

    /// The `grpc-status` header value, without allocating for the common codes.
    public var headerValue: StaticString {
      switch self {
      case .ok: "0"
      case .cancelled: "1"
      case .unknown: "2"
      case .invalidArgument: "3"
      case .deadlineExceeded: "4"
      case .notFound: "5"
      case .alreadyExists: "6"
      case .permissionDenied: "7"
      case .resourceExhausted: "8"
      case .failedPrecondition: "9"
      case .aborted: "10"
      case .outOfRange: "11"
      case .unimplemented: "12"
      case .internal: "13"
      case .unavailable: "14"
      case .dataLoss: "15"
      case .unauthenticated: "16"
      }
    }

    /// The code a client reports for an HTTP status that carried no `grpc-status`
    /// (doc/http-grpc-status-mapping.md).
    public init(httpStatus: Int) {
      switch httpStatus {
      case 400: self = .internal
      case 401: self = .unauthenticated
      case 403: self = .permissionDenied
      case 404: self = .unimplemented
      case 429, 502, 503, 504: self = .unavailable
      default: self = .unknown
      }
    }
  }

  public var code: Code
  public var message: String

  public init(code: Code, message: String = "") {
    self.code = code
    self.message = message
  }

  public static let ok = Status(code: .ok)

  public var description: String {
    message.isEmpty ? code.name : "\(code.name): \(message)"
  }
}
