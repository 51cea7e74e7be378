import Synchronization
import Testing

@testable import MarketplaceRPC

/// How idle job workers are woken: one per new job, all after a gap, and none sleeps through a
/// wake-up that came while it was looking for work.
@Suite("job wake-ups")
struct JobWakeUpsTests {
  /// The indices of the waiters that returned, in order.
  final class Woken: Sendable {
    private let indices = Mutex<[Int]>([])
    func append(_ index: Int) { indices.withLock { $0.append(index) } }
    var list: [Int] { indices.withLock { $0 } }
  }

  /// Starts `count` waiters (with a minute's timeout) and returns once all of them wait; each
  /// appends its index to `woken` when it returns.
  static func waiters(_ count: Int, on wakeUps: JobWakeUps, woken: Woken, in group: inout TaskGroup<Void>)
    async
  {
    for index in 0..<count {
      let seen = wakeUps.generation
      group.addTask {
        await wakeUps.wait(unlessRungSince: seen, timeout: .seconds(60))
        woken.append(index)
      }
      while wakeUps.waitingCount < index + 1 { await Task.yield() }
    }
  }

  @Test("a job wakes the worker waiting longest and no other; a gap wakes them all", .timeLimit(.minutes(1)))
  func wakeOneThenAll() async {
    let wakeUps = JobWakeUps()
    let woken = Woken()
    await withTaskGroup(of: Void.self) { group in
      await Self.waiters(3, on: wakeUps, woken: woken, in: &group)
      wakeUps.wakeOne()
      while woken.list.isEmpty { await Task.yield() }
      #expect(woken.list == [0])
      #expect(wakeUps.waitingCount == 2, "the others still wait")
      wakeUps.wakeAll()
      await group.waitForAll()
    }
    #expect(woken.list.sorted() == [0, 1, 2])
  }

  @Test("a job enqueued while no worker waits is not slept through by the next one to wait", .timeLimit(.minutes(2)))
  func wakeBeforeWait() async {
    let wakeUps = JobWakeUps()
    let seen = wakeUps.generation  // read before looking for work, which found nothing
    wakeUps.wakeOne()  // a job came meanwhile
    let start = ContinuousClock.now
    await wakeUps.wait(unlessRungSince: seen, timeout: .seconds(60))
    #expect(ContinuousClock.now - start < .seconds(30), "it waited for its timeout")
    #expect(wakeUps.waitingCount == 0)
  }
}
