import RPCCore
import Testing

@Suite("grpc-message percent-encoding")
struct StatusMessageEncodingTests {
  @Test(
    "encoding",
    arguments: [
      ("plain message", "plain message"),
      ("100%", "100%25"),
      ("tab\there", "tab%09here"),
      (
        "\t\ntest with whitespace\r\nand Unicode BMP ☺ and non-BMP 😈\t\n",
        "%09%0Atest with whitespace%0D%0Aand Unicode BMP %E2%98%BA and non-BMP %F0%9F%98%88%09%0A"
      ),
      ("~ is printable", "~ is printable"),
    ])
  func encode(_ message: String, _ wire: String) {
    #expect(StatusMessageEncoding.encode(message) == wire)
    #expect(StatusMessageEncoding.decode(wire) == message)
  }

  @Test(
    "malformed escapes decode verbatim; escaped bytes that are not UTF-8 become U+FFFD",
    arguments: [("%", "%"), ("%4", "%4"), ("%zz", "%zz"), ("50%off", "50%off"), ("%E2%98", "\u{FFFD}")])
  func lenient(_ wire: String, _ expected: String) {
    let decoded = StatusMessageEncoding.decode(wire)
    #expect(!decoded.isEmpty)
    #expect(decoded == expected)
  }
}
