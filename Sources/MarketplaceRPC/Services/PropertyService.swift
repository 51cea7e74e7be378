public import Credentials
public import MarketplaceCore
public import MarketplaceProtos
public import MarketplaceStorage
public import RPCCore

/// `marketplace.v1.PropertyService`: hosts create and manage listings; anyone reads and searches
/// them. Who may do what is `AccessPolicy`'s; what a valid listing is, `ListingRules`'.
public struct PropertyService: Marketplace_V1_PropertyService.ServiceProtocol {
  let database: DatabaseAccess
  let cache: MarketplaceCache
  let timeZones: any TimeZoneDirectory
  let pageTokens: PageTokens

  public init(
    database: DatabaseAccess, cache: MarketplaceCache, timeZones: any TimeZoneDirectory, pageTokens: PageTokens
  ) {
    self.database = database
    self.cache = cache
    self.timeZones = timeZones
    self.pageTokens = pageTokens
  }

  public func createProperty(
    _ request: Marketplace_V1_CreatePropertyRequest.View, context: ServerContext,
    response: Marketplace_V1_CreatePropertyResponse.Builder
  ) async throws {
    try AccessPolicy.check(.create, by: context.caller, on: nil)
    let host = try context.caller.signedIn()
    let listing = try ListingRules.validate(request.property?.listingInput ?? ListingInput(), timeZones: timeZones)
    let property = try await database.run(
      context, PropertyRepository.insert(id: .random(), hostID: host.userID, listing: listing))
    response.property.fill(from: property)
  }

  public func getProperty(
    _ request: Marketplace_V1_GetPropertyRequest.View, context: ServerContext,
    response: Marketplace_V1_GetPropertyResponse.Builder
  ) async throws {
    let id = try PropertyID(request.propertyId, field: "property_id")
    let property = try await cache.property(id, encode: Self.encodedResponse) {
      try await database.run(context, PropertyRepository.find(id: id))
    }
    try AccessPolicy.check(.read, by: context.caller, on: property, id: id)
    response.property.fill(from: property!)
  }

  /// `GetProperty` from memory, on the event loop with no task: the response as it was encoded
  /// when the listing was cached, or nil when it is not, and `getProperty` answers.
  public func getPropertyFromMemory(
    _ request: Marketplace_V1_GetPropertyRequest.View, context: ServerContext
  ) throws -> (any MessageSerializer)? {
    let id = try PropertyID(request.propertyId, field: "property_id")
    guard let cached = cache.cachedProperty(id) else { return nil }
    try AccessPolicy.check(.read, by: context.caller, on: cached.property, id: id)
    return EncodedMessage(cached.encoded)
  }

  /// A `GetPropertyResponse` holding `property`, serialized.
  static func encodedResponse(_ property: Property) -> [UInt8] {
    let response = Marketplace_V1_GetPropertyResponse.builder(in: Arena.make())
    response.property.fill(from: property)
    return response.serializedBytes()
  }

  public func updateProperty(
    _ request: Marketplace_V1_UpdatePropertyRequest.View, context: ServerContext,
    response: Marketplace_V1_UpdatePropertyResponse.Builder
  ) async throws {
    _ = try context.caller.signedIn()
    let id = try PropertyID(request.property?.id ?? "", field: "property.id")
    let current = try await database.run(context, PropertyRepository.find(id: id))
    try AccessPolicy.check(.update, by: context.caller, on: current, id: id)
    let change = try UpdateListing.validate(
      mask: request.updateMask.map { Array($0.paths) } ?? [], values: request.property?.listingInput ?? ListingInput(),
      current: current!.listing, timeZones: timeZones)
    var property = current!
    if !change.fields.isEmpty {
      let (updated, _) = try await database.run(
        context, PropertyRepository.update(id: id, listing: change.listing), MarketplaceCache.notify(.property(id)))
      cache.apply(.property(id))
      guard let updated else { throw AccessError.notFound(what: "listing \(id)") }  // deleted meanwhile
      property = updated
    }
    response.property.fill(from: property)
    response.setUpdatedFields(change.fields.map(\.rawValue))
  }

  public func deleteProperty(
    _ request: Marketplace_V1_DeletePropertyRequest.View, context: ServerContext,
    response: Marketplace_V1_DeletePropertyResponse.Builder
  ) async throws {
    _ = try context.caller.signedIn()
    let id = try PropertyID(request.propertyId, field: "property_id")
    try await database.withTransaction(context) { tx in
      // Locked: a booking being made (which locks the listing to share) waits for this, or
      // this for it, so the count below cannot miss one.
      let current = try await tx.run(PropertyRepository.findForUpdate(id: id))
      try AccessPolicy.check(.delete, by: context.caller, on: current, id: id)
      let upcoming = try await tx.run(
        BookingRepository.countUpcoming(propertyID: id, timeZone: current!.terms.timeZone))
      try DeleteListing.check(upcomingBookings: upcoming)
      _ = try await tx.run(PropertyRepository.delete(id: id), MarketplaceCache.notify(.property(id)))
    }
    cache.apply(.property(id))
  }

  public func listProperties(
    _ request: Marketplace_V1_ListPropertiesRequest.View, context: ServerContext,
    response: Marketplace_V1_ListPropertiesResponse.Builder
  ) async throws {
    let host = try context.caller.signedIn()
    let pageSize = try PageSize.validate(request.pageSize)
    // A token pages only through the listings it was issued for: this host, these filters.
    let query = "ListProperties:\(host.userID):\(request.includeDeleted)"
    let after: PropertyRepository.HostCursor? =
      request.pageToken.isEmpty ? nil : try pageTokens.cursor(request.pageToken, query: query)
    let found = try await database.run(
      context,
      PropertyRepository.list(
        hostID: host.userID, includingDeleted: request.includeDeleted, after: after, limit: pageSize + 1))
    let page = found.prefix(pageSize)
    for property in page { response.addProperties().fill(from: property) }
    if found.count > pageSize, let last = page.last {
      response.nextPageToken = pageTokens.token(
        for: PropertyRepository.HostCursor(createdAt: last.createdAt, id: last.id), query: query)
    }
  }

  public func searchProperties(
    _ request: Marketplace_V1_SearchPropertiesRequest.View, context: ServerContext,
    response: Marketplace_V1_SearchPropertiesResponse.Builder
  ) async throws {
    var search = try SearchListings.validate(request.domainRequest)
    if !request.pageToken.isEmpty {
      // The query key holds the order, so a token opens only with a cursor of this order.
      search.after = try pageTokens.cursor(request.pageToken, query: search.queryKey) as PropertySearch.Cursor
    }
    // One more than asked tells whether another page follows.
    let pageSize = search.limit
    search.limit += 1
    let found = try await database.run(context, PropertyRepository.search(search))
    let page = found.prefix(pageSize)
    for property in page { response.addProperties().fill(from: property) }
    if found.count > pageSize, let last = page.last {
      response.nextPageToken = pageTokens.token(
        for: PropertySearch.Cursor(after: last, in: search.order), query: search.queryKey)
    }
  }
}
