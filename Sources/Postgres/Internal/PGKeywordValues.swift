import Glibc

/// Calls `body` with libpq's parallel, NULL-terminated keyword and value arrays for `parameters`
/// (as PQconnectdbParams and PQpingParams take them), valid only inside `body`.
func withKeywordValues<R>(
  _ parameters: [(String, String)],
  _ body: (UnsafePointer<UnsafePointer<CChar>?>, UnsafePointer<UnsafePointer<CChar>?>) -> R
) -> R {
  let keywords = parameters.map { strdup($0.0) }
  let values = parameters.map { strdup($0.1) }
  defer {
    for pointer in keywords + values { free(pointer) }
  }
  let keywordArray = keywords.map { UnsafePointer($0) } + [nil]
  let valueArray = values.map { UnsafePointer($0) } + [nil]
  return keywordArray.withUnsafeBufferPointer { keys in
    valueArray.withUnsafeBufferPointer { values in body(keys.baseAddress!, values.baseAddress!) }
  }
}
