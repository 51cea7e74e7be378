/// Writes the 5-byte gRPC message prefix.
public enum MessageFramer {
  public static let prefixLength = 5

  /// Writes the prefix for a message of `length` bytes at `destination`.
  @inlinable
  public static func writePrefix(compressed: Bool, length: Int, to destination: UnsafeMutableRawPointer) {
    precondition(length <= Int(UInt32.max), "message longer than the 4-byte length prefix allows")
    destination.storeBytes(of: compressed ? 1 : 0, as: UInt8.self)
    destination.storeBytes(of: UInt32(length).bigEndian, toByteOffset: 1, as: UInt32.self)
  }
}
