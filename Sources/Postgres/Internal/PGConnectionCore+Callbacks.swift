internal import CLibPQ

// The only C callbacks of this target: libpq's notice receivers.

extension PGConnectionCore {
  /// Routes the server's notices (and the FATAL a server sends before closing an idle
  /// connection) to `didReceiveNotice` instead of libpq's default, which prints to stderr.
  func installNoticeReceiver(_ connection: OpaquePointer) {
    // passUnretained: this core owns the PGconn and PQfinish-es it (finish() or deinit) before
    // it goes away, so libpq can never call back into a freed object.
    let context = Unmanaged.passUnretained(self).toOpaque()
    PQsetNoticeReceiver(
      connection,
      { context, result in
        // Move into Swift at once; never throw or block here.
        let core = Unmanaged<PGConnectionCore>.fromOpaque(context!).takeUnretainedValue()
        func field(_ code: Character) -> String? { PGConnectionCore.errorField(result, code) }
        core.didReceiveNotice(
          PGNotice(severity: field("V") ?? field("S") ?? "?", sqlState: field("C"), message: field("M") ?? ""))
      }, context)
  }
}

extension PGPipe {
  /// Drops the server's notices on the engine's connections (libpq's default prints them to
  /// stderr); a FATAL before a close shows as the connection's loss anyway.
  func installNoticeReceiver(_ connection: OpaquePointer) {
    PQsetNoticeReceiver(connection, { _, _ in }, nil)
  }
}
