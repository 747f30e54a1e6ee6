/// Text from a peer (a server, a local client, a report) made safe to show: in an error message
/// short and quoted, in a log line with control characters as escapes, so it can neither forge a
/// further line nor drive the reader's terminal.
public enum PeerText {
    public static let shownBytes = 64

    /// Quoted, at most `shownBytes` of it, non-printable and non-ASCII bytes as \xNN.
    public static func quoted(_ bytes: some Collection<UInt8>) -> String {
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

    /// Whole, with control characters (C0, DEL, C1) as escapes.
    public static func escaped(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: isControl) else { return text }
        var result = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\n": result += "\\n"
            case "\r": result += "\\r"
            case "\t": result += "\\t"
            case _ where isControl(scalar): result += "\\u{" + String(scalar.value, radix: 16) + "}"
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result
    }

    private static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value)
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
