import MarketplaceCore
public import MarketplaceProtos
import MarketplaceStorage
public import RPCCore

/// `marketplace.v1.PropertyService`: listings by id and the guest's search.
public struct PropertyService: Marketplace_V1_PropertyService.ServiceProtocol {
  let database: DatabaseAccess

  public init(database: DatabaseAccess) {
    self.database = database
  }

  public func getProperty(
    _ request: Marketplace_V1_GetPropertyRequest.View, context: ServerContext,
    response: Marketplace_V1_GetPropertyResponse.Builder
  ) async throws {
    let id = try Validate.id(request.propertyId, field: "property_id", as: PropertyID.self)
    guard let property = try await database.run(context, PropertyRepository.find(id: id)) else {
      throw RPCError(code: .notFound, message: "no property \(id)")
    }
    response.property.fill(from: property)
  }

  public func searchProperties(
    _ request: Marketplace_V1_SearchPropertiesRequest.View, context: ServerContext,
    response: Marketplace_V1_SearchPropertiesResponse.Builder
  ) async throws {
    var search = try request.propertySearch()
    // One more than asked tells whether another page follows.
    let pageSize = search.limit
    search.limit += 1
    let found = try await database.run(context, PropertyRepository.search(search))
    let page = found.prefix(pageSize)
    for property in page { response.addProperties().fill(from: property) }
    if found.count > pageSize, let last = page.last {
      response.nextPageToken =
        PropertySearch.Cursor(pricePerNightMinor: last.pricePerNight.amountMinor, id: last.id).pageToken
    }
  }
}
