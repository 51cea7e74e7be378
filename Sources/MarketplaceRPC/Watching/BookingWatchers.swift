public import Logging
public import MarketplaceCore
import MarketplaceStorage
public import Postgres
import Synchronization

/// `WatchBooking`'s fan-out. The process listens once for booking changes (the writers announce
/// each with `BookingRepository.announceChange`, delivered when their transaction commits); a
/// change of a booking somebody watches is read once and handed to each of its watchers. So a
/// watcher costs no database connection, and a thousand watchers of one booking one read.
public final class BookingWatchers: Sendable {
  private struct Watchers {
    var byBooking: [BookingID: [UInt64: AsyncStream<Booking>.Continuation]] = [:]
    var nextID: UInt64 = 0
  }

  private let watchers = Mutex(Watchers())
  private let database: PGClient

  public init(database: PGClient) { self.database = database }

  /// A subscription to the changes of booking `id`, from now on; it ends when dropped.
  public func subscribe(to id: BookingID) -> BookingChanges {
    // Only the latest states matter to a watcher that fell behind.
    let (stream, continuation) = AsyncStream<Booking>.makeStream(bufferingPolicy: .bufferingNewest(8))
    let key = watchers.withLock { state in
      state.nextID += 1
      state.byBooking[id, default: [:]][state.nextID] = continuation
      return state.nextID
    }
    continuation.onTermination = { [weak self] _ in
      self?.watchers.withLock { state in
        state.byBooking[id]?[key] = nil
        if state.byBooking[id]?.isEmpty == true { state.byBooking[id] = nil }
      }
    }
    return BookingChanges(stream: stream)
  }

  /// Delivers changes until the client closes or the task is cancelled. After a gap in the
  /// notifications every watched booking is read again, so no watcher misses a final state.
  public func run(logger: Logger) async {
    for await event in database.notifications(on: BookingRepository.changesChannel) {
      switch event {
      case .notification(_, let payload):
        if let id = BookingID(payload) { await deliver(id, logger: logger) }
      case .resumedAfterGap:
        for id in watchers.withLock({ Array($0.byBooking.keys) }) { await deliver(id, logger: logger) }
      case .listening, .connectionLost:
        break
      }
    }
  }

  private func deliver(_ id: BookingID, logger: Logger) async {
    guard watchers.withLock({ $0.byBooking[id] != nil }) else { return }
    do {
      guard let booking = try await database.run(BookingRepository.find(id: id)) else { return }
      for continuation in watchers.withLock({ Array(($0.byBooking[id] ?? [:]).values) }) {
        continuation.yield(booking)
      }
    } catch {
      logger.warning(
        "could not read a changed booking for its watchers",
        metadata: ["booking.id": "\(id)", "error": "\(error.kind)"])
    }
  }
}

/// The changes of one booking, as `BookingWatchers` delivers them.
public struct BookingChanges: Sendable {
  let stream: AsyncStream<Booking>

  /// The next state of the booking that is newer than `current`; nil when the watch ended (the
  /// task was cancelled: the client left).
  public func next(after current: Booking) async -> Booking? {
    for await booking in stream where booking.updatedAt > current.updatedAt || booking.status != current.status {
      return booking
    }
    return nil
  }
}
