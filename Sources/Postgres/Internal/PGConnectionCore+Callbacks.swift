internal import CLibPQ

// The only C callback of this target: libpq's notice receiver.

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
