import ArgumentParser
import Logging
import MarketplaceCore
import MarketplaceStorage
import Postgres

/// `marketplace-server users set-role`: the operator's way to make an administrator (the API never
/// grants that role), or to change any account's role.
struct UsersCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "users", abstract: "Manages accounts from the operator's side.", subcommands: [SetRole.self])

  struct SetRole: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "set-role",
      abstract: "Sets an account's role (guest, host or admin); the only way to make an administrator.")

    @OptionGroup var database: DatabaseOptions

    @Option(help: "The account's email (matched case-insensitively).")
    var email: String

    @Option(help: "guest, host or admin.")
    var role: String

    func validate() throws {
      guard User.Role(rawValue: role) != nil else { throw ValidationError("--role must be guest, host or admin") }
    }

    func run() async throws {
      bootstrapLogging(level: .notice)
      let logger = Logger(label: "marketplace.users")
      let database = try await database.open(logger: logger, sharingEmbedded: true)
      let pool = database.toolPool(connections: 1, logger: logger)
      let role = User.Role(rawValue: role)!
      let updated = try await pool.withTransaction { session -> User? in
        guard let user = try session.run(UserRepository.find(email: email)) else { return nil }
        // Every server drops the account's cached sessions (at commit), so the new role applies at once.
        _ = try session.run(MarketplaceCache.notify(.user(user.id)))
        return try session.run(UserRepository.updateRole(id: user.id, role: role))
      }
      await pool.close()
      try await database.close()
      guard let updated else { throw ValidationError("no account has the email \(email)") }
      print("\(updated.id) is now \(updated.role.rawValue)")
    }
  }
}
