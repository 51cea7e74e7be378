import MarketplaceCore
import MarketplaceProtos
import RPCCore

extension Marketplace_V1_Money.Builder {
  func fill(from money: Money) {
    amountMinor = money.amountMinor
    currency = money.currency.code
  }
}

extension Google_Protobuf_Timestamp.Builder {
  func fill(from timestamp: Timestamp) {
    let micros = timestamp.microsecondsSinceEpoch
    let (seconds, remainder) = micros.quotientAndRemainder(dividingBy: 1_000_000)
    // Timestamp's nanos are never negative: borrow a second before the epoch.
    self.seconds = remainder < 0 ? seconds - 1 : seconds
    nanos = Int32((remainder < 0 ? remainder + 1_000_000 : remainder) * 1_000)
  }
}
