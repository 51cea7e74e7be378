public import Logging
import MarketplaceProtos
public import Postgres
public import RPCCore

/// The marketplace's own services, registered on a router.
public enum MarketplaceServices {
  /// The full names of the services that need the database (for their health status).
  public static let databaseBackedServiceNames = ["marketplace.v1.PropertyService"]

  public static func register(with router: inout RPCRouter, database client: PGClient, logger: Logger) {
    let database = DatabaseAccess(client: client, logger: logger)
    PropertyService(database: database).registerMethods(with: &router)
  }
}
