import ArgumentParser
import Foundation
import Logging
import MarketplaceCore
import MarketplaceStorage
import Postgres

/// `marketplace-server jobs list|retry`: the operator's view of the job queue, and the way to give
/// a dead job another round of attempts.
struct JobsCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "jobs", abstract: "Inspects the job queue and requeues dead jobs.",
    subcommands: [List.self, Retry.self])

  struct List: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "list",
      abstract: "Prints the newest jobs, one a line: id, kind, state, attempts/max, run_after, last error.")

    @OptionGroup var database: DatabaseOptions

    @Option(
      help: ArgumentHelp(
        "Only jobs in this state (queued, running, succeeded, failed or dead); repeat for several.",
        valueName: "state"))
    var state: [JobState] = []

    @Option(help: "Most jobs printed.")
    var limit = 50

    func validate() throws {
      guard (1...10_000).contains(limit) else { throw ValidationError("--limit must be 1...10000") }
    }

    func run() async throws {
      bootstrapLogging(level: .notice)
      let logger = Logger(label: "marketplace.jobs")
      let database = try await database.open(logger: logger, sharingEmbedded: true)
      let pool = database.toolPool(connections: 1, logger: logger)
      let query = JobRepository.list(states: state, limit: limit)
      let jobs: [JobRecord]
      do {
        jobs = try await pool.withConnection { try $0.run(query) }
      } catch {
        await pool.close()
        try? await database.close()
        throw error
      }
      await pool.close()
      try await database.close()
      for job in jobs { print(Self.line(job)) }
    }

    /// `42  booking.expire  dead  10/10  2025-07-01T12:00:00.000000Z  <last error, 80 characters>`.
    static func line(_ job: JobRecord) -> String {
      // One line per job: whitespace runs (newlines included) become one space.
      let error = (job.lastError ?? "").split(whereSeparator: \.isWhitespace).joined(separator: " ")
      let shortError = error.count > 80 ? error.prefix(79) + "…" : Substring(error)
      return [
        "\(job.id)", job.kind, job.state.rawValue, "\(job.attempts)/\(job.maxAttempts)", "\(job.runAfter)",
        String(shortError),
      ].joined(separator: "  ")
    }
  }

  struct Retry: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "retry",
      abstract: "Requeues a dead job with its attempts reset, due now; other jobs are refused.")

    @OptionGroup var database: DatabaseOptions

    @Argument(help: "The job's id.")
    var id: Int64

    func run() async throws {
      bootstrapLogging(level: .notice)
      let logger = Logger(label: "marketplace.jobs")
      let database = try await database.open(logger: logger, sharingEmbedded: true)
      let pool = database.toolPool(connections: 1, logger: logger)
      let requeue = JobRepository.retryDead(id: id, now: SystemWallClock().now)
      let find = JobRepository.find(id: id)
      let (requeued, job): (Bool, JobRecord?)
      do {
        (requeued, job) = try await pool.withConnection { session in
          try session.run(requeue) ? (true, nil) : (false, try session.run(find))
        }
      } catch {
        await pool.close()
        try? await database.close()
        throw error
      }
      await pool.close()
      try await database.close()
      guard requeued else {
        let reason =
          if let job {
            "job \(id) is \(job.state.rawValue), not dead: only dead jobs are requeued"
          } else {
            "no job has the id \(id)"
          }
        FileHandle.standardError.write(Data("error: \(reason)\n".utf8))
        throw ExitCode.failure
      }
      print("job \(id) is queued again")
    }
  }
}
