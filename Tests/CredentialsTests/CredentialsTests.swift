import Credentials
import Testing

@Suite("Bearer tokens")
struct BearerTokenTests {
  @Test("a token is 256 random bits behind a prefix; only its digest is kept")
  func shape() {
    let token = BearerToken.generate()
    #expect(token.token.hasPrefix("mkp_") && token.token.utf8.count == 4 + 43)
    #expect(token.digest.count == 32)
    #expect(BearerToken.digest(of: token.token) == token.digest)
    let tokens = Set((0..<1000).map { _ in BearerToken.generate().token })
    #expect(tokens.count == 1000)
  }

  @Test(
    "what cannot be one of our tokens is refused without a lookup",
    arguments: [
      "", "mkp_", "Bearer x", "mkp_" + String(repeating: "a", count: 42), "mkx_" + String(repeating: "a", count: 43),
      "mkp_" + String(repeating: "a", count: 42) + "=", "mkp_" + String(repeating: "a", count: 44),
    ])
  func malformed(_ token: String) {
    #expect(BearerToken.digest(of: token) == nil)
  }

  @Test("secrets compare by content")
  func secrets() {
    #expect(Secrets.equal([1, 2, 3], [1, 2, 3]))
    #expect(!Secrets.equal([1, 2, 3], [1, 2, 4]))
    #expect(!Secrets.equal([1, 2], [1, 2, 3]))
  }
}

@Suite("Password hashing")
struct PasswordHasherTests {
  @Test("Argon2id hashes verify the right password only; the decoy never matches")
  func hashAndVerify() async throws {
    let hasher = PasswordHasher(config: .init(threads: 2))
    hasher.start()
    let hash = try await hasher.hash("correct horse battery")
    #expect(hash.hasPrefix("$argon2id$"))
    #expect(try await hasher.verify("correct horse battery", against: hash) == .matches(needsRehash: false))
    #expect(try await hasher.verify("correct horse batterY", against: hash) == .mismatch)
    #expect(try await hasher.verifyDecoy("correct horse battery") == .mismatch)
    try await hasher.shutdown()
  }

  @Test("a hash weaker than today's strength asks to be redone")
  func rehash() async throws {
    let weak = PasswordHasher(config: .init(threads: 1, strength: .interactive))
    let strong = PasswordHasher(config: .init(threads: 1, strength: .moderate))
    weak.start()
    strong.start()
    let hash = try await weak.hash("correct horse battery")
    #expect(try await strong.verify("correct horse battery", against: hash) == .matches(needsRehash: true))
    // Never back down: a stronger hash stays when the settings are lowered.
    let strongHash = try await strong.hash("correct horse battery")
    #expect(try await weak.verify("correct horse battery", against: strongHash) == .matches(needsRehash: false))
    try await weak.shutdown()
    try await strong.shutdown()
  }

  @Test("past its threads and queue the pool refuses at once")
  func saturation() async throws {
    let hasher = PasswordHasher(config: .init(threads: 1, queueLimit: 1))
    hasher.start()
    let outcomes = await withTaskGroup(of: PasswordHasher.Failure?.self) { group in
      for _ in 0..<8 {
        group.addTask {
          do throws(PasswordHasher.Failure) {
            _ = try await hasher.hash("correct horse battery")
            return nil
          } catch {
            return error
          }
        }
      }
      return await group.reduce(into: []) { $0.append($1) }
    }
    // At most two are admitted at a time (one hashing, one queued); the rest fail fast.
    #expect(outcomes.filter { $0 == nil }.count >= 2)
    #expect(outcomes.contains(PasswordHasher.Failure.saturated))
    #expect(!outcomes.contains(PasswordHasher.Failure.unavailable))
    try await hasher.shutdown()
  }
}

@Suite("Page tokens")
struct PageTokensTests {
  @Test("a token opens only for the query it was sealed for, with the key that sealed it")
  func sealing() {
    let tokens = PageTokens(key: PageTokens.generateKey())
    let cursor: [UInt8] = [0, 1, 2, 250, 255]
    let token = tokens.seal(cursor, query: "list:host-a:false")
    #expect(token.utf8.allSatisfy { $0 != UInt8(ascii: "+") && $0 != UInt8(ascii: "/") && $0 != UInt8(ascii: "=") })
    #expect(tokens.open(token, query: "list:host-a:false") == cursor)
    #expect(tokens.open(token, query: "list:host-a:true") == nil)
    #expect(PageTokens(key: PageTokens.generateKey()).open(token, query: "list:host-a:false") == nil)
    // Every single-character edit is refused.
    var edited = Array(token)
    for index in edited.indices {
      let original = edited[index]
      edited[index] = original == "A" ? "B" : "A"
      #expect(tokens.open(String(edited), query: "list:host-a:false") == nil)
      edited[index] = original
    }
    #expect(tokens.open("", query: "q") == nil && tokens.open("!!!", query: "q") == nil)
  }
}
