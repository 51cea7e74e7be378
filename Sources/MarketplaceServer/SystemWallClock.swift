import Foundation
import MarketplaceCore

/// The machine's clock, as the rules read it.
struct SystemWallClock: WallClock {
  var now: Timestamp {
    Timestamp(microsecondsSinceEpoch: Int64((Date().timeIntervalSince1970 * 1_000_000).rounded()))
  }
}
