/// Bytes from a peer, shown in an error message: short, quoted, and with nothing that could break a
/// log line or a terminal (control and non-ASCII bytes as \xNN).
enum HostileBytes {
    static let shownBytes = 64

    static func quoted(_ bytes: some Collection<UInt8>) -> String {
        var text = "\""
        for byte in bytes.prefix(shownBytes) {
            switch byte {
            case 34: text += "\\\""
            case 92: text += "\\\\"
            case 9: text += "\\t"
            case 10: text += "\\n"
            case 13: text += "\\r"
            case 32...126: text.unicodeScalars.append(Unicode.Scalar(byte))
            default: text += "\\x" + (byte < 16 ? "0" : "") + String(byte, radix: 16)
            }
        }
        text += "\""
        if bytes.count > shownBytes { text += "… (\(bytes.count) bytes)" }
        return text
    }
}

/// Decimal numbers written by a peer (Content-Length, Retry-After): ASCII digits only, no sign, no
/// space, read in checked arithmetic.
enum DecimalDigits {
    static func isDigits(_ bytes: [UInt8]) -> Bool {
        !bytes.isEmpty && bytes.allSatisfy { (48...57).contains($0) }
    }

    /// The value, or nil when the text is not digits or exceeds `maximum`.
    static func value(_ bytes: [UInt8], maximum: Int) -> Int? {
        guard isDigits(bytes) else { return nil }
        var value = 0
        for byte in bytes {
            let (shifted, overflow) = value.multipliedReportingOverflow(by: 10)
            guard !overflow, shifted <= maximum - Int(byte - 48) else { return nil }
            value = shifted + Int(byte - 48)
        }
        return value
    }

    /// The value, or `maximum` for digits that exceed it; nil when the text is not digits.
    static func saturating(_ bytes: [UInt8], maximum: Int) -> Int? {
        guard isDigits(bytes) else { return nil }
        return value(bytes, maximum: maximum) ?? maximum
    }
}
