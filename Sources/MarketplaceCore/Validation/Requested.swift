/// A choice from a request's enum field: not made, one this server knows, or a value it does not
/// know (from a newer client).
public enum Requested<Value: Hashable & Sendable>: Hashable, Sendable {
  case unspecified
  case value(Value)
  case unrecognized
}
