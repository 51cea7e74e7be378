import MarketplaceProtos
public import RPCCore

/// The built-in services: health and reflection always; the gRPC testing services (interop
/// checks, benchmarks) only when asked for, since they answer with whatever sizes a client asks.
public enum StandardServiceSet {
  /// A router with the standard services; `extra` registers more before reflection is added, so
  /// reflection lists exactly what is served.
  public static func router(
    health: HealthService, testServices: Bool, extra: (inout RPCRouter) -> Void = { _ in }
  ) -> RPCRouter {
    var router = RPCRouter()
    health.registerMethods(with: &router)
    if testServices {
      TestService().registerMethods(with: &router)
      BenchmarkService().register(with: &router)
    }
    extra(&router)
    let reflection = ReflectionService(
      services: router.serviceNames + [
        Grpc_Reflection_V1_ServerReflection.serviceName, Grpc_Reflection_V1alpha_ServerReflection.serviceName,
      ])
    reflection.register(with: &router)
    return router
  }
}
