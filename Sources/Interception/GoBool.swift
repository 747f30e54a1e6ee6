/// Go's `strconv.ParseBool`, which Istio uses for the inject flag and the proxy's env knobs:
/// 1, t, T, TRUE, true, True / 0, f, F, FALSE, false, False; anything else is not a boolean.
public func parseGoBool(_ text: String) -> Bool? {
    switch text {
    case "1", "t", "T", "TRUE", "true", "True": true
    case "0", "f", "F", "FALSE", "false", "False": false
    default: nil
    }
}
