import Postgres
import Testing

@Suite("SQL building (no server)")
struct SQLTests {
  @Test("each interpolated value becomes the next placeholder, never text")
  func placeholders() {
    let email = "Robert'); DROP TABLE users;--"
    let limit = 10
    let query: SQL = "SELECT id FROM users WHERE lower(email) = lower(\(email)) LIMIT \(limit)"
    #expect(query.text == "SELECT id FROM users WHERE lower(email) = lower($1) LIMIT $2")
    #expect(query.bindings.count == 2)
    #expect(!query.text.contains("DROP"))
    #expect(query.description == query.text)
  }

  @Test("a literal with no interpolation has no bindings")
  func literal() {
    let query: SQL = "SELECT 1"
    #expect(query.text == "SELECT 1")
    #expect(query.bindings.count == 0)
  }

  @Test("bound values print as the literals psql and pgbench take (the benchmark's scripts)")
  func literals() {
    let query: SQL = "SELECT \(Int64(-42)), \(4.5), \(-0.25), \(true), \("Paris"), \([UInt8]([1, 255]))"
    #expect((0..<6).map { query.bindings.literal(at: $0) } == ["-42", "4.5", "-0.25", "true", "Paris", "\\x01ff"])
  }

  @Test("nil binds NULL and still takes a placeholder")
  func null() {
    let phone: String? = nil
    let query: SQL = "UPDATE users SET phone = \(phone) WHERE id = \("abc")"
    #expect(query.text == "UPDATE users SET phone = $1 WHERE id = $2")
    #expect(query.bindings.count == 2)
  }

  @Test(
    "identifiers are quoted, inner quotes doubled",
    arguments: [
      ("users", "\"users\""), ("test_1", "\"test_1\""), ("Mixed Case", "\"Mixed Case\""),
      ("a\"b", "\"a\"\"b\""), ("x\"; DROP TABLE users; --", "\"x\"\"; DROP TABLE users; --\""),
    ])
  func identifiers(name: String, quoted: String) {
    let query: SQL = "CREATE DATABASE \(identifier: name)"
    #expect(query.text == "CREATE DATABASE " + quoted)
    #expect(query.bindings.count == 0)
    #expect(SQL.quoteIdentifier(name) == quoted)
  }

  @Test("the escape hatch is spelled unsafeRaw and keeps its text")
  func unsafeRaw() {
    let query = SQL(unsafeRaw: "SELECT 'trusted text'")
    #expect(query.text == "SELECT 'trusted text'")
    #expect(query.bindings.count == 0)
  }

  @Test("every encodable type binds one value")
  func types() {
    let bytes: [UInt8] = [0, 1, 255]
    let query: SQL = """
      SELECT \("s"), \(Substring("sub")), \(Int64(1)), \(2), \(Int32(3)), \(Int16(4)), \(true), \(1.5), \(bytes), \(Int?.none)
      """
    #expect(query.bindings.count == 10)
    #expect(query.text == "SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10")
  }

  @Test("appended fragments keep their values, their placeholders renumbered after the statement's")
  func append() {
    var query: SQL = "SELECT * FROM t WHERE a = \(1)"
    query.append(" AND b = \("x") AND c BETWEEN \(2) AND \(3)")
    query.append(" ORDER BY a")
    query.append(" LIMIT \(10)")
    #expect(query.text == "SELECT * FROM t WHERE a = $1 AND b = $2 AND c BETWEEN $3 AND $4 ORDER BY a LIMIT $5")
    #expect(query.bindings.count == 5)
    let joined = SQL(unsafeRaw: "SELECT 1 FROM t") + " WHERE id = \("y")"
    #expect(joined.text == "SELECT 1 FROM t WHERE id = $1")
    let many: SQL = "SELECT \(1), \(2), \(3), \(4), \(5), \(6), \(7), \(8), \(9), \(10)"
    #expect((many + " AND \(11) AND \(12)").text.hasSuffix("$10 AND $11 AND $12"))
    #expect((SQL(unsafeRaw: "WITH x AS (SELECT 1) ") + many).text == "WITH x AS (SELECT 1) " + many.text)
  }
}
