import MarketplaceProtos
public import RPCCore

/// The built-in services every server of ours serves: health, reflection, and the gRPC testing
/// services used for interop checks and benchmarks.
public enum StandardServiceSet {
  /// A router with the standard services; `extra` registers more before reflection is added, so
  /// reflection lists them too.
  public static func router(health: HealthService, extra: (inout RPCRouter) -> Void = { _ in }) -> RPCRouter {
    var router = RPCRouter()
    health.registerMethods(with: &router)
    TestService().registerMethods(with: &router)
    BenchmarkService().register(with: &router)
    extra(&router)
    let reflection = ReflectionService(
      services: router.serviceNames + [
        Grpc_Reflection_V1_ServerReflection.serviceName, Grpc_Reflection_V1alpha_ServerReflection.serviceName,
      ])
    reflection.register(with: &router)
    return router
  }
}
