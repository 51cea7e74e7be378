import CMimalloc
import Glibc

/// The process's memory allocator. The server is linked with mimalloc, which then serves every
/// `malloc` in the process (Swift runtime, nghttp2, protobuf-c, libpq), not only ours.
///
/// Why: with hundreds of calls in flight per event loop, a read burst allocates and then frees
/// more blocks of one size than glibc's per-thread cache holds (7), and the rest take glibc's
/// locked slow paths. Those were about 10% of a unary call's CPU; mimalloc's free lists per page
/// took them away (server CPU per `UnaryCall` 0.89-0.91x; the same RSS).
enum MemoryAllocator {
  /// What serves `malloc`, for the start-up log: "mimalloc 2.0.9", or glibc when the dynamic
  /// linker bound `malloc` elsewhere (a library order change would do it silently).
  static var description: String {
    let version = mi_version()
    let mimalloc = "mimalloc \(version / 100).\(version / 10 % 10).\(version % 10)"
    guard let probe = malloc(16) else { return "unknown" }
    defer { free(probe) }
    return mi_is_in_heap_region(probe) ? mimalloc : "glibc malloc (\(mimalloc) linked but not serving malloc)"
  }
}
