/// A pod whose interception settings cannot be honoured. The message names the annotation (or env
/// variable) and the offending value, so `kubectl describe pod` tells the operator what to fix.
public struct InterceptionError: Error, Equatable, Sendable, CustomStringConvertible {
    public let source: String
    public let value: String
    public let problem: String

    public init(source: String, value: String, problem: String) {
        self.source = source
        self.value = value
        self.problem = problem
    }

    public var description: String {
        "\(source)=\(quoted(value)): \(problem)"
    }

    private func quoted(_ text: String) -> String {
        let shown = text.count > 120 ? String(text.prefix(120)) + "…(\(text.utf8.count) bytes)" : text
        var escaped = "\""
        for scalar in shown.unicodeScalars {
            switch scalar {
            case "\n": escaped += "\\n"
            case "\r": escaped += "\\r"
            case "\t": escaped += "\\t"
            case "\"": escaped += "\\\""
            case "\\": escaped += "\\\\"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F {
                    escaped += "\\x" + String(scalar.value, radix: 16)
                } else {
                    escaped.unicodeScalars.append(scalar)
                }
            }
        }
        return escaped + "\""
    }
}
