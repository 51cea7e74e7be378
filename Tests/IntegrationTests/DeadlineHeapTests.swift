import Testing

@testable import Postgres

/// The client's deadline bookkeeping: soonest first, and answered requests do not pile up.
@Suite("deadline heap")
struct DeadlineHeapTests {
  static func request() -> PGRequest {
    PGRequest(.statements([], frame: .none), deadline: nil) { _ in }
  }

  @Test("requests come out soonest first, also after answered ones were dropped")
  func order() {
    var heap = DeadlineHeap()
    let start = ContinuousClock.now
    var pending: [ContinuousClock.Instant] = []
    for index in 0..<2000 {
      let deadline = start + .milliseconds(Int.random(in: 0..<100_000))
      let request = Self.request()
      heap.insert(deadline, request)
      if index % 3 == 0 { pending.append(deadline) } else { request.complete(.success([])) }
    }
    var popped: [ContinuousClock.Instant] = []
    while let (deadline, request) = heap.peek() {
      heap.removeFirst()
      if !request.isCompleted { popped.append(deadline) }
    }
    #expect(popped == pending.sorted())
  }

  @Test("requests answered long before their deadline are dropped as the heap grows")
  func answeredRequestsDoNotPileUp() {
    var heap = DeadlineHeap()
    let farAway = ContinuousClock.now + .seconds(3600)
    var largest = 0
    for _ in 0..<100_000 {
      let request = Self.request()
      heap.insert(farAway, request)
      request.complete(.success([]))
      largest = max(largest, heap.count)
    }
    #expect(largest <= 256)
  }
}
