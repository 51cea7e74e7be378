public import Logging
public import MarketplaceCore
import MarketplaceStorage
public import Postgres
import Synchronization

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Runs the durable job queue's jobs (in place of Celery): `config.workers` worker tasks claim due
/// jobs (`JobRepository.claim`), run their kind's `JobHandler`, and record the outcome.
///
/// - Outcomes: success; `JobFailure.permanent` fails the job; any other error retries it after
///   `RetryPolicy`'s backoff, until the job's attempts are used up, when it is dead (kept for
///   inspection, logged at error level). A job of a kind with no handler fails.
/// - Waiting: a worker that finds nothing due sleeps until woken or `pollInterval` passes. One
///   LISTEN per runner on `JobRepository.wakeChannel` (which `enqueue` notifies at commit, once per
///   job) wakes one idle worker per job, and all of them after a gap in listening; `wake()` wakes
///   them all by hand (when a test clock moves, say). A retry this runner scheduled wakes them
///   when it is due.
/// - Leases: a claim leases the job for `leaseDuration`; while the handler runs, the lease is
///   extended every half of it, so only a dead or stalled worker loses its job to another one.
/// - Retention: every `purgeInterval`, succeeded jobs older than `retention` are deleted, in
///   batches; failed and dead ones stay for inspection.
/// - Shutdown: cancelling `run()` stops the claiming; jobs already claimed run to completion and
///   their outcome is recorded, then `run()` returns.
///
/// Workers are tasks on the cooperative pool (never on an event loop), and nothing blocks a
/// thread. Logs name jobs by id, kind and attempt, errors by type: never payload values.
///
/// ```swift
/// let runner = JobRunner(
///   client: client, handlers: ["booking.expire": BookingExpiryHandler(...)], clock: clock, logger: logger)
/// await runner.run()
/// ```
public final class JobRunner: Sendable {
  public struct Config: Sendable, Hashable {
    /// Jobs run at once by this process (worker tasks).
    public var workers: Int
    /// How long a claimed job stays a worker's without a heartbeat.
    public var leaseDuration: Duration
    /// How long an idle worker sleeps between looks when nothing wakes it: the longest a job
    /// becoming due by time alone, or one whose wake-up was missed, waits.
    public var pollInterval: Duration
    /// Backoff between attempts; the job's own `max_attempts` (set at enqueue) bounds them.
    public var retryPolicy: RetryPolicy
    /// How long a succeeded job is kept before it is deleted.
    public var retention: Duration
    /// How often the runner deletes the succeeded jobs past `retention`.
    public var purgeInterval: Duration

    public init(
      workers: Int = 2, leaseDuration: Duration = .seconds(60), pollInterval: Duration = .seconds(5),
      retryPolicy: RetryPolicy = RetryPolicy(), retention: Duration = .seconds(7 * 86_400),
      purgeInterval: Duration = .seconds(600)
    ) {
      precondition(workers >= 0, "workers must not be negative")
      precondition(leaseDuration >= .seconds(1) && pollInterval > .zero, "lease and poll interval must be positive")
      precondition(retention >= .zero && purgeInterval > .zero, "retention and purge interval must be positive")
      self.workers = workers
      self.leaseDuration = leaseDuration
      self.pollInterval = pollInterval
      self.retryPolicy = retryPolicy
      self.retention = retention
      self.purgeInterval = purgeInterval
    }
  }

  public let config: Config
  /// `host:pid:token`, unique to this runner; its workers own leases as `<identity>:worker-<n>`.
  public let identity: String
  private let client: PGClient
  private let handlers: [String: any JobHandler]
  private let clock: any WallClock
  private let logger: Logger
  private let wakeUps = JobWakeUps()
  private let listening = Atomic<Bool>(false)
  /// Whether `run()` is in progress: two at once would share lease owners.
  private let running = Atomic<Bool>(false)
  /// When retries this runner scheduled sooner than a poll interval fall due (monotonic time),
  /// so that idle workers wake for them.
  private let dueRetries = Mutex<[ContinuousClock.Instant]>([])

  /// How long one statement (a claim, an outcome, a heartbeat) may take.
  private static let statementTimeout: Duration = .seconds(15)

  /// A runner for the `handlers` by kind (`"booking.expire": BookingExpiryHandler(...)`), reading
  /// which jobs are due from `clock`.
  public init(
    client: PGClient, handlers: [String: any JobHandler], config: Config = Config(), clock: any WallClock,
    logger: Logger
  ) {
    self.client = client
    self.handlers = handlers
    self.config = config
    self.clock = clock
    self.logger = logger
    self.identity = Self.processIdentity()
  }

  /// Whether the runner listens for wake-ups (otherwise its workers only poll).
  public var isListening: Bool { listening.load(ordering: .acquiring) }

  /// Wakes the idle workers to look for due jobs now: for when the domain clock moved (jobs
  /// became due with no enqueue to announce them).
  public func wake() {
    wakeUps.wakeAll()
  }

  /// Runs the workers and the wake-up listener until cancelled; then lets the jobs in hand finish
  /// and returns. Returns at once with no workers, or with no handlers (every job would fail as
  /// one of an unknown kind). Not to be called again before it returned.
  public func run() async {
    guard config.workers > 0 else { return }
    guard !handlers.isEmpty else {
      logger.notice("no job handlers registered: job workers not started")
      return
    }
    let (first, _) = running.compareExchange(expected: false, desired: true, ordering: .acquiringAndReleasing)
    precondition(first, "JobRunner.run() is already running")
    defer { running.store(false, ordering: .releasing) }
    logger.notice(
      "job runner started",
      metadata: [
        "jobs.workers": "\(config.workers)", "jobs.runner": "\(identity)",
        "jobs.kinds": "\(handlers.keys.sorted().joined(separator: ","))",
      ])
    await withDiscardingTaskGroup { group in
      group.addTask { await self.listenForWakeUps() }
      group.addTask { await self.purgePeriodically() }
      for index in 1...config.workers {
        let owner = "\(identity):worker-\(index)"
        group.addTask { await self.work(as: owner) }
      }
    }
    logger.notice("job runner stopped", metadata: ["jobs.runner": "\(identity)"])
  }

  // MARK: Workers

  private enum Step {
    case ranJob
    case foundNothing
    case claimFailed
  }

  private func work(as owner: String) async {
    while !Task.isCancelled {
      let seen = wakeUps.generation
      let claimStart = ContinuousClock.now
      // A task of its own, which this worker's cancellation does not reach: at shutdown a claim
      // in flight completes, and the job it claimed runs and has its outcome recorded.
      let step = await Task { await self.claimAndRun(as: owner) }.value
      switch step {
      case .ranJob: continue
      case .foundNothing:
        await wakeUps.wait(unlessRungSince: seen, timeout: idleTimeout(afterEmptyClaimAt: claimStart))
      case .claimFailed: await wakeUps.wait(unlessRungSince: seen, timeout: config.pollInterval)
      }
    }
  }

  private func claimAndRun(as owner: String) async -> Step {
    let claimed: ClaimedJob?
    do {
      claimed = try await client.run(
        JobRepository.claim(owner: owner, leaseSeconds: leaseSeconds, now: clock.now), deadline: statementDeadline())
    } catch {
      var metadata = error.logMetadata
      metadata["jobs.worker"] = "\(owner)"
      logger.warning("could not claim a job", metadata: metadata)
      return .claimFailed
    }
    guard let job = claimed else { return .foundNothing }
    await process(job, as: owner)
    return .ranJob
  }

  private func process(_ job: ClaimedJob, as owner: String) async {
    var logger = logger
    logger[metadataKey: "job.id"] = "\(job.id)"
    logger[metadataKey: "job.kind"] = "\(job.kind)"
    logger[metadataKey: "job.attempt"] = "\(job.attempt)/\(job.maxAttempts)"
    logger[metadataKey: "jobs.worker"] = "\(owner)"

    guard let handler = handlers[job.kind] else {
      logger.error("no handler for the job's kind: it failed")
      await record(JobRepository.fail(id: job.id, owner: owner, error: "no handler for this kind"), logger)
      return
    }
    guard job.attempt <= job.maxAttempts else {
      // The last attempt's worker died or stalled past its lease: that attempt counted.
      logger.error("the job's last attempt lost its lease: it is dead")
      let error = "attempts used up (the lease of the last attempt ran out)"
      await record(JobRepository.bury(id: job.id, owner: owner, error: error), logger)
      return
    }

    logger.debug("job started")
    let started = ContinuousClock.now
    guard let error = await runHandler(handler, job, owner: owner, logger: logger) else {
      logger.debug("job succeeded", metadata: ["job.duration": "\(ContinuousClock.now - started)"])
      await record(JobRepository.succeed(id: job.id, owner: owner), logger)
      return
    }
    let errorType = "\(type(of: error))"
    if let failure = error as? JobFailure, case .permanent(let reason) = failure {
      logger.error("job failed permanently")
      await record(JobRepository.fail(id: job.id, owner: owner, error: Self.lastError(reason)), logger)
      return
    }
    var policy = config.retryPolicy
    policy.maxAttempts = job.maxAttempts
    switch policy.decision(afterFailedAttempt: job.attempt, jitter: .random(in: 0..<1)) {
    case .dead:
      logger.error("job failed and used up its attempts: it is dead", metadata: ["error.type": "\(errorType)"])
      await record(JobRepository.bury(id: job.id, owner: owner, error: Self.lastError(error)), logger)
    case .retry(let delay):
      logger.warning("job failed: retrying", metadata: ["error.type": "\(errorType)", "job.retry_in": "\(delay)"])
      let runAfter = clock.now.adding(delay)
      let retry = JobRepository.retry(id: job.id, owner: owner, runAfter: runAfter, error: Self.lastError(error))
      // Once committed, not before: a look before would not see the job queued again.
      if await record(retry, logger) { scheduleWakeUp(after: delay) }
    }
  }

  /// Runs the handler while a heartbeat keeps the job's lease; returns what it threw.
  private func runHandler(
    _ handler: any JobHandler, _ job: ClaimedJob, owner: String, logger: Logger
  ) async -> (any Error)? {
    await withTaskGroup(of: Void.self, returning: (any Error)?.self) { group in
      group.addTask { await self.keepLease(of: job, owner: owner, logger: logger) }
      defer { group.cancelAll() }
      do {
        try await handler.handle(job)
        return nil
      } catch {
        return error
      }
    }
  }

  /// Extends the lease every half lease until cancelled (the handler returned) or lost.
  private func keepLease(of job: ClaimedJob, owner: String, logger: Logger) async {
    while true {
      do {
        try await Task.sleep(for: config.leaseDuration / 2)
      } catch {
        return
      }
      do {
        let held = try await client.run(
          JobRepository.extendLease(id: job.id, owner: owner, leaseSeconds: leaseSeconds),
          deadline: statementDeadline())
        guard held else {
          logger.warning("the job's lease was lost to another worker: this attempt's outcome will be dropped")
          return
        }
      } catch {
        if Task.isCancelled { return }
        logger.warning("could not extend the job's lease", metadata: error.logMetadata)
      }
    }
  }

  // MARK: Retention

  /// Deletes the succeeded jobs past `retention` every `purgeInterval`, until cancelled. Each
  /// round deletes batch after batch until one comes back short, so a backlog (after downtime)
  /// goes at once, in short statements.
  private func purgePeriodically() async {
    let retentionSeconds = Double(config.retention.components.seconds)
    let batch = 1_000
    while true {
      do { try await Task.sleep(for: config.purgeInterval) } catch { return }
      do {
        var purged = 0
        while true {
          let deleted = try await client.run(
            JobRepository.purgeSucceeded(retentionSeconds: retentionSeconds, limit: batch),
            deadline: statementDeadline())
          purged += deleted
          if deleted < batch { break }
        }
        if purged > 0 { logger.info("succeeded jobs purged", metadata: ["jobs.purged": "\(purged)"]) }
      } catch {
        if Task.isCancelled { return }
        var metadata = error.logMetadata
        metadata["jobs.runner"] = "\(identity)"
        logger.warning("purging succeeded jobs failed; retried at the next round", metadata: metadata)
      }
    }
  }

  /// Records an outcome, trying again a few times while the database is unreachable (an outcome
  /// not recorded makes the job run again once its lease runs out); returns whether it was.
  @discardableResult
  private func record(_ outcome: PGQuery<Bool>, _ logger: Logger) async -> Bool {
    let tries = 3
    for attempt in 1...tries {
      do {
        let recorded = try await client.run(outcome, deadline: statementDeadline())
        if !recorded {
          logger.warning("the job is no longer this worker's (its lease ran out): this outcome was dropped")
        }
        return recorded
      } catch {
        var metadata = error.logMetadata
        metadata["jobs.try"] = "\(attempt)/\(tries)"
        logger.warning("could not record the job's outcome", metadata: metadata)
        if attempt < tries { try? await Task.sleep(for: .seconds(attempt)) }
      }
    }
    logger.error("the job's outcome was not recorded: it runs again once its lease runs out")
    return false
  }

  // MARK: Wake-ups

  private func listenForWakeUps() async {
    for await event in client.notifications(on: JobRepository.wakeChannel) {
      switch event {
      case .listening:
        listening.store(true, ordering: .releasing)
        // Jobs enqueued before LISTEN announced themselves to nobody.
        wakeUps.wakeAll()
      case .resumedAfterGap:
        listening.store(true, ordering: .releasing)
        logger.notice("job wake-ups resumed")
        wakeUps.wakeAll()
      case .connectionLost:
        listening.store(false, ordering: .releasing)
        logger.warning("job wake-ups interrupted: idle workers poll until they resume")
      case .notification:
        wakeUps.wakeOne()
      }
    }
    listening.store(false, ordering: .releasing)
  }

  /// Remembers that a retry falls due after `delay`, when idle workers should look again; only
  /// sooner than a poll interval matters (polling finds the others as soon).
  private func scheduleWakeUp(after delay: Duration) {
    guard delay < config.pollInterval else { return }
    // Its due time was read from the domain clock before this instant: due by then.
    let instant = ContinuousClock.now + delay
    dueRetries.withLock { $0.append(instant) }
  }

  /// How long a worker whose claim, started at `claimStart`, found nothing due sleeps: a poll
  /// interval, or until the next retry this runner scheduled falls due.
  private func idleTimeout(afterEmptyClaimAt claimStart: ContinuousClock.Instant) -> Duration {
    let next = dueRetries.withLock { instants -> ContinuousClock.Instant? in
      // A retry due before that claim started was due for it, and taken already.
      instants.removeAll { $0 <= claimStart }
      return instants.min()
    }
    guard let next else { return config.pollInterval }
    // Past already (it fell due while the claim ran): look again at once.
    return min(config.pollInterval, max(next - ContinuousClock.now, .zero))
  }

  // MARK: Helpers

  private var leaseSeconds: Double {
    let (seconds, attoseconds) = config.leaseDuration.components
    return Double(seconds) + Double(attoseconds) / 1e18
  }

  private func statementDeadline() -> ContinuousClock.Instant { .now + Self.statementTimeout }

  /// The text stored as the job's last error, bounded.
  private static func lastError(_ error: any Error) -> String {
    lastError(String(describing: error))
  }

  private static func lastError(_ text: String) -> String {
    text.count > 1_000 ? String(text.prefix(1_000)) + "…" : text
  }

  /// `host:pid:token`: the host and process tell an operator where a lease's worker ran; the
  /// random token tells apart runners of one process and a process id reused after a restart.
  private static func processIdentity() -> String {
    var name = [CChar](repeating: 0, count: 256)
    let host =
      gethostname(&name, name.count - 1) == 0
      ? String(decoding: name.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self) : "unknown-host"
    let token = String(UInt64.random(in: 0..<(1 << 40)), radix: 36)
    return "\(host):\(getpid()):\(token)"
  }
}
