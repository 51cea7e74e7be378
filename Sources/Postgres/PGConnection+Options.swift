extension PGConnection {
  /// How to reach the server, and per-connection settings. Every value has a documented default.
  public struct Options: Sendable {
    /// A libpq connection string: a URI (`postgresql:///db?host=/run/pg`) or `key=value` pairs.
    /// Default empty: libpq's own defaults (the `PG*` environment variables, then the local socket).
    public var conninfo: String
    /// libpq keywords applied over `conninfo`, e.g. `["dbname": "test_1"]`. Default none.
    public var overrides: [String: String]
    /// How long to wait for the server when connecting. libpq counts whole seconds (rounded up
    /// here) with a floor of 2 s. Default 10 s.
    public var connectTimeout: Duration
    /// Shown in `pg_stat_activity.application_name`. Default `marketplace`.
    public var applicationName: String
    /// Prepared statements kept per connection; beyond it the least recently used one is
    /// deallocated. Default 256.
    public var statementCacheCapacity: Int

    public init(conninfo: String, overrides: [String: String] = [:]) {
      self = .defaults
      self.conninfo = conninfo
      self.overrides = overrides
    }

    public static var defaults: Self {
      Self(
        conninfo: "", overrides: [:], connectTimeout: .seconds(10), applicationName: "marketplace",
        statementCacheCapacity: 256)
    }

    private init(
      conninfo: String, overrides: [String: String], connectTimeout: Duration,
      applicationName: String,
      statementCacheCapacity: Int
    ) {
      self.conninfo = conninfo
      self.overrides = overrides
      self.connectTimeout = connectTimeout
      self.applicationName = applicationName
      self.statementCacheCapacity = statementCacheCapacity
    }

    /// The keyword/value pairs for PQconnectdbParams, in order (later ones win): our defaults,
    /// then the connection string, then the overrides, then what this layer relies on (UTF-8).
    func libpqParameters(connectTimeout: Duration? = nil) -> [(String, String)] {
      let timeout = connectTimeout ?? self.connectTimeout
      let seconds = max(
        2, timeout.components.seconds + (timeout.components.attoseconds > 0 ? 1 : 0))
      var parameters: [(String, String)] = [
        ("application_name", applicationName), ("connect_timeout", "\(seconds)"),
      ]
      if !conninfo.isEmpty { parameters.append(("dbname", conninfo)) }
      parameters += overrides.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
      parameters.append(("client_encoding", "UTF8"))
      return parameters
    }
  }
}
