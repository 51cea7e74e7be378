import Foundation
import InMemoryLogging
import Logging
import MarketplaceCore
import MarketplaceRPC
import MarketplaceStorage
import Postgres
import Synchronization
import Testing

/// The job queue against a real PostgreSQL: `JobRepository`'s statements and `JobRunner`'s workers,
/// wake-ups, retries, leases and shutdown. Waits are bounded generously (the machine may be slow
/// and busy); nothing asserts speed, only what happened and in which order.
@Suite("JobQueue", .enabled(if: TestDatabase.shouldRun, TestDatabase.disabledReason))
struct JobQueueTests {
  /// The longest any test waits for something the runner does.
  static let patience: Duration = .seconds(30)

  /// A domain clock that follows real time and jumps forward when a test moves it.
  final class TestClock: WallClock {
    private let offsetMicroseconds = Atomic<Int64>(0)

    var now: Timestamp {
      let real = Int64((Date().timeIntervalSince1970 * 1_000_000).rounded())
      return Timestamp(microsecondsSinceEpoch: real + offsetMicroseconds.load(ordering: .relaxed))
    }

    func advance(by duration: Duration) {
      let (seconds, attoseconds) = duration.components
      offsetMicroseconds.add(seconds * 1_000_000 + attoseconds / 1_000_000_000_000, ordering: .relaxed)
    }
  }

  /// Every call of a handler: the job as handed over, and the domain time of the call.
  final class Calls: Sendable {
    struct Call: Sendable {
      var job: ClaimedJob
      var at: Timestamp
    }

    private let calls = Mutex<[Call]>([])

    func record(_ job: ClaimedJob, at time: Timestamp) {
      calls.withLock { $0.append(Call(job: job, at: time)) }
    }

    var all: [Call] { calls.withLock { $0 } }
    var count: Int { calls.withLock { $0.count } }

    func of(_ id: Int64) -> [Call] { all.filter { $0.job.id == id } }
  }

  struct TransientError: Error, CustomStringConvertible {
    var description: String { "the gateway timed out" }
  }

  /// A runner for `handlers` (by kind) with a fast retry policy; pass a long poll interval to show
  /// that something other than polling woke it.
  static func runner(
    _ client: PGClient, _ handlers: [String: any JobHandler], clock: any WallClock, workers: Int = 2,
    leaseDuration: Duration = .seconds(60), pollInterval: Duration = .seconds(60), logger: Logger = TestDatabase.logger
  ) -> JobRunner {
    JobRunner(
      client: client, handlers: handlers,
      config: .init(
        workers: workers, leaseDuration: leaseDuration, pollInterval: pollInterval,
        retryPolicy: RetryPolicy(baseDelay: .milliseconds(50), maxDelay: .seconds(1))),
      clock: clock, logger: logger)
  }

  /// Runs `runner` while `body` runs, then cancels it and waits until it has stopped.
  static func whileRunning<T: Sendable>(_ runner: JobRunner, _ body: () async throws -> T) async throws -> T {
    let task = Task { await runner.run() }
    do {
      let result = try await body()
      task.cancel()
      await task.value
      return result
    } catch {
      task.cancel()
      await task.value
      throw error
    }
  }

  static func job(_ client: PGClient, _ id: Int64) async throws -> JobRecord {
    try #require(try await client.run(JobRepository.find(id: id)))
  }

  static func eventually(_ condition: () async throws -> Bool) async rethrows -> Bool {
    try await TestDatabase.eventually(timeout: patience, condition)
  }

  /// Expects `condition` to hold within `patience`.
  static func expectEventually(
    sourceLocation: SourceLocation = #_sourceLocation, _ condition: () async throws -> Bool
  ) async throws {
    let held = try await eventually(condition)
    #expect(held, "not within \(patience)", sourceLocation: sourceLocation)
  }

  @Test("four workers handle each of 200 jobs exactly once")
  func exactlyOnce() async throws {
    try await TestDatabase.withClient(maximumConnections: 6, migrated: true) { client, _ in
      let clock = TestClock()
      let calls = Calls()
      let handler = JobHandlerFunction { job in
        calls.record(job, at: clock.now)
        try await Task.sleep(for: .milliseconds(Int.random(in: 0...3)))
      }
      let runner = Self.runner(client, ["test.count": handler], clock: clock, workers: 4, pollInterval: .seconds(1))
      var ids: [Int64] = []
      // Half queued before the runner starts, half while it runs.
      for index in 0..<100 {
        ids.append(
          try await client.run(
            JobRepository.enqueue(kind: "test.count", payload: ["n": "\(index)"], runAfter: clock.now)))
      }
      try await Self.whileRunning(runner) {
        for index in 100..<200 {
          ids.append(
            try await client.run(
              JobRepository.enqueue(kind: "test.count", payload: ["n": "\(index)"], runAfter: clock.now)))
        }
        let done = try await Self.eventually {
          try await client.run(JobRepository.list(states: [.succeeded], limit: 1_000)).count == 200
        }
        #expect(done, "all 200 jobs succeeded")
      }
      let perJob = Dictionary(grouping: calls.all, by: \.job.id)
      #expect(Set(perJob.keys) == Set(ids))
      #expect(
        perJob.values.allSatisfy { $0.count == 1 },
        "handled more than once: \(perJob.filter { $0.value.count > 1 }.keys.sorted())")
      #expect(calls.all.allSatisfy { $0.job.attempt == 1 && $0.job.payload["n"] != nil })
      let records = try await client.run(JobRepository.list(states: [], limit: 1_000))
      #expect(records.count == 200 && records.allSatisfy { $0.state == .succeeded && $0.attempts == 1 })
    }
  }

  @Test("a job failing twice is retried with backoff and succeeds on its third attempt")
  func retriedWithBackoff() async throws {
    try await TestDatabase.withClient(migrated: true) { client, _ in
      let clock = TestClock()
      let calls = Calls()
      let handler = JobHandlerFunction { job in
        calls.record(job, at: clock.now)
        if job.attempt < 3 { throw TransientError() }
      }
      // A 60 s poll interval: only the runner's own wake-up for its retry can make this quick.
      let runner = Self.runner(client, ["test.flaky": handler], clock: clock)
      let id = try await client.run(JobRepository.enqueue(kind: "test.flaky", runAfter: clock.now))
      try await Self.whileRunning(runner) {
        try await Self.expectEventually { try await Self.job(client, id).state == .succeeded }
      }
      let attempts = calls.of(id)
      #expect(attempts.map(\.job.attempt) == [1, 2, 3])
      // Equal jitter: at least half of 50 ms, then half of 100 ms, between attempts (domain time).
      if attempts.count == 3 {
        let gaps = zip(attempts, attempts.dropFirst()).map {
          $1.at.microsecondsSinceEpoch - $0.at.microsecondsSinceEpoch
        }
        #expect(gaps[0] >= 25_000 && gaps[1] >= 50_000, "gaps \(gaps) µs")
      }
      let record = try await Self.job(client, id)
      #expect(record.attempts == 3 && record.lastError == "the gateway timed out")
    }
  }

  @Test("a job that always fails is dead after its attempts, and an operator's retry requeues it")
  func deadAndRequeued() async throws {
    try await TestDatabase.withClient(migrated: true) { client, _ in
      let clock = TestClock()
      let calls = Calls()
      let logs = InMemoryLogHandler()
      var logger = Logger(label: "jobs") { _ in logs }
      logger.logLevel = .trace
      let secret = "guest-\(UInt32.random(in: 0...UInt32.max))@example.com"
      let failing = JobHandlerFunction { job in
        calls.record(job, at: clock.now)
        throw TransientError()
      }
      let id = try await client.run(
        JobRepository.enqueue(kind: "test.broken", payload: ["email": secret], runAfter: clock.now, maxAttempts: 3))
      try await Self.whileRunning(Self.runner(client, ["test.broken": failing], clock: clock, logger: logger)) {
        try await Self.expectEventually { try await Self.job(client, id).state == .dead }
      }
      #expect(calls.of(id).map(\.job.attempt) == [1, 2, 3])
      var record = try await Self.job(client, id)
      #expect(record.attempts == 3 && record.maxAttempts == 3 && record.lastError == "the gateway timed out")
      let dead = try #require(logs.entries.first { $0.level == .error })
      #expect(dead.metadata["job.id"] == "\(id)" && dead.metadata["job.kind"] == "test.broken")
      let everything = logs.entries.map { "\($0.message) \($0.metadata)" }.joined(separator: "\n")
      #expect(!everything.contains(secret), "a payload value was logged")
      #expect(try await client.run(JobRepository.list(states: [.dead], limit: 10)).map(\.id) == [id])

      // Requeued: attempts reset, due now; a job that is not dead is refused.
      #expect(try await client.run(JobRepository.retryDead(id: id, now: clock.now)))
      record = try await Self.job(client, id)
      #expect(record.state == .queued && record.attempts == 0 && record.runAfter <= clock.now)
      #expect(try await client.run(JobRepository.retryDead(id: id, now: clock.now)) == false)
      #expect(try await client.run(JobRepository.retryDead(id: id + 1_000, now: clock.now)) == false)

      let fixed = JobHandlerFunction { job in calls.record(job, at: clock.now) }
      try await Self.whileRunning(Self.runner(client, ["test.broken": fixed], clock: clock)) {
        try await Self.expectEventually { try await Self.job(client, id).state == .succeeded }
      }
      #expect(calls.of(id).map(\.job.attempt) == [1, 2, 3, 1])
    }
  }

  @Test("a job whose worker died is claimed again once its lease runs out, and the dead worker cannot finish it")
  func expiredLeaseReclaimed() async throws {
    try await TestDatabase.withClient(migrated: true) { client, _ in
      let clock = TestClock()
      let calls = Calls()
      let id = try await client.run(JobRepository.enqueue(kind: "test.orphan", runAfter: clock.now))
      let crashed = "crashed-host:1:token:worker-1"
      let first = try await client.run(JobRepository.claim(owner: crashed, leaseSeconds: 1, now: clock.now))
      #expect(first?.id == id && first?.attempt == 1)

      let handler = JobHandlerFunction { job in calls.record(job, at: clock.now) }
      // Polling (not a wake-up) finds a lease that ran out.
      let runner = Self.runner(client, ["test.orphan": handler], clock: clock, pollInterval: .milliseconds(200))
      try await Self.whileRunning(runner) {
        try await Self.expectEventually { try await Self.job(client, id).state == .succeeded }
      }
      #expect(calls.of(id).map(\.job.attempt) == [2])
      let record = try await Self.job(client, id)
      #expect(record.attempts == 2 && record.leaseOwner?.hasPrefix(runner.identity) == true)
      // The old worker's late outcomes change nothing.
      #expect(try await client.run(JobRepository.succeed(id: id, owner: crashed)) == false)
      #expect(try await client.run(JobRepository.fail(id: id, owner: crashed, error: "late")) == false)
      #expect(
        try await client.run(JobRepository.retry(id: id, owner: crashed, runAfter: clock.now, error: "late")) == false)
      #expect(try await client.run(JobRepository.bury(id: id, owner: crashed, error: "late")) == false)
      #expect(try await Self.job(client, id).state == .succeeded)
    }
  }

  @Test("a NOTIFY from enqueue wakes an idle runner long before its poll interval")
  func wokenByNotify() async throws {
    try await TestDatabase.withClient(migrated: true) { client, _ in
      let clock = TestClock()
      let calls = Calls()
      let handler = JobHandlerFunction { job in calls.record(job, at: clock.now) }
      let pollInterval = Duration.seconds(60)
      let runner = Self.runner(client, ["test.wake": handler], clock: clock, pollInterval: pollInterval)
      try await Self.whileRunning(runner) {
        try await Self.expectEventually { runner.isListening }
        // Its workers looked once listening, found nothing, and went to sleep for a minute.
        try await Task.sleep(for: .milliseconds(500))
        let enqueued = ContinuousClock.now
        _ = try await client.run(JobRepository.enqueue(kind: "test.wake", runAfter: clock.now))
        try await Self.expectEventually { calls.count == 1 }
        #expect(ContinuousClock.now - enqueued < pollInterval)
      }
    }
  }

  @Test("a job scheduled for later runs only once the domain clock passes it and the runner is woken")
  func scheduledForLater() async throws {
    try await TestDatabase.withClient(migrated: true) { client, _ in
      let clock = TestClock()
      let calls = Calls()
      let handler = JobHandlerFunction { job in calls.record(job, at: clock.now) }
      let runner = Self.runner(client, ["test.later": handler], clock: clock)
      let due = clock.now.adding(.seconds(15 * 60))
      try await Self.whileRunning(runner) {
        try await Self.expectEventually { runner.isListening }
        let id = try await client.run(JobRepository.enqueue(kind: "test.later", runAfter: due))
        // Its NOTIFY woke the workers, who found nothing due.
        try await Task.sleep(for: .seconds(1))
        let waiting = try await Self.job(client, id)
        #expect(calls.count == 0 && waiting.state == .queued)
        clock.advance(by: .seconds(16 * 60))
        runner.wake()
        try await Self.expectEventually { calls.count == 1 }
        #expect(calls.all.first.map { $0.at >= due } == true)
      }
    }
  }

  @Test("a permanent failure and an unknown kind fail at once, without retries")
  func permanentFailures() async throws {
    try await TestDatabase.withClient(migrated: true) { client, _ in
      let clock = TestClock()
      let calls = Calls()
      let refusing = JobHandlerFunction { job in
        calls.record(job, at: clock.now)
        throw JobFailure.permanent("booking \(job.payload["booking_id"] ?? "?") is gone")
      }
      let runner = Self.runner(client, ["test.refused": refusing], clock: clock)
      let refused = try await client.run(
        JobRepository.enqueue(kind: "test.refused", payload: ["booking_id": "b-1"], runAfter: clock.now))
      let unknown = try await client.run(JobRepository.enqueue(kind: "test.nobody", runAfter: clock.now))
      try await Self.whileRunning(runner) {
        try await Self.expectEventually {
          let states = (try await Self.job(client, refused).state, try await Self.job(client, unknown).state)
          return states == (.failed, .failed)
        }
      }
      #expect(calls.count == 1)
      let (first, second) = (try await Self.job(client, refused), try await Self.job(client, unknown))
      #expect(first.attempts == 1 && first.lastError == "booking b-1 is gone")
      #expect(second.attempts == 1 && second.lastError == "no handler for this kind")
    }
  }

  @Test("a heartbeat keeps the lease of a job that runs longer than it")
  func heartbeat() async throws {
    try await TestDatabase.withClient(migrated: true) { client, _ in
      let clock = TestClock()
      let calls = Calls()
      let handler = JobHandlerFunction { job in
        calls.record(job, at: clock.now)
        try await Task.sleep(for: .milliseconds(5_500))
      }
      let runner = Self.runner(
        client, ["test.slow": handler], clock: clock, workers: 1, leaseDuration: .seconds(3),
        pollInterval: .milliseconds(200))
      let id = try await client.run(JobRepository.enqueue(kind: "test.slow", runAfter: clock.now))
      try await Self.whileRunning(runner) {
        try await Self.expectEventually { calls.count == 1 }
        // Past the first lease's end, another worker still cannot take it (a heartbeat at 1.5 s or
        // 3 s extended it).
        try await Task.sleep(for: .milliseconds(4_000))
        #expect(try await client.run(JobRepository.claim(owner: "intruder", leaseSeconds: 1, now: clock.now)) == nil)
        try await Self.expectEventually { try await Self.job(client, id).state == .succeeded }
      }
      let record = try await Self.job(client, id)
      #expect(calls.count == 1 && record.attempts == 1)
    }
  }

  @Test("at shutdown a running job finishes, uncancelled, and its outcome is recorded before run() returns")
  func gracefulShutdown() async throws {
    try await TestDatabase.withClient(migrated: true) { client, _ in
      let clock = TestClock()
      let calls = Calls()
      let sawCancellation = Atomic<Bool>(false)
      let handler = JobHandlerFunction { job in
        calls.record(job, at: clock.now)
        try await Task.sleep(for: .milliseconds(1_000))
        if Task.isCancelled { sawCancellation.store(true, ordering: .relaxed) }
      }
      let runner = Self.runner(client, ["test.drain": handler], clock: clock, pollInterval: .milliseconds(200))
      let id = try await client.run(JobRepository.enqueue(kind: "test.drain", runAfter: clock.now))
      let task = Task { await runner.run() }
      try await Self.expectEventually { calls.count == 1 }
      task.cancel()
      await task.value
      let cancelled = sawCancellation.load(ordering: .relaxed)
      #expect(!cancelled, "the handler saw the shutdown")
      #expect(try await Self.job(client, id).state == .succeeded)
    }
  }

  @Test(
    "succeeded jobs past the retention are deleted, in batches and by the runner; failed, dead and queued ones stay")
  func succeededJobsPurged() async throws {
    try await TestDatabase.withClient(migrated: true) { client, _ in
      let clock = TestClock()
      /// A job in `state` whose last change was `hours` ago (the database's time).
      func job(_ state: JobState, changedHoursAgo hours: Int) async throws -> Int64 {
        let id = try await client.run(JobRepository.enqueue(kind: "test.kept", runAfter: clock.now))
        try await client.run(
          PGQuery(
            """
            UPDATE jobs SET state = \(state.rawValue), updated_at = now() - make_interval(hours => \(hours)::int)
            WHERE id = \(id)
            """
          ) { _ in })
        return id
      }
      let week = 7 * 24
      var old: [Int64] = []
      for _ in 0..<3 { old.append(try await job(.succeeded, changedHoursAgo: week + 1)) }
      let recent = try await job(.succeeded, changedHoursAgo: 2)
      let kept = [try await job(.failed, changedHoursAgo: week + 1), try await job(.dead, changedHoursAgo: week + 1)]
      let queued = try await job(.queued, changedHoursAgo: week + 1)
      func remaining() async throws -> Set<Int64> {
        Set(try await client.run(JobRepository.list(states: [], limit: 100)).map(\.id))
      }

      let purge = JobRepository.purgeSucceeded(retentionSeconds: Double(week * 3600), limit: 2)
      #expect(try await client.run(purge) == 2)
      #expect(try await client.run(purge) == 1)
      #expect(try await client.run(purge) == 0)
      #expect(try await remaining() == Set(kept + [recent, queued]))

      // The runner, with an hour's retention: the recent success goes too; the queued job runs,
      // succeeds just now and stays.
      let runner = JobRunner(
        client: client, handlers: ["test.kept": JobHandlerFunction { _ in }],
        config: .init(workers: 1, retention: .seconds(3600), purgeInterval: .milliseconds(100)), clock: clock,
        logger: TestDatabase.logger)
      try await Self.whileRunning(runner) {
        try await Self.expectEventually { try await remaining() == Set(kept + [queued]) }
      }
      #expect(try await Self.job(client, queued).state == .succeeded)
    }
  }

  @Test("enqueue inside a transaction that rolls back leaves no job")
  func enqueueRollsBack() async throws {
    try await TestDatabase.withClient(migrated: true) { client, _ in
      struct Abort: Error {}
      await #expect(throws: Abort.self) {
        try await client.withTransaction { tx in
          _ = try await tx.run(JobRepository.enqueue(kind: "test.rollback", runAfter: TestClock().now))
          throw Abort()
        }
      }
      let jobs = try await client.run(JobRepository.list(states: [], limit: 10))
      #expect(jobs.isEmpty)
    }
  }
}
