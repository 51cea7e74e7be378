import MarketplaceCore
import MarketplaceProtos
import MarketplaceStorage
import RPCCore

extension Marketplace_V1_Booking.Builder {
  func fill(from booking: Booking) {
    id = booking.id.description
    propertyId = booking.propertyID.description
    guestId = booking.guestID.description
    stay.fill(from: booking.stay)
    guests = Int32(booking.guests)
    status = Marketplace_V1_BookingStatus(booking.status)
    price.fill(from: booking.price)
    if let deadline = booking.expiresAt {
      switch booking.status {
      case .pending: paymentDeadline.fill(from: deadline)
      case .awaitingHost: hostAnswerDeadline.fill(from: deadline)
      default: break
      }
    }
    createdAt.fill(from: booking.createdAt)
    updatedAt.fill(from: booking.updatedAt)
  }
}

extension Marketplace_V1_PriceBreakdown.Builder {
  func fill(from price: PriceBreakdown) {
    nights = Int32(price.nights)
    pricePerNight.fill(from: price.pricePerNight)
    accommodation.fill(from: price.accommodation)
    cleaningFee.fill(from: price.cleaningFee)
    total.fill(from: price.total)
  }
}

extension Marketplace_V1_DateRange.Builder {
  func fill(from range: DateRange) {
    start.fill(from: range.checkIn)
    end.fill(from: range.checkOut)
  }
}

extension Marketplace_V1_LocalDate.Builder {
  func fill(from date: LocalDate) {
    let (year, month, day) = date.components
    self.year = Int32(year)
    self.month = Int32(month)
    self.day = Int32(day)
  }
}

extension Marketplace_V1_DateBlock.Builder {
  func fill(from block: DateBlock) {
    id = block.id.description
    propertyId = block.propertyID.description
    dates.fill(from: block.dates)
    createdAt.fill(from: block.createdAt)
  }
}

extension Marketplace_V1_BookingStatus {
  init(_ status: Booking.Status) {
    switch status {
    case .pending: self = .pending
    case .awaitingHost: self = .awaitingHost
    case .confirmed: self = .confirmed
    case .cancelled: self = .cancelled
    case .declined: self = .declined
    case .completed: self = .completed
    }
  }
}

extension Booking.Status {
  /// The status a request names in `field`, or INVALID_ARGUMENT for one this server does not know.
  init(requested status: Marketplace_V1_BookingStatus, field: String) throws(ValidationError) {
    guard let known = Booking.Status.allCases.first(where: { Marketplace_V1_BookingStatus($0) == status }) else {
      throw ValidationError(field: field, rule: "holds a value this server does not know (\(status.rawValue))")
    }
    self = known
  }
}

extension Marketplace_V1_CreateBookingRequest.View {
  var domainRequest: BookStay.Request {
    var request = BookStay.Request()
    request.propertyID = propertyId
    if let stay { request.stay = (stay.start?.dateInput, stay.end?.dateInput) }
    request.guests = guests
    return request
  }
}
